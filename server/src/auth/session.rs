//! Browser sessions: log in, log out, `GET /me`, and the one-time first-admin setup.
//!
//! A session is a random secret in an HttpOnly, SameSite=Lax cookie (Secure when
//! the public URL is https); the database keeps its SHA-256 and a CSRF token that
//! the UI repeats in `X-CSRF-Token` on every state-changing request. Login itself
//! only accepts `application/json`, which a cross-site form cannot send.

use std::net::IpAddr;

use app::api::{LoginRequest, Me, Role, SetupStatus, User};
use axum::{extract::State, http::StatusCode};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgExecutor;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    secret,
    users::{self, UserRow, USER_COLUMNS},
    Caller, CSRF_COOKIE, SESSION_COOKIE,
};
use crate::{
    http::{
        client_ip::ClientIp,
        error::{ApiError, ApiResult, Json},
    },
    AppState,
};

/// A user with their password hash, as login reads them.
#[derive(sqlx::FromRow)]
struct LoginRow {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

/// A live session's user with its CSRF token.
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    csrf_token: String,
}

/// Failed logins for one e-mail address within [`FAILURE_WINDOW_SECS`] before
/// further attempts are refused.
const MAX_FAILURES_PER_EMAIL: i64 = 5;
/// Failed logins from one IP address within the window before it is refused.
const MAX_FAILURES_PER_IP: i64 = 20;
const FAILURE_WINDOW_SECS: i64 = 15 * 60;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(setup_status, setup))
}

/// Logs in with e-mail and password; sets the session and CSRF cookies.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 401, description = "wrong e-mail or password"),
              (status = 403, description = "the account is deactivated"),
              (status = 429, description = "too many failed attempts; see Retry-After")))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> ApiResult<(CookieJar, Json<Me>)> {
    check_rate_limit(&state.pool, &req.email, ip).await?;
    let row: Option<LoginRow> = sqlx::query_as(&format!(
        "select {USER_COLUMNS}, password_hash from app_user where lower(email) = lower($1)"
    ))
    .bind(req.email.trim())
    .fetch_optional(&state.pool)
    .await?;
    let row = row.map(|r| (r.user, r.password_hash));

    // Verify against a real hash even for unknown e-mails, so response times do not
    // tell which addresses have accounts.
    let hash = row.as_ref().map(|(_, h)| h.clone()).unwrap_or_default();
    let password = req.password.clone();
    let ok = tokio::task::spawn_blocking(move || {
        let hash = if hash.is_empty() { dummy_hash() } else { hash };
        secret::verify_password(&password, &hash)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    let user = match row {
        Some((user, _)) if ok && !user.active => {
            return Err(ApiError::Forbidden(
                "this account is deactivated; an admin can reactivate it".into(),
            ));
        }
        Some((user, _)) if ok => user.into_user()?,
        _ => {
            sqlx::query("insert into login_failure (email, client_ip) values ($1, $2)")
                .bind(req.email.trim())
                .bind(ip.map(|ip| ip.to_string()))
                .execute(&state.pool)
                .await?;
            // Addresses are personal data: count, do not log them.
            metrics::counter!("auth_failed_logins_total").increment(1);
            tracing::info!("failed login");
            return Err(ApiError::Unauthorized("wrong e-mail or password".into()));
        }
    };
    sqlx::query("delete from login_failure where lower(email) = lower($1)")
        .bind(&user.email)
        .execute(&state.pool)
        .await?;
    let jar = start_session(&state, jar, &user).await?;
    tracing::info!(user.id = user.user_id, "logged in");
    Ok((jar, Json(me_of_user(user))))
}

/// Ends the session and clears its cookies.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204), (status = 401), (status = 403, description = "missing CSRF header")))]
async fn logout(
    State(state): State<AppState>,
    _caller: Caller,
    jar: CookieJar,
) -> ApiResult<(CookieJar, StatusCode)> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        sqlx::query("delete from session where session_hash = $1")
            .bind(secret::fingerprint(cookie.value()))
            .execute(&state.pool)
            .await?;
    }
    let jar = jar
        .remove(Cookie::build(SESSION_COOKIE).path("/"))
        .remove(Cookie::build(CSRF_COOKIE).path("/"));
    Ok((jar, StatusCode::NO_CONTENT))
}

/// Who is calling: the user (session) or the API token, with its role.
#[utoipa::path(get, path = "/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401)))]
async fn me(caller: Caller) -> Json<Me> {
    Json(match caller.user {
        Some(user) => me_of_user(user),
        None => Me {
            user: None,
            token_name: caller.token.map(|(_, name)| name),
            role: caller.role,
        },
    })
}

/// Whether the first admin still has to be created (no user exists yet).
#[utoipa::path(get, path = "/setup", tag = "auth",
    responses((status = 200, body = SetupStatus)))]
async fn setup_status(State(state): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    Ok(Json(SetupStatus {
        needs_setup: !any_user(&state.pool).await?,
    }))
}

/// Creates the first admin and logs them in. Only while no user exists.
#[utoipa::path(post, path = "/setup", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = Me), (status = 400), (status = 409, description = "a user already exists")))]
async fn setup(
    State(state): State<AppState>,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> ApiResult<(CookieJar, Json<Me>)> {
    let mut tx = state.pool.begin().await?;
    // Serialises concurrent setups: only the first one finds the table empty.
    sqlx::query("select pg_advisory_xact_lock(hashtext('sightline.setup'))")
        .execute(&mut *tx)
        .await?;
    if any_user(&mut *tx).await? {
        return Err(ApiError::Conflict(
            "Sightline is already set up; log in instead".into(),
        ));
    }
    let user = users::insert_user(&mut *tx, &req.email, &req.password, Role::Admin).await?;
    tx.commit().await?;
    tracing::info!(user.id = user.user_id, "first admin created");
    let jar = start_session(&state, jar, &user).await?;
    Ok((jar, Json(me_of_user(user))))
}

/// Whether any user exists (the first-run setup is over).
pub async fn any_user(db: impl PgExecutor<'_>) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists(select 1 from app_user)")
        .fetch_one(db)
        .await
}

/// The user and CSRF token of a live session, by the cookie's secret.
pub async fn lookup(
    db: impl PgExecutor<'_>,
    session_secret: &str,
) -> ApiResult<Option<(User, String)>> {
    let row: Option<SessionRow> = sqlx::query_as(
        "select u.user_id, u.email, u.name, u.role, u.active, u.created_at, s.csrf_token
         from session s join app_user u using (user_id)
         where s.session_hash = $1 and s.expires_at > now() and u.active",
    )
    .bind(secret::fingerprint(session_secret))
    .fetch_optional(db)
    .await?;
    row.map(|r| Ok((r.user.into_user()?, r.csrf_token)))
        .transpose()
}

async fn start_session(state: &AppState, jar: CookieJar, user: &User) -> ApiResult<CookieJar> {
    let session_secret = secret::random_hex(32);
    let csrf = secret::random_hex(16);
    let ttl = Duration::hours(state.config.session_ttl_hours);
    sqlx::query("delete from session where expires_at < now()")
        .execute(&state.pool)
        .await?;
    sqlx::query(
        "insert into session (session_hash, user_id, csrf_token, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(secret::fingerprint(&session_secret))
    .bind(user.user_id)
    .bind(&csrf)
    .bind(Utc::now() + ttl)
    .execute(&state.pool)
    .await?;
    let secure = state.config.secure_cookies();
    let max_age = time_duration(ttl);
    let session_cookie = Cookie::build((SESSION_COOKIE, session_secret))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(max_age)
        .build();
    let csrf_cookie = Cookie::build((CSRF_COOKIE, csrf))
        .path("/")
        .http_only(false)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(max_age)
        .build();
    Ok(jar.add(session_cookie).add(csrf_cookie))
}

fn time_duration(ttl: Duration) -> time::Duration {
    time::Duration::seconds(ttl.num_seconds())
}

async fn check_rate_limit(
    db: impl PgExecutor<'_>,
    email: &str,
    ip: Option<IpAddr>,
) -> ApiResult<()> {
    let (by_email, by_ip, oldest): (i64, i64, Option<DateTime<Utc>>) = sqlx::query_as(
        "select count(*) filter (where lower(email) = lower($1)),
                count(*) filter (where client_ip = $2),
                min(failed_at) filter (where lower(email) = lower($1) or client_ip = $2)
         from login_failure
         where failed_at > now() - make_interval(secs => $3)",
    )
    .bind(email.trim())
    .bind(ip.map(|ip| ip.to_string()))
    .bind(FAILURE_WINDOW_SECS as f64)
    .fetch_one(db)
    .await?;
    if by_email >= MAX_FAILURES_PER_EMAIL || by_ip >= MAX_FAILURES_PER_IP {
        let elapsed = oldest.map_or(0, |t| (Utc::now() - t).num_seconds());
        let retry_after_secs = (FAILURE_WINDOW_SECS - elapsed).clamp(1, FAILURE_WINDOW_SECS) as u64;
        return Err(ApiError::TooManyRequests {
            message: format!(
                "too many failed logins; try again in {} minutes",
                retry_after_secs.div_ceil(60)
            ),
            retry_after_secs,
        });
    }
    Ok(())
}

fn me_of_user(user: User) -> Me {
    Me {
        role: user.role,
        user: Some(user),
        token_name: None,
    }
}

/// An Argon2id hash of a random password nobody knows, verified against when the
/// e-mail is unknown so that both paths cost the same.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| secret::hash_password(&secret::random_hex(16)).unwrap_or_default())
        .clone()
}
