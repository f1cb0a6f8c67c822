//! Deduplication of retried records: an SDK that got no answer sends the same
//! event again, with the same id. A batch writer records the ids of its batch
//! here, in the batch's own transaction, and stores only the records whose ids
//! were not seen before; a failed batch records nothing.
//!
//! The ids live in `error_event_seen` (errors were its first user; Sentry
//! transactions share it, as their ids come from the same SDKs). Rows are
//! forgotten with the error events' retention (`errors::partitions`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// A record id of a project, as `(project_id, 32 hex characters)`.
pub type SeenKey = (i64, String);

/// Records ids as seen; returns those not seen before. `records` are
/// `(project_id, id, ts)` without duplicates, ids 32 hex characters.
pub async fn first_sightings(
    conn: &mut PgConnection,
    records: &[(i64, &str, DateTime<Utc>)],
) -> Result<HashSet<SeenKey>, sqlx::Error> {
    let mut sorted = records.to_vec();
    // Rows locked in key order: two writers cannot deadlock on them.
    sorted.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let projects: Vec<i64> = sorted.iter().map(|r| r.0).collect();
    let ids: Vec<&str> = sorted.iter().map(|r| r.1).collect();
    let times: Vec<DateTime<Utc>> = sorted.iter().map(|r| r.2).collect();
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "insert into error_event_seen (project_id, event_id, ts)
         select p, e::uuid, t from unnest($1::bigint[], $2::text[], $3::timestamptz[]) as u(p, e, t)
         order by p, e
         on conflict (project_id, event_id) do nothing
         returning project_id, replace(event_id::text, '-', '')",
    )
    .bind(projects)
    .bind(ids)
    .bind(times)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().collect())
}
