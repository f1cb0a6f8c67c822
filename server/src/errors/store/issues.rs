//! Reading issues — a page of a project's issues with their counts in a range,
//! one issue with its hourly series, top tag values and activity — and
//! changing an issue's status (triage), each change recorded in its activity.

use std::collections::BTreeMap;

use app::api::{EventBucket, IssueActivity, IssueStatus, TagSummary, TagValue};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{json, Value};
use sqlx::{FromRow, PgConnection, PgExecutor, Postgres, QueryBuilder};

use super::EVENT_ID_HEX;
use crate::errors::search::{EventField, IssueSearch};
use crate::http::error::ApiError;

/// Buckets of each row's sparkline in the issue list.
pub const SPARKLINE_BUCKETS: usize = 24;
/// Events sampled (newest first) for an issue's top tag values.
const TAG_SAMPLE: i64 = 1000;
/// Values shown per tag.
const TOP_VALUES: usize = 5;
/// Tags shown per issue.
const TOP_TAGS: usize = 30;

/// Which issues of a project the list shows: those with events in
/// `[from, to)` (of `environment` and `release` when given, and matching the
/// search's tag terms) whose status, level and title or culprit match.
pub struct IssueFilter<'a> {
    pub project_id: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub status: Option<IssueStatus>,
    pub level: Option<&'a str>,
    pub search: &'a IssueSearch,
    pub environment: Option<&'a str>,
    pub release: Option<&'a str>,
}

/// The order of the issue list, always descending, ties broken by issue id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueOrder {
    LastSeen,
    FirstSeen,
    Events,
    Users,
}

impl IssueOrder {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "last_seen" => Self::LastSeen,
            "first_seen" => Self::FirstSeen,
            "events" => Self::Events,
            "users" => Self::Users,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            Self::LastSeen => "c.last_seen",
            Self::FirstSeen => "c.first_seen",
            Self::Events => "n.events",
            Self::Users => "n.users",
        }
    }

    /// The keyset cursor after `row`: its sort value (epoch microseconds for
    /// times, the count for counts) and its issue id.
    pub fn cursor_after(self, row: &IssueRow) -> String {
        let value = match self {
            Self::LastSeen => row.last_seen.timestamp_micros(),
            Self::FirstSeen => row.first_seen.timestamp_micros(),
            Self::Events => row.events,
            Self::Users => row.users,
        };
        format!("{value}_{}", row.issue_id)
    }

    /// `and (<sort column>, issue_id) < (<cursor>)`, or a 400 for a cursor
    /// this order did not give.
    fn push_after(
        self,
        sql: &mut QueryBuilder<'_, Postgres>,
        cursor: &str,
    ) -> Result<(), ApiError> {
        let bad = || ApiError::BadRequest("cursor: not a cursor of this list and order".into());
        let (value, id) = cursor.split_once('_').ok_or_else(bad)?;
        let value: i64 = value.parse().map_err(|_| bad())?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        sql.push(" where (")
            .push(self.column())
            .push(", c.issue_id) < (");
        match self {
            Self::LastSeen | Self::FirstSeen => {
                sql.push_bind(DateTime::from_timestamp_micros(value).ok_or_else(bad)?)
            }
            Self::Events | Self::Users => sql.push_bind(value),
        };
        sql.push(", ").push_bind(id).push(")");
        Ok(())
    }
}

/// One row of the issue list: the issue and its counts within the range.
#[derive(FromRow)]
pub struct IssueRow {
    pub issue_id: i64,
    pub title: String,
    pub culprit: String,
    pub level: String,
    pub platform: String,
    pub status: String,
    pub events: i64,
    pub users: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// At most `rows` issues matching `filter` in `order`, after the row `after`
/// (a [`IssueOrder::cursor_after`]) when given.
pub async fn page(
    executor: impl PgExecutor<'_>,
    filter: &IssueFilter<'_>,
    order: IssueOrder,
    after: Option<&str>,
    rows: i64,
) -> Result<Vec<IssueRow>, ApiError> {
    let mut sql = QueryBuilder::<Postgres>::new(
        "with candidate as (select i.* from issue i where i.project_id = ",
    );
    sql.push_bind(filter.project_id)
        .push(" and i.last_seen >= ")
        .push_bind(filter.from)
        .push(" and i.first_seen < ")
        .push_bind(filter.to);
    if let Some(status) = filter.status {
        sql.push(" and i.status = ").push_bind(status.as_str());
    }
    if let Some(level) = filter.level {
        sql.push(" and i.level = ").push_bind(level.to_string());
    }
    for word in &filter.search.words {
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
    .push_bind(filter.from)
    .push(" and e.ts < ")
    .push_bind(filter.to);
    if let Some(environment) = filter.environment {
        sql.push(" and e.environment = ")
            .push_bind(environment.to_string());
    }
    if let Some(release) = filter.release {
        sql.push(" and e.release = ").push_bind(release.to_string());
    }
    for term in &filter.search.terms {
        sql.push(if term.negated { " and not " } else { " and " });
        match &term.field {
            EventField::Tag(keys) => {
                sql.push("(false");
                for key in keys {
                    sql.push(" or e.tags @> jsonb_build_object(")
                        .push_bind(key.clone())
                        .push("::text, ")
                        .push_bind(term.value.clone())
                        .push("::text)");
                }
                sql.push(")");
            }
            EventField::User => {
                sql.push("coalesce(e.user_key = ")
                    .push_bind(term.value.clone())
                    .push(", false)");
            }
            EventField::UserField(field) => {
                sql.push("coalesce(e.payload -> 'user' ->> ")
                    .push_bind(*field)
                    .push(" = ")
                    .push_bind(term.value.clone())
                    .push(", false)");
            }
        }
    }
    sql.push(
        " group by e.issue_id)
         select c.issue_id, c.title, c.culprit, c.level, c.platform, c.status, n.events, n.users,
                c.first_seen, c.last_seen
         from candidate c join counted n on n.issue_id = c.issue_id",
    );
    if let Some(cursor) = after {
        order.push_after(&mut sql, cursor)?;
    }
    sql.push(" order by ")
        .push(order.column())
        .push(" desc, c.issue_id desc limit ")
        .push_bind(rows);
    Ok(sql.build_query_as().fetch_all(executor).await?)
}

/// Events per issue in [`SPARKLINE_BUCKETS`] equal buckets of `[from, to)`,
/// from the hourly counts.
pub async fn sparklines(
    executor: impl PgExecutor<'_>,
    ids: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<BTreeMap<i64, Vec<i64>>, sqlx::Error> {
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
    .fetch_all(executor)
    .await?;
    let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (issue, bucket, events) in rows {
        let line = out
            .entry(issue)
            .or_insert_with(|| vec![0; SPARKLINE_BUCKETS]);
        if let Some(slot) = usize::try_from(bucket).ok().and_then(|b| line.get_mut(b)) {
            *slot += events;
        }
    }
    Ok(out)
}

/// One issue as stored.
#[derive(FromRow)]
pub struct Issue {
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

/// The 404 of an issue that does not exist.
pub fn not_found(issue_id: i64) -> ApiError {
    ApiError::NotFound(format!("no issue {issue_id}"))
}

/// One issue by id.
pub async fn find(
    executor: impl PgExecutor<'_>,
    issue_id: i64,
) -> Result<Option<Issue>, sqlx::Error> {
    sqlx::query_as(
        "select i.issue_id, i.project_id, p.slug as project_slug, i.title, i.culprit, i.level,
                i.platform, i.status, i.event_count, i.first_seen, i.last_seen, i.first_release,
                i.last_release, i.resolved_in_release, i.ignore_until, i.ignore_until_count
         from issue i join project p on p.project_id = i.project_id
         where i.issue_id = $1",
    )
    .bind(issue_id)
    .fetch_optional(executor)
    .await
}

/// [`find`], locking the issue's row until the transaction ends.
pub async fn find_for_update(
    conn: &mut PgConnection,
    issue_id: i64,
) -> Result<Option<Issue>, sqlx::Error> {
    sqlx::query("select 1 from issue where issue_id = $1 for update")
        .bind(issue_id)
        .execute(&mut *conn)
        .await?;
    find(&mut *conn, issue_id).await
}

/// How many distinct users an issue's stored events name.
pub async fn user_count(executor: impl PgExecutor<'_>, issue_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(distinct user_key) from error_event where issue_id = $1")
        .bind(issue_id)
        .fetch_one(executor)
        .await
}

/// The id of an issue's newest stored event.
pub async fn latest_event_id(
    executor: impl PgExecutor<'_>,
    issue_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "select {EVENT_ID_HEX} from error_event where issue_id = $1
         order by ts desc, event_id desc limit 1"
    ))
    .bind(issue_id)
    .fetch_optional(executor)
    .await
}

/// An issue's events per hour over `[from, to)`, zero-filled (at most the last
/// 31 days of hours).
pub async fn hourly(
    executor: impl PgExecutor<'_>,
    issue_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<EventBucket>, sqlx::Error> {
    let start = from.duration_trunc(Duration::hours(1)).unwrap_or(from);
    let start = start.max(to - Duration::days(31));
    let counts: BTreeMap<DateTime<Utc>, i64> = sqlx::query_as(
        "select hour, events from issue_hour where issue_id = $1 and hour >= $2 and hour < $3",
    )
    .bind(issue_id)
    .bind(start)
    .bind(to)
    .fetch_all(executor)
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

/// The most frequent values of each tag among an issue's latest events.
pub async fn top_tags(
    executor: impl PgExecutor<'_>,
    issue_id: i64,
) -> Result<Vec<TagSummary>, sqlx::Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "with recent as (select tags from error_event where issue_id = $1
                         order by ts desc limit $2)
         select t.key, t.value, count(*) from recent, jsonb_each_text(recent.tags) t
         group by 1, 2",
    )
    .bind(issue_id)
    .bind(TAG_SAMPLE)
    .fetch_all(executor)
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
    tags.truncate(TOP_TAGS);
    Ok(tags)
}

/// An issue's latest activity (status changes, regressions), newest first.
pub async fn activity(
    executor: impl PgExecutor<'_>,
    issue_id: i64,
) -> Result<Vec<IssueActivity>, sqlx::Error> {
    let rows: Vec<(String, Value, Option<String>, DateTime<Utc>)> = sqlx::query_as(
        "select a.kind, a.detail, u.email, a.created_at
         from issue_activity a left join app_user u on u.user_id = a.user_id
         where a.issue_id = $1 order by a.created_at desc, a.issue_activity_id desc limit 100",
    )
    .bind(issue_id)
    .fetch_all(executor)
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

/// A status change of triage, as stored.
pub enum StatusChange {
    /// Resolved, in a release when one is named.
    Resolved {
        release: Option<String>,
    },
    /// Ignored until a time or until the issue's event count reaches a number.
    Ignored {
        until: Option<DateTime<Utc>>,
        until_count: Option<i64>,
        /// The number of further events asked for, as the activity shows it.
        more_events: Option<i64>,
    },
    Unresolved,
}

/// Sets an issue's status and records the change in its activity, by
/// `user_id` when a person made it.
pub async fn set_status(
    conn: &mut PgConnection,
    issue_id: i64,
    change: &StatusChange,
    user_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    let (kind, detail) = match change {
        StatusChange::Resolved { release } => {
            sqlx::query(
                "update issue set status = 'resolved', resolved_at = now(), resolved_in_release = $2,
                        ignore_until = null, ignore_until_count = null, updated_at = now()
                 where issue_id = $1",
            )
            .bind(issue_id)
            .bind(release)
            .execute(&mut *conn)
            .await?;
            match release {
                Some(release) => ("resolved_in_release", json!({ "release": release })),
                None => ("resolved", json!({})),
            }
        }
        StatusChange::Ignored {
            until,
            until_count,
            more_events,
        } => {
            sqlx::query(
                "update issue set status = 'ignored', ignore_until = $2, ignore_until_count = $3,
                        resolved_at = null, resolved_in_release = null, updated_at = now()
                 where issue_id = $1",
            )
            .bind(issue_id)
            .bind(until)
            .bind(until_count)
            .execute(&mut *conn)
            .await?;
            ("ignored", json!({ "until": until, "count": more_events }))
        }
        StatusChange::Unresolved => {
            sqlx::query(
                "update issue set status = 'unresolved', resolved_at = null, resolved_in_release = null,
                        ignore_until = null, ignore_until_count = null, updated_at = now()
                 where issue_id = $1",
            )
            .bind(issue_id)
            .execute(&mut *conn)
            .await?;
            ("unresolved", json!({}))
        }
    };
    sqlx::query(
        "insert into issue_activity (issue_id, kind, detail, user_id) values ($1, $2, $3, $4)",
    )
    .bind(issue_id)
    .bind(kind)
    .bind(detail)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
