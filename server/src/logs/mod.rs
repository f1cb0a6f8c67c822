//! Logs: the records every ingestion protocol produces ([`record`], [`level`]),
//! the batch writer that stores them ([`writer`]), the search language
//! ([`query`]), the read SQL of lines ([`store`]), the read API ([`search`],
//! [`tail`]) and the query source ([`source`]). Partitions and retention are
//! kept by [`crate::pipeline::partitions`] as [`partitions`] declares them.

pub mod level;
pub mod query;
pub mod record;
pub mod search;
pub mod source;
pub mod store;
pub mod tail;
pub mod writer;

use utoipa_axum::router::OpenApiRouter;

use crate::{
    pipeline::partitions::{ClosedIndex, PartitionedTable, Period},
    AppState,
};

/// The logs read API.
pub fn router() -> OpenApiRouter<AppState> {
    search::router().merge(tail::router())
}

/// `log_entry`, as [`crate::pipeline::partitions`] keeps it: hour partitions
/// (an hour is what a search scans without an index), kept `retention_days`,
/// with the per-minute counts beside it, and the message trigram index built
/// once an hour is closed (it costs ~30 µs a line while written).
pub fn partitions(retention_days: u64) -> PartitionedTable {
    PartitionedTable {
        table: "log_entry",
        period: Period::Hour,
        retention_days,
        cleanups: &["delete from log_count_minute where minute < $1"],
        closed_index: Some(ClosedIndex {
            suffix: "message_trgm",
            definition: "using gin (message gin_trgm_ops)",
        }),
    }
}
