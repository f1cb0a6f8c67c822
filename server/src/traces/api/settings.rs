//! `GET`/`PUT /projects/{project}/performance/settings`: the project's Apdex
//! threshold (T: satisfied up to T, tolerating up to 4T).

use app::api::{PerformanceSettings, Role};
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Caller,
    http::error::{ApiError, ApiResult, Json, Path},
    projects,
    query::scope::ReadScope,
    traces::store,
    AppState,
};

/// Largest Apdex threshold (the column's check allows 1 ms to 10 minutes).
const MAX_THRESHOLD_MS: i32 = 600_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
}

/// The project's performance settings.
#[utoipa::path(get, path = "/projects/{project}/performance/settings", tag = "performance",
    params(("project" = String, Path, description = "id or slug")),
    responses((status = 200, body = PerformanceSettings), (status = 401), (status = 404)))]
async fn get_settings(
    State(state): State<AppState>,
    ReadScope { project, .. }: ReadScope,
) -> ApiResult<Json<PerformanceSettings>> {
    Ok(Json(PerformanceSettings {
        apdex_threshold_ms: store::apdex_threshold(&state.pool, project.project_id).await?,
    }))
}

/// Changes the project's Apdex threshold (admin).
#[utoipa::path(put, path = "/projects/{project}/performance/settings", tag = "performance",
    params(("project" = String, Path, description = "id or slug")),
    request_body = PerformanceSettings,
    responses((status = 200, body = PerformanceSettings), (status = 400), (status = 401), (status = 403), (status = 404)))]
async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(settings): Json<PerformanceSettings>,
) -> ApiResult<Json<PerformanceSettings>> {
    caller.require(Role::Admin)?;
    let project = projects::find(&state.pool, &project).await?;
    if !(1..=MAX_THRESHOLD_MS).contains(&settings.apdex_threshold_ms) {
        return Err(ApiError::BadRequest(format!(
            "apdex_threshold_ms: use 1 to {MAX_THRESHOLD_MS}"
        )));
    }
    store::set_apdex_threshold(&state.pool, project.project_id, settings.apdex_threshold_ms)
        .await?;
    Ok(Json(settings))
}
