//! [`SpanWriter`]: the one path every span takes into PostgreSQL. The queue and
//! group commit are [`crate::pipeline::queue`]'s; a batch is written here with one
//! `COPY`, less the Sentry transactions an SDK sent again.

use std::{collections::HashSet, fmt::Write as _};

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{PgConnection, PgPool};

use super::span::SpanRecord;
pub use crate::pipeline::queue::WriteError;
use crate::{
    db::copy::{push_optional, push_text},
    pipeline::{
        clock::{self, ReceiveWindow},
        dedup::{self, SeenKey},
        queue::{Batch, Job, Queue},
    },
};

/// Most spans written in one transaction.
pub const MAX_BATCH_ROWS: usize = 50_000;
/// Most spans one request may hand over.
pub const MAX_SPANS_PER_JOB: usize = 100_000;
/// Handle to the span batch writer; cheap to clone.
pub type SpanWriter = Queue<SpanBatch>;

/// How spans are written: [`Queue`]'s batches, with `COPY`.
pub struct SpanBatch;

impl Batch for SpanBatch {
    type Item = SpanRecord;
    type Answer = ();
    const NAME: &'static str = "spans";
    /// As for logs.
    const WRITERS: usize = 2;
    const MAX_ITEMS: usize = MAX_BATCH_ROWS;
    const MAX_BYTES: usize = usize::MAX;

    fn estimated_bytes(span: &SpanRecord) -> usize {
        256 + span.transaction.len()
            + span.name.len()
            + span.op.len()
            + span.service.len()
            + span.environment.len()
            + span.release.len()
            + (span.tags.len() + span.data.len()) * 64
    }

    /// The start the span was sent with is kept in its data as
    /// `sightline.original_ts` and `sightline.clock_drift`; its duration stays.
    fn correct_clock(span: &mut SpanRecord, window: &ReceiveWindow) {
        if let Some(drift) = window.drift(span.ts) {
            span.data.insert(
                "sightline.original_ts".into(),
                serde_json::Value::String(clock::rfc3339(span.ts)),
            );
            span.data.insert(
                "sightline.clock_drift".into(),
                serde_json::Value::String(drift.kind().into()),
            );
            span.ts = window.received;
        }
    }

    async fn write(&self, pool: &PgPool, jobs: &[Job<Self>]) -> anyhow::Result<Vec<()>> {
        copy_batch(pool, jobs).await?;
        Ok(vec![(); jobs.len()])
    }
}

async fn copy_batch(pool: &PgPool, jobs: &[Job<SpanBatch>]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let fresh = fresh_transactions(&mut tx, jobs).await?;
    let mut kept = HashSet::new();
    let mut repeated = 0u64;
    let mut buffer = String::with_capacity(jobs.iter().map(|j| j.items.len() * 400).sum());
    for job in jobs {
        // A transaction's spans follow its segment; those of a repeated one are
        // skipped with it.
        let mut skipping: Option<&str> = None;
        for span in &job.items {
            if let Some(id) = span.event_id.as_deref() {
                let first = fresh.contains(&(job.project_id, id.to_string()))
                    && kept.insert((job.project_id, id));
                skipping = (!first).then_some(span.span_id.as_str());
                repeated += u64::from(!first);
            } else if skipping.is_some_and(|segment| span.segment_id.as_deref() != Some(segment)) {
                skipping = None;
            }
            if skipping.is_none() {
                encode_row(&mut buffer, job.project_id, span);
            }
        }
    }
    if repeated > 0 {
        metrics::counter!("sentry_transactions_duplicate_total").increment(repeated);
    }
    let mut copy = tx
        .copy_in_raw(
            "copy span (project_id, ts, trace_id, span_id, parent_span_id, segment_id, is_segment,
                        transaction, op, name, status, duration_ms, service, environment, release,
                        http_status, tags, data) from stdin",
        )
        .await?;
    copy.send(buffer.into_bytes()).await?;
    copy.finish().await?;
    tx.commit().await
}

/// The event ids of the batch's Sentry transactions not stored before: an SDK
/// that got no answer retries the envelope. They are recorded in the batch's
/// transaction ([`dedup`]), so a failed batch records nothing.
async fn fresh_transactions(
    conn: &mut PgConnection,
    jobs: &[Job<SpanBatch>],
) -> Result<HashSet<SeenKey>, sqlx::Error> {
    let mut unique = HashSet::new();
    let seen: Vec<(i64, &str, DateTime<Utc>)> = jobs
        .iter()
        .flat_map(|job| {
            job.items
                .iter()
                .filter_map(move |span| Some((job.project_id, span.event_id.as_deref()?, span.ts)))
        })
        .filter(|(project, id, _)| unique.insert((*project, *id)))
        .collect();
    if seen.is_empty() {
        return Ok(HashSet::new());
    }
    dedup::first_sightings(conn, &seen).await
}

/// One row of `COPY span ... FROM STDIN` in PostgreSQL's text format.
pub fn encode_row(out: &mut String, project_id: i64, s: &SpanRecord) {
    let _ = write!(
        out,
        "{project_id}\t{}\t",
        s.ts.to_rfc3339_opts(SecondsFormat::Micros, true)
    );
    push_text(out, &s.trace_id);
    out.push('\t');
    push_text(out, &s.span_id);
    out.push('\t');
    push_optional(out, s.parent_span_id.as_deref());
    out.push('\t');
    push_optional(out, s.segment_id.as_deref());
    out.push_str(if s.is_segment { "\tt\t" } else { "\tf\t" });
    for text in [&s.transaction, &s.op, &s.name] {
        push_text(out, text);
        out.push('\t');
    }
    let _ = write!(out, "{}\t{}\t", s.status.as_str(), s.duration_ms);
    for text in [&s.service, &s.environment, &s.release] {
        push_text(out, text);
        out.push('\t');
    }
    match s.http_status {
        Some(code) => {
            let _ = write!(out, "{code}\t");
        }
        None => out.push_str("\\N\t"),
    }
    push_text(
        out,
        &serde_json::to_string(&s.tags).unwrap_or_else(|_| "{}".into()),
    );
    out.push('\t');
    push_text(
        out,
        &serde_json::to_string(&s.data).unwrap_or_else(|_| "{}".into()),
    );
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::{json, Map};

    use super::*;
    use crate::traces::span::SpanStatus;

    #[test]
    fn rows_are_escaped_for_copy() {
        let mut data = Map::new();
        data.insert("db.statement".into(), json!("select 1\nfrom t"));
        let span = SpanRecord {
            event_id: None,
            ts: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: None,
            segment_id: Some("b7ad6b7169203331".into()),
            is_segment: true,
            transaction: "GET /a\tb".into(),
            op: "http.server".into(),
            name: String::new(),
            status: SpanStatus::NotFound,
            duration_ms: 12.5,
            service: "api".into(),
            environment: String::new(),
            release: "1.0".into(),
            http_status: Some(404),
            tags: Map::new(),
            data,
        };
        let mut out = String::new();
        encode_row(&mut out, 7, &span);
        assert_eq!(
            out,
            "7\t2026-01-02T03:04:05.000000Z\t0af7651916cd43dd8448eb211c80319c\tb7ad6b7169203331\t\\N\t\
             b7ad6b7169203331\tt\tGET /a\\tb\thttp.server\t\tnot_found\t12.5\tapi\t\t1.0\t404\t{}\t\
             {\"db.statement\":\"select 1\\\\nfrom t\"}\n"
        );
    }
}
