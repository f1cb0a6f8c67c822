//! Sentry compatibility (`/api/{project_id}/envelope/` and `/store/`) over real
//! HTTP and a real PostgreSQL: the Rust `sentry` crate and Python's sentry-sdk
//! reporting errors, messages, panics and logs; the protocol's edges (where the
//! key is, malformed bodies, duplicates, CORS, rate limits, sessions, client
//! reports); and the issue workflow (regressions, resolved in a release, ignores
//! that run out).

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;
mod items;
mod limits;
mod protocol;
mod sdks;
mod workflow;

use std::io::Write;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use chrono::{DateTime, Utc};
use common::TestResponse;
use serde_json::{json, Value};
use sqlx::PgPool;

/// An issue, as the issue list shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Issue {
    issue_id: i64,
    title: String,
    culprit: String,
    level: String,
    status: String,
    event_count: i64,
    last_release: Option<String>,
}

async fn issues(pool: &PgPool, project_id: i64) -> Vec<Issue> {
    sqlx::query_as(
        "select issue_id, title, culprit, level, status, event_count, last_release
         from issue where project_id = $1 order by title",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .expect("issues")
}

/// What the event page shows about who and where.
#[derive(Debug, sqlx::FromRow)]
struct EventDetails {
    user_key: Option<String>,
    release: Option<String>,
    environment: Option<String>,
    tags: Value,
}

fn issue<'a>(issues: &'a [Issue], title: &str) -> &'a Issue {
    issues
        .iter()
        .find(|i| i.title == title)
        .unwrap_or_else(|| panic!("no issue {title:?} in {issues:#?}"))
}

async fn stored_events(pool: &PgPool, project_id: i64) -> i64 {
    sqlx::query_scalar("select count(*) from error_event where project_id = $1")
        .bind(project_id)
        .fetch_one(pool)
        .await
        .expect("count")
}

async fn activity(pool: &PgPool, issue_id: i64) -> Vec<String> {
    sqlx::query_scalar(
        "select kind from issue_activity where issue_id = $1 order by issue_activity_id",
    )
    .bind(issue_id)
    .fetch_all(pool)
    .await
    .expect("activity")
}

/// Every issue's event count matches its events and its hourly counts.
async fn assert_counts_agree(pool: &PgPool, project_id: i64) {
    let disagreeing: i64 = sqlx::query_scalar(
        "select count(*) from issue i
         where i.project_id = $1 and (
             i.event_count <> (select count(*) from error_event e where e.issue_id = i.issue_id)
             or i.event_count <> (select coalesce(sum(events), 0) from issue_hour h where h.issue_id = i.issue_id))",
    )
    .bind(project_id)
    .fetch_one(pool)
    .await
    .expect("counts");
    assert_eq!(disagreeing, 0, "issue counts disagree with events");
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A minute-aligned time well in the past, so events are never "in the future".
fn base_time() -> DateTime<Utc> {
    let now = Utc::now().timestamp();
    DateTime::from_timestamp(now - now % 60 - 3600, 0).expect("time")
}

fn event(id: &str, message: &str, ts: DateTime<Utc>) -> Value {
    json!({"event_id": id, "message": message, "level": "error", "platform": "other",
           "timestamp": ts.timestamp() as f64})
}

/// An envelope; each item gets its `length` unless its header sets one.
fn envelope(header: Value, items: &[(Value, Vec<u8>)]) -> Vec<u8> {
    let mut body = header.to_string().into_bytes();
    for (item_header, payload) in items {
        let mut item_header = item_header.clone();
        if item_header.get("length").is_none() {
            item_header["length"] = json!(payload.len());
        }
        body.push(b'\n');
        body.extend_from_slice(item_header.to_string().as_bytes());
        body.push(b'\n');
        body.extend_from_slice(payload);
    }
    body.push(b'\n');
    body
}

fn item(kind: &str, payload: &Value) -> (Value, Vec<u8>) {
    (json!({"type": kind}), payload.to_string().into_bytes())
}

fn event_envelope(event: &Value) -> Vec<u8> {
    envelope(
        json!({"event_id": event["event_id"]}),
        &[item("event", event)],
    )
}

/// A POST as the Rust SDK sends it: the key in `X-Sentry-Auth`, no content type.
fn post(uri: &str, key: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::post(uri);
    if let Some(key) = key {
        builder = builder.header(
            "x-sentry-auth",
            format!("Sentry sentry_key={key}, sentry_version=7, sentry_client=sentry.test/1.0"),
        );
    }
    builder.body(body.into()).expect("request")
}

fn envelope_uri(project_id: i64) -> String {
    format!("/api/{project_id}/envelope/")
}

/// A Sentry-shaped refusal: the status, `{"detail"}` and `X-Sentry-Error`.
fn assert_refused(r: &TestResponse, status: StatusCode, needle: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(needle), "expected {needle:?} in {detail:?}");
    let header = r
        .headers
        .get("x-sentry-error")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(!header.is_empty(), "no X-Sentry-Error on {}", r.status);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}
