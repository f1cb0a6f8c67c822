//! `GET /projects/{project}/performance/transactions` (the endpoints table:
//! segments grouped by name within the range) and
//! `GET /projects/{project}/performance/transactions/series` (one
//! transaction's figures per bucket, and its slowest segments).

use app::api::{
    SlowTransaction, TransactionBucket, TransactionList, TransactionSeries, TransactionSummary,
};
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sqlx::{FromRow, Postgres, QueryBuilder};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{apdex_threshold, figures};
use crate::{
    http::error::{ApiError, ApiResult, Json, Query},
    query::query_error,
    query::scope::ReadScope,
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

#[derive(FromRow)]
struct Row {
    name: String,
    count: i64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    error_rate: f64,
    apdex: f64,
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
    let (from, to) = crate::query::time_range::resolve_or_last_day(
        params.from.as_deref(),
        params.to.as_deref(),
    )?;
    let sort = params.sort.as_deref().unwrap_or("count");
    if !SORTS.contains(&sort) {
        return Err(ApiError::BadRequest(format!(
            "sort: `{sort}` is not one of {}",
            SORTS.join(", ")
        )));
    }
    let order = match params.order.as_deref() {
        None if sort == "name" => "asc",
        None | Some("desc") => "desc",
        Some("asc") => "asc",
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
    let threshold = apdex_threshold(&state, project.project_id).await?;

    let mut sql = QueryBuilder::<Postgres>::new("select transaction as name, ");
    sql.push(figures(threshold))
        .push(" from span where project_id = ")
        .push_bind(project.project_id)
        .push(" and is_segment and ts >= ")
        .push_bind(from)
        .push(" and ts < ")
        .push_bind(to);
    if let Some(environment) = params.environment.as_deref().filter(|e| !e.is_empty()) {
        sql.push(" and environment = ")
            .push_bind(environment.to_string());
    }
    if let Some(q) = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", crate::query::like_escape(q));
        sql.push(" and transaction ilike ").push_bind(pattern);
    }
    // `column` and `order` come from the lists above, never from the request.
    sql.push(format!(
        " group by transaction order by {column} {order} nulls last, name asc limit "
    ))
    .push_bind(limit);
    let rows: Vec<Row> = sql
        .build_query_as()
        .fetch_all(&state.queries)
        .await
        .map_err(query_error)?;
    let minutes = minutes(from, to);
    let transactions = rows
        .into_iter()
        .map(|r| TransactionSummary {
            throughput_per_min: per_minute(r.count, minutes),
            name: r.name,
            count: r.count,
            p50_ms: r.p50_ms,
            p95_ms: r.p95_ms,
            p99_ms: r.p99_ms,
            error_rate: r.error_rate,
            apdex: r.apdex,
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

#[derive(FromRow)]
struct BucketRow {
    bucket: i32,
    count: i64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    error_rate: f64,
    apdex: f64,
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
    let (from, to) = crate::query::time_range::resolve_or_last_day(
        params.from.as_deref(),
        params.to.as_deref(),
    )?;
    let buckets = params.buckets.unwrap_or(60).clamp(1, MAX_BUCKETS);
    let span_ms = (to - from).num_milliseconds().max(1);
    // Whole seconds once buckets are that wide, so bucket starts read well.
    let mut interval_ms = (span_ms + buckets - 1) / buckets;
    if interval_ms > 1000 {
        interval_ms = (interval_ms + 999) / 1000 * 1000;
    }
    let buckets = (span_ms + interval_ms - 1) / interval_ms;
    let threshold = apdex_threshold(&state, project.project_id).await?;
    let environment = params.environment.filter(|e| !e.is_empty());

    let mut sql = QueryBuilder::<Postgres>::new("select least(floor(extract(epoch from (ts - ");
    sql.push_bind(from)
        .push(")) * 1000 / ")
        .push_bind(interval_ms as f64)
        .push(")::int, ")
        .push_bind(buckets as i32 - 1)
        .push(") as bucket, ")
        .push(figures(threshold));
    push_segments(
        &mut sql,
        project.project_id,
        &name,
        from,
        to,
        environment.as_deref(),
    );
    sql.push(" group by 1");
    let rows: Vec<BucketRow> = sql
        .build_query_as()
        .fetch_all(&state.queries)
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
        *slot = TransactionBucket {
            ts: slot.ts,
            count: row.count,
            throughput_per_min: per_minute(row.count, bucket_minutes),
            p50_ms: Some(row.p50_ms),
            p95_ms: Some(row.p95_ms),
            p99_ms: Some(row.p99_ms),
            error_rate: Some(row.error_rate),
            apdex: Some(row.apdex),
        };
    }

    let mut sql =
        QueryBuilder::<Postgres>::new("select trace_id, span_id, ts, duration_ms, status");
    push_segments(
        &mut sql,
        project.project_id,
        &name,
        from,
        to,
        environment.as_deref(),
    );
    sql.push(" order by duration_ms desc, ts desc limit ")
        .push_bind(SLOWEST);
    let slowest: Vec<(String, String, DateTime<Utc>, f64, String)> = sql
        .build_query_as()
        .fetch_all(&state.queries)
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

/// ` from span where <the segments of one transaction in the range>`.
fn push_segments(
    sql: &mut QueryBuilder<'_, Postgres>,
    project_id: i64,
    name: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    environment: Option<&str>,
) {
    sql.push(" from span where project_id = ")
        .push_bind(project_id)
        .push(" and is_segment and transaction = ")
        .push_bind(name.to_string())
        .push(" and ts >= ")
        .push_bind(from)
        .push(" and ts < ")
        .push_bind(to);
    if let Some(environment) = environment {
        sql.push(" and environment = ")
            .push_bind(environment.to_string());
    }
}
