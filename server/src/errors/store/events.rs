//! Reading stored events: a page of an issue's events (newest first, keyset
//! cursors), one event in full with its neighbours in the issue, and the
//! events of a trace.

use app::api::{EventDetail, EventSummary, TraceError};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgExecutor};

use super::EVENT_ID_HEX;
use crate::pipeline::ids::hex_id;

/// The message shown for an event in lists: the innermost exception's value, or
/// the formatted message.
const MESSAGE_SQL: &str = "coalesce(payload->'exception'->'values'->-1->>'value',
    payload->'logentry'->>'formatted', payload->'logentry'->>'message', payload->>'message', '')";

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

/// At most `rows` events of an issue, newest first, older than `before`
/// (`ts`, `event_id`) when given.
pub async fn page(
    executor: impl PgExecutor<'_>,
    issue_id: i64,
    before: Option<(DateTime<Utc>, uuid::Uuid)>,
    rows: i64,
) -> Result<Vec<EventSummary>, sqlx::Error> {
    let found: Vec<SummaryRow> = sqlx::query_as(&page_sql())
        .bind(issue_id)
        .bind(before.map(|b| b.0))
        .bind(before.map(|b| b.1))
        .bind(rows)
        .fetch_all(executor)
        .await?;
    Ok(found
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
        .collect())
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

/// One event in full with the ids of the oldest, previous, next and latest
/// events of its issue; `None` when there is no such event.
pub async fn detail<'c, E>(
    executor: E,
    event_id: uuid::Uuid,
) -> Result<Option<EventDetail>, sqlx::Error>
where
    E: PgExecutor<'c> + Copy,
{
    let row: Option<EventRow> = sqlx::query_as(
        "select event_id, issue_id, project_id, ts, level, release, environment, transaction,
                trace_id, user_key, tags, payload
         from error_event where event_id = $1 limit 1",
    )
    .bind(event_id)
    .fetch_optional(executor)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
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
    .fetch_one(executor)
    .await?;
    Ok(Some(EventDetail {
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

/// Event id, issue id, time, level, issue title, span id.
type TraceErrorRow = (String, i64, DateTime<Utc>, String, String, Option<String>);

/// The first `rows` error events of a trace in a project, by time, with their
/// issue's title and the span they happened in.
pub async fn of_trace(
    executor: impl PgExecutor<'_>,
    project_id: i64,
    trace_id: &str,
    rows: i64,
) -> Result<Vec<TraceError>, sqlx::Error> {
    let found: Vec<TraceErrorRow> = sqlx::query_as(
        "select replace(e.event_id::text, '-', ''), e.issue_id, e.ts, e.level, i.title,
                e.payload->'contexts'->'trace'->>'span_id'
         from error_event e join issue i on i.issue_id = e.issue_id
         where e.trace_id = $1 and e.project_id = $2
         order by e.ts, e.event_id limit $3",
    )
    .bind(trace_id)
    .bind(project_id)
    .bind(rows)
    .fetch_all(executor)
    .await?;
    Ok(found
        .into_iter()
        .map(
            |(event_id, issue_id, ts, level, title, span_id)| TraceError {
                event_id,
                issue_id,
                ts,
                level,
                title,
                span_id: span_id.and_then(|id| hex_id(&id, 16)),
            },
        )
        .collect())
}
