//! [`SpanWriter`]: the one path every span takes into PostgreSQL, shaped like
//! [`crate::logs::writer::LogWriter`].
//!
//! Requests hand their spans to a bounded queue and wait; writer tasks take
//! everything queued at that moment (many requests), write it with one `COPY` in
//! one transaction (group commit), and only then answer every request in it. So a
//! 2xx always means committed, and concurrent requests share commits.
//!
//! The queue is bounded by bytes: [`SpanWriter::write`] fails fast with
//! [`WriteError::Overloaded`] when it is full, which each protocol answers the
//! way its clients retry on (429 with `Retry-After`).

use std::{collections::HashSet, fmt::Write as _, sync::Arc, time::Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot, Mutex, OwnedSemaphorePermit, Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::span::SpanRecord;
pub use crate::logs::writer::WriteError;
use crate::{
    db::copy::{push_optional, push_text},
    errors::store::{self, EventKey},
};

/// Most spans written in one transaction.
pub const MAX_BATCH_ROWS: usize = 50_000;
/// Most spans one request may hand over.
pub const MAX_SPANS_PER_JOB: usize = 100_000;
/// Writer tasks (each with its own connection while it writes), as for logs.
const WRITERS: usize = 2;
/// Requests waiting in the queue at most (bytes are the real bound).
const QUEUE_JOBS: usize = 4096;

struct Job {
    project_id: i64,
    spans: Vec<SpanRecord>,
    done: oneshot::Sender<Result<(), WriteError>>,
    /// Released when the job is dropped, after it is answered.
    _budget: OwnedSemaphorePermit,
}

/// Handle to the span batch writer; cheap to clone.
#[derive(Clone)]
pub struct SpanWriter {
    queue: mpsc::Sender<Job>,
    budget: Arc<Semaphore>,
    budget_bytes: usize,
}

impl SpanWriter {
    /// Starts the writer tasks on `tracker`. They stop when `cancel` fires, after
    /// writing everything already queued.
    pub fn start(
        pool: PgPool,
        budget_bytes: usize,
        tracker: &TaskTracker,
        cancel: CancellationToken,
    ) -> Self {
        let budget_bytes = budget_bytes.clamp(1024 * 1024, Semaphore::MAX_PERMITS);
        let (queue, receiver) = mpsc::channel(QUEUE_JOBS);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..WRITERS {
            tracker.spawn(run(pool.clone(), receiver.clone(), cancel.clone()));
        }
        SpanWriter {
            queue,
            budget: Arc::new(Semaphore::new(budget_bytes)),
            budget_bytes,
        }
    }

    /// Stores `spans` of one project; returns once they are committed.
    pub async fn write(&self, project_id: i64, spans: Vec<SpanRecord>) -> Result<(), WriteError> {
        if spans.is_empty() {
            return Ok(());
        }
        let bytes = spans.iter().map(estimated_bytes).sum::<usize>();
        let permits = u32::try_from(bytes.clamp(1, self.budget_bytes)).unwrap_or(u32::MAX);
        let budget = self
            .budget
            .clone()
            .try_acquire_many_owned(permits)
            .map_err(|_| WriteError::Overloaded)?;
        let (done, answer) = oneshot::channel();
        let job = Job {
            project_id,
            spans,
            done,
            _budget: budget,
        };
        self.queue.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => WriteError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => WriteError::ShuttingDown,
        })?;
        metrics::gauge!("spans_queue_bytes")
            .set((self.budget_bytes - self.budget.available_permits()) as f64);
        answer.await.unwrap_or(Err(WriteError::Failed))
    }
}

/// Memory a span holds while queued, roughly.
fn estimated_bytes(span: &SpanRecord) -> usize {
    256 + span.transaction.len()
        + span.name.len()
        + span.op.len()
        + span.service.len()
        + span.environment.len()
        + span.release.len()
        + (span.tags.len() + span.data.len()) * 64
}

async fn run(pool: PgPool, receiver: Arc<Mutex<mpsc::Receiver<Job>>>, cancel: CancellationToken) {
    loop {
        let jobs = {
            let mut receiver = receiver.lock().await;
            let first = tokio::select! {
                job = receiver.recv() => job,
                () = cancel.cancelled() => {
                    // Refuse new work, then drain what is queued.
                    receiver.close();
                    receiver.recv().await
                }
            };
            let Some(first) = first else { break };
            let mut rows = first.spans.len();
            let mut jobs = vec![first];
            while rows < MAX_BATCH_ROWS {
                match receiver.try_recv() {
                    Ok(job) => {
                        rows += job.spans.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        let result = write_batch(&pool, &jobs).await;
        if result.is_err() && jobs.len() > 1 {
            // Do not let one request's failure fail the others: retry each alone.
            for job in jobs {
                let alone = write_batch(&pool, std::slice::from_ref(&job)).await;
                let _ = job.done.send(alone);
            }
        } else {
            for job in jobs {
                let _ = job.done.send(result.clone());
            }
        }
    }
}

async fn write_batch(pool: &PgPool, jobs: &[Job]) -> Result<(), WriteError> {
    let started = Instant::now();
    let rows: usize = jobs.iter().map(|j| j.spans.len()).sum();
    let result = copy_batch(pool, jobs).await;
    match &result {
        Ok(()) => {
            metrics::counter!("spans_ingested_total").increment(rows as u64);
            metrics::histogram!("spans_batch_rows").record(rows as f64);
            metrics::histogram!("spans_batch_duration_seconds")
                .record(started.elapsed().as_secs_f64());
        }
        Err(error) => {
            metrics::counter!("spans_batch_failures_total").increment(1);
            tracing::error!(batch.rows = rows, batch.requests = jobs.len(), error = %error, "writing a span batch failed");
        }
    }
    result.map_err(|_| WriteError::Failed)
}

async fn copy_batch(pool: &PgPool, jobs: &[Job]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let fresh = fresh_transactions(&mut tx, jobs).await?;
    let mut kept = HashSet::new();
    let mut repeated = 0u64;
    let mut buffer = String::with_capacity(jobs.iter().map(|j| j.spans.len() * 400).sum());
    for job in jobs {
        // A transaction's spans follow its segment; those of a repeated one are
        // skipped with it.
        let mut skipping: Option<(&str, &str)> = None;
        for span in &job.spans {
            if let Some(id) = span.event_id.as_deref() {
                let first = fresh.contains(&(job.project_id, id.to_string()))
                    && kept.insert((job.project_id, id));
                skipping = (!first).then_some((span.trace_id.as_str(), span.span_id.as_str()));
                repeated += u64::from(!first);
            } else if skipping.is_some_and(|(trace, segment)| {
                span.trace_id != trace || span.segment_id.as_deref() != Some(segment)
            }) {
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
/// that got no answer retries the envelope. They are recorded with those of
/// error events, in the batch's transaction, so a failed batch records nothing.
async fn fresh_transactions(
    conn: &mut PgConnection,
    jobs: &[Job],
) -> Result<HashSet<EventKey>, sqlx::Error> {
    let mut unique = HashSet::new();
    let seen: Vec<(i64, &str, DateTime<Utc>)> = jobs
        .iter()
        .flat_map(|job| {
            job.spans
                .iter()
                .filter_map(move |span| Some((job.project_id, span.event_id.as_deref()?, span.ts)))
        })
        .filter(|(project, id, _)| unique.insert((*project, *id)))
        .collect();
    if seen.is_empty() {
        return Ok(HashSet::new());
    }
    store::mark_seen(conn, &seen).await
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
