//! Performance: spans from Sentry transactions and OpenTelemetry traces (the
//! Sentry and OTLP adapters decode them), normalised into [`span::SpanRecord`]s (a segment — one
//! transaction of one endpoint — and its child spans), stored by one batch
//! writer ([`writer`]) into the day-partitioned `span` table, and read (SQL in
//! [`store`]) through [`api`]: the transactions table with throughput, latency percentiles, failure
//! rate and Apdex, one transaction's series, and a trace with the errors and logs
//! that carry its id. Partitions and retention are kept by
//! [`crate::pipeline::partitions`].

pub mod api;
pub mod source;
pub mod span;
pub mod store;
pub mod writer;

use crate::pipeline::partitions::{PartitionedTable, Period};

/// `span`, as [`crate::pipeline::partitions`] keeps it: day partitions kept
/// `retention_days`, nothing kept beside them.
pub fn partitions(retention_days: u64) -> PartitionedTable {
    PartitionedTable {
        table: "span",
        period: Period::Day,
        retention_days,
        cleanups: &[],
        closed_index: None,
    }
}
