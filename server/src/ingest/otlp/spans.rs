//! OpenTelemetry spans (an OTLP `ExportTraceServiceRequest`, decoded by
//! [`super::traces`]) as [`SpanRecord`]s.
//!
//! - **Segments.** A span is a segment (a transaction: the root of one
//!   service's work) when it has no parent, or when it is a `SERVER` or
//!   `CONSUMER` span whose parent is remote (the span flags say so; exporters
//!   that do not say are taken to mean remote). Other spans take the segment of
//!   their nearest segment ancestor in the same request.
//! - **Names.** A segment's transaction name is its span name, except for HTTP
//!   servers with an `http.route`: `METHOD route` (`GET /users/{id}`), so that
//!   every request to one endpoint shares one name.
//! - **Status.** `ERROR` is `internal_error` (or the status of the HTTP error
//!   code, when there is one); otherwise the gRPC status code, else the HTTP
//!   status code (404 `not_found`, 5xx `internal_error`, ...), else `ok`.
//! - **Where things go.** `service.name` is the service, `service.version` the
//!   release, `deployment.environment(.name)` the environment; the span's
//!   attributes (and the scope) are its data; a segment also keeps the
//!   resource's attributes under `resource`.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::{
    insert_all,
    proto::{
        ExportTraceServiceRequest, Span, SpanKind, SPAN_FLAGS_HAS_IS_REMOTE, SPAN_FLAGS_IS_REMOTE,
        STATUS_CODE_ERROR, STATUS_CODE_OK,
    },
    text_attribute,
};
use crate::{
    ingest::decoded::Decoded,
    traces::span::{self, http_status_of, SpanRecord, SpanStatus},
};

/// The spans of a request that can be stored, how many could not, and why the
/// first of those could not.
pub type Converted = Decoded<SpanRecord>;

/// Where a resource's spans come from.
struct Origin {
    service: String,
    environment: String,
    release: String,
    resource: Map<String, Value>,
}

/// Every span of `request`, with segments assigned.
pub fn spans_of(request: ExportTraceServiceRequest, received: DateTime<Utc>) -> Converted {
    let mut out = Converted::default();
    for resource_spans in request.resource_spans {
        let attributes = resource_spans
            .resource
            .map(|r| r.attributes)
            .unwrap_or_default();
        let mut resource = Map::new();
        insert_all(&mut resource, &attributes);
        let environment = ["deployment.environment.name", "deployment.environment"]
            .iter()
            .map(|key| text_attribute(&attributes, key))
            .find(|e| !e.is_empty())
            .unwrap_or_default();
        let origin = Origin {
            service: text_attribute(&attributes, "service.name"),
            environment,
            release: text_attribute(&attributes, "service.version"),
            resource,
        };
        for scope_spans in resource_spans.scope_spans {
            let mut scope = Map::new();
            if let Some(s) = &scope_spans.scope {
                if !s.name.is_empty() {
                    scope.insert("otel.scope.name".into(), Value::String(s.name.clone()));
                }
                if !s.version.is_empty() {
                    scope.insert(
                        "otel.scope.version".into(),
                        Value::String(s.version.clone()),
                    );
                }
            }
            for span in scope_spans.spans {
                let mut record = record_of(span, &origin, &scope, received);
                match record.sanitise() {
                    Ok(()) => out.records.push(record),
                    Err(error) => out.refuse(1, || error.0),
                }
            }
        }
    }
    span::assign_segments(&mut out.records);
    out
}

fn record_of(
    span: Span,
    origin: &Origin,
    scope: &Map<String, Value>,
    received: DateTime<Utc>,
) -> SpanRecord {
    let kind = SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified);
    let parent = (!span.parent_span_id.is_empty()).then(|| hex::encode(&span.parent_span_id));
    let remote_parent =
        span.flags & SPAN_FLAGS_HAS_IS_REMOTE == 0 || span.flags & SPAN_FLAGS_IS_REMOTE != 0;
    let is_segment = parent.is_none()
        || (matches!(kind, SpanKind::Server | SpanKind::Consumer) && remote_parent);
    let mut data = scope.clone();
    insert_all(&mut data, &span.attributes);
    let attribute = |keys: &[&str]| keys.iter().find_map(|k| data.get(*k).cloned());
    let http_status = attribute(&["http.response.status_code", "http.status_code"])
        .as_ref()
        .and_then(http_status_of);
    let method = attribute(&["http.request.method", "http.method"])
        .and_then(|v| v.as_str().map(str::to_owned));
    let route = attribute(&["http.route"]).and_then(|v| v.as_str().map(str::to_owned));
    let grpc_status = attribute(&["rpc.grpc.status_code"]).and_then(|v| v.as_i64());
    let op = op_of(kind, &data, method.is_some());
    let status = status_of(
        span.status.as_ref().map(|s| s.code),
        grpc_status,
        http_status,
    );
    if let Some(message) = span.status.as_ref().map(|s| &s.message) {
        if !message.is_empty() {
            data.insert("otel.status_message".into(), Value::String(message.clone()));
        }
    }
    data.insert("otel.kind".into(), Value::String(kind_name(kind).into()));
    let transaction = match (kind, &method, &route) {
        (SpanKind::Server, Some(method), Some(route)) if is_segment => format!("{method} {route}"),
        _ if is_segment => span.name.clone(),
        _ => String::new(),
    };
    if is_segment && !origin.resource.is_empty() {
        data.insert("resource".into(), Value::Object(origin.resource.clone()));
    }
    let start = time(span.start_time_unix_nano).unwrap_or(received);
    let end = time(span.end_time_unix_nano).unwrap_or(start);
    let span_id = hex::encode(&span.span_id);
    SpanRecord {
        event_id: None,
        ts: start,
        trace_id: hex::encode(&span.trace_id),
        segment_id: is_segment.then(|| span_id.clone()),
        span_id,
        parent_span_id: parent,
        is_segment,
        transaction,
        op,
        name: span.name,
        status,
        duration_ms: span::duration_ms(start, end),
        service: origin.service.clone(),
        environment: origin.environment.clone(),
        release: origin.release.clone(),
        http_status,
        tags: Map::new(),
        data,
    }
}

fn time(nanos: u64) -> Option<DateTime<Utc>> {
    i64::try_from(nanos)
        .ok()
        .filter(|n| *n > 0)
        .map(|n| Utc.timestamp_nanos(n))
}

fn status_of(code: Option<i32>, grpc: Option<i64>, http: Option<i32>) -> SpanStatus {
    let from_http = http.map(|c| SpanStatus::from_http(i64::from(c)));
    match code {
        Some(STATUS_CODE_ERROR) => from_http
            .filter(|s| s.is_failure())
            .or_else(|| {
                grpc.and_then(SpanStatus::from_grpc)
                    .filter(|s| s.is_failure())
            })
            .unwrap_or(SpanStatus::InternalError),
        Some(STATUS_CODE_OK) => SpanStatus::Ok,
        _ => grpc
            .and_then(SpanStatus::from_grpc)
            .or(from_http)
            .unwrap_or(SpanStatus::Ok),
    }
}

/// Sentry-style operation names from the span's kind and semantic conventions.
fn op_of(kind: SpanKind, data: &Map<String, Value>, http: bool) -> String {
    let has = |key: &str| data.contains_key(key);
    let op = match kind {
        SpanKind::Server if http => "http.server",
        SpanKind::Client if http => "http.client",
        _ if has("db.system") || has("db.system.name") => "db",
        SpanKind::Server if has("rpc.system") => "rpc.server",
        SpanKind::Client if has("rpc.system") => "rpc.client",
        SpanKind::Consumer if has("messaging.system") => "queue.process",
        SpanKind::Producer if has("messaging.system") => "queue.publish",
        other => kind_name(other),
    };
    op.to_string()
}

fn kind_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Unspecified | SpanKind::Internal => "internal",
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::otlp::proto::{
        any_value, AnyValue, KeyValue, Resource, ResourceSpans, ScopeSpans, SpanStatus as Status,
    };

    fn attr(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue { value: Some(value) }),
        }
    }

    fn text(key: &str, value: &str) -> KeyValue {
        attr(key, any_value::Value::StringValue(value.into()))
    }

    const START: u64 = 1_795_000_000_000_000_000;

    fn span(id: u8, parent: Option<u8>, kind: SpanKind, flags: u32) -> Span {
        Span {
            trace_id: vec![0x0a; 16],
            span_id: vec![id; 8],
            parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
            flags,
            name: format!("span {id}"),
            kind: kind as i32,
            start_time_unix_nano: START + u64::from(id) * 1_000_000,
            end_time_unix_nano: START + 250_000_000,
            attributes: Vec::new(),
            status: None,
        }
    }

    fn convert(spans: Vec<Span>) -> Converted {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![
                        text("service.name", "users"),
                        text("service.version", "2.1"),
                        text("deployment.environment.name", "staging"),
                    ],
                }),
                scope_spans: vec![ScopeSpans { scope: None, spans }],
            }],
        };
        spans_of(request, Utc::now())
    }

    #[test]
    fn local_roots_and_servers_below_remote_parents_are_segments() {
        let local = SPAN_FLAGS_HAS_IS_REMOTE;
        let remote = SPAN_FLAGS_HAS_IS_REMOTE | SPAN_FLAGS_IS_REMOTE;
        let mut server = span(1, None, SpanKind::Server, local);
        server.attributes = vec![
            text("http.request.method", "GET"),
            text("http.route", "/users/{id}"),
            attr("http.response.status_code", any_value::Value::IntValue(404)),
        ];
        let converted = convert(vec![
            span(3, Some(2), SpanKind::Client, local),
            span(2, Some(1), SpanKind::Internal, local),
            server,
            span(4, Some(3), SpanKind::Server, remote),
            // A server span whose parent is in this process: not a segment.
            span(5, Some(1), SpanKind::Server, local),
            // No flags (an older exporter): a server with a parent is taken as remote.
            span(6, Some(9), SpanKind::Consumer, 0),
        ]);
        assert_eq!(converted.refused, 0);
        let by_id = |id: u8| {
            converted
                .records
                .iter()
                .find(|s| s.span_id == hex::encode([id; 8]))
                .unwrap()
        };
        let root = by_id(1);
        assert!(root.is_segment);
        assert_eq!(root.transaction, "GET /users/{id}");
        assert_eq!(root.op, "http.server");
        assert_eq!(root.status, SpanStatus::NotFound);
        assert_eq!(root.http_status, Some(404));
        assert_eq!(root.duration_ms, 249.0);
        assert_eq!(
            (
                root.service.as_str(),
                root.release.as_str(),
                root.environment.as_str()
            ),
            ("users", "2.1", "staging")
        );
        assert_eq!(root.data["resource"]["service.name"], "users");
        assert_eq!(by_id(3).segment_id, root.segment_id, "through its parent");
        assert_eq!(by_id(3).transaction, "GET /users/{id}");
        assert!(by_id(4).is_segment);
        assert_eq!(by_id(4).transaction, "span 4");
        assert!(!by_id(5).is_segment);
        assert!(by_id(6).is_segment);
        assert_eq!(by_id(2).status, SpanStatus::Ok);
    }

    #[test]
    fn statuses_follow_the_code_then_grpc_then_http() {
        assert_eq!(status_of(Some(2), None, None), SpanStatus::InternalError);
        assert_eq!(status_of(Some(2), None, Some(503)), SpanStatus::Unavailable);
        assert_eq!(
            status_of(Some(2), None, Some(200)),
            SpanStatus::InternalError
        );
        assert_eq!(status_of(Some(1), None, Some(500)), SpanStatus::Ok);
        assert_eq!(status_of(None, Some(5), None), SpanStatus::NotFound);
        assert_eq!(
            status_of(Some(0), None, Some(401)),
            SpanStatus::Unauthenticated
        );
        assert_eq!(
            status_of(Some(0), None, Some(403)),
            SpanStatus::PermissionDenied
        );
        assert_eq!(
            status_of(Some(0), None, Some(429)),
            SpanStatus::ResourceExhausted
        );
        assert_eq!(status_of(None, None, None), SpanStatus::Ok);
    }

    #[test]
    fn spans_with_bad_ids_or_times_are_counted_not_stored() {
        let mut short = span(1, None, SpanKind::Server, 0);
        short.span_id = vec![1, 2, 3];
        let mut backwards = span(2, None, SpanKind::Server, 0);
        backwards.end_time_unix_nano = START - 1;
        let mut failed = span(3, None, SpanKind::Internal, 0);
        failed.status = Some(Status {
            message: "boom".into(),
            code: STATUS_CODE_ERROR,
        });
        let converted = convert(vec![short, backwards, failed]);
        assert_eq!(converted.refused, 2);
        assert!(
            converted
                .first_refusal
                .as_deref()
                .is_some_and(|e| e.contains("span id")),
            "{}",
            converted.first_refusal.as_deref().unwrap_or_default()
        );
        assert_eq!(converted.records.len(), 1);
        assert_eq!(converted.records[0].status, SpanStatus::InternalError);
        assert_eq!(converted.records[0].data["otel.status_message"], "boom");
    }
}
