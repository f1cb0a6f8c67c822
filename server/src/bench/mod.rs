//! `sightline bench`: the benchmarks the README's figures come from, run on this
//! machine against a real Sightline and PostgreSQL.
//!
//! Each starts in a database of its own (`sightline_bench`, recreated each run,
//! on the configured server or the embedded cluster), serves Sightline in-process
//! on a local port ([`Bench`]), and drives it over HTTP like its clients do:
//! [`logs`] (ingest rate against raw `COPY`, search latency) and [`errors`]
//! (Sentry envelopes per second and their latency), [`bombs`] (compression
//! bombs: memory held and `/healthz` latency while they are refused), and
//! [`metrics`] (remote write samples per second, bytes a sample and PromQL
//! latency, beside a real Prometheus).

pub mod bombs;
pub mod cpu;
pub mod errors;
pub mod logs;
pub mod metrics;

use std::{future::Future, time::Duration};

use anyhow::Context;
use chrono::Utc;
use sqlx::{postgres::PgConnectOptions, ConnectOptions, Connection, PgPool};

use crate::{
    auth::tokens,
    config::Config,
    db,
    pipeline::partitions::{self, PartitionedTable},
    projects, AppState,
};

/// A running Sightline on a fresh database, with a project and a viewer token.
pub struct Bench {
    pub pool: PgPool,
    pub state: AppState,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The project's id (Sentry DSNs carry it).
    pub project_id: i64,
    /// The project's ingest key.
    pub key: String,
    /// An API token with the viewer role.
    pub token: String,
    /// The partitioned tables, with 3 days of retention.
    pub tables: Vec<PartitionedTable>,
    /// The embedded PostgreSQL's server process, for [`cpu::CpuMeter`].
    pub postmaster: Option<u32>,
}

/// Opens the database (starting the embedded cluster when none is configured),
/// runs `measure` on a fresh benchmark database, and stops what it started.
pub async fn with_bench<T, F, Fut>(config: Config, measure: F) -> anyhow::Result<T>
where
    F: FnOnce(Bench) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let database = db::open(&config, db::Opener::Cli).await?;
    let admin = database.pool.connect_options();
    database.pool.close().await;
    let postmaster = database
        .embedded
        .as_ref()
        .and_then(|pg| cpu::postmaster_pid(pg.cluster_dir()));
    let result = match prepare(&config, &admin, postmaster).await {
        Ok(bench) => {
            let workers = bench.state.workers.clone();
            let result = measure(bench).await;
            workers.stop(std::time::Duration::from_secs(5)).await;
            result
        }
        Err(error) => Err(error),
    };
    if let Some(pg) = &database.embedded {
        pg.stop().await?;
    }
    result
}

async fn prepare(
    config: &Config,
    admin: &PgConnectOptions,
    postmaster: Option<u32>,
) -> anyhow::Result<Bench> {
    let mut conn = admin
        .clone()
        .database("postgres")
        .connect()
        .await
        .context("connecting to the maintenance database")?;
    sqlx::query("drop database if exists sightline_bench with (force)")
        .execute(&mut conn)
        .await?;
    sqlx::query("create database sightline_bench")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .connect_with(admin.clone().database("sightline_bench"))
        .await?;
    db::migrate(&pool).await?;
    let mut tables = crate::state::partitioned_tables(config);
    for table in &mut tables {
        table.retention_days = 3;
    }
    partitions::run_once(&pool, &tables, Utc::now()).await?;

    let state = AppState::new(pool.clone(), config.clone())?;
    let created = projects::insert_project(&state, "bench", "Benchmark")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = tokens::insert_token(&pool, "bench", app::api::Role::Viewer, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let router = crate::routes::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(Bench {
        pool,
        state,
        base,
        project_id: created.project.project_id,
        key: created.key.public_key,
        token,
        tables,
        postmaster,
    })
}

/// A small deterministic generator (xorshift64*): a benchmark sends the same
/// data every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A whole number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A number in `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
    }
}

/// The `q` quantile (0–1) of `times` (sorted in place); zero when empty.
pub fn percentile(times: &mut [Duration], q: f64) -> Duration {
    if times.is_empty() {
        return Duration::ZERO;
    }
    times.sort_unstable();
    let rank = ((times.len() as f64 * q).ceil() as usize).saturating_sub(1);
    times[rank.min(times.len() - 1)]
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
