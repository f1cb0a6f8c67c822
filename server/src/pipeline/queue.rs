//! [`Queue`]: the bounded queue and group commit every batch writer (logs,
//! error events, spans, and each kind of data to come) shares; each supplies
//! only how to write a batch ([`Batch`]). The metrics and the log line of every
//! batch are written here, once, under the batch's [`Batch::NAME`].
//!
//! Requests hand their records to the queue and wait; writer tasks take
//! everything queued at that moment (many requests), write it in one
//! transaction, and only then answer every request in it. So a 2xx always means
//! committed, and concurrent requests share commits instead of paying one each.
//!
//! The queue is bounded by bytes: [`Queue::write`] fails fast with
//! [`WriteError::Overloaded`] when it is full, which each protocol answers the
//! way its clients retry on (429 or 503 with `Retry-After`). Memory never grows
//! with load.
//!
//! The writers run on a thread of their own ([`WriterThread`]) with their own
//! connections, one per writer task ([`Batch::WRITERS`]): a batch takes a dozen
//! statements, and between two of them a writer sharing the request handlers'
//! threads waited behind requests being parsed, while its connection sat idle
//! in its transaction (measured: half of the writers' time under load).

use std::{
    future::Future,
    sync::{Arc, PoisonError},
    time::{Duration, Instant},
};

use chrono::{TimeDelta, Utc};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};
use tokio::sync::{mpsc, oneshot, Mutex, OwnedSemaphorePermit, Semaphore};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::pipeline::clock::ReceiveWindow;

/// Requests waiting in a queue at most (bytes are the real bound).
const QUEUE_JOBS: usize = 4096;

/// Why records could not be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The queue is full: the client should retry shortly.
    #[error("the ingest queue is full; retry in a moment")]
    Overloaded,
    /// The server is stopping and takes no more data.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The database cannot be reached: the client should retry later.
    #[error("the database is unavailable; retry in a few seconds")]
    Unavailable,
    /// The database refused or failed the write (logged with details).
    #[error("storing the records failed")]
    Failed,
}

impl WriteError {
    /// [`WriteError::Unavailable`] when `error` says the database is away, else
    /// [`WriteError::Failed`].
    pub fn from_failure(error: &anyhow::Error) -> Self {
        if crate::db::is_unavailable_chain(error) {
            WriteError::Unavailable
        } else {
            WriteError::Failed
        }
    }

    /// [`WriteError::from_failure`] for a database error.
    pub fn from_database(error: &sqlx::Error) -> Self {
        if crate::db::is_unavailable(error) {
            WriteError::Unavailable
        } else {
            WriteError::Failed
        }
    }
}

/// How one kind of record is written, a batch of requests at a time.
///
/// The queue records, for every batch, `<NAME>_ingested_total` (records in
/// committed batches), `<NAME>_batch_rows`, `<NAME>_batch_duration_seconds` and
/// `<NAME>_batch_failures_total`, and logs a failed batch with its error.
pub trait Batch: Send + Sync + 'static {
    /// One record (a log line, an error event, a span).
    type Item: Send + Sync + 'static;
    /// What a request is answered with once its records are committed.
    type Answer: Send + Default + 'static;
    /// Prefix of the queue's metrics (`<name>_queue_bytes`, ...) and the word
    /// for the records in log lines.
    const NAME: &'static str;
    /// Writer tasks, each with its own connection while it writes: while one
    /// waits for its commit, the next batch is being written.
    const WRITERS: usize;
    /// Most records in one batch (a request is never split).
    const MAX_ITEMS: usize;
    /// Most queued bytes (estimated) in one batch.
    const MAX_BYTES: usize;

    /// Memory a record holds while queued, roughly.
    fn estimated_bytes(item: &Self::Item) -> usize;

    /// Applies the clock-drift rule ([`crate::pipeline::clock`]): a record whose
    /// time lies outside `window` takes the arrival time and keeps its own
    /// where this kind keeps extra data. Called once per record as it is queued.
    fn correct_clock(item: &mut Self::Item, window: &ReceiveWindow);

    /// Writes the jobs in one transaction; one answer per job, in order. `self`
    /// is the writer's state, shared by its tasks (a cache, say). The
    /// error is logged by the queue, and answered as [`WriteError::Unavailable`]
    /// when it says the database is away, else as [`WriteError::Failed`].
    fn write(
        &self,
        pool: &PgPool,
        jobs: &[Job<Self>],
    ) -> impl Future<Output = anyhow::Result<Vec<Self::Answer>>> + Send;
}

/// One request's records, waiting for their batch.
pub struct Job<B: Batch + ?Sized> {
    pub project_id: i64,
    pub items: Vec<B::Item>,
    bytes: usize,
    done: oneshot::Sender<Result<B::Answer, WriteError>>,
    /// Released when the job is dropped, after it is answered.
    _budget: OwnedSemaphorePermit,
}

/// Handle to a batch writer; cheap to clone.
pub struct Queue<B: Batch> {
    sender: mpsc::Sender<Job<B>>,
    budget: Arc<Semaphore>,
    budget_bytes: usize,
    /// How long this kind of record is kept: how old a record's own time may be.
    retention: TimeDelta,
    /// `<name>_queue_bytes`, looked up once rather than per request.
    queued_bytes: metrics::Gauge,
}

impl<B: Batch> Clone for Queue<B> {
    fn clone(&self) -> Self {
        Queue {
            sender: self.sender.clone(),
            budget: self.budget.clone(),
            budget_bytes: self.budget_bytes,
            retention: self.retention,
            queued_bytes: self.queued_bytes.clone(),
        }
    }
}

/// The thread the batch writers of every queue run on, and their connections.
///
/// Queues start their writers on it with [`Queue::start`], each with a pool of
/// its own of [`Batch::WRITERS`] connections. The thread ends, and closes those
/// connections, once this handle is dropped and every writer started on it has
/// stopped (its queue was cancelled and drained, or every handle to the queue
/// dropped). The runtime never leaves the thread, so no error path drops it
/// inside another runtime.
pub struct WriterThread {
    runtime: tokio::runtime::Handle,
    /// How the writers' connections are opened: as the server's pool opens its own.
    connect: PgConnectOptions,
    acquire_timeout: Duration,
    /// The pools of the queues started on this thread, closed when it ends.
    pools: Arc<std::sync::Mutex<Vec<PgPool>>>,
    /// The writer tasks on this thread.
    writers: TaskTracker,
}

impl WriterThread {
    /// Starts the thread; its connections are opened as `pool` opens its own
    /// and given up as fast.
    pub fn new(pool: &PgPool) -> std::io::Result<Self> {
        let writers = TaskTracker::new();
        let stopped = writers.clone();
        let pools: Arc<std::sync::Mutex<Vec<PgPool>>> = Arc::default();
        let to_close = pools.clone();
        let (started, start) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("batch-writers".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = started.send(Err(error));
                        return;
                    }
                };
                let _ = started.send(Ok(runtime.handle().clone()));
                runtime.block_on(async {
                    stopped.wait().await;
                    let pools = std::mem::take(
                        &mut *to_close.lock().unwrap_or_else(PoisonError::into_inner),
                    );
                    for pool in pools {
                        pool.close().await;
                    }
                });
            })?;
        let runtime = start
            .recv()
            .map_err(|_| std::io::Error::other("the batch writer thread did not start"))??;
        Ok(WriterThread {
            runtime,
            connect: (*pool.connect_options()).clone(),
            acquire_timeout: pool.options().get_acquire_timeout(),
            pools,
            writers,
        })
    }

    /// A pool of `connections` on this thread, closed when the thread ends.
    fn pool(&self, connections: usize) -> PgPool {
        let options = PgPoolOptions::new()
            .max_connections(u32::try_from(connections).unwrap_or(u32::MAX))
            .acquire_timeout(self.acquire_timeout);
        // The pool's upkeep task belongs on this thread's runtime.
        let pool = {
            let _entered = self.runtime.enter();
            options.connect_lazy_with(self.connect.clone())
        };
        self.pools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(pool.clone());
        pool
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        // No more writers: the thread ends when those started have stopped.
        self.writers.close();
    }
}

impl<B: Batch> Queue<B> {
    /// Starts the writer tasks of `batch` on `thread`, with `budget_bytes` of queue, for
    /// records kept `retention` long. They stop when `cancel` fires, after
    /// writing everything already queued; `tracker` tracks them too, so that
    /// shutdown can wait for them.
    pub fn start(
        batch: B,
        thread: &WriterThread,
        budget_bytes: usize,
        retention: TimeDelta,
        tracker: &TaskTracker,
        cancel: CancellationToken,
    ) -> Self {
        let budget_bytes = budget_bytes.clamp(1024 * 1024, Semaphore::MAX_PERMITS);
        let (sender, receiver) = mpsc::channel(QUEUE_JOBS);
        let receiver = Arc::new(Mutex::new(receiver));
        let pool = thread.pool(B::WRITERS);
        let batch = Arc::new(batch);
        for _ in 0..B::WRITERS {
            let writer = run(
                batch.clone(),
                pool.clone(),
                receiver.clone(),
                cancel.clone(),
            );
            thread
                .runtime
                .spawn(tracker.track_future(thread.writers.track_future(writer)));
        }
        Queue {
            sender,
            budget: Arc::new(Semaphore::new(budget_bytes)),
            budget_bytes,
            retention,
            queued_bytes: metrics::gauge!(format!("{}_queue_bytes", B::NAME)),
        }
    }

    /// Stores `items` of one project; returns once they are committed.
    pub async fn write(
        &self,
        project_id: i64,
        mut items: Vec<B::Item>,
    ) -> Result<B::Answer, WriteError> {
        if items.is_empty() {
            return Ok(B::Answer::default());
        }
        let window = ReceiveWindow::new(Utc::now(), self.retention);
        for item in &mut items {
            B::correct_clock(item, &window);
        }
        let bytes = items.iter().map(B::estimated_bytes).sum::<usize>();
        let permits = u32::try_from(bytes.clamp(1, self.budget_bytes)).unwrap_or(u32::MAX);
        let budget = self
            .budget
            .clone()
            .try_acquire_many_owned(permits)
            .map_err(|_| WriteError::Overloaded)?;
        let (done, answer) = oneshot::channel();
        let job = Job {
            project_id,
            items,
            bytes,
            done,
            _budget: budget,
        };
        self.sender.try_send(job).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => WriteError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => WriteError::ShuttingDown,
        })?;
        self.queued_bytes
            .set((self.budget_bytes - self.budget.available_permits()) as f64);
        answer.await.unwrap_or(Err(WriteError::Failed))
    }
}

type Receiver<B> = Arc<Mutex<mpsc::Receiver<Job<B>>>>;

async fn run<B: Batch>(
    batch: Arc<B>,
    pool: PgPool,
    receiver: Receiver<B>,
    cancel: CancellationToken,
) {
    let metrics = BatchMetrics::named(B::NAME);
    while let Some(jobs) = next_batch(&receiver, &cancel).await {
        match write(&*batch, &pool, &jobs, &metrics).await {
            Ok(answers) => {
                for (job, answer) in jobs.into_iter().zip(answers) {
                    let _ = job.done.send(Ok(answer));
                }
            }
            // While the database is away, retrying each request alone would only
            // make every one of them wait for it again.
            Err(error) if jobs.len() > 1 && error != WriteError::Unavailable => {
                // Do not let one request's failure fail the others: retry each alone.
                for job in jobs {
                    let alone = write(&*batch, &pool, std::slice::from_ref(&job), &metrics).await;
                    let _ = job
                        .done
                        .send(alone.map(|mut answers| answers.pop().unwrap_or_default()));
                }
            }
            Err(error) => {
                for job in jobs {
                    let _ = job.done.send(Err(error.clone()));
                }
            }
        }
    }
}

/// Writes one batch with [`Batch::write`], and records and logs how it went.
/// The metrics of every batch of one kind, looked up once per writer task
/// rather than by name for each batch.
struct BatchMetrics {
    ingested: metrics::Counter,
    rows: metrics::Histogram,
    duration: metrics::Histogram,
    failures: metrics::Counter,
}

impl BatchMetrics {
    fn named(kind: &str) -> Self {
        BatchMetrics {
            ingested: metrics::counter!(format!("{kind}_ingested_total")),
            rows: metrics::histogram!(format!("{kind}_batch_rows")),
            duration: metrics::histogram!(format!("{kind}_batch_duration_seconds")),
            failures: metrics::counter!(format!("{kind}_batch_failures_total")),
        }
    }
}

async fn write<B: Batch>(
    batch: &B,
    pool: &PgPool,
    jobs: &[Job<B>],
    metrics: &BatchMetrics,
) -> Result<Vec<B::Answer>, WriteError> {
    let started = Instant::now();
    let rows: usize = jobs.iter().map(|j| j.items.len()).sum();
    match batch.write(pool, jobs).await {
        Ok(answers) => {
            metrics.ingested.increment(rows as u64);
            metrics.rows.record(rows as f64);
            metrics.duration.record(started.elapsed().as_secs_f64());
            Ok(answers)
        }
        Err(error) => {
            metrics.failures.increment(1);
            tracing::error!(
                batch.kind = B::NAME,
                batch.rows = rows,
                batch.requests = jobs.len(),
                error = %format!("{error:#}"),
                "writing a batch failed"
            );
            Err(WriteError::from_failure(&error))
        }
    }
}

/// Everything queued now, up to the batch limits; waits for a first job.
/// `None` once the queue is closed and drained.
async fn next_batch<B: Batch>(
    receiver: &Receiver<B>,
    cancel: &CancellationToken,
) -> Option<Vec<Job<B>>> {
    // One writer takes a batch while the others write theirs.
    let mut receiver = receiver.lock().await;
    let first = tokio::select! {
        job = receiver.recv() => job,
        () = cancel.cancelled() => {
            // Refuse new work, then drain what is queued.
            receiver.close();
            receiver.recv().await
        }
    }?;
    let mut items = first.items.len();
    let mut bytes = first.bytes;
    let mut jobs = vec![first];
    while items < B::MAX_ITEMS && bytes < B::MAX_BYTES {
        match receiver.try_recv() {
            Ok(job) => {
                items += job.items.len();
                bytes += job.bytes;
                jobs.push(job);
            }
            Err(_) => break,
        }
    }
    Some(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items are numbers; a batch holding a negative one fails as a whole.
    struct Numbers;

    impl Batch for Numbers {
        type Item = i64;
        type Answer = i64;
        const NAME: &'static str = "test";
        const WRITERS: usize = 1;
        const MAX_ITEMS: usize = 1000;
        const MAX_BYTES: usize = usize::MAX;

        /// A number weighs its size in bytes.
        fn estimated_bytes(n: &i64) -> usize {
            n.unsigned_abs() as usize
        }

        fn correct_clock(_: &mut i64, _: &ReceiveWindow) {}

        async fn write(&self, _: &PgPool, jobs: &[Job<Self>]) -> anyhow::Result<Vec<i64>> {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            if jobs.iter().flat_map(|j| &j.items).any(|n| *n < 0) {
                anyhow::bail!("a negative number");
            }
            Ok(jobs.iter().map(|j| j.items.iter().sum()).collect())
        }
    }

    fn queue() -> (Queue<Numbers>, CancellationToken, TaskTracker) {
        let pool = PgPool::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
        let thread = WriterThread::new(&pool).unwrap();
        let queue = Queue::start(
            Numbers,
            &thread,
            1024 * 1024,
            TimeDelta::days(1),
            &tracker,
            cancel.clone(),
        );
        (queue, cancel, tracker)
    }

    #[tokio::test]
    async fn one_bad_request_does_not_fail_the_others_in_its_batch() {
        let (queue, _cancel, _tracker) = queue();
        // Keep the one writer busy, so that the next two share a batch.
        let busy = queue.clone();
        let first = tokio::spawn(async move { busy.write(1, vec![7]).await });
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let (a, b) = (queue.clone(), queue.clone());
        let good = tokio::spawn(async move { a.write(1, vec![1, 2]).await });
        let bad = tokio::spawn(async move { b.write(1, vec![-1]).await });
        assert_eq!(good.await.unwrap(), Ok(3));
        assert_eq!(bad.await.unwrap(), Err(WriteError::Failed));
        assert_eq!(first.await.unwrap(), Ok(7));
        assert_eq!(queue.write(1, vec![]).await, Ok(0));
    }

    #[tokio::test]
    async fn a_full_budget_refuses_at_once_and_a_stopped_queue_drains() {
        let (queue, cancel, tracker) = queue();
        // 400 kB each against 1 MiB: the third does not wait, it is refused.
        let writes: Vec<_> = (1..=2)
            .map(|i| {
                let q = queue.clone();
                tokio::spawn(async move { q.write(1, vec![400_000 + i]).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(
            queue.write(1, vec![400_000]).await,
            Err(WriteError::Overloaded)
        );
        cancel.cancel();
        tracker.close();
        for (i, write) in (1..=2).zip(writes) {
            assert_eq!(
                write.await.unwrap(),
                Ok(400_000 + i),
                "queued before the stop"
            );
        }
        tracker.wait().await;
        assert_eq!(queue.write(1, vec![1]).await, Err(WriteError::ShuttingDown));
    }
}
