//! `sightline bench bombs`: compression bombs against a running Sightline.
//!
//! Sends `clients` concurrent gzip bodies that each decode to 1 GiB of zeros
//! (about 1 MiB on the wire) to `/_bulk` and the native endpoint, while
//! another task asks `/healthz` every 10 ms. Prints the answers (all should be
//! 413), the peak resident memory of this process during the run (server and
//! benchmark share it; the benchmark's own part is the bodies, ~1 MiB each),
//! and the `/healthz` latencies. The targets of issue 11: peak RSS under
//! 512 MB, `/healthz` within 100 ms throughout.

use std::{
    collections::BTreeMap,
    io::Write,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::Context;

use super::{ms, percentile, with_bench};
use crate::config::Config;

/// Decoded size of one bomb, in MiB.
const BOMB_MIB: usize = 1024;

/// Runs the benchmark and prints its figures.
pub async fn run(config: Config, clients: usize) -> anyhow::Result<()> {
    with_bench(config, |bench| async move {
        let bomb = Arc::new(zeros_bomb(BOMB_MIB)?);
        println!(
            "{clients} concurrent gzip bombs, each {} KiB on the wire, {BOMB_MIB} MiB decoded",
            bomb.len() / 1024
        );
        let client = reqwest::Client::new();
        let baseline_rss = resident_mb("VmRSS");
        reset_peak_rss();

        let running = Arc::new(AtomicBool::new(true));
        let probe = {
            let (client, url, running) = (
                client.clone(),
                format!("{}/healthz", bench.base),
                running.clone(),
            );
            tokio::spawn(async move {
                let mut times = Vec::new();
                while running.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let ok = client
                        .get(&url)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    times.push((started.elapsed(), ok));
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                times
            })
        };

        let started = Instant::now();
        let sends: Vec<_> = (0..clients)
            .map(|i| {
                let path = if i % 2 == 0 { "/_bulk" } else { "/api/v1/ingest/logs" };
                let request = client
                    .post(format!("{}{path}", bench.base))
                    .bearer_auth(&bench.key)
                    .header("content-type", "application/x-ndjson")
                    .header("content-encoding", "gzip")
                    .body(bomb.as_ref().clone());
                tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
            })
            .collect();
        let mut answers: BTreeMap<String, usize> = BTreeMap::new();
        for send in sends {
            let answer = match send.await.context("a sender")? {
                Ok(status) => status.to_string(),
                Err(error) => format!("error: {error}"),
            };
            *answers.entry(answer).or_default() += 1;
        }
        let took = started.elapsed();
        running.store(false, Ordering::Relaxed);
        let probes = probe.await.context("the /healthz probe")?;
        let peak_rss = resident_mb("VmHWM");

        let failed = probes.iter().filter(|(_, ok)| !ok).count();
        let mut times: Vec<Duration> = probes.iter().map(|(t, _)| *t).collect();
        println!("answers: {answers:?} in {:.1} s", took.as_secs_f64());
        println!(
            "resident memory: {baseline_rss:.0} MB before, peak {peak_rss:.0} MB during (target < 512)"
        );
        println!(
            "/healthz: {} probes, {failed} failed, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target < 100)",
            times.len(),
            ms(percentile(&mut times, 0.5)),
            ms(percentile(&mut times, 0.99)),
            ms(percentile(&mut times, 1.0)),
        );
        Ok(())
    })
    .await
}

/// A gzip body of `mib` members, each 1 MiB of zeros.
fn zeros_bomb(mib: usize) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 1 << 20])?;
    Ok(encoder.finish()?.repeat(mib))
}

/// A line of `/proc/self/status` (`VmRSS`, `VmHWM`), in MB.
fn resident_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Starts counting the peak resident memory (`VmHWM`) from now (Linux).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
