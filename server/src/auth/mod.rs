//! Who is calling and what they may do: users with roles, browser sessions (with
//! CSRF protection), API tokens, and the first-run setup.
//!
//! Every `/api/v1` handler that needs a caller takes a [`Caller`] and asks it for a
//! role with [`Caller::require`]. Ingest keys are not callers here: they only
//! authenticate ingestion into their own project, so `/api/v1` answers them 403.

pub mod secret;
pub mod session;
pub mod tokens;
pub mod users;

use app::api::{Role, User};
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, Method},
};
use axum_extra::extract::CookieJar;
use utoipa_axum::router::OpenApiRouter;

use crate::{http::error::ApiError, AppState};

/// Name of the HttpOnly cookie holding the session secret.
pub const SESSION_COOKIE: &str = "sightline_session";
/// Name of the cookie the UI reads to send the `X-CSRF-Token` header.
pub const CSRF_COOKIE: &str = "sightline_csrf";
/// Header that must repeat the CSRF cookie on state-changing browser requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of an API request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    /// The logged-in user (sessions), or `None` for API tokens.
    pub user: Option<User>,
    /// The API token's id and name, when the caller is a token.
    pub token: Option<(i64, String)>,
}

impl Caller {
    /// Fails with 403 unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs the {role} role; you are {}",
                self.role
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let value = value
                .to_str()
                .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
            let token = token_of(value).ok_or_else(|| {
                ApiError::Unauthorized(
                    "use `Authorization: Bearer <api token>`, or the token as the basic-auth password"
                        .into(),
                )
            })?;
            return tokens::authenticate(&state.pool, &token).await;
        }

        let jar = CookieJar::from_headers(&parts.headers);
        let Some(cookie) = jar.get(SESSION_COOKIE) else {
            return Err(ApiError::Unauthorized(
                "log in, or send an API token as `Authorization: Bearer <token>`".into(),
            ));
        };
        let (user, csrf_token) = session::lookup(&state.pool, cookie.value())
            .await?
            .ok_or_else(|| {
                ApiError::Unauthorized("your session has expired; log in again".into())
            })?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !constant_time_eq(sent.as_bytes(), csrf_token.as_bytes()) {
                return Err(ApiError::Forbidden(
                    "missing or wrong X-CSRF-Token header (it must repeat the sightline_csrf cookie)"
                        .into(),
                ));
            }
        }
        Ok(Caller {
            role: user.role,
            user: Some(user),
            token: None,
        })
    }
}

/// The API token of an `Authorization` header: `Bearer <token>`, or basic
/// auth with the token as the password (any user name), as Grafana's
/// Prometheus data source and `promtool` send credentials.
fn token_of(value: &str) -> Option<String> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.to_string());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    Some(password.to_string())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `/auth/*`, `/setup`, `/me`, `/users`, `/tokens`.
pub fn router() -> OpenApiRouter<AppState> {
    session::router()
        .merge(users::router())
        .merge(tokens::router())
}
