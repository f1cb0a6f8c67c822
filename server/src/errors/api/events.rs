//! `GET /issues/{issue_id}/events` (an issue's events, newest first, keyset
//! pages) and `GET /events/{event_id}` (one event in full, with the ids of its
//! oldest, previous, next and latest siblings for navigation).

use app::api::{EventDetail, EventList, EventSummary, Role};
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sqlx::FromRow;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{issues::find, parse_event_id, EVENT_ID_HEX};
use crate::{
    auth::Caller,
    http::error::{ApiError, ApiResult, Json, Path, Query},
    query::cursor,
    AppState,
};

/// Largest page of events.
const MAX_PAGE: i64 = 100;

/// The message shown for an event in lists: the innermost exception's value, or
/// the formatted message.
const MESSAGE_SQL: &str = "coalesce(payload->'exception'->'values'->-1->>'value',
    payload->'logentry'->>'formatted', payload->'logentry'->>'message', payload->>'message', '')";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(detail))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventParams {
    /// Events a page (default 50, at most 100).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,16}_[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
}

#[derive(FromRow)]
struct SummaryRow {
    event_id: String,
    ts: DateTime<Utc>,
    level: String,
    release: Option<String>,
    environment: Option<String>,
    transaction: Option<String>,
    trace_id: Option<String>,
    user_key: Option<String>,
    message: String,
}

/// The statement of one page of an issue's events: `$1` the issue, `$2` and
/// `$3` the `ts` and `event_id` of the cursor (or nulls), `$4` the rows. It
/// walks the issue's time index backwards (`tests/integration/indexes.rs`
/// checks its plan). The order names the table's columns: a bare `event_id`
/// would be the hex text of the select list, which no index holds.
pub fn page_sql() -> String {
    format!(
        "select {EVENT_ID_HEX} as event_id, ts, level, release, environment, transaction,
                trace_id, user_key, {MESSAGE_SQL} as message
         from error_event
         where issue_id = $1 and ($2::timestamptz is null or (ts, event_id) < ($2, $3))
         order by error_event.ts desc, error_event.event_id desc limit $4"
    )
}

/// An issue's events, newest first.
#[utoipa::path(get, path = "/issues/{issue_id}/events", tag = "errors", operation_id = "list_issue_events",
    params(("issue_id" = i64, Path), EventParams),
    responses((status = 200, body = EventList), (status = 400), (status = 401), (status = 404)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(issue_id): Path<i64>,
    Query(params): Query<EventParams>,
) -> ApiResult<Json<EventList>> {
    caller.require(Role::Viewer)?;
    find(&state.pool, issue_id).await?;
    let limit = params.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let after = params
        .cursor
        .as_deref()
        .map(cursor::decode::<uuid::Uuid>)
        .transpose()?;
    let (before_ts, before_id) = match after {
        Some((ts, id)) => (Some(ts), Some(id)),
        None => (None, None),
    };
    let mut rows: Vec<SummaryRow> = sqlx::query_as(&page_sql())
        .bind(issue_id)
        .bind(before_ts)
        .bind(before_id)
        .bind(limit + 1)
        .fetch_all(&state.queries)
        .await?;
    let next_cursor = cursor::page(&mut rows, limit, |r| cursor::encode(r.ts, &r.event_id));
    let events = rows
        .into_iter()
        .map(|r| EventSummary {
            event_id: r.event_id,
            ts: r.ts,
            level: r.level,
            release: r.release,
            environment: r.environment,
            transaction: r.transaction,
            trace_id: r.trace_id,
            user: r.user_key,
            message: r.message,
        })
        .collect();
    Ok(Json(EventList {
        events,
        next_cursor,
    }))
}

#[derive(FromRow)]
struct EventRow {
    event_id: uuid::Uuid,
    issue_id: i64,
    project_id: i64,
    ts: DateTime<Utc>,
    level: String,
    release: Option<String>,
    environment: Option<String>,
    transaction: Option<String>,
    trace_id: Option<String>,
    user_key: Option<String>,
    tags: Value,
    payload: Value,
}

/// One event in full.
#[utoipa::path(get, path = "/events/{event_id}", tag = "errors", operation_id = "event_detail",
    params(("event_id" = String, Path, description = "32 hex digits (dashes allowed)")),
    responses((status = 200, body = EventDetail), (status = 401), (status = 404)))]
async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(event_id): Path<String>,
) -> ApiResult<Json<EventDetail>> {
    caller.require(Role::Viewer)?;
    let not_found = || ApiError::NotFound(format!("no event {event_id}"));
    let id = parse_event_id(&event_id).ok_or_else(not_found)?;
    let row: EventRow = sqlx::query_as(
        "select event_id, issue_id, project_id, ts, level, release, environment, transaction,
                trace_id, user_key, tags, payload
         from error_event where event_id = $1 limit 1",
    )
    .bind(id)
    .fetch_optional(&state.queries)
    .await?
    .ok_or_else(not_found)?;
    let sibling = |condition: &str, order: &str| {
        format!(
            "(select {EVENT_ID_HEX} from error_event where issue_id = $1 {condition}
              order by ts {order}, event_id {order} limit 1)"
        )
    };
    let (oldest, previous, next, latest): (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = sqlx::query_as(&format!(
        "select {}, {}, {}, {}",
        sibling("", "asc"),
        sibling("and (ts, event_id) < ($2, $3)", "desc"),
        sibling("and (ts, event_id) > ($2, $3)", "asc"),
        sibling("", "desc"),
    ))
    .bind(row.issue_id)
    .bind(row.ts)
    .bind(row.event_id)
    .fetch_one(&state.queries)
    .await?;
    Ok(Json(EventDetail {
        event_id: row.event_id.simple().to_string(),
        issue_id: row.issue_id,
        project_id: row.project_id,
        ts: row.ts,
        level: row.level,
        release: row.release,
        environment: row.environment,
        transaction: row.transaction,
        trace_id: row.trace_id,
        user: row.user_key,
        tags: row.tags,
        payload: row.payload,
        oldest_event_id: oldest,
        previous_event_id: previous,
        next_event_id: next,
        latest_event_id: latest,
    }))
}
