//! `sightline bench errors`: Sentry error events per second, each answered after
//! its commit, and the latency clients see.
//!
//! Events look like a Python SDK's (2–4 KB: an exception with a dozen frames and
//! their context lines, breadcrumbs, request, user, tags, contexts), one event an
//! envelope, gzip-compressed, as SDKs send them. 30 % repeat one of 100 existing
//! issues (seeded before the clock starts); the rest are new issues, the costly
//! case (an issue row, its activity, its first hour).

use std::{
    io::Write,
    time::{Duration, Instant},
};

use flate2::{write::GzEncoder, Compression};
use serde_json::{json, Value};

use super::{cpu::CpuMeter, ms, percentile, Bench, Rng};
use crate::config::Config;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct ErrorBenchOptions {
    /// Events to send.
    pub events: usize,
    /// Concurrent HTTP clients, each sending one envelope at a time.
    pub clients: usize,
}

/// The client counts run when none is given. Each client sends its next
/// envelope only once the last is committed: few clients measure latency, many
/// the capacity.
pub const DEFAULT_CLIENTS: [usize; 3] = [16, 64, 256];

/// What one run measured.
struct Measured {
    clients: usize,
    events_per_second: f64,
    /// p50, p95, p99.
    latency: [Duration; 3],
    cpu: String,
}

const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

/// Issues the repeated events fall into.
const EXISTING_ISSUES: u64 = 100;

/// Runs the errors benchmark once for each client count, each on a fresh
/// database, and prints each run, then a table of them all.
pub async fn run(config: Config, events: usize, clients: &[usize]) -> anyhow::Result<()> {
    let mut runs = Vec::with_capacity(clients.len());
    for &clients in clients {
        let options = ErrorBenchOptions { events, clients };
        runs.push(super::with_bench(config.clone(), |bench| measure(bench, options)).await?);
    }
    if runs.len() > 1 {
        println!();
        println!("clients   events/s   latency p50 / p95 / p99   CPU per event");
        for run in &runs {
            let [p50, p95, p99] = run.latency.map(ms);
            println!(
                "{:>7} {:>10.0}   {p50:>6.1} / {p95:>5.1} / {p99:>5.1} ms   {}",
                run.clients, run.events_per_second, run.cpu
            );
        }
    }
    Ok(())
}

async fn measure(bench: Bench, options: ErrorBenchOptions) -> anyhow::Result<Measured> {
    let url = format!("{}/api/{}/envelope/", bench.base, bench.project_id);
    let auth = format!(
        "Sentry sentry_key={}, sentry_version=7, sentry_client=sightline-bench/1.0",
        bench.key
    );
    let client = reqwest::Client::new();
    let mut generator = Events(Rng(0x2545_f491_4f6c_dd1d));

    // The existing issues, before the clock starts.
    for group in 0..EXISTING_ISSUES {
        send(&client, &url, &auth, &generator.envelope(group)?).await?;
    }
    let mut new_group = EXISTING_ISSUES;
    let per_client = options.events.div_ceil(options.clients);
    let mut bodies: Vec<Vec<Vec<u8>>> = Vec::with_capacity(options.clients);
    let mut raw_bytes = 0usize;
    for c in 0..options.clients {
        let n = per_client.min(options.events.saturating_sub(c * per_client));
        let mut mine = Vec::with_capacity(n);
        for _ in 0..n {
            let group = if generator.0.below(100) < 30 {
                generator.0.below(EXISTING_ISSUES)
            } else {
                new_group += 1;
                new_group
            };
            let (body, raw) = generator.envelope_sized(group)?;
            raw_bytes += raw;
            mine.push(body);
        }
        bodies.push(mine);
    }
    println!(
        "Sightline errors benchmark: {} events of ~{} bytes (gzip, one an envelope), 30 % into {} existing issues, {} clients",
        options.events,
        raw_bytes / options.events.max(1),
        EXISTING_ISSUES,
        options.clients
    );

    let cpu = CpuMeter::start(bench.postmaster);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mine in bodies {
        let (client, url, auth) = (client.clone(), url.clone(), auth.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(mine.len());
            for body in mine {
                let sent = Instant::now();
                send(&client, &url, &auth, &body).await?;
                times.push(sent.elapsed());
            }
            Ok::<_, anyhow::Error>(times)
        }));
    }
    let mut times = Vec::with_capacity(options.events);
    for task in tasks {
        times.extend(task.await??);
    }
    let elapsed = started.elapsed();
    let used = cpu.used();

    let stored: i64 = sqlx::query_scalar("select count(*) from error_event")
        .fetch_one(&bench.pool)
        .await?;
    let expected = options.events as i64 + EXISTING_ISSUES as i64;
    anyhow::ensure!(stored == expected, "stored {stored} of {expected} events");
    let issues: i64 = sqlx::query_scalar("select count(*) from issue")
        .fetch_one(&bench.pool)
        .await?;
    let measured = Measured {
        clients: options.clients,
        events_per_second: options.events as f64 / elapsed.as_secs_f64(),
        latency: [0.5, 0.95, 0.99].map(|p| percentile(&mut times, p)),
        cpu: used.per(options.events),
    };
    let [p50, p95, p99] = measured.latency.map(ms);
    println!(
        "events over HTTP, ack after commit:   {:>9.0} events/s ({} issues)",
        measured.events_per_second, issues
    );
    println!(
        "latency per envelope:                 p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms"
    );
    println!(
        "CPU per event:                        {} (of {} cores)",
        measured.cpu,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(measured)
}

async fn send(client: &reqwest::Client, url: &str, auth: &str, body: &[u8]) -> anyhow::Result<()> {
    loop {
        let response = client
            .post(url)
            .header("x-sentry-auth", auth)
            .header("content-type", "application/x-sentry-envelope")
            .header("content-encoding", "gzip")
            .body(body.to_vec())
            .send()
            .await?;
        match response.status().as_u16() {
            200 => return Ok(()),
            // The queue is full: back off as an SDK would.
            429 | 503 => tokio::time::sleep(Duration::from_millis(50)).await,
            other => anyhow::bail!("envelope answered {other}: {}", response.text().await?),
        }
    }
}

/// A deterministic generator (xorshift64*) of Python-like error events.
struct Events(Rng);

impl Events {
    fn hex(&mut self, digits: usize) -> String {
        let mut out = format!("{:016x}{:016x}", self.0.next_u64(), self.0.next_u64());
        out.truncate(digits);
        out
    }

    /// One event of issue `group`: its exception type and innermost in-app
    /// function are the group's.
    fn event(&mut self, group: u64) -> Value {
        let now = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
        let modules = [
            "shop.views",
            "shop.orders",
            "shop.billing",
            "shop.db",
            "shop.cache",
        ];
        let mut frames: Vec<Value> = (0..7)
            .map(|i| {
                let module = if i < 3 { "django.core.handlers.base" } else { modules[i % 5] };
                json!({
                    "module": module,
                    "function": format!("step_{i}"),
                    "filename": format!("{}.py", module.replace('.', "/")),
                    "abs_path": format!("/srv/app/{}.py", module.replace('.', "/")),
                    "lineno": 40 + i * 7,
                    "in_app": i >= 3,
                    "context_line": format!("        result = step_{}(order, attempt={})", i + 1, i),
                    "vars": {"order_id": format!("'{}'", self.hex(12)), "attempt": i}
                })
            })
            .collect();
        frames.push(json!({
            "module": "shop.billing",
            "function": format!("handler_{group}"),
            "filename": "shop/billing.py",
            "abs_path": "/srv/app/shop/billing.py",
            "lineno": 120,
            "in_app": true,
            "context_line": "        raise PaymentError(f\"card declined for {order.id}\")",
            "vars": {"order": format!("<Order {}>", self.0.below(1_000_000))}
        }));
        let breadcrumbs: Vec<Value> = (0..5)
            .map(|i| {
                json!({"timestamp": now - 1.0 + i as f64 * 0.1, "category": "http", "level": "info",
                       "message": format!("GET /api/inventory/{} -> 200", self.0.below(100_000))})
            })
            .collect();
        json!({
            "event_id": self.hex(32),
            "timestamp": now,
            "platform": "python",
            "level": "error",
            "logger": "shop.billing",
            "server_name": format!("web-{}", self.0.below(8)),
            "release": format!("shop@1.{}.0", self.0.below(5)),
            "environment": "production",
            "user": {"id": format!("user-{}", self.0.below(50_000)), "ip_address": format!("10.0.{}.{}", self.0.below(255), self.0.below(255))},
            "tags": {"tenant": format!("tenant-{}", self.0.below(40)), "region": REGIONS[self.0.below(2) as usize]},
            "contexts": {
                "trace": {"trace_id": self.hex(32), "span_id": self.hex(16), "op": "http.server"},
                "runtime": {"name": "CPython", "version": "3.11.4"},
                "os": {"name": "Linux", "version": "6.1"}
            },
            "request": {
                "method": "POST",
                "url": format!("https://shop.example.com/api/orders/{}/pay", self.0.below(1_000_000)),
                "headers": {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)", "Content-Type": "application/json"}
            },
            "breadcrumbs": {"values": breadcrumbs},
            "exception": {"values": [{
                "type": format!("PaymentError{group}"),
                "value": format!("card declined for order {}", self.0.below(1_000_000)),
                "module": "shop.billing",
                "mechanism": {"type": "django", "handled": false},
                "stacktrace": {"frames": frames}
            }]},
            "sdk": {"name": "sentry.python.django", "version": "2.75.0"}
        })
    }

    fn envelope(&mut self, group: u64) -> anyhow::Result<Vec<u8>> {
        Ok(self.envelope_sized(group)?.0)
    }

    /// The gzip-compressed envelope and its size before compression.
    fn envelope_sized(&mut self, group: u64) -> anyhow::Result<(Vec<u8>, usize)> {
        let event = self.event(group);
        let payload = event.to_string();
        let raw = format!(
            "{}\n{}\n{payload}\n",
            json!({"event_id": event["event_id"], "sent_at": chrono::Utc::now().to_rfc3339()}),
            json!({"type": "event", "length": payload.len()})
        );
        let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
        gzip.write_all(raw.as_bytes())?;
        Ok((gzip.finish()?, raw.len()))
    }
}
