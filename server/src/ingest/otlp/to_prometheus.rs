//! OpenTelemetry metrics (an OTLP `ExportMetricsServiceRequest`, protobuf or
//! JSON, [`metrics_proto`]) as Prometheus series, following OpenTelemetry's
//! "Prometheus and OpenMetrics Compatibility" specification and the
//! Collector's `translator/prometheus`, so that a metric reads the same in
//! Sightline as in any Prometheus fed by OpenTelemetry: PromQL written against
//! one works against the other.
//!
//! - **Names.** Characters outside `[a-zA-Z0-9_:]` become `_` (runs of `_`
//!   become one); the unit is appended as a word (`ms` → `_milliseconds`,
//!   `By/s` → `_bytes_per_second`, `{request}` dropped) unless the name
//!   already holds it; monotonic sums end in `_total`, gauges of unit `1` in
//!   `_ratio`.
//! - **Labels.** The point's attributes (names sanitised the same way; a
//!   leading digit or `_` gets a `key` prefix, so no attribute can take a
//!   reserved `__` name; attributes that meet under one name have their
//!   values joined by `;` in the order of their keys), the scope as
//!   `otel_scope_name`/`otel_scope_version`, `job` from
//!   `service.namespace/service.name` and `instance` from
//!   `service.instance.id`. The other resource attributes would multiply
//!   every series; they go once per resource to a `target_info` series
//!   (value 1), which a query joins on `job`/`instance`.
//! - **Temporality.** Prometheus only knows cumulative counters, so delta
//!   sums (monotonic or not) and delta histograms (explicit or exponential)
//!   are summed into running totals ([`DeltaToCumulative`], kept per project
//!   and series). A delta point that starts before the previous one ended
//!   (an overlap, a resend, or a point out of order) cannot be added without
//!   counting twice: it is refused.
//! - **Histograms** become `_bucket{le=...}`, `_sum` and `_count`;
//!   exponential ones become the same classic buckets, one per exponential
//!   bucket (see [`ExponentialTotal::classic_buckets`]), since Sightline
//!   stores floats, not native histograms. **Summaries** become
//!   `{quantile=...}`, `_sum` and `_count`.
//! - A point flagged "no recorded value" becomes Prometheus's stale marker,
//!   so the series ends where the sender said it ended.
//! - `le` and `quantile` values are written as a Prometheus scrape writes them
//!   (Go's `%g`: `0.5`, `1`, `1e+06`), so OTLP and scraped histograms share
//!   bucket series. (The Collector and Prometheus's own OTLP receiver write
//!   `%f`, `1000000`; the two differ only from 1e6 and below 1e-4.)

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use prost::Message;
use serde_json::Value;

use super::metrics_proto::{
    self, metric::Data, number_data_point, AggregationTemporality, ExponentialHistogramDataPoint,
    ExportMetricsServiceRequest, HistogramDataPoint, Metric, NumberDataPoint, SummaryDataPoint,
    FLAG_NO_RECORDED_VALUE,
};
use super::proto::{any_value, AnyValue, KeyValue};

/// Most data points one request may carry; a larger request is refused whole.
pub const MAX_POINTS_PER_REQUEST: usize = 200_000;
/// Most buckets (or quantiles) one histogram (or summary) point may carry:
/// each becomes a series.
pub const MAX_BUCKETS_PER_POINT: usize = 1_000;
/// Most samples one request may produce (a histogram point makes one per
/// bucket): the points beyond are refused, so that a small request of many
/// buckets cannot take the server's memory.
pub const MAX_SAMPLES_PER_REQUEST: usize = 2_000_000;
/// Series whose running totals [`DeltaToCumulative::default`] keeps.
pub const DEFAULT_DELTA_SERIES: usize = 100_000;
/// The bits of Prometheus's stale marker.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Labels of one series, `("__name__", name)` among them.
pub type Labels = Vec<(String, String)>;

/// What a request becomes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Translated {
    /// Each series once: its labels (sorted by name, `__name__` included) and
    /// its points as `(milliseconds since the epoch, value)`.
    pub series: Vec<(Labels, Vec<(i64, f64)>)>,
    /// `(metric, type, help, unit)` of each metric family, once per request.
    pub metadata: Vec<(String, &'static str, String, String)>,
    /// Data points refused.
    pub refused: usize,
    /// Why the first one was.
    pub first_refusal: Option<String>,
}

/// Decodes an OTLP protobuf metrics request.
pub fn decode_protobuf(bytes: &[u8]) -> Result<ExportMetricsServiceRequest, String> {
    ExportMetricsServiceRequest::decode(bytes)
        .map_err(|e| format!("not an OTLP ExportMetricsServiceRequest: {e}"))
}

/// Decodes an OTLP/JSON metrics request.
pub fn decode_json(bytes: &[u8]) -> Result<ExportMetricsServiceRequest, String> {
    metrics_proto::from_json(bytes)
}

/// The number of data points in `request`, or an error if there are more
/// than `limit` (the handler answers it with 413).
pub fn points_within(request: &ExportMetricsServiceRequest, limit: usize) -> Result<usize, String> {
    let total = count_points(request);
    if total > limit {
        return Err(format!("more than {limit} data points in one request"));
    }
    Ok(total)
}

fn count_points(request: &ExportMetricsServiceRequest) -> usize {
    request
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(points_of)
        .sum()
}

fn points_of(metric: &Metric) -> usize {
    match &metric.data {
        None => 0,
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
    }
}

/// The series of a request. `tenant` (the project) keeps projects' delta
/// totals apart in `deltas`.
pub fn translate(
    request: ExportMetricsServiceRequest,
    deltas: &DeltaToCumulative,
    tenant: i64,
) -> Translated {
    let mut out = Output::default();
    if let Err(error) = points_within(&request, MAX_POINTS_PER_REQUEST) {
        out.refuse(count_points(&request), || error);
        return out.finish();
    }
    for resource_metrics in request.resource_metrics {
        let attributes = resource_metrics
            .resource
            .map(|r| r.attributes)
            .unwrap_or_default();
        let target = Target::of(&attributes);
        out.latest = None;
        for scope_metrics in resource_metrics.scope_metrics {
            let mut scope = Vec::new();
            if let Some(s) = &scope_metrics.scope {
                set(&mut scope, "otel_scope_name", &s.name);
                set(&mut scope, "otel_scope_version", &s.version);
            }
            let context = Context {
                target: &target,
                scope,
                deltas,
                tenant,
            };
            for metric in scope_metrics.metrics {
                translate_metric(&mut out, &context, metric);
            }
        }
        if let (Some(ts), false) = (out.latest, target.info.is_empty()) {
            let mut labels = target.info.clone();
            set(&mut labels, "job", &target.job);
            set(&mut labels, "instance", &target.instance);
            set(&mut labels, "__name__", "target_info");
            if out
                .metadata("target_info", "gauge", "Target metadata", "")
                .is_ok()
            {
                out.push(labels, ts, 1.0);
            }
        }
    }
    out.finish()
}

/// Where a resource's series come from: `job`, `instance`, and the other
/// resource attributes as `target_info` labels.
struct Target {
    job: String,
    instance: String,
    info: Labels,
}

impl Target {
    fn of(attributes: &[KeyValue]) -> Self {
        let text = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key == key)
                .map(|kv| attribute_text(kv.value.as_ref()))
                .unwrap_or_default()
        };
        let (namespace, name) = (text("service.namespace"), text("service.name"));
        let job = match (namespace.is_empty(), name.is_empty()) {
            (_, true) => String::new(),
            (true, false) => name,
            (false, false) => format!("{namespace}/{name}"),
        };
        let rest: Vec<&KeyValue> = attributes
            .iter()
            .filter(|kv| {
                !matches!(
                    kv.key.as_str(),
                    "service.name" | "service.namespace" | "service.instance.id"
                )
            })
            .collect();
        Target {
            job,
            instance: text("service.instance.id"),
            info: attribute_labels(rest),
        }
    }
}

/// What every point of a scope shares.
struct Context<'a> {
    target: &'a Target,
    scope: Labels,
    deltas: &'a DeltaToCumulative,
    tenant: i64,
}

impl Context<'_> {
    /// A point's labels, without `__name__`: its attributes, then the scope
    /// and `job`/`instance`, which win over attributes of the same name.
    fn labels(&self, attributes: &[KeyValue]) -> Labels {
        let mut labels = attribute_labels(attributes.iter());
        for (name, value) in &self.scope {
            set(&mut labels, name, value);
        }
        set(&mut labels, "job", &self.target.job);
        set(&mut labels, "instance", &self.target.instance);
        labels
    }
}

/// The series being built, indexed by labels.
#[derive(Default)]
struct Output {
    index: HashMap<Labels, usize>,
    translated: Translated,
    /// The type of each metric family seen.
    families: HashMap<String, &'static str>,
    /// The latest point of the current resource (for `target_info`).
    latest: Option<i64>,
    /// Samples pushed so far.
    samples: usize,
}

impl Output {
    fn push(&mut self, labels: Labels, ts: i64, value: f64) {
        self.latest = self.latest.max(Some(ts));
        self.samples += 1;
        let series = &mut self.translated.series;
        let i = *self.index.entry(labels).or_insert_with_key(|labels| {
            series.push((labels.clone(), Vec::new()));
            series.len() - 1
        });
        if let Some((_, points)) = series.get_mut(i) {
            points.push((ts, value));
        }
    }

    fn refuse(&mut self, count: usize, reason: impl FnOnce() -> String) {
        if count == 0 {
            return;
        }
        self.translated.refused += count;
        if self.translated.first_refusal.is_none() {
            self.translated.first_refusal = Some(reason());
        }
    }

    /// Records a family's metadata, the first time; `Err(its type)` if the
    /// family is already there with another type (the specification drops
    /// such a metric rather than give one name two types).
    fn metadata(
        &mut self,
        name: &str,
        kind: &'static str,
        help: &str,
        unit: &str,
    ) -> Result<(), &'static str> {
        match self.families.get(name) {
            Some(known) if *known == kind => Ok(()),
            Some(known) => Err(known),
            None => {
                self.families.insert(name.to_string(), kind);
                self.translated.metadata.push((
                    name.to_string(),
                    kind,
                    help.to_string(),
                    unit.to_string(),
                ));
                Ok(())
            }
        }
    }

    fn finish(self) -> Translated {
        self.translated
    }
}

fn translate_metric(out: &mut Output, context: &Context<'_>, metric: Metric) {
    let points = points_of(&metric);
    let Some(data) = metric.data else {
        return;
    };
    let (kind, total, ratio) = match &data {
        Data::Gauge(_) => ("gauge", false, metric.unit.trim() == "1"),
        Data::Sum(s) if s.is_monotonic => ("counter", true, false),
        Data::Sum(_) => ("gauge", false, false),
        Data::Histogram(_) | Data::ExponentialHistogram(_) => ("histogram", false, false),
        Data::Summary(_) => ("summary", false, false),
    };
    let name = prometheus_name(&metric.name, &metric.unit, total, ratio);
    if name.is_empty() {
        out.refuse(points, || {
            format!("metric `{}` has no usable Prometheus name", metric.name)
        });
        return;
    }
    if let Err(known) = out.metadata(&name, kind, &metric.description, &metric.unit) {
        out.refuse(points, || {
            format!(
                "metric `{}` would be the {kind} `{name}`, already a {known} in this request",
                metric.name
            )
        });
        return;
    }
    let temporality = |value: i32| match AggregationTemporality::try_from(value) {
        Ok(AggregationTemporality::Delta) => Ok(true),
        Ok(AggregationTemporality::Cumulative) => Ok(false),
        _ => Err(format!(
            "metric `{}` has no aggregation temporality",
            metric.name
        )),
    };
    let metric = Named {
        name: &name,
        context,
    };
    match data {
        Data::Gauge(g) => number_points(out, &metric, g.data_points, false),
        Data::Sum(s) => match temporality(s.aggregation_temporality) {
            Ok(delta) => number_points(out, &metric, s.data_points, delta),
            Err(reason) => out.refuse(points, || reason),
        },
        Data::Histogram(h) => match temporality(h.aggregation_temporality) {
            Ok(delta) => {
                for point in h.data_points {
                    histogram_point(out, &metric, point, delta);
                }
            }
            Err(reason) => out.refuse(points, || reason),
        },
        Data::ExponentialHistogram(h) => match temporality(h.aggregation_temporality) {
            Ok(delta) => {
                for point in h.data_points {
                    exponential_point(out, &metric, point, delta);
                }
            }
            Err(reason) => out.refuse(points, || reason),
        },
        Data::Summary(s) => {
            for point in s.data_points {
                summary_point(out, &metric, point);
            }
        }
    }
}

/// A metric being translated: its Prometheus name and its scope.
struct Named<'a> {
    name: &'a str,
    context: &'a Context<'a>,
}

impl Named<'_> {
    /// The time of a point that makes about `samples` samples, in
    /// milliseconds; or its refusal, if it has no time or the request has made
    /// too many samples already.
    fn time(&self, out: &mut Output, time_unix_nano: u64, samples: usize) -> Option<i64> {
        if time_unix_nano == 0 {
            out.refuse(1, || format!("a point of `{}` has no time", self.name));
            return None;
        }
        if out.samples.saturating_add(samples) > MAX_SAMPLES_PER_REQUEST {
            out.refuse(1, || {
                format!(
                    "more than {MAX_SAMPLES_PER_REQUEST} samples (series points) in one request"
                )
            });
            return None;
        }
        i64::try_from(time_unix_nano / 1_000_000).ok()
    }

    /// Adds `delta` to the running total of the series `labels` names.
    fn accumulate<T: RunningTotal>(
        &self,
        out: &mut Output,
        labels: &Labels,
        (start, end): (u64, u64),
        delta: T,
    ) -> Option<T> {
        let key = (self.context.tenant, labels.clone());
        match self.context.deltas.accumulate(key, start, end, delta) {
            Ok(total) => Some(total),
            Err(last_end) => {
                out.refuse(1, || {
                    format!(
                        "a delta point of `{}` (from {start} to {end} ns) starts before the \
                         previous one ended ({last_end} ns): overlapping or out of order",
                        self.name
                    )
                });
                None
            }
        }
    }
}

fn stale() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

fn named(labels: &Labels, name: &str) -> Labels {
    let mut labels = labels.clone();
    set(&mut labels, "__name__", name);
    labels
}

fn number_points(out: &mut Output, metric: &Named<'_>, points: Vec<NumberDataPoint>, delta: bool) {
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

fn histogram_point(out: &mut Output, metric: &Named<'_>, point: HistogramDataPoint, delta: bool) {
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

fn exponential_point(
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

fn summary_point(out: &mut Output, metric: &Named<'_>, point: SummaryDataPoint) {
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

/// The Prometheus name of an OTLP metric: the name's words joined by `_`,
/// then the unit's words (unless the name already has them), then `total`
/// for counters or `ratio` for gauges of unit `1`.
pub fn prometheus_name(name: &str, unit: &str, total: bool, ratio: bool) -> String {
    let mut tokens = words(name, true);
    let (main, per) = match unit.split_once('/') {
        Some((main, per)) => (main.trim(), per.trim()),
        None => (unit.trim(), ""),
    };
    let usable = |u: &str| !u.is_empty() && !u.contains(['{', '}']);
    if usable(main) {
        let main = words(unit_word(main), false).join("_");
        if !main.is_empty() && !tokens.contains(&main) {
            tokens.push(main);
        }
    }
    if usable(per) {
        let per = words(per_unit_word(per), false).join("_");
        if !per.is_empty() && !tokens.contains(&per) {
            tokens.push("per".to_string());
            tokens.push(per);
        }
    }
    for (wanted, suffix) in [(total, "total"), (ratio, "ratio")] {
        if wanted {
            tokens.retain(|w| w != suffix);
            tokens.push(suffix.to_string());
        }
    }
    let name = tokens.join("_");
    match name.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("_{name}"),
        _ => name,
    }
}

/// The runs of characters of `text` that a name may hold (`:` for metric
/// names), split at every other character.
fn words(text: &str, colons: bool) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || colons && c == ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// UCUM units as Prometheus words (the Collector's table).
fn unit_word(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" | "B" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" | "KB" => "kilobytes",
        "MBy" | "MB" => "megabytes",
        "GBy" | "GB" => "gigabytes",
        "TBy" | "TB" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        "$" => "dollars",
        other => other,
    }
}

/// The unit after `/`, as a singular word.
fn per_unit_word(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// A Prometheus label name for an attribute key, or `None` for an empty key.
pub fn label_name(key: &str) -> Option<String> {
    let mut name = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if !(c == '_' && name.ends_with('_')) {
            name.push(c);
        }
    }
    match name.chars().next() {
        None => None,
        Some(c) if c.is_ascii_digit() => Some(format!("key_{name}")),
        Some('_') => Some(format!("key{name}")),
        Some(_) => Some(name),
    }
}

/// Attributes as labels, sorted by name; attributes that meet under one name
/// have their values joined by `;` in the order of their keys (as the
/// specification says).
fn attribute_labels<'a>(attributes: impl IntoIterator<Item = &'a KeyValue>) -> Labels {
    let mut named: Vec<(String, &str, String)> = attributes
        .into_iter()
        .filter_map(|kv| {
            let value = attribute_text(kv.value.as_ref());
            let name = label_name(&kv.key)?;
            (!value.is_empty()).then_some((name, kv.key.as_str(), value))
        })
        .collect();
    named.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut labels: Labels = Vec::with_capacity(named.len());
    for (name, _, value) in named {
        match labels.last_mut() {
            Some((last, joined)) if *last == name => {
                joined.push(';');
                joined.push_str(&value);
            }
            _ => labels.push((name, value)),
        }
    }
    labels
}

/// Sets (or, for an empty value, removes) a label of a sorted label set.
fn set(labels: &mut Labels, name: &str, value: &str) {
    match labels.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
        Ok(i) if value.is_empty() => {
            labels.remove(i);
        }
        Ok(i) => {
            if let Some(label) = labels.get_mut(i) {
                label.1 = value.to_string();
            }
        }
        Err(_) if value.is_empty() => {}
        Err(i) => labels.insert(i, (name.to_string(), value.to_string())),
    }
}

/// An attribute value as label text: strings as themselves, other scalars
/// as text, arrays and maps as JSON, bytes as base64.
fn attribute_text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => json_of(other).to_string(),
    }
}

fn json_of(value: &any_value::Value) -> Value {
    use base64::Engine;
    match value {
        any_value::Value::StringValue(s) => Value::String(s.clone()),
        any_value::Value::BoolValue(b) => Value::Bool(*b),
        any_value::Value::IntValue(i) => Value::from(*i),
        any_value::Value::DoubleValue(d) => Value::from(*d),
        any_value::Value::ArrayValue(a) => Value::Array(
            a.values
                .iter()
                .map(|v| v.value.as_ref().map_or(Value::Null, json_of))
                .collect(),
        ),
        any_value::Value::KvlistValue(list) => Value::Object(
            list.values
                .iter()
                .map(|kv| {
                    let v = kv.value.as_ref().and_then(|v| v.value.as_ref());
                    (kv.key.clone(), v.map_or(Value::Null, json_of))
                })
                .collect(),
        ),
        any_value::Value::BytesValue(b) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
    }
}

/// A float as Prometheus writes `le` and `quantile` (Go's `%g` with the
/// shortest digits that read back the same): `0.5`, `1`, `1e+06`, `+Inf`.
pub fn prometheus_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    // Rust's `{:e}` gives the same shortest digits: `-1.25e-7`, `1e6`.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // Go's `%g` switches to an exponent below 1e-4 and from 1e6 on.
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let point = if rest.is_empty() { "" } else { "." };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}{point}{rest}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        );
    }
    if exponent < 0 {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        return format!("{sign}0.{zeros}{digits}");
    }
    let whole = exponent as usize + 1;
    if digits.len() <= whole {
        format!("{sign}{digits}{}", "0".repeat(whole - digits.len()))
    } else {
        let (int, frac) = digits.split_at(whole);
        format!("{sign}{int}.{frac}")
    }
}

/// Running totals of delta series, so that Prometheus sees the cumulative
/// counters it understands: per series (project and labels, `__name__`
/// included), the sum of its deltas so far and the end of the last one. At
/// most `capacity` series are kept; beyond that the least recently updated
/// tenth is forgotten, and a forgotten series starts again from its next
/// delta, which a query sees as a counter reset (`rate` handles it).
///
/// A delta is added when [`translate`] reads it: a request whose series are
/// then not stored, and which the client sends again, has its points refused
/// as overlapping the first time (the totals already hold them).
pub struct DeltaToCumulative {
    state: Mutex<DeltaState>,
    capacity: usize,
}

impl std::fmt::Debug for DeltaToCumulative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaToCumulative")
            .field("series", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

/// A series of the delta state: the project and the labels.
type DeltaKey = (i64, Labels);

#[derive(Default)]
struct DeltaState {
    entries: HashMap<DeltaKey, Running>,
    /// Counts updates, to tell which entries were updated least recently.
    tick: u64,
}

struct Running {
    last_end: u64,
    used: u64,
    total: Total,
}

/// A running total of one kind.
#[derive(Clone)]
enum Total {
    Number(NumberTotal),
    Explicit(ExplicitTotal),
    Exponential(ExponentialTotal),
}

impl Default for DeltaToCumulative {
    fn default() -> Self {
        Self::new(DEFAULT_DELTA_SERIES)
    }
}

impl DeltaToCumulative {
    /// Keeps at most `capacity` series.
    pub fn new(capacity: usize) -> Self {
        DeltaToCumulative {
            state: Mutex::new(DeltaState::default()),
            capacity: capacity.max(1),
        }
    }

    /// Series kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no series is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, DeltaState> {
        // The state stays consistent whatever panicked while holding it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the delta over `start..end` (nanoseconds) to the series' total
    /// and returns the total; `Err(end of the previous delta)` if this one
    /// starts before that, or does not end after it.
    fn accumulate<T: RunningTotal>(
        &self,
        key: DeltaKey,
        start: u64,
        end: u64,
        delta: T,
    ) -> Result<T, u64> {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.tick += 1;
        if let Some(entry) = state.entries.get_mut(&key) {
            if end <= entry.last_end || (start != 0 && start < entry.last_end) {
                return Err(entry.last_end);
            }
            entry.last_end = end;
            entry.used = state.tick;
            return Ok(match T::of(&mut entry.total) {
                Some(running) => {
                    running.add(delta);
                    running.clone()
                }
                None => {
                    entry.total = delta.clone().into_total();
                    delta
                }
            });
        }
        if state.entries.len() >= self.capacity {
            state.forget_least_recent(self.capacity / 10 + 1);
        }
        let entry = Running {
            last_end: end,
            used: state.tick,
            total: delta.clone().into_total(),
        };
        state.entries.insert(key, entry);
        Ok(delta)
    }
}

impl DeltaState {
    fn forget_least_recent(&mut self, count: usize) {
        let mut used: Vec<u64> = self.entries.values().map(|e| e.used).collect();
        if used.is_empty() {
            return;
        }
        let nth = count.min(used.len()) - 1;
        let (_, threshold, _) = used.select_nth_unstable(nth);
        let threshold = *threshold;
        self.entries.retain(|_, e| e.used > threshold);
    }
}

/// A kind of running total: how a delta adds to it. A delta that cannot be
/// added (other buckets) replaces the total, which Prometheus sees as a
/// counter reset.
trait RunningTotal: Clone {
    fn into_total(self) -> Total;
    fn of(total: &mut Total) -> Option<&mut Self>;
    fn add(&mut self, delta: Self);
}

/// The running value of a sum.
#[derive(Clone, Copy)]
struct NumberTotal(f64);

impl RunningTotal for NumberTotal {
    fn into_total(self) -> Total {
        Total::Number(self)
    }
    fn of(total: &mut Total) -> Option<&mut Self> {
        match total {
            Total::Number(n) => Some(n),
            _ => None,
        }
    }
    fn add(&mut self, delta: Self) {
        self.0 += delta.0;
    }
}

/// An explicit-bucket histogram: `counts[i]` in `(bounds[i-1], bounds[i]]`.
#[derive(Clone)]
struct ExplicitTotal {
    bounds: Vec<f64>,
    counts: Vec<u64>,
    count: u64,
    sum: Option<f64>,
}

impl RunningTotal for ExplicitTotal {
    fn into_total(self) -> Total {
        Total::Explicit(self)
    }
    fn of(total: &mut Total) -> Option<&mut Self> {
        match total {
            Total::Explicit(h) => Some(h),
            _ => None,
        }
    }
    fn add(&mut self, delta: Self) {
        let same_bounds = self.bounds.len() == delta.bounds.len()
            && self
                .bounds
                .iter()
                .zip(&delta.bounds)
                .all(|(a, b)| a.to_bits() == b.to_bits())
            && self.counts.len() == delta.counts.len();
        if !same_bounds {
            *self = delta;
            return;
        }
        for (total, d) in self.counts.iter_mut().zip(&delta.counts) {
            *total = total.saturating_add(*d);
        }
        self.count = self.count.saturating_add(delta.count);
        self.sum = self.sum.zip(delta.sum).map(|(a, b)| a + b);
    }
}

/// An exponential histogram, buckets by index.
#[derive(Clone)]
struct ExponentialTotal {
    scale: i32,
    zero_count: u64,
    zero_threshold: f64,
    positive: BTreeMap<i64, u64>,
    negative: BTreeMap<i64, u64>,
    count: u64,
    sum: Option<f64>,
}

impl ExponentialTotal {
    /// The scales OpenTelemetry defines.
    const MIN_SCALE: i32 = -10;
    const MAX_SCALE: i32 = 20;

    fn of(point: &ExponentialHistogramDataPoint) -> Self {
        let buckets = |b: &Option<metrics_proto::exponential_histogram_data_point::Buckets>| {
            let mut map = BTreeMap::new();
            if let Some(b) = b {
                for (index, count) in (i64::from(b.offset)..).zip(&b.bucket_counts) {
                    if *count > 0 {
                        map.insert(index, *count);
                    }
                }
            }
            map
        };
        ExponentialTotal {
            scale: point.scale,
            zero_count: point.zero_count,
            zero_threshold: point.zero_threshold,
            positive: buckets(&point.positive),
            negative: buckets(&point.negative),
            count: point.count,
            sum: point.sum,
        }
    }

    /// The same histogram at a coarser `scale`: each bucket of index `i`
    /// falls in bucket `i >> (self.scale - scale)`.
    fn downscale(&mut self, scale: i32) {
        let shift = self.scale.saturating_sub(scale).clamp(0, 63) as u32;
        if shift == 0 {
            return;
        }
        let merge = |map: &mut BTreeMap<i64, u64>| {
            let mut merged = BTreeMap::new();
            for (index, count) in std::mem::take(map) {
                let slot: &mut u64 = merged.entry(index >> shift).or_default();
                *slot = slot.saturating_add(count);
            }
            *map = merged;
        };
        merge(&mut self.positive);
        merge(&mut self.negative);
        self.scale = scale;
    }

    /// Classic buckets: `(upper bound, count)` in ascending order. A positive
    /// bucket `i` holds values in `(base^i, base^(i+1)]`, so its bound is
    /// `base^(i+1)` with `base = 2^(2^-scale)`; a negative one holds values in
    /// `[-base^(i+1), -base^i)`, bound `-base^i`; the zero bucket's bound is
    /// the zero threshold. Bounds computed as the same float merge; bounds
    /// beyond the float range only count toward +Inf. Prometheus's quantile
    /// estimation then interpolates within each exponential bucket, as it
    /// does for any classic histogram.
    fn classic_buckets(&self) -> Vec<(f64, u64)> {
        let factor = (-f64::from(self.scale)).exp2();
        let bound = |index: i64| (index as f64 * factor).exp2();
        let mut buckets: Vec<(f64, u64)> = self
            .negative
            .iter()
            .map(|(&i, &n)| (-bound(i), n))
            .chain(std::iter::once((self.zero_threshold, self.zero_count)))
            .chain(
                self.positive
                    .iter()
                    .map(|(&i, &n)| (bound(i.saturating_add(1)), n)),
            )
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        buckets.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = kept.1.saturating_add(later.1);
            }
            same
        });
        buckets
    }
}

impl RunningTotal for ExponentialTotal {
    fn into_total(self) -> Total {
        Total::Exponential(self)
    }
    fn of(total: &mut Total) -> Option<&mut Self> {
        match total {
            Total::Exponential(h) => Some(h),
            _ => None,
        }
    }
    fn add(&mut self, mut delta: Self) {
        let scale = self.scale.min(delta.scale);
        self.downscale(scale);
        delta.downscale(scale);
        for (mine, theirs) in [
            (&mut self.positive, delta.positive),
            (&mut self.negative, delta.negative),
        ] {
            for (index, count) in theirs {
                let slot = mine.entry(index).or_default();
                *slot = slot.saturating_add(count);
            }
        }
        self.zero_count = self.zero_count.saturating_add(delta.zero_count);
        self.zero_threshold = self.zero_threshold.max(delta.zero_threshold);
        self.count = self.count.saturating_add(delta.count);
        self.sum = self.sum.zip(delta.sum).map(|(a, b)| a + b);
        // Deltas far apart would otherwise grow the total without bound.
        for _ in 0..64 {
            if self.positive.len() + self.negative.len() <= MAX_BUCKETS_PER_POINT {
                break;
            }
            self.downscale(self.scale.saturating_sub(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::metrics_proto::{
        exponential_histogram_data_point::Buckets, summary_data_point::ValueAtQuantile,
        ExponentialHistogram, Gauge, Histogram, ResourceMetrics, ScopeMetrics, Sum, Summary,
    };
    use super::super::proto::{InstrumentationScope, Resource};
    use super::*;

    const T0: u64 = 1_764_151_200_000_000_000;
    const SECOND: u64 = 1_000_000_000;

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.to_string(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.to_string())),
            }),
        }
    }

    fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: resource,
                }),
                scope_metrics: vec![ScopeMetrics {
                    scope: None,
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        }
    }

    fn svc() -> Vec<KeyValue> {
        vec![kv("service.name", "svc")]
    }

    fn metric(name: &str, unit: &str, data: Data) -> Metric {
        Metric {
            name: name.to_string(),
            description: format!("about {name}"),
            unit: unit.to_string(),
            data: Some(data),
        }
    }

    fn number(start: u64, time: u64, value: f64) -> NumberDataPoint {
        NumberDataPoint {
            attributes: vec![],
            start_time_unix_nano: start,
            time_unix_nano: time,
            flags: 0,
            value: Some(number_data_point::Value::AsDouble(value)),
        }
    }

    fn sum(points: Vec<NumberDataPoint>, temporality: AggregationTemporality) -> Data {
        Data::Sum(Sum {
            data_points: points,
            aggregation_temporality: temporality as i32,
            is_monotonic: true,
        })
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        let mut labels: Labels = pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        labels.sort();
        labels
    }

    /// The points of the series with exactly these labels.
    fn points<'a>(t: &'a Translated, pairs: &[(&str, &str)]) -> &'a [(i64, f64)] {
        let wanted = labels(pairs);
        t.series
            .iter()
            .find(|(l, _)| *l == wanted)
            .map(|(_, p)| p.as_slice())
            .unwrap_or_else(|| panic!("no series {wanted:?} in {:#?}", t.series))
    }

    fn ms(nanos: u64) -> i64 {
        (nanos / 1_000_000) as i64
    }

    #[test]
    fn a_monotonic_counter_gets_total_and_its_job() {
        let req = request(
            svc(),
            vec![metric(
                "bars.orders",
                "{order}",
                sum(
                    vec![number(T0, T0 + SECOND, 7.0)],
                    AggregationTemporality::Cumulative,
                ),
            )],
        );
        let t = translate(req, &DeltaToCumulative::default(), 1);
        assert_eq!(
            points(&t, &[("__name__", "bars_orders_total"), ("job", "svc")]),
            [(ms(T0 + SECOND), 7.0)]
        );
        assert_eq!(
            t.metadata,
            [(
                "bars_orders_total".to_string(),
                "counter",
                "about bars.orders".to_string(),
                "{order}".to_string()
            )]
        );
        assert_eq!(
            (t.refused, t.series.len()),
            (0, 1),
            "no target_info without other attributes"
        );
    }

    #[test]
    fn a_histogram_gets_its_unit_and_cumulative_buckets() {
        let point = HistogramDataPoint {
            attributes: vec![kv("http.route", "/a")],
            start_time_unix_nano: T0,
            time_unix_nano: T0 + SECOND,
            count: 6,
            sum: Some(12.5),
            bucket_counts: vec![1, 2, 3],
            explicit_bounds: vec![0.5, 1.0],
            ..Default::default()
        };
        let data = Data::Histogram(Histogram {
            data_points: vec![point],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        });
        let t = translate(
            request(svc(), vec![metric("x.latency", "ms", data)]),
            &DeltaToCumulative::default(),
            1,
        );
        let at = ms(T0 + SECOND);
        let base = [("job", "svc"), ("http_route", "/a")];
        let bucket = |le: &'static str| {
            let mut l = base.to_vec();
            l.extend([("__name__", "x_latency_milliseconds_bucket"), ("le", le)]);
            l
        };
        assert_eq!(points(&t, &bucket("0.5")), [(at, 1.0)]);
        assert_eq!(points(&t, &bucket("1")), [(at, 3.0)]);
        assert_eq!(points(&t, &bucket("+Inf")), [(at, 6.0)]);
        let mut sum = base.to_vec();
        sum.push(("__name__", "x_latency_milliseconds_sum"));
        assert_eq!(points(&t, &sum), [(at, 12.5)]);
        let mut count = base.to_vec();
        count.push(("__name__", "x_latency_milliseconds_count"));
        assert_eq!(points(&t, &count), [(at, 6.0)]);
        assert_eq!(t.metadata[0].0, "x_latency_milliseconds");
        assert_eq!(t.metadata[0].1, "histogram");
    }

    #[test]
    fn delta_sums_accumulate_across_requests_per_project() {
        let deltas = DeltaToCumulative::default();
        let send = |start: u64, end: u64, value: f64, tenant: i64| {
            let data = sum(
                vec![number(start, end, value)],
                AggregationTemporality::Delta,
            );
            translate(
                request(svc(), vec![metric("jobs.done", "", data)]),
                &deltas,
                tenant,
            )
        };
        let name = [("__name__", "jobs_done_total"), ("job", "svc")];
        let first = send(T0, T0 + SECOND, 5.0, 1);
        assert_eq!(points(&first, &name), [(ms(T0 + SECOND), 5.0)]);
        let second = send(T0 + SECOND, T0 + 2 * SECOND, 3.0, 1);
        assert_eq!(points(&second, &name), [(ms(T0 + 2 * SECOND), 8.0)]);
        // Another project's series of the same name is its own.
        let other = send(T0 + SECOND, T0 + 2 * SECOND, 1.0, 2);
        assert_eq!(points(&other, &name), [(ms(T0 + 2 * SECOND), 1.0)]);
        // Overlapping the previous delta (starts before it ended): refused.
        let overlap = send(T0 + SECOND + 1, T0 + 3 * SECOND, 4.0, 1);
        assert_eq!((overlap.refused, overlap.series.len()), (1, 0));
        assert!(overlap
            .first_refusal
            .is_some_and(|r| r.contains("jobs_done_total") && r.contains("before")));
        let next = send(T0 + 2 * SECOND, T0 + 3 * SECOND, 2.0, 1);
        assert_eq!(points(&next, &name), [(ms(T0 + 3 * SECOND), 10.0)]);
        assert_eq!(deltas.len(), 2);
    }

    #[test]
    fn delta_histograms_accumulate_and_the_state_is_bounded() {
        let deltas = DeltaToCumulative::new(2);
        let point = |start: u64, counts: Vec<u64>| HistogramDataPoint {
            start_time_unix_nano: start,
            time_unix_nano: start + SECOND,
            count: counts.iter().sum(),
            sum: Some(1.0),
            bucket_counts: counts,
            explicit_bounds: vec![1.0],
            ..Default::default()
        };
        let send = |name: &str, p: HistogramDataPoint| {
            let data = Data::Histogram(Histogram {
                data_points: vec![p],
                aggregation_temporality: AggregationTemporality::Delta as i32,
            });
            translate(request(vec![], vec![metric(name, "s", data)]), &deltas, 1)
        };
        send("h", point(T0, vec![1, 1]));
        let t = send("h", point(T0 + SECOND, vec![2, 0]));
        let le1 = [("__name__", "h_seconds_bucket"), ("le", "1")];
        assert_eq!(points(&t, &le1), [(ms(T0 + 2 * SECOND), 3.0)]);
        let count = [("__name__", "h_seconds_count")];
        assert_eq!(points(&t, &count), [(ms(T0 + 2 * SECOND), 4.0)]);
        assert_eq!(points(&t, &[("__name__", "h_seconds_sum")])[0].1, 2.0);
        for name in ["a", "b", "c"] {
            send(name, point(T0, vec![1, 0]));
        }
        assert!(deltas.len() <= 2);
    }

    #[test]
    fn exponential_histograms_become_classic_buckets() {
        // Scale 0: base 2; positive bucket i holds (2^i, 2^(i+1)].
        let point = ExponentialHistogramDataPoint {
            time_unix_nano: T0,
            count: 8,
            sum: Some(20.0),
            scale: 0,
            zero_count: 1,
            positive: Some(Buckets {
                offset: 0,
                bucket_counts: vec![1, 2, 0, 3],
            }),
            negative: Some(Buckets {
                offset: 1,
                bucket_counts: vec![1],
            }),
            ..Default::default()
        };
        let data = Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![point.clone()],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        });
        let t = translate(
            request(vec![], vec![metric("e", "", data)]),
            &DeltaToCumulative::default(),
            1,
        );
        let bucket = |le| points(&t, &[("__name__", "e_bucket"), ("le", le)])[0].1;
        // Negative bucket 1 holds [-4, -2): bound -2.
        assert_eq!(bucket("-2"), 1.0);
        assert_eq!(bucket("0"), 2.0);
        assert_eq!(bucket("2"), 3.0);
        assert_eq!(bucket("4"), 5.0);
        assert!(t
            .series
            .iter()
            .all(|(l, _)| !l.contains(&("le".to_string(), "8".to_string()))));
        assert_eq!(bucket("16"), 8.0);
        assert_eq!(bucket("+Inf"), 8.0);
        assert_eq!(points(&t, &[("__name__", "e_count")])[0].1, 8.0);

        // Scale 1: base √2; bound of bucket 0 is √2.
        let mut finer = point;
        finer.scale = 1;
        finer.negative = None;
        let total = ExponentialTotal::of(&finer);
        let bounds: Vec<String> = total
            .classic_buckets()
            .iter()
            .map(|(b, _)| prometheus_float(*b))
            .collect();
        assert_eq!(bounds, ["0", "1.4142135623730951", "2", "4"]);

        // Deltas at different scales add at the coarser one.
        let mut a = ExponentialTotal::of(&finer);
        let mut coarse = finer.clone();
        coarse.scale = 0;
        a.add(ExponentialTotal::of(&coarse));
        assert_eq!(a.scale, 0);
        assert_eq!(a.positive.values().sum::<u64>(), 12);
        assert_eq!(a.count, 16);

        // Totals of deltas far apart stay within the bucket limit, counts kept.
        let far = |offset| ExponentialTotal {
            positive: (0..MAX_BUCKETS_PER_POINT as i64)
                .map(|i| (offset + i, 1))
                .collect(),
            ..ExponentialTotal::of(&finer)
        };
        let mut total = far(0);
        total.add(far(1 << 30));
        assert!(total.positive.len() <= MAX_BUCKETS_PER_POINT);
        assert_eq!(
            total.positive.values().sum::<u64>(),
            2 * MAX_BUCKETS_PER_POINT as u64
        );
        assert_eq!(total.scale, 0, "one halving fits both runs");
    }

    #[test]
    fn no_recorded_value_is_a_stale_marker() {
        let mut p = number(0, T0, 0.0);
        p.flags = FLAG_NO_RECORDED_VALUE;
        p.value = None;
        let gauge = Data::Gauge(Gauge {
            data_points: vec![p],
        });
        let summary = Data::Summary(Summary {
            data_points: vec![SummaryDataPoint {
                time_unix_nano: T0,
                flags: FLAG_NO_RECORDED_VALUE,
                quantile_values: vec![ValueAtQuantile {
                    quantile: 0.5,
                    value: 1.0,
                }],
                ..Default::default()
            }],
        });
        let t = translate(
            request(
                svc(),
                vec![metric("up", "", gauge), metric("s", "", summary)],
            ),
            &DeltaToCumulative::default(),
            1,
        );
        assert_eq!(t.refused, 0);
        assert_eq!(t.series.len(), 4);
        for (_, points) in &t.series {
            assert_eq!(points.len(), 1);
            assert_eq!(points[0].1.to_bits(), STALE_NAN_BITS);
        }
        points(
            &t,
            &[("__name__", "s"), ("quantile", "0.5"), ("job", "svc")],
        );
    }

    #[test]
    fn json_and_protobuf_decode_to_the_same_request() {
        let json = br#"{"resourceMetrics":[{"resource":{"attributes":[
            {"key":"service.name","value":{"stringValue":"svc"}},
            {"key":"service.namespace","value":{"stringValue":"shop"}},
            {"key":"service.instance.id","value":{"stringValue":"i-1"}},
            {"key":"host.name","value":{"stringValue":"h1"}}]},
          "scopeMetrics":[{"scope":{"name":"lib","version":"1.2"},"metrics":[
            {"name":"bars.orders","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,
              "dataPoints":[{"startTimeUnixNano":"1764151200000000000","timeUnixNano":1764151201000000000,
                "asInt":"42","attributes":[{"key":"code","value":{"intValue":"200"}}]}]}},
            {"name":"temp","unit":"Cel","gauge":{"dataPoints":[{"timeUnixNano":"1764151201000000000","asDouble":"NaN"}]}},
            {"name":"size","unit":"By","histogram":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE",
              "dataPoints":[{"timeUnixNano":"1764151201000000000","count":"3","sum":10,
                "bucketCounts":["1",2],"explicitBounds":[1024]}]}},
            {"name":"exp","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{
              "timeUnixNano":"1764151201000000000","count":"2","scale":-1,"zeroCount":"1","zeroThreshold":0.001,
              "positive":{"offset":-2,"bucketCounts":["1"]}}]}},
            {"name":"rpc","summary":{"dataPoints":[{"timeUnixNano":"1764151201000000000","count":"4","sum":2.5,
              "quantileValues":[{"quantile":0.99,"value":1.5}],"flags":0}]}}
          ]}]}]}"#;
        let from_json = decode_json(json).unwrap();
        let bytes = from_json.encode_to_vec();
        let from_protobuf = decode_protobuf(&bytes).unwrap();
        // Debug text, as NaN (the gauge's value) is unequal to itself.
        assert_eq!(format!("{from_json:?}"), format!("{from_protobuf:?}"));
        let metrics = &from_json.resource_metrics[0].scope_metrics[0].metrics;
        assert_eq!(metrics.len(), 5);
        assert!(matches!(
            &metrics[0].data,
            Some(Data::Sum(s)) if s.is_monotonic && s.data_points[0].value == Some(number_data_point::Value::AsInt(42))
        ));

        let a = translate(from_json, &DeltaToCumulative::default(), 1);
        let b = translate(from_protobuf, &DeltaToCumulative::default(), 1);
        assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "NaN compares unequal, text does not"
        );
        assert_eq!(a.refused, 0, "{:?}", a.first_refusal);
        let common = [
            ("job", "shop/svc"),
            ("instance", "i-1"),
            ("otel_scope_name", "lib"),
            ("otel_scope_version", "1.2"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut l = common.to_vec();
            l.extend_from_slice(extra);
            l
        };
        assert_eq!(
            points(
                &a,
                &with(&[("__name__", "bars_orders_total"), ("code", "200")])
            ),
            [(1_764_151_201_000, 42.0)]
        );
        assert!(points(&a, &with(&[("__name__", "temp_celsius")]))[0]
            .1
            .is_nan());
        assert_eq!(
            points(
                &a,
                &with(&[("__name__", "size_bytes_bucket"), ("le", "1024")])
            )[0]
            .1,
            1.0
        );
        // Scale -1: base 4, bucket -2 holds (1/16, 1/4].
        assert_eq!(
            points(&a, &with(&[("__name__", "exp_bucket"), ("le", "0.25")]))[0].1,
            2.0
        );
        assert_eq!(
            points(&a, &with(&[("__name__", "exp_bucket"), ("le", "0.001")]))[0].1,
            1.0
        );
        assert_eq!(
            points(&a, &with(&[("__name__", "rpc"), ("quantile", "0.99")]))[0].1,
            1.5
        );
        // The other resource attributes go to target_info, once.
        assert_eq!(
            points(
                &a,
                &[
                    ("__name__", "target_info"),
                    ("job", "shop/svc"),
                    ("instance", "i-1"),
                    ("host_name", "h1")
                ]
            ),
            [(1_764_151_201_000, 1.0)]
        );
        assert!(a.metadata.iter().any(|m| m.0 == "target_info"));
    }

    #[test]
    fn bad_input_is_an_error_or_a_refusal_never_a_panic() {
        assert!(decode_json(b"[]").is_err());
        assert!(decode_json(br#"{"resourceMetrics":{}}"#).is_err());
        assert!(decode_json(
            br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"aggregationTemporality":"SIDEWAYS"}}]}]}]}"#
        )
        .is_err());
        assert!(decode_protobuf(&[0xff, 0xff, 0xff]).is_err());
        let mut seed = 7u64;
        for len in 0..400 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (seed >> 56) as u8
                })
                .collect();
            if let Ok(r) = decode_protobuf(&bytes) {
                translate(r, &DeltaToCumulative::default(), 1);
            }
            let _ = decode_json(&bytes);
        }
        // Out of range scales, extreme offsets, bad buckets, no time, no value.
        let exp = |scale, offset| ExponentialHistogramDataPoint {
            attributes: vec![kv("offset", &format!("{offset}"))],
            time_unix_nano: T0,
            scale,
            count: 1,
            positive: Some(Buckets {
                offset,
                bucket_counts: vec![1, 1],
            }),
            negative: Some(Buckets {
                offset,
                bucket_counts: vec![1],
            }),
            ..Default::default()
        };
        let data = Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![
                exp(21, 0),
                exp(20, i32::MAX),
                exp(-10, i32::MIN),
                exp(-10, 1),
            ],
            aggregation_temporality: AggregationTemporality::Delta as i32,
        });
        let histogram = Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                time_unix_nano: T0,
                bucket_counts: vec![1],
                explicit_bounds: vec![1.0],
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        });
        let unspecified = Data::Sum(Sum {
            data_points: vec![number(0, T0, 1.0)],
            ..Default::default()
        });
        let mut no_value = number(0, T0, 1.0);
        no_value.value = None;
        let gauge = Data::Gauge(Gauge {
            data_points: vec![number(0, 0, 1.0), no_value],
        });
        let t = translate(
            request(
                vec![],
                vec![
                    metric("e", "", data),
                    metric("h", "", histogram),
                    metric("u", "", unspecified),
                    metric("g", "", gauge),
                    metric(
                        "...",
                        "",
                        Data::Gauge(Gauge {
                            data_points: vec![number(0, T0, 1.0)],
                        }),
                    ),
                ],
            ),
            &DeltaToCumulative::default(),
            1,
        );
        assert_eq!(t.refused, 6, "{:?}", t.first_refusal);
        assert!(t.first_refusal.is_some_and(|r| r.contains("scale 21")));
        for (labels, _) in &t.series {
            assert!(labels.iter().all(|(n, v)| !n.is_empty() && !v.is_empty()));
        }
    }

    #[test]
    fn one_name_keeps_one_type() {
        let gauge = Data::Gauge(Gauge {
            data_points: vec![number(0, T0, 1.0)],
        });
        let counter = sum(
            vec![number(T0, T0, 2.0)],
            AggregationTemporality::Cumulative,
        );
        let t = translate(
            request(
                svc(),
                vec![metric("x.total", "", gauge), metric("x", "", counter)],
            ),
            &DeltaToCumulative::default(),
            1,
        );
        assert_eq!(t.metadata.len(), 1);
        assert_eq!(
            points(&t, &[("__name__", "x_total"), ("job", "svc")])[0].1,
            1.0
        );
        assert_eq!(t.refused, 1);
        assert!(t
            .first_refusal
            .is_some_and(|r| r.contains("already a gauge")));
    }

    #[test]
    fn too_many_points_are_refused_whole() {
        let points: Vec<NumberDataPoint> = (0..5).map(|i| number(0, T0 + i, 1.0)).collect();
        let req = request(
            svc(),
            vec![metric(
                "g",
                "",
                Data::Gauge(Gauge {
                    data_points: points,
                }),
            )],
        );
        assert_eq!(points_within(&req, 5), Ok(5));
        assert_eq!(
            points_within(&req, 4),
            Err("more than 4 data points in one request".to_string())
        );
        let many = vec![number(0, T0, 1.0); MAX_POINTS_PER_REQUEST + 1];
        let req = request(
            svc(),
            vec![metric("g", "", Data::Gauge(Gauge { data_points: many }))],
        );
        let t = translate(req, &DeltaToCumulative::default(), 1);
        assert_eq!((t.refused, t.series.len()), (MAX_POINTS_PER_REQUEST + 1, 0));
        assert!(t
            .first_refusal
            .is_some_and(|r| r.starts_with("more than 200000")));
    }

    #[test]
    fn names_follow_the_collector() {
        let name = |n, u, total, ratio| prometheus_name(n, u, total, ratio);
        assert_eq!(
            name("http.server.duration", "s", false, false),
            "http_server_duration_seconds"
        );
        assert_eq!(name("io", "By/s", false, false), "io_bytes_per_second");
        assert_eq!(
            name("packets", "{packet}/s", true, false),
            "packets_per_second_total"
        );
        assert_eq!(
            name("cpu.utilization", "1", false, true),
            "cpu_utilization_ratio"
        );
        assert_eq!(
            name("cpu.utilization", "1", false, false),
            "cpu_utilization"
        );
        assert_eq!(
            name("latency_seconds", "s", false, false),
            "latency_seconds"
        );
        assert_eq!(name("requests.total", "", true, false), "requests_total");
        assert_eq!(name("mem", "%", false, false), "mem_percent");
        assert_eq!(name("a..b--c:d", "", false, false), "a_b_c:d");
        assert_eq!(name("2xx", "", false, false), "_2xx");
        assert_eq!(name("...", "{x}", false, false), "");
        assert_eq!(name("größe", "MiBy", false, false), "gr_e_mebibytes");
    }

    #[test]
    fn labels_are_sanitised_and_collisions_joined() {
        assert_eq!(label_name("http.method").as_deref(), Some("http_method"));
        assert_eq!(label_name("1st").as_deref(), Some("key_1st"));
        assert_eq!(label_name("__name__").as_deref(), Some("key_name_"));
        assert_eq!(label_name("_x").as_deref(), Some("key_x"));
        assert_eq!(label_name("a..b").as_deref(), Some("a_b"));
        assert_eq!(label_name(""), None);
        let attrs = [
            kv("a.b", "2"),
            kv("a-b", "1"),
            kv("c", ""),
            kv("job", "mine"),
        ];
        assert_eq!(
            attribute_labels(attrs.iter()),
            labels(&[("a_b", "1;2"), ("job", "mine")])
        );
        let int = KeyValue {
            key: "n".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::ArrayValue(
                    super::super::proto::ArrayValue {
                        values: vec![AnyValue {
                            value: Some(any_value::Value::IntValue(1)),
                        }],
                    },
                )),
            }),
        };
        assert_eq!(attribute_labels([&int]), labels(&[("n", "[1]")]));
        // A resource's job wins over an attribute called job.
        let target = Target::of(&svc());
        let deltas = DeltaToCumulative::default();
        let context = Context {
            target: &target,
            scope: vec![],
            deltas: &deltas,
            tenant: 1,
        };
        assert_eq!(
            context.labels(&attrs),
            labels(&[("a_b", "1;2"), ("job", "svc")])
        );
        let _ = InstrumentationScope::default();
    }

    #[test]
    fn floats_are_written_as_prometheus_writes_them() {
        let cases = [
            (0.5, "0.5"),
            (1.0, "1"),
            (0.0, "0"),
            (-2.0, "-2"),
            (1024.0, "1024"),
            (100_000.0, "100000"),
            (1e6, "1e+06"),
            (2.5e6, "2.5e+06"),
            (123_456.7, "123456.7"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.001, "0.001"),
            (1.5e-300, "1.5e-300"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for (value, text) in cases {
            assert_eq!(prometheus_float(value), text, "{value}");
        }
    }
}
