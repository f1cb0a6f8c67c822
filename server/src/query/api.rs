//! `POST /api/v1/query`: any source's series over a range at a step.

use app::api::{QueryRequest, QueryResult};
use axum::extract::State;
use chrono::Utc;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{scope::ReadScope, source};
use crate::{
    auth::Caller,
    http::error::{ApiResult, Json},
    AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(query))
}

/// Series of one source (`logs`, `errors`, `performance`) for a query over a
/// range at a step: one frame per series, with its labels and unit.
#[utoipa::path(post, path = "/query", tag = "query", request_body = QueryRequest,
    responses((status = 200, body = QueryResult),
              (status = 400, description = "unknown source, or a query, time or step the source cannot read"),
              (status = 401), (status = 403), (status = 404, description = "no such project")))]
async fn query(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<QueryRequest>,
) -> ApiResult<Json<QueryResult>> {
    let scope = ReadScope::of(&state, caller, &request.project).await?;
    let source = state.sources.get(&request.source)?;
    let series = source::resolve(
        scope.project_id(),
        &request.query,
        request.from.as_deref(),
        request.to.as_deref(),
        request.step.as_deref(),
        Utc::now(),
    )?;
    let frames = source.series(&state.queries, &series).await?;
    let points: usize = frames.iter().map(|f| f.points.len()).sum();
    metrics::histogram!("query_points", "source" => source.name()).record(points as f64);
    Ok(Json(QueryResult {
        frames,
        step_ms: series.step.num_milliseconds(),
    }))
}
