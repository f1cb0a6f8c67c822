//! Loki push compatibility (`POST /loki/api/v1/push`) over real HTTP requests and
//! a real PostgreSQL: JSON and snappy-protobuf bodies, labels and structured
//! metadata mapped to fields, a real client library (python-logging-loki),
//! partial refusals, malformed bodies, limits, auth and a full queue.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use std::io::Write;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use chrono::{DateTime, TimeZone, Utc};
use common::{run_python, TestApp, TestResponse};
use serde_json::{json, Value};
use server::ingest::loki::proto::{
    self, EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp,
};
use sqlx::PgPool;

const PUSH: &str = "/loki/api/v1/push";

/// A stored row, as a user would look at it.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Row {
    ts: DateTime<Utc>,
    level: i16,
    service: String,
    host: String,
    message: String,
    trace_id: Option<String>,
    span_id: Option<String>,
    attributes: Value,
}

async fn rows(pool: &PgPool, project_id: i64) -> Vec<Row> {
    sqlx::query_as(
        "select ts, level, service, host, message, trace_id, span_id, attributes
         from log_entry where project_id = $1 order by ts, message",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .expect("rows")
}

async fn count(pool: &PgPool, project_id: i64) -> i64 {
    sqlx::query_scalar("select count(*) from log_entry where project_id = $1")
        .bind(project_id)
        .fetch_one(pool)
        .await
        .expect("count")
}

/// A push with the key as the basic-auth password, as Loki clients send it.
fn push(key: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("tenant-1:{key}"));
    Request::post(PUSH)
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .expect("request")
}

fn push_json(key: &str, body: &Value) -> Request<Body> {
    push(key, "application/json", body.to_string())
}

fn push_proto(key: &str, request: &PushRequest) -> Request<Body> {
    push(key, "application/x-protobuf", proto::encode(request))
}

/// Nanoseconds since the epoch of a recent time, as Loki's JSON wants them.
fn ns(t: DateTime<Utc>) -> String {
    t.timestamp_nanos_opt().expect("in range").to_string()
}

fn base_time() -> DateTime<Utc> {
    let now = Utc::now().timestamp();
    Utc.timestamp_opt(now - now % 60 - 600, 0)
        .single()
        .expect("time")
}

fn assert_plain_error(r: &TestResponse, status: StatusCode, needle: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let content_type = r
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain"),
        "Loki errors are plain text, got {content_type}"
    );
    assert!(
        r.text.contains(needle),
        "expected {needle:?} in {:?}",
        r.text
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn json_push_maps_labels_and_structured_metadata(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    let t = base_time();
    let body = json!({"streams": [
        {
            "stream": {"service_name": "checkout", "job": "ignored", "instance": "10.0.0.7:9100",
                       "hostname": "web-1", "level": "warn", "env": "prod"},
            "values": [
                [ns(t), "disk almost full"],
                [ns(t + chrono::Duration::microseconds(1500)), "{\"msg\":\"json stays a line\"}",
                 {"traceID": "4bf92f3577b34da6", "span_id": "00f067aa0ba902b7", "user": "u-1"}],
            ],
        },
        {
            "stream": {"app": "worker", "host": "batch-2", "detected_level": "ERROR"},
            "values": [[ns(t + chrono::Duration::seconds(1)), "job failed\u{0}"]],
        },
    ]});
    let r = app.send(push_json(&key, &body)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(r.text.is_empty());

    let labels = json!({"service_name": "checkout", "job": "ignored", "instance": "10.0.0.7:9100",
                        "hostname": "web-1", "level": "warn", "env": "prod"});
    let mut with_metadata = labels.clone();
    with_metadata["user"] = json!("u-1");
    assert_eq!(
        rows(&pool, project_id).await,
        vec![
            Row {
                ts: t,
                level: 4,
                service: "checkout".into(),
                host: "web-1".into(),
                message: "disk almost full".into(),
                trace_id: None,
                span_id: None,
                attributes: labels,
            },
            Row {
                ts: t + chrono::Duration::microseconds(1500),
                level: 4,
                service: "checkout".into(),
                host: "web-1".into(),
                message: "{\"msg\":\"json stays a line\"}".into(),
                trace_id: Some("4bf92f3577b34da6".into()),
                span_id: Some("00f067aa0ba902b7".into()),
                attributes: with_metadata,
            },
            Row {
                ts: t + chrono::Duration::seconds(1),
                level: 5,
                service: "worker".into(),
                host: "batch-2".into(),
                message: "job failed".into(),
                trace_id: None,
                span_id: None,
                attributes: json!({"app": "worker", "host": "batch-2", "detected_level": "ERROR"}),
            },
        ]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn gzip_json_and_bearer_keys_are_accepted(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("gz").await;
    let body = json!({"streams": [{"stream": {"job": "gz"}, "values": [[ns(base_time()), "compressed"]]}]});
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(body.to_string().as_bytes())
        .expect("gzip");
    let request = Request::post(PUSH)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(encoder.finish().expect("gzip")))
        .expect("request");
    let r = app.send(request).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let stored = rows(&pool, project_id).await;
    assert_eq!(
        (stored[0].service.as_str(), stored[0].message.as_str()),
        ("gz", "compressed")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn protobuf_snappy_push_is_stored(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("proto").await;
    let t = base_time();
    let entry = |offset: i64, line: &str, metadata: &[(&str, &str)]| EntryAdapter {
        timestamp: Some(Timestamp {
            seconds: t.timestamp() + offset,
            nanos: 250_000_000,
        }),
        line: line.into(),
        structured_metadata: metadata
            .iter()
            .map(|(name, value)| LabelPairAdapter {
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect(),
    };
    let request = PushRequest {
        streams: vec![
            StreamAdapter {
                labels: r#"{service="api", host="web-3", severity="debug", quote="say \"hi\""}"#
                    .into(),
                entries: vec![
                    entry(0, "GET /health 200", &[]),
                    entry(1, "GET /cart 200", &[("trace_id", "abc123")]),
                ],
                hash: 0,
            },
            StreamAdapter {
                labels: r#"{job="systemd-journal", instance="node-9"}"#.into(),
                entries: vec![entry(
                    2,
                    "Started Session 4",
                    &[("spanID", "s-9"), ("unit", "session-4.scope")],
                )],
                hash: 7,
            },
        ],
    };
    let r = app.send(push_proto(&key, &request)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    let stored = rows(&pool, project_id).await;
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0].ts, t + chrono::Duration::milliseconds(250));
    assert_eq!(
        (
            stored[0].service.as_str(),
            stored[0].host.as_str(),
            stored[0].level,
            stored[0].message.as_str()
        ),
        ("api", "web-3", 2, "GET /health 200")
    );
    assert_eq!(
        stored[0].attributes,
        json!({"service": "api", "host": "web-3", "severity": "debug", "quote": "say \"hi\""})
    );
    assert_eq!(stored[1].trace_id.as_deref(), Some("abc123"));
    assert_eq!(
        (
            stored[2].service.as_str(),
            stored[2].host.as_str(),
            stored[2].level,
            stored[2].span_id.as_deref()
        ),
        ("systemd-journal", "node-9", 3, Some("s-9"))
    );
    assert_eq!(
        stored[2].attributes,
        json!({"job": "systemd-journal", "instance": "node-9", "unit": "session-4.scope"})
    );

    // `Content-Encoding: snappy`, which some shippers add, means the same.
    let mut again = push_proto(&key, &request);
    again
        .headers_mut()
        .insert(header::CONTENT_ENCODING, "snappy".parse().expect("header"));
    assert_eq!(app.send(again).await.status, StatusCode::NO_CONTENT);
    assert_eq!(count(&pool, project_id).await, 6);
}

#[sqlx::test(migrations = "../migrations")]
async fn python_logging_loki_handler_pushes_records(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("python").await;
    let url = app.listen().await;
    let out = run_python("loki_client.py", &[&url, &key]).await;
    assert!(out.contains("sent 5"), "{out}");

    let mut stored = rows(&pool, project_id).await;
    stored.sort_by_key(|r| r.level);
    let summary: Vec<(i16, &str, &str)> = stored
        .iter()
        .map(|r| (r.level, r.service.as_str(), r.message.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (2, "checkout", "cart loaded"),
            (3, "checkout", "payment accepted"),
            (4, "checkout", "card expires soon"),
            (5, "checkout", "payment failed: gateway timeout"),
            (6, "ledger", "ledger unreachable"),
        ]
    );
    let info = &stored[1];
    assert_eq!(
        info.attributes,
        json!({"application": "checkout", "env": "test", "severity": "info", "logger": "shop.payments", "order_id": "o-42"})
    );
    assert_eq!(stored[4].attributes["service"], "ledger");
    let age = Utc::now() - info.ts;
    assert!(
        age >= chrono::Duration::zero() && age < chrono::Duration::minutes(5),
        "timestamp {}",
        info.ts
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn malformed_bodies_are_refused_and_store_nothing(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("bad").await;
    let t = ns(base_time());

    let cases: Vec<(Request<Body>, &str)> = vec![
        (
            push(&key, "application/json", "{\"streams\": [}"),
            "not a Loki JSON push request",
        ),
        (
            push(&key, "application/json", "[1, 2]"),
            "not a Loki JSON push request",
        ),
        (
            push_json(
                &key,
                &json!({"streams": [{"stream": {"a": "b"}, "values": [[t, 42]]}]}),
            ),
            "not a Loki JSON push request",
        ),
        (
            push_json(
                &key,
                &json!({"streams": [{"stream": {"a": "b"}, "values": [["yesterday", "x"], ["-1", "y"]]}]}),
            ),
            "all 2 entries were refused",
        ),
        (
            push_json(
                &key,
                &json!({"streams": [{"stream": {"a": ["b"]}, "values": [[t, "x"]]}]}),
            ),
            "not a string",
        ),
        (
            push(&key, "application/x-protobuf", "definitely not snappy"),
            "snappy",
        ),
        (
            push(
                &key,
                "application/x-protobuf",
                snap::raw::Encoder::new()
                    .compress_vec(b"\x0a\x05\x12\x09")
                    .expect("snappy"),
            ),
            "not a Loki protobuf PushRequest",
        ),
        (
            push_proto(
                &key,
                &PushRequest {
                    streams: vec![StreamAdapter {
                        labels: "{app=\"x\" env=\"y\"}".into(),
                        entries: vec![EntryAdapter {
                            timestamp: Some(Timestamp {
                                seconds: 1_764_151_200,
                                nanos: 0,
                            }),
                            line: "x".into(),
                            structured_metadata: vec![],
                        }],
                        hash: 0,
                    }],
                },
            ),
            "invalid labels",
        ),
        (
            push_proto(
                &key,
                &PushRequest {
                    streams: vec![StreamAdapter {
                        labels: "{app=\"x\"}".into(),
                        entries: vec![EntryAdapter {
                            timestamp: Some(Timestamp {
                                seconds: 1,
                                nanos: -5,
                            }),
                            line: "x".into(),
                            structured_metadata: vec![],
                        }],
                        hash: 0,
                    }],
                },
            ),
            "out of range",
        ),
    ];
    for (request, needle) in cases {
        let r = app.send(request).await;
        assert_plain_error(&r, StatusCode::BAD_REQUEST, needle);
    }
    assert_eq!(count(&pool, project_id).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn partly_bad_pushes_store_the_good_entries_and_answer_400(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("partial").await;
    let t = ns(base_time());
    let long = "x".repeat(256 * 1024 + 1);
    let body = json!({"streams": [
        {"stream": {"app": "a"}, "values": [[t, "good 1"], ["soon", "bad time"], [t, long]]},
        {"stream": {"app": "b"}, "values": [[t, "good 2"]]},
    ]});
    let r = app.send(push_json(&key, &body)).await;
    assert_plain_error(
        &r,
        StatusCode::BAD_REQUEST,
        "2 of 4 entries were refused (2 stored)",
    );
    assert!(
        r.text.contains("entry 1") && r.text.contains("\"soon\""),
        "{}",
        r.text
    );
    let messages: Vec<String> = rows(&pool, project_id)
        .await
        .into_iter()
        .map(|r| r.message)
        .collect();
    assert_eq!(messages, vec!["good 1", "good 2"]);

    // A protobuf stream with unreadable labels refuses its entries only.
    let entry = EntryAdapter {
        timestamp: Some(Timestamp {
            seconds: base_time().timestamp(),
            nanos: 0,
        }),
        line: "good 3".into(),
        structured_metadata: vec![],
    };
    let request = PushRequest {
        streams: vec![
            StreamAdapter {
                labels: "{app=unquoted}".into(),
                entries: vec![entry.clone(), entry.clone()],
                hash: 0,
            },
            StreamAdapter {
                labels: "{app=\"c\"}".into(),
                entries: vec![entry],
                hash: 0,
            },
        ],
    };
    let r = app.send(push_proto(&key, &request)).await;
    assert_plain_error(
        &r,
        StatusCode::BAD_REQUEST,
        "2 of 3 entries were refused (1 stored)",
    );
    assert_eq!(count(&pool, project_id).await, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn limits_answer_413(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("limits").await;
    let t = ns(base_time());

    let values: Vec<Value> = (0..100_001).map(|_| json!([t, "x"])).collect();
    let r = app
        .send(push_json(
            &key,
            &json!({"streams": [{"stream": {"a": "b"}, "values": values}]}),
        ))
        .await;
    assert_plain_error(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "more than 100000 entries",
    );

    let r = app
        .send(push(
            &key,
            "application/json",
            vec![b' '; 10 * 1024 * 1024 + 1],
        ))
        .await;
    assert_plain_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "larger than 10 MiB");

    // A snappy header that promises more than 64 MiB is refused before decoding.
    let mut bomb = vec![0u8; 5];
    let mut n = 65 * 1024 * 1024u64;
    for byte in bomb.iter_mut() {
        *byte = (n as u8 & 0x7f) | if n >= 0x80 { 0x80 } else { 0 };
        n >>= 7;
    }
    let r = app.send(push(&key, "application/x-protobuf", bomb)).await;
    assert_plain_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "64 MiB");
    assert_eq!(count(&pool, project_id).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn missing_or_unknown_keys_answer_401(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, _) = app.project("auth").await;
    let body = json!({"streams": [{"stream": {"a": "b"}, "values": [[ns(base_time()), "x"]]}]})
        .to_string();

    let anonymous = Request::post(PUSH)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.clone()))
        .expect("request");
    assert_plain_error(
        &app.send(anonymous).await,
        StatusCode::UNAUTHORIZED,
        "ingest key",
    );
    let r = app
        .send(push(&key_that_does_not_exist(), "application/json", body))
        .await;
    assert_plain_error(&r, StatusCode::UNAUTHORIZED, "unknown");
    assert_eq!(count(&pool, project_id).await, 0);
}

fn key_that_does_not_exist() -> String {
    "sl_0000000000000000000000000000".into()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_queue_answers_429_with_retry_after(pool: PgPool) {
    let app = TestApp::with_env(pool.clone(), &[("SIGHTLINE_INGEST_QUEUE_MB", "1")]);
    let (project_id, key) = app.project("busy").await;
    // Hold the table so the first push cannot commit while the second arrives.
    let blocker = common::lock_log_entry(&pool).await;

    let t = ns(base_time());
    let values: Vec<Value> = (0..2000)
        .map(|i| json!([t, format!("{i} {}", "x".repeat(600))]))
        .collect();
    let first = {
        let request = push_json(
            &key,
            &json!({"streams": [{"stream": {"a": "b"}, "values": values}]}),
        );
        let router = app.clone_router();
        tokio::spawn(async move { tower::ServiceExt::oneshot(router, request).await })
    };
    common::wait_until_blocked(&pool, "copy log_entry").await;
    let one = json!({"streams": [{"stream": {"a": "b"}, "values": [[t, "one more"]]}]});
    let second = common::answered_at_once(app.send(push_json(&key, &one))).await;
    assert_plain_error(&second, StatusCode::TOO_MANY_REQUESTS, "retry");
    assert_eq!(second.headers[header::RETRY_AFTER], "1");

    blocker.rollback().await.expect("rollback");
    let first = first.await.expect("join").expect("response");
    assert_eq!(
        first.status(),
        StatusCode::NO_CONTENT,
        "the first push is stored once the table is free"
    );
    assert_eq!(count(&pool, project_id).await, 2000);
}
