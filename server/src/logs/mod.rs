//! Logs: the records every ingestion protocol produces ([`record`], [`level`]),
//! the batch writer that stores them ([`writer`]), the search language
//! ([`query`]) and the read API ([`search`], [`tail`]). Partitions and retention
//! are kept by [`crate::db::partitions`].

pub mod level;
pub mod query;
pub mod record;
pub mod search;
pub mod tail;
pub mod time_range;
pub mod writer;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// The logs read API.
pub fn router() -> OpenApiRouter<AppState> {
    search::router().merge(tail::router())
}
