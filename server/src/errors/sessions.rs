//! Release health: session updates from Sentry SDKs counted per release,
//! environment and hour (`release_session_hour`), the users (devices) seen per
//! release with whether any of their sessions crashed (`release_user`), and the
//! releases themselves.
//!
//! Session volume is low (one update a session start and end, or one
//! pre-aggregated item a minute per server), so a request's updates are written
//! directly in one transaction of their own, and answered after its commit.
//!
//! How updates count, in the hour their session started: a first update
//! (`init`) counts as started; a final one as exited (`exited` without errors),
//! errored (`errored`, or `exited` after errors), abnormal or crashed. Updates of
//! a running session (`ok`) count only when they are the first.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::store::batch::{self, ReleaseSightings};

/// A release-health update: one session's state, or a count of sessions that
/// ended the same way (from a `sessions` aggregate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUpdate {
    /// The session's id (`sid`); `None` for aggregates.
    pub session_id: Option<String>,
    /// The user or device (`did`), if the SDK sent one.
    pub distinct_id: Option<String>,
    /// When the session started.
    pub started: DateTime<Utc>,
    pub release: String,
    /// Empty when the SDK sent none.
    pub environment: String,
    pub status: SessionStatus,
    /// Errors seen in the session so far (aggregates: 1 for sessions that ended
    /// errored, crashed or abnormal, 0 otherwise).
    pub errors: u32,
    /// Whether this is the session's first update (always true for aggregates,
    /// whose sessions all started in the bucket they are counted in).
    pub init: bool,
    /// How many sessions this update stands for: 1 for a `session` item.
    pub quantity: u32,
}

/// The state a session reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    /// Still running: counts as started only.
    Ok,
    /// Ended normally.
    Exited,
    /// Ended by a crash (an unhandled error).
    Crashed,
    /// Ended without reporting how (killed, power loss, ...).
    Abnormal,
    /// Ended normally after handled errors.
    Errored,
}

impl SessionStatus {
    /// The status named `name` in Sentry's protocol.
    pub fn from_name(name: &str) -> Option<SessionStatus> {
        Some(match name {
            "ok" => SessionStatus::Ok,
            "exited" => SessionStatus::Exited,
            "crashed" => SessionStatus::Crashed,
            "abnormal" => SessionStatus::Abnormal,
            "errored" => SessionStatus::Errored,
            _ => return None,
        })
    }
}

/// Session counts of one release, environment and hour.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionCounts {
    pub started: i64,
    pub exited: i64,
    pub errored: i64,
    pub abnormal: i64,
    pub crashed: i64,
}

/// `(release, environment, hour)`.
type HourKey<'a> = (&'a str, &'a str, DateTime<Utc>);
/// `(release, environment, distinct_id)`.
type UserKey<'a> = (&'a str, &'a str, &'a str);

/// A user seen in a release: crashed in any session, first and last session start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UserSighting {
    crashed: bool,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

/// Stores a request's session updates of one project, committed on return.
pub async fn store(
    pool: &PgPool,
    project_id: i64,
    updates: &[SessionUpdate],
) -> Result<(), sqlx::Error> {
    if updates.is_empty() {
        return Ok(());
    }
    let hours = hour_counts(updates);
    let users = users(updates);
    let mut releases: ReleaseSightings<'_> = BTreeMap::new();
    for update in updates {
        releases
            .entry((project_id, update.release.as_str()))
            .and_modify(|(first, last)| {
                *first = (*first).min(update.started);
                *last = (*last).max(update.started);
            })
            .or_insert((update.started, update.started));
    }
    let mut tx = pool.begin().await?;
    batch::upsert_releases(&mut tx, &releases).await?;
    add_hours(&mut tx, project_id, &hours).await?;
    add_users(&mut tx, project_id, &users).await?;
    tx.commit().await?;
    metrics::counter!("sentry_session_updates_total").increment(updates.len() as u64);
    Ok(())
}

/// The counts the updates add, by release, environment and the hour their
/// sessions started (in key order, so concurrent requests lock rows alike).
fn hour_counts(updates: &[SessionUpdate]) -> BTreeMap<HourKey<'_>, SessionCounts> {
    let mut counts: BTreeMap<HourKey<'_>, SessionCounts> = BTreeMap::new();
    for update in updates {
        let n = i64::from(update.quantity);
        let key = (
            update.release.as_str(),
            update.environment.as_str(),
            batch::hour_of(update.started),
        );
        let entry = counts.entry(key).or_default();
        if update.init {
            entry.started += n;
        }
        match update.status {
            SessionStatus::Ok => {}
            SessionStatus::Exited if update.errors > 0 => entry.errored += n,
            SessionStatus::Exited => entry.exited += n,
            SessionStatus::Errored => entry.errored += n,
            SessionStatus::Abnormal => entry.abnormal += n,
            SessionStatus::Crashed => entry.crashed += n,
        }
    }
    counts.retain(|_, c| *c != SessionCounts::default());
    counts
}

fn users(updates: &[SessionUpdate]) -> BTreeMap<UserKey<'_>, UserSighting> {
    let mut users: BTreeMap<UserKey<'_>, UserSighting> = BTreeMap::new();
    for update in updates {
        let Some(user) = update.distinct_id.as_deref() else {
            continue;
        };
        let crashed = update.status == SessionStatus::Crashed;
        users
            .entry((&update.release, &update.environment, user))
            .and_modify(|seen| {
                seen.crashed |= crashed;
                seen.first = seen.first.min(update.started);
                seen.last = seen.last.max(update.started);
            })
            .or_insert(UserSighting {
                crashed,
                first: update.started,
                last: update.started,
            });
    }
    users
}

async fn add_hours(
    conn: &mut PgConnection,
    project_id: i64,
    counts: &BTreeMap<HourKey<'_>, SessionCounts>,
) -> Result<(), sqlx::Error> {
    if counts.is_empty() {
        return Ok(());
    }
    let releases: Vec<&str> = counts.keys().map(|k| k.0).collect();
    let environments: Vec<&str> = counts.keys().map(|k| k.1).collect();
    let hours: Vec<DateTime<Utc>> = counts.keys().map(|k| k.2).collect();
    let column = |f: fn(&SessionCounts) -> i64| counts.values().map(f).collect::<Vec<i64>>();
    sqlx::query(
        "insert into release_session_hour
             (project_id, release, environment, hour, started, exited, errored, abnormal, crashed)
         select $1, * from unnest($2::text[], $3::text[], $4::timestamptz[], $5::bigint[],
                                  $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
         on conflict (project_id, release, environment, hour) do update set
             started = release_session_hour.started + excluded.started,
             exited = release_session_hour.exited + excluded.exited,
             errored = release_session_hour.errored + excluded.errored,
             abnormal = release_session_hour.abnormal + excluded.abnormal,
             crashed = release_session_hour.crashed + excluded.crashed",
    )
    .bind(project_id)
    .bind(releases)
    .bind(environments)
    .bind(hours)
    .bind(column(|c| c.started))
    .bind(column(|c| c.exited))
    .bind(column(|c| c.errored))
    .bind(column(|c| c.abnormal))
    .bind(column(|c| c.crashed))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn add_users(
    conn: &mut PgConnection,
    project_id: i64,
    users: &BTreeMap<UserKey<'_>, UserSighting>,
) -> Result<(), sqlx::Error> {
    if users.is_empty() {
        return Ok(());
    }
    let releases: Vec<&str> = users.keys().map(|k| k.0).collect();
    let environments: Vec<&str> = users.keys().map(|k| k.1).collect();
    let ids: Vec<&str> = users.keys().map(|k| k.2).collect();
    let crashed: Vec<bool> = users.values().map(|u| u.crashed).collect();
    let firsts: Vec<DateTime<Utc>> = users.values().map(|u| u.first).collect();
    let lasts: Vec<DateTime<Utc>> = users.values().map(|u| u.last).collect();
    sqlx::query(
        "insert into release_user (project_id, release, environment, distinct_id, crashed, first_seen, last_seen)
         select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::boolean[],
                                  $6::timestamptz[], $7::timestamptz[])
         on conflict (project_id, release, environment, distinct_id) do update set
             crashed = release_user.crashed or excluded.crashed,
             first_seen = least(release_user.first_seen, excluded.first_seen),
             last_seen = greatest(release_user.last_seen, excluded.last_seen)",
    )
    .bind(project_id)
    .bind(releases)
    .bind(environments)
    .bind(ids)
    .bind(crashed)
    .bind(firsts)
    .bind(lasts)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn update(status: SessionStatus, init: bool, errors: u32, user: Option<&str>) -> SessionUpdate {
        SessionUpdate {
            session_id: Some("s".into()),
            distinct_id: user.map(str::to_string),
            started: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap(),
            release: "app@1.0".into(),
            environment: "production".into(),
            status,
            errors,
            init,
            quantity: 1,
        }
    }

    #[test]
    fn updates_count_once_per_session_in_the_hour_it_started() {
        let updates = [
            update(SessionStatus::Ok, true, 0, Some("u1")),
            update(SessionStatus::Ok, false, 1, Some("u1")),
            update(SessionStatus::Exited, false, 1, Some("u1")),
            update(SessionStatus::Crashed, true, 1, Some("u2")),
            update(SessionStatus::Exited, true, 0, None),
            SessionUpdate {
                quantity: 5,
                ..update(SessionStatus::Abnormal, true, 1, None)
            },
        ];
        let counts = hour_counts(&updates);
        assert_eq!(counts.len(), 1);
        let (key, counts) = counts.into_iter().next().unwrap();
        assert_eq!(
            key.2,
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 0, 0).single().unwrap()
        );
        assert_eq!(
            counts,
            SessionCounts {
                started: 8,
                exited: 1,
                errored: 1,
                abnormal: 5,
                crashed: 1,
            }
        );
        let users = users(&updates);
        let crashed: Vec<(&str, bool)> = users.iter().map(|(k, u)| (k.2, u.crashed)).collect();
        assert_eq!(crashed, [("u1", false), ("u2", true)]);
    }
}
