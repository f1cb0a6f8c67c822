//! Performance as a query [`Source`], over segments (transactions): one or more
//! measures per step — `throughput` (per minute), `count`, `avg`, `p50`, `p75`,
//! `p95`, `p99` (milliseconds), `failure_rate` (0 to 1, as Sentry counts
//! failures) and `apdex` (with the project's threshold) — split `by
//! transaction`, `op`, `environment`, `release` or `service`, and filtered by
//! any of those (`p95 transaction:"GET /users/{id}"`). Default: `throughput`.

use futures_util::future::BoxFuture;
use sqlx::PgPool;

use super::span::SpanStatus;
use crate::{
    http::error::ApiError,
    query::{
        buckets::Buckets,
        query_error,
        source::{Frame, FrameSet, SeriesQuery, Source},
        terms::Terms,
    },
};

/// Fields a query may split by or filter on (columns of `span` of the same name).
const FIELDS: [&str; 5] = ["transaction", "op", "environment", "release", "service"];
/// Measures, with their unit.
const MEASURES: [(&str, Option<&str>); 9] = [
    ("throughput", Some("per_minute")),
    ("count", None),
    ("avg", Some("ms")),
    ("p50", Some("ms")),
    ("p75", Some("ms")),
    ("p95", Some("ms")),
    ("p99", Some("ms")),
    ("failure_rate", Some("ratio")),
    ("apdex", None),
];

/// Transactions, for `POST /api/v1/query`.
pub struct PerformanceSource;

impl Source for PerformanceSource {
    fn name(&self) -> &'static str {
        "performance"
    }

    fn series<'a>(
        &'a self,
        pool: &'a PgPool,
        query: &'a SeriesQuery,
    ) -> BoxFuture<'a, Result<Vec<Frame>, ApiError>> {
        Box::pin(series(pool, query))
    }
}

/// The SQL of a measure over the rows of one step.
fn measure_sql(measure: &str, step_minutes: f64, apdex_ms: i32) -> String {
    match measure {
        "throughput" => format!("count(*)::float8 / {step_minutes}"),
        "count" => "count(*)::float8".into(),
        "avg" => "avg(duration_ms)".into(),
        "p50" | "p75" | "p95" | "p99" => format!(
            "percentile_cont(0.{}) within group (order by duration_ms)",
            &measure[1..]
        ),
        "failure_rate" => {
            let fine: Vec<String> = SpanStatus::ALL
                .iter()
                .filter(|s| !s.is_failure())
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            format!(
                "(count(*) filter (where status not in ({})))::float8 / count(*)",
                fine.join(", ")
            )
        }
        _ => {
            let tolerated = i64::from(apdex_ms) * 4;
            format!(
                "(count(*) filter (where duration_ms <= {apdex_ms})
                  + count(*) filter (where duration_ms > {apdex_ms} and duration_ms <= {tolerated}) / 2.0
                 )::float8 / count(*)"
            )
        }
    }
}

async fn series(pool: &PgPool, request: &SeriesQuery) -> Result<Vec<Frame>, ApiError> {
    let terms = Terms::parse(&request.query).map_err(ApiError::BadRequest)?;
    let names: Vec<&str> = MEASURES.iter().map(|(name, _)| *name).collect();
    terms
        .check(&names, &FIELDS, &FIELDS)
        .map_err(ApiError::BadRequest)?;
    let mut measures: Vec<&str> = Vec::new();
    for word in &terms.words {
        if !measures.contains(&word.as_str()) {
            measures.push(word);
        }
    }
    if measures.is_empty() {
        measures.push("throughput");
    }
    let apdex_ms: i32 = if measures.contains(&"apdex") {
        super::store::apdex_threshold(pool, request.project_id)
            .await
            .map_err(query_error)?
    } else {
        0
    };
    let step_minutes = request.step_secs() as f64 / 60.0;
    // `by` and filter names are checked against FIELDS: they are column names.
    let column = |name: &str| FIELDS.iter().copied().find(|f| *f == name).unwrap_or("''");
    let buckets = Buckets {
        from: "span where is_segment and",
        groups: terms.by.iter().map(|g| (g.clone(), column(g))).collect(),
        values: measures
            .iter()
            .map(|m| measure_sql(m, step_minutes, apdex_ms))
            .collect(),
        filters: terms
            .filters
            .iter()
            .map(|(field, value)| (column(field), value.clone()))
            .collect(),
    };
    let mut frames = FrameSet::default();
    for bucket in buckets.fetch(pool, request).await? {
        for (measure, value) in measures.iter().zip(&bucket.values) {
            let unit = MEASURES
                .iter()
                .find(|(name, _)| name == measure)
                .and_then(|(_, unit)| *unit);
            if let Some(value) = value {
                frames.push(measure, bucket.labels.clone(), unit, bucket.ts, *value);
            }
        }
    }
    Ok(frames.into_frames())
}
