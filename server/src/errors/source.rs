//! Error events as a query [`Source`]: `count` (the default) of events per
//! step, split `by level`, `issue`, `release`, `environment` or `transaction`,
//! and filtered by any of those (`level:error issue:42`).

use futures_util::future::BoxFuture;
use sqlx::PgPool;

use crate::{
    http::error::ApiError,
    query::{
        buckets::Buckets,
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
    let buckets = Buckets {
        from: "error_event where",
        groups: terms.by.iter().map(|g| (g.clone(), column(g))).collect(),
        values: vec!["count(*)".into()],
        filters: terms
            .filters
            .iter()
            .map(|(field, value)| (column(field), value.clone()))
            .collect(),
    };
    let mut frames = FrameSet::default();
    for bucket in buckets.fetch(pool, request).await? {
        if let Some(count) = bucket.values.first().copied().flatten() {
            frames.push("events", bucket.labels, None, bucket.ts, count);
        }
    }
    Ok(frames.into_frames())
}
