//! One transaction over time, as four line charts of its series
//! (`GET .../performance/transactions/series`): throughput per minute, the
//! p50/p95/p99 durations in milliseconds (one chart, one line each), the failure
//! rate in per cent and the Apdex score; the durations chart draws the
//! project's Apdex threshold T as a dashed line. Buckets without a transaction have
//! throughput 0 and no other figure, so those lines skip them.

use leptos::prelude::*;

use crate::api::{Series, TransactionBucket};
use crate::components::chart::Threshold;
use crate::components::panel::{Panel, PanelBody, PanelState};

/// A series of `unit` with one point per bucket that has a value.
fn series(
    name: &str,
    unit: &str,
    buckets: &[TransactionBucket],
    value: impl Fn(&TransactionBucket) -> Option<f64>,
) -> Series {
    Series {
        name: name.to_owned(),
        unit: unit.to_owned(),
        points: buckets
            .iter()
            .filter_map(|b| value(b).map(|v| (b.ts.timestamp_millis(), v)))
            .collect(),
    }
}

/// Transactions per minute in every bucket, empty ones included.
pub fn throughput(buckets: &[TransactionBucket]) -> Vec<Series> {
    vec![series("throughput", "per min", buckets, |b| {
        Some(b.throughput_per_min)
    })]
}

/// p50, p95 and p99 in milliseconds.
pub fn latency(buckets: &[TransactionBucket]) -> Vec<Series> {
    vec![
        series("p50", "ms", buckets, |b| b.p50_ms),
        series("p95", "ms", buckets, |b| b.p95_ms),
        series("p99", "ms", buckets, |b| b.p99_ms),
    ]
}

/// The failure rate in per cent.
pub fn failure_rate(buckets: &[TransactionBucket]) -> Vec<Series> {
    vec![series("failure rate", "%", buckets, |b| {
        b.error_rate.map(|r| r * 100.0)
    })]
}

/// The Apdex score (0–1).
pub fn apdex(buckets: &[TransactionBucket]) -> Vec<Series> {
    vec![series("Apdex", "score", buckets, |b| b.apdex)]
}

/// One titled chart.
#[component]
fn ChartCard(
    /// The card's `id`.
    id: &'static str,
    /// Its heading.
    title: String,
    /// The lines.
    series: Vec<Series>,
    /// What the chart shows, for screen readers.
    label: &'static str,
    /// Dashed lines to draw across it.
    #[prop(optional)]
    thresholds: Vec<Threshold>,
    /// The time axis' span, the same for the four charts.
    x_range: Option<(i64, i64)>,
) -> impl IntoView {
    let state = PanelState::Ready(PanelBody::Lines {
        series,
        thresholds,
        x_range,
        stacked: false,
    });
    view! {
        <Panel title id class="perf-chart" label empty="No transactions in this range" state=Signal::stored(state)/>
    }
    .into_any()
}

/// The four charts of a transaction.
#[component]
pub fn TransactionCharts(
    /// The buckets, oldest first.
    buckets: Vec<TransactionBucket>,
    /// The project's Apdex threshold T.
    apdex_threshold_ms: i32,
) -> impl IntoView {
    // Every bucket's start, whether or not it has transactions: the four time
    // axes span the same range and line up.
    let x_range = buckets
        .first()
        .zip(buckets.last())
        .map(|(first, last)| (first.ts.timestamp_millis(), last.ts.timestamp_millis()));
    view! {
        <div class="perf-chart-grid">
            <ChartCard
                id="chart-throughput"
                title="Throughput (per minute)".to_owned()
                series=throughput(&buckets)
                label="Transactions per minute over time"
                x_range
            />
            <ChartCard
                id="chart-latency"
                title="Duration p50 / p95 / p99 (ms)".to_owned()
                series=latency(&buckets)
                label="p50, p95 and p99 duration over time, in milliseconds"
                thresholds=vec![Threshold {
                    value: f64::from(apdex_threshold_ms),
                    label: "Apdex T".to_owned(),
                }]
                x_range
            />
            <ChartCard
                id="chart-failure-rate"
                title="Failure rate (%)".to_owned()
                series=failure_rate(&buckets)
                label="Share of failed transactions over time, in per cent"
                x_range
            />
            <ChartCard
                id="chart-apdex"
                title=format!("Apdex (T = {apdex_threshold_ms} ms)")
                series=apdex(&buckets)
                label="Apdex score over time"
                x_range
            />
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, Utc};

    fn bucket(minute: i64, count: i64, p95: Option<f64>) -> TransactionBucket {
        TransactionBucket {
            ts: DateTime::<Utc>::default() + Duration::minutes(minute),
            count,
            throughput_per_min: count as f64,
            p50_ms: p95.map(|p| p / 2.0),
            p95_ms: p95,
            p99_ms: p95.map(|p| p * 2.0),
            error_rate: p95.map(|_| 0.25),
            apdex: p95.map(|_| 0.9),
        }
    }

    #[test]
    fn empty_buckets_count_as_no_throughput_and_no_latency() {
        let buckets = [bucket(0, 2, Some(100.0)), bucket(1, 0, None)];
        let through = throughput(&buckets);
        assert_eq!(through[0].points, vec![(0, 2.0), (60_000, 0.0)]);
        let lines = latency(&buckets);
        let names: Vec<_> = lines.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["p50", "p95", "p99"]);
        assert!(lines.iter().all(|s| s.unit == "ms" && s.points.len() == 1));
        assert_eq!(lines[1].points, vec![(0, 100.0)]);
        assert_eq!(failure_rate(&buckets)[0].points, vec![(0, 25.0)]);
        assert_eq!(apdex(&buckets)[0].unit, "score");
    }
}
