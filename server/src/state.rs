//! [`AppState`]: the one value every handler can reach, and where an instance's
//! parts are put together: the pools, one batch writer per kind of record, the
//! tables each domain partitions, and every background worker.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use crate::{
    config::Config,
    errors::{self, writer::ErrorWriter},
    ingest::{auth::IngestKeyCache, body::DecodeBudget, rate_limit::KeyRateLimits},
    logs::{self, tail::TailHub, writer::LogWriter},
    metrics::{self, writer::MetricWriter},
    pipeline::{
        clock::retention,
        partitions::{self, PartitionedTable},
        queue::WriterThread,
        workers::Workers,
    },
    query::{self, source::Sources},
    telemetry::RequestRate,
    traces::{self, writer::SpanWriter},
};

/// Shared by every request: cheap to clone (everything inside is a handle).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// Connections for user queries ([`query::pool`]): read-only, with a
    /// statement timeout.
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
    /// The metrics batch writer (remote write, OTLP metrics, scrapes).
    pub metrics: MetricWriter,
    /// Decompressed ingest bodies in flight, across all requests.
    pub decode: Arc<DecodeBudget>,
    /// Per-key ingest rate limits, counted by this instance.
    pub key_limits: Arc<KeyRateLimits>,
    /// Running totals of OTLP delta metrics, which Prometheus series hold
    /// as cumulative counters.
    pub otlp_deltas: Arc<crate::ingest::otlp::to_prometheus::DeltaToCumulative>,
    /// Ingest keys resolved in the last few seconds.
    pub ingest_keys: Arc<IngestKeyCache>,
    /// Live tail's listener for committed log batches.
    pub tail: Arc<TailHub>,
    /// The writer tasks and workers, stopped at shutdown.
    pub workers: Workers,
    /// Every kind of data that answers queries with series (`POST /api/v1/query`).
    pub sources: Sources,
}

impl AppState {
    /// Builds the state from an open pool and the configuration, and starts the
    /// batch writers (they stop when the workers are stopped).
    pub fn new(pool: PgPool, config: Config) -> std::io::Result<Self> {
        // Install the metrics recorder before the first request records anything.
        crate::telemetry::prometheus();
        // `make site-release` names the bundle's files after their content and
        // lists the names in pkg/hash.txt. Leptos joins the file's path to the
        // executable's directory (an absolute one stays as it is) and fails
        // without it: hashing is on only when the file is there.
        let hash_file = std::path::absolute(config.site_root.join("pkg").join("hash.txt"))?;
        let leptos = LeptosOptions::builder()
            .output_name(env!("LEPTOS_OUTPUT_NAME"))
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(config.listen)
            .hash_files(hash_file.is_file())
            .hash_file(Arc::<str>::from(hash_file.to_string_lossy().as_ref()))
            .build();
        let workers = Workers::default();
        let writer_thread = WriterThread::new(&pool)?;
        // Each kind of record gets a queue budget of its own, the same size: a
        // burst of errors must not stall logs, a flood of traces must not refuse
        // errors, and so on.
        let budget = config.ingest_queue_mb * 1024 * 1024;
        let logs = workers.start_queue(
            logs::writer::LogBatch,
            &writer_thread,
            budget,
            retention(config.logs_retention_days),
        );
        let errors = workers.start_queue(
            errors::writer::ErrorBatch,
            &writer_thread,
            budget,
            retention(config.errors_retention_days),
        );
        let spans = workers.start_queue(
            traces::writer::SpanBatch,
            &writer_thread,
            budget,
            retention(config.spans_retention_days),
        );
        let metrics = workers.start_queue(
            metrics::writer::MetricBatch::default(),
            &writer_thread,
            budget,
            retention(config.metrics_retention_days),
        );
        Ok(AppState {
            queries: query::pool(&pool),
            decode: Arc::new(DecodeBudget::new(config.ingest_decode_mb * 1024 * 1024)),
            tail: Arc::new(TailHub::new(workers.clone())),
            pool,
            config: Arc::new(config),
            leptos,
            request_rate: Arc::new(RequestRate::default()),
            logs,
            errors,
            spans,
            metrics,
            key_limits: Arc::new(KeyRateLimits::default()),
            ingest_keys: Arc::new(IngestKeyCache::default()),
            otlp_deltas: Arc::default(),
            workers,
            sources: sources(),
        })
    }

    /// Starts scraping the configured targets (each due scrape is taken by
    /// one instance; see [`crate::ingest::prometheus::scrape`]).
    pub fn start_scraper(&self) {
        let state = self.clone();
        self.workers
            .spawn(|cancel| crate::ingest::prometheus::scrape::run(state, cancel));
    }

    /// Starts the upkeep a serving instance takes its turn at (one instance at
    /// a time, by advisory lock): partitions and retention, and the
    /// compaction of closed metric hours.
    pub fn start_upkeep(&self) {
        let (pool, tables) = (self.pool.clone(), partitioned_tables(&self.config));
        self.workers
            .spawn(|cancel| partitions::run(pool, tables, cancel));
        let pool = self.pool.clone();
        self.workers
            .spawn(|cancel| metrics::compact::run(pool, cancel));
    }
}

/// The query sources, one per kind of data.
pub fn sources() -> Sources {
    Sources::new(vec![
        Arc::new(logs::source::LogSource),
        Arc::new(errors::source::ErrorSource),
        Arc::new(traces::source::PerformanceSource),
        Arc::new(metrics::source::MetricSource),
    ])
}

/// The time-partitioned tables, each as its domain declares it, with the
/// retention configured for it.
pub fn partitioned_tables(config: &Config) -> Vec<PartitionedTable> {
    let mut tables = vec![
        logs::partitions(config.logs_retention_days),
        errors::partitions(config.errors_retention_days),
        traces::partitions(config.spans_retention_days),
    ];
    tables.extend(metrics::partitions(
        config.metrics_retention_days,
        config.metrics_rollup_retention_days,
    ));
    tables
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
