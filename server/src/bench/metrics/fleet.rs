//! The benchmark's data: a fleet of scrape targets whose counters,
//! histograms and gauges move like a web service's, and their scrapes as
//! remote write requests (and OpenMetrics text for promtool).

use std::fmt::Write as _;

use super::super::Rng;
use crate::ingest::prometheus::proto::{self, Label, Sample, TimeSeries, WriteRequest};

/// Series of one handler: 4 counters, 12 buckets, `_sum`, `_count`, 2 gauges.
pub const PER_HANDLER: usize = 20;
const STATUSES: [&str; 4] = ["200", "404", "500", "503"];
const LE: [(&str, f64); 12] = [
    ("0.005", 0.005),
    ("0.01", 0.01),
    ("0.025", 0.025),
    ("0.05", 0.05),
    ("0.1", 0.1),
    ("0.25", 0.25),
    ("0.5", 0.5),
    ("1", 1.0),
    ("2.5", 2.5),
    ("5", 5.0),
    ("10", 10.0),
    ("+Inf", f64::INFINITY),
];

/// The series of a fleet of targets and their current values.
pub struct Fleet {
    /// Sorted by name, as Prometheus sends them.
    labels: Vec<Vec<Label>>,
    values: Vec<f64>,
    handlers: usize,
    rng: Rng,
}

fn label(name: &str, value: &str) -> Label {
    Label {
        name: name.into(),
        value: value.into(),
    }
}

impl Fleet {
    pub fn new(targets: usize, handlers: usize) -> Fleet {
        let mut labels = Vec::with_capacity(targets * handlers * PER_HANDLER);
        for t in 0..targets {
            let (instance, job) = (format!("target-{t}:9100"), format!("job-{}", t % 10));
            for h in 0..handlers {
                let handler = format!("/api/h{h}");
                let series = |name: &str, extra: Option<(&str, &str)>| {
                    let mut l = vec![
                        label("__name__", name),
                        label("handler", &handler),
                        label("instance", &instance),
                        label("job", &job),
                    ];
                    l.extend(extra.map(|(n, v)| label(n, v)));
                    l
                };
                for status in STATUSES {
                    labels.push(series("x_http_requests_total", Some(("status", status))));
                }
                for (le, _) in LE {
                    let name = "x_http_request_duration_seconds_bucket";
                    labels.push(series(name, Some(("le", le))));
                }
                labels.push(series("x_http_request_duration_seconds_sum", None));
                labels.push(series("x_http_request_duration_seconds_count", None));
                labels.push(series("x_http_inflight_requests", None));
                labels.push(series("x_http_response_size_bytes", None));
            }
        }
        Fleet {
            values: vec![0.0; labels.len()],
            labels,
            handlers,
            rng: Rng(0x9e37_79b9_7f4a_7c15),
        }
    }

    /// The values of the next scrape.
    fn advance(&mut self) {
        let rng = &mut self.rng;
        for (i, v) in self.values.chunks_mut(PER_HANDLER).enumerate() {
            let handler = (i % self.handlers) as f64;
            let ok = rng.below(40) as f64;
            let errors = [
                rng.below(3) as f64,
                if rng.below(8) == 0 {
                    rng.below(3) as f64
                } else {
                    0.0
                },
                if rng.below(20) == 0 { 1.0 } else { 0.0 },
            ];
            let total = ok + errors.iter().sum::<f64>();
            v[0] += ok;
            for (k, e) in errors.iter().enumerate() {
                v[1 + k] += e;
            }
            let scale = 0.02 * (1.0 + handler % 5.0) * rng.uniform(0.8, 1.25);
            for (k, (_, le)) in LE.iter().enumerate() {
                v[4 + k] += (total * (1.0 - (-le / scale).exp())).floor();
            }
            v[16] += (total * scale * rng.uniform(0.9, 1.1) * 1e6).round() / 1e6;
            v[17] += total;
            v[18] = rng.below(20) as f64;
            v[19] = 1000.0 + rng.below(5000) as f64;
        }
    }

    /// Scrapes every `interval_ms` in `[start_ms, end_ms)`, each target at an
    /// offset of its own: `visit` gets each series' index, labels, timestamp
    /// and value. Returns the samples.
    pub fn scrapes(
        &mut self,
        (start_ms, end_ms, interval_ms): (i64, i64, i64),
        mut visit: impl FnMut(usize, &[Label], i64, f64) -> anyhow::Result<()>,
    ) -> anyhow::Result<usize> {
        let per_target = self.handlers * PER_HANDLER;
        let mut samples = 0;
        let mut t = start_ms;
        while t < end_ms {
            self.advance();
            for (i, (labels, &value)) in self.labels.iter().zip(&self.values).enumerate() {
                let timestamp = t + (i / per_target) as i64 * 7919 % interval_ms;
                visit(i, labels, timestamp, value)?;
            }
            samples += self.labels.len();
            t += interval_ms;
        }
        Ok(samples)
    }

    /// The number of series.
    pub fn series(&self) -> usize {
        self.labels.len()
    }

    /// Each series' labels, `__name__` first, in the order of
    /// [`Fleet::scrapes`]' index.
    pub fn labels(&self) -> &[Vec<Label>] {
        &self.labels
    }
}

/// Remote write bodies of each shard, in time order.
pub struct Dataset {
    pub shards: Vec<Vec<Vec<u8>>>,
    pub samples: usize,
    pub series: usize,
}

/// Appends a sample as an OpenMetrics line (`name{a="b"} 1 1700000000.000`).
pub fn openmetrics_line(
    line: &mut String,
    labels: &[Label],
    timestamp: i64,
    value: f64,
) -> std::fmt::Result {
    line.push_str(&labels[0].value);
    for (k, l) in labels[1..].iter().enumerate() {
        let sep = if k == 0 { '{' } else { ',' };
        write!(line, "{sep}{}=\"{}\"", l.name, l.value)?;
    }
    writeln!(
        line,
        "}} {value} {}.{:03}",
        timestamp / 1000,
        timestamp % 1000
    )
}

/// The scrapes of `fleet` over `range` (see [`Fleet::scrapes`]) as requests of
/// `batch` samples; and, when `openmetrics` is given, the same samples as
/// OpenMetrics text for promtool. A series is always sent by the same one of
/// `shards` clients, as Prometheus's queue manager does, so that its samples
/// arrive in order.
pub fn dataset(
    fleet: &mut Fleet,
    range: (i64, i64, i64),
    (batch, shards): (usize, usize),
    mut openmetrics: Option<&mut dyn std::io::Write>,
) -> anyhow::Result<Dataset> {
    let mut out = Dataset {
        shards: vec![Vec::new(); shards],
        samples: 0,
        series: fleet.series(),
    };
    let mut pending = vec![Vec::with_capacity(batch); shards];
    let mut line = String::new();
    out.samples = fleet.scrapes(range, |i, labels, timestamp, value| {
        if let Some(file) = openmetrics.as_mut() {
            line.clear();
            openmetrics_line(&mut line, labels, timestamp, value)?;
            file.write_all(line.as_bytes())?;
        }
        let shard = i % shards;
        pending[shard].push(TimeSeries {
            labels: labels.to_vec(),
            samples: vec![Sample { value, timestamp }],
            histograms: 0,
        });
        if pending[shard].len() == batch {
            out.shards[shard].push(encode(&mut pending[shard]));
        }
        Ok(())
    })?;
    for (shard, pending) in pending.iter_mut().enumerate() {
        if !pending.is_empty() {
            out.shards[shard].push(encode(pending));
        }
    }
    if let Some(file) = openmetrics {
        file.write_all(b"# EOF\n")?;
    }
    Ok(out)
}

fn encode(pending: &mut Vec<TimeSeries>) -> Vec<u8> {
    let request = WriteRequest {
        timeseries: std::mem::take(pending),
        metadata: Vec::new(),
    };
    proto::encode(&request)
}
