//! Logs as a query [`Source`]: a query in the search language, with a
//! `| stats ... by ... every ...` stage or without one (then matching lines are
//! counted), gives one series per aggregation and group: `level:error | stats
//! count() by service every 1m` is the errors per minute of each service.
//! Without `every`, the request's step is the bucket width.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde_json::Value;
use sqlx::PgPool;

use super::query::{self, Aggregation, Function, Scope, Stage, Stats, MAX_LIMIT};
use crate::{
    http::error::ApiError,
    query::{
        query_error,
        source::{Frame, FrameSet, SeriesQuery, Source},
    },
};

/// Logs, for `POST /api/v1/query` and everything built on it.
pub struct LogSource;

impl Source for LogSource {
    fn name(&self) -> &'static str {
        "logs"
    }

    fn series<'a>(
        &'a self,
        pool: &'a PgPool,
        query: &'a SeriesQuery,
    ) -> BoxFuture<'a, Result<Vec<Frame>, ApiError>> {
        Box::pin(series(pool, query))
    }
}

async fn series(pool: &PgPool, request: &SeriesQuery) -> Result<Vec<Frame>, ApiError> {
    let bad = |message: String| ApiError::BadRequest(format!("query: {message}"));
    let mut query = query::parse(&request.query).map_err(|e| bad(e.to_string()))?;
    match query.stages.as_mut_slice() {
        [] => query.stages.push(Stage::Stats(Stats {
            aggregations: vec![Aggregation {
                function: Function::Count,
                field: None,
            }],
            by: Vec::new(),
            every: Some(request.step_secs()),
        })),
        [Stage::Stats(stats)] => {
            stats.every = stats.every.or(Some(request.step_secs()));
        }
        _ => {
            return Err(bad(
                "series come from at most one stage, `| stats ... [by ...] [every ...]`; sort, limit and fields make tables"
                    .into(),
            ))
        }
    }
    let Some(Stage::Stats(stats)) = query.stages.first().cloned() else {
        return Err(bad("a stats stage is needed".into()));
    };
    // Every row is a point: not the default table's first thousand.
    query.stages.push(Stage::Limit(MAX_LIMIT));
    let scope = Scope {
        project_id: request.project_id,
        from: request.from,
        to: request.to,
    };
    let mut tabular = query::tabular_sql(&query, &scope).map_err(|e| bad(e.to_string()))?;
    let rows: Vec<Value> = tabular
        .sql
        .build_query_scalar()
        .fetch_all(pool)
        .await
        .map_err(query_error)?;
    if rows.len() >= MAX_LIMIT as usize {
        return Err(bad(format!(
            "more than {MAX_LIMIT} points: make the step longer or group by fewer fields"
        )));
    }
    let groups: Vec<String> = stats.by.iter().map(|f| f.name()).collect();
    let names: Vec<String> = stats.aggregations.iter().map(Aggregation::name).collect();
    let mut frames = FrameSet::default();
    for row in rows {
        let Value::Array(cells) = row else { continue };
        let Some(ts) = cells.first().and_then(time) else {
            continue;
        };
        let labels: BTreeMap<String, String> = groups
            .iter()
            .zip(&cells[1..])
            .map(|(group, cell)| (group.clone(), label(cell)))
            .collect();
        for (name, cell) in names.iter().zip(cells.iter().skip(1 + groups.len())) {
            if let Some(value) = number(cell) {
                frames.push(name, labels.clone(), None, ts, value);
            }
        }
    }
    Ok(frames.into_frames())
}

fn time(cell: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(cell.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A group's value as a label: text as it is, a missing value as empty.
fn label(cell: &Value) -> String {
    match cell {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An aggregate's value: numbers, and numbers PostgreSQL sent as text (numeric).
fn number(cell: &Value) -> Option<f64> {
    match cell {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}
