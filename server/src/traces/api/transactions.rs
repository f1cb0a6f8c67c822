//! `GET /projects/{project}/performance/transactions` (the endpoints table:
//! segments grouped by name within the range) and
//! `GET /projects/{project}/performance/transactions/series` (one
//! transaction's figures per bucket, and its slowest segments). The SQL is
//! [`crate::traces::store`].

use app::api::{
    SlowTransaction, TransactionBucket, TransactionList, TransactionSeries, TransactionSummary,
};
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    http::error::{ApiError, ApiResult, Json, Query},
    query::{query_error, scope::ReadScope, time_range},
    traces::store::{self, Segments},
    AppState,
};

/// Largest number of rows of the table.
const MAX_ROWS: i64 = 1000;
/// Largest number of buckets of a series.
const MAX_BUCKETS: i64 = 500;
/// Slowest segments listed with a series.
const SLOWEST: i64 = 20;
/// Columns the table may be sorted by.
const SORTS: [&str; 8] = [
    "name",
    "count",
    "throughput_per_min",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "error_rate",
    "apdex",
];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(series))
}

/// Filters and order of the transactions table.
#[derive(Debug, Deserialize, IntoParams)]
pub struct TransactionParams {
    /// Start of the range (RFC 3339, epoch ms or `now-24h`). Default: 24 h before `to`.
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub from: Option<String>,
    /// End of the range. Default: now.
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub to: Option<String>,
    /// `count` (default), `name`, `throughput_per_min`, `p50_ms`, `p95_ms`,
    /// `p99_ms`, `error_rate` or `apdex`.
    #[param(pattern = r"^(name|count|throughput_per_min|p50_ms|p95_ms|p99_ms|error_rate|apdex)$")]
    pub sort: Option<String>,
    /// `desc` (the default, but `asc` for `name`) or `asc`.
    #[param(pattern = r"^(asc|desc)$")]
    pub order: Option<String>,
    /// Only transactions whose name contains this (any case).
    pub q: Option<String>,
    /// Only transactions of this environment.
    pub environment: Option<String>,
    /// Rows at most (default 200, at most 1000).
    pub limit: Option<i64>,
}

/// Transactions per minute over `minutes`.
fn per_minute(count: i64, minutes: f64) -> f64 {
    if minutes > 0.0 {
        count as f64 / minutes
    } else {
        0.0
    }
}

fn minutes(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 60_000.0
}

/// The project's transactions in the range with their throughput, latency
/// percentiles, failure rate and Apdex.
#[utoipa::path(get, path = "/projects/{project}/performance/transactions", tag = "performance", operation_id = "list_transactions",
    params(("project" = String, Path, description = "id or slug"), TransactionParams),
    responses((status = 200, body = TransactionList), (status = 400), (status = 401), (status = 404)))]
async fn list(
    State(state): State<AppState>,
    ReadScope { project, .. }: ReadScope,
    Query(params): Query<TransactionParams>,
) -> ApiResult<Json<TransactionList>> {
    let (from, to) = time_range::resolve_or_last_day(params.from.as_deref(), params.to.as_deref())?;
    let sort = params.sort.as_deref().unwrap_or("count");
    if !SORTS.contains(&sort) {
        return Err(ApiError::BadRequest(format!(
            "sort: `{sort}` is not one of {}",
            SORTS.join(", ")
        )));
    }
    let ascending = match params.order.as_deref() {
        None => sort == "name",
        Some("desc") => false,
        Some("asc") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "order: `{other}` is not asc or desc"
            )))
        }
    };
    // Throughput is count over the same range for every row.
    let column = if sort == "throughput_per_min" {
        "count"
    } else {
        sort
    };
    let limit = params.limit.unwrap_or(200).clamp(1, MAX_ROWS);
    let threshold = store::apdex_threshold(&state.pool, project.project_id).await?;
    let segments = Segments {
        project_id: project.project_id,
        from,
        to,
        environment: params.environment.as_deref().filter(|e| !e.is_empty()),
    };
    let name_contains = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let rows = store::transactions(
        &state.queries,
        &segments,
        name_contains,
        threshold,
        (column, ascending),
        limit,
    )
    .await
    .map_err(query_error)?;
    let minutes = minutes(from, to);
    let transactions = rows
        .into_iter()
        .map(|r| TransactionSummary {
            throughput_per_min: per_minute(r.figures.count, minutes),
            name: r.name,
            count: r.figures.count,
            p50_ms: r.figures.p50_ms,
            p95_ms: r.figures.p95_ms,
            p99_ms: r.figures.p99_ms,
            error_rate: r.figures.error_rate,
            apdex: r.figures.apdex,
        })
        .collect();
    Ok(Json(TransactionList {
        transactions,
        apdex_threshold_ms: threshold,
    }))
}

/// Which transaction, over what range, in how many buckets.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SeriesParams {
    /// The transaction's name (required).
    #[param(value_type = String, required = true, min_length = 1)]
    pub name: Option<String>,
    /// Start of the range (default 24 h before `to`).
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub from: Option<String>,
    /// End of the range (default now).
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub to: Option<String>,
    /// Buckets across the range (default 60, at most 500).
    pub buckets: Option<i64>,
    /// Only transactions of this environment.
    pub environment: Option<String>,
}

/// One transaction's figures per bucket across the range, and its slowest
/// segments in the range.
#[utoipa::path(get, path = "/projects/{project}/performance/transactions/series", tag = "performance",
    params(("project" = String, Path, description = "id or slug"), SeriesParams),
    responses((status = 200, body = TransactionSeries), (status = 400), (status = 401), (status = 404)))]
async fn series(
    State(state): State<AppState>,
    ReadScope { project, .. }: ReadScope,
    Query(params): Query<SeriesParams>,
) -> ApiResult<Json<TransactionSeries>> {
    let name = params
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::BadRequest("name: the transaction's name is required".into()))?;
    let (from, to) = time_range::resolve_or_last_day(params.from.as_deref(), params.to.as_deref())?;
    let buckets = params.buckets.unwrap_or(60).clamp(1, MAX_BUCKETS);
    let span_ms = (to - from).num_milliseconds().max(1);
    // Whole seconds once buckets are that wide, so bucket starts read well.
    let mut interval_ms = (span_ms + buckets - 1) / buckets;
    if interval_ms > 1000 {
        interval_ms = (interval_ms + 999) / 1000 * 1000;
    }
    let buckets = (span_ms + interval_ms - 1) / interval_ms;
    let threshold = store::apdex_threshold(&state.pool, project.project_id).await?;
    let segments = Segments {
        project_id: project.project_id,
        from,
        to,
        environment: params.environment.as_deref().filter(|e| !e.is_empty()),
    };
    let rows = store::transaction_buckets(
        &state.queries,
        &segments,
        &name,
        threshold,
        interval_ms,
        buckets,
    )
    .await
    .map_err(query_error)?;
    let bucket_minutes = interval_ms as f64 / 60_000.0;
    let mut series: Vec<TransactionBucket> = (0..buckets)
        .map(|i| TransactionBucket {
            ts: from + Duration::milliseconds(i * interval_ms),
            count: 0,
            throughput_per_min: 0.0,
            p50_ms: None,
            p95_ms: None,
            p99_ms: None,
            error_rate: None,
            apdex: None,
        })
        .collect();
    for row in rows {
        let Some(slot) = usize::try_from(row.bucket)
            .ok()
            .and_then(|b| series.get_mut(b))
        else {
            continue;
        };
        let figures = row.figures;
        *slot = TransactionBucket {
            ts: slot.ts,
            count: figures.count,
            throughput_per_min: per_minute(figures.count, bucket_minutes),
            p50_ms: Some(figures.p50_ms),
            p95_ms: Some(figures.p95_ms),
            p99_ms: Some(figures.p99_ms),
            error_rate: Some(figures.error_rate),
            apdex: Some(figures.apdex),
        };
    }

    let slowest = store::slowest(&state.queries, &segments, &name, SLOWEST)
        .await
        .map_err(query_error)?;
    Ok(Json(TransactionSeries {
        name,
        interval_ms,
        apdex_threshold_ms: threshold,
        buckets: series,
        slowest: slowest
            .into_iter()
            .map(
                |(trace_id, span_id, ts, duration_ms, status)| SlowTransaction {
                    trace_id,
                    span_id,
                    ts,
                    duration_ms,
                    status,
                },
            )
            .collect(),
    }))
}
