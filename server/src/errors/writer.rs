//! [`ErrorWriter`]: the one path every error event takes into PostgreSQL. The
//! queue and group commit are [`crate::pipeline::queue`]'s; each batch is stored
//! here in one transaction: event ids already stored are skipped (SDKs retry,
//! [`crate::pipeline::dedup`]), releases are
//! recorded, each event's issue is created or updated (with the workflow of
//! [`super::workflow`]: regressions, ignores that run out), the events are
//! inserted and the hourly counts added. Only after the commit is every request
//! answered, with the issue of each of its events.
//!
//! The SQL takes its rows in key order, so writers (of this instance and of
//! others) cannot deadlock one another.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

use super::{
    event::ErrorEvent,
    store::batch::{self, IssueGroup, ReleaseSightings},
    workflow::{self, Arrivals, Transition},
};
pub use crate::pipeline::queue::WriteError;
use crate::pipeline::{
    clock::ReceiveWindow,
    dedup,
    queue::{Batch, Job, Queue},
};

/// Most events written in one transaction.
pub const MAX_BATCH_EVENTS: usize = 1000;
/// Most queued bytes (estimated) written in one transaction.
const MAX_BATCH_BYTES: usize = 32 * 1024 * 1024;

/// What became of one event handed to [`ErrorWriter::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The event's id (32 hex characters).
    pub event_id: String,
    /// The issue the event belongs to. `None` only for a duplicate whose first
    /// copy can no longer be found (its issue was deleted since).
    pub issue_id: Option<i64>,
    /// Whether an event with this id was stored before (a retry), so this copy
    /// was not stored again.
    pub duplicate: bool,
}

/// Handle to the error batch writer; cheap to clone.
pub type ErrorWriter = Queue<ErrorBatch>;

/// How error events are written: [`Queue`]'s batches, each in one transaction.
pub struct ErrorBatch;

impl Batch for ErrorBatch {
    type Item = ErrorEvent;
    /// What became of each of the request's events, in order.
    type Answer = Vec<StoredEvent>;
    const NAME: &'static str = "errors";
    /// While one waits for PostgreSQL (a batch is a dozen statements and a
    /// commit) the others write theirs. Their statements take rows in key
    /// order, so they cannot deadlock on shared issues. Measured with
    /// `sightline bench errors` at 64 clients: two 2 400–2 900 events/s, three
    /// 2 900–3 300, four 2 600–2 800 (more waiting on the same busy issues).
    const WRITERS: usize = 3;
    const MAX_ITEMS: usize = MAX_BATCH_EVENTS;
    const MAX_BYTES: usize = MAX_BATCH_BYTES;

    /// The payload dominates.
    fn estimated_bytes(event: &ErrorEvent) -> usize {
        512 + event.title.len() + event.message.len() + event.payload.len()
    }

    fn correct_clock(event: &mut ErrorEvent, window: &ReceiveWindow) {
        event.correct_clock(window);
    }

    async fn write(
        &self,
        pool: &PgPool,
        jobs: &[Job<Self>],
    ) -> anyhow::Result<Vec<Vec<StoredEvent>>> {
        let mut tx = pool.begin().await?;
        let (answers, report) = store_batch(&mut tx, jobs).await?;
        tx.commit().await?;
        report.record();
        Ok(answers)
    }
}

/// What a batch did, for metrics.
#[derive(Debug, Default)]
struct Report {
    duplicates: usize,
    created: usize,
    regressions: usize,
    unignored: usize,
}

impl Report {
    /// Adds a committed batch's figures to the error metrics (the queue records
    /// those every batch has).
    fn record(&self) {
        metrics::counter!("errors_duplicates_total").increment(self.duplicates as u64);
        metrics::counter!("errors_issues_created_total").increment(self.created as u64);
        for (transition, count) in [
            (Transition::Regression, self.regressions),
            (Transition::Unignored, self.unignored),
        ] {
            metrics::counter!("errors_issues_reopened_total", "reason" => transition.kind())
                .increment(count as u64);
        }
    }
}

/// One event of the batch, where it came from.
struct Entry<'a> {
    project_id: i64,
    event: &'a ErrorEvent,
}

/// A group's events so far, while the batch is read.
struct Accumulator<'a> {
    group: IssueGroup<'a>,
    /// Release of the oldest event that has one, with that event's time.
    first_release_at: Option<DateTime<Utc>>,
    last_release_at: Option<DateTime<Utc>>,
    releases: Vec<&'a str>,
}

async fn store_batch(
    conn: &mut PgConnection,
    jobs: &[Job<ErrorBatch>],
) -> anyhow::Result<(Vec<Vec<StoredEvent>>, Report)> {
    let mut report = Report::default();
    // First copy of each event id in the batch; the others are duplicates.
    let mut first_copies: Vec<Entry<'_>> = Vec::new();
    let mut in_batch: HashSet<(i64, &str)> = HashSet::new();
    for job in jobs {
        for event in &job.items {
            if in_batch.insert((job.project_id, event.event_id.as_str())) {
                first_copies.push(Entry {
                    project_id: job.project_id,
                    event,
                });
            }
        }
    }
    let seen: Vec<(i64, &str, DateTime<Utc>)> = first_copies
        .iter()
        .map(|e| (e.project_id, e.event.event_id.as_str(), e.event.ts))
        .collect();
    let fresh = dedup::first_sightings(conn, &seen).await?;
    let is_fresh = |e: &Entry<'_>| fresh.contains(&(e.project_id, e.event.event_id.clone()));
    let new_events: Vec<&Entry<'_>> = first_copies.iter().filter(|e| is_fresh(e)).collect();

    // Releases first: reopening an issue resolved "in a release" compares them.
    let mut sightings: ReleaseSightings<'_> = BTreeMap::new();
    for entry in &new_events {
        if let Some(release) = entry.event.release.as_deref() {
            let ts = entry.event.ts;
            sightings
                .entry((entry.project_id, release))
                .and_modify(|(first, last)| {
                    *first = (*first).min(ts);
                    *last = (*last).max(ts);
                })
                .or_insert((ts, ts));
        }
    }
    let release_seen = batch::upsert_releases(conn, &sightings).await?;

    // Issues, in key order. Existing ones are found without locking them, so
    // that inserting new issues never waits on another writer's update of a
    // busy one (a unique check waits for an uncommitted row version).
    let mut groups: BTreeMap<(i64, &str), Accumulator<'_>> = BTreeMap::new();
    for entry in &new_events {
        accumulate(&mut groups, entry);
    }
    let keys: Vec<(i64, &str)> = groups.keys().copied().collect();
    let mut known = batch::find_issues(conn, &keys).await?;
    let fresh: Vec<IssueGroup<'_>> = groups
        .iter()
        .filter(|(key, _)| !known.contains_key(&(key.0, key.1.to_string())))
        .map(|(_, acc)| acc.group.clone())
        .collect();
    let created: HashMap<(i64, String), i64> = if fresh.is_empty() {
        HashMap::new()
    } else {
        batch::insert_issues(conn, &fresh)
            .await?
            .into_iter()
            .map(|(project, hash, id)| ((project, hash), id))
            .collect()
    };
    report.created = created.len();
    // Issues another writer created meanwhile are committed now (the insert
    // waited for it).
    let raced: Vec<(i64, &str)> = fresh
        .iter()
        .map(|g| (g.project_id, g.grouping_hash))
        .filter(|&(p, h)| !created.contains_key(&(p, h.to_string())))
        .collect();
    if !raced.is_empty() {
        known.extend(batch::find_issues(conn, &raced).await?);
    }
    let mut issue_ids: HashMap<(i64, &str), i64> = HashMap::new();
    // First seen is dated by the first event, as the issue's header is;
    // regressions by when they happened (now).
    let mut activity: Vec<(i64, &str, Value, Option<DateTime<Utc>>)> = Vec::new();
    let mut existing: Vec<&Accumulator<'_>> = Vec::new();
    for (key, acc) in &groups {
        let owned = (key.0, key.1.to_string());
        if let Some(&id) = created.get(&owned) {
            issue_ids.insert(*key, id);
            activity.push((
                id,
                "first_seen",
                json!({"event_id": acc.group.newest.event_id}),
                Some(acc.group.first_seen),
            ));
        } else if let Some(&id) = known.get(&owned) {
            issue_ids.insert(*key, id);
            existing.push(acc);
        } else {
            anyhow::bail!("issue {owned:?} vanished while its events were stored");
        }
    }

    // The events and their hourly counts.
    let mut rows = Vec::with_capacity(new_events.len());
    let mut hours: BTreeMap<(i64, DateTime<Utc>), i64> = BTreeMap::new();
    let mut event_issue: HashMap<(i64, &str), i64> = HashMap::new();
    for entry in &new_events {
        let issue = issue_ids
            .get(&(entry.project_id, entry.event.grouping_hash.as_str()))
            .copied()
            .ok_or_else(|| anyhow::anyhow!("an event's issue is missing"))?;
        rows.push((entry.project_id, issue, entry.event));
        *hours
            .entry((issue, batch::hour_of(entry.event.ts)))
            .or_default() += 1;
        event_issue.insert((entry.project_id, entry.event.event_id.as_str()), issue);
    }
    if !rows.is_empty() {
        batch::insert_events(conn, &rows).await?;
    }

    // Last, the rows other writers update too (busy issues and their current
    // hour): locked as late as possible, so held for little more than the commit.
    if !existing.is_empty() {
        let keys: Vec<(i64, &str)> = existing
            .iter()
            .map(|a| (a.group.project_id, a.group.grouping_hash))
            .collect();
        let states = batch::lock_issues(conn, &keys).await?;
        let mut ids = Vec::with_capacity(existing.len());
        let mut updates = Vec::with_capacity(existing.len());
        let mut reopen = Vec::with_capacity(existing.len());
        for acc in existing {
            let key = (acc.group.project_id, acc.group.grouping_hash.to_string());
            let state = states.get(&key).ok_or_else(|| {
                anyhow::anyhow!("issue {key:?} vanished while its events were stored")
            })?;
            let arrivals = Arrivals {
                events: acc.group.events,
                newest_release: newest_release(acc, &release_seen),
                event_id: &acc.group.newest.event_id,
            };
            let change = workflow::transition(state, &arrivals);
            if let Some(change) = change {
                activity.push((
                    state.issue_id,
                    change.kind(),
                    workflow::detail(state, &arrivals, change),
                    None,
                ));
                match change {
                    Transition::Regression => report.regressions += 1,
                    Transition::Unignored => report.unignored += 1,
                }
            }
            ids.push(state.issue_id);
            updates.push(acc.group.clone());
            reopen.push(change.is_some());
        }
        batch::update_issues(conn, &ids, &updates, &reopen).await?;
    }
    batch::insert_activity(conn, &activity).await?;
    if !hours.is_empty() {
        batch::add_issue_hours(conn, &hours).await?;
    }

    // Copies stored before (in an earlier batch): the issue of the first copy.
    let repeated: Vec<(i64, &str)> = first_copies
        .iter()
        .filter(|e| !is_fresh(e))
        .map(|e| (e.project_id, e.event.event_id.as_str()))
        .collect();
    let earlier = if repeated.is_empty() {
        HashMap::new()
    } else {
        batch::issues_of_events(conn, &repeated).await?
    };

    let mut answers = Vec::with_capacity(jobs.len());
    let mut answered: HashSet<(i64, &str)> = HashSet::new();
    for job in jobs {
        let mut answer = Vec::with_capacity(job.items.len());
        for event in &job.items {
            let key = (job.project_id, event.event_id.as_str());
            let first_time = answered.insert(key) && event_issue.contains_key(&key);
            let issue_id = event_issue
                .get(&key)
                .copied()
                .or_else(|| earlier.get(&(key.0, key.1.to_string())).copied());
            if !first_time {
                report.duplicates += 1;
            }
            answer.push(StoredEvent {
                event_id: event.event_id.clone(),
                issue_id,
                duplicate: !first_time,
            });
        }
        answers.push(answer);
    }
    Ok((answers, report))
}

/// Adds an event to its group.
fn accumulate<'a>(groups: &mut BTreeMap<(i64, &'a str), Accumulator<'a>>, entry: &Entry<'a>) {
    let event = entry.event;
    let release = event.release.as_deref();
    let key = (entry.project_id, event.grouping_hash.as_str());
    let Some(acc) = groups.get_mut(&key) else {
        groups.insert(
            key,
            Accumulator {
                group: IssueGroup {
                    project_id: entry.project_id,
                    grouping_hash: &event.grouping_hash,
                    newest: event,
                    first_seen: event.ts,
                    last_seen: event.ts,
                    events: 1,
                    first_release: release,
                    last_release: release,
                },
                first_release_at: release.map(|_| event.ts),
                last_release_at: release.map(|_| event.ts),
                releases: release.into_iter().collect(),
            },
        );
        return;
    };
    let group = &mut acc.group;
    group.events += 1;
    group.first_seen = group.first_seen.min(event.ts);
    if event.ts >= group.last_seen {
        group.last_seen = event.ts;
        group.newest = event;
    }
    if let Some(release) = release {
        if acc.first_release_at.is_none_or(|at| event.ts < at) {
            acc.first_release_at = Some(event.ts);
            group.first_release = Some(release);
        }
        if acc.last_release_at.is_none_or(|at| event.ts >= at) {
            acc.last_release_at = Some(event.ts);
            group.last_release = Some(release);
        }
        if !acc.releases.contains(&release) {
            acc.releases.push(release);
        }
    }
}

/// Of a group's releases, the one first seen last.
fn newest_release<'a>(
    acc: &Accumulator<'a>,
    release_seen: &HashMap<(i64, String), DateTime<Utc>>,
) -> Option<(&'a str, DateTime<Utc>)> {
    acc.releases
        .iter()
        .filter_map(|&release| {
            let seen = release_seen.get(&(acc.group.project_id, release.to_string()))?;
            Some((release, *seen))
        })
        .max_by_key(|(_, seen)| *seen)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn event(id: &str, seconds: i64, release: Option<&str>) -> ErrorEvent {
        let ts = Utc
            .timestamp_opt(1_700_000_000 + seconds, 0)
            .single()
            .unwrap();
        let mut payload = json!({"event_id": id, "message": "boom", "timestamp": ts.timestamp()});
        if let Some(release) = release {
            payload["release"] = json!(release);
        }
        ErrorEvent::from_sentry(payload, ts).unwrap()
    }

    #[test]
    fn a_group_takes_its_newest_event_and_first_and_last_release() {
        let events = [
            event("0000000000000000000000000000000b", 20, Some("1.1")),
            event("0000000000000000000000000000000a", 10, Some("1.0")),
            event("0000000000000000000000000000000c", 30, None),
        ];
        let mut groups = BTreeMap::new();
        for event in &events {
            accumulate(
                &mut groups,
                &Entry {
                    project_id: 1,
                    event,
                },
            );
        }
        assert_eq!(groups.len(), 1, "one message, one group");
        let acc = groups.values().next().unwrap();
        assert_eq!(acc.group.events, 3);
        assert_eq!(acc.group.newest.event_id, events[2].event_id);
        assert_eq!(acc.group.first_seen, events[1].ts);
        assert_eq!(acc.group.last_seen, events[2].ts);
        assert_eq!(acc.group.first_release, Some("1.0"));
        assert_eq!(acc.group.last_release, Some("1.1"));

        let t = |s| Utc.timestamp_opt(s, 0).single().unwrap();
        let seen = HashMap::from([
            ((1, "1.0".to_string()), t(5)),
            ((1, "1.1".to_string()), t(9)),
        ]);
        assert_eq!(newest_release(acc, &seen), Some(("1.1", t(9))));
    }

    #[test]
    fn queued_bytes_grow_with_the_payload() {
        let small = event("0000000000000000000000000000000a", 0, None);
        let mut big = small.clone();
        big.payload = json!({"extra": "x".repeat(100_000)}).to_string();
        assert!(ErrorBatch::estimated_bytes(&big) >= ErrorBatch::estimated_bytes(&small) + 99_000);
    }
}
