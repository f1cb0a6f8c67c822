//! How each kind of OTLP data point becomes Prometheus samples: numbers as
//! one sample, histograms (explicit or exponential) as `_bucket{le=...}`,
//! `_sum` and `_count`, summaries as `{quantile=...}`, `_sum` and `_count`;
//! delta points through their running totals ([`super::DeltaToCumulative`]).

use super::super::metrics_proto::{
    self, number_data_point, ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint,
    SummaryDataPoint, FLAG_NO_RECORDED_VALUE,
};
use super::delta::{ExplicitTotal, ExponentialTotal, NumberTotal};
use super::names::{prometheus_float, set};
use super::{Labels, Named, Output, MAX_BUCKETS_PER_POINT, STALE_NAN_BITS};

fn stale() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

fn named(labels: &Labels, name: &str) -> Labels {
    let mut labels = labels.clone();
    set(&mut labels, "__name__", name);
    labels
}

pub(super) fn number_points(
    out: &mut Output,
    metric: &Named<'_>,
    points: Vec<NumberDataPoint>,
    delta: bool,
) {
    for point in points {
        let Some(ts) = metric.time(out, point.time_unix_nano, 1) else {
            continue;
        };
        let labels = named(&metric.context.labels(&point.attributes), metric.name);
        if point.flags & FLAG_NO_RECORDED_VALUE != 0 {
            out.push(labels, ts, stale());
            continue;
        }
        let value = match point.value {
            Some(number_data_point::Value::AsDouble(v)) => v,
            Some(number_data_point::Value::AsInt(i)) => i as f64,
            None => {
                out.refuse(1, || format!("a point of `{}` has no value", metric.name));
                continue;
            }
        };
        let value = if delta {
            let times = (point.start_time_unix_nano, point.time_unix_nano);
            match metric.accumulate(out, &labels, times, NumberTotal(value)) {
                Some(total) => total.0,
                None => continue,
            }
        } else {
            value
        };
        out.push(labels, ts, value);
    }
}

/// Pushes the `_bucket`, `_sum` and `_count` series of one histogram point;
/// `buckets` are `(upper bound, count)` in order, +Inf being implied by
/// `count`. A `stale` point (no recorded value) marks each of these series
/// stale instead.
fn push_histogram(
    out: &mut Output,
    metric: &Named<'_>,
    labels: &Labels,
    ts: i64,
    buckets: &[(f64, u64)],
    (count, sum): (u64, Option<f64>),
    stale_point: bool,
) {
    let value = |v: f64| if stale_point { stale() } else { v };
    let bucket = format!("{}_bucket", metric.name);
    let mut cumulative = 0u64;
    for &(upper, n) in buckets {
        cumulative = cumulative.saturating_add(n);
        if upper.is_finite() {
            let mut series = named(labels, &bucket);
            set(&mut series, "le", &prometheus_float(upper));
            out.push(series, ts, value(cumulative as f64));
        }
    }
    let mut series = named(labels, &bucket);
    set(&mut series, "le", "+Inf");
    out.push(series, ts, value(count as f64));
    if let Some(sum) = sum {
        let series = named(labels, &format!("{}_sum", metric.name));
        out.push(series, ts, value(sum));
    }
    let series = named(labels, &format!("{}_count", metric.name));
    out.push(series, ts, value(count as f64));
}

pub(super) fn histogram_point(
    out: &mut Output,
    metric: &Named<'_>,
    point: HistogramDataPoint,
    delta: bool,
) {
    let samples = point.explicit_bounds.len().saturating_add(3);
    let Some(ts) = metric.time(out, point.time_unix_nano, samples) else {
        return;
    };
    let labels = metric.context.labels(&point.attributes);
    let bounds = &point.explicit_bounds;
    let counts = &point.bucket_counts;
    if bounds.len() > MAX_BUCKETS_PER_POINT {
        out.refuse(1, || {
            format!(
                "a point of `{}` has more than {MAX_BUCKETS_PER_POINT} buckets",
                metric.name
            )
        });
        return;
    }
    if point.flags & FLAG_NO_RECORDED_VALUE != 0 {
        let buckets: Vec<(f64, u64)> = bounds.iter().map(|b| (*b, 0)).collect();
        push_histogram(out, metric, &labels, ts, &buckets, (0, Some(0.0)), true);
        return;
    }
    let problem = if !(counts.len() == bounds.len() + 1 || counts.is_empty() && bounds.is_empty()) {
        Some(format!(
            "{} bucket counts for {} bounds",
            counts.len(),
            bounds.len()
        ))
    } else if bounds.iter().any(|b| b.is_nan()) || bounds.windows(2).any(|w| w[0] >= w[1]) {
        Some("bounds that do not increase".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        out.refuse(1, || format!("a point of `{}` has {problem}", metric.name));
        return;
    }
    let mut total = ExplicitTotal {
        bounds: point.explicit_bounds,
        counts: point.bucket_counts,
        count: point.count,
        sum: point.sum,
    };
    if delta {
        let times = (point.start_time_unix_nano, point.time_unix_nano);
        match metric.accumulate(out, &named(&labels, metric.name), times, total) {
            Some(running) => total = running,
            None => return,
        }
    }
    let buckets: Vec<(f64, u64)> = total
        .bounds
        .iter()
        .copied()
        .zip(total.counts.iter().copied())
        .collect();
    push_histogram(
        out,
        metric,
        &labels,
        ts,
        &buckets,
        (total.count, total.sum),
        false,
    );
}

pub(super) fn exponential_point(
    out: &mut Output,
    metric: &Named<'_>,
    point: ExponentialHistogramDataPoint,
    delta: bool,
) {
    let buckets = |b: &Option<metrics_proto::exponential_histogram_data_point::Buckets>| {
        b.as_ref().map_or(0, |b| b.bucket_counts.len())
    };
    let samples = buckets(&point.positive) + buckets(&point.negative) + 4;
    let Some(ts) = metric.time(out, point.time_unix_nano, samples) else {
        return;
    };
    let labels = metric.context.labels(&point.attributes);
    let threshold = point.zero_threshold;
    if point.flags & FLAG_NO_RECORDED_VALUE != 0 {
        let zero = if threshold.is_finite() && threshold > 0.0 {
            threshold
        } else {
            0.0
        };
        push_histogram(out, metric, &labels, ts, &[(zero, 0)], (0, Some(0.0)), true);
        return;
    }
    let problem =
        if !(ExponentialTotal::MIN_SCALE..=ExponentialTotal::MAX_SCALE).contains(&point.scale) {
            Some(format!("scale {} (outside -10..=20)", point.scale))
        } else if buckets(&point.positive) + buckets(&point.negative) > MAX_BUCKETS_PER_POINT {
            Some(format!("more than {MAX_BUCKETS_PER_POINT} buckets"))
        } else if !(threshold >= 0.0 && threshold.is_finite()) {
            Some(format!("zero threshold {threshold}"))
        } else {
            None
        };
    if let Some(problem) = problem {
        out.refuse(1, || format!("a point of `{}` has {problem}", metric.name));
        return;
    }
    let mut total = ExponentialTotal::of(&point);
    if delta {
        let times = (point.start_time_unix_nano, point.time_unix_nano);
        match metric.accumulate(out, &named(&labels, metric.name), times, total) {
            Some(running) => total = running,
            None => return,
        }
    }
    let buckets = total.classic_buckets();
    push_histogram(
        out,
        metric,
        &labels,
        ts,
        &buckets,
        (total.count, total.sum),
        false,
    );
}

pub(super) fn summary_point(out: &mut Output, metric: &Named<'_>, point: SummaryDataPoint) {
    let samples = point.quantile_values.len().saturating_add(2);
    let Some(ts) = metric.time(out, point.time_unix_nano, samples) else {
        return;
    };
    if point.quantile_values.len() > MAX_BUCKETS_PER_POINT {
        out.refuse(1, || {
            format!(
                "a point of `{}` has more than {MAX_BUCKETS_PER_POINT} quantiles",
                metric.name
            )
        });
        return;
    }
    let labels = metric.context.labels(&point.attributes);
    let flagged = point.flags & FLAG_NO_RECORDED_VALUE != 0;
    let value = |v: f64| if flagged { stale() } else { v };
    for q in &point.quantile_values {
        let mut series = named(&labels, metric.name);
        set(&mut series, "quantile", &prometheus_float(q.quantile));
        out.push(series, ts, value(q.value));
    }
    let sum = named(&labels, &format!("{}_sum", metric.name));
    out.push(sum, ts, value(point.sum));
    let count = named(&labels, &format!("{}_count", metric.name));
    out.push(count, ts, value(point.count as f64));
}
