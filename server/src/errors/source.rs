//! Error events as a query [`Source`]: `count` (the default) of events per
//! step, split `by level`, `issue`, `release`, `environment` or `transaction`,
//! and filtered by any of those (`level:error issue:42`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use sqlx::{PgPool, Postgres, QueryBuilder};

use crate::{
    http::error::ApiError,
    query::{
        query_error,
        source::{Frame, FrameSet, SeriesQuery, Source},
        terms::Terms,
    },
};

/// Fields a query may split by or filter on, and their columns.
const FIELDS: [(&str, &str); 5] = [
    ("level", "level"),
    ("issue", "issue_id::text"),
    ("release", "coalesce(release, '')"),
    ("environment", "coalesce(environment, '')"),
    ("transaction", "coalesce(transaction, '')"),
];

/// Error events, for `POST /api/v1/query`.
pub struct ErrorSource;

impl Source for ErrorSource {
    fn name(&self) -> &'static str {
        "errors"
    }

    fn series<'a>(
        &'a self,
        pool: &'a PgPool,
        query: &'a SeriesQuery,
    ) -> BoxFuture<'a, Result<Vec<Frame>, ApiError>> {
        Box::pin(series(pool, query))
    }
}

fn column(field: &str) -> &'static str {
    FIELDS
        .iter()
        .find(|(name, _)| *name == field)
        .map_or("''", |(_, column)| column)
}

async fn series(pool: &PgPool, request: &SeriesQuery) -> Result<Vec<Frame>, ApiError> {
    let terms = Terms::parse(&request.query).map_err(ApiError::BadRequest)?;
    let fields: Vec<&str> = FIELDS.iter().map(|(name, _)| *name).collect();
    terms
        .check(&["count"], &fields, &fields)
        .map_err(ApiError::BadRequest)?;
    let mut sql = QueryBuilder::<Postgres>::new("select date_bin(");
    sql.push_bind(request.step)
        .push(", ts, ")
        .push_bind(request.from)
        .push(")");
    for group in &terms.by {
        sql.push(", ").push(column(group));
    }
    sql.push(", count(*)::float8 from error_event where project_id = ")
        .push_bind(request.project_id)
        .push(" and ts >= ")
        .push_bind(request.from)
        .push(" and ts < ")
        .push_bind(request.to);
    for (field, value) in &terms.filters {
        sql.push(" and ")
            .push(column(field))
            .push(" = ")
            .push_bind(value.clone());
    }
    sql.push(" group by ");
    let ordinals: Vec<String> = (1..=1 + terms.by.len()).map(|i| i.to_string()).collect();
    sql.push(ordinals.join(", "));
    let rows = sql.build().fetch_all(pool).await.map_err(query_error)?;
    let mut frames = FrameSet::default();
    for row in rows {
        use sqlx::Row;
        let ts: DateTime<Utc> = row.try_get(0).map_err(query_error)?;
        let mut labels = BTreeMap::new();
        for (i, group) in terms.by.iter().enumerate() {
            let value: String = row.try_get(i + 1).map_err(query_error)?;
            labels.insert(group.clone(), value);
        }
        let count: f64 = row.try_get(terms.by.len() + 1).map_err(query_error)?;
        frames.push("events", labels, None, ts, count);
    }
    Ok(frames.into_frames())
}
