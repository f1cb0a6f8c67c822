//! Partition upkeep and retention for `log_entry`: day partitions exist from the
//! oldest retained day to two days ahead; older partitions are dropped whole (no
//! `DELETE` bloat); the default partition (far past or future timestamps) is
//! purged of rows past retention. One instance at a time does this (advisory
//! lock); [`run`] repeats it hourly and `sightline maintenance` runs it once.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};
use tokio_util::sync::CancellationToken;

/// Days of partitions created ahead of today.
const DAYS_AHEAD: u64 = 2;
/// How often the worker runs.
const INTERVAL: Duration = Duration::from_secs(3600);

/// What one maintenance run did.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct MaintenanceReport {
    /// Partitions created.
    pub created: Vec<String>,
    /// Partitions dropped by retention.
    pub dropped: Vec<String>,
    /// Rows past retention deleted from the default partition.
    pub purged_default_rows: u64,
    /// Another instance held the maintenance lock; nothing was done.
    pub skipped: bool,
}

/// Name of the partition holding `day`.
pub fn partition_name(day: NaiveDate) -> String {
    format!("log_entry_p{}", day.format("%Y%m%d"))
}

fn day_of(name: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(name.strip_prefix("log_entry_p")?, "%Y%m%d").ok()
}

/// Creates missing partitions and applies retention, as of `today`.
pub async fn run_once(
    pool: &PgPool,
    retention_days: u64,
    today: NaiveDate,
) -> Result<MaintenanceReport, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let locked: bool = sqlx::query_scalar(
        "select pg_try_advisory_xact_lock(hashtext('sightline.logs.maintenance'))",
    )
    .fetch_one(&mut *tx)
    .await?;
    if !locked {
        return Ok(MaintenanceReport {
            skipped: true,
            ..Default::default()
        });
    }
    // Never stall ingestion behind a long wait for the table lock.
    sqlx::query("set local lock_timeout = '5s'")
        .execute(&mut *tx)
        .await?;

    let existing: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'log_entry'::regclass",
    )
    .fetch_all(&mut *tx)
    .await?;
    let oldest_kept = today
        .checked_sub_days(Days::new(retention_days))
        .unwrap_or(today);
    let newest = today
        .checked_add_days(Days::new(DAYS_AHEAD))
        .unwrap_or(today);

    let mut report = MaintenanceReport::default();
    for name in &existing {
        if let Some(day) = day_of(name) {
            if day < oldest_kept {
                sqlx::query(&format!("drop table {name}"))
                    .execute(&mut *tx)
                    .await?;
                report.dropped.push(name.clone());
            }
        }
    }
    let mut day = oldest_kept;
    while day <= newest {
        let name = partition_name(day);
        if !existing.contains(&name) {
            create_partition(&mut tx, day).await?;
            report.created.push(name);
        }
        day = day.succ_opt().unwrap_or(newest + Days::new(1));
    }
    let cutoff = oldest_kept
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    report.purged_default_rows = sqlx::query("delete from log_entry_default where ts < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query("delete from log_count_minute where minute < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(report)
}

/// Creates the partition of `day`. Rows of that day already in the default
/// partition (sent before the partition existed) are moved into it first, since
/// PostgreSQL refuses a new partition whose rows sit in the default one.
async fn create_partition(
    tx: &mut Transaction<'_, Postgres>,
    day: NaiveDate,
) -> Result<(), sqlx::Error> {
    let name = partition_name(day);
    let from = day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let to = from + chrono::Duration::days(1);
    let bounds = format!(
        "for values from ('{}') to ('{}')",
        from.format("%Y-%m-%d %H:%M:%S+00"),
        to.format("%Y-%m-%d %H:%M:%S+00")
    );
    let stray: bool = sqlx::query_scalar(
        "select exists(select 1 from log_entry_default where ts >= $1 and ts < $2)",
    )
    .bind(from)
    .bind(to)
    .fetch_one(&mut **tx)
    .await?;
    if !stray {
        sqlx::query(&format!(
            "create table {name} partition of log_entry {bounds}"
        ))
        .execute(&mut **tx)
        .await?;
        return Ok(());
    }
    sqlx::query(&format!(
        "create table {name} (like log_entry including defaults including constraints)"
    ))
    .execute(&mut **tx)
    .await?;
    sqlx::query(&format!(
        "with moved as (delete from log_entry_default where ts >= $1 and ts < $2 returning *)
         insert into {name} select * from moved"
    ))
    .bind(from)
    .bind(to)
    .execute(&mut **tx)
    .await?;
    sqlx::query(&format!(
        "alter table log_entry attach partition {name} {bounds}"
    ))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The maintenance worker: runs now, then every hour, until `cancel`.
pub async fn run(pool: PgPool, retention_days: u64, cancel: CancellationToken) {
    loop {
        let today = Utc::now().date_naive();
        match run_once(&pool, retention_days, today).await {
            Ok(report) if report.skipped => {
                tracing::debug!("log maintenance skipped: another instance holds the lock")
            }
            Ok(report) => tracing::info!(
                partitions.created = report.created.len(),
                partitions.dropped = report.dropped.len(),
                default.purged_rows = report.purged_default_rows,
                "log partitions maintained"
            ),
            Err(error) => tracing::error!(error = %error, "log partition maintenance failed"),
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(INTERVAL) => {}
        }
    }
}
