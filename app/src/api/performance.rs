//! Wire types of the performance endpoints: the transactions (endpoints) table,
//! one transaction's series, a trace with its errors and logs, and the project's
//! performance settings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::LogLine;

/// One row of `GET /api/v1/projects/{project}/performance/transactions`: the
/// segments (transactions, local root spans) of one name within the range.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TransactionSummary {
    /// The transaction's name, e.g. `GET /users/{id}`.
    pub name: String,
    pub count: i64,
    /// Transactions per minute over the range.
    pub throughput_per_min: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Share (0–1) of transactions whose status is neither `ok`, `cancelled`
    /// nor `unknown` (Sentry's failure rate).
    pub error_rate: f64,
    /// (satisfied + tolerating / 2) / count, with satisfied ≤ T < tolerating ≤ 4T
    /// for the project's threshold T.
    pub apdex: f64,
}

/// `GET /api/v1/projects/{project}/performance/transactions`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TransactionList {
    pub transactions: Vec<TransactionSummary>,
    /// The Apdex threshold T the figures were computed with.
    pub apdex_threshold_ms: i32,
}

/// One bucket of a transaction's series; the figures are absent when the
/// bucket holds no transaction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TransactionBucket {
    /// Start of the bucket.
    pub ts: DateTime<Utc>,
    pub count: i64,
    pub throughput_per_min: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub error_rate: Option<f64>,
    pub apdex: Option<f64>,
}

/// One of a transaction's slowest segments, to open as a trace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlowTransaction {
    pub trace_id: String,
    pub span_id: String,
    /// When it started.
    pub ts: DateTime<Utc>,
    pub duration_ms: f64,
    pub status: String,
}

/// `GET /api/v1/projects/{project}/performance/transactions/series`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TransactionSeries {
    pub name: String,
    /// Width of every bucket.
    pub interval_ms: i64,
    pub apdex_threshold_ms: i32,
    /// Every bucket of the range, oldest first, empty ones included.
    pub buckets: Vec<TransactionBucket>,
    /// The slowest segments of the range, slowest first (at most 20).
    pub slowest: Vec<SlowTransaction>,
}

/// One span of a trace, placed for a waterfall.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TraceSpan {
    pub span_id: String,
    pub parent_span_id: Option<String>,
    /// The span id of the transaction (segment) the span belongs to.
    pub segment_id: Option<String>,
    /// Whether the span is a transaction: the root of one service's work.
    pub is_segment: bool,
    /// The name of its transaction.
    pub transaction: String,
    pub op: String,
    /// The span's description.
    pub name: String,
    /// A Sentry span status (`ok`, `not_found`, `internal_error`, ...).
    pub status: String,
    /// When it started.
    pub ts: DateTime<Utc>,
    /// Milliseconds from the start of the trace's first span to this one's.
    pub offset_ms: f64,
    pub duration_ms: f64,
    /// Ancestors of the span within the trace (0 for a root or a span whose
    /// parent was not received).
    pub depth: u32,
    pub service: String,
    pub environment: String,
    pub release: String,
    pub http_status: Option<i32>,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub tags: Map<String, Value>,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub data: Map<String, Value>,
}

/// An error event of a trace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TraceError {
    /// 32 hex digits, as `GET /api/v1/events/{event_id}` takes it.
    pub event_id: String,
    pub issue_id: i64,
    pub ts: DateTime<Utc>,
    pub level: String,
    /// The issue's title.
    pub title: String,
    /// The span the error happened in, when the SDK said.
    pub span_id: Option<String>,
}

/// `GET /api/v1/projects/{project}/traces/{trace_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TraceDetail {
    pub trace_id: String,
    /// Start of the first span; absent when no span of the trace was received.
    pub start: Option<DateTime<Utc>>,
    /// From the first span's start to the last span's end.
    pub duration_ms: f64,
    /// Every span, ordered by start.
    pub spans: Vec<TraceSpan>,
    /// Error events carrying the trace id, oldest first.
    pub errors: Vec<TraceError>,
    /// The newest 200 log lines carrying the trace id, oldest first.
    pub logs: Vec<LogLine>,
}

/// `GET`/`PUT /api/v1/projects/{project}/performance/settings`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PerformanceSettings {
    /// The Apdex threshold T in milliseconds (1–600000; default 500).
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 600000))]
    pub apdex_threshold_ms: i32,
}
