//! `GET /projects/{project}/releases`: release health — sessions and users per
//! release within a time range, how many of them crashed, and the issues each
//! release introduced.

use app::api::{ReleaseHealth, ReleaseList};
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::FromRow;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    http::error::{ApiResult, Json, Query},
    query::scope::ReadScope,
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

#[derive(FromRow)]
struct Row {
    version: String,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    sessions: i64,
    crashed_sessions: i64,
    errored_sessions: i64,
    users: i64,
    crashed_users: i64,
    new_issues: i64,
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
    let (from, to) = crate::query::time_range::resolve_or_last_day(
        params.from.as_deref(),
        params.to.as_deref(),
    )?;
    let environment = params.environment.filter(|e| !e.is_empty());
    let rows: Vec<Row> = sqlx::query_as(
        "select r.version, r.first_seen, r.last_seen,
                coalesce(s.started, 0)::bigint as sessions,
                coalesce(s.crashed, 0)::bigint as crashed_sessions,
                coalesce(s.errored, 0)::bigint as errored_sessions,
                coalesce(u.users, 0)::bigint as users,
                coalesce(u.crashed_users, 0)::bigint as crashed_users,
                (select count(*) from issue i
                 where i.project_id = r.project_id and i.first_release = r.version) as new_issues
         from release r
         left join lateral (
             select sum(h.started) as started, sum(h.crashed) as crashed,
                    sum(h.errored + h.abnormal) as errored
             from release_session_hour h
             where h.project_id = r.project_id and h.release = r.version
               and h.hour >= date_trunc('hour', $2) and h.hour < $3
               and ($4::text is null or h.environment = $4)) s on true
         left join lateral (
             select count(*) as users, count(*) filter (where ru.crashed) as crashed_users
             from release_user ru
             where ru.project_id = r.project_id and ru.release = r.version
               and ru.last_seen >= $2 and ru.first_seen < $3
               and ($4::text is null or ru.environment = $4)) u on true
         where r.project_id = $1 and r.last_seen >= $2 and r.first_seen < $3
         order by r.first_seen desc, r.version desc
         limit 100",
    )
    .bind(project.project_id)
    .bind(from)
    .bind(to)
    .bind(environment)
    .fetch_all(&state.queries)
    .await?;
    let share = |bad: i64, all: i64| (all > 0).then(|| 1.0 - bad as f64 / all as f64);
    let releases = rows
        .into_iter()
        .map(|r| ReleaseHealth {
            crash_free_sessions: share(r.crashed_sessions, r.sessions),
            crash_free_users: share(r.crashed_users, r.users),
            version: r.version,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            sessions: r.sessions,
            crashed_sessions: r.crashed_sessions,
            errored_sessions: r.errored_sessions,
            users: r.users,
            crashed_users: r.crashed_users,
            new_issues: r.new_issues,
        })
        .collect();
    Ok(Json(ReleaseList { releases }))
}
