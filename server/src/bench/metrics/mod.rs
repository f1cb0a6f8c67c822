//! `sightline bench metrics`: issue 14's benchmark, Sightline's metrics beside a
//! real Prometheus (Debian's 2.42, when installed) on the same samples. With
//! Sightline started on a fresh database ([`super::Bench`]), it
//!
//! 1. generates the scrapes of a fleet (`targets` × handlers, each handler 20
//!    series: request counters by status, a 12-bucket latency histogram, two
//!    gauges; every target scraped at its own offset) for one hour at 15 s,
//!    ending an hour ago, as remote write 1.0 requests (protobuf in a snappy
//!    block, [`proto::encode`]) of `batch` samples, in time order, and sends
//!    them from `writers` clients to Sightline (answered 204 once committed)
//!    and then to Prometheus's remote write receiver — samples a second each;
//! 2. compacts that hour ([`compact::compact_once`]) and divides the chunk
//!    partitions' size by their samples (rollups apart); Prometheus's head is
//!    not compacted before two hours pass, so its figure is the WAL and head
//!    chunks, labelled as such;
//! 3. generates the 24 hours before at 60 s for `day_targets` targets: remote
//!    write to Sightline (then compacted), and for Prometheus an OpenMetrics
//!    file backfilled into blocks by `promtool` before Prometheus starts (its
//!    blocks' bytes a sample are comparable to Sightline's chunks);
//! 4. generates the 30 days before at 60 s for a small fleet (120 series):
//!    blocks by promtool for Prometheus (made with the 24 h ones), and for
//!    Sightline rows into its hot table, compacted into chunks and rollups
//!    ([`month`]: neither side takes month-old samples by remote write);
//! 5. times five dashboard queries over the 1 h window (step 15 s, raw
//!    chunks), the 24 h one (step 60 s, aligned as Grafana aligns it) and the
//!    30 days (step 1 h, the rate window widened to the step, so Sightline
//!    reads hour rollups) on both, and prints one table.

use std::{
    fmt::Write as _,
    io::Write as _,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::{DurationRound, TimeDelta, Utc};
use serde_json::Value;
use sqlx::PgPool;

use super::{ms, percentile, Bench};
use crate::{config::Config, ingest::prometheus::WRITE_PATH, metrics::compact};
use fleet::{dataset, Fleet, PER_HANDLER};
use peer::{binary, dir_bytes, Peer};

mod fleet;
mod month;
mod peer;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    /// Active series of the 1 h ingest (rounded down to 20 a handler).
    pub series: usize,
    /// Scrape targets they come from.
    pub targets: usize,
    /// Seconds between scrapes of the 1 h ingest.
    pub interval_s: u64,
    /// Samples a remote write request.
    pub batch: usize,
    /// Concurrent remote write clients.
    pub writers: usize,
    /// Runs of each query.
    pub runs: usize,
    /// Targets of the 24 h data (at 60 s).
    pub day_targets: usize,
}

const DAY_INTERVAL_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
/// Retries of a request answered 429 or 503, 50 ms apart.
const RETRIES: usize = 1200;

/// The five dashboard queries.
const QUERIES: [(&str, &str); 5] = [
    (
        "sum by (job) (rate)",
        "sum by (job) (rate(x_http_requests_total[5m]))",
    ),
    (
        "histogram_quantile(0.95)",
        "histogram_quantile(0.95, sum by (le) (rate(x_http_request_duration_seconds_bucket[5m])))",
    ),
    ("topk(5, rate)", "topk(5, rate(x_http_requests_total[5m]))"),
    (
        "4 matchers, 2 regexes",
        r#"{__name__=~"x_http_requests.*", job=~"job-(1|2|3)", instance!="target-2:9100", status=~"5.."}"#,
    ),
    (
        "ratio of two rates",
        r#"sum(rate(x_http_requests_total{status=~"5.."}[5m])) / sum(rate(x_http_requests_total[5m]))"#,
    ),
];

/// Sends each shard's bodies in order from a client of its own (the next one
/// when the last is answered), retrying 429 and 503; the time it took.
async fn send_all(
    http: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    shards: &Arc<Vec<Vec<Vec<u8>>>>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for shard in 0..shards.len() {
        let (http, url, key) = (http.clone(), url.to_string(), key.map(str::to_string));
        let shards = shards.clone();
        tasks.push(tokio::spawn(async move {
            for body in &shards[shard] {
                let mut tries = 0;
                loop {
                    let mut request = http
                        .post(&url)
                        .header("content-type", "application/x-protobuf")
                        .header("content-encoding", "snappy")
                        .header("x-prometheus-remote-write-version", "0.1.0")
                        .body(body.clone());
                    if let Some(key) = &key {
                        request = request.bearer_auth(key);
                    }
                    let response = request.send().await?;
                    match response.status().as_u16() {
                        200..=299 => break,
                        429 | 503 if tries < RETRIES => {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        other => {
                            anyhow::bail!("{url} answered {other}: {}", response.text().await?)
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
    Ok(started.elapsed())
}

/// Bytes of a partitioned table's partitions, indexes and TOAST included.
async fn table_bytes(pool: &PgPool, table: &str) -> anyhow::Result<f64> {
    Ok(sqlx::query_scalar(
        "select coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::float8
         from pg_inherits i where i.inhparent = $1::regclass",
    )
    .bind(table)
    .fetch_one(pool)
    .await?)
}

/// Compacts every closed hour (retrying while another pass holds the lock)
/// and returns the bytes of the chunks, of the rollups, and the samples held.
async fn compact_all(pool: &PgPool) -> anyhow::Result<(f64, f64, f64)> {
    for _ in 0..60 {
        if !compact::compact_once(pool, Utc::now()).await?.skipped {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let chunks = table_bytes(pool, "metric_chunk").await?;
    let rollups = table_bytes(pool, "metric_rollup_1m").await?
        + table_bytes(pool, "metric_rollup_1h").await?;
    let samples: f64 =
        sqlx::query_scalar("select coalesce(sum(samples), 0)::float8 from metric_chunk")
            .fetch_one(pool)
            .await?;
    Ok((chunks, rollups, samples))
}

/// p50, p95 and the series of the answer of `query` over `[start, end]`.
async fn time_query(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    (start_ms, end_ms, step_ms): (i64, i64, i64),
    runs: usize,
) -> anyhow::Result<(Duration, Duration, usize)> {
    let params = [
        ("query", query.to_string()),
        ("start", format!("{:.3}", start_ms as f64 / 1000.0)),
        ("end", format!("{:.3}", end_ms as f64 / 1000.0)),
        ("step", format!("{}", step_ms as f64 / 1000.0)),
    ];
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let (mut times, mut series) = (Vec::with_capacity(runs), 0);
    // One run first, untimed: both sides then answer from a warm cache.
    for run in 0..=runs {
        let started = Instant::now();
        let mut request = http.get(format!("{url}?{body}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{url} {query}: {status} {text}");
        if run == 0 {
            let answer: Value = serde_json::from_str(&text)?;
            series = answer["data"]["result"].as_array().map_or(0, Vec::len);
        } else {
            times.push(started.elapsed());
        }
    }
    Ok((
        percentile(&mut times, 0.5),
        percentile(&mut times, 0.95),
        series,
    ))
}

/// Runs the metrics benchmark and prints the table.
pub async fn run(config: Config, options: BenchOptions) -> anyhow::Result<()> {
    super::with_bench(config, |bench| measure(bench, options)).await
}

/// A directory of the run's own, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn measure(bench: Bench, options: BenchOptions) -> anyhow::Result<()> {
    let Bench {
        pool,
        base,
        key,
        token,
        project_id,
        ..
    } = bench;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()?;
    let scratch = Scratch(
        std::env::temp_dir().join(format!("sightline-bench-metrics-{}", std::process::id())),
    );
    std::fs::create_dir_all(scratch.0.join("tsdb"))?;
    let (prometheus, promtool) = (binary("prometheus"), binary("promtool"));
    let hour = Utc::now()
        .duration_trunc(TimeDelta::hours(1))?
        .timestamp_millis();
    let handlers = (options.series / options.targets / PER_HANDLER).max(1);
    let interval_ms = options.interval_s as i64 * 1000;
    let hour_range = (hour - 2 * HOUR_MS, hour - HOUR_MS, interval_ms);
    let day_range = (hour - 26 * HOUR_MS, hour - 2 * HOUR_MS, DAY_INTERVAL_MS);
    // The month's series are some of the 24 h fleet's (created by its data).
    let (month_targets, month_handlers) = (
        month::TARGETS.min(options.day_targets),
        month::HANDLERS.min(handlers),
    );
    let month_range = (
        day_range.0 - month::DAYS * 24 * HOUR_MS,
        day_range.0,
        DAY_INTERVAL_MS,
    );

    // The 24 h first: promtool's blocks must be in place before Prometheus starts.
    let mut day_fleet = Fleet::new(options.day_targets, handlers);
    let openmetrics_path = scratch.0.join("day.om");
    let day = {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&openmetrics_path)?);
        let openmetrics = promtool
            .as_ref()
            .map(|_| &mut file as &mut dyn std::io::Write);
        let day = dataset(
            &mut day_fleet,
            day_range,
            (options.batch, options.writers),
            openmetrics,
        )?;
        file.flush()?;
        day
    };
    let mut prometheus_blocks = None;
    let mut month_blocks = false;
    if let (Some(promtool), Some(_)) = (&promtool, &prometheus) {
        let started = Instant::now();
        peer::backfill(promtool, &openmetrics_path, &scratch.0.join("tsdb"), 2)?;
        let bytes = dir_bytes(&scratch.0.join("tsdb"));
        println!(
            "promtool backfilled {} samples of {} series in {:.1} s ({bytes} bytes of blocks)",
            day.samples,
            day.series,
            started.elapsed().as_secs_f64()
        );
        prometheus_blocks = Some(bytes as f64 / day.samples as f64);

        // The month, into the same directory (the day's bytes are measured).
        let started = Instant::now();
        let month_path = scratch.0.join("month.om");
        let mut file = std::io::BufWriter::new(std::fs::File::create(&month_path)?);
        let mut fleet = Fleet::new(month_targets, month_handlers);
        let samples = month::openmetrics(&mut fleet, month_range, &mut file)?;
        file.flush()?;
        drop(file);
        // In blocks of a day: a month-old Prometheus has compacted its 2 h
        // blocks (into 6 h, 18 h, 54 h, … up to a tenth of the retention).
        peer::backfill(promtool, &month_path, &scratch.0.join("tsdb"), 24)?;
        std::fs::remove_file(&month_path)?;
        println!(
            "promtool backfilled the month, {samples} samples of {} series, in {:.1} s",
            fleet.series(),
            started.elapsed().as_secs_f64()
        );
        month_blocks = true;
    }
    std::fs::remove_file(&openmetrics_path)?;
    let peer = match &prometheus {
        Some(binary) => Some(Peer::start(binary, &scratch.0, &http).await?),
        None => None,
    };

    let mut fleet = Fleet::new(options.targets, handlers);
    let hour_data = dataset(
        &mut fleet,
        hour_range,
        (options.batch, options.writers),
        None,
    )?;
    let requests = hour_data.shards.iter().map(Vec::len).sum::<usize>();
    println!(
        "Sightline metrics benchmark: {} series ({} targets) at {} s for 1 h = {} samples in {} requests of {} ({} KiB a request), {} writers; 24 h at 60 s of {} series",
        hour_data.series,
        options.targets,
        options.interval_s,
        hour_data.samples,
        requests,
        options.batch,
        hour_data.shards.iter().flatten().map(Vec::len).sum::<usize>() / requests.max(1) / 1024,
        options.writers,
        day.series,
    );
    let bodies = Arc::new(hour_data.shards);
    let write_url = format!("{base}{WRITE_PATH}");
    let took = send_all(&http, &write_url, Some(&key), &bodies).await?;
    let sightline_rate = hour_data.samples as f64 / took.as_secs_f64();
    let stored: i64 = sqlx::query_scalar("select count(*) from metric_sample")
        .fetch_one(&pool)
        .await?;
    anyhow::ensure!(
        stored as usize == hour_data.samples,
        "Sightline stored {stored} of {} samples",
        hour_data.samples
    );
    println!("Sightline: {sightline_rate:.0} samples/s");
    let mut prometheus_rate = None;
    let mut prometheus_head = None;
    if let Some(peer) = &peer {
        let before =
            dir_bytes(&scratch.0.join("tsdb/wal")) + dir_bytes(&scratch.0.join("tsdb/chunks_head"));
        let url = format!("{}/api/v1/write", peer.base);
        let took = send_all(&http, &url, None, &bodies).await?;
        prometheus_rate = Some(hour_data.samples as f64 / took.as_secs_f64());
        println!(
            "Prometheus: {:.0} samples/s",
            hour_data.samples as f64 / took.as_secs_f64()
        );
        let after =
            dir_bytes(&scratch.0.join("tsdb/wal")) + dir_bytes(&scratch.0.join("tsdb/chunks_head"));
        prometheus_head = Some(after.saturating_sub(before) as f64 / hour_data.samples as f64);
    }
    drop(bodies);
    let started = Instant::now();
    let (hour_chunks, hour_rollups, hour_samples) = compact_all(&pool).await?;
    println!(
        "compacted the hour in {:.1} s: {hour_samples} samples",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let took = send_all(&http, &write_url, Some(&key), &Arc::new(day.shards)).await?;
    let (day_chunks, day_rollups, day_samples) = compact_all(&pool).await?;
    println!(
        "24 h into Sightline: {:.0} samples/s, then compacted, {:.1} s in all",
        day.samples as f64 / took.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let day_samples = day_samples - hour_samples;

    // The month, as its writer would have written it, then compacted.
    let started = Instant::now();
    let mut fleet = Fleet::new(month_targets, month_handlers);
    let month_samples = month::write(&pool, project_id, &mut fleet, month_range).await?;
    compact_all(&pool).await?;
    println!(
        "the month into Sightline's hot table ({month_samples} samples), then compacted, {:.1} s in all",
        started.elapsed().as_secs_f64()
    );

    let mut table = String::new();
    let mut row = |cells: [String; 4]| {
        let _ = writeln!(table, "| {} |", cells.join(" | "));
    };
    let na = || "n/a".to_string();
    let ratio = |s: f64, p: Option<f64>| p.map_or_else(na, |p| format!("{:.2}", s / p));
    row([
        "".into(),
        "Sightline".into(),
        "Prometheus 2.42".into(),
        "ratio S/P".into(),
    ]);
    row(["---".into(), "---".into(), "---".into(), "---".into()]);
    row([
        format!(
            "ingest, remote write, {} writers × {} samples, samples/s (S: ack after commit; P: after the head and WAL append)",
            options.writers, options.batch
        ),
        format!("{sightline_rate:.0}"),
        prometheus_rate.map_or_else(na, |r| format!("{r:.0}")),
        ratio(sightline_rate, prometheus_rate),
    ]);
    row([
        format!("bytes a sample, 1 h at {} s (S: chunks after compaction, rollups apart; P: WAL + head chunks, not compacted)", options.interval_s),
        format!(
            "{:.2} (rollups +{:.2})",
            hour_chunks / hour_samples,
            hour_rollups / hour_samples
        ),
        prometheus_head.map_or_else(na, |b| format!("{b:.2} (WAL + head)")),
        "not comparable".into(),
    ]);
    row([
        "bytes a sample, 24 h at 60 s (S: chunks, rollups apart; P: promtool's blocks)".into(),
        format!(
            "{:.2} (rollups +{:.2})",
            (day_chunks - hour_chunks) / day_samples,
            (day_rollups - hour_rollups) / day_samples
        ),
        prometheus_blocks.map_or_else(na, |b| format!("{b:.2}")),
        ratio((day_chunks - hour_chunks) / day_samples, prometheus_blocks),
    ]);
    let sightline_url = format!("{base}/prometheus/bench/api/v1/query_range");
    let prometheus_url = peer
        .as_ref()
        .map(|p| format!("{}/api/v1/query_range", p.base));
    // Over 30 days at a 1 h step the rate window is the step, as Grafana's
    // `$__interval` makes it (a 5 min window would read 5 minutes an hour).
    for (range_name, range, backfilled, window) in [
        (
            "1 h, step 15 s",
            (hour_range.0, hour_range.1, 15_000),
            true,
            "5m",
        ),
        (
            "24 h, step 60 s",
            (day_range.0, day_range.1, 60_000),
            prometheus_blocks.is_some(),
            "5m",
        ),
        (
            "30 d, step 1 h, rate over [1h]",
            (month_range.0, month_range.1, HOUR_MS),
            month_blocks,
            "1h",
        ),
    ] {
        for (name, query) in QUERIES {
            let query = &query.replace("[5m]", &format!("[{window}]"));
            let (s50, s95, s_series) = time_query(
                &http,
                &sightline_url,
                Some(&token),
                query,
                range,
                options.runs,
            )
            .await?;
            let peer_times = match &prometheus_url {
                Some(url) if backfilled => {
                    Some(time_query(&http, url, None, query, range, options.runs).await?)
                }
                _ => None,
            };
            row([
                format!("{name}, {range_name}: p50 / p95 ms (series)"),
                format!("{:.1} / {:.1} ({s_series})", ms(s50), ms(s95)),
                peer_times.map_or_else(na, |(p50, p95, n)| {
                    format!("{:.1} / {:.1} ({n})", ms(p50), ms(p95))
                }),
                peer_times.map_or_else(na, |(p50, p95, _)| {
                    format!("{:.2} / {:.2}", ms(s50) / ms(p50), ms(s95) / ms(p95))
                }),
            ]);
        }
    }
    println!();
    print!("{table}");
    if prometheus.is_none() {
        println!("Prometheus: n/a (no `prometheus` on PATH or in /usr/bin).");
    } else if promtool.is_none() {
        println!(
            "Prometheus 24 h and 30 d: n/a (no `promtool` to backfill blocks; remote write cannot)."
        );
    }
    drop(peer);
    drop(scratch);
    Ok(())
}
