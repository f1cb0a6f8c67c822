//! PromQL answered as Prometheus answers it, value for value: the same samples
//! go to Sightline and to a real Prometheus (Debian's `prometheus` 2.42, the
//! version Sightline's query API claims to be), and some 230 expressions, every
//! function and operator Sightline implements, are asked of both as instant
//! queries at several times and as range queries at several steps.
//!
//! The data (a fixed pseudo-random generator, so every run asks the same
//! questions about the same values) covers what PromQL gets wrong most easily:
//! counters with resets and jittered timestamps, a counter with a 5-minute gap
//! and a gauge with one longer than the lookback, NaN and ±Inf values, series
//! ended by stale markers (one resumes after), classic histograms, a series
//! scraped every 2 minutes (ranges shorter than its interval), and series over
//! several jobs and instances for aggregation and vector matching. It spans
//! the 50 minutes before the last minute, because Prometheus's head refuses
//! samples older than an hour before its newest one; both sides receive the
//! same encoded remote write requests, in time order.
//!
//! Answers must have the same result type, the same series (in the same order
//! for `sort`, `sort_desc`, `topk` and `bottomk` at an instant), the same
//! timestamps and values equal within 1e-9 relative (Go's `math.Exp`, `Pow` and
//! trigonometry differ from libm in the last bit); errors must have the same
//! status and error type. Every difference is collected and reported at once.
//!
//! Prometheus runs as a child of the test on a free loopback port, with its
//! TSDB in a fresh temporary directory. It comes from the apt package
//! `prometheus` (`make deps-test`); without it the test fails rather than skips.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use std::{fmt::Write as _, time::Instant};

use app::api::Role;
use axum::http::StatusCode;
use common::{
    metrics::{remote_write, Prometheus},
    Auth, TestApp,
};
use futures_util::StreamExt;
use serde_json::Value;
use server::{
    ingest::prometheus::proto::{self, Label, Sample, TimeSeries, WriteRequest},
    metrics::record::STALE_NAN_BITS,
};
use sqlx::PgPool;

/// The expressions asked as instant and as range queries, one a line of
/// `promql_expressions.txt` (`#` comments). `{t+N}` stands for the data's
/// start plus `N` seconds (for `@`).
fn expressions() -> impl Iterator<Item = &'static str> {
    include_str!("promql_expressions.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// Expressions asked at instants only: they rank equal values, and
/// Prometheus 2.42 breaks such ties in random order in range queries.
const INSTANT_ONLY: &[&str] = &[
    "topk(3, round(g / 100))",
    "bottomk(4, round(c_total / 1000))",
    "topk by (job) (2, round(g / 100))",
    "sort(round(g / 100))",
    "sort_desc(round(c_total / 1000))",
];

/// The data span: 200 intervals of 15 s.
const SPAN_MS: i64 = 3_000_000;
/// Instant query times, in ms after the data's start: between samples, on
/// them, on a stale marker and just after it, after the end within the
/// lookback and beyond it.
const INSTANTS: &[i64] = &[
    1_000_123, 1_500_000, 600_000, 610_000, 2_850_000, 2_860_000, 3_100_000, 3_400_000,
];
/// Range queries `(start, end, step)`, in ms after the data's start.
const RANGES: &[(i64, i64, i64)] = &[
    (600_000, 3_000_000, 60_000),
    (100_500, 2_900_000, 37_000),
    (0, SPAN_MS, 15_000),
];
/// Most differences the failure message lists.
const SHOWN: usize = 30;

/// xorshift64*: the same values on every run, without a dependency.
struct Rng(u64);

impl Rng {
    /// Uniform in `[low, high)`.
    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        low + (high - low) * (bits as f64 / (1u64 << 53) as f64)
    }
}

fn rounded(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

struct Series {
    /// Sorted by name, as Prometheus's receiver expects.
    labels: Vec<(String, String)>,
    samples: Vec<(i64, f64)>,
}

fn series(labels: &[(&str, &str)], samples: Vec<(i64, f64)>) -> Series {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    labels.sort();
    Series { labels, samples }
}

/// The data set, from `t0` (ms) over [`SPAN_MS`].
fn data(t0: i64) -> Vec<Series> {
    let mut rng = Rng(0x5eed_0000_0000_002a);
    let every = |step_s: i64| (0..=SPAN_MS / 1000 / step_s).map(move |i| t0 + i * step_s * 1000);
    let at = |s: i64| t0 + s * 1000;
    let stale = f64::from_bits(STALE_NAN_BITS);
    let mut all = Vec::new();

    // Counters: different slopes, jittered timestamps, random resets and a
    // certain one; one stops for 5 minutes.
    for (inst, slope) in [("1", 1.0), ("2", 3.5), ("3", 0.25)] {
        for job in ["api", "db"] {
            let mut value = 0.0;
            let mut samples = Vec::new();
            for (i, t) in every(15).enumerate() {
                let t = t + rng.uniform(0.0, 600.0) as i64;
                value += slope * rng.uniform(0.5, 1.5);
                if rng.uniform(0.0, 1.0) < 0.02 || (inst == "1" && job == "api" && i == 100) {
                    value = rng.uniform(0.0, 3.0);
                }
                let gap = inst == "3" && job == "db" && (at(1500)..at(1800)).contains(&t);
                if !gap {
                    samples.push((t, rounded(value, 3)));
                }
            }
            all.push(series(
                &[("__name__", "c_total"), ("job", job), ("inst", inst)],
                samples,
            ));
        }
    }
    // Gauges: one with a 10-minute gap (longer than the lookback), one late.
    for inst in ["1", "2"] {
        let samples = every(15)
            .map(|t| (t, rounded(rng.uniform(-50.0, 50.0), 2)))
            .filter(|(t, _)| inst == "1" || !(at(1200)..at(1800)).contains(t))
            .collect();
        all.push(series(
            &[("__name__", "g"), ("job", "api"), ("inst", inst)],
            samples,
        ));
    }
    let late = every(15)
        .filter(|t| *t >= at(1500))
        .map(|t| (t, rounded(rng.uniform(0.0, 10.0), 1)))
        .collect();
    all.push(series(
        &[("__name__", "g"), ("job", "db"), ("inst", "1")],
        late,
    ));
    // Special values, one a minute.
    let cycle = [1.0, f64::NAN, f64::INFINITY, -2.0, f64::NEG_INFINITY, 0.0];
    let special = every(60)
        .enumerate()
        .map(|(i, t)| (t, cycle[i % 6]))
        .collect();
    all.push(series(&[("__name__", "special"), ("job", "x")], special));
    // A counter scraped every 2 minutes.
    let sparse = every(120)
        .enumerate()
        .map(|(i, t)| (t, (i * i) as f64))
        .collect();
    all.push(series(
        &[("__name__", "sparse_total"), ("job", "batch")],
        sparse,
    ));
    // Info series for joins.
    for (job, team) in [("api", "red"), ("db", "blue")] {
        let ones = every(15).map(|t| (t, 1.0)).collect();
        all.push(series(
            &[("__name__", "info"), ("job", job), ("team", team)],
            ones,
        ));
    }
    // Classic histograms.
    let bounds = [
        ("0.05", 0.05),
        ("0.1", 0.1),
        ("0.5", 0.5),
        ("1", 1.0),
        ("+Inf", f64::INFINITY),
    ];
    for job in ["api", "db"] {
        let mut buckets = vec![Vec::new(); bounds.len()];
        let (mut sum, mut sums, mut counts) = (0.0, Vec::new(), Vec::new());
        let mut cumulative = [0.0; 5];
        for (i, t) in every(15).enumerate() {
            for _ in 0..5 {
                let observed = rng.uniform(0.0, 1.5);
                sum += observed;
                for (b, (_, upper)) in bounds.iter().enumerate() {
                    if observed <= *upper {
                        cumulative[b] += 1.0;
                    }
                }
            }
            for (b, samples) in buckets.iter_mut().enumerate() {
                samples.push((t, cumulative[b]));
            }
            sums.push((t, rounded(sum, 6)));
            counts.push((t, (5 * (i + 1)) as f64));
        }
        for ((le, _), samples) in bounds.iter().zip(buckets) {
            all.push(series(
                &[("__name__", "h_bucket"), ("job", job), ("le", le)],
                samples,
            ));
        }
        all.push(series(&[("__name__", "h_sum"), ("job", job)], sums));
        all.push(series(&[("__name__", "h_count"), ("job", job)], counts));
    }
    // Staleness: a series ended by a marker that resumes 10 minutes later, one
    // whose marker is followed quickly by new samples, a counter with markers
    // inside range windows, and one ended by a marker after one sample.
    let mut gap: Vec<(i64, f64)> = (0..40).map(|i| (at(15 * i), i as f64)).collect();
    gap.push((at(600), stale));
    gap.extend((0..40).map(|i| (at(1200 + 15 * i), 100.0 + i as f64)));
    all.push(series(&[("__name__", "st"), ("case", "gap")], gap));
    let mut blip: Vec<(i64, f64)> = (0..190).map(|i| (at(15 * i), (i % 7) as f64)).collect();
    blip.extend([(at(2850), stale), (at(2880), 5.0), (at(2895), 6.0)]);
    all.push(series(&[("__name__", "st"), ("case", "blip")], blip));
    let mut value = 0.0;
    let counter = (0..200)
        .map(|i| {
            if i % 37 == 36 {
                (at(15 * i), stale)
            } else {
                value += 2.5;
                (at(15 * i), value)
            }
        })
        .collect();
    all.push(series(&[("__name__", "stc"), ("case", "counter")], counter));
    all.push(series(
        &[("__name__", "st"), ("case", "single")],
        vec![(at(900), 3.0), (at(915), stale)],
    ));
    all
}

/// The data as remote write bodies of 10 minutes each, in time order
/// (Prometheus refuses a series' samples older than its newest).
fn write_bodies(all: &[Series], t0: i64) -> Vec<Vec<u8>> {
    const WINDOW_MS: i64 = 600_000;
    let window = |t: i64| (t - t0).div_euclid(WINDOW_MS);
    let last = all
        .iter()
        .flat_map(|s| s.samples.iter().map(|(t, _)| window(*t)))
        .max()
        .expect("samples");
    (window(t0)..=last)
        .map(|w| {
            let timeseries = all
                .iter()
                .filter_map(|s| {
                    let samples: Vec<Sample> = s
                        .samples
                        .iter()
                        .filter(|(t, _)| window(*t) == w)
                        .map(|&(timestamp, value)| Sample { value, timestamp })
                        .collect();
                    (!samples.is_empty()).then(|| TimeSeries {
                        labels: s
                            .labels
                            .iter()
                            .map(|(name, value)| Label {
                                name: name.clone(),
                                value: value.clone(),
                            })
                            .collect(),
                        samples,
                        histograms: 0,
                    })
                })
                .collect();
            proto::encode(&WriteRequest {
                timeseries,
                metadata: vec![],
            })
        })
        .collect()
}

/// `{t+N}` replaced by `t0_s + N`.
fn expand(expr: &str, t0_s: i64) -> String {
    let mut out = String::new();
    let mut rest = expr;
    while let Some(start) = rest.find("{t+") {
        let end = start + rest[start..].find('}').expect("closing brace");
        let offset: i64 = rest[start + 3..end].parse().expect("an offset in seconds");
        out.push_str(&rest[..start]);
        out.push_str(&(t0_s + offset).to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Seconds with milliseconds, as the API takes times.
fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// One question asked of both.
struct Query {
    expr: String,
    /// `None` for an instant query at `start`.
    range: Option<(i64, i64)>,
    start: i64,
    /// The URL's path and query string after `/api/v1/`.
    path_and_query: String,
}

impl Query {
    fn instant(expr: &str, t: i64) -> Self {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("query", expr)
            .append_pair("time", &seconds(t))
            .finish();
        Query {
            expr: expr.to_string(),
            range: None,
            start: t,
            path_and_query: format!("query?{query}"),
        }
    }

    fn range(expr: &str, start: i64, end: i64, step: i64) -> Self {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("query", expr)
            .append_pair("start", &seconds(start))
            .append_pair("end", &seconds(end))
            .append_pair("step", &seconds(step))
            .finish();
        Query {
            expr: expr.to_string(),
            range: Some((end, step)),
            start,
            path_and_query: format!("query_range?{query}"),
        }
    }

    /// Whether the order of the series is part of the answer.
    fn ordered(&self) -> bool {
        self.range.is_none()
            && ["sort(", "sort_desc(", "topk(", "bottomk("]
                .iter()
                .any(|f| self.expr.starts_with(f))
    }

    fn describe(&self, t0: i64) -> String {
        match self.range {
            None => format!(
                "instant `{}` at T0+{}s",
                self.expr,
                seconds(self.start - t0)
            ),
            Some((end, step)) => format!(
                "range `{}` T0+{}s..T0+{}s step {}s",
                self.expr,
                seconds(self.start - t0),
                seconds(end - t0),
                seconds(step)
            ),
        }
    }
}

/// An answer reduced to what is compared.
#[derive(Debug)]
enum Answer {
    Error {
        status: u16,
        kind: String,
        message: String,
    },
    /// The result type and each series' labels and points `(ms, value)`.
    Data {
        kind: String,
        series: Vec<(String, Vec<(i64, String)>)>,
    },
}

impl Answer {
    fn read(status: u16, body: &Value) -> Self {
        if body["status"] != "success" {
            return Answer::Error {
                status,
                kind: body["errorType"].as_str().unwrap_or("(none)").to_string(),
                message: body["error"]
                    .as_str()
                    .map_or_else(|| body.to_string(), str::to_string),
            };
        }
        let kind = body["data"]["resultType"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let result = &body["data"]["result"];
        let items = result.as_array().map(Vec::as_slice).unwrap_or_default();
        let series = match kind.as_str() {
            "scalar" | "string" => vec![(String::new(), vec![point(result)])],
            "vector" => items
                .iter()
                .map(|s| (labels(&s["metric"]), vec![point(&s["value"])]))
                .collect(),
            _ => items
                .iter()
                .map(|s| {
                    let values = s["values"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    (labels(&s["metric"]), values.iter().map(point).collect())
                })
                .collect(),
        };
        Answer::Data { kind, series }
    }

    /// The status and error type of an error.
    fn error(&self) -> Option<(u16, &str)> {
        match self {
            Answer::Error { status, kind, .. } => Some((*status, kind.as_str())),
            Answer::Data { .. } => None,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Answer::Error { .. } => true,
            Answer::Data { series, .. } => series.is_empty(),
        }
    }
}

fn labels(metric: &Value) -> String {
    let mut pairs: Vec<String> = metric
        .as_object()
        .map(|m| m.iter().map(|(n, v)| format!("{n}={v}")).collect())
        .unwrap_or_default();
    pairs.sort();
    format!("{{{}}}", pairs.join(","))
}

fn point(pair: &Value) -> (i64, String) {
    let t = (pair[0].as_f64().unwrap_or(f64::NAN) * 1000.0).round() as i64;
    let v = pair[1]
        .as_str()
        .map_or_else(|| pair[1].to_string(), str::to_string);
    (t, v)
}

/// Equal, or numbers equal within 1e-9 relative.
fn close(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => {
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        _ => false,
    }
}

/// How Sightline's answer differs from Prometheus's, if it does.
fn difference(expected: &Answer, got: &Answer, ordered: bool, t0: i64) -> Option<String> {
    let (
        Answer::Data {
            kind: expected_kind,
            series: expected_series,
        },
        Answer::Data {
            kind: got_kind,
            series: got_series,
        },
    ) = (expected, got)
    else {
        let same_error = expected.error().is_some() && expected.error() == got.error();
        return (!same_error)
            .then(|| format!("prometheus {}, sightline {}", brief(expected), brief(got)));
    };
    if expected_kind != got_kind {
        return Some(format!(
            "result type: prometheus {expected_kind}, sightline {got_kind}"
        ));
    }
    let mut expected_series: Vec<_> = expected_series.iter().collect();
    let mut got_series: Vec<_> = got_series.iter().collect();
    if !ordered {
        expected_series.sort();
        got_series.sort();
    }
    let names =
        |s: &[&(String, Vec<(i64, String)>)]| s.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>();
    let (expected_names, got_names) = (names(&expected_series), names(&got_series));
    if expected_names != got_names {
        let only = |a: &[String], b: &[String]| {
            a.iter()
                .filter(|l| !b.contains(l))
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (only_expected, only_got) = (
            only(&expected_names, &got_names),
            only(&got_names, &expected_names),
        );
        if only_expected.is_empty() && only_got.is_empty() {
            return Some(format!(
                "order: prometheus {}, sightline {}",
                expected_names.join(" "),
                got_names.join(" ")
            ));
        }
        return Some(format!(
            "{} series from prometheus, {} from sightline; only prometheus: [{only_expected}], only sightline: [{only_got}]",
            expected_names.len(),
            got_names.len()
        ));
    }
    for ((labels, expected_points), (_, got_points)) in expected_series.iter().zip(&got_series) {
        let at = |t: i64| format!("T0+{}s", seconds(t - t0));
        for i in 0..expected_points.len().max(got_points.len()) {
            match (expected_points.get(i), got_points.get(i)) {
                (Some((te, ve)), Some((tg, vg))) if te == tg && close(ve, vg) => {}
                (Some((te, ve)), Some((tg, vg))) if te == tg => {
                    return Some(format!(
                        "{labels} at {}: prometheus {ve}, sightline {vg}",
                        at(*te)
                    ));
                }
                (e, g) => {
                    let show = |p: Option<&(i64, String)>| {
                        p.map_or_else(
                            || "nothing".to_string(),
                            |(t, v)| format!("{v} at {}", at(*t)),
                        )
                    };
                    return Some(format!(
                        "{labels} point {i}: prometheus {}, sightline {} ({} vs {} points)",
                        show(e),
                        show(g),
                        expected_points.len(),
                        got_points.len()
                    ));
                }
            }
        }
    }
    None
}

fn brief(answer: &Answer) -> String {
    match answer {
        Answer::Error {
            status,
            kind,
            message,
        } => format!("error {status} {kind} ({message})"),
        Answer::Data { kind, series } => format!("a {kind} of {} series", series.len()),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn promql_answers_match_prometheus(pool: PgPool) {
    let started = Instant::now();
    // No scrape targets, and the remote write receiver.
    let prometheus = Prometheus::start(
        |_| "scrape_configs: []\n".into(),
        &["--web.enable-remote-write-receiver"],
    )
    .await;
    let app = TestApp::new(pool);
    let (_, key) = app.project("peer").await;
    let Auth::Bearer(token) = app.token(Role::Viewer).await else {
        unreachable!("a token is a bearer")
    };

    // 50 minutes of data, ending a minute (and a little jitter) before now.
    let now = chrono::Utc::now().timestamp_millis();
    let t0 = now - now.rem_euclid(60_000) - 60_000 - SPAN_MS;
    for body in write_bodies(&data(t0), t0) {
        let r = app.send(remote_write(&key, body.clone())).await;
        assert_eq!(
            r.status,
            StatusCode::NO_CONTENT,
            "sightline refused a write: {}",
            r.text
        );
        prometheus.write(body).await;
    }

    let mut queries = Vec::new();
    for template in expressions().chain(INSTANT_ONLY.iter().copied()) {
        let expr = expand(template, t0 / 1000);
        queries.extend(INSTANTS.iter().map(|&t| Query::instant(&expr, t0 + t)));
        if !INSTANT_ONLY.contains(&template) {
            queries.extend(
                RANGES
                    .iter()
                    .map(|&(start, end, step)| Query::range(&expr, t0 + start, t0 + end, step)),
            );
        }
    }
    let (prometheus, app, token) = (&prometheus, &app, &token);
    let answers: Vec<(usize, Answer, Answer)> =
        futures_util::stream::iter(queries.iter().enumerate())
            .map(|(i, query)| async move {
                let (status, body) = prometheus.get(&query.path_and_query).await;
                let expected = Answer::read(status, &body);
                let uri = format!("/prometheus/peer/api/v1/{}", query.path_and_query);
                let r = app.get(&uri, &Auth::Bearer(token.clone())).await;
                let got = Answer::read(r.status.as_u16(), &r.body);
                (i, expected, got)
            })
            .buffer_unordered(4)
            .collect()
            .await;

    let mut differences: Vec<(usize, String)> = answers
        .iter()
        .filter_map(|(i, expected, got)| {
            let query = &queries[*i];
            difference(expected, got, query.ordered(), t0)
                .map(|d| (*i, format!("{}: {d}", query.describe(t0))))
        })
        .collect();
    differences.sort();
    let answered = answers
        .iter()
        .filter(|(_, expected, _)| !expected.is_empty())
        .count();
    eprintln!(
        "{} queries, {answered} with data from prometheus, {} differences, in {:.1}s",
        queries.len(),
        differences.len(),
        started.elapsed().as_secs_f64()
    );
    let mut report = String::new();
    for (_, line) in differences.iter().take(SHOWN) {
        let _ = writeln!(report, "- {line}");
    }
    assert!(
        differences.is_empty(),
        "{} of {} answers differ from Prometheus's (T0 = {}; first {SHOWN}):\n{report}",
        differences.len(),
        queries.len(),
        seconds(t0)
    );
    assert!(
        answered * 2 > queries.len(),
        "only {answered} of {} queries found data in prometheus: was the data written?",
        queries.len()
    );
}
