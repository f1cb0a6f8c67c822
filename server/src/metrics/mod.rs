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
pub mod rollup;
pub mod source;
pub mod store;
pub mod targets;
pub mod units;
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

/// How long rollups are kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupRetention {
    pub minute_days: u64,
    pub hour_days: u64,
}

/// The metrics tables [`crate::pipeline::partitions`] keeps: for
/// `retention_days`, `metric_sample`, hour partitions (the hot samples; a
/// closed hour is emptied by [`compact`], not dropped, so an hour the server
/// was off for is still compacted later), and `metric_chunk`, day partitions
/// (the compacted hours); the rollups ([`rollup`]) for their own retentions,
/// the minutes in day partitions and the hours in month partitions. Series
/// that have had no sample within the longest of them are forgotten.
pub fn partitions(retention_days: u64, rollups: RollupRetention) -> Vec<PartitionedTable> {
    let table = |table, period, retention_days| PartitionedTable {
        table,
        period,
        retention_days,
        cleanups: &[],
        closed_index: None,
    };
    let mut tables = vec![
        table("metric_sample", Period::Hour, retention_days),
        table("metric_chunk", Period::Day, retention_days),
        table("metric_rollup_1m", Period::Day, rollups.minute_days),
        table("metric_rollup_1h", Period::Month, rollups.hour_days),
    ];
    if let Some(longest) = tables.iter_mut().max_by_key(|t| t.retention_days) {
        longest.cleanups = &["delete from metric_series where last_seen < $1"];
    }
    tables
}
