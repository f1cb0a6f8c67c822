//! Metrics as a query [`Source`]: the query is PromQL, evaluated over the
//! range at the step as Prometheus's `query_range` evaluates it, one frame per
//! series (named by its metric, labelled by the rest).

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;
use sqlx::PgPool;

use super::{api, store, units};
use crate::{
    http::error::ApiError,
    query::source::{Frame, SeriesQuery, Source},
};

/// PromQL, for `POST /api/v1/query`.
pub struct MetricSource;

impl Source for MetricSource {
    fn name(&self) -> &'static str {
        "metrics"
    }

    fn series<'a>(
        &'a self,
        pool: &'a PgPool,
        query: &'a SeriesQuery,
    ) -> BoxFuture<'a, Result<Vec<Frame>, ApiError>> {
        Box::pin(series(pool, query))
    }
}

async fn series(pool: &PgPool, query: &SeriesQuery) -> Result<Vec<Frame>, ApiError> {
    let expr = api::parse(Some(&query.query))?;
    let step = query.step.num_milliseconds().max(1);
    let start = query.from.timestamp_millis();
    // The range is half-open: its last step starts before `to`.
    let end = (query.to.timestamp_millis() - 1).max(start);
    let unit = unit(pool, query.project_id, &expr).await?;
    let series = api::range(pool, query.project_id, expr, start, end, step).await?;
    Ok(series
        .into_iter()
        .map(|s| {
            let mut labels: BTreeMap<String, String> = s.labels.into_vec().into_iter().collect();
            let name = labels
                .remove("__name__")
                .unwrap_or_else(|| query.query.clone());
            Frame {
                name,
                labels,
                unit: unit.clone(),
                points: s.points,
            }
        })
        .collect())
}

/// The unit of the query's values ([`units`]), from the metadata of the
/// metrics it reads.
async fn unit(
    pool: &PgPool,
    project_id: i64,
    expr: &promql_parser::parser::Expr,
) -> Result<Option<String>, ApiError> {
    let mut names = units::metric_names(expr);
    // Metadata is kept per family: `x` for `x_total`, `x_sum`.
    let families: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_suffix("_total").or_else(|| n.strip_suffix("_sum")))
        .map(str::to_owned)
        .collect();
    names.extend(families);
    let metadata = store::units(pool, project_id, &names)
        .await
        .map_err(api::PromError::from)?;
    Ok(units::unit_of(expr, &metadata))
}
