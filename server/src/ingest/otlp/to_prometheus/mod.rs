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
//!   bucket (see [`delta::ExponentialTotal::classic_buckets`]), since Sightline
//!   stores floats, not native histograms. **Summaries** become
//!   `{quantile=...}`, `_sum` and `_count`.
//! - A point flagged "no recorded value" becomes Prometheus's stale marker,
//!   so the series ends where the sender said it ended.
//! - `le` and `quantile` values are written as a Prometheus scrape writes them
//!   (Go's `%g`: `0.5`, `1`, `1e+06`), so OTLP and scraped histograms share
//!   bucket series. (The Collector and Prometheus's own OTLP receiver write
//!   `%f`, `1000000`; the two differ only from 1e6 and below 1e-4.)
//!
//! Here the request and its metrics; [`points`] makes each kind of point into
//! samples, [`names`] the names and labels, [`delta`] the running totals.

mod delta;
mod names;
mod points;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use prost::Message;

use super::metrics_proto::{
    self, metric::Data, AggregationTemporality, ExportMetricsServiceRequest, Metric,
};
use super::proto::KeyValue;
pub use delta::DeltaToCumulative;
use delta::RunningTotal;
use names::{attribute_labels, attribute_text, set};
pub use names::{label_name, prometheus_float, prometheus_name};
use points::{exponential_point, histogram_point, number_points, summary_point};

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
