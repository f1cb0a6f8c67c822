//! Performance as a user meets it: transactions sent by the Rust `sentry` crate
//! (with child spans), spans streamed by `@sentry/node` 11 (span v2 items) and
//! traces exported by the OpenTelemetry Python SDK, with
//! durations chosen here, then the transactions table (counts, percentiles,
//! failure rate, Apdex with the project's threshold), one transaction's series,
//! and a trace with the error and the log line that carry its id. Also the
//! OTLP/JSON form, partial success and malformed OTLP bodies.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;
mod otlp;
mod sdks;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use app::api::Role;
use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use common::{run_node, run_python, Auth, TestApp};
use prost::Message;
use serde_json::{json, Value};
use server::ingest::otlp::proto::{
    ExportTraceServiceRequest, ExportTraceServiceResponse, ResourceSpans, ScopeSpans, Span,
};
use sqlx::PgPool;

/// Runs `report` with a Sentry client of its own that samples every
/// transaction, on a blocking thread (the client blocks while the test's
/// runtime serves its requests); then flushes.
async fn with_rust_sdk(dsn: &str, report: impl FnOnce() + Send + 'static) {
    // `ClientOptions` is non-exhaustive: start from the defaults.
    let mut options = sentry::ClientOptions::default().traces_sample_rate(1.0);
    options.dsn = Some(dsn.parse().expect("dsn"));
    options.release = Some("shop@2.0".into());
    options.environment = Some("production".into());
    common::with_sentry_client(options, report).await;
}

/// Nanoseconds since 1970 at `ago` before now, on a whole millisecond: the
/// times OTLP spans carry.
fn unix_nanos(ago: Duration) -> u64 {
    (SystemTime::now() - ago)
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
        * 1_000_000
}

/// Ten minutes ago, on a whole millisecond.
fn ten_minutes_ago() -> SystemTime {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    UNIX_EPOCH + Duration::from_millis(now.as_millis() as u64 - 600_000)
}

async fn set_apdex_threshold(app: &TestApp, threshold_ms: i64) {
    let admin = app.token(Role::Admin).await;
    let r = app
        .request(
            Method::PUT,
            "/api/v1/projects/shop/performance/settings",
            &admin,
            Some(json!({"apdex_threshold_ms": threshold_ms})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn transactions(app: &TestApp, auth: &Auth, query: &str) -> Vec<Value> {
    let r = app
        .get(
            &format!("/api/v1/projects/shop/performance/transactions?{query}"),
            auth,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["transactions"].as_array().expect("rows").clone()
}

fn names(rows: &[Value]) -> Vec<&str> {
    rows.iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect()
}

/// Asserts that `value` is `expected`, to a hundredth.
#[track_caller]
fn assert_near(value: &Value, expected: f64) {
    let actual = value.as_f64().expect("a number");
    assert!(
        (actual - expected).abs() < 0.01,
        "{actual} is not {expected}"
    );
}

/// Asserts the figures of ten transactions taking 100, 200, ..., 1000 ms with
/// an Apdex threshold of 300 ms: 3 satisfied, 7 tolerating.
#[track_caller]
fn assert_hundred_to_thousand(row: &Value, error_rate: f64) {
    assert_eq!(row["count"], 10, "{row}");
    assert_near(&row["p50_ms"], 550.0);
    assert_near(&row["p95_ms"], 955.0);
    assert_near(&row["p99_ms"], 991.0);
    assert_near(&row["error_rate"], error_rate);
    assert_near(&row["apdex"], (3.0 + 7.0 / 2.0) / 10.0);
}

fn post_traces(key: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::post("/v1/traces")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request")
}
