//! `span` items of the span v2 protocol (`content_type:
//! application/vnd.sentry.items.span.v2+json`), which the current JavaScript
//! SDKs (`@sentry/node`, `@sentry/browser` 11) send instead of transactions:
//! `{"version":2,"items":[{name, span_id, trace_id, parent_span_id,
//! start_timestamp, end_timestamp, is_segment, status, attributes}, ...]}`,
//! attributes typed as `{"value": ..., "type": ...}`.
//!
//! A span with `is_segment` is a segment (one transaction) named by its `name`;
//! every span takes its transaction from `sentry.segment.name` (else the
//! envelope header's `trace.transaction`) and its segment from
//! `sentry.segment.id`. `sentry.op`, `sentry.release` and `sentry.environment`
//! fill the columns transactions fill; the other attributes are the span's
//! data. Status `error` is a failure (`internal_error`) unless an HTTP status
//! code says which.
//!
//! SDKs send a segment's children as they end, in envelopes of their own, so
//! each span is deduplicated on its own (a retried envelope stores nothing
//! twice): its dedup key is its span id followed by the first half of its
//! trace id.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::transaction::{http_status_in, status, time};
use crate::traces::span::{self, hex_id, SpanRecord, SpanStatus};

/// The item header's content type of span v2 containers.
pub const CONTENT_TYPE: &str = "application/vnd.sentry.items.span.v2+json";

/// Attributes that fill a column rather than the span's data.
const PROMOTED: [&str; 6] = [
    "sentry.op",
    "sentry.release",
    "sentry.environment",
    "sentry.segment.name",
    "sentry.segment.id",
    "service.name",
];
/// Attributes dropped: the SDK's list of integrations repeats on every segment.
const DROPPED: [&str; 1] = ["sentry.sdk.integrations"];

/// The envelope header's `trace` (dynamic sampling context), whose
/// `transaction`, `release` and `environment` fill in what a span omits.
#[derive(Debug, Clone, Default)]
pub struct TraceHeader {
    pub transaction: Option<String>,
    pub release: Option<String>,
    pub environment: Option<String>,
}

impl TraceHeader {
    /// The strings of a header's `trace` object (anything else is ignored: a
    /// header a client filled oddly must not cost it its spans).
    pub fn of(trace: Option<&Value>) -> TraceHeader {
        let text = |key: &str| {
            trace
                .and_then(|t| t.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        TraceHeader {
            transaction: text("transaction"),
            release: text("release"),
            environment: text("environment"),
        }
    }
}

#[derive(Deserialize)]
struct Container {
    version: Option<u32>,
    items: Vec<Value>,
}

/// The spans of one container, and how many of its spans were refused.
pub fn spans_of_container(
    payload: &[u8],
    trace: &TraceHeader,
    received: DateTime<Utc>,
) -> Result<(Vec<SpanRecord>, usize), String> {
    let container: Container = serde_json::from_slice(payload)
        .map_err(|e| format!("span container is not {{\"version\":2,\"items\":[...]}}: {e}"))?;
    if container.version.is_some_and(|v| v != 2) {
        return Err(format!(
            "span container version {:?}: only version 2 is read",
            container.version
        ));
    }
    let mut spans = Vec::with_capacity(container.items.len());
    let mut refused = 0;
    for item in &container.items {
        match span_of(item, trace, received) {
            Ok(span) => spans.push(span),
            Err(error) => {
                tracing::debug!(error = %error, "refused a Sentry v2 span");
                refused += 1;
            }
        }
    }
    Ok((spans, refused))
}

/// One span of a container.
fn span_of(
    value: &Value,
    trace: &TraceHeader,
    received: DateTime<Utc>,
) -> Result<SpanRecord, String> {
    let fields = value.as_object().ok_or("a span must be a JSON object")?;
    let id = |key: &str, len: usize| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .and_then(|id| hex_id(id, len))
    };
    let trace_id = id("trace_id", 32).ok_or("trace_id: expected 32 hex digits")?;
    let span_id = id("span_id", 16).ok_or("span_id: expected 16 hex digits")?;
    let start = fields
        .get("start_timestamp")
        .and_then(time)
        .ok_or("start_timestamp: missing or not a time")?;
    let end = fields
        .get("end_timestamp")
        .and_then(time)
        .ok_or("end_timestamp: missing or not a time")?;
    if end < start {
        return Err("end_timestamp: earlier than start_timestamp".into());
    }
    if start > received + chrono::Duration::days(1) {
        return Err("start_timestamp: more than a day in the future".into());
    }
    let is_segment = fields.get("is_segment").and_then(Value::as_bool) == Some(true);
    let name = fields
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();

    let mut data = attributes(fields.get("attributes"));
    let mut take = |key: &str| match data.remove(key) {
        Some(Value::String(text)) => Some(text),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let op = take("sentry.op").unwrap_or_default();
    let release = take("sentry.release").or_else(|| trace.release.clone());
    let environment = take("sentry.environment").or_else(|| trace.environment.clone());
    let segment_name = take("sentry.segment.name");
    let segment_id = take("sentry.segment.id").and_then(|id| hex_id(&id, 16));
    let service = take("service.name").unwrap_or_default();
    for key in PROMOTED.iter().chain(&DROPPED) {
        data.remove(*key);
    }

    let transaction = if is_segment && !name.is_empty() {
        name.clone()
    } else {
        segment_name
            .or_else(|| trace.transaction.clone())
            .unwrap_or_default()
    };
    let tags = Map::new();
    let http_status = http_status_in(&tags, &data);
    let given = fields.get("status").and_then(Value::as_str);
    let status = match given {
        // v2 knows only `ok` and `error`; an HTTP code says which error.
        Some("error") => http_status
            .map(|code| SpanStatus::from_http(i64::from(code)))
            .filter(|s| s.is_failure())
            .unwrap_or(SpanStatus::InternalError),
        other => status(other, http_status),
    };
    let mut record = SpanRecord {
        event_id: Some(format!("{span_id}{}", &trace_id[..16])),
        ts: start,
        parent_span_id: id("parent_span_id", 16),
        segment_id: if is_segment {
            Some(span_id.clone())
        } else {
            segment_id
        },
        is_segment,
        transaction,
        op,
        name,
        status,
        duration_ms: span::duration_ms(start, end),
        service,
        environment: environment.unwrap_or_default(),
        release: release.unwrap_or_default(),
        http_status,
        tags,
        data,
        trace_id,
        span_id,
    };
    record.sanitise().map_err(|e| e.0)?;
    Ok(record)
}

/// Typed attributes (`{"key": {"value": v, "type": t}}`) as plain values.
fn attributes(value: Option<&Value>) -> Map<String, Value> {
    let Some(Value::Object(attributes)) = value else {
        return Map::new();
    };
    attributes
        .iter()
        .filter_map(|(key, typed)| {
            let value = match typed {
                Value::Object(typed) => typed.get("value")?.clone(),
                // Tolerate an untyped value.
                plain => plain.clone(),
            };
            (!value.is_null()).then(|| (key.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn received() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 4, 30, 0).unwrap()
    }

    fn attr(value: Value, kind: &str) -> Value {
        json!({"value": value, "type": kind})
    }

    /// Two spans as `@sentry/node` 11.12 sends them (trimmed).
    fn container() -> Value {
        json!({"version": 2, "items": [
            {"name": "select cart", "span_id": "abfa0ab7f090fed8",
             "trace_id": "1febee1a2cb1455f909c57e19428c41b", "parent_span_id": "a73d9d1219e63a39",
             "start_timestamp": 1_796_358_605.551_660_3, "end_timestamp": 1_796_358_605.571_974,
             "is_segment": false, "status": "ok",
             "attributes": {
                "sentry.op": attr(json!("db"), "string"),
                "sentry.segment.name": attr(json!("GET /checkout"), "string"),
                "sentry.segment.id": attr(json!("a73d9d1219e63a39"), "string"),
                "sentry.release": attr(json!("node-shop@3.1.0"), "string"),
                "sentry.environment": attr(json!("staging"), "string"),
                "sentry.is_localhost": attr(json!(false), "boolean")}},
            {"name": "GET /checkout", "span_id": "a73d9d1219e63a39",
             "trace_id": "1febee1a2cb1455f909c57e19428c41b",
             "start_timestamp": 1_796_358_605.550_790_5, "end_timestamp": 1_796_358_605.576_608_4,
             "is_segment": true, "status": "error",
             "attributes": {
                "sentry.op": attr(json!("http.server"), "string"),
                "sentry.segment.name": attr(json!("GET /checkout"), "string"),
                "sentry.release": attr(json!("node-shop@3.1.0"), "string"),
                "sentry.environment": attr(json!("staging"), "string"),
                "sentry.sdk.integrations": attr(json!(["Http"]), "array"),
                "http.response.status_code": attr(json!(503), "integer"),
                "device.processor_count": attr(json!(2), "integer")}},
            {"name": "unfinished", "span_id": "0000000000000c01",
             "trace_id": "1febee1a2cb1455f909c57e19428c41b", "start_timestamp": 1_796_358_605.5},
            "not a span"
        ]})
    }

    #[test]
    fn a_container_becomes_a_segment_and_its_children() {
        let payload = container().to_string();
        let (spans, refused) =
            spans_of_container(payload.as_bytes(), &TraceHeader::default(), received()).unwrap();
        assert_eq!(refused, 2, "the unfinished span and the string");
        let (child, segment) = (&spans[0], &spans[1]);

        assert!(segment.is_segment);
        assert_eq!(segment.transaction, "GET /checkout");
        assert_eq!(segment.segment_id.as_deref(), Some("a73d9d1219e63a39"));
        assert_eq!(segment.op, "http.server");
        assert_eq!(segment.release, "node-shop@3.1.0");
        assert_eq!(segment.environment, "staging");
        assert_eq!(segment.http_status, Some(503));
        assert_eq!(
            segment.status,
            SpanStatus::Unavailable,
            "error, told by its code"
        );
        assert!(
            (segment.duration_ms - 25.818).abs() < 0.01,
            "{}",
            segment.duration_ms
        );
        assert_eq!(segment.data["device.processor_count"], 2);
        assert!(
            !segment.data.contains_key("sentry.op"),
            "promoted to a column"
        );
        assert!(!segment.data.contains_key("sentry.sdk.integrations"));
        assert_eq!(
            segment.event_id.as_deref(),
            Some("a73d9d1219e63a391febee1a2cb1455f")
        );

        assert!(!child.is_segment);
        assert_eq!(child.transaction, "GET /checkout");
        assert_eq!(child.segment_id.as_deref(), Some("a73d9d1219e63a39"));
        assert_eq!(child.parent_span_id.as_deref(), Some("a73d9d1219e63a39"));
        assert_eq!(child.op, "db");
        assert_eq!(child.name, "select cart");
        assert_eq!(child.status, SpanStatus::Ok);
        assert_eq!(child.data["sentry.is_localhost"], false);
    }

    #[test]
    fn the_envelope_header_names_what_a_span_omits() {
        let payload = json!({"version": 2, "items": [
            {"name": "fetch prices", "span_id": "0000000000000d01",
             "trace_id": "2febee1a2cb1455f909c57e19428c41b",
             "start_timestamp": 1_796_358_605.0, "end_timestamp": 1_796_358_605.5,
             "status": "error"}]})
        .to_string();
        let trace = TraceHeader {
            transaction: Some("/pricing".into()),
            release: Some("web@1".into()),
            environment: Some("production".into()),
        };
        let (spans, refused) = spans_of_container(payload.as_bytes(), &trace, received()).unwrap();
        assert_eq!(refused, 0);
        assert_eq!(spans[0].transaction, "/pricing");
        assert_eq!(spans[0].release, "web@1");
        assert_eq!(spans[0].environment, "production");
        assert_eq!(spans[0].status, SpanStatus::InternalError);
        assert_eq!(spans[0].duration_ms, 500.0);
    }

    #[test]
    fn a_container_of_another_shape_is_refused() {
        let trace = TraceHeader::default();
        for bad in [
            r#"{"items": 3}"#,
            r#"{"version": 3, "items": []}"#,
            "not json",
        ] {
            assert!(
                spans_of_container(bad.as_bytes(), &trace, received()).is_err(),
                "{bad}"
            );
        }
    }
}
