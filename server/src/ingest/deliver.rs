//! Handing decoded records to their domain's writer, the one way every
//! protocol does it: the key's rate limit first ([`IngestKey::admit`]), then
//! the queue, whose refusals become the API errors clients retry on (429 when
//! the queue is full, 503 while stopping or while the database is away, each
//! with `Retry-After`). Each protocol answers those errors in its own way.

use chrono::Utc;

use super::auth::IngestKey;
use crate::{
    http::error::ApiError,
    pipeline::queue::{Batch, Queue, WriteError},
    AppState,
};

impl IngestKey {
    /// Counts `units` records against this key's rate limit per minute
    /// (`project_key.rate_limit_per_minute`); 429 with `Retry-After` when they
    /// would pass it.
    pub async fn admit(&self, state: &AppState, units: usize) -> Result<(), ApiError> {
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        let now = Utc::now().timestamp();
        match state
            .key_limits
            .check(&state.pool, &self.key, units, now)
            .await?
        {
            Ok(()) => Ok(()),
            Err(over) => {
                metrics::counter!("ingest_rate_limited_total").increment(1);
                Err(ApiError::TooManyRequests {
                    message: "this key's rate limit per minute is reached".into(),
                    retry_after_secs: over.retry_after_secs,
                })
            }
        }
    }

    /// Admits `records` ([`IngestKey::admit`]) and stores them in this key's
    /// project through `queue`; returns once they are committed.
    pub async fn deliver<B: Batch>(
        &self,
        state: &AppState,
        queue: &Queue<B>,
        records: Vec<B::Item>,
    ) -> Result<B::Answer, ApiError> {
        if records.is_empty() {
            return Ok(B::Answer::default());
        }
        self.admit(state, records.len()).await?;
        queue
            .write(self.project_id, records)
            .await
            .map_err(write_error)
    }
}

/// The API error for a failed write: 429 (or 503 while stopping or while the
/// database is away) with `Retry-After`.
pub fn write_error(error: WriteError) -> ApiError {
    match error {
        WriteError::Overloaded => ApiError::TooManyRequests {
            message: error.to_string(),
            retry_after_secs: 1,
        },
        WriteError::ShuttingDown => ApiError::Unavailable {
            message: error.to_string(),
            retry_after_secs: 5,
        },
        WriteError::Unavailable => ApiError::DatabaseUnavailable,
        WriteError::Failed => ApiError::Internal(anyhow::anyhow!(error)),
    }
}
