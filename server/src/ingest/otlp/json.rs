//! OTLP/JSON (logs and traces) into the same structs as protobuf. The JSON mapping of OTLP uses
//! lowerCamelCase names (snake_case is accepted too), 64-bit integers as strings
//! or numbers, and hex (not base64) for trace and span ids.

use serde_json::{Map, Value};

use super::proto::{
    any_value, AnyValue, ArrayValue, ExportLogsServiceRequest, ExportTraceServiceRequest,
    InstrumentationScope, KeyValue, KeyValueList, LogRecord, Resource, ResourceLogs, ResourceSpans,
    ScopeLogs, ScopeSpans, Span, SpanKind, SpanStatus,
};

/// Decodes an OTLP/JSON logs request; the error says what is malformed.
pub fn decode(body: &[u8]) -> Result<ExportLogsServiceRequest, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let object = value.as_object().ok_or("expected a JSON object")?;
    Ok(ExportLogsServiceRequest {
        resource_logs: list(object, "resourceLogs", "resource_logs")?
            .iter()
            .map(resource_logs)
            .collect::<Result<_, _>>()?,
    })
}

pub(super) fn field<'a>(
    object: &'a Map<String, Value>,
    camel: &str,
    snake: &str,
) -> Option<&'a Value> {
    object
        .get(camel)
        .or_else(|| object.get(snake))
        .filter(|v| !v.is_null())
}

pub(super) fn list<'a>(
    object: &'a Map<String, Value>,
    camel: &str,
    snake: &str,
) -> Result<&'a [Value], String> {
    match field(object, camel, snake) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{camel}: expected an array")),
    }
}

pub(super) fn object_of<'a>(
    value: &'a Value,
    what: &str,
) -> Result<&'a Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{what}: expected an object"))
}

pub(super) fn text(object: &Map<String, Value>, camel: &str, snake: &str) -> String {
    field(object, camel, snake)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Decodes an OTLP/JSON traces request; the error says what is malformed.
pub fn decode_traces(body: &[u8]) -> Result<ExportTraceServiceRequest, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let object = value.as_object().ok_or("expected a JSON object")?;
    Ok(ExportTraceServiceRequest {
        resource_spans: list(object, "resourceSpans", "resource_spans")?
            .iter()
            .map(resource_spans)
            .collect::<Result<_, _>>()?,
    })
}

fn resource(object: &Map<String, Value>) -> Result<Option<Resource>, String> {
    Ok(match field(object, "resource", "resource") {
        Some(r) => Some(Resource {
            attributes: key_values(list(object_of(r, "resource")?, "attributes", "attributes")?)?,
        }),
        None => None,
    })
}

fn scope(object: &Map<String, Value>) -> Result<Option<InstrumentationScope>, String> {
    Ok(match field(object, "scope", "scope") {
        Some(s) => {
            let s = object_of(s, "scope")?;
            Some(InstrumentationScope {
                name: text(s, "name", "name"),
                version: text(s, "version", "version"),
                attributes: key_values(list(s, "attributes", "attributes")?)?,
            })
        }
        None => None,
    })
}

fn resource_spans(value: &Value) -> Result<ResourceSpans, String> {
    let object = object_of(value, "resourceSpans")?;
    Ok(ResourceSpans {
        resource: resource(object)?,
        scope_spans: list(object, "scopeSpans", "scope_spans")?
            .iter()
            .map(|value| {
                let object = object_of(value, "scopeSpans")?;
                Ok(ScopeSpans {
                    scope: scope(object)?,
                    spans: list(object, "spans", "spans")?
                        .iter()
                        .map(span)
                        .collect::<Result<_, String>>()?,
                })
            })
            .collect::<Result<_, String>>()?,
    })
}

fn span(value: &Value) -> Result<Span, String> {
    let object = object_of(value, "spans")?;
    let status = match field(object, "status", "status") {
        Some(s) => {
            let s = object_of(s, "status")?;
            Some(SpanStatus {
                message: text(s, "message", "message"),
                code: enumeration(
                    field(s, "code", "code"),
                    "code",
                    "STATUS_CODE_",
                    &["UNSET", "OK", "ERROR"],
                )?,
            })
        }
        None => None,
    };
    Ok(Span {
        trace_id: hex_id(field(object, "traceId", "trace_id"), "traceId")?,
        span_id: hex_id(field(object, "spanId", "span_id"), "spanId")?,
        parent_span_id: hex_id(
            field(object, "parentSpanId", "parent_span_id"),
            "parentSpanId",
        )?,
        flags: u32::try_from(unsigned(field(object, "flags", "flags"), "flags")?)
            .map_err(|_| "flags: expected a 32-bit number".to_string())?,
        name: text(object, "name", "name"),
        kind: enumeration(
            field(object, "kind", "kind"),
            "kind",
            "SPAN_KIND_",
            &[
                "UNSPECIFIED",
                "INTERNAL",
                "SERVER",
                "CLIENT",
                "PRODUCER",
                "CONSUMER",
            ],
        )
        .and_then(|kind| {
            SpanKind::try_from(kind)
                .map(|k| k as i32)
                .map_err(|_| format!("kind: unknown `{kind}`"))
        })?,
        start_time_unix_nano: unsigned(
            field(object, "startTimeUnixNano", "start_time_unix_nano"),
            "startTimeUnixNano",
        )?,
        end_time_unix_nano: unsigned(
            field(object, "endTimeUnixNano", "end_time_unix_nano"),
            "endTimeUnixNano",
        )?,
        attributes: key_values(list(object, "attributes", "attributes")?)?,
        status,
    })
}

/// An enum given as its number or its name (`SPAN_KIND_SERVER` or `SERVER`).
fn enumeration(
    value: Option<&Value>,
    name: &str,
    prefix: &str,
    names: &[&str],
) -> Result<i32, String> {
    match value {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("{name}: expected an integer")),
        Some(Value::String(s)) => {
            let short = s.trim_start_matches(prefix);
            names
                .iter()
                .position(|n| *n == short)
                .map(|i| i as i32)
                .ok_or_else(|| format!("{name}: unknown `{s}`"))
        }
        Some(_) => Err(format!("{name}: expected a number or a name")),
    }
}

fn resource_logs(value: &Value) -> Result<ResourceLogs, String> {
    let object = object_of(value, "resourceLogs")?;
    let resource = resource(object)?;
    Ok(ResourceLogs {
        resource,
        scope_logs: list(object, "scopeLogs", "scope_logs")?
            .iter()
            .map(scope_logs)
            .collect::<Result<_, _>>()?,
    })
}

fn scope_logs(value: &Value) -> Result<ScopeLogs, String> {
    let object = object_of(value, "scopeLogs")?;
    Ok(ScopeLogs {
        scope: scope(object)?,
        log_records: list(object, "logRecords", "log_records")?
            .iter()
            .map(log_record)
            .collect::<Result<_, _>>()?,
    })
}

fn log_record(value: &Value) -> Result<LogRecord, String> {
    let object = object_of(value, "logRecords")?;
    Ok(LogRecord {
        time_unix_nano: unsigned(
            field(object, "timeUnixNano", "time_unix_nano"),
            "timeUnixNano",
        )?,
        observed_time_unix_nano: unsigned(
            field(object, "observedTimeUnixNano", "observed_time_unix_nano"),
            "observedTimeUnixNano",
        )?,
        severity_number: severity(field(object, "severityNumber", "severity_number"))?,
        severity_text: text(object, "severityText", "severity_text"),
        body: field(object, "body", "body").map(any_value).transpose()?,
        attributes: key_values(list(object, "attributes", "attributes")?)?,
        trace_id: hex_id(field(object, "traceId", "trace_id"), "traceId")?,
        span_id: hex_id(field(object, "spanId", "span_id"), "spanId")?,
        event_name: text(object, "eventName", "event_name"),
    })
}

fn key_values(items: &[Value]) -> Result<Vec<KeyValue>, String> {
    items
        .iter()
        .map(|item| {
            let object = object_of(item, "attributes")?;
            Ok(KeyValue {
                key: text(object, "key", "key"),
                value: field(object, "value", "value").map(any_value).transpose()?,
            })
        })
        .collect()
}

fn any_value(value: &Value) -> Result<AnyValue, String> {
    let object = object_of(value, "value")?;
    let inner = if let Some(v) = field(object, "stringValue", "string_value") {
        any_value::Value::StringValue(v.as_str().unwrap_or_default().to_string())
    } else if let Some(v) = field(object, "boolValue", "bool_value") {
        any_value::Value::BoolValue(v.as_bool().unwrap_or_default())
    } else if let Some(v) = field(object, "intValue", "int_value") {
        any_value::Value::IntValue(integer(v).ok_or("intValue: expected an integer")?)
    } else if let Some(v) = field(object, "doubleValue", "double_value") {
        any_value::Value::DoubleValue(v.as_f64().ok_or("doubleValue: expected a number")?)
    } else if let Some(v) = field(object, "arrayValue", "array_value") {
        any_value::Value::ArrayValue(ArrayValue {
            values: list(object_of(v, "arrayValue")?, "values", "values")?
                .iter()
                .map(any_value)
                .collect::<Result<_, _>>()?,
        })
    } else if let Some(v) = field(object, "kvlistValue", "kvlist_value") {
        any_value::Value::KvlistValue(KeyValueList {
            values: key_values(list(object_of(v, "kvlistValue")?, "values", "values")?)?,
        })
    } else if let Some(v) = field(object, "bytesValue", "bytes_value") {
        use base64::Engine;
        let text = v.as_str().unwrap_or_default();
        any_value::Value::BytesValue(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| "bytesValue: expected base64")?,
        )
    } else {
        return Ok(AnyValue { value: None });
    };
    Ok(AnyValue { value: Some(inner) })
}

pub(super) fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(super) fn unsigned(value: Option<&Value>, name: &str) -> Result<u64, String> {
    match value {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| format!("{name}: expected a non-negative integer")),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| format!("{name}: expected an integer")),
        Some(_) => Err(format!("{name}: expected an integer")),
    }
}

/// Severity numbers may come as numbers or as enum names (`SEVERITY_NUMBER_WARN`).
fn severity(value: Option<&Value>) -> Result<i32, String> {
    const NAMES: [&str; 24] = [
        "TRACE", "TRACE2", "TRACE3", "TRACE4", "DEBUG", "DEBUG2", "DEBUG3", "DEBUG4", "INFO",
        "INFO2", "INFO3", "INFO4", "WARN", "WARN2", "WARN3", "WARN4", "ERROR", "ERROR2", "ERROR3",
        "ERROR4", "FATAL", "FATAL2", "FATAL3", "FATAL4",
    ];
    match value {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| "severityNumber: expected an integer".to_string()),
        Some(Value::String(s)) => {
            let name = s.trim_start_matches("SEVERITY_NUMBER_");
            NAMES
                .iter()
                .position(|n| *n == name)
                .map(|i| i as i32 + 1)
                .or_else(|| (name == "UNSPECIFIED").then_some(0))
                .ok_or_else(|| format!("severityNumber: unknown `{s}`"))
        }
        Some(_) => Err("severityNumber: expected a number".into()),
    }
}

fn hex_id(value: Option<&Value>, name: &str) -> Result<Vec<u8>, String> {
    let Some(text) = value.and_then(Value::as_str).filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    hex::decode(text).map_err(|_| format!("{name}: expected hex"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_otlp_json_mapping_decodes() {
        let body = br#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
          "scopeLogs":[{"scope":{"name":"app.logger","version":"1.0"},"logRecords":[{"timeUnixNano":"1764151200000000000",
          "severityNumber":"SEVERITY_NUMBER_WARN","severityText":"WARN","body":{"stringValue":"slow"},
          "attributes":[{"key":"http.status","value":{"intValue":"503"}}],"traceId":"5b8efff798038103d269b633813fc60c",
          "spanId":"eee19b7ec3c1b174"}]}]}]}"#;
        let request = decode(body).unwrap();
        let record = &request.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(record.time_unix_nano, 1_764_151_200_000_000_000);
        assert_eq!(record.severity_number, 13);
        assert_eq!(record.trace_id.len(), 16);
        assert_eq!(
            record.attributes[0].value,
            Some(AnyValue {
                value: Some(any_value::Value::IntValue(503))
            })
        );
        assert!(decode(b"[]").is_err());
        let traces = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
          "spanId":"eee19b7ec3c1b174","parentSpanId":"","name":"GET /","kind":"SPAN_KIND_SERVER","flags":256,
          "startTimeUnixNano":"1764151200000000000","endTimeUnixNano":1764151200250000000,
          "status":{"code":"STATUS_CODE_ERROR","message":"boom"}}]}]}]}"#;
        let request = decode_traces(traces).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.kind, SpanKind::Server as i32);
        assert_eq!(
            span.end_time_unix_nano - span.start_time_unix_nano,
            250_000_000
        );
        assert_eq!(span.status.as_ref().map(|s| s.code), Some(2));
        assert!(span.parent_span_id.is_empty());
        assert!(decode_traces(
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SIDEWAYS"}]}]}]}"#
        )
        .is_err());
        assert!(
            decode(br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}"#)
                .is_err()
        );
    }
}
