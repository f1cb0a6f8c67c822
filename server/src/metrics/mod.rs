//! Metrics: the records every metrics protocol produces ([`record`]), the
//! batch writer with its series cache ([`writer`]), the compaction of closed
//! hours into XOR chunks ([`compact`], [`codec`]), the read SQL of series,
//! labels and samples ([`store`]), the PromQL engine ([`promql`]),
//! Prometheus's HTTP query API over it ([`api`]) and the query source
//! ([`source`]). Partitions and retention are
//! kept by [`crate::pipeline::partitions`] as [`partitions`] declares them.

pub mod api;
pub mod codec;
pub mod compact;
pub mod promql;
pub mod record;
pub mod source;
pub mod store;
pub mod targets;
pub mod writer;

use utoipa_axum::router::OpenApiRouter;

use crate::{
    pipeline::partitions::{PartitionedTable, Period},
    AppState,
};

/// The metrics configuration API under `/api/v1` (scrape targets); the
/// query API is Prometheus's, at its own paths ([`api::router`]).
pub fn router() -> OpenApiRouter<AppState> {
    targets::router()
}

/// The metrics tables [`crate::pipeline::partitions`] keeps, both for
/// `retention_days`: `metric_sample`, hour partitions (the hot samples; a
/// closed hour is emptied by [`compact`], not dropped, so an hour the server
/// was off for is still compacted later), and `metric_chunk`, day partitions
/// (the compacted hours). Series that have had no sample since are forgotten
/// with them.
pub fn partitions(retention_days: u64) -> Vec<PartitionedTable> {
    vec![
        PartitionedTable {
            table: "metric_sample",
            period: Period::Hour,
            retention_days,
            cleanups: &["delete from metric_series where last_seen < $1"],
            closed_index: None,
        },
        PartitionedTable {
            table: "metric_chunk",
            period: Period::Day,
            retention_days,
            cleanups: &[],
            closed_index: None,
        },
    ]
}
