//! `GET /projects/{project}/issues` (the issue list, counts within the time range)
//! and `GET /issues/{issue_id}` (one issue with its hourly series, top tag values
//! and activity).

use std::collections::BTreeMap;

use app::api::{
    EventBucket, IssueActivity, IssueDetail, IssueList, IssueStatus, IssueSummary, Role,
    TagSummary, TagValue,
};
use axum::extract::State;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Deserialize;
use serde_json::Value;
use sqlx::{FromRow, Postgres, QueryBuilder};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::EVENT_ID_HEX;
use crate::{
    auth::Caller,
    http::error::{ApiError, ApiResult, Json, Path, Query},
    query::scope::ReadScope,
    query::time_range,
    AppState,
};

/// Largest page of the issue list.
const MAX_PAGE: i64 = 100;
/// Buckets of each row's sparkline.
const SPARKLINE_BUCKETS: i64 = 24;
/// Events sampled (newest first) for an issue's top tag values.
const TAG_SAMPLE: i64 = 1000;
/// Values shown per tag.
const TOP_VALUES: usize = 5;

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
    /// Words that must appear in the title or culprit.
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
    #[param(pattern = r"^[0-9]{1,18}$")]
    pub cursor: Option<String>,
}

#[derive(FromRow)]
struct SummaryRow {
    issue_id: i64,
    title: String,
    culprit: String,
    level: String,
    platform: String,
    status: String,
    events: i64,
    users: i64,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
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
    let offset: i64 = match params.cursor.as_deref() {
        Some(cursor) => cursor
            .parse()
            .ok()
            .filter(|o| *o >= 0)
            .ok_or_else(|| ApiError::BadRequest("cursor: not a cursor of this list".into()))?,
        None => 0,
    };
    let order = match params.sort.as_deref().unwrap_or("last_seen") {
        "last_seen" => "c.last_seen desc",
        "first_seen" => "c.first_seen desc",
        "events" => "n.events desc",
        "users" => "n.users desc",
        other => {
            return Err(ApiError::BadRequest(format!(
                "sort: `{other}` is not one of last_seen, first_seen, events, users"
            )))
        }
    };

    let mut sql = QueryBuilder::<Postgres>::new(
        "with candidate as (select i.* from issue i where i.project_id = ",
    );
    sql.push_bind(project.project_id)
        .push(" and i.last_seen >= ")
        .push_bind(from)
        .push(" and i.first_seen < ")
        .push_bind(to);
    if let Some(status) = params.status.as_deref().filter(|s| !s.is_empty()) {
        let status = IssueStatus::from_name(status).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status: `{status}` is not one of unresolved, resolved, ignored"
            ))
        })?;
        sql.push(" and i.status = ").push_bind(status.as_str());
    }
    if let Some(level) = params.level.as_deref().filter(|s| !s.is_empty()) {
        sql.push(" and i.level = ").push_bind(level.to_string());
    }
    for word in params
        .q
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .take(10)
    {
        let pattern = format!("%{}%", crate::query::like_escape(word));
        sql.push(" and (i.title ilike ")
            .push_bind(pattern.clone())
            .push(" or i.culprit ilike ")
            .push_bind(pattern)
            .push(")");
    }
    sql.push(
        "), counted as (select e.issue_id, count(*) as events, count(distinct e.user_key) as users
         from candidate c join error_event e on e.issue_id = c.issue_id where e.ts >= ",
    )
    .push_bind(from)
    .push(" and e.ts < ")
    .push_bind(to);
    if let Some(environment) = params.environment.as_deref().filter(|s| !s.is_empty()) {
        sql.push(" and e.environment = ")
            .push_bind(environment.to_string());
    }
    if let Some(release) = params.release.as_deref().filter(|s| !s.is_empty()) {
        sql.push(" and e.release = ").push_bind(release.to_string());
    }
    sql.push(
        " group by e.issue_id)
         select c.issue_id, c.title, c.culprit, c.level, c.platform, c.status, n.events, n.users,
                c.first_seen, c.last_seen
         from candidate c join counted n on n.issue_id = c.issue_id order by ",
    )
    .push(order)
    .push(", c.issue_id desc limit ")
    .push_bind(limit + 1)
    .push(" offset ")
    .push_bind(offset);
    let mut rows: Vec<SummaryRow> = sql.build_query_as().fetch_all(&state.queries).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        Some((offset + limit).to_string())
    } else {
        None
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.issue_id).collect();
    let mut sparklines = sparklines(&state, &ids, from, to).await?;
    let issues = rows
        .into_iter()
        .map(|r| IssueSummary {
            sparkline: sparklines
                .remove(&r.issue_id)
                .unwrap_or_else(|| vec![0; SPARKLINE_BUCKETS as usize]),
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

/// Events per issue in [`SPARKLINE_BUCKETS`] equal buckets of the range, from
/// the hourly counts.
async fn sparklines(
    state: &AppState,
    ids: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<BTreeMap<i64, Vec<i64>>> {
    let width = ((to - from).num_seconds() as f64 / SPARKLINE_BUCKETS as f64).max(1.0);
    let rows: Vec<(i64, i32, i64)> = sqlx::query_as(
        "select issue_id,
                least(floor(extract(epoch from (greatest(hour, $2) - $2)) / $4)::int, $5 - 1),
                sum(events)::bigint
         from issue_hour
         where issue_id = any($1) and hour >= date_trunc('hour', $2) and hour < $3
         group by 1, 2",
    )
    .bind(ids)
    .bind(from)
    .bind(to)
    .bind(width)
    .bind(SPARKLINE_BUCKETS as i32)
    .fetch_all(&state.queries)
    .await?;
    let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (issue, bucket, events) in rows {
        let line = out
            .entry(issue)
            .or_insert_with(|| vec![0; SPARKLINE_BUCKETS as usize]);
        if let Some(slot) = usize::try_from(bucket).ok().and_then(|b| line.get_mut(b)) {
            *slot += events;
        }
    }
    Ok(out)
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

#[derive(FromRow)]
pub(super) struct IssueRow {
    pub issue_id: i64,
    pub project_id: i64,
    pub project_slug: String,
    pub title: String,
    pub culprit: String,
    pub level: String,
    pub platform: String,
    pub status: String,
    pub event_count: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub first_release: Option<String>,
    pub last_release: Option<String>,
    pub resolved_in_release: Option<String>,
    pub ignore_until: Option<DateTime<Utc>>,
    pub ignore_until_count: Option<i64>,
}

/// One issue by id, or 404.
pub(super) async fn find(
    executor: impl sqlx::PgExecutor<'_>,
    issue_id: i64,
) -> ApiResult<IssueRow> {
    sqlx::query_as(
        "select i.issue_id, i.project_id, p.slug as project_slug, i.title, i.culprit, i.level,
                i.platform, i.status, i.event_count, i.first_seen, i.last_seen, i.first_release,
                i.last_release, i.resolved_in_release, i.ignore_until, i.ignore_until_count
         from issue i join project p on p.project_id = i.project_id
         where i.issue_id = $1",
    )
    .bind(issue_id)
    .fetch_optional(executor)
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no issue {issue_id}")))
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
    let issue = find(&state.pool, issue_id).await?;
    let user_count: i64 =
        sqlx::query_scalar("select count(distinct user_key) from error_event where issue_id = $1")
            .bind(issue_id)
            .fetch_one(&state.queries)
            .await?;
    let latest_event_id: Option<String> = sqlx::query_scalar(&format!(
        "select {EVENT_ID_HEX} from error_event where issue_id = $1
         order by ts desc, event_id desc limit 1"
    ))
    .bind(issue_id)
    .fetch_optional(&state.queries)
    .await?;
    Ok(IssueDetail {
        series: hourly(state, issue_id, from, to).await?,
        tags: top_tags(state, issue_id).await?,
        activity: activity(state, issue_id).await?,
        issue_id: issue.issue_id,
        project_id: issue.project_id,
        project_slug: issue.project_slug,
        title: issue.title,
        culprit: issue.culprit,
        level: issue.level,
        platform: issue.platform,
        status: status_of(&issue.status),
        count: issue.event_count,
        user_count,
        first_seen: issue.first_seen,
        last_seen: issue.last_seen,
        first_release: issue.first_release,
        last_release: issue.last_release,
        resolved_in_release: issue.resolved_in_release,
        ignore_until: issue.ignore_until,
        ignore_until_count: issue.ignore_until_count,
        latest_event_id,
    })
}

/// Events per hour over the range, zero-filled (at most 31 days of hours).
async fn hourly(
    state: &AppState,
    issue_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<Vec<EventBucket>> {
    let start = from.duration_trunc(Duration::hours(1)).unwrap_or(from);
    let start = start.max(to - Duration::days(31));
    let counts: BTreeMap<DateTime<Utc>, i64> = sqlx::query_as(
        "select hour, events from issue_hour where issue_id = $1 and hour >= $2 and hour < $3",
    )
    .bind(issue_id)
    .bind(start)
    .bind(to)
    .fetch_all(&state.queries)
    .await?
    .into_iter()
    .collect();
    let mut series = Vec::new();
    let mut hour = start;
    while hour < to {
        series.push(EventBucket {
            ts: hour,
            events: counts.get(&hour).copied().unwrap_or(0),
        });
        hour += Duration::hours(1);
    }
    Ok(series)
}

/// The most frequent values of each tag among the latest events.
async fn top_tags(state: &AppState, issue_id: i64) -> ApiResult<Vec<TagSummary>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "with recent as (select tags from error_event where issue_id = $1
                         order by ts desc limit $2)
         select t.key, t.value, count(*) from recent, jsonb_each_text(recent.tags) t
         group by 1, 2",
    )
    .bind(issue_id)
    .bind(TAG_SAMPLE)
    .fetch_all(&state.queries)
    .await?;
    let mut by_key: BTreeMap<String, Vec<TagValue>> = BTreeMap::new();
    for (key, value, count) in rows {
        by_key
            .entry(key)
            .or_default()
            .push(TagValue { value, count });
    }
    let mut tags: Vec<TagSummary> = by_key
        .into_iter()
        .map(|(key, mut values)| {
            values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            let total = values.iter().map(|v| v.count).sum();
            values.truncate(TOP_VALUES);
            TagSummary {
                key,
                total,
                top: values,
            }
        })
        .collect();
    tags.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.key.cmp(&b.key)));
    tags.truncate(30);
    Ok(tags)
}

async fn activity(state: &AppState, issue_id: i64) -> ApiResult<Vec<IssueActivity>> {
    let rows: Vec<(String, Value, Option<String>, DateTime<Utc>)> = sqlx::query_as(
        "select a.kind, a.detail, u.email, a.created_at
         from issue_activity a left join app_user u on u.user_id = a.user_id
         where a.issue_id = $1 order by a.created_at desc, a.issue_activity_id desc limit 100",
    )
    .bind(issue_id)
    .fetch_all(&state.queries)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, detail, user, at)| IssueActivity {
            kind,
            detail,
            user,
            at,
        })
        .collect())
}
