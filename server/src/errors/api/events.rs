//! `GET /issues/{issue_id}/events` (an issue's events, newest first, keyset
//! pages) and `GET /events/{event_id}` (one event in full, with the ids of its
//! oldest, previous, next and latest siblings for navigation). The SQL is
//! [`crate::errors::store::events`].

use app::api::{EventDetail, EventList, Role};
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::parse_event_id;
use crate::{
    auth::Caller,
    errors::store::{events, issues},
    http::error::{ApiError, ApiResult, Json, Path, Query},
    query::cursor,
    AppState,
};

/// Largest page of events.
const MAX_PAGE: i64 = 100;

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
    issues::find(&state.pool, issue_id)
        .await?
        .ok_or_else(|| issues::not_found(issue_id))?;
    let limit = params.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let before = params
        .cursor
        .as_deref()
        .map(cursor::decode::<uuid::Uuid>)
        .transpose()?;
    let mut events = events::page(&state.queries, issue_id, before, limit + 1).await?;
    let next_cursor = cursor::page(&mut events, limit, |e| cursor::encode(e.ts, &e.event_id));
    Ok(Json(EventList {
        events,
        next_cursor,
    }))
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
    let event = events::detail(&state.queries, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(event))
}
