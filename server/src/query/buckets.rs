//! [`Buckets`]: the statement the sources without a language of their own
//! (errors, performance) answer series with: the rows of one table in the
//! request's range, bucketed by its step, grouped by label columns, with one
//! aggregate value or more per bucket.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use super::{query_error, source::SeriesQuery};
use crate::http::error::ApiError;

/// What to select. Every SQL text here comes from the source's own constants
/// (checked names), never from the request; values are bound.
pub struct Buckets<'a> {
    /// The table and any fixed condition, ending so that `project_id = ...`
    /// can follow: `"error_event where"`, `"span where is_segment and"`.
    pub from: &'a str,
    /// The labels to split by: `(name, column SQL)`.
    pub groups: Vec<(String, &'a str)>,
    /// The aggregates, each read as `float8`.
    pub values: Vec<String>,
    /// `column SQL = value` conditions.
    pub filters: Vec<(&'a str, String)>,
}

/// One bucket of one group: its start, its labels and its values in the
/// order of [`Buckets::values`] (`None` where an aggregate had no rows).
pub struct Bucket {
    pub ts: DateTime<Utc>,
    pub labels: BTreeMap<String, String>,
    pub values: Vec<Option<f64>>,
}

impl Buckets<'_> {
    /// Runs the statement for `request`.
    pub async fn fetch(
        &self,
        pool: &PgPool,
        request: &SeriesQuery,
    ) -> Result<Vec<Bucket>, ApiError> {
        let mut sql = QueryBuilder::<Postgres>::new("select date_bin(");
        sql.push_bind(request.step)
            .push(", ts, ")
            .push_bind(request.from)
            .push(")");
        for (_, column) in &self.groups {
            sql.push(", ").push(*column);
        }
        for value in &self.values {
            sql.push(", (").push(value).push(")::float8");
        }
        sql.push(" from ")
            .push(self.from)
            .push(" project_id = ")
            .push_bind(request.project_id)
            .push(" and ts >= ")
            .push_bind(request.from)
            .push(" and ts < ")
            .push_bind(request.to);
        for (column, value) in &self.filters {
            sql.push(" and ")
                .push(*column)
                .push(" = ")
                .push_bind(value.clone());
        }
        let ordinals: Vec<String> = (1..=1 + self.groups.len()).map(|i| i.to_string()).collect();
        sql.push(" group by ").push(ordinals.join(", "));
        let rows = sql.build().fetch_all(pool).await.map_err(query_error)?;
        rows.iter()
            .map(|row| {
                let mut labels = BTreeMap::new();
                for (i, (name, _)) in self.groups.iter().enumerate() {
                    labels.insert(name.clone(), row.try_get(i + 1)?);
                }
                let first = 1 + self.groups.len();
                Ok(Bucket {
                    ts: row.try_get(0)?,
                    labels,
                    values: (first..first + self.values.len())
                        .map(|i| row.try_get(i))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(query_error)
    }
}
