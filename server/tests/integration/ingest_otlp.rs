//! OTLP/HTTP logs (`POST /v1/logs`): the OpenTelemetry Python SDK's exporter as a
//! real client, protobuf and JSON bodies built here, partial success, and bad input.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use common::{run_python, TestApp};
use prost::Message;
use serde_json::{json, Value};
use server::ingest::otlp::proto::{
    any_value, AnyValue, ExportLogsServiceRequest, ExportLogsServiceResponse, KeyValue, LogRecord,
    Resource, ResourceLogs, ScopeLogs,
};
use sqlx::PgPool;

type Row = (i16, String, String, String, Option<String>, Value);

async fn rows(pool: &PgPool, project_id: i64) -> Vec<Row> {
    sqlx::query_as(
        "select level, service, host, message, trace_id, attributes from log_entry
         where project_id = $1 order by ts, log_id",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .expect("rows")
}

fn text(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    })
}

fn post(key: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post("/v1/logs")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request")
}

#[sqlx::test(migrations = "../migrations")]
async fn the_opentelemetry_python_exporter_delivers_logs(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("otel").await;
    let url = app.listen().await;
    let out = run_python("otlp_client.py", &[&url, &key]).await;
    let trace_id = serde_json::from_str::<Value>(out.trim()).expect("client output")["trace_id"]
        .as_str()
        .expect("trace id")
        .to_string();

    let rows = rows(&pool, project_id).await;
    let messages: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    assert_eq!(
        messages,
        vec!["card declined", "gateway timeout", "payment ok"]
    );
    let levels: Vec<i16> = rows.iter().map(|r| r.0).collect();
    assert_eq!(levels, vec![4, 5, 3], "warn, error, info");
    for row in &rows {
        assert_eq!((row.1.as_str(), row.2.as_str()), ("checkout", "py-1"));
        assert_eq!(
            row.5["deployment.environment"], "test",
            "resource attributes kept"
        );
        assert_eq!(row.5["otel.scope.name"], "shop.payments", "scope kept");
    }
    assert_eq!(rows[0].5["order_id"], 42);
    assert_eq!(
        rows[1].4.as_deref(),
        Some(trace_id.as_str()),
        "the span's trace id"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn protobuf_and_json_bodies_with_partial_success(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("otlp").await;
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: text("billing"),
                }],
            }),
            scope_logs: vec![ScopeLogs {
                scope: None,
                log_records: vec![
                    LogRecord {
                        time_unix_nano: 1_764_151_200_000_000_000,
                        severity_number: 17,
                        body: text("charge failed"),
                        trace_id: vec![0xab; 16],
                        span_id: vec![0xcd; 8],
                        ..Default::default()
                    },
                    LogRecord {
                        // More attributes than a line may carry: refused alone.
                        body: text("overloaded"),
                        attributes: (0..300)
                            .map(|i| KeyValue {
                                key: format!("k{i}"),
                                value: text("v"),
                            })
                            .collect(),
                        ..Default::default()
                    },
                ],
            }],
        }],
    };
    let r = app
        .send(post(
            &key,
            "application/x-protobuf",
            request.encode_to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/x-protobuf");
    let answer = ExportLogsServiceResponse::decode(r.text.as_bytes()).expect("protobuf answer");
    let partial = answer.partial_success.expect("partial success");
    assert_eq!(partial.rejected_log_records, 1);
    assert!(
        partial.error_message.contains("attribute"),
        "{}",
        partial.error_message
    );

    let json_body = json!({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "web"}}]},
        "scopeLogs": [{"logRecords": [{"severityText": "WARN", "body": {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "1"}}]}}}]}]}]});
    let r = app
        .send(post(
            &key,
            "application/json",
            json_body.to_string().into_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let rows = rows(&pool, project_id).await;
    assert_eq!(rows.len(), 2);
    let billing = rows
        .iter()
        .find(|r| r.1 == "billing" && r.3 == "charge failed")
        .expect("billing row");
    assert_eq!(billing.0, 5);
    assert_eq!(
        billing.4.as_deref(),
        Some("abababababababababababababababab")
    );
    let web = rows.iter().find(|r| r.1 == "web").expect("web row");
    assert_eq!((web.0, web.3.as_str()), (4, "{\"a\":1}"));
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_otlp_requests_get_4xx(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("bad").await;
    let r = app
        .send(post(
            &key,
            "application/x-protobuf",
            b"\xff\xff\xff not protobuf".to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .send(post(
            &key,
            "application/json",
            b"{\"resourceLogs\": 5}".to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["message"]
        .as_str()
        .expect("message")
        .contains("resourceLogs"));
    let r = app.send(post(&key, "text/plain", b"hello".to_vec())).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .send(post("wrong", "application/json", b"{}".to_vec()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(rows(&pool, project_id).await.len(), 0);
}
