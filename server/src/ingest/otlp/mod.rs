//! OpenTelemetry OTLP/HTTP logs: `POST /v1/logs`, protobuf
//! (`application/x-protobuf`) or JSON (`application/json`), optionally gzip;
//! traces, `POST /v1/traces`, the same way ([`traces`]); and metrics,
//! `POST /v1/metrics` ([`metrics`], as Prometheus series: [`to_prometheus`]).
//!
//! Resource and scope attributes are kept on every line (flat, by their OTLP
//! names, e.g. `service.namespace`, plus `otel.scope.name`/`otel.scope.version`);
//! `service.name` becomes the service and `host.name` the host; the severity
//! number (or text) becomes the level; trace and span ids are kept as hex. Lines
//! that cannot be stored are counted in `partialSuccess`, the rest are stored.

mod json;
mod metrics;
pub mod metrics_proto;
pub mod proto;
pub mod spans;
pub mod to_prometheus;
mod traces;

use axum::{
    body::Body,
    extract::{FromRequestParts, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use prost::Message;
use serde_json::{Map, Value};

use super::{
    auth,
    body::{self, BodyLimits},
    decoded::Decoded,
};
use crate::{
    http::error::ApiError,
    logs::{level::Level, record::LogRecord, writer::MAX_RECORDS_PER_JOB},
    AppState,
};
use proto::{any_value, AnyValue, ExportLogsPartialSuccess, ExportLogsServiceResponse, KeyValue};

/// Body limits of `/v1/logs`.
pub const LIMITS: BodyLimits = BodyLimits {
    wire: 16 * 1024 * 1024,
    decoded: 64 * 1024 * 1024,
};

/// `POST /v1/logs` and `POST /v1/traces`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/logs", post(export_logs))
        .route("/v1/traces", post(traces::export_traces))
        .route("/v1/metrics", post(metrics::export_metrics))
}

/// How the client spoke, so errors and answers use the same encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

/// The encoding `Content-Type` names, or why it names none (a 415).
fn encoding_of(headers: &axum::http::HeaderMap) -> Result<Encoding, String> {
    match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        Some(t) if t.starts_with("application/json") => Ok(Encoding::Json),
        Some(t)
            if t.starts_with("application/x-protobuf") || t.starts_with("application/protobuf") =>
        {
            Ok(Encoding::Protobuf)
        }
        other => Err(format!(
            "Content-Type {}: use application/x-protobuf or application/json",
            other.unwrap_or("missing")
        )),
    }
}

/// What every OTLP export request starts with: its encoding (from
/// `Content-Type`) and its project (from the ingest key). A refusal is already
/// answered in the encoding the client speaks.
struct Export {
    key: auth::IngestKey,
    encoding: Encoding,
    headers: axum::http::HeaderMap,
    body: Body,
}

async fn accept(state: &AppState, request: Request) -> Result<Export, Response> {
    let (mut parts, body) = request.into_parts();
    let encoding = encoding_of(&parts.headers)
        .map_err(|message| failure(Encoding::Json, StatusCode::UNSUPPORTED_MEDIA_TYPE, &message))?;
    let key = auth::IngestKey::from_request_parts(&mut parts, state)
        .await
        .map_err(|error| api_failure(encoding, error))?;
    Ok(Export {
        key,
        encoding,
        headers: parts.headers,
        body,
    })
}

async fn export_logs(State(state): State<AppState>, request: Request) -> Response {
    serve(state, request, ingest).await
}

/// What every OTLP endpoint does around its own `ingest`: authenticate and
/// read the request ([`accept`]), then answer a failure in the request's
/// encoding.
async fn serve<F, Fut>(state: AppState, request: Request, ingest: F) -> Response
where
    F: FnOnce(AppState, Export) -> Fut,
    Fut: std::future::Future<Output = Result<Response, ApiError>>,
{
    let export = match accept(&state, request).await {
        Ok(export) => export,
        Err(refusal) => return refusal,
    };
    let encoding = export.encoding;
    ingest(state, export)
        .await
        .unwrap_or_else(|error| api_failure(encoding, error))
}

async fn ingest(state: AppState, export: Export) -> Result<Response, ApiError> {
    let (state, headers) = (&state, &export.headers);
    let (key, encoding, body) = (&export.key, export.encoding, export.body);
    let bytes = body::read(&state.decode, headers, body, LIMITS).await?;
    let request = match encoding {
        Encoding::Protobuf => {
            proto::ExportLogsServiceRequest::decode(bytes.as_ref()).map_err(|e| {
                ApiError::BadRequest(format!("not an OTLP ExportLogsServiceRequest: {e}"))
            })?
        }
        Encoding::Json => json::decode(&bytes).map_err(ApiError::BadRequest)?,
    };
    let decoded = records_of(request, Utc::now())?;
    let (rejected, first_error) = (decoded.refused_i64(), decoded.first_refusal);
    let records = decoded.records;
    key.deliver(state, &state.logs, records).await?;
    let partial_success = (rejected > 0).then_some(ExportLogsPartialSuccess {
        rejected_log_records: rejected,
        error_message: first_error.unwrap_or_default(),
    });
    Ok(answer(
        encoding,
        ExportLogsServiceResponse { partial_success },
    ))
}

/// The lines of a request, the number refused and the first reason.
fn records_of(
    request: proto::ExportLogsServiceRequest,
    received: DateTime<Utc>,
) -> Result<Decoded<LogRecord>, ApiError> {
    let total: usize = request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    if total > MAX_RECORDS_PER_JOB {
        return Err(ApiError::Rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("more than {MAX_RECORDS_PER_JOB} log records in one request"),
        ));
    }
    let mut decoded = Decoded {
        records: Vec::with_capacity(total),
        ..Decoded::default()
    };
    for resource_logs in request.resource_logs {
        let resource = resource_logs
            .resource
            .map(|r| r.attributes)
            .unwrap_or_default();
        let mut base = Map::new();
        insert_all(&mut base, &resource);
        let service = text_attribute(&resource, "service.name");
        let host = text_attribute(&resource, "host.name");
        for scope_logs in resource_logs.scope_logs {
            let mut scoped = base.clone();
            if let Some(scope) = &scope_logs.scope {
                insert_all(&mut scoped, &scope.attributes);
                if !scope.name.is_empty() {
                    scoped.insert("otel.scope.name".into(), Value::String(scope.name.clone()));
                }
                if !scope.version.is_empty() {
                    scoped.insert(
                        "otel.scope.version".into(),
                        Value::String(scope.version.clone()),
                    );
                }
            }
            for log in scope_logs.log_records {
                let mut record = record_of(log, &scoped, received);
                record.service.clone_from(&service);
                record.host.clone_from(&host);
                match record.sanitise() {
                    Ok(()) => decoded.records.push(record),
                    Err(error) => decoded.refuse(1, || error.0),
                }
            }
        }
    }
    Ok(decoded)
}

fn record_of(
    log: proto::LogRecord,
    scoped: &Map<String, Value>,
    received: DateTime<Utc>,
) -> LogRecord {
    let nanos = if log.time_unix_nano > 0 {
        log.time_unix_nano
    } else {
        log.observed_time_unix_nano
    };
    let ts = i64::try_from(nanos)
        .ok()
        .filter(|n| *n > 0)
        .map_or(received, |n| Utc.timestamp_nanos(n));
    let level = Level::from_otlp(i64::from(log.severity_number))
        .or_else(|| Level::from_name(&log.severity_text))
        .unwrap_or(Level::Info);
    let message = match log.body.map(json_of) {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let mut attributes = scoped.clone();
    insert_all(&mut attributes, &log.attributes);
    if !log.event_name.is_empty() {
        attributes.insert("event.name".into(), Value::String(log.event_name));
    }
    let id = |bytes: Vec<u8>| {
        (!bytes.is_empty() && bytes.iter().any(|b| *b != 0)).then(|| hex::encode(bytes))
    };
    LogRecord {
        ts,
        level,
        service: String::new(),
        host: String::new(),
        message,
        trace_id: id(log.trace_id),
        span_id: id(log.span_id),
        attributes: attributes.into(),
    }
}

/// Adds OTLP attributes to `map` as JSON, by their keys.
pub(crate) fn insert_all(map: &mut Map<String, Value>, attributes: &[KeyValue]) {
    for kv in attributes {
        map.insert(
            kv.key.clone(),
            kv.value.clone().map_or(Value::Null, json_of),
        );
    }
}

/// A string attribute's value, or empty.
pub(crate) fn text_attribute(attributes: &[KeyValue], key: &str) -> String {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// An OTLP value as JSON: scalars as themselves, arrays and key-value lists as
/// arrays and objects, bytes as base64.
pub(crate) fn json_of(value: AnyValue) -> Value {
    match value.value {
        None => Value::Null,
        Some(any_value::Value::StringValue(s)) => Value::String(s),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(b),
        Some(any_value::Value::IntValue(i)) => Value::from(i),
        Some(any_value::Value::DoubleValue(d)) => {
            serde_json::Number::from_f64(d).map_or(Value::Null, Value::Number)
        }
        Some(any_value::Value::ArrayValue(a)) => {
            Value::Array(a.values.into_iter().map(json_of).collect())
        }
        Some(any_value::Value::KvlistValue(list)) => {
            let mut map = Map::new();
            insert_all(&mut map, &list.values);
            Value::Object(map)
        }
        Some(any_value::Value::BytesValue(b)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
    }
}

/// An export's success answer (`Export*ServiceResponse`) in the client's
/// encoding: protobuf, or OTLP/JSON (`{}` when all was stored).
fn answer<M: Message + serde::Serialize>(encoding: Encoding, response: M) -> Response {
    match encoding {
        Encoding::Protobuf => (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            response.encode_to_vec(),
        )
            .into_response(),
        Encoding::Json => axum::Json(response).into_response(),
    }
}

/// An OTLP error answer: a `google.rpc.Status` in the client's encoding, with
/// `Retry-After` kept for 429/503 (exporters retry those).
fn api_failure(encoding: Encoding, error: ApiError) -> Response {
    let message = error.public_message();
    let generic = error.into_response();
    let mut response = failure(encoding, generic.status(), &message);
    if let Some(retry_after) = generic.headers().get(header::RETRY_AFTER) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after.clone());
    }
    // Keeps the internal error for the request log line.
    if let Some(logged) = generic
        .extensions()
        .get::<crate::http::error::LoggedError>()
    {
        response.extensions_mut().insert(logged.clone());
    }
    response
}

fn failure(encoding: Encoding, status: StatusCode, message: &str) -> Response {
    // gRPC codes: 3 INVALID_ARGUMENT, 16 UNAUTHENTICATED, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE.
    let code = match status.as_u16() {
        401 => 16,
        429 => 8,
        503 => 14,
        500..=599 => 13,
        _ => 3,
    };
    let status_message = proto::Status {
        code,
        message: message.to_string(),
    };
    let mut response = match encoding {
        Encoding::Protobuf => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-protobuf"),
            )],
            status_message.encode_to_vec(),
        )
            .into_response(),
        Encoding::Json => {
            axum::Json(serde_json::json!({"code": code, "message": message})).into_response()
        }
    };
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::ingest::otlp::{
        metrics_proto::{ExportMetricsPartialSuccess, ExportMetricsServiceResponse},
        proto::{ExportTracePartialSuccess, ExportTraceServiceResponse},
    };

    async fn body_of(response: Response) -> axum::body::Bytes {
        assert_eq!(response.status(), StatusCode::OK);
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
    }

    async fn json_answer<M: Message + serde::Serialize>(response: M) -> Value {
        serde_json::from_slice(&body_of(answer(Encoding::Json, response)).await).expect("JSON")
    }

    #[tokio::test]
    async fn json_answers_name_each_count_in_camel_case_as_a_string() {
        let logs = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 2,
                error_message: "too long".into(),
            }),
        };
        assert_eq!(
            json_answer(logs).await,
            json!({"partialSuccess": {"rejectedLogRecords": "2", "errorMessage": "too long"}})
        );
        let traces = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 1,
                error_message: "no name".into(),
            }),
        };
        assert_eq!(
            json_answer(traces).await,
            json!({"partialSuccess": {"rejectedSpans": "1", "errorMessage": "no name"}})
        );
        let metrics = ExportMetricsServiceResponse {
            partial_success: Some(ExportMetricsPartialSuccess {
                rejected_data_points: i64::MAX,
                error_message: "too old".into(),
            }),
        };
        assert_eq!(
            json_answer(metrics).await,
            json!({"partialSuccess": {"rejectedDataPoints": "9223372036854775807", "errorMessage": "too old"}})
        );
        let all_stored = ExportMetricsServiceResponse {
            partial_success: None,
        };
        assert_eq!(json_answer(all_stored).await, json!({}));
    }

    #[tokio::test]
    async fn protobuf_answers_are_the_message() {
        let response = ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: 3,
                error_message: "no name".into(),
            }),
        };
        let answered = answer(Encoding::Protobuf, response.clone());
        assert_eq!(
            answered.headers()[header::CONTENT_TYPE],
            "application/x-protobuf"
        );
        let body = body_of(answered).await;
        assert_eq!(
            ExportTraceServiceResponse::decode(body).expect("protobuf"),
            response
        );
    }
}
