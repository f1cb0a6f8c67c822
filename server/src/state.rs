//! [`AppState`]: the one value every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::{postgres::PgPoolOptions, PgPool};

/// How long one user query may run (PostgreSQL's `statement_timeout`).
pub const QUERY_TIMEOUT: &str = "15s";

use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    config::Config,
    errors::writer::ErrorWriter,
    ingest::{
        auth::IngestKeyCache, body::DecodeBudget, queue::WriterThread, rate_limit::KeyRateLimits,
    },
    logs::{tail::TailHub, writer::LogWriter},
    pipeline::clock::retention,
    telemetry::RequestRate,
    traces::writer::SpanWriter,
};

/// Background tasks of this instance and the signal that stops them.
#[derive(Clone, Default)]
pub struct Workers {
    pub tracker: TaskTracker,
    pub cancel: CancellationToken,
}

/// Shared by every request: cheap to clone (everything inside is a handle).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// Connections for user queries (log search, ...): read-only, and every
    /// statement is cancelled after [`QUERY_TIMEOUT`]. The natural place for a read
    /// replica later.
    pub queries: PgPool,
    pub config: Arc<Config>,
    pub leptos: LeptosOptions,
    /// Requests served per minute by this instance, for the Overview page.
    pub request_rate: Arc<RequestRate>,
    /// The log batch writer every log protocol hands records to.
    pub logs: LogWriter,
    /// The error event batch writer (Sentry events).
    pub errors: ErrorWriter,
    /// The span batch writer (Sentry transactions, OTLP traces).
    pub spans: SpanWriter,
    /// Decompressed ingest bodies in flight, across all requests.
    pub decode: Arc<DecodeBudget>,
    /// Per-key ingest rate limits, counted by this instance.
    pub key_limits: Arc<KeyRateLimits>,
    /// Ingest keys resolved in the last few seconds.
    pub ingest_keys: Arc<IngestKeyCache>,
    /// Live tail's listener for committed log batches.
    pub tail: Arc<TailHub>,
    /// The writer tasks and workers, stopped at shutdown.
    pub workers: Workers,
}

impl AppState {
    /// Builds the state from an open pool and the configuration, and starts the
    /// log, error and span writer tasks (they stop when `workers.cancel` fires).
    pub fn new(pool: PgPool, config: Config) -> std::io::Result<Self> {
        // Install the metrics recorder before the first request records anything.
        crate::telemetry::prometheus();
        let leptos = LeptosOptions::builder()
            .output_name(env!("LEPTOS_OUTPUT_NAME"))
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(config.listen)
            .build();
        let query_options = (*pool.connect_options()).clone().options([
            ("statement_timeout", QUERY_TIMEOUT),
            ("default_transaction_read_only", "on"),
            // Searches differ by their literals (a rare phrase wants the trigram
            // index, a common word the time order): a generic plan cached after
            // five runs picked one for all and made rare-phrase searches 2x
            // slower. Planning each query costs a few ms; measured worth it.
            ("plan_cache_mode", "force_custom_plan"),
        ]);
        let queries = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_lazy_with(query_options);
        let workers = Workers::default();
        // Seven writers (logs 2, errors 3, spans 2) hold a connection each
        // while they write.
        let writer_thread = WriterThread::new(&pool, 8)?;
        let logs = LogWriter::start(
            &writer_thread,
            config.ingest_queue_mb * 1024 * 1024,
            retention(config.logs_retention_days),
            &workers.tracker,
            workers.cancel.clone(),
        );
        // Errors get a queue budget of their own, the same size: a burst of
        // errors must not stall logs, nor the other way round.
        let errors = ErrorWriter::start(
            &writer_thread,
            config.ingest_queue_mb * 1024 * 1024,
            retention(config.errors_retention_days),
            &workers.tracker,
            workers.cancel.clone(),
        );
        // Spans too: a flood of traces must not refuse errors or logs.
        let spans = SpanWriter::start(
            &writer_thread,
            config.ingest_queue_mb * 1024 * 1024,
            retention(config.spans_retention_days),
            &workers.tracker,
            workers.cancel.clone(),
        );
        let decode = Arc::new(DecodeBudget::new(config.ingest_decode_mb * 1024 * 1024));
        Ok(AppState {
            pool,
            queries,
            config: Arc::new(config),
            leptos,
            request_rate: Arc::new(RequestRate::default()),
            logs,
            errors,
            spans,
            decode,
            key_limits: Arc::new(KeyRateLimits::default()),
            ingest_keys: Arc::new(IngestKeyCache::default()),
            tail: Arc::new(TailHub::default()),
            workers,
        })
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
