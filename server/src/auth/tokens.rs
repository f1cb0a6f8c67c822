//! API tokens: bearer secrets carrying a role, for scripts and the CLI's users.
//! Only the SHA-256 of a token is stored; the secret is shown once at creation.

use app::api::{ApiToken, NewToken, Role, TokenCreated};
use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{secret, users::parse_role, Caller};
use crate::{
    http::error::{ApiError, ApiResult, Json, Path},
    AppState,
};

/// Every token starts with this, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "slt_";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// Lists API tokens (admin). Secrets are never listed.
#[utoipa::path(get, path = "/tokens", tag = "tokens",
    responses((status = 200, body = Vec<ApiToken>), (status = 401), (status = 403)))]
async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ApiToken>>> {
    caller.require(Role::Admin)?;
    let rows: Vec<TokenRow> = sqlx::query_as(
        "select api_token_id, name, role, created_at, last_used_at, revoked_at
         from api_token order by api_token_id",
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(TokenRow::into_token)
            .collect::<Result<_, _>>()?,
    ))
}

/// Creates an API token (admin). The answer holds the secret; it is never shown again.
#[utoipa::path(post, path = "/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = TokenCreated), (status = 400), (status = 401), (status = 403)))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    caller.require(Role::Admin)?;
    let created_by = caller.user.as_ref().map(|u| u.user_id);
    let created = insert_token(&state.pool, &new.name, new.role, created_by).await?;
    tracing::info!(token.id = created.api_token.token_id, token.role = %new.role, "API token created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes an API token (admin); it stops working at once.
#[utoipa::path(delete, path = "/tokens/{token_id}", tag = "tokens",
    params(("token_id" = i64, Path, description = "the token's id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(token_id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    let done = sqlx::query(
        "update api_token set revoked_at = coalesce(revoked_at, now()) where api_token_id = $1",
    )
    .bind(token_id)
    .execute(&state.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound(format!("no API token {token_id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a token and returns its secret (also used by `sightline token create`).
pub async fn insert_token(
    db: impl PgExecutor<'_>,
    name: &str,
    role: Role,
    created_by: Option<i64>,
) -> ApiResult<TokenCreated> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::BadRequest("name: use 1 to 100 characters".into()));
    }
    let token = format!("{TOKEN_PREFIX}{}", secret::random_hex(24));
    let row: TokenRow = sqlx::query_as(
        "insert into api_token (name, token_hash, role, created_by) values ($1, $2, $3, $4)
         returning api_token_id, name, role, created_at, last_used_at, revoked_at",
    )
    .bind(name)
    .bind(secret::fingerprint(&token))
    .bind(role.as_str())
    .bind(created_by)
    .fetch_one(db)
    .await?;
    Ok(TokenCreated {
        token,
        api_token: row.into_token()?,
    })
}

/// Resolves a bearer secret to a caller. An ingest key is recognised and refused
/// with 403 (it may only ingest); anything else unknown is 401.
pub async fn authenticate(db: &sqlx::PgPool, token: &str) -> ApiResult<Caller> {
    let row: Option<(i64, String, String)> = sqlx::query_as(
        // Recording last use at most once a minute keeps reads from writing every time.
        "with found as (
             select api_token_id, name, role, last_used_at from api_token
             where token_hash = $1 and revoked_at is null
         ), touched as (
             update api_token t set last_used_at = now()
             from found f
             where t.api_token_id = f.api_token_id
               and (f.last_used_at is null or f.last_used_at < now() - interval '1 minute')
         )
         select api_token_id, name, role from found",
    )
    .bind(secret::fingerprint(token))
    .fetch_optional(db)
    .await?;
    if let Some((token_id, name, role)) = row {
        return Ok(Caller {
            role: parse_role(&role)?,
            user: None,
            token: Some((token_id, name)),
        });
    }
    let is_ingest_key: bool = sqlx::query_scalar(
        "select exists(select 1 from project_key where public_key = $1 and revoked_at is null)",
    )
    .bind(token)
    .fetch_one(db)
    .await?;
    if is_ingest_key {
        return Err(ApiError::Forbidden(
            "this is a project ingest key: it can only send data to its project's ingest endpoints"
                .into(),
        ));
    }
    Err(ApiError::Unauthorized(
        "unknown or revoked API token".into(),
    ))
}

#[derive(Debug, sqlx::FromRow)]
struct TokenRow {
    api_token_id: i64,
    name: String,
    role: String,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TokenRow {
    fn into_token(self) -> ApiResult<ApiToken> {
        Ok(ApiToken {
            token_id: self.api_token_id,
            name: self.name,
            role: parse_role(&self.role)?,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }
}
