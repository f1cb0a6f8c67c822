//! [`IngestKey`]: authenticates an ingestion request by a project's ingest key,
//! wherever the protocol carries it: `Authorization: Bearer <key>`, the password
//! of `Authorization: Basic` (Loki and Elasticsearch shippers), or
//! `Authorization: ApiKey <base64 id:key | key>` (Elasticsearch clients).

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use base64::Engine;

use crate::{http::error::ApiError, AppState};

/// The project an ingestion request writes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestKey {
    pub project_id: i64,
}

impl FromRequestParts<AppState> for IngestKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = key_from_headers(parts).ok_or_else(|| {
            ApiError::Unauthorized(
                "send the project's ingest key as `Authorization: Bearer <key>` (or as the basic-auth password)".into(),
            )
        })?;
        resolve(&state.pool, &key).await
    }
}

/// The key carried by the request's `Authorization` header, if any.
pub fn key_from_headers(parts: &Parts) -> Option<String> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Some(rest.to_string()),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (_, password) = text.split_once(':')?;
            Some(password.to_string())
        }
        "apikey" => {
            // Elasticsearch sends base64("id:api_key"); accept the bare key too.
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .ok()
                .and_then(|d| String::from_utf8(d).ok());
            match decoded.as_deref().and_then(|t| t.split_once(':')) {
                Some((_, key)) => Some(key.to_string()),
                None => Some(rest.to_string()),
            }
        }
        _ => None,
    }
}

/// The project of an active ingest key, or 401.
pub async fn resolve(pool: &sqlx::PgPool, key: &str) -> Result<IngestKey, ApiError> {
    if key.is_empty() || key.len() > 128 {
        return Err(ApiError::Unauthorized(
            "unknown or revoked ingest key".into(),
        ));
    }
    let project_id: Option<i64> = sqlx::query_scalar(
        "select project_id from project_key where public_key = $1 and revoked_at is null",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    project_id
        .map(|project_id| IngestKey { project_id })
        .ok_or_else(|| ApiError::Unauthorized("unknown or revoked ingest key".into()))
}
