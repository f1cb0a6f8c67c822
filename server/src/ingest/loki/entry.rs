//! How a Loki entry becomes a [`LogRecord`]: the stream's labels name the
//! service, host and level, the line is the message (kept verbatim, even when
//! it is JSON: Loki does not parse lines at ingestion either), and labels and
//! structured metadata become attributes.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use crate::logs::{
    level::Level,
    record::{LogRecord, RecordError},
};

/// Longest line accepted, in bytes; longer entries are refused one by one
/// (Loki's `line_too_long`). Lines above the store's message limit are kept
/// shortened to it.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// Labels naming the service, first present wins. Loki itself fills
/// `service_name` with `unknown_service` when it finds none; that counts as absent.
const SERVICE_LABELS: [&str; 5] = ["service_name", "service", "app", "application", "job"];
/// Labels naming the host, first present wins.
const HOST_LABELS: [&str; 3] = ["host", "hostname", "instance"];
/// Labels (or structured metadata) naming the level, first present wins.
const LEVEL_LABELS: [&str; 3] = ["level", "detected_level", "severity"];
/// Structured metadata that fills the trace id column.
const TRACE_ID_KEYS: [&str; 2] = ["trace_id", "traceID"];
/// Structured metadata that fills the span id column.
const SPAN_ID_KEYS: [&str; 2] = ["span_id", "spanID"];

/// What every entry of one stream shares, worked out once per stream.
#[derive(Debug, Clone)]
pub struct StreamFields {
    service: String,
    host: String,
    level: Option<Level>,
    /// Every label, by name, as a string attribute.
    labels: Map<String, Value>,
}

impl StreamFields {
    /// Reads the promoted fields from a stream's labels.
    pub fn new(labels: Vec<(String, String)>) -> Self {
        let find = |names: &[&str]| -> Option<String> {
            names.iter().find_map(|name| {
                labels
                    .iter()
                    .find(|(n, v)| n == name && !v.is_empty() && v != "unknown_service")
                    .map(|(_, v)| v.clone())
            })
        };
        let service = find(&SERVICE_LABELS).unwrap_or_default();
        let host = find(&HOST_LABELS).unwrap_or_default();
        let level = level_of(LEVEL_LABELS.iter().filter_map(|name| {
            labels
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }));
        StreamFields {
            service,
            host,
            level,
            labels: labels
                .into_iter()
                .map(|(name, value)| (name, Value::String(value)))
                .collect(),
        }
    }

    /// The record of one entry. Structured metadata overrides a label of the
    /// same name in the attributes (it is the more specific of the two), and
    /// names the level when no label does.
    pub fn record(
        &self,
        ts: DateTime<Utc>,
        line: String,
        metadata: Vec<(String, Value)>,
    ) -> Result<LogRecord, RecordError> {
        if line.len() > MAX_LINE_BYTES {
            return Err(RecordError(format!(
                "line of {} bytes is longer than the limit of {} KiB",
                line.len(),
                MAX_LINE_BYTES / 1024
            )));
        }
        let mut record = LogRecord::new(ts, line);
        record.service.clone_from(&self.service);
        record.host.clone_from(&self.host);
        record.attributes = self.labels.clone().into();
        let mut metadata_level = None;
        for (name, value) in metadata {
            if TRACE_ID_KEYS.contains(&name.as_str()) && record.trace_id.is_none() {
                record.trace_id = Some(text_of(value));
            } else if SPAN_ID_KEYS.contains(&name.as_str()) && record.span_id.is_none() {
                record.span_id = Some(text_of(value));
            } else {
                if metadata_level.is_none() && LEVEL_LABELS.contains(&name.as_str()) {
                    metadata_level = value.as_str().and_then(|v| level_of([v]));
                }
                record.attributes.map_mut().insert(name, value);
            }
        }
        record.level = self.level.or(metadata_level).unwrap_or(Level::Info);
        record.sanitise()?;
        Ok(record)
    }
}

/// The first value that reads as a level (a name or a number).
fn level_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Level> {
    values.into_iter().find_map(|v| {
        Level::from_name(v).or_else(|| v.trim().parse().ok().and_then(Level::from_number))
    })
}

fn text_of(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// A timestamp given as nanoseconds since the Unix epoch (Loki's JSON `values`,
/// as a string or a number). Read as an integer, not a float: a float would lose
/// the nanoseconds.
pub fn parse_nanos(value: &Value) -> Result<DateTime<Utc>, RecordError> {
    let nanos = match value {
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    match nanos {
        Some(n) if n >= 0 => Ok(Utc.timestamp_nanos(n)),
        _ => {
            let mut shown = value.to_string();
            if shown.len() > 40 {
                shown.truncate(shown.floor_char_boundary(40));
                shown.push('…');
            }
            Err(RecordError(format!(
                "timestamp {shown} is not nanoseconds since the Unix epoch"
            )))
        }
    }
}

/// A protobuf `Timestamp` as a time, if it is one.
pub fn from_proto(seconds: i64, nanos: i32) -> Result<DateTime<Utc>, RecordError> {
    u32::try_from(nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .and_then(|n| Utc.timestamp_opt(seconds, n).single())
        .filter(|t| t.timestamp() >= 0)
        .ok_or_else(|| RecordError(format!("timestamp {seconds}s {nanos}ns is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn at(n: i64) -> DateTime<Utc> {
        Utc.timestamp_nanos(n)
    }

    #[test]
    fn labels_name_service_host_and_level_in_order() {
        let fields = StreamFields::new(labels(&[
            ("job", "batch"),
            ("app", "api"),
            ("service_name", "unknown_service"),
            ("instance", "10.0.0.1:80"),
            ("hostname", "web-1"),
            ("severity", "warning"),
            ("level", "loud"),
        ]));
        let r = fields
            .record(at(1), "{\"msg\":\"json stays text\"}".into(), vec![])
            .unwrap();
        assert_eq!(r.service, "api");
        assert_eq!(r.host, "web-1");
        assert_eq!(r.level, Level::Warn);
        assert_eq!(r.message, "{\"msg\":\"json stays text\"}");
        assert_eq!(r.attributes.to_value().as_object().map(Map::len), Some(7));
        assert_eq!(r.attributes.to_value()["level"], json!("loud"));
    }

    #[test]
    fn metadata_fills_ids_attributes_and_a_missing_level() {
        let fields = StreamFields::new(labels(&[("env", "prod"), ("user", "label")]));
        let r = fields
            .record(
                at(5),
                "x".into(),
                vec![
                    ("traceID".into(), json!("t1")),
                    ("span_id".into(), json!("s1")),
                    ("user".into(), json!("metadata")),
                    ("detected_level".into(), json!("error")),
                ],
            )
            .unwrap();
        assert_eq!(
            (r.trace_id.as_deref(), r.span_id.as_deref()),
            (Some("t1"), Some("s1"))
        );
        assert_eq!(r.level, Level::Error);
        assert_eq!(r.ts, at(5));
        assert_eq!(
            r.attributes.to_value(),
            json!({"env": "prod", "user": "metadata", "detected_level": "error"})
        );
    }

    #[test]
    fn long_lines_are_refused_and_timestamps_checked() {
        let fields = StreamFields::new(vec![]);
        assert!(fields
            .record(at(0), "x".repeat(MAX_LINE_BYTES + 1), vec![])
            .is_err());
        // Lines are kept whole up to the message limit, refused beyond it.
        let max = crate::logs::record::MAX_MESSAGE_CHARS;
        let kept = fields.record(at(0), "x".repeat(max), vec![]).unwrap();
        assert_eq!(kept.message.len(), max);
        assert!(fields.record(at(0), "x".repeat(max + 1), vec![]).is_err());

        assert_eq!(
            parse_nanos(&json!("1764151200000000001")).unwrap(),
            at(1_764_151_200_000_000_001)
        );
        assert_eq!(parse_nanos(&json!(17)).unwrap(), at(17));
        for bad in [
            json!("yesterday"),
            json!("-5"),
            json!("1.5e18"),
            json!(null),
            json!("99999999999999999999"),
        ] {
            assert!(parse_nanos(&bad).is_err(), "{bad}");
        }
        assert_eq!(from_proto(1, 2).unwrap(), at(1_000_000_002));
        assert!(from_proto(1, -1).is_err());
        assert!(from_proto(1, 1_000_000_000).is_err());
        assert!(from_proto(-10, 0).is_err());
        assert!(from_proto(i64::MAX, 0).is_err());
    }
}
