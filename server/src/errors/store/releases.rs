//! Release health: sessions and users per release within a range, how many of
//! them crashed, and the issues each release introduced.

use app::api::ReleaseHealth;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};

/// Most releases one answer lists.
const MAX_RELEASES: i64 = 100;

#[derive(FromRow)]
struct Row {
    version: String,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    sessions: i64,
    crashed_sessions: i64,
    errored_sessions: i64,
    users: i64,
    crashed_users: i64,
    new_issues: i64,
}

/// Releases of a project seen in `[from, to)`, newest first, with their health
/// there (only sessions of `environment` when one is given).
pub async fn health(
    executor: impl PgExecutor<'_>,
    project_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    environment: Option<&str>,
) -> Result<Vec<ReleaseHealth>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "select r.version, r.first_seen, r.last_seen,
                coalesce(s.started, 0)::bigint as sessions,
                coalesce(s.crashed, 0)::bigint as crashed_sessions,
                coalesce(s.errored, 0)::bigint as errored_sessions,
                coalesce(u.users, 0)::bigint as users,
                coalesce(u.crashed_users, 0)::bigint as crashed_users,
                (select count(*) from issue i
                 where i.project_id = r.project_id and i.first_release = r.version) as new_issues
         from release r
         left join lateral (
             select sum(h.started) as started, sum(h.crashed) as crashed,
                    sum(h.errored + h.abnormal) as errored
             from release_session_hour h
             where h.project_id = r.project_id and h.release = r.version
               and h.hour >= date_trunc('hour', $2) and h.hour < $3
               and ($4::text is null or h.environment = $4)) s on true
         left join lateral (
             select count(*) as users, count(*) filter (where ru.crashed) as crashed_users
             from release_user ru
             where ru.project_id = r.project_id and ru.release = r.version
               and ru.last_seen >= $2 and ru.first_seen < $3
               and ($4::text is null or ru.environment = $4)) u on true
         where r.project_id = $1 and r.last_seen >= $2 and r.first_seen < $3
         order by r.first_seen desc, r.version desc
         limit $5",
    )
    .bind(project_id)
    .bind(from)
    .bind(to)
    .bind(environment)
    .bind(MAX_RELEASES)
    .fetch_all(executor)
    .await?;
    let share = |bad: i64, all: i64| (all > 0).then(|| 1.0 - bad as f64 / all as f64);
    Ok(rows
        .into_iter()
        .map(|r| ReleaseHealth {
            crash_free_sessions: share(r.crashed_sessions, r.sessions),
            crash_free_users: share(r.crashed_users, r.users),
            version: r.version,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            sessions: r.sessions,
            crashed_sessions: r.crashed_sessions,
            errored_sessions: r.errored_sessions,
            users: r.users,
            crashed_users: r.crashed_users,
            new_issues: r.new_issues,
        })
        .collect())
}
