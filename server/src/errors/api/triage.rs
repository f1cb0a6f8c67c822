//! Changing an issue's status: `PATCH /issues/{issue_id}` and the bulk form
//! `PATCH /projects/{project}/issues`. Each change is recorded in the issue's
//! activity with the person who made it. Arriving events undo some of these
//! (regressions, ignore limits reached) in the writer's workflow.

use app::api::{BulkIssueResult, BulkIssueUpdate, IssueDetail, IssueStatus, IssueUpdate, Role};
use axum::extract::State;
use sqlx::{Postgres, Transaction};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::issues::load;
use crate::{
    auth::Caller,
    errors::store::issues::{self, Issue, StatusChange},
    http::error::{ApiError, ApiResult, Json, Path},
    projects, AppState,
};

/// Most issues one bulk change may name.
const MAX_BULK: usize = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update))
        .routes(routes!(bulk_update))
}

/// Resolves, ignores or reopens one issue.
#[utoipa::path(patch, path = "/issues/{issue_id}", tag = "errors",
    params(("issue_id" = i64, Path)), request_body = IssueUpdate,
    responses((status = 200, body = IssueDetail, description = "the issue as it is now"),
              (status = 400), (status = 401), (status = 403), (status = 404)))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(issue_id): Path<i64>,
    Json(change): Json<IssueUpdate>,
) -> ApiResult<Json<IssueDetail>> {
    caller.require(Role::Editor)?;
    validate(&change)?;
    let mut tx = state.pool.begin().await?;
    apply(&mut tx, issue_id, &change, user_of(&caller)).await?;
    tx.commit().await?;
    let (from, to) = crate::query::time_range::resolve_or_last_day(None, None)?;
    Ok(Json(load(&state, issue_id, from, to).await?))
}

/// Applies one change to many issues of a project (bulk resolve / ignore).
#[utoipa::path(patch, path = "/projects/{project}/issues", tag = "errors",
    params(("project" = String, Path, description = "id or slug")), request_body = BulkIssueUpdate,
    responses((status = 200, body = BulkIssueResult), (status = 400), (status = 401), (status = 403), (status = 404)))]
async fn bulk_update(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(bulk): Json<BulkIssueUpdate>,
) -> ApiResult<Json<BulkIssueResult>> {
    caller.require(Role::Editor)?;
    validate(&bulk.update)?;
    if bulk.issue_ids.len() > MAX_BULK {
        return Err(ApiError::BadRequest(format!(
            "issue_ids: at most {MAX_BULK} issues at once"
        )));
    }
    let project = projects::find(&state.pool, &project).await?;
    let mut ids = bulk.issue_ids.clone();
    // Lock in one order so two bulk changes never deadlock.
    ids.sort_unstable();
    ids.dedup();
    let mut tx = state.pool.begin().await?;
    let mut updated = 0;
    for id in ids {
        let issue = apply(&mut tx, id, &bulk.update, user_of(&caller)).await?;
        if issue.project_id != project.project_id {
            return Err(ApiError::BadRequest(format!(
                "issue {id} is not an issue of project {}",
                project.slug
            )));
        }
        updated += 1;
    }
    tx.commit().await?;
    Ok(Json(BulkIssueResult { updated }))
}

fn user_of(caller: &Caller) -> Option<i64> {
    caller.user.as_ref().map(|u| u.user_id)
}

fn validate(change: &IssueUpdate) -> ApiResult<()> {
    let Some(status) = change.status else {
        return Err(ApiError::BadRequest(
            "status: required (unresolved, resolved or ignored)".into(),
        ));
    };
    if change.resolved_in_release.is_some() && status != IssueStatus::Resolved {
        return Err(ApiError::BadRequest(
            "resolved_in_release: only with status resolved".into(),
        ));
    }
    if (change.ignore_until.is_some() || change.ignore_count.is_some())
        && status != IssueStatus::Ignored
    {
        return Err(ApiError::BadRequest(
            "ignore_until and ignore_count: only with status ignored".into(),
        ));
    }
    if change.ignore_count.is_some_and(|n| n < 1) {
        return Err(ApiError::BadRequest("ignore_count: at least 1".into()));
    }
    if change
        .resolved_in_release
        .as_deref()
        .is_some_and(|r| r.trim().is_empty() || r.chars().count() > 200)
    {
        return Err(ApiError::BadRequest(
            "resolved_in_release: `next` or a release version of at most 200 characters".into(),
        ));
    }
    Ok(())
}

/// The stored form of `change` to `issue` (its release and event count fill
/// in "the next release" and "N more events").
fn status_change(issue: &Issue, change: &IssueUpdate) -> StatusChange {
    match change.status {
        Some(IssueStatus::Resolved) => StatusChange::Resolved {
            release: match change.resolved_in_release.as_deref() {
                Some("next") => issue.last_release.clone(),
                Some(version) => Some(version.to_string()),
                None => None,
            },
        },
        Some(IssueStatus::Ignored) => StatusChange::Ignored {
            until: change.ignore_until,
            until_count: change
                .ignore_count
                .map(|n| issue.event_count.saturating_add(n)),
            more_events: change.ignore_count,
        },
        Some(IssueStatus::Unresolved) | None => StatusChange::Unresolved,
    }
}

/// Locks one issue and applies `change` to it, within `tx`.
async fn apply(
    tx: &mut Transaction<'_, Postgres>,
    issue_id: i64,
    change: &IssueUpdate,
    user_id: Option<i64>,
) -> ApiResult<Issue> {
    let issue = issues::find_for_update(tx, issue_id)
        .await?
        .ok_or_else(|| issues::not_found(issue_id))?;
    issues::set_status(tx, issue_id, &status_change(&issue, change), user_id).await?;
    Ok(issue)
}
