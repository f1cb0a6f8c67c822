//! Prometheus remote write 1.0's body: `prometheus.WriteRequest`, protobuf in
//! a snappy block. The messages are written by hand with prost's derive (no
//! `.proto` compilation), from `prompb/remote.proto` and `prompb/types.proto`;
//! fields Sightline does not keep (exemplars) are skipped.
//!
//! The request and each series are walked by hand ([`Wire`]) so that the
//! limits on series, labels and samples hold while reading.

use prost::Message;

use crate::ingest::protowire::{self, Field, SnappyError, Wire};

/// `prometheus.Label`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`: a value at a time in milliseconds.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricMetadata {
    /// `MetricType`: 0 unknown, 1 counter, 2 gauge, 3 histogram,
    /// 4 gaugehistogram, 5 summary, 6 info, 7 stateset.
    #[prost(int32, tag = "1")]
    pub kind: i32,
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    #[prost(string, tag = "4")]
    pub help: String,
    #[prost(string, tag = "5")]
    pub unit: String,
}

impl MetricMetadata {
    /// The type's name, as Prometheus's metadata API spells it.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            1 => "counter",
            2 => "gauge",
            3 => "histogram",
            4 => "gaugehistogram",
            5 => "summary",
            6 => "info",
            7 => "stateset",
            _ => "unknown",
        }
    }
}

/// `prometheus.TimeSeries`, as read: its labels and samples, and whether it
/// carried native histograms (which Sightline does not store yet).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimeSeries {
    pub labels: Vec<Label>,
    pub samples: Vec<Sample>,
    pub histograms: usize,
}

/// `prometheus.WriteRequest`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteRequest {
    pub timeseries: Vec<TimeSeries>,
    pub metadata: Vec<MetricMetadata>,
}

/// Limits of one request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Decompressed body, bytes.
    pub decoded_bytes: usize,
    /// Samples over all series.
    pub samples: usize,
    /// Labels of one series.
    pub labels: usize,
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// 400.
    Malformed(String),
    /// 413.
    TooLarge(String),
}

fn malformed(what: &str) -> DecodeError {
    DecodeError::Malformed(format!(
        "body is not a Prometheus remote write request: {what}"
    ))
}

/// Decompresses and decodes a remote write body within `limits`.
pub fn decode(compressed: &[u8], limits: Limits) -> Result<WriteRequest, DecodeError> {
    let raw = protowire::snappy_block(compressed, limits.decoded_bytes).map_err(|e| match e {
        SnappyError::Malformed(message) => DecodeError::Malformed(message),
        SnappyError::TooLarge(message) => DecodeError::TooLarge(message),
    })?;
    let mut request = WriteRequest::default();
    let mut samples = 0usize;
    let mut top = Wire(&raw);
    while let Some((tag, field)) = top.field().map_err(malformed)? {
        match (tag, field) {
            (1, Field::Bytes(bytes)) => {
                let series = series(bytes, limits, &mut samples)?;
                request.timeseries.push(series);
            }
            (3, Field::Bytes(bytes)) => {
                let metadata = MetricMetadata::decode(bytes)
                    .map_err(|e| malformed(&format!("metadata: {e}")))?;
                request.metadata.push(metadata);
            }
            (1 | 3, _) => return Err(malformed("a field has the wrong wire type")),
            _ => {}
        }
    }
    Ok(request)
}

fn series(bytes: &[u8], limits: Limits, samples: &mut usize) -> Result<TimeSeries, DecodeError> {
    let mut series = TimeSeries::default();
    let mut wire = Wire(bytes);
    while let Some((tag, field)) = wire.field().map_err(malformed)? {
        match (tag, field) {
            (1, Field::Bytes(b)) => {
                if series.labels.len() >= limits.labels {
                    return Err(DecodeError::TooLarge(format!(
                        "a series has more than {} labels",
                        limits.labels
                    )));
                }
                series
                    .labels
                    .push(Label::decode(b).map_err(|e| malformed(&format!("label: {e}")))?);
            }
            (2, Field::Bytes(b)) => {
                *samples += 1;
                if *samples > limits.samples {
                    return Err(DecodeError::TooLarge(format!(
                        "more than {} samples in one request; lower `max_samples_per_send`",
                        limits.samples
                    )));
                }
                series
                    .samples
                    .push(Sample::decode(b).map_err(|e| malformed(&format!("sample: {e}")))?);
            }
            (4, Field::Bytes(_)) => series.histograms += 1,
            (1 | 2 | 4, _) => return Err(malformed("a series field has the wrong wire type")),
            _ => {}
        }
    }
    Ok(series)
}

/// Encodes and snappy-compresses a request, as Prometheus does (for tests and
/// the benchmark).
pub fn encode(request: &WriteRequest) -> Vec<u8> {
    /// The wire form of `TimeSeries` without histograms.
    #[derive(Clone, PartialEq, prost::Message)]
    struct WireSeries {
        #[prost(message, repeated, tag = "1")]
        labels: Vec<Label>,
        #[prost(message, repeated, tag = "2")]
        samples: Vec<Sample>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct WireRequest {
        #[prost(message, repeated, tag = "1")]
        timeseries: Vec<WireSeries>,
        #[prost(message, repeated, tag = "3")]
        metadata: Vec<MetricMetadata>,
    }
    let raw = WireRequest {
        timeseries: request
            .timeseries
            .iter()
            .map(|s| WireSeries {
                labels: s.labels.clone(),
                samples: s.samples.clone(),
            })
            .collect(),
        metadata: request.metadata.clone(),
    }
    .encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        decoded_bytes: 1 << 20,
        samples: 10,
        labels: 4,
    };

    fn request() -> WriteRequest {
        WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![
                    Label {
                        name: "__name__".into(),
                        value: "up".into(),
                    },
                    Label {
                        name: "job".into(),
                        value: "node".into(),
                    },
                ],
                samples: vec![
                    Sample {
                        value: 1.0,
                        timestamp: 1_000,
                    },
                    Sample {
                        value: f64::from_bits(0x7ff0_0000_0000_0002),
                        timestamp: 2_000,
                    },
                ],
                histograms: 0,
            }],
            metadata: vec![MetricMetadata {
                kind: 2,
                metric_family_name: "up".into(),
                help: "1 if the target is up".into(),
                unit: String::new(),
            }],
        }
    }

    #[test]
    fn round_trips_with_the_stale_markers_bits() {
        let decoded = decode(&encode(&request()), LIMITS).unwrap();
        assert_eq!(decoded.timeseries[0].labels, request().timeseries[0].labels);
        assert_eq!(
            decoded.timeseries[0].samples[1].value.to_bits(),
            0x7ff0_0000_0000_0002
        );
        assert_eq!(decoded.metadata[0].kind_name(), "gauge");
    }

    #[test]
    fn limits_hold_and_garbage_is_malformed() {
        let mut big = request();
        big.timeseries[0].samples = vec![Sample::default(); 11];
        assert!(matches!(
            decode(&encode(&big), LIMITS),
            Err(DecodeError::TooLarge(_))
        ));
        let mut labels = request();
        labels.timeseries[0].labels = vec![Label::default(); 5];
        assert!(matches!(
            decode(&encode(&labels), LIMITS),
            Err(DecodeError::TooLarge(_))
        ));
        assert!(matches!(
            decode(b"not snappy", LIMITS),
            Err(DecodeError::Malformed(_))
        ));
        let junk = snap::raw::Encoder::new()
            .compress_vec(&[0x0a, 0x05, 0x01])
            .unwrap();
        assert!(matches!(
            decode(&junk, LIMITS),
            Err(DecodeError::Malformed(_))
        ));
    }
}
