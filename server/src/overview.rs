//! `GET /api/v1/overview`: the figures the Overview page shows today.

use app::api::{Overview, Role, Series};
use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Caller,
    http::error::{ApiResult, Json},
    AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(overview))
}

/// Counts of projects, users, active keys and tokens, and this instance's requests
/// per minute over the last hour.
#[utoipa::path(get, path = "/overview", tag = "overview",
    responses((status = 200, body = Overview), (status = 401)))]
async fn overview(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Overview>> {
    caller.require(Role::Viewer)?;
    let (projects, users, active_keys, active_tokens): (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from project),
                (select count(*) from app_user),
                (select count(*) from project_key where revoked_at is null),
                (select count(*) from api_token where revoked_at is null)",
    )
    .fetch_one(&state.pool)
    .await?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    Ok(Json(Overview {
        projects,
        users,
        active_keys,
        active_tokens,
        requests_per_minute: Series {
            name: "HTTP requests".into(),
            unit: "req/min".into(),
            points: state.request_rate.points(now_ms),
        },
    }))
}
