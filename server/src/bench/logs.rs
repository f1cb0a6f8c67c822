//! `sightline bench logs`: the logs benchmark the README's figures come from.
//! With Sightline started on a fresh database ([`super::Bench`]), it
//!
//! 1. sends generated log lines (8 services, a level mix, 200 message templates,
//!    0–8 attributes, about 300 bytes a line, spread over the last 24 h) over HTTP
//!    to `/api/v1/ingest/logs` from several clients, each request answered only
//!    after its lines are committed — Sightline's ingest rate;
//! 2. `COPY`s the same lines into an unindexed, unpartitioned table from two
//!    connections — the storage's physical limit on this machine — and then
//!    into a copy of `log_entry` (hour partitions, the same indexes) — what
//!    PostgreSQL alone can take with the search indexes in place;
//! 3. times searches over the 24 h window through the HTTP API;
//! 4. times Sightline's own work on a line alone (parse, normalise, encode the
//!    COPY row), on one core, without HTTP or PostgreSQL.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::{
    cpu::{CpuMeter, CpuUsed},
    ms, percentile, Bench, Rng,
};
use crate::{
    config::Config,
    ingest::native,
    logs::{record::LogRecord, writer::encode_row},
};

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    /// Lines to ingest (and to copy).
    pub lines: usize,
    /// Concurrent HTTP clients.
    pub clients: usize,
    /// Lines per HTTP request.
    pub batch: usize,
    /// Runs of each search.
    pub runs: usize,
}

const SERVICES: [&str; 8] = [
    "api",
    "checkout",
    "payments",
    "search",
    "auth",
    "worker",
    "frontend",
    "inventory",
];
const VERBS: [&str; 20] = [
    "GET",
    "POST",
    "processed",
    "retrying",
    "failed to reach",
    "connected to",
    "timeout calling",
    "cache miss for",
    "enqueued",
    "dequeued",
    "validated",
    "rejected",
    "scheduled",
    "cancelled",
    "refreshed",
    "loaded",
    "saved",
    "deleted",
    "rate limited",
    "authenticated",
];
const NOUNS: [&str; 10] = [
    "order",
    "user session",
    "payment intent",
    "search index",
    "inventory item",
    "invoice",
    "shipping label",
    "cart",
    "webhook",
    "report",
];
const ATTRIBUTES: [&str; 8] = [
    "http.status",
    "duration_ms",
    "user.id",
    "region",
    "http.method",
    "retry",
    "db.rows",
    "tenant",
];

/// A small deterministic generator (xorshift64*): the same lines every run.
struct Lines(Rng);

impl Lines {
    /// One line as a JSON object, timestamped `ts_ms`.
    fn line(&mut self, ts_ms: i64) -> Value {
        let level = match self.0.below(100) {
            0..=9 => "debug",
            10..=79 => "info",
            80..=91 => "warn",
            92..=98 => "error",
            _ => "fatal",
        };
        let template = self.0.below(200) as usize;
        let message = format!(
            "{} {} {} via /api/v2/{}/{} after {} ms (attempt {}) request_id={:016x} trace={:08x}",
            VERBS[template % 20],
            NOUNS[template / 20],
            self.0.below(1_000_000),
            NOUNS[template / 20].replace(' ', "_"),
            self.0.below(100_000),
            self.0.below(5000),
            self.0.below(5) + 1,
            self.0.next_u64(),
            self.0.next_u64() as u32,
        );
        let mut object = json!({
            "ts": ts_ms,
            "level": level,
            "service": SERVICES[self.0.below(8) as usize],
            "host": format!("host-{}", self.0.below(16)),
            "message": message,
        });
        for key in ATTRIBUTES.iter().take(self.0.below(9) as usize) {
            let value = match *key {
                "http.status" => {
                    json!([200, 200, 200, 201, 404, 500, 503][self.0.below(7) as usize])
                }
                "duration_ms" | "db.rows" | "retry" => json!(self.0.below(3000)),
                "user.id" => json!(self.0.below(50_000)),
                other => json!(format!("{other}-{}", self.0.below(12))),
            };
            object[*key] = value;
        }
        object
    }

    /// `n` lines as NDJSON, timestamps from `clock`.
    fn ndjson(&mut self, n: usize, clock: &mut Clock) -> String {
        let mut out = String::with_capacity(n * 330);
        for _ in 0..n {
            out.push_str(&self.line(clock.tick()).to_string());
            out.push('\n');
        }
        out
    }
}

/// Timestamps as services emit them: in order, the `total` lines of all clients
/// evenly spread over the 24 h before `now_ms`, client `c` taking every
/// `clients`-th one. (Lines arrive roughly in time order, which is also what
/// keeps the per-minute counts small per batch.)
struct Clock {
    next: u64,
    stride: u64,
    total: u64,
    start_ms: i64,
}

impl Clock {
    fn new(client: usize, clients: usize, total: usize, now_ms: i64) -> Clock {
        Clock {
            next: client as u64,
            stride: clients as u64,
            total: total.max(1) as u64,
            start_ms: now_ms - DAY_MS,
        }
    }

    fn tick(&mut self) -> i64 {
        let ts = self.start_ms + (self.next * DAY_MS as u64 / self.total) as i64;
        self.next += self.stride;
        ts
    }
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Runs the logs benchmark and prints the table.
pub async fn run(config: Config, options: BenchOptions) -> anyhow::Result<()> {
    super::with_bench(config, |bench| measure(bench, options)).await
}

async fn measure(bench: Bench, options: BenchOptions) -> anyhow::Result<()> {
    let Bench {
        pool,
        base,
        key,
        token,
        tables,
        postmaster,
        ..
    } = bench;
    let now_ms = Utc::now().timestamp_millis();
    println!(
        "Sightline logs benchmark: {} lines of ~{} bytes, {} HTTP clients x {} lines a request",
        options.lines,
        Lines(Rng(7))
            .ndjson(1000, &mut Clock::new(0, 1, 1000, now_ms))
            .len()
            / 1000,
        options.clients,
        options.batch
    );

    let (ingest, ingest_cpu) = ingest_over_http(&base, &key, options, now_ms, postmaster).await?;
    let rows: i64 = sqlx::query_scalar("select count(*) from log_entry")
        .fetch_one(&pool)
        .await?;
    anyhow::ensure!(
        rows as usize == options.lines,
        "stored {rows} of {} lines",
        options.lines
    );
    sqlx::query("vacuum analyze log_entry")
        .execute(&pool)
        .await?;
    // What the partition upkeep does in the background once each hour is over:
    // the trigram index that lets searches for rare words skip the scan.
    let started = Instant::now();
    let indexed = crate::pipeline::partitions::index_closed(&pool, &tables, Utc::now()).await?;
    let indexing = started.elapsed();
    let partitions: Vec<String> = indexed
        .iter()
        .filter_map(|index| index.strip_suffix("_message_trgm"))
        .map(str::to_owned)
        .collect();
    let indexed_lines: f64 = sqlx::query_scalar(
        "select coalesce(sum(reltuples), 0)::float8 from pg_class where relname = any($1)",
    )
    .bind(&partitions)
    .fetch_one(&pool)
    .await?;
    let (copy, copy_cpu) =
        raw_copy(&pool, CopyTarget::Unindexed, options, now_ms, postmaster).await?;
    let (indexed_copy, indexed_copy_cpu) =
        raw_copy(&pool, CopyTarget::LikeLogEntry, options, now_ms, postmaster).await?;

    println!(
        "ingest over HTTP, ack after commit, search indexes in place: {:>9.0} lines/s",
        ingest
    );
    println!(
        "raw COPY into an unindexed table, 2 connections:             {:>9.0} lines/s",
        copy
    );
    println!(
        "raw COPY into hour partitions with log_entry's indexes, 2 connections: {:>9.0} lines/s ({:.2} of unindexed)",
        indexed_copy,
        indexed_copy / copy
    );
    println!(
        "ratio:                                                       {:>9.2} ({:.2} of the indexed COPY)",
        ingest / copy,
        ingest / indexed_copy
    );
    println!(
        "CPU per line, ingest over HTTP:   {}",
        ingest_cpu.per(options.lines)
    );
    println!(
        "CPU per line, raw COPY:           {}",
        copy_cpu.per(options.lines)
    );
    println!(
        "CPU per line, indexed raw COPY:   {}",
        indexed_copy_cpu.per(options.lines)
    );
    let own = own_work_per_line(now_ms)?;
    println!(
        "Sightline's own work per line, one core (parse, normalise, COPY row): {:.2} µs \
         (through a serde_json::Value instead: {:.2} µs)",
        own.as_text.as_secs_f64() * 1e6,
        own.through_value.as_secs_f64() * 1e6,
    );
    println!(
        "then the search index of the {} closed hours (background):   {:>9.0} lines/s ({:.0} s)",
        indexed.len(),
        indexed_lines / indexing.as_secs_f64().max(0.001),
        indexing.as_secs_f64()
    );

    println!(
        "search over the 24 h window ({} runs each):          p50       p95",
        options.runs
    );
    let client = reqwest::Client::new();
    for (name, query, endpoint) in [
        (
            "text + field filter, first page",
            "timeout service:checkout",
            "search",
        ),
        (
            "stats count() by level",
            "| stats count() by level",
            "query",
        ),
        (
            "field filter, first page",
            "service:payments level:error",
            "search",
        ),
        (
            "rare phrase, first page",
            "\"cache miss for webhook 4242\"",
            "search",
        ),
    ] {
        let mut times = Vec::with_capacity(options.runs);
        for _ in 0..options.runs {
            let started = Instant::now();
            let q: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
            let response = client
                .get(format!(
                    "{base}/api/v1/projects/bench/logs/{endpoint}?q={q}&from=now-24h&limit=100"
                ))
                .bearer_auth(&token)
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "{name}: {}",
                response.text().await?
            );
            response.bytes().await?;
            times.push(started.elapsed());
        }
        println!(
            "  {name:<36} {:>8.1} ms {:>8.1} ms",
            ms(percentile(&mut times, 0.5)),
            ms(percentile(&mut times, 0.95))
        );
    }
    Ok(())
}

/// The request bodies of each client, generated before the clock starts so that
/// only Sightline and PostgreSQL are measured.
fn request_bodies(options: BenchOptions, now_ms: i64) -> Vec<Vec<String>> {
    let per_client = options.lines.div_ceil(options.clients);
    (0..options.clients)
        .map(|c| {
            let mut generator = Lines(Rng(0x9e37_79b9_7f4a_7c15 ^ (c as u64 + 1)));
            let mut clock = Clock::new(c, options.clients, options.lines, now_ms);
            let mut left = per_client.min(options.lines.saturating_sub(c * per_client));
            let mut bodies = Vec::new();
            while left > 0 {
                let n = options.batch.min(left);
                bodies.push(generator.ndjson(n, &mut clock));
                left -= n;
            }
            bodies
        })
        .collect()
}

async fn ingest_over_http(
    base: &str,
    key: &str,
    options: BenchOptions,
    now_ms: i64,
    postmaster: Option<u32>,
) -> anyhow::Result<(f64, CpuUsed)> {
    let client = reqwest::Client::new();
    let bodies = request_bodies(options, now_ms);
    let cpu = CpuMeter::start(postmaster);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for bodies in bodies {
        let (client, url, key) = (
            client.clone(),
            format!("{base}/api/v1/ingest/logs"),
            key.to_string(),
        );
        tasks.push(tokio::spawn(async move {
            for body in bodies {
                loop {
                    let response = client
                        .post(&url)
                        .bearer_auth(&key)
                        .header("content-type", "application/x-ndjson")
                        .body(body.clone())
                        .send()
                        .await?;
                    match response.status().as_u16() {
                        200 => break,
                        // The queue is full: back off as a shipper would.
                        429 | 503 => tokio::time::sleep(Duration::from_millis(50)).await,
                        other => {
                            anyhow::bail!("ingest answered {other}: {}", response.text().await?)
                        }
                    }
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = options.lines as f64 / started.elapsed().as_secs_f64();
    Ok((rate, cpu.used()))
}

/// CPU time of [`own_work_per_line`]'s two ways, per line.
struct OwnWork {
    /// As the native endpoint does it ([`native::decode`]).
    as_text: Duration,
    /// Each line parsed into a `serde_json::Value` first, as before the JSON
    /// line path existed (and as adapters that rework a document still do).
    through_value: Duration,
}

/// Sightline's own work on 100 000 generated lines, in 1 000-line bodies: the
/// best of five passes each way, so that a busy neighbour on the machine
/// inflates it as little as possible.
fn own_work_per_line(now_ms: i64) -> anyhow::Result<OwnWork> {
    const LINES: usize = 100_000;
    let mut generator = Lines(Rng(0x0dd_ba11));
    let mut clock = Clock::new(0, 1, LINES, now_ms);
    let bodies: Vec<String> = (0..LINES / 1000)
        .map(|_| generator.ndjson(1000, &mut clock))
        .collect();
    let received = Utc::now();
    let best_of_five = |decode: &dyn Fn(&str) -> anyhow::Result<Vec<LogRecord>>| {
        let mut best = Duration::MAX;
        let mut out = String::new();
        for _ in 0..5 {
            let started = Instant::now();
            for body in &bodies {
                out.clear();
                for (id, record) in decode(body)?.iter().enumerate() {
                    encode_row(&mut out, 1, id as i64, record);
                }
                std::hint::black_box(&out);
            }
            best = best.min(started.elapsed());
        }
        Ok::<_, anyhow::Error>(best / LINES as u32)
    };
    Ok(OwnWork {
        as_text: best_of_five(&|body| {
            native::decode(body.as_bytes(), true, received)
                .map(|(records, _)| records)
                .map_err(|e| anyhow::anyhow!("{e}"))
        })?,
        through_value: best_of_five(&|body| {
            body.lines()
                .map(|line| {
                    let value: Value = serde_json::from_str(line)?;
                    Ok(LogRecord::from_json(value, received)?)
                })
                .collect()
        })?,
    })
}

/// Where [`raw_copy`] writes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum CopyTarget {
    /// One plain table without an index: the physical limit of the storage.
    Unindexed,
    /// `log_entry`'s shape: hour partitions and the same indexes, as the
    /// migrations define them. What PostgreSQL alone takes with the indexes the
    /// searches need.
    LikeLogEntry,
}

impl CopyTarget {
    fn table(self) -> &'static str {
        match self {
            CopyTarget::Unindexed => "bench_copy",
            CopyTarget::LikeLogEntry => "bench_copy_indexed",
        }
    }

    async fn create(self, pool: &PgPool) -> anyhow::Result<()> {
        match self {
            CopyTarget::Unindexed => {
                sqlx::query("create table bench_copy (like log_entry including defaults)")
                    .execute(pool)
                    .await?;
            }
            CopyTarget::LikeLogEntry => {
                // `including all` copies the indexes of the partitioned table,
                // so this stays what the migrations make of `log_entry`.
                sqlx::query(
                    "create table bench_copy_indexed (like log_entry including all)
                     partition by range (ts)",
                )
                .execute(pool)
                .await?;
                sqlx::query(
                    "create table bench_copy_indexed_default partition of bench_copy_indexed default",
                )
                .execute(pool)
                .await?;
                let table = crate::pipeline::partitions::PartitionedTable {
                    table: "bench_copy_indexed",
                    closed_index: None,
                    cleanups: &[],
                    ..crate::logs::partitions(3)
                };
                crate::pipeline::partitions::run_once(pool, &[table], Utc::now()).await?;
            }
        }
        Ok(())
    }
}

async fn raw_copy(
    pool: &PgPool,
    target: CopyTarget,
    options: BenchOptions,
    now_ms: i64,
    postmaster: Option<u32>,
) -> anyhow::Result<(f64, CpuUsed)> {
    target.create(pool).await?;
    let table = target.table();
    // Encode first (as the writer would), so that only COPY is timed.
    let per_connection = options.lines.div_ceil(2);
    let mut buffers: Vec<Vec<String>> = Vec::new();
    for c in 0..2usize {
        let mut generator = Lines(Rng(0x51_7cc1_b727_220a ^ (c as u64 + 1)));
        let mut clock = Clock::new(c, 2, options.lines, now_ms);
        let mut left = per_connection.min(options.lines.saturating_sub(c * per_connection));
        let mut id = 1 + c as i64 * 1_000_000_000;
        let mut chunks = Vec::new();
        while left > 0 {
            let n = (options.batch.max(1000) * 10).min(left);
            let mut buffer = String::with_capacity(n * 330);
            for _ in 0..n {
                let record = LogRecord::from_json(generator.line(clock.tick()), Utc::now())
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                encode_row(&mut buffer, 1, id, &record);
                id += 1;
            }
            chunks.push(buffer);
            left -= n;
        }
        buffers.push(chunks);
    }
    let cpu = CpuMeter::start(postmaster);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for chunks in buffers {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            for buffer in chunks {
                let mut copy = conn
                    .copy_in_raw(&format!("copy {table} (project_id, log_id, ts, level, service, host, message, trace_id, span_id, attributes) from stdin"))
                    .await?;
                copy.send(buffer.into_bytes()).await?;
                copy.finish().await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let rate = options.lines as f64 / started.elapsed().as_secs_f64();
    let used = cpu.used();
    let copied: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await?;
    anyhow::ensure!(
        copied as usize == options.lines,
        "copied {copied} of {} lines",
        options.lines
    );
    Ok((rate, used))
}
