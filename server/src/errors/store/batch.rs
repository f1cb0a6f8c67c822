//! The SQL of storing error events: which event ids are new, releases, issues
//! (created, locked, updated), their activity, the events themselves and the
//! hourly counts. Each function writes many rows with one statement (arrays
//! through `unnest`) and takes its rows in key order, so that two writers (on
//! two instances) lock shared rows in the same order and cannot deadlock.
//!
//! [`crate::errors::writer`] calls them in one transaction per batch.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{types::Json, PgConnection};

use crate::errors::{
    event::ErrorEvent,
    workflow::{IssueState, IssueStatus},
};

/// An event id of a project, as `(project_id, 32 hex characters)`.
pub type EventKey = crate::pipeline::dedup::SeenKey;

/// The issues already-stored events belong to, by event key.
pub async fn issues_of_events(
    conn: &mut PgConnection,
    events: &[(i64, &str)],
) -> Result<HashMap<EventKey, i64>, sqlx::Error> {
    let projects: Vec<i64> = events.iter().map(|e| e.0).collect();
    let ids: Vec<&str> = events.iter().map(|e| e.1).collect();
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "select e.project_id, replace(e.event_id::text, '-', ''), e.issue_id
         from error_event e
         join unnest($1::bigint[], $2::text[]) as u(p, id)
           on e.project_id = u.p and e.event_id = u.id::uuid",
    )
    .bind(projects)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(project, id, issue)| ((project, id), issue))
        .collect())
}

/// When a release of a project was first and last seen, by this batch.
pub type ReleaseSightings<'a> = BTreeMap<(i64, &'a str), (DateTime<Utc>, DateTime<Utc>)>;

/// Adds releases, or widens their first/last seen; returns every release's
/// first seen (as stored now).
pub async fn upsert_releases(
    conn: &mut PgConnection,
    releases: &ReleaseSightings<'_>,
) -> Result<HashMap<(i64, String), DateTime<Utc>>, sqlx::Error> {
    if releases.is_empty() {
        return Ok(HashMap::new());
    }
    let mut projects = Vec::with_capacity(releases.len());
    let mut versions = Vec::with_capacity(releases.len());
    let mut firsts = Vec::with_capacity(releases.len());
    let mut lasts = Vec::with_capacity(releases.len());
    for (&(project, version), &(first, last)) in releases {
        projects.push(project);
        versions.push(version);
        firsts.push(first);
        lasts.push(last);
    }
    // Every batch of a busy service names the same few releases: locking their
    // rows on each batch (as an upsert does) would make concurrent writers wait
    // for each other's commits. So new releases are inserted without touching
    // existing rows, and existing ones are only updated when a sighting moves
    // first_seen earlier or last_seen by more than a minute.
    sqlx::query(
        "insert into release (project_id, version, first_seen, last_seen)
         select p, v, f, l
         from unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[]) as u(p, v, f, l)
         order by p, v
         on conflict (project_id, version) do nothing",
    )
    .bind(&projects)
    .bind(&versions)
    .bind(&firsts)
    .bind(&lasts)
    .execute(&mut *conn)
    .await?;
    let rows: Vec<(i64, String, DateTime<Utc>)> = sqlx::query_as(
        "with stale as (
             select r.project_id, r.version
             from release r
             join unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[]) as u(p, v, f, l)
               on r.project_id = u.p and r.version = u.v
             where r.first_seen > u.f or r.last_seen < u.l - interval '1 minute'
             order by r.project_id, r.version
             for update of r
         ), updated as (
             update release r
             set first_seen = least(r.first_seen, u.f), last_seen = greatest(r.last_seen, u.l)
             from unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[]) as u(p, v, f, l),
                  stale
             where r.project_id = u.p and r.version = u.v
               and stale.project_id = r.project_id and stale.version = r.version
             returning r.project_id, r.version, r.first_seen
         )
         select project_id, version, first_seen from updated
         union all
         select r.project_id, r.version, r.first_seen
         from release r
         join unnest($1::bigint[], $2::text[]) as u(p, v) on r.project_id = u.p and r.version = u.v
         where not exists (select 1 from updated
                           where updated.project_id = r.project_id and updated.version = r.version)",
    )
    .bind(projects)
    .bind(versions)
    .bind(firsts)
    .bind(lasts)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(project, version, first)| ((project, version), first))
        .collect())
}

/// The events of one issue in a batch: what a new issue starts with, or what
/// an existing one is updated by. Title, culprit and level are the newest
/// event's.
#[derive(Debug, Clone)]
pub struct IssueGroup<'a> {
    pub project_id: i64,
    pub grouping_hash: &'a str,
    pub newest: &'a ErrorEvent,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub events: i64,
    /// The release of the oldest and of the newest event that has one.
    pub first_release: Option<&'a str>,
    pub last_release: Option<&'a str>,
}

/// The ids of the issues that exist among `keys`, read without locking them
/// (an issue keeps its id; [`lock_issues`] locks them later).
pub async fn find_issues(
    conn: &mut PgConnection,
    keys: &[(i64, &str)],
) -> Result<HashMap<(i64, String), i64>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let projects: Vec<i64> = keys.iter().map(|k| k.0).collect();
    let hashes: Vec<&str> = keys.iter().map(|k| k.1).collect();
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "select project_id, grouping_hash, issue_id
         from issue
         where (project_id, grouping_hash) in (select * from unnest($1::bigint[], $2::text[]))",
    )
    // Planned at each run (see UNPLANNED).
    .persistent(false)
    .bind(projects)
    .bind(hashes)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(p, h, id)| ((p, h), id)).collect())
}

/// Creates the issues that do not exist yet (`groups` sorted by project and
/// hash); returns `(project_id, grouping_hash, issue_id)` of those created.
/// Issues that exist (or that another transaction is creating) are skipped.
pub async fn insert_issues(
    conn: &mut PgConnection,
    groups: &[IssueGroup<'_>],
) -> Result<Vec<(i64, String, i64)>, sqlx::Error> {
    let columns = IssueColumns::of(groups);
    sqlx::query_as(
        "insert into issue (project_id, grouping_hash, title, culprit, level, platform,
                            first_seen, last_seen, event_count, first_release, last_release)
         select * from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                              $7::timestamptz[], $8::timestamptz[], $9::bigint[], $10::text[], $11::text[])
                    as u(p, h)
         order by p, h
         on conflict (project_id, grouping_hash) do nothing
         returning project_id, grouping_hash, issue_id",
    )
    .bind(columns.projects)
    .bind(columns.hashes)
    .bind(columns.titles)
    .bind(columns.culprits)
    .bind(columns.levels)
    .bind(columns.platforms)
    .bind(columns.first_seen)
    .bind(columns.last_seen)
    .bind(columns.events)
    .bind(columns.first_releases)
    .bind(columns.last_releases)
    .fetch_all(&mut *conn)
    .await
}

// UNPLANNED: the statements that join a batch's keys to `issue` are not kept
// as prepared statements. PostgreSQL would cache a generic plan after five runs
// and keep it until `issue` is next analyzed: planned while it held a hundred
// rows, that plan seq-scanned it for every batch, 10x slower once it held
// thousands (measured with `sightline bench errors`). A fresh plan sees the
// table's current size.

/// Locks existing issues (in key order) and reads what their workflow needs.
/// Returns them by `(project_id, grouping_hash)`.
pub async fn lock_issues(
    conn: &mut PgConnection,
    keys: &[(i64, &str)],
) -> Result<HashMap<(i64, String), IssueState>, sqlx::Error> {
    let projects: Vec<i64> = keys.iter().map(|k| k.0).collect();
    let hashes: Vec<&str> = keys.iter().map(|k| k.1).collect();
    type Row = (
        i64,
        String,
        i64,
        String,
        i64,
        Option<String>,
        Option<DateTime<Utc>>,
        bool,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "select i.project_id, i.grouping_hash, i.issue_id, i.status, i.event_count,
                i.resolved_in_release, r.first_seen,
                coalesce(i.ignore_until <= now(), false), i.ignore_until_count
         from issue i
         left join release r on r.project_id = i.project_id and r.version = i.resolved_in_release
         where (i.project_id, i.grouping_hash) in (select * from unnest($1::bigint[], $2::text[]))
         order by i.project_id, i.grouping_hash
         -- Not `for update`: that would also block the foreign-key checks of
         -- other writers' issue_hour and issue_activity rows.
         for no key update of i",
    )
    // Planned at each run (see UNPLANNED).
    .persistent(false)
    .bind(projects)
    .bind(hashes)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                project,
                hash,
                issue_id,
                status,
                event_count,
                resolved_in,
                resolved_seen,
                expired,
                until_count,
            )| {
                let state = IssueState {
                    issue_id,
                    status: IssueStatus::from_name(&status),
                    event_count,
                    resolved_in_release: resolved_in,
                    resolved_release_first_seen: resolved_seen,
                    ignore_expired: expired,
                    ignore_until_count: until_count,
                };
                ((project, hash), state)
            },
        )
        .collect())
}

/// Adds a batch's events to existing, locked issues. `reopen[i]` says whether
/// issue `i` goes back to unresolved (which clears how it was resolved or
/// ignored). Title, culprit, level and last release follow the newest event
/// unless the issue has seen a newer one already.
pub async fn update_issues(
    conn: &mut PgConnection,
    issue_ids: &[i64],
    groups: &[IssueGroup<'_>],
    reopen: &[bool],
) -> Result<(), sqlx::Error> {
    let columns = IssueColumns::of(groups);
    sqlx::query(
        "update issue i set
             event_count = i.event_count + u.events,
             first_seen = least(i.first_seen, u.first_seen),
             last_seen = greatest(i.last_seen, u.last_seen),
             title = case when u.last_seen >= i.last_seen then u.title else i.title end,
             culprit = case when u.last_seen >= i.last_seen then u.culprit else i.culprit end,
             level = case when u.last_seen >= i.last_seen then u.level else i.level end,
             first_release = coalesce(i.first_release, u.first_release),
             last_release = case when u.last_seen >= i.last_seen
                                 then coalesce(u.last_release, i.last_release)
                                 else coalesce(i.last_release, u.last_release) end,
             status = case when u.reopen then 'unresolved' else i.status end,
             resolved_in_release = case when u.reopen then null else i.resolved_in_release end,
             resolved_at = case when u.reopen then null else i.resolved_at end,
             ignore_until = case when u.reopen then null else i.ignore_until end,
             ignore_until_count = case when u.reopen then null else i.ignore_until_count end,
             updated_at = now()
         from unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                     $6::timestamptz[], $7::bigint[], $8::text[], $9::text[], $10::boolean[])
              as u(issue_id, title, culprit, level, first_seen, last_seen, events,
                   first_release, last_release, reopen)
         where i.issue_id = u.issue_id",
    )
    // Planned at each run (see UNPLANNED).
    .persistent(false)
    .bind(issue_ids)
    .bind(columns.titles)
    .bind(columns.culprits)
    .bind(columns.levels)
    .bind(columns.first_seen)
    .bind(columns.last_seen)
    .bind(columns.events)
    .bind(columns.first_releases)
    .bind(columns.last_releases)
    .bind(reopen)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends `(issue_id, kind, detail, at)` rows to the issues' activity; `at`
/// is when it happened (the first event's time for `first_seen`), `None` for
/// now.
pub async fn insert_activity(
    conn: &mut PgConnection,
    rows: &[(i64, &str, Value, Option<DateTime<Utc>>)],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let issues: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let details: Vec<Json<&Value>> = rows.iter().map(|r| Json(&r.2)).collect();
    let times: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.3).collect();
    sqlx::query(
        "insert into issue_activity (issue_id, kind, detail, created_at)
         select i, k, d, coalesce(t, now())
         from unnest($1::bigint[], $2::text[], $3::jsonb[], $4::timestamptz[]) as u(i, k, d, t)",
    )
    .bind(issues)
    .bind(kinds)
    .bind(details)
    .bind(times)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inserts events, each `(project_id, issue_id, event)`.
pub async fn insert_events(
    conn: &mut PgConnection,
    events: &[(i64, i64, &ErrorEvent)],
) -> Result<(), sqlx::Error> {
    let n = events.len();
    let mut projects = Vec::with_capacity(n);
    let mut times = Vec::with_capacity(n);
    let mut ids = Vec::with_capacity(n);
    let mut issues = Vec::with_capacity(n);
    let mut levels = Vec::with_capacity(n);
    let mut releases = Vec::with_capacity(n);
    let mut environments = Vec::with_capacity(n);
    let mut transactions = Vec::with_capacity(n);
    let mut traces = Vec::with_capacity(n);
    let mut users = Vec::with_capacity(n);
    let mut tags = Vec::with_capacity(n);
    let mut payloads = Vec::with_capacity(n);
    for &(project, issue, event) in events {
        projects.push(project);
        times.push(event.ts);
        ids.push(event.event_id.as_str());
        issues.push(issue);
        levels.push(event.level.as_str());
        releases.push(event.release.as_deref());
        environments.push(event.environment.as_deref());
        transactions.push(event.transaction.as_deref());
        traces.push(event.trace_id.as_deref());
        users.push(event.user_key.as_deref());
        tags.push(Json(tags_object(&event.tags)));
        payloads.push(event.payload.as_str());
    }
    sqlx::query(
        "insert into error_event (project_id, ts, event_id, issue_id, level, release, environment,
                                  transaction, trace_id, user_key, tags, payload)
         select p, ts, id::uuid, issue, level, release, environment, tx, trace, usr, tags, payload::jsonb
         from unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::bigint[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::text[], $10::text[], $11::jsonb[], $12::text[])
              as u(p, ts, id, issue, level, release, environment, tx, trace, usr, tags, payload)",
    )
    .bind(projects)
    .bind(times)
    .bind(ids)
    .bind(issues)
    .bind(levels)
    .bind(releases)
    .bind(environments)
    .bind(transactions)
    .bind(traces)
    .bind(users)
    .bind(tags)
    .bind(payloads)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Tags as one JSON object (key to value).
pub fn tags_object(tags: &[(String, String)]) -> Value {
    Value::Object(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// Adds event counts to `issue_hour`, keyed by `(issue_id, hour)`.
pub async fn add_issue_hours(
    conn: &mut PgConnection,
    counts: &BTreeMap<(i64, DateTime<Utc>), i64>,
) -> Result<(), sqlx::Error> {
    let issues: Vec<i64> = counts.keys().map(|k| k.0).collect();
    let hours: Vec<DateTime<Utc>> = counts.keys().map(|k| k.1).collect();
    let events: Vec<i64> = counts.values().copied().collect();
    sqlx::query(
        "insert into issue_hour (issue_id, hour, events)
         select * from unnest($1::bigint[], $2::timestamptz[], $3::bigint[])
         on conflict (issue_id, hour) do update set events = issue_hour.events + excluded.events",
    )
    .bind(issues)
    .bind(hours)
    .bind(events)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The start of `ts`'s hour.
pub fn hour_of(ts: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(ts.timestamp().div_euclid(3600) * 3600, 0).unwrap_or(ts)
}

/// [`IssueGroup`]s as one array per column, for `unnest`.
struct IssueColumns<'a> {
    projects: Vec<i64>,
    hashes: Vec<&'a str>,
    titles: Vec<&'a str>,
    culprits: Vec<&'a str>,
    levels: Vec<&'a str>,
    platforms: Vec<&'a str>,
    first_seen: Vec<DateTime<Utc>>,
    last_seen: Vec<DateTime<Utc>>,
    events: Vec<i64>,
    first_releases: Vec<Option<&'a str>>,
    last_releases: Vec<Option<&'a str>>,
}

impl<'a> IssueColumns<'a> {
    fn of(groups: &[IssueGroup<'a>]) -> Self {
        IssueColumns {
            projects: groups.iter().map(|g| g.project_id).collect(),
            hashes: groups.iter().map(|g| g.grouping_hash).collect(),
            titles: groups.iter().map(|g| g.newest.title.as_str()).collect(),
            culprits: groups.iter().map(|g| g.newest.culprit.as_str()).collect(),
            levels: groups.iter().map(|g| g.newest.level.as_str()).collect(),
            platforms: groups.iter().map(|g| g.newest.platform.as_str()).collect(),
            first_seen: groups.iter().map(|g| g.first_seen).collect(),
            last_seen: groups.iter().map(|g| g.last_seen).collect(),
            events: groups.iter().map(|g| g.events).collect(),
            first_releases: groups.iter().map(|g| g.first_release).collect(),
            last_releases: groups.iter().map(|g| g.last_release).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn hours_start_on_the_hour() {
        let ts = Utc
            .with_ymd_and_hms(2026, 3, 4, 5, 59, 59)
            .single()
            .unwrap();
        assert_eq!(
            hour_of(ts),
            Utc.with_ymd_and_hms(2026, 3, 4, 5, 0, 0).single().unwrap()
        );
    }

    #[test]
    fn tags_become_one_object() {
        let tags = vec![
            ("level".to_string(), "error".to_string()),
            ("tenant".to_string(), "a\"b".to_string()),
        ];
        assert_eq!(
            tags_object(&tags),
            serde_json::json!({"level": "error", "tenant": "a\"b"})
        );
    }
}
