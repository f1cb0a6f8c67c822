//! [`IngestKey`]: authenticates an ingestion request by a project's ingest key,
//! wherever the protocol carries it: `Authorization: Bearer <key>`, the password
//! of `Authorization: Basic` (Loki and Elasticsearch shippers), or
//! `Authorization: ApiKey <base64 id:key | key>` (Elasticsearch clients).
//!
//! Resolved keys are cached for [`KEY_TTL`] ([`IngestKeyCache`]): every ingest
//! request carries its key, and a database round trip for each measured as one
//! of the larger costs of a small request. Revoking or rotating a key clears
//! this instance's cache at once; other instances notice within the TTL.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use base64::Engine;

use crate::{http::error::ApiError, AppState};

/// The project an ingestion request writes into, and the key it came with
/// (which its rate limit is counted against, [`super::deliver`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestKey {
    pub project_id: i64,
    pub key: Arc<str>,
}

impl FromRequestParts<AppState> for IngestKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = key_from_headers(parts).ok_or_else(|| {
            ApiError::Unauthorized(
                "send the project's ingest key as `Authorization: Bearer <key>` (or as the basic-auth password)".into(),
            )
        })?;
        resolve(state, &key).await
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

/// How long a resolved key (or an unknown one) is trusted without asking the
/// database again.
pub const KEY_TTL: Duration = Duration::from_secs(10);
/// Keys cached at most; beyond it, expired entries go, then everything.
const MAX_CACHED_KEYS: usize = 10_000;

/// Ingest keys resolved recently: key → project (or `None`: unknown or revoked).
#[derive(Debug, Default)]
pub struct IngestKeyCache {
    entries: Mutex<HashMap<String, (Option<i64>, Instant)>>,
}

impl IngestKeyCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Option<i64>, Instant)>> {
        // A panic while holding the lock leaves a usable map; keep going.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &str) -> Option<Option<i64>> {
        self.entries()
            .get(key)
            .filter(|(_, at)| at.elapsed() < KEY_TTL)
            .map(|(project, _)| *project)
    }

    fn put(&self, key: &str, project: Option<i64>) {
        let mut entries = self.entries();
        if entries.len() >= MAX_CACHED_KEYS {
            entries.retain(|_, (_, at)| at.elapsed() < KEY_TTL);
            if entries.len() >= MAX_CACHED_KEYS {
                entries.clear();
            }
        }
        entries.insert(key.to_string(), (project, Instant::now()));
    }

    /// Forgets every key (after a key is revoked or rotated).
    pub fn clear(&self) {
        self.entries().clear();
    }
}

/// The project of an active ingest key, or 401.
pub async fn resolve(state: &AppState, key: &str) -> Result<IngestKey, ApiError> {
    let unknown = || ApiError::Unauthorized("unknown or revoked ingest key".into());
    if key.is_empty() || key.len() > 128 {
        return Err(unknown());
    }
    let project_id = match state.ingest_keys.get(key) {
        Some(project_id) => project_id,
        None => {
            let project_id: Option<i64> = sqlx::query_scalar(
                "select project_id from project_key where public_key = $1 and revoked_at is null",
            )
            .bind(key)
            .fetch_optional(&state.pool)
            .await?;
            state.ingest_keys.put(key, project_id);
            project_id
        }
    };
    project_id
        .map(|project_id| IngestKey {
            project_id,
            key: Arc::from(key),
        })
        .ok_or_else(unknown)
}
