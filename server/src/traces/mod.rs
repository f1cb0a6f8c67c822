//! Performance: spans from Sentry transactions ([`sentry`]) and OpenTelemetry
//! traces ([`otlp`]), normalised into [`span::SpanRecord`]s (a segment — one
//! transaction of one endpoint — and its child spans), stored by one batch
//! writer ([`writer`]) into the day-partitioned `span` table, and read through
//! [`api`]: the transactions table with throughput, latency percentiles, failure
//! rate and Apdex, one transaction's series, and a trace with the errors and logs
//! that carry its id. Partitions and retention are kept by
//! [`crate::db::partitions`].

pub mod api;
pub mod otlp;
pub mod sentry;
pub mod span;
pub mod writer;
