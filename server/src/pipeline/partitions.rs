//! Partition upkeep and retention for the time-partitioned tables. Each domain
//! declares its own tables ([`PartitionedTable`]: the table, its period, its
//! retention, what to clean up beside it, the index built once a partition is
//! closed); this module knows none of them by name.
//!
//! - Partitions exist ahead of time, so writes never wait for DDL; rows outside
//!   every partition land in the table's default partition, and are moved into a
//!   partition when one is made for their time.
//! - Retention drops whole partitions (no `DELETE` bloat) and deletes old rows
//!   from the default partition and from the rollups kept beside each table.
//! - Search indexes that are too costly to keep up while a partition is written
//!   (the trigram index on log messages costs ~30 µs a line) are built once the
//!   partition is closed, concurrently, so searches over past hours use an index
//!   and only the current hour is scanned.
//!
//! One instance at a time does this (advisory locks); [`run`] repeats it every few
//! minutes and `sightline maintenance` runs it once.

use std::time::Duration;

use chrono::{DateTime, Datelike, DurationRound, TimeDelta, Utc};
use serde::Serialize;
use sqlx::{Connection, PgPool, Postgres, Transaction};
use tokio_util::sync::CancellationToken;

/// How often the worker runs.
const INTERVAL: Duration = Duration::from_secs(300);
/// A partition is closed (and gets its search index) this long after its end,
/// so that lines arriving a little late do not pay for the index.
const GRACE: TimeDelta = TimeDelta::minutes(5);

/// How much time one partition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Hour,
    Day,
    /// Calendar months (UTC), for tables kept for years.
    Month,
}

impl Period {
    /// The start of the period holding `t`.
    fn floor(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Period::Hour => t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t),
            Period::Day => t.duration_trunc(TimeDelta::days(1)).unwrap_or(t),
            Period::Month => t
                .date_naive()
                .with_day(1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map_or(t, |d| d.and_utc()),
        }
    }

    /// The start of the period after the one starting at `start`.
    fn next(self, start: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Period::Hour => start + TimeDelta::hours(1),
            Period::Day => start + TimeDelta::days(1),
            Period::Month => start
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(start + TimeDelta::days(31)),
        }
    }

    /// Partitions made before and after now: hours for a day either way (older
    /// lines wait in the default partition and move when their hour is made), or
    /// days from the oldest kept to two days ahead.
    fn window(self, now: DateTime<Utc>, cutoff: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match self {
            Period::Hour => (
                self.floor(now - TimeDelta::days(1)).max(cutoff),
                self.floor(now + TimeDelta::days(1)),
            ),
            Period::Day => (cutoff, self.floor(now + TimeDelta::days(2))),
            Period::Month => (cutoff, self.floor(now + TimeDelta::days(2))),
        }
    }
}

/// An index built on each closed partition.
#[derive(Debug, Clone, Copy)]
pub struct ClosedIndex {
    /// Appended to the partition's name to name the index.
    pub suffix: &'static str,
    /// What follows `on <partition>` in `create index`.
    pub definition: &'static str,
}

/// A table range-partitioned on `ts` that this module keeps, as its domain
/// declares it.
#[derive(Debug, Clone)]
pub struct PartitionedTable {
    pub table: &'static str,
    pub period: Period,
    pub retention_days: u64,
    /// Statements run with `$1` = the retention cutoff, for the table's rollups.
    pub cleanups: &'static [&'static str],
    pub closed_index: Option<ClosedIndex>,
}

/// What one maintenance run did.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct MaintenanceReport {
    /// Partitions created.
    pub created: Vec<String>,
    /// Partitions dropped by retention.
    pub dropped: Vec<String>,
    /// Rows past retention deleted from default partitions.
    pub purged_default_rows: u64,
    /// Search indexes built on closed partitions.
    pub indexed: Vec<String>,
    /// Another instance held the maintenance lock; nothing was done.
    pub skipped: bool,
}

/// Name of the partition of `table` starting at `start`: `<table>_pYYYYMM` for
/// months, `<table>_pYYYYMMDD` for days, `<table>_pYYYYMMDDHH` for hours.
pub fn partition_name(table: &str, period: Period, start: DateTime<Utc>) -> String {
    match period {
        Period::Month => format!("{table}_p{}", start.format("%Y%m")),
        Period::Day => format!("{table}_p{}", start.format("%Y%m%d")),
        Period::Hour => format!("{table}_p{}", start.format("%Y%m%d%H")),
    }
}

/// The time range a partition name stands for (month, day or hour, whatever the
/// table's period is now: day partitions made by older versions keep working).
fn range_of(table: &str, name: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let digits = name.strip_prefix(table)?.strip_prefix("_p")?;
    if digits.len() == 6 {
        let month = chrono::NaiveDate::parse_from_str(&format!("{digits}01"), "%Y%m%d").ok()?;
        let start = month.and_hms_opt(0, 0, 0)?.and_utc();
        return Some((start, Period::Month.next(start)));
    }
    let day = chrono::NaiveDate::parse_from_str(digits.get(..8)?, "%Y%m%d").ok()?;
    let (hour, length) = match digits.len() {
        8 => (0, TimeDelta::days(1)),
        10 => (digits.get(8..)?.parse().ok()?, TimeDelta::hours(1)),
        _ => return None,
    };
    let start = day.and_hms_opt(hour, 0, 0)?;
    let start = start.and_utc();
    Some((start, start + length))
}

/// Creates missing partitions and applies retention for every table, as of `now`.
pub async fn run_once(
    pool: &PgPool,
    tables: &[PartitionedTable],
    now: DateTime<Utc>,
) -> Result<MaintenanceReport, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let locked: bool =
        sqlx::query_scalar("select pg_try_advisory_xact_lock(hashtext('sightline.partitions'))")
            .fetch_one(&mut *tx)
            .await?;
    if !locked {
        return Ok(MaintenanceReport {
            skipped: true,
            ..Default::default()
        });
    }
    // Never stall ingestion behind a long wait for a table lock.
    sqlx::query("set local lock_timeout = '5s'")
        .execute(&mut *tx)
        .await?;
    let mut report = MaintenanceReport::default();
    for table in tables {
        keep(&mut tx, table, now, &mut report).await?;
    }
    tx.commit().await?;
    Ok(report)
}

async fn keep(
    tx: &mut Transaction<'_, Postgres>,
    table: &PartitionedTable,
    now: DateTime<Utc>,
    report: &mut MaintenanceReport,
) -> Result<(), sqlx::Error> {
    let retention = TimeDelta::days(i64::try_from(table.retention_days).unwrap_or(3650));
    let cutoff = table.period.floor(now - retention);
    let mut existing = Vec::new();
    for name in partitions_of(tx, table.table).await? {
        let Some((start, end)) = range_of(table.table, &name) else {
            continue;
        };
        if end <= cutoff {
            sqlx::query(&format!("drop table {name}"))
                .execute(&mut **tx)
                .await?;
            report.dropped.push(name);
        } else {
            existing.push((start, end));
        }
    }
    let (first, last) = table.period.window(now, cutoff);
    let mut start = first;
    while start <= last {
        let end = table.period.next(start);
        if !existing.iter().any(|&(s, e)| s < end && start < e) {
            report
                .created
                .push(create_partition(tx, table, start, end).await?);
        }
        start = end;
    }
    report.purged_default_rows += sqlx::query(&format!(
        "delete from {}_default where ts < $1",
        table.table
    ))
    .bind(cutoff)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    for cleanup in table.cleanups {
        sqlx::query(cleanup).bind(cutoff).execute(&mut **tx).await?;
    }
    Ok(())
}

async fn partitions_of(
    conn: &mut sqlx::PgConnection,
    table: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = $1::regclass order by 1",
    )
    .bind(table)
    .fetch_all(conn)
    .await
}

/// Creates the partition `[start, end)`. Rows of that range already in the
/// default partition (sent before the partition existed) are moved into it first,
/// since PostgreSQL refuses a new partition whose rows sit in the default one.
async fn create_partition(
    tx: &mut Transaction<'_, Postgres>,
    table: &PartitionedTable,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let parent = table.table;
    let name = partition_name(parent, table.period, start);
    let bounds = format!(
        "for values from ('{}') to ('{}')",
        start.format("%Y-%m-%d %H:%M:%S+00"),
        end.format("%Y-%m-%d %H:%M:%S+00")
    );
    let stray: bool = sqlx::query_scalar(&format!(
        "select exists(select 1 from {parent}_default where ts >= $1 and ts < $2)"
    ))
    .bind(start)
    .bind(end)
    .fetch_one(&mut **tx)
    .await?;
    if !stray {
        sqlx::query(&format!(
            "create table {name} partition of {parent} {bounds}"
        ))
        .execute(&mut **tx)
        .await?;
        return Ok(name);
    }
    sqlx::query(&format!(
        "create table {name} (like {parent} including defaults including constraints including compression)"
    ))
    .execute(&mut **tx)
    .await?;
    sqlx::query(&format!(
        "with moved as (delete from {parent}_default where ts >= $1 and ts < $2 returning *)
         insert into {name} select * from moved"
    ))
    .bind(start)
    .bind(end)
    .execute(&mut **tx)
    .await?;
    sqlx::query(&format!(
        "alter table {parent} attach partition {name} {bounds}"
    ))
    .execute(&mut **tx)
    .await?;
    Ok(name)
}

/// Builds the closed-partition indexes that are missing, as of `now`, one at a
/// time with `create index concurrently` (ingestion into those partitions goes on
/// meanwhile). An index left invalid by an interrupted build is rebuilt.
pub async fn index_closed(
    pool: &PgPool,
    tables: &[PartitionedTable],
    now: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    // A session-level lock on a connection of its own: concurrent index builds
    // cannot run inside a transaction.
    let mut conn = pool.acquire().await?.detach();
    let locked: bool =
        sqlx::query_scalar("select pg_try_advisory_lock(hashtext('sightline.partitions.index'))")
            .fetch_one(&mut conn)
            .await?;
    if !locked {
        return Ok(Vec::new());
    }
    // More memory than the default 64 MB builds a GIN index with fewer passes.
    sqlx::query("set maintenance_work_mem = '256MB'")
        .execute(&mut conn)
        .await?;
    let mut built = Vec::new();
    let result = build_missing(&mut conn, tables, now, &mut built).await;
    // Closing the connection releases the lock whatever happened.
    let _ = conn.close().await;
    result.map(|()| built)
}

async fn build_missing(
    conn: &mut sqlx::PgConnection,
    tables: &[PartitionedTable],
    now: DateTime<Utc>,
    built: &mut Vec<String>,
) -> Result<(), sqlx::Error> {
    for table in tables {
        let Some(index) = table.closed_index else {
            continue;
        };
        for partition in partitions_of(&mut *conn, table.table).await? {
            let closed =
                range_of(table.table, &partition).is_some_and(|(_, end)| end + GRACE <= now);
            if !closed {
                continue;
            }
            let name = format!("{partition}_{}", index.suffix);
            let valid: Option<bool> = sqlx::query_scalar(
                "select i.indisvalid from pg_index i join pg_class c on c.oid = i.indexrelid
                 where c.relname = $1",
            )
            .bind(&name)
            .fetch_optional(&mut *conn)
            .await?;
            match valid {
                Some(true) => continue,
                Some(false) => {
                    sqlx::query(&format!("drop index concurrently if exists {name}"))
                        .execute(&mut *conn)
                        .await?;
                }
                None => {}
            }
            let started = std::time::Instant::now();
            sqlx::query(&format!(
                "create index concurrently {name} on {partition} {}",
                index.definition
            ))
            .execute(&mut *conn)
            .await?;
            tracing::info!(
                index = %name,
                duration_ms = started.elapsed().as_millis() as u64,
                "search index built on a closed partition"
            );
            built.push(name);
        }
    }
    Ok(())
}

/// The maintenance worker: runs now, then every few minutes, until `cancel`.
pub async fn run(pool: PgPool, tables: Vec<PartitionedTable>, cancel: CancellationToken) {
    loop {
        match run_once(&pool, &tables, Utc::now()).await {
            Ok(report) if report.skipped => {
                tracing::debug!("partition upkeep skipped: another instance holds the lock")
            }
            Ok(report) => tracing::info!(
                partitions.created = report.created.len(),
                partitions.dropped = report.dropped.len(),
                default.purged_rows = report.purged_default_rows,
                "partitions maintained"
            ),
            Err(error) => tracing::error!(error = %error, "partition upkeep failed"),
        }
        let indexing = index_closed(&pool, &tables, Utc::now());
        tokio::select! {
            () = cancel.cancelled() => break,
            result = indexing => if let Err(error) = result {
                tracing::error!(error = %error, "indexing closed partitions failed");
            },
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(INTERVAL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_and_ranges_round_trip() {
        let hour = Utc.with_ymd_and_hms(2026, 11, 27, 13, 0, 0).unwrap();
        let name = partition_name("log_entry", Period::Hour, hour);
        assert_eq!(name, "log_entry_p2026112713");
        assert_eq!(
            range_of("log_entry", &name),
            Some((hour, hour + TimeDelta::hours(1)))
        );
        let day = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap();
        assert_eq!(
            range_of("log_entry", "log_entry_p20261127"),
            Some((day, day + TimeDelta::days(1)))
        );
        assert_eq!(range_of("log_entry", "log_entry_default"), None);
        assert_eq!(range_of("error_event", "log_entry_p20261127"), None);
    }

    #[test]
    fn month_partitions_follow_the_calendar() {
        let t = Utc.with_ymd_and_hms(2026, 12, 7, 13, 5, 0).unwrap();
        let december = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let january = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(Period::Month.floor(t), december);
        assert_eq!(Period::Month.next(december), january);
        let name = partition_name("metric_rollup_1h", Period::Month, december);
        assert_eq!(name, "metric_rollup_1h_p202612");
        assert_eq!(
            range_of("metric_rollup_1h", &name),
            Some((december, january))
        );
        assert_eq!(
            range_of("metric_rollup_1h", "metric_rollup_1h_p202613"),
            None
        );
    }
}
