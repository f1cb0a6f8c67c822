//! The typed calls of the performance endpoints: transactions, their series,
//! traces and the Apdex setting.

use super::{call, json, query_string, query_time, ApiError, Method};
use crate::api::{PerformanceSettings, TraceDetail, TransactionList, TransactionSeries};
use crate::browser::percent_encode;

/// The transactions table's filters and order (`GET .../performance/transactions`).
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionScope {
    /// Words the transaction's name must contain; empty for all.
    pub q: String,
    /// The one environment; empty for all.
    pub environment: String,
    /// The column to sort by: `count`, `name`, `throughput_per_min`, `p50_ms`,
    /// `p95_ms`, `p99_ms`, `error_rate` or `apdex`.
    pub sort: &'static str,
    /// `asc` or `desc`.
    pub order: &'static str,
    /// Start of the range, inclusive.
    pub from: chrono::DateTime<chrono::Utc>,
    /// End of the range, exclusive.
    pub to: chrono::DateTime<chrono::Utc>,
}

/// The performance endpoint `endpoint` of `project`, e.g.
/// `/projects/web/performance/transactions`.
fn performance_path(project: &str, endpoint: &str) -> String {
    format!(
        "/projects/{}/performance/{endpoint}",
        percent_encode(project)
    )
}

/// `GET /projects/{project}/performance/transactions`: the project's
/// transactions in the range with their figures, and the Apdex threshold.
pub async fn transactions(
    project: &str,
    scope: &TransactionScope,
    limit: u32,
) -> Result<TransactionList, ApiError> {
    let mut pairs = vec![
        ("sort", scope.sort.to_owned()),
        ("order", scope.order.to_owned()),
        ("from", query_time(scope.from)),
        ("to", query_time(scope.to)),
        ("limit", limit.to_string()),
    ];
    if !scope.q.is_empty() {
        pairs.push(("q", scope.q.clone()));
    }
    if !scope.environment.is_empty() {
        pairs.push(("environment", scope.environment.clone()));
    }
    let path = format!(
        "{}{}",
        performance_path(project, "transactions"),
        query_string(&pairs)
    );
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/performance/transactions/series`: one
/// transaction's figures in `buckets` equal slices of the range, and its
/// slowest segments.
pub async fn transaction_series(
    project: &str,
    name: &str,
    environment: &str,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    buckets: u32,
) -> Result<TransactionSeries, ApiError> {
    let mut pairs = vec![
        ("name", name.to_owned()),
        ("from", query_time(from)),
        ("to", query_time(to)),
        ("buckets", buckets.to_string()),
    ];
    if !environment.is_empty() {
        pairs.push(("environment", environment.to_owned()));
    }
    let path = format!(
        "{}{}",
        performance_path(project, "transactions/series"),
        query_string(&pairs)
    );
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/traces/{trace_id}`: every span of a trace, with
/// the error events and log lines that carry its id.
pub async fn trace(project: &str, trace_id: &str) -> Result<TraceDetail, ApiError> {
    let path = format!(
        "/projects/{}/traces/{}",
        percent_encode(project),
        percent_encode(trace_id)
    );
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/performance/settings`.
pub async fn performance_settings(project: &str) -> Result<PerformanceSettings, ApiError> {
    call(Method::Get, &performance_path(project, "settings"), None).await
}

/// `PUT /projects/{project}/performance/settings` (admins).
pub async fn update_performance_settings(
    project: &str,
    settings: &PerformanceSettings,
) -> Result<PerformanceSettings, ApiError> {
    call(
        Method::Put,
        &performance_path(project, "settings"),
        json(settings)?,
    )
    .await
}
