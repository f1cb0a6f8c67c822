//! [`ApiError`]: every way an API request can fail, each variant an HTTP outcome,
//! rendered as `{"error": {"code": "...", "message": "..."}}`.
//!
//! Internal errors are logged by the request middleware (with the request id) and
//! answered with a generic message: details never reach clients.

use app::api::{ErrorBody, ErrorDetail};
use axum::{
    extract::FromRequest,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request itself is malformed or a value is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: valid credentials, not enough rights.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409: conflicts with existing data (duplicate slug, e-mail, ...).
    #[error("{0}")]
    Conflict(String),
    /// 429: slow down; retry after this many seconds.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// 503: temporarily unable (stopping, dependency down); retry after this many seconds.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after_secs: u64,
    },
    /// 503: PostgreSQL cannot be reached (down, restarting, out of
    /// connections); the request was fine and can be retried as it is.
    #[error("the database is unavailable; retry in a few seconds")]
    DatabaseUnavailable,
    /// A request body or parameter axum's extractors refused, with their status
    /// (400 syntax, 413 too large, 415 wrong content type, 422 wrong shape).
    #[error("{1}")]
    Rejected(StatusCode, String),
    /// 500: a bug; logged, never described to the client.
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// Seconds a client is asked to wait before retrying while the database is away.
pub const DATABASE_RETRY_AFTER_SECS: u64 = 5;

impl ApiError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } | ApiError::DatabaseUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Rejected(status, _) => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds the client should wait before retrying, for `Retry-After`.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            }
            | ApiError::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            ApiError::DatabaseUnavailable => Some(DATABASE_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::DatabaseUnavailable => "database_unavailable",
            ApiError::Rejected(status, _) => match status.as_u16() {
                413 => "payload_too_large",
                415 => "unsupported_media_type",
                422 => "unprocessable_entity",
                _ => "bad_request",
            },
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return ApiError::Conflict(match db.constraint() {
                    Some("project_slug_key") => "a project with this slug already exists".into(),
                    Some("app_user_email_key") => "a user with this e-mail already exists".into(),
                    _ => "this already exists".into(),
                });
            }
            if db.is_check_violation() {
                return ApiError::BadRequest(match db.constraint() {
                    Some("project_slug_check") => "slug: use 1 to 63 lowercase letters, digits and `-`, starting with a letter or digit".into(),
                    Some("project_name_check") => "name: use 1 to 100 characters".into(),
                    _ => "a value is out of range".into(),
                });
            }
        }
        if crate::db::is_unavailable(&e) {
            return ApiError::DatabaseUnavailable;
        }
        ApiError::Internal(e.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        if crate::db::is_unavailable_chain(&e) {
            return ApiError::DatabaseUnavailable;
        }
        ApiError::Internal(e)
    }
}

/// The error a failed request carries into the middleware, to be logged there.
#[derive(Debug, Clone)]
pub struct LoggedError(pub std::sync::Arc<String>);

impl ApiError {
    /// What the client is told: the error in words, except an internal one,
    /// whose details are for the server log only.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Internal(_) => "internal error; the server log has the details".to_string(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.public_message();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let ApiError::Internal(error) = &self {
            response
                .extensions_mut()
                .insert(LoggedError(std::sync::Arc::new(format!("{error:#}"))));
        }
        response
    }
}

/// Result of an API handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        ApiError::Rejected(rejection.status(), rejection.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        ApiError::Rejected(rejection.status(), rejection.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::Rejected(rejection.status(), rejection.body_text())
    }
}

/// `axum::extract::Path` whose rejections use the API's error shape.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` whose rejections use the API's error shape.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::Json` whose rejections use the API's error shape, which refuses a
/// NUL character in any string with a 400 naming the field (see
/// [`super::nul`]), and which takes only a JSON object as the body.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(request.headers()) {
            return Err(ApiError::Rejected(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected request with `Content-Type: application/json`".into(),
            ));
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|r| ApiError::Rejected(r.status(), r.body_text()))?;
        if let Some(field) = super::nul::in_json(&bytes) {
            return Err(super::nul::refusal(&field));
        }
        // Every request body of the API is an object. serde would also read a
        // struct from an array of its fields in order (`[null, null]`), which
        // the OpenAPI document does not allow.
        if bytes.trim_ascii_start().first().is_some_and(|b| *b != b'{') {
            return Err(ApiError::Rejected(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the request body must be a JSON object".into(),
            ));
        }
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::Rejected(
                StatusCode::BAD_REQUEST,
                format!("Failed to parse the request body as JSON: {e}"),
            )
        })?;
        whole_numbers_as_integers(&mut value);
        let parsed = serde_path_to_error::deserialize(value).map_err(|e| {
            ApiError::Rejected(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Failed to deserialize the JSON body into the target type: {e}"),
            )
        })?;
        Ok(Json(parsed))
    }
}

/// JSON (and JSON Schema) make no difference between `360` and `360.0`; serde
/// does, and would refuse the second for an integer field. Whole numbers
/// written with a fraction become integers before the body is read.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64() {
                // Within i64, exactly: 2^63 itself is not.
                if float.fract() == 0.0 && float.abs() < 9.2e18 {
                    *number = serde_json::Number::from(float as i64);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        serde_json::Value::Object(fields) => {
            fields.values_mut().for_each(whole_numbers_as_integers)
        }
        _ => {}
    }
}

/// `application/json` or any `application/*+json`, as `axum::Json` accepts.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
