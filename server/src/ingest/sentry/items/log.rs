//! `log` items: batches of Sentry structured logs
//! (<https://develop.sentry.dev/sdk/telemetry/logs/>), each log a
//! [`LogRecord`] of its own.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{compact, invalid, text, timestamp, ItemError};
use crate::logs::{
    level::Level,
    record::{LogRecord, RecordError},
};

/// Log attributes promoted to the record's service, host and span id columns
/// (and so removed from its attributes).
const SERVICE_ATTRIBUTE: &str = "service.name";
const HOST_ATTRIBUTE: &str = "server.address";
const SPAN_ATTRIBUTE: &str = "sentry.trace.parent_span_id";

/// The records of a `log` item (`{"items": [...]}`), each decoded on its own so
/// that one bad record does not cost the others. `received` stands in for a
/// missing timestamp.
///
/// The level comes from `level`, else from `severity_number`. Attributes arrive
/// as `{"value": ..., "type": ...}` and are stored as their plain values;
/// `service.name`, `server.address` and `sentry.trace.parent_span_id` fill the
/// service, host and span id. The service is left empty when absent, for the
/// caller to fill.
pub fn log_records(
    payload: &[u8],
    received: DateTime<Utc>,
) -> Result<Vec<Result<LogRecord, RecordError>>, ItemError> {
    let kind = "log";
    let value: Value =
        serde_json::from_slice(payload).map_err(|source| ItemError::Json { kind, source })?;
    let Value::Object(mut container) = value else {
        return Err(invalid(
            kind,
            "expected a JSON object with an `items` array",
        ));
    };
    let Some(Value::Array(items)) = container.remove("items") else {
        return Err(invalid(kind, "expected an `items` array"));
    };
    Ok(items
        .into_iter()
        .map(|item| log_record(item, received))
        .collect())
}

fn log_record(item: Value, received: DateTime<Utc>) -> Result<LogRecord, RecordError> {
    let Value::Object(mut object) = item else {
        return Err(RecordError(format!(
            "expected a log object, found {}",
            compact(&item)
        )));
    };
    let ts = match object.remove("timestamp") {
        None | Some(Value::Null) => received,
        Some(v) => timestamp(&v)
            .ok_or_else(|| RecordError(format!("timestamp: not a timestamp: {}", compact(&v))))?,
    };
    let level = log_level(object.remove("level"), object.remove("severity_number"))?;
    let mut attributes = match object.remove("attributes") {
        Some(Value::Object(attributes)) => attributes
            .into_iter()
            .map(|(name, value)| (name, attribute_value(value)))
            .collect(),
        None | Some(Value::Null) => Map::new(),
        Some(other) => {
            return Err(RecordError(format!(
                "attributes: expected an object, found {}",
                compact(&other)
            )))
        }
    };
    let mut take = |name: &str| match attributes.remove(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    };
    let service = take(SERVICE_ATTRIBUTE).unwrap_or_default();
    let host = take(HOST_ATTRIBUTE).unwrap_or_default();
    let parent_span = take(SPAN_ATTRIBUTE);
    let mut record = LogRecord {
        ts,
        level,
        service,
        host,
        message: object.remove("body").map(text).unwrap_or_default(),
        trace_id: object.remove("trace_id").map(text).filter(|id| !is_nil(id)),
        span_id: object
            .remove("span_id")
            .map(text)
            .or(parent_span)
            .filter(|id| !is_nil(id)),
        attributes: attributes.into(),
    };
    record.sanitise()?;
    Ok(record)
}

/// `level` by name, else `severity_number` (OpenTelemetry's 1–24), else `info`.
fn log_level(name: Option<Value>, number: Option<Value>) -> Result<Level, RecordError> {
    let by_name = name
        .as_ref()
        .and_then(Value::as_str)
        .and_then(Level::from_name);
    let by_number = number
        .as_ref()
        .and_then(Value::as_i64)
        .and_then(Level::from_otlp);
    match (by_name.or(by_number), name) {
        (Some(level), _) => Ok(level),
        (None, None | Some(Value::Null)) => Ok(Level::Info),
        (None, Some(name)) => Err(RecordError(format!(
            "level: not a log level: {}",
            compact(&name)
        ))),
    }
}

/// The plain value of a typed attribute (`{"value": 3, "type": "integer"}` is 3);
/// anything else as it came.
fn attribute_value(value: Value) -> Value {
    match value {
        Value::Object(mut typed) if typed.contains_key("value") => {
            typed.remove("value").unwrap_or(Value::Null)
        }
        other => other,
    }
}

/// An all-zero trace or span id, which the Python SDK sends when there is none.
fn is_nil(id: &str) -> bool {
    id.bytes().all(|b| b == b'0' || b == b'-')
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use chrono::TimeZone;
    use sentry::protocol::{Envelope, Log, LogAttribute, LogLevel, Map as SdkMap};
    use serde_json::json;

    use super::*;
    use crate::ingest::sentry::envelope::{parse, EnvelopeLimits, ItemKind};

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap()
    }

    fn bytes(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn logs_of_the_python_sdk() {
        let payload = bytes(json!({"items": [{
            "timestamp": 1_700_000_000.123,
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "level": "warn",
            "body": "disk 91% full",
            "attributes": {
                "sentry.environment": {"value": "production", "type": "string"},
                "sentry.release": {"value": "shop@2.1.0", "type": "string"},
                "server.address": {"value": "web-1", "type": "string"},
                "sentry.trace.parent_span_id": {"value": "b0e6f15b45c36b12", "type": "string"},
                "disk.percent": {"value": 91, "type": "integer"},
                "ratio": {"value": 0.91, "type": "double"},
                "alert": {"value": true, "type": "boolean"},
            },
        }]}));
        let records = log_records(&payload, at(0)).unwrap();
        let record = records[0].as_ref().unwrap();
        assert_eq!(record.ts.timestamp_micros(), 1_700_000_000_123_000);
        assert_eq!(record.level, Level::Warn);
        assert_eq!(record.message, "disk 91% full");
        assert_eq!(
            (record.service.as_str(), record.host.as_str()),
            ("", "web-1")
        );
        assert_eq!(record.trace_id, None);
        assert_eq!(record.span_id.as_deref(), Some("b0e6f15b45c36b12"));
        assert_eq!(
            record.attributes.to_value(),
            json!({"sentry.environment": "production", "sentry.release": "shop@2.1.0",
                   "disk.percent": 91, "ratio": 0.91, "alert": true})
        );
    }

    #[test]
    fn logs_of_the_rust_sdk_through_its_envelope() {
        let mut attributes = SdkMap::new();
        attributes.insert("service.name".into(), LogAttribute::from("checkout"));
        attributes.insert("count".into(), LogAttribute::from(3));
        let log = Log {
            level: LogLevel::Error,
            body: "payment failed".into(),
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".parse().ok(),
            timestamp: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_500),
            severity_number: 17.try_into().ok(),
            attributes,
        };
        let mut envelope = Envelope::new();
        envelope.add_item(vec![log]);
        let mut body = Vec::new();
        envelope.to_writer(&mut body).unwrap();
        let limits = EnvelopeLimits {
            max_items: 10,
            max_item_bytes: 1 << 20,
        };
        let item = &parse(&body, limits).unwrap().items[0];
        assert_eq!(item.kind, ItemKind::Log);

        let records = log_records(&item.payload, at(0)).unwrap();
        let record = records[0].as_ref().unwrap();
        assert_eq!(record.ts.timestamp_millis(), 1_700_000_000_500);
        assert_eq!(record.level, Level::Error);
        assert_eq!(record.service, "checkout");
        assert_eq!(
            record.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(record.attributes.to_value()["count"], json!(3));
        assert!(record.attributes.to_value().get("service.name").is_none());
    }

    #[test]
    fn one_bad_log_does_not_cost_the_others() {
        let payload = bytes(json!({"items": [
            {"body": "no timestamp, no level"},
            {"timestamp": "yesterday", "body": "x"},
            {"level": "loud", "body": "x"},
            {"level": "loud", "severity_number": 21, "body": "number wins"},
            "not an object",
        ]}));
        let records = log_records(&payload, at(1_800_000_000)).unwrap();
        let first = records[0].as_ref().unwrap();
        assert_eq!((first.ts, first.level), (at(1_800_000_000), Level::Info));
        assert!(records[1]
            .as_ref()
            .unwrap_err()
            .0
            .contains("timestamp: not a timestamp"));
        assert!(records[2]
            .as_ref()
            .unwrap_err()
            .0
            .contains("level: not a log level"));
        assert_eq!(records[3].as_ref().unwrap().level, Level::Fatal);
        assert!(records[4]
            .as_ref()
            .unwrap_err()
            .0
            .contains("expected a log object"));

        let err = |payload: &[u8]| log_records(payload, at(0)).unwrap_err().to_string();
        assert!(err(b"{").starts_with("log item is not valid"));
        assert_eq!(
            err(b"[]"),
            "log item: expected a JSON object with an `items` array"
        );
        assert_eq!(
            err(b"{\"items\":{}}"),
            "log item: expected an `items` array"
        );
    }
}
