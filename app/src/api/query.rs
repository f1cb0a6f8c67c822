//! `POST /api/v1/query`: one query model over every kind of data. A source
//! (`logs`, `errors`, `performance`, ...) answers a query over a time range at a
//! step with labelled series: what dashboard panels and alert rules read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The body of `POST /api/v1/query`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QueryRequest {
    /// The project's id or slug.
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[^\u0000]*$"))]
    pub project: String,
    /// Which kind of data: `logs`, `errors` or `performance`.
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[^\u0000]*$"))]
    pub source: String,
    /// The source's query. Logs: the search language, with a
    /// `| stats ... by ... every ...` stage or without (then lines are
    /// counted). Errors: `count`, optionally `by level|issue|release|environment`
    /// and filters such as `level:error issue:42`. Performance: one or more of
    /// `throughput, count, p50, p75, p95, p99, avg, failure_rate, apdex`,
    /// optionally `by transaction` and filters such as `transaction:"GET /users"`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = r"^[^\u0000]*$"))]
    pub query: String,
    /// Start of the range (RFC 3339, epoch ms, `now-1h`, `now-7d/d`); default one hour before `to`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, pattern = r"^[^\u0000]*$"))]
    pub from: Option<String>,
    /// End of the range; default now.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, pattern = r"^[^\u0000]*$"))]
    pub to: Option<String>,
    /// Width of one point (`30s`, `5m`, `1h`, or seconds); default about 1/120
    /// of the range, rounded to a whole step.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, pattern = r"^[^\u0000]*$"))]
    pub step: Option<String>,
}

/// The answer of `POST /api/v1/query`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QueryResult {
    /// One labelled series each.
    pub frames: Vec<Frame>,
    /// The width of one point, in milliseconds.
    pub step_ms: i64,
}

/// One labelled series: `points` are `[epoch milliseconds, value]` at the
/// start of each step, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Frame {
    /// What the series measures, e.g. `count()` or `p95`.
    pub name: String,
    /// What tells it from the other series of the answer, e.g. `{"level": "error"}`.
    pub labels: BTreeMap<String, String>,
    /// The unit of the values: `ms`, `ratio` (0 to 1), `per_minute`, or none for counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Vec<f64>>))]
    pub points: Vec<(i64, f64)>,
}
