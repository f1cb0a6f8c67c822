//! People who log in: `GET|POST /api/v1/users`, `PATCH|DELETE
//! /api/v1/users/{user_id}` (name, role, deactivation, removal; the last active
//! admin stays one) and the storage behind them (also used by `sightline user
//! create`).

use app::api::{NewUser, Role, User, UserCreated, UserPatch};
use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{secret, Caller};
use crate::{
    http::error::{ApiError, ApiResult, Json, Path},
    AppState,
};

/// The columns of a [`UserRow`], for `select` and `returning`.
pub const USER_COLUMNS: &str = "user_id, email, name, role, active, created_at";
/// Longest display name.
const MAX_NAME_CHARS: usize = 100;

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted (Argon2 takes any length; this bounds the work).
pub const MAX_PASSWORD_LEN: usize = 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user, delete_user))
}

/// Lists users (admin).
#[utoipa::path(get, path = "/users", tag = "users",
    responses((status = 200, body = Vec<User>), (status = 401), (status = 403)))]
async fn list_users(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<User>>> {
    caller.require(Role::Admin)?;
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "select {USER_COLUMNS} from app_user order by user_id"
    ))
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

/// Changes a user's name, role or whether they may log in (admin). Demoting or
/// deactivating the last active admin is refused (409): someone must be able
/// to manage Sightline.
#[utoipa::path(patch, path = "/users/{user_id}", tag = "users", request_body = UserPatch,
    params(("user_id" = i64, Path)),
    responses((status = 200, body = User), (status = 400), (status = 401), (status = 403),
              (status = 404), (status = 409, description = "the last active admin")))]
async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
    Json(patch): Json<UserPatch>,
) -> ApiResult<Json<User>> {
    caller.require(Role::Admin)?;
    let name = patch
        .name
        .as_deref()
        .map(|name| {
            let name = name.trim();
            if name.chars().count() > MAX_NAME_CHARS {
                Err(ApiError::BadRequest(format!(
                    "name: use at most {MAX_NAME_CHARS} characters"
                )))
            } else {
                Ok(name.to_owned())
            }
        })
        .transpose()?;
    let mut tx = state.pool.begin().await?;
    let current = locked_user(&mut tx, user_id).await?;
    let stays_admin =
        patch.role.unwrap_or(current.role) == Role::Admin && patch.active.unwrap_or(current.active);
    if current.role == Role::Admin && current.active && !stays_admin {
        keep_an_admin(&mut tx, &current).await?;
    }
    let row: UserRow = sqlx::query_as(&format!(
        "update app_user set name = coalesce($2, name), role = coalesce($3, role),
                active = coalesce($4, active), updated_at = now()
         where user_id = $1 returning {USER_COLUMNS}"
    ))
    .bind(user_id)
    .bind(name)
    .bind(patch.role.map(Role::as_str))
    .bind(patch.active)
    .fetch_one(&mut *tx)
    .await?;
    if patch.active == Some(false) {
        sqlx::query("delete from session where user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    }
    let user = row.into_user()?;
    revoke_tokens_beyond(&mut tx, &user).await?;
    tx.commit().await?;
    tracing::info!(
        user.id = user_id,
        by = caller.user.map(|u| u.user_id),
        "user changed"
    );
    Ok(Json(user))
}

/// Removes a user (admin); their sessions end and what they did stays, without
/// their name. The last active admin cannot be removed (409).
#[utoipa::path(delete, path = "/users/{user_id}", tag = "users",
    params(("user_id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404),
              (status = 409, description = "the last active admin")))]
async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    let mut tx = state.pool.begin().await?;
    let current = locked_user(&mut tx, user_id).await?;
    if current.role == Role::Admin && current.active {
        keep_an_admin(&mut tx, &current).await?;
    }
    let leaving = User {
        active: false,
        ..current
    };
    revoke_tokens_beyond(&mut tx, &leaving).await?;
    sqlx::query("delete from app_user where user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(
        user.id = user_id,
        by = caller.user.map(|u| u.user_id),
        "user removed"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// The user, locked for the change, or 404. Every admin row is locked too, so
/// two admins demoting each other at once cannot both succeed.
async fn locked_user(tx: &mut PgConnection, user_id: i64) -> ApiResult<User> {
    sqlx::query("select 1 from app_user where role = 'admin' and active for update")
        .execute(&mut *tx)
        .await?;
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "select {USER_COLUMNS} from app_user where user_id = $1 for update"
    ))
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    row.ok_or_else(|| ApiError::NotFound(format!("no user {user_id}")))?
        .into_user()
}

/// Revokes the API tokens `user` created that now carry more than they may:
/// all of them once the user is deactivated (or removed), those above their
/// role once it is lowered. A token must not outlive its creator's rights.
async fn revoke_tokens_beyond(tx: &mut PgConnection, user: &User) -> ApiResult<()> {
    let allowed: i32 = match (user.active, user.role) {
        (false, _) => 0,
        (true, Role::Viewer) => 1,
        (true, Role::Editor) => 2,
        (true, Role::Admin) => 3,
    };
    let revoked = sqlx::query(
        "update api_token set revoked_at = now()
         where created_by = $1 and revoked_at is null
           and case role when 'admin' then 3 when 'editor' then 2 else 1 end > $2",
    )
    .bind(user.user_id)
    .bind(allowed)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if revoked > 0 {
        tracing::info!(
            user.id = user.user_id,
            revoked,
            "API tokens revoked with their creator's rights"
        );
    }
    Ok(())
}

/// Fails with 409 when `admin` is the only active admin.
async fn keep_an_admin(tx: &mut PgConnection, admin: &User) -> ApiResult<()> {
    let others: i64 = sqlx::query_scalar(
        "select count(*) from app_user where role = 'admin' and active and user_id <> $1",
    )
    .bind(admin.user_id)
    .fetch_one(&mut *tx)
    .await?;
    if others == 0 {
        return Err(ApiError::Conflict(format!(
            "{} is the last active admin; make another user an admin first",
            admin.email
        )));
    }
    Ok(())
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
    let row: UserRow = sqlx::query_as(&format!(
        "insert into app_user (email, password_hash, role) values ($1, $2, $3)
         returning {USER_COLUMNS}"
    ))
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
    pub name: String,
    pub role: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl UserRow {
    pub fn into_user(self) -> ApiResult<User> {
        Ok(User {
            user_id: self.user_id,
            email: self.email,
            name: self.name,
            role: parse_role(&self.role)?,
            active: self.active,
            created_at: self.created_at,
        })
    }
}

/// Parses a role stored in the database (guarded by a check constraint).
pub fn parse_role(role: &str) -> ApiResult<Role> {
    role.parse()
        .map_err(|e: String| ApiError::Internal(anyhow::anyhow!(e)))
}
