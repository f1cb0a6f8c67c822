//! [`EsError`]: a request that fails as a whole, answered in Elasticsearch's error
//! shape (`{"error": {"root_cause": [...], "type", "reason"}, "status"}`), which ES
//! clients and shippers parse, rather than Sightline's own API error shape.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::http::error::{ApiError, LoggedError};

/// The `WWW-Authenticate` challenge sent with every 401.
const CHALLENGE: &str = "Basic realm=\"sightline\"";

/// A failed Elasticsearch-protocol request.
#[derive(Debug)]
pub struct EsError {
    status: StatusCode,
    /// Elasticsearch's exception name, e.g. `security_exception`.
    kind: &'static str,
    reason: String,
    retry_after_secs: Option<u64>,
    /// What went wrong inside (500s only): logged by the request middleware,
    /// never sent.
    internal: Option<String>,
}

impl EsError {
    /// An error with `status`, ES exception name `kind` and a reason for the user.
    pub fn new(status: StatusCode, kind: &'static str, reason: impl Into<String>) -> Self {
        EsError {
            status,
            kind,
            reason: reason.into(),
            retry_after_secs: None,
            internal: None,
        }
    }

    /// 401 `security_exception`, with a challenge naming the realm.
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "security_exception", reason)
    }

    /// 500, its details kept for the log.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        EsError {
            internal: Some(error.to_string()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "exception",
                "internal error; the server log has the details",
            )
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<ApiError> for EsError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::BadRequest(reason) => {
                Self::new(StatusCode::BAD_REQUEST, "parse_exception", reason)
            }
            ApiError::Unauthorized(reason) => Self::unauthorized(reason),
            ApiError::Forbidden(reason) => {
                Self::new(StatusCode::FORBIDDEN, "security_exception", reason)
            }
            ApiError::NotFound(reason) => Self::new(
                StatusCode::NOT_FOUND,
                "resource_not_found_exception",
                reason,
            ),
            ApiError::Conflict(reason) => {
                Self::new(StatusCode::CONFLICT, "illegal_argument_exception", reason)
            }
            // Shippers retry a 429 `es_rejected_execution_exception` with back-off:
            // exactly what a full ingest queue needs.
            ApiError::TooManyRequests {
                message,
                retry_after_secs,
            } => EsError {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "es_rejected_execution_exception",
                    message,
                )
            },
            ApiError::Unavailable {
                message,
                retry_after_secs,
            } => EsError {
                retry_after_secs: Some(retry_after_secs),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "node_closed_exception",
                    message,
                )
            },
            ApiError::DatabaseUnavailable => EsError {
                retry_after_secs: Some(crate::http::error::DATABASE_RETRY_AFTER_SECS),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable_shards_exception",
                    ApiError::DatabaseUnavailable.to_string(),
                )
            },
            ApiError::Rejected(status, reason) => {
                Self::new(status, "illegal_argument_exception", reason)
            }
            ApiError::Internal(error) => Self::internal(format!("{error:#}")),
        }
    }
}

impl IntoResponse for EsError {
    fn into_response(self) -> Response {
        let cause = json!({"type": self.kind, "reason": self.reason});
        let body = json!({
            "error": {"root_cause": [cause], "type": self.kind, "reason": self.reason},
            "status": self.status.as_u16(),
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(CHALLENGE),
            );
        }
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(internal) = self.internal {
            response
                .extensions_mut()
                .insert(LoggedError(std::sync::Arc::new(internal)));
        }
        response
    }
}
