//! [`LogWriter`]: the one path every log line takes into PostgreSQL. The queue
//! and group commit are [`crate::pipeline::queue`]'s; a batch is written here with
//! one `COPY`, and the per-minute counts in the same transaction.
//!
//! After each commit the writer sends `NOTIFY sightline_logs` with the id range of
//! the rows per project, which live tail (on any instance) turns into new lines.

use std::{collections::BTreeMap, fmt::Write as _};

use super::record::LogRecord;
pub use crate::pipeline::queue::WriteError;
use crate::{
    db::copy::{push_optional, push_text},
    pipeline::{
        clock::{self, ReceiveWindow},
        queue::{Batch, Job, Queue},
    },
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::PgPool;

/// Most rows written in one transaction. A batch's ids come from one block of
/// 2^20 sequence values, so this plus [`MAX_RECORDS_PER_JOB`] must stay below it.
pub const MAX_BATCH_ROWS: usize = 50_000;
/// Most records one request may hand over.
pub const MAX_RECORDS_PER_JOB: usize = 100_000;
/// The channel live tail listens on.
pub const NOTIFY_CHANNEL: &str = "sightline_logs";

/// A committed batch's rows of one project, as sent to live tail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchNotice {
    /// Project id.
    pub p: i64,
    /// First and last `log_id` of the rows (inclusive).
    pub lo: i64,
    pub hi: i64,
    /// Earliest and latest `ts` of the rows (for partition pruning).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Handle to the log batch writer; cheap to clone.
pub type LogWriter = Queue<LogBatch>;

/// How log lines are written: [`Queue`]'s batches, with `COPY`.
pub struct LogBatch;

impl Batch for LogBatch {
    type Item = LogRecord;
    type Answer = ();
    const NAME: &'static str = "logs";
    /// Two COPY streams measured markedly faster than one on two cores.
    const WRITERS: usize = 2;
    const MAX_ITEMS: usize = MAX_BATCH_ROWS;
    const MAX_BYTES: usize = usize::MAX;

    fn estimated_bytes(record: &LogRecord) -> usize {
        96 + record.message.len()
            + record.service.len()
            + record.host.len()
            + record.attributes.estimated_bytes()
    }

    /// The time the line was sent with is kept in the attributes
    /// `sightline.original_ts` and `sightline.clock_drift`.
    fn correct_clock(record: &mut LogRecord, window: &ReceiveWindow) {
        if let Some(drift) = window.drift(record.ts) {
            let attributes = record.attributes.map_mut();
            attributes.insert(
                "sightline.original_ts".into(),
                Value::String(clock::rfc3339(record.ts)),
            );
            attributes.insert(
                "sightline.clock_drift".into(),
                Value::String(drift.kind().into()),
            );
            record.ts = window.received;
        }
    }

    async fn write(&self, pool: &PgPool, jobs: &[Job<Self>]) -> anyhow::Result<Vec<()>> {
        copy_batch(pool, jobs).await?;
        Ok(vec![(); jobs.len()])
    }
}

async fn copy_batch(pool: &PgPool, jobs: &[Job<LogBatch>]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let block: i64 = sqlx::query_scalar("select nextval('log_entry_log_id_seq')")
        .fetch_one(&mut *tx)
        .await?;
    let mut buffer = String::with_capacity(jobs.iter().map(|j| j.items.len() * 320).sum());
    let mut notices: BTreeMap<i64, BatchNotice> = BTreeMap::new();
    let mut id = block;
    for job in jobs {
        for record in &job.items {
            encode_row(&mut buffer, job.project_id, id, record);
            notices
                .entry(job.project_id)
                .and_modify(|n| {
                    n.hi = id;
                    n.from = n.from.min(record.ts);
                    n.to = n.to.max(record.ts);
                })
                .or_insert(BatchNotice {
                    p: job.project_id,
                    lo: id,
                    hi: id,
                    from: record.ts,
                    to: record.ts,
                });
            id += 1;
        }
    }
    let mut copy = tx
        .copy_in_raw(
            "copy log_entry (project_id, log_id, ts, level, service, host, message, trace_id, span_id, attributes) from stdin",
        )
        .await?;
    copy.send(buffer.into_bytes()).await?;
    copy.finish().await?;
    // Last, so that the rows of `log_count_minute` another writer also adds to
    // (lines arrive in time order: every batch counts the same minutes) are
    // locked only until this commit, not for the whole COPY.
    upsert_counts(&mut tx, jobs).await?;
    for notice in notices.values() {
        let payload = serde_json::to_string(notice).unwrap_or_default();
        sqlx::query("select pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(payload)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Adds the batch's lines to `log_count_minute`. Keys are sorted so that two
/// writers updating the same minutes always lock rows in the same order (no
/// deadlocks).
async fn upsert_counts(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    jobs: &[Job<LogBatch>],
) -> Result<(), sqlx::Error> {
    let mut counts: BTreeMap<(i64, i64, i16, &str), i64> = BTreeMap::new();
    for job in jobs {
        for record in &job.items {
            let minute = record.ts.timestamp().div_euclid(60) * 60;
            *counts
                .entry((
                    job.project_id,
                    minute,
                    record.level.as_i16(),
                    record.service.as_str(),
                ))
                .or_default() += 1;
        }
    }
    let mut projects = Vec::with_capacity(counts.len());
    let mut minutes = Vec::with_capacity(counts.len());
    let mut levels = Vec::with_capacity(counts.len());
    let mut services = Vec::with_capacity(counts.len());
    let mut lines = Vec::with_capacity(counts.len());
    for ((project, minute, level, service), n) in counts {
        projects.push(project);
        minutes.push(DateTime::from_timestamp(minute, 0).unwrap_or_default());
        levels.push(level);
        services.push(service.to_string());
        lines.push(n);
    }
    sqlx::query(
        "insert into log_count_minute (project_id, minute, level, service, lines)
         select * from unnest($1::bigint[], $2::timestamptz[], $3::smallint[], $4::text[], $5::bigint[])
         on conflict (project_id, minute, level, service)
         do update set lines = log_count_minute.lines + excluded.lines",
    )
    .bind(projects)
    .bind(minutes)
    .bind(levels)
    .bind(services)
    .bind(lines)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One row of `COPY ... FROM STDIN` in PostgreSQL's text format.
pub fn encode_row(out: &mut String, project_id: i64, log_id: i64, r: &LogRecord) {
    let _ = write!(
        out,
        "{project_id}\t{log_id}\t{}\t{}\t",
        r.ts.to_rfc3339_opts(SecondsFormat::Micros, true),
        r.level.as_i16()
    );
    push_text(out, &r.service);
    out.push('\t');
    push_text(out, &r.host);
    out.push('\t');
    push_text(out, &r.message);
    out.push('\t');
    push_optional(out, r.trace_id.as_deref());
    out.push('\t');
    push_optional(out, r.span_id.as_deref());
    out.push('\t');
    push_text(out, &r.attributes.as_json());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::level::Level;
    use chrono::TimeZone;

    #[test]
    fn rows_are_escaped_for_copy() {
        let mut r = LogRecord::new(
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap(),
            "line one\nline\ttwo \\ end",
        );
        r.level = Level::Error;
        r.trace_id = Some("t1".into());
        r.attributes
            .map_mut()
            .insert("k".into(), serde_json::json!("a\nb"));
        let mut out = String::new();
        encode_row(&mut out, 7, 42, &r);
        assert_eq!(
            out,
            "7\t42\t2026-01-02T03:04:05.000000Z\t5\t\t\tline one\\nline\\ttwo \\\\ end\tt1\t\\N\t{\"k\":\"a\\\\nb\"}\n"
        );
    }
}
