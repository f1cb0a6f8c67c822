//! Which project the UI opens when the URL names none: the one the user last
//! looked at (`PUT /me/project`, kept in `app_user.last_project_id`), else the
//! project with the newest data, else the first by slug; none without projects.
//!
//! "Newest data" reads the domains' per-project summaries (log counts per
//! minute, issues' last seen, segment spans by time), each an index lookup.

use app::api::{DefaultProject, ProjectChoice, Role};
use axum::{extract::State, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Caller,
    http::error::{ApiError, ApiResult, Json},
    AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(default_project, remember_project))
}

/// The project the UI opens when the URL names none.
#[utoipa::path(get, path = "/me/project", tag = "projects",
    responses((status = 200, body = DefaultProject), (status = 401), (status = 403)))]
async fn default_project(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<DefaultProject>> {
    caller.require(Role::Viewer)?;
    let user_id = caller.user.map(|u| u.user_id);
    let project: Option<String> = sqlx::query_scalar(
        "select p.slug from project p
         left join app_user u on u.user_id = $1 and u.last_project_id = p.project_id
         order by u.user_id is not null desc,
                  greatest((select max(minute) from log_count_minute l
                            where l.project_id = p.project_id),
                           (select max(last_seen) from issue i where i.project_id = p.project_id),
                           (select max(ts) from span s
                            where s.project_id = p.project_id and s.is_segment)) desc nulls last,
                  p.slug
         limit 1",
    )
    .bind(user_id)
    .fetch_optional(&state.queries)
    .await?;
    Ok(Json(DefaultProject { project }))
}

/// Remembers the project the user is looking at as the one to open next time.
#[utoipa::path(put, path = "/me/project", tag = "projects", request_body = ProjectChoice,
    responses((status = 204), (status = 401),
              (status = 403, description = "a viewer role is needed, and a user (not an API token)"),
              (status = 404)))]
async fn remember_project(
    State(state): State<AppState>,
    caller: Caller,
    Json(choice): Json<ProjectChoice>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Viewer)?;
    // Only people have a default project; a token is refused as any caller
    // without the right would be.
    let user = caller.user.ok_or_else(|| {
        ApiError::Forbidden("an API token has no default project; only users do".into())
    })?;
    let project = super::find(&state.pool, &choice.project).await?;
    sqlx::query("update app_user set last_project_id = $1 where user_id = $2")
        .bind(project.project_id)
        .bind(user.user_id)
        .execute(&state.pool)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
