//! The typed calls of the errors endpoints: issues, triage, events, releases.

use super::{call, json, query_string, query_time, ApiError, Method};
use crate::api::{
    BulkIssueResult, BulkIssueUpdate, EventDetail, IssueDetail, IssueList, IssueStatus,
    IssueUpdate, ReleaseList,
};
use crate::browser::percent_encode;

/// Filters, order and time range of the issue list.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueScope {
    /// Only issues in this state; `None` lists them all.
    pub status: Option<IssueStatus>,
    /// Words that must appear in the title or culprit.
    pub q: String,
    /// Only issues of this level (`error`, `warning`, ...); empty for all.
    pub level: String,
    /// Only events of this environment count; empty for all.
    pub environment: String,
    /// Only events of this release count; empty for all.
    pub release: String,
    /// `last_seen`, `first_seen`, `events` or `users`.
    pub sort: &'static str,
    /// Start of the range, inclusive.
    pub from: chrono::DateTime<chrono::Utc>,
    /// End of the range, exclusive.
    pub to: chrono::DateTime<chrono::Utc>,
}

/// `GET /projects/{project}/issues`: a page of issues with their counts in the
/// range; pass the previous page's `next_cursor` for the next one.
pub async fn issues(
    project: &str,
    scope: &IssueScope,
    limit: u32,
    cursor: Option<&str>,
) -> Result<IssueList, ApiError> {
    let mut pairs = vec![
        ("sort", scope.sort.to_owned()),
        ("from", query_time(scope.from)),
        ("to", query_time(scope.to)),
        ("limit", limit.to_string()),
    ];
    if let Some(status) = scope.status {
        pairs.push(("status", status.as_str().to_owned()));
    }
    for (key, value) in [
        ("q", &scope.q),
        ("level", &scope.level),
        ("environment", &scope.environment),
        ("release", &scope.release),
    ] {
        if !value.is_empty() {
            pairs.push((key, value.clone()));
        }
    }
    if let Some(cursor) = cursor {
        pairs.push(("cursor", cursor.to_owned()));
    }
    let path = format!(
        "/projects/{}/issues{}",
        percent_encode(project),
        query_string(&pairs)
    );
    call(Method::Get, &path, None).await
}

/// `PATCH /projects/{project}/issues`: the same status change for many issues.
pub async fn update_issues(
    project: &str,
    change: &BulkIssueUpdate,
) -> Result<BulkIssueResult, ApiError> {
    let path = format!("/projects/{}/issues", percent_encode(project));
    call(Method::Patch, &path, json(change)?).await
}

/// `GET /issues/{issue_id}`: one issue, with its events per hour in the range.
pub async fn issue(
    issue_id: i64,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<IssueDetail, ApiError> {
    let pairs = [("from", query_time(from)), ("to", query_time(to))];
    let path = format!("/issues/{issue_id}{}", query_string(&pairs));
    call(Method::Get, &path, None).await
}

/// `PATCH /issues/{issue_id}`: resolves, ignores or reopens an issue (editors).
pub async fn update_issue(issue_id: i64, change: &IssueUpdate) -> Result<IssueDetail, ApiError> {
    call(Method::Patch, &format!("/issues/{issue_id}"), json(change)?).await
}

/// `GET /events/{event_id}`: one error event in full, with its neighbours' ids.
pub async fn event(event_id: &str) -> Result<EventDetail, ApiError> {
    let path = format!("/events/{}", percent_encode(event_id));
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/releases`: release health in the range, newest first.
pub async fn releases(
    project: &str,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<ReleaseList, ApiError> {
    let pairs = [("from", query_time(from)), ("to", query_time(to))];
    let path = format!(
        "/projects/{}/releases{}",
        percent_encode(project),
        query_string(&pairs)
    );
    call(Method::Get, &path, None).await
}
