//! `GET /projects/{project}/releases`: release health — sessions and users per
//! release within a time range, how many of them crashed, and the issues each
//! release introduced ([`crate::errors::store::releases`]).

use app::api::ReleaseList;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    errors::store::releases,
    http::error::{ApiResult, Json, Query},
    query::{scope::ReadScope, time_range},
    AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ReleaseParams {
    /// Only sessions of this environment.
    pub environment: Option<String>,
    /// Start of the range (default 24 h before `to`).
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub from: Option<String>,
    /// End of the range (default now).
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub to: Option<String>,
}

/// Releases seen in the range, newest first, with their health.
#[utoipa::path(get, path = "/projects/{project}/releases", tag = "errors", operation_id = "list_releases",
    params(("project" = String, Path, description = "id or slug"), ReleaseParams),
    responses((status = 200, body = ReleaseList), (status = 400), (status = 401), (status = 404)))]
async fn list(
    State(state): State<AppState>,
    ReadScope { project, .. }: ReadScope,
    Query(params): Query<ReleaseParams>,
) -> ApiResult<Json<ReleaseList>> {
    let (from, to) = time_range::resolve_or_last_day(params.from.as_deref(), params.to.as_deref())?;
    let environment = params.environment.as_deref().filter(|e| !e.is_empty());
    let releases =
        releases::health(&state.queries, project.project_id, from, to, environment).await?;
    Ok(Json(ReleaseList { releases }))
}
