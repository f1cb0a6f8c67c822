//! `GET /projects/{project}/issues` (the issue list, counts within the time range)
//! and `GET /issues/{issue_id}` (one issue with its hourly series, top tag values
//! and activity). The SQL is [`crate::errors::store::issues`].

use app::api::{IssueDetail, IssueList, IssueStatus, IssueSummary, Role};
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Caller,
    errors::search::IssueSearch,
    errors::store::issues::{self, IssueFilter, IssueOrder, SPARKLINE_BUCKETS},
    http::error::{ApiError, ApiResult, Json, Path, Query},
    query::{cursor, scope::ReadScope, time_range},
    AppState,
};

/// Largest page of the issue list.
const MAX_PAGE: i64 = 100;

/// A filter's value, when one is given (an empty one means none).
fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(detail))
}

/// Filters and order of the issue list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct IssueParams {
    /// `unresolved`, `resolved` or `ignored`; default (or empty) all.
    #[param(pattern = r"^(unresolved|resolved|ignored)?$")]
    pub status: Option<String>,
    /// Words that must appear in the title or culprit, and `key:value` terms
    /// on the events' tags (`browser:Firefox`, `-release:1.2`, `user.id:42`).
    pub q: Option<String>,
    /// `fatal`, `error`, `warning`, `info` or `debug`.
    pub level: Option<String>,
    /// Only events of this environment count.
    pub environment: Option<String>,
    /// Only events of this release count.
    pub release: Option<String>,
    /// `last_seen` (default), `first_seen`, `events` or `users`; always descending.
    #[param(pattern = r"^(last_seen|first_seen|events|users)$")]
    pub sort: Option<String>,
    /// Start of the range (RFC 3339, epoch ms or `now-24h`). Default: 24 h before `to`.
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub from: Option<String>,
    /// End of the range. Default: now.
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub to: Option<String>,
    /// Issues a page (default 25, at most 100).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^-?[0-9]{1,19}_[0-9]{1,19}$")]
    pub cursor: Option<String>,
}

fn status_of(name: &str) -> IssueStatus {
    IssueStatus::from_name(name).unwrap_or(IssueStatus::Unresolved)
}

/// Issues of a project with their events and users within the range.
#[utoipa::path(get, path = "/projects/{project}/issues", tag = "errors", operation_id = "list_issues",
    params(("project" = String, Path, description = "id or slug"), IssueParams),
    responses((status = 200, body = IssueList), (status = 400), (status = 401), (status = 404)))]
async fn list(
    State(state): State<AppState>,
    ReadScope { project, .. }: ReadScope,
    Query(params): Query<IssueParams>,
) -> ApiResult<Json<IssueList>> {
    let (from, to) = time_range::resolve_or_last_day(params.from.as_deref(), params.to.as_deref())?;
    let limit = params.limit.unwrap_or(25).clamp(1, MAX_PAGE);
    let sort = params.sort.as_deref().unwrap_or("last_seen");
    let order = IssueOrder::from_name(sort).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "sort: `{sort}` is not one of last_seen, first_seen, events, users"
        ))
    })?;
    let status = non_empty(&params.status)
        .map(|status| {
            IssueStatus::from_name(status).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "status: `{status}` is not one of unresolved, resolved, ignored"
                ))
            })
        })
        .transpose()?;
    let search =
        IssueSearch::parse(params.q.as_deref().unwrap_or("")).map_err(ApiError::BadRequest)?;
    let filter = IssueFilter {
        project_id: project.project_id,
        from,
        to,
        status,
        level: non_empty(&params.level),
        search: &search,
        environment: non_empty(&params.environment),
        release: non_empty(&params.release),
    };
    let mut rows = issues::page(
        &state.queries,
        &filter,
        order,
        params.cursor.as_deref(),
        limit + 1,
    )
    .await?;
    let next_cursor = cursor::page(&mut rows, limit, |r| order.cursor_after(r));
    let ids: Vec<i64> = rows.iter().map(|r| r.issue_id).collect();
    let mut sparklines = issues::sparklines(&state.queries, &ids, from, to).await?;
    let issues = rows
        .into_iter()
        .map(|r| IssueSummary {
            sparkline: sparklines
                .remove(&r.issue_id)
                .unwrap_or_else(|| vec![0; SPARKLINE_BUCKETS]),
            issue_id: r.issue_id,
            title: r.title,
            culprit: r.culprit,
            level: r.level,
            platform: r.platform,
            status: status_of(&r.status),
            count: r.events,
            user_count: r.users,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
        })
        .collect();
    Ok(Json(IssueList {
        issues,
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DetailParams {
    /// Start of the event series (default 24 h before `to`).
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub from: Option<String>,
    /// End of the event series (default now).
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub to: Option<String>,
}

/// One issue: counts, hourly series, top tag values, activity.
#[utoipa::path(get, path = "/issues/{issue_id}", tag = "errors", operation_id = "issue_detail",
    params(("issue_id" = i64, Path), DetailParams),
    responses((status = 200, body = IssueDetail), (status = 401), (status = 404)))]
async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(issue_id): Path<i64>,
    Query(params): Query<DetailParams>,
) -> ApiResult<Json<IssueDetail>> {
    caller.require(Role::Viewer)?;
    let (from, to) = time_range::resolve_or_last_day(params.from.as_deref(), params.to.as_deref())?;
    Ok(Json(load(&state, issue_id, from, to).await?))
}

/// Everything the issue page shows about one issue.
pub(super) async fn load(
    state: &AppState,
    issue_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<IssueDetail> {
    let issue = issues::find(&state.pool, issue_id)
        .await?
        .ok_or_else(|| issues::not_found(issue_id))?;
    let reads = &state.queries;
    Ok(IssueDetail {
        series: issues::hourly(reads, issue_id, from, to).await?,
        tags: issues::top_tags(reads, issue_id).await?,
        activity: issues::activity(reads, issue_id).await?,
        user_count: issues::user_count(reads, issue_id).await?,
        latest_event_id: issues::latest_event_id(reads, issue_id).await?,
        issue_id: issue.issue_id,
        project_id: issue.project_id,
        project_slug: issue.project_slug,
        title: issue.title,
        culprit: issue.culprit,
        level: issue.level,
        platform: issue.platform,
        status: status_of(&issue.status),
        count: issue.event_count,
        first_seen: issue.first_seen,
        last_seen: issue.last_seen,
        first_release: issue.first_release,
        last_release: issue.last_release,
        resolved_in_release: issue.resolved_in_release,
        ignore_until: issue.ignore_until,
        ignore_until_count: issue.ignore_until_count,
    })
}
