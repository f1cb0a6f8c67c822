//! Wire types of the logs endpoints: ingestion summaries and search results.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Answer of `POST /api/v1/ingest/logs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IngestSummary {
    /// Records stored (committed before this answer was sent).
    pub accepted: usize,
    /// Records refused; the others were stored.
    pub rejected: usize,
    /// The first few refusals, by 0-based record index.
    pub errors: Vec<RecordRejection>,
}

/// Why one record of a batch was refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecordRejection {
    pub index: usize,
    pub reason: String,
}

/// One stored log line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogLine {
    /// Identifies the line together with `ts` (for `/logs/context`).
    pub id: i64,
    pub ts: DateTime<Utc>,
    /// `trace`, `debug`, `info`, `warn`, `error` or `fatal`.
    pub level: String,
    pub service: String,
    pub host: String,
    pub message: String,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub attributes: Map<String, Value>,
}

/// `GET /api/v1/projects/{project}/logs/search`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogSearchResult {
    /// Newest first.
    pub rows: Vec<LogLine>,
    /// Pass as `cursor` to get the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/projects/{project}/logs/query`: a table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogTable {
    pub columns: Vec<String>,
    /// One row a result, one cell a column: text, numbers, booleans or null.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<Value>>))]
    pub rows: Vec<Vec<Value>>,
}

/// `GET /api/v1/projects/{project}/logs/histogram`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogHistogram {
    /// Width of every bucket.
    pub interval_ms: i64,
    /// Every bucket of the range, oldest first, empty ones included.
    pub buckets: Vec<HistogramBucket>,
}

/// Lines per level that fall in `[ts, ts + interval)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistogramBucket {
    pub ts: DateTime<Utc>,
    /// Level name → number of lines; levels without lines are left out.
    pub counts: std::collections::BTreeMap<String, i64>,
}

/// `GET /api/v1/projects/{project}/logs/fields`: what can be searched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogFields {
    pub fields: Vec<LogField>,
}

/// A field name (built-in or attribute path) with frequent values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogField {
    pub name: String,
    /// Most frequent values in the sampled lines, most frequent first.
    pub values: Vec<String>,
}

/// `GET /api/v1/projects/{project}/logs/context`: the lines around one line, from
/// the same service and host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogContext {
    /// Oldest first.
    pub before: Vec<LogLine>,
    pub line: LogLine,
    /// Oldest first.
    pub after: Vec<LogLine>,
}
