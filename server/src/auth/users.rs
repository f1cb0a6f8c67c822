//! People who log in: `GET|POST /api/v1/users` and the storage behind them (also
//! used by `sightline user create`).

use app::api::{NewUser, Role, User, UserCreated};
use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{secret, Caller};
use crate::{
    http::error::{ApiError, ApiResult, Json},
    AppState,
};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted (Argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_LEN: usize = 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_users, create_user))
}

/// Lists users (admin).
#[utoipa::path(get, path = "/users", tag = "users",
    responses((status = 200, body = Vec<User>), (status = 401), (status = 403)))]
async fn list_users(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<User>>> {
    caller.require(Role::Admin)?;
    let rows: Vec<UserRow> =
        sqlx::query_as("select user_id, email, role, created_at from app_user order by user_id")
            .fetch_all(&state.pool)
            .await?;
    Ok(Json(
        rows.into_iter()
            .map(UserRow::into_user)
            .collect::<Result<_, _>>()?,
    ))
}

/// Creates a user (admin). Without a password one is generated and returned once.
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = UserCreated), (status = 400), (status = 401), (status = 403), (status = 409)))]
async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewUser>,
) -> ApiResult<(StatusCode, Json<UserCreated>)> {
    caller.require(Role::Admin)?;
    let (password, generated) = match new.password {
        Some(p) => (p, None),
        None => {
            let p = secret::random_alphanumeric(20);
            (p.clone(), Some(p))
        }
    };
    let user = insert_user(&state.pool, &new.email, &password, new.role).await?;
    tracing::info!(user.id = user.user_id, user.role = %user.role, "user created");
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            user,
            password: generated,
        }),
    ))
}

/// Checks an e-mail address enough to catch typos; the address is never mailed here.
pub fn validate_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email.to_string())
    } else {
        Err(ApiError::BadRequest(format!(
            "email: `{email}` is not an e-mail address"
        )))
    }
}

/// Checks a password against the length policy.
pub fn validate_password(password: &str) -> Result<(), ApiError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(ApiError::BadRequest(format!(
            "password: use at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(ApiError::BadRequest(format!(
            "password: use at most {MAX_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// Hashes the password (Argon2id, on a blocking thread) and stores the user.
pub async fn insert_user(
    db: impl PgExecutor<'_>,
    email: &str,
    password: &str,
    role: Role,
) -> ApiResult<User> {
    let email = validate_email(email)?;
    validate_password(password)?;
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || secret::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.into()))??;
    let row: UserRow = sqlx::query_as(
        "insert into app_user (email, password_hash, role) values ($1, $2, $3)
         returning user_id, email, role, created_at",
    )
    .bind(&email)
    .bind(&hash)
    .bind(role.as_str())
    .fetch_one(db)
    .await?;
    row.into_user()
}

/// A user as stored, before the role is parsed.
#[derive(Debug, sqlx::FromRow)]
pub struct UserRow {
    pub user_id: i64,
    pub email: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

impl UserRow {
    pub fn into_user(self) -> ApiResult<User> {
        Ok(User {
            user_id: self.user_id,
            email: self.email,
            role: parse_role(&self.role)?,
            created_at: self.created_at,
        })
    }
}

/// Parses a role stored in the database (guarded by a check constraint).
pub fn parse_role(role: &str) -> ApiResult<Role> {
    role.parse()
        .map_err(|e: String| ApiError::Internal(anyhow::anyhow!(e)))
}
