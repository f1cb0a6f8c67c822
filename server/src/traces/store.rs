//! The read SQL of performance, over any executor: the figures of a group of
//! segments (throughput, percentiles, failure rate, Apdex), the transactions
//! table, one transaction's buckets and slowest segments, the spans of a
//! trace, and the project's Apdex threshold.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgExecutor, Postgres, QueryBuilder};

use super::span::SpanStatus;

/// The select list of the figures of a group of segments: `count`, `p50_ms`,
/// `p95_ms`, `p99_ms`, `error_rate` and `apdex` for threshold `apdex_ms`.
fn figures(apdex_ms: i32) -> String {
    // Statuses Sentry does not count as failures, from the one definition.
    let fine: Vec<String> = SpanStatus::ALL
        .iter()
        .filter(|s| !s.is_failure())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let fine = fine.join(", ");
    let tolerated = i64::from(apdex_ms) * 4;
    format!(
        "count(*) as count,
         percentile_cont(0.5) within group (order by duration_ms) as p50_ms,
         percentile_cont(0.95) within group (order by duration_ms) as p95_ms,
         percentile_cont(0.99) within group (order by duration_ms) as p99_ms,
         (count(*) filter (where status not in ({fine})))::float8 / count(*) as error_rate,
         (count(*) filter (where duration_ms <= {apdex_ms})
          + count(*) filter (where duration_ms > {apdex_ms} and duration_ms <= {tolerated}) / 2.0
         )::float8 / count(*) as apdex"
    )
}

/// The project's Apdex threshold in milliseconds.
pub async fn apdex_threshold(
    executor: impl PgExecutor<'_>,
    project_id: i64,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("select apdex_threshold_ms from project where project_id = $1")
        .bind(project_id)
        .fetch_one(executor)
        .await
}

/// Sets the project's Apdex threshold.
pub async fn set_apdex_threshold(
    executor: impl PgExecutor<'_>,
    project_id: i64,
    threshold_ms: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update project set apdex_threshold_ms = $2, updated_at = now() where project_id = $1",
    )
    .bind(project_id)
    .bind(threshold_ms)
    .execute(executor)
    .await?;
    Ok(())
}

/// The segments of a project in `[from, to)`, of `environment` when given.
pub struct Segments<'a> {
    pub project_id: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub environment: Option<&'a str>,
}

impl Segments<'_> {
    /// ` from span where <these segments>`, of `transaction` when given.
    fn push_from(&self, sql: &mut QueryBuilder<'_, Postgres>, transaction: Option<&str>) {
        sql.push(" from span where project_id = ")
            .push_bind(self.project_id)
            .push(" and is_segment and ts >= ")
            .push_bind(self.from)
            .push(" and ts < ")
            .push_bind(self.to);
        if let Some(transaction) = transaction {
            sql.push(" and transaction = ")
                .push_bind(transaction.to_string());
        }
        if let Some(environment) = self.environment {
            sql.push(" and environment = ")
                .push_bind(environment.to_string());
        }
    }
}

/// The figures of one transaction (or of one bucket of it).
#[derive(FromRow)]
pub struct Figures {
    pub count: i64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
    pub apdex: f64,
}

/// A row of the transactions table.
#[derive(FromRow)]
pub struct TransactionRow {
    pub name: String,
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// A column the transactions table is sorted by; names are those of
/// [`TransactionRow`]'s columns.
pub const SORTABLE: [&str; 7] = [
    "name",
    "count",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "error_rate",
    "apdex",
];

/// The transactions of `segments` whose name contains `name_contains` (any
/// case), grouped by name, sorted by `sort` (one of [`SORTABLE`]; anything else
/// sorts by count) ascending or not, at most `rows`.
pub async fn transactions(
    executor: impl PgExecutor<'_>,
    segments: &Segments<'_>,
    name_contains: Option<&str>,
    apdex_ms: i32,
    (sort, ascending): (&str, bool),
    rows: i64,
) -> Result<Vec<TransactionRow>, sqlx::Error> {
    let mut sql = QueryBuilder::<Postgres>::new("select transaction as name, ");
    sql.push(figures(apdex_ms));
    segments.push_from(&mut sql, None);
    if let Some(part) = name_contains {
        let pattern = format!("%{}%", crate::query::like_escape(part));
        sql.push(" and transaction ilike ").push_bind(pattern);
    }
    // The column comes from SORTABLE, never from the request.
    let column = SORTABLE
        .iter()
        .copied()
        .find(|c| *c == sort)
        .unwrap_or("count");
    let order = if ascending { "asc" } else { "desc" };
    sql.push(format!(
        " group by transaction order by {column} {order} nulls last, name asc limit "
    ))
    .push_bind(rows);
    sql.build_query_as().fetch_all(executor).await
}

/// The figures of one bucket of a transaction's series.
#[derive(FromRow)]
pub struct BucketRow {
    /// The bucket's number, from 0.
    pub bucket: i32,
    #[sqlx(flatten)]
    pub figures: Figures,
}

/// The figures of `transaction` in `buckets` buckets of `interval_ms` from the
/// start of `segments`; buckets without segments are left out.
pub async fn transaction_buckets(
    executor: impl PgExecutor<'_>,
    segments: &Segments<'_>,
    transaction: &str,
    apdex_ms: i32,
    interval_ms: i64,
    buckets: i64,
) -> Result<Vec<BucketRow>, sqlx::Error> {
    let mut sql = QueryBuilder::<Postgres>::new("select least(floor(extract(epoch from (ts - ");
    sql.push_bind(segments.from)
        .push(")) * 1000 / ")
        .push_bind(interval_ms as f64)
        .push(")::int, ")
        .push_bind(i32::try_from(buckets - 1).unwrap_or(i32::MAX))
        .push(") as bucket, ")
        .push(figures(apdex_ms));
    segments.push_from(&mut sql, Some(transaction));
    sql.push(" group by 1");
    sql.build_query_as().fetch_all(executor).await
}

/// A slow segment: trace id, span id, start, duration (ms), status.
pub type SlowRow = (String, String, DateTime<Utc>, f64, String);

/// The `rows` slowest segments of `transaction`, slowest first.
pub async fn slowest(
    executor: impl PgExecutor<'_>,
    segments: &Segments<'_>,
    transaction: &str,
    rows: i64,
) -> Result<Vec<SlowRow>, sqlx::Error> {
    let mut sql =
        QueryBuilder::<Postgres>::new("select trace_id, span_id, ts, duration_ms, status");
    segments.push_from(&mut sql, Some(transaction));
    sql.push(" order by duration_ms desc, ts desc limit ")
        .push_bind(rows);
    sql.build_query_as().fetch_all(executor).await
}

/// A stored span of a trace.
#[derive(FromRow)]
pub struct SpanRow {
    pub span_id: String,
    pub parent_span_id: Option<String>,
    pub segment_id: Option<String>,
    pub is_segment: bool,
    pub transaction: String,
    pub op: String,
    pub name: String,
    pub status: String,
    pub ts: DateTime<Utc>,
    pub duration_ms: f64,
    pub service: String,
    pub environment: String,
    pub release: String,
    pub http_status: Option<i32>,
    pub tags: Value,
    pub data: Value,
}

/// The first `rows` spans of a trace in a project, by start.
pub async fn trace_spans(
    executor: impl PgExecutor<'_>,
    project_id: i64,
    trace_id: &str,
    rows: i64,
) -> Result<Vec<SpanRow>, sqlx::Error> {
    sqlx::query_as(
        "select span_id, parent_span_id, segment_id, is_segment, transaction, op, name, status,
                ts, duration_ms, service, environment, release, http_status, tags, data
         from span where trace_id = $1 and project_id = $2
         order by ts, span_id limit $3",
    )
    .bind(trace_id)
    .bind(project_id)
    .bind(rows)
    .fetch_all(executor)
    .await
}
