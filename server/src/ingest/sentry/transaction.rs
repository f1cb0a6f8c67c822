//! Sentry `transaction` events as spans: the transaction itself is one segment
//! (its `contexts.trace` holds its ids, op and status), each entry of its
//! `spans` array a child of it.
//!
//! Times are float seconds since the epoch or RFC 3339, as SDKs send either
//! (an end within a millisecond before its start is taken as the start). A
//! transaction without a status takes one from its HTTP response code, else
//! `unknown` (as Sentry's Relay does); children likewise.

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::{
    ingest::body,
    pipeline::clock::parse_timestamp,
    traces::span::{self, hex_id, http_status_of, SpanRecord, SpanStatus},
};

/// Sentry's name for a transaction sent without one.
const UNLABELED: &str = "<unlabeled transaction>";

/// Why a transaction cannot be stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct TransactionError(pub String);

/// Decodes the transaction items of one envelope into spans. Unreadable items
/// and unreadable child spans are skipped and counted in metrics, as Relay
/// drops them; they do not fail the envelope.
pub async fn decode(payloads: Vec<Bytes>, received: DateTime<Utc>) -> Vec<SpanRecord> {
    let bytes: usize = payloads.iter().map(Bytes::len).sum();
    body::parse(bytes, move || decode_all(&payloads, received))
        .await
        .unwrap_or_else(|error| {
            tracing::error!(error = %error, "decoding Sentry transactions failed");
            Vec::new()
        })
}

fn decode_all(payloads: &[Bytes], received: DateTime<Utc>) -> Vec<SpanRecord> {
    let mut spans = Vec::new();
    for payload in payloads {
        let read = serde_json::from_slice::<Value>(payload)
            .map_err(|e| TransactionError(format!("transaction is not valid JSON: {e}")))
            .and_then(|value| spans_of_transaction(&value, received));
        match read {
            Ok((read, refused)) => {
                spans.extend(read);
                if refused > 0 {
                    metrics::counter!("sentry_spans_refused_total").increment(refused as u64);
                }
            }
            Err(error) => {
                tracing::debug!(error = %error, "skipped an unreadable Sentry transaction");
                metrics::counter!("sentry_items_invalid_total", "type" => "transaction")
                    .increment(1);
            }
        }
    }
    spans
}

/// The spans of one transaction event, segment first, and how many child spans
/// were refused.
pub fn spans_of_transaction(
    event: &Value,
    received: DateTime<Utc>,
) -> Result<(Vec<SpanRecord>, usize), TransactionError> {
    let bad = |message: &str| TransactionError(message.to_string());
    let event = event
        .as_object()
        .ok_or_else(|| bad("a transaction must be a JSON object"))?;
    let trace = event
        .get("contexts")
        .and_then(|c| c.get("trace"))
        .and_then(Value::as_object)
        .ok_or_else(|| bad("contexts.trace: missing"))?;
    let trace_id = id_field(trace, "trace_id", 32)
        .ok_or_else(|| bad("contexts.trace.trace_id: expected 32 hex digits"))?;
    let span_id = id_field(trace, "span_id", 16)
        .ok_or_else(|| bad("contexts.trace.span_id: expected 16 hex digits"))?;
    let (start, end) = times(event, received).map_err(TransactionError)?;
    let transaction = text(event, "transaction")
        .filter(|t| !t.is_empty())
        .unwrap_or(UNLABELED)
        .to_string();
    let trace_data = object(trace, "data");
    let tags = tags(event.get("tags"));
    let http_status = event
        .get("contexts")
        .and_then(|c| c.get("response"))
        .and_then(|r| r.get("status_code"))
        .and_then(http_status_of)
        .or_else(|| http_status_in(&tags, &trace_data));
    let mut data = trace_data;
    if let Some(request) = event.get("request").and_then(Value::as_object) {
        for (from, to) in [("method", "http.request.method"), ("url", "url.full")] {
            if let Some(value) = request.get(from).filter(|v| v.is_string()) {
                data.insert(to.into(), value.clone());
            }
        }
    }
    for key in ["platform", "server_name"] {
        if let Some(value) = event.get(key).filter(|v| v.is_string()) {
            data.insert(key.into(), value.clone());
        }
    }
    if let Some(sdk) = event.get("sdk").and_then(|s| s.get("name")) {
        data.insert("sdk.name".into(), sdk.clone());
    }
    let mut segment = SpanRecord {
        event_id: text(event, "event_id").and_then(|id| hex_id(id, 32)),
        ts: start,
        trace_id: trace_id.clone(),
        span_id: span_id.clone(),
        parent_span_id: id_field(trace, "parent_span_id", 16),
        segment_id: Some(span_id.clone()),
        is_segment: true,
        transaction: transaction.clone(),
        op: text(trace, "op").unwrap_or_default().to_string(),
        name: text(trace, "description")
            .unwrap_or(&transaction)
            .to_string(),
        status: status(text(trace, "status"), http_status),
        duration_ms: span::duration_ms(start, end),
        service: String::new(),
        environment: text(event, "environment").unwrap_or_default().to_string(),
        release: text(event, "release").unwrap_or_default().to_string(),
        http_status,
        tags,
        data,
    };
    segment.sanitise().map_err(|e| TransactionError(e.0))?;
    let mut spans = vec![segment];
    let mut refused = 0;
    for child in event
        .get("spans")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        match child_of(child, &spans[0], received) {
            Some(span) => spans.push(span),
            None => refused += 1,
        }
    }
    Ok((spans, refused))
}

/// One entry of `spans`, or `None` when it cannot be stored.
fn child_of(value: &Value, segment: &SpanRecord, received: DateTime<Utc>) -> Option<SpanRecord> {
    let fields = value.as_object()?;
    let span_id = id_field(fields, "span_id", 16)?;
    if span_id == segment.span_id {
        return None;
    }
    let (start, end) = times(fields, received).ok()?;
    let tags = tags(fields.get("tags"));
    let data = object(fields, "data");
    let http_status = http_status_in(&tags, &data);
    let mut span = SpanRecord {
        event_id: None,
        ts: start,
        trace_id: id_field(fields, "trace_id", 32).unwrap_or_else(|| segment.trace_id.clone()),
        span_id,
        parent_span_id: Some(
            id_field(fields, "parent_span_id", 16).unwrap_or_else(|| segment.span_id.clone()),
        ),
        segment_id: Some(segment.span_id.clone()),
        is_segment: false,
        transaction: segment.transaction.clone(),
        op: text(fields, "op").unwrap_or_default().to_string(),
        name: text(fields, "description").unwrap_or_default().to_string(),
        status: status(text(fields, "status"), http_status),
        duration_ms: span::duration_ms(start, end),
        service: segment.service.clone(),
        environment: segment.environment.clone(),
        release: segment.release.clone(),
        http_status,
        tags,
        data,
    };
    span.sanitise().ok()?;
    Some(span)
}

/// `start_timestamp` and `timestamp` (the end).
fn times(
    fields: &Map<String, Value>,
    received: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let start = fields
        .get("start_timestamp")
        .and_then(time)
        .ok_or("start_timestamp: missing or not a time")?;
    // An end is required of a transaction; a child without one never finished.
    let end = fields
        .get("timestamp")
        .and_then(time)
        .ok_or("timestamp: missing or not a time")?;
    // SDKs send the start as float seconds and the end as RFC 3339: a span of
    // a few hundred nanoseconds may seem to end before it starts.
    let end = match end {
        end if end >= start => end,
        end if start - end <= chrono::Duration::milliseconds(1) => start,
        _ => return Err("timestamp: earlier than start_timestamp".into()),
    };
    if start > received + chrono::Duration::days(1) {
        return Err("start_timestamp: more than a day in the future".into());
    }
    Ok((start, end))
}

/// Float seconds (rounded to the microsecond, which an f64 of today's epoch
/// seconds still holds) or RFC 3339.
pub(super) fn time(value: &Value) -> Option<DateTime<Utc>> {
    let seconds = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        Some(s) if s.is_finite() && (0.0..1e11).contains(&s) => {
            DateTime::from_timestamp_micros((s * 1e6).round() as i64)
        }
        Some(_) => None,
        None => parse_timestamp(value),
    }
}

pub(super) fn status(given: Option<&str>, http_status: Option<i32>) -> SpanStatus {
    given
        .and_then(SpanStatus::from_name)
        .or_else(|| http_status.map(|code| SpanStatus::from_http(i64::from(code))))
        .unwrap_or(SpanStatus::Unknown)
}

/// `http.status_code` / `http.response.status_code` in tags or data.
pub(super) fn http_status_in(tags: &Map<String, Value>, data: &Map<String, Value>) -> Option<i32> {
    [
        "http.response.status_code",
        "http.status_code",
        "status_code",
    ]
    .iter()
    .find_map(|key| {
        tags.get(*key)
            .or_else(|| data.get(*key))
            .and_then(http_status_of)
    })
}

/// Tags as an object of strings; older SDKs send `[["key", "value"], ...]`.
fn tags(value: Option<&Value>) -> Map<String, Value> {
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(Value::String(s.clone())),
        Value::Null => None,
        other => Some(Value::String(other.to_string())),
    };
    match value {
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), as_text(v)?)))
            .collect(),
        Some(Value::Array(pairs)) => pairs
            .iter()
            .filter_map(|pair| match pair.as_array()?.as_slice() {
                [Value::String(k), v] => Some((k.clone(), as_text(v)?)),
                _ => None,
            })
            .collect(),
        _ => Map::new(),
    }
}

fn id_field(fields: &Map<String, Value>, key: &str, len: usize) -> Option<String> {
    fields
        .get(key)
        .and_then(Value::as_str)
        .and_then(|id| hex_id(id, len))
}

fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields.get(key).and_then(Value::as_str)
}

fn object(fields: &Map<String, Value>, key: &str) -> Map<String, Value> {
    match fields.get(key) {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn received() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
    }

    /// A transaction as the Rust and Python SDKs send it (trimmed).
    fn transaction() -> Value {
        json!({
            "event_id": "fc6d8c0c43fc4630ad850ee518f1b9d0",
            "type": "transaction",
            "transaction": "GET /users/{id}",
            "start_timestamp": 1_795_000_000.25,
            "timestamp": "2026-11-18T11:06:40.500Z",
            "release": "shop@1.0",
            "environment": "production",
            "platform": "python",
            "tags": {"region": "eu", "http.status_code": "404"},
            "request": {"method": "GET", "url": "http://shop/users/7"},
            "contexts": {"trace": {
                "trace_id": "771A43A4192642F0B136D5159A501700",
                "span_id": "a1b2c3d4e5f60718",
                "op": "http.server",
                "data": {"thread.name": "main"}
            }},
            "spans": [
                {"span_id": "0000000000000b01", "parent_span_id": "a1b2c3d4e5f60718",
                 "trace_id": "771a43a4192642f0b136d5159a501700", "op": "db.query",
                 "description": "select * from users where id = ?", "status": "ok",
                 "start_timestamp": 1_795_000_000.3, "timestamp": 1_795_000_000.4,
                 "data": {"db.system": "postgresql"}},
                {"span_id": "0000000000000b02", "op": "http.client",
                 "start_timestamp": 1_795_000_000.41, "timestamp": 1_795_000_000.45,
                 "data": {"http.response.status_code": 503}},
                {"span_id": "0000000000000b03", "start_timestamp": 1_795_000_000.41},
                {"span_id": "0000000000000b04", "start_timestamp": 1_795_000_000.4100004,
                 "timestamp": "2026-11-18T11:06:40.41Z"},
                {"span_id": "not hex", "start_timestamp": 1, "timestamp": 2}
            ]
        })
    }

    #[test]
    fn a_transaction_becomes_a_segment_and_its_children() {
        let (spans, refused) = spans_of_transaction(&transaction(), received()).unwrap();
        assert_eq!(refused, 2, "the unfinished span and the bad id");
        assert_eq!(spans.len(), 4);
        assert_eq!(spans[3].duration_ms, 0.0, "rounding, not time travel");
        let segment = &spans[0];
        assert!(segment.is_segment);
        assert_eq!(segment.trace_id, "771a43a4192642f0b136d5159a501700");
        assert_eq!(segment.segment_id.as_deref(), Some("a1b2c3d4e5f60718"));
        assert_eq!(segment.transaction, "GET /users/{id}");
        assert_eq!(segment.op, "http.server");
        assert_eq!(segment.duration_ms, 250.0);
        assert_eq!(segment.http_status, Some(404));
        assert_eq!(segment.status, SpanStatus::NotFound, "from the status code");
        assert_eq!(segment.release, "shop@1.0");
        assert_eq!(segment.tags["region"], "eu");
        assert_eq!(segment.data["http.request.method"], "GET");
        assert_eq!(segment.data["thread.name"], "main");

        let query = &spans[1];
        assert!(!query.is_segment);
        assert_eq!(query.parent_span_id.as_deref(), Some("a1b2c3d4e5f60718"));
        assert_eq!(query.segment_id.as_deref(), Some("a1b2c3d4e5f60718"));
        assert_eq!(query.transaction, "GET /users/{id}");
        assert_eq!(query.name, "select * from users where id = ?");
        assert!((query.duration_ms - 100.0).abs() < 0.01);
        assert_eq!(query.environment, "production");
        let call = &spans[2];
        assert_eq!(call.status, SpanStatus::Unavailable);
        assert_eq!(call.parent_span_id.as_deref(), Some("a1b2c3d4e5f60718"));
    }

    #[test]
    fn a_transaction_without_ids_or_times_is_refused() {
        let mut event = transaction();
        event["contexts"]["trace"]["trace_id"] = json!("short");
        assert!(spans_of_transaction(&event, received()).is_err());
        let mut event = transaction();
        event["timestamp"] = json!(1_700_000_000);
        assert!(spans_of_transaction(&event, received())
            .unwrap_err()
            .0
            .contains("earlier"));
        let mut event = transaction();
        event.as_object_mut().unwrap().remove("start_timestamp");
        assert!(spans_of_transaction(&event, received()).is_err());
        let mut event = transaction();
        event.as_object_mut().unwrap().remove("transaction");
        event["tags"] = json!([["region", "us"]]);
        let (spans, _) = spans_of_transaction(&event, received()).unwrap();
        assert_eq!(spans[0].transaction, UNLABELED);
        assert_eq!(spans[0].tags["region"], "us");
        assert_eq!(spans[0].status, SpanStatus::Unknown);
    }

    #[tokio::test]
    async fn unreadable_items_are_skipped() {
        let payloads = vec![
            Bytes::from_static(b"not json"),
            Bytes::from(transaction().to_string()),
        ];
        assert_eq!(decode(payloads, received()).await.len(), 4);
    }
}
