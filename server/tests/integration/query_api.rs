//! `POST /api/v1/query`, the one query model, as a dashboard or a script uses it:
//! logs, error events and transactions are sent through their ingest endpoints
//! at times chosen here, then each source is asked for series at a one-minute
//! step and the points are checked to the count; unknown sources, bad queries
//! and callers without the right get the status they deserve.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use app::api::Role;
use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::{Auth, TestApp};

/// A minute-aligned time an hour ago: every point of the tests falls on it.
fn base_time() -> DateTime<Utc> {
    let now = Utc::now().timestamp();
    DateTime::from_timestamp(now - now % 60 - 3600, 0).expect("time")
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

async fn send(app: &TestApp, request: Request<Body>) {
    let r = app.send(request).await;
    assert!(r.status.is_success(), "{} {}", r.status, r.text);
}

/// Lines: three errors and two infos in the base minute, one error a minute later.
async fn send_logs(app: &TestApp, key: &str, base: DateTime<Utc>) {
    let line = |t: DateTime<Utc>, level: &str| json!({"ts": t.to_rfc3339(), "level": level, "service": "api", "message": format!("{level} line")});
    let lines = json!([
        line(base, "error"),
        line(base + Duration::seconds(10), "error"),
        line(base + Duration::seconds(59), "error"),
        line(base + Duration::seconds(1), "info"),
        line(base + Duration::seconds(2), "info"),
        line(base + Duration::seconds(61), "error"),
    ]);
    send(
        app,
        Request::post("/api/v1/ingest/logs")
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(lines.to_string()))
            .expect("request"),
    )
    .await;
}

fn envelope(items: &[Value]) -> Vec<u8> {
    let mut body = b"{}".to_vec();
    for payload in items {
        let payload = payload.to_string();
        let kind = if payload.contains("\"type\":\"transaction\"") {
            "transaction"
        } else {
            "event"
        };
        body.extend_from_slice(
            format!(
                "\n{}\n{payload}",
                json!({"type": kind, "length": payload.len()})
            )
            .as_bytes(),
        );
    }
    body.push(b'\n');
    body
}

async fn send_envelope(app: &TestApp, project_id: i64, key: &str, items: &[Value]) {
    send(
        app,
        Request::post(format!("/api/{project_id}/envelope/"))
            .header(
                "x-sentry-auth",
                format!("Sentry sentry_key={key}, sentry_version=7"),
            )
            .body(Body::from(envelope(items)))
            .expect("request"),
    )
    .await;
}

fn id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Error events: two errors of one issue and a warning of another, in the base minute.
fn events(base: DateTime<Utc>) -> Vec<Value> {
    let event = |message: &str, level: &str, secs: i64| {
        json!({"event_id": id(), "message": message, "level": level, "platform": "other",
               "timestamp": (base + Duration::seconds(secs)).timestamp() as f64})
    };
    vec![
        event("card declined", "error", 5),
        event("card declined", "error", 6),
        event("slow disk", "warning", 7),
    ]
}

/// Transactions: `GET /a` four times (100 to 400 ms, one failed), `GET /b` once.
fn transactions(base: DateTime<Utc>) -> Vec<Value> {
    let transaction = |name: &str, ms: i64, status: &str| {
        let start = (base + Duration::seconds(20)).timestamp_millis() as f64 / 1000.0;
        json!({"event_id": id(), "type": "transaction", "transaction": name,
               "start_timestamp": start, "timestamp": start + ms as f64 / 1000.0,
               "contexts": {"trace": {"trace_id": id(), "span_id": &id()[..16],
                                      "op": "http.server", "status": status}}})
    };
    vec![
        transaction("GET /a", 100, "ok"),
        transaction("GET /a", 200, "ok"),
        transaction("GET /a", 300, "internal_error"),
        transaction("GET /a", 400, "ok"),
        transaction("GET /b", 50, "ok"),
    ]
}

async fn query(app: &TestApp, auth: &Auth, body: Value) -> (StatusCode, Value) {
    let r = app.post("/api/v1/query", auth, body).await;
    (r.status, r.body)
}

/// The points of the frame whose labels are `labels`, as `(epoch ms, value)`.
fn points(frames: &Value, name: &str, labels: Value) -> Vec<(i64, f64)> {
    let frame = frames["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .find(|f| f["name"] == name && f["labels"] == labels)
        .unwrap_or_else(|| panic!("no frame {name} {labels} in {frames}"));
    frame["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| (p[0].as_i64().expect("ms"), p[1].as_f64().expect("value")))
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn each_source_answers_series_at_the_step(pool: PgPool) {
    let app = TestApp::new(pool);
    let (project_id, key) = app.project("shop").await;
    let viewer = app.token(Role::Viewer).await;
    let base = base_time();
    send_logs(&app, &key, base).await;
    let mut items = events(base);
    items.extend(transactions(base));
    send_envelope(&app, project_id, &key, &items).await;
    let range = |source: &str, q: &str| {
        json!({"project": "shop", "source": source, "query": q, "step": "1m",
               "from": (base - Duration::minutes(5)).to_rfc3339(),
               "to": (base + Duration::minutes(5)).to_rfc3339()})
    };
    let next = base + Duration::minutes(1);

    let (status, logs) = query(
        &app,
        &viewer,
        range("logs", "| stats count() by level every 1m"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{logs}");
    assert_eq!(logs["step_ms"], 60_000);
    assert_eq!(
        logs["frames"].as_array().expect("frames").len(),
        2,
        "{logs}"
    );
    assert_eq!(
        points(&logs, "count()", json!({"level": "error"})),
        [(ms(base), 3.0), (ms(next), 1.0)]
    );
    assert_eq!(
        points(&logs, "count()", json!({"level": "info"})),
        [(ms(base), 2.0)]
    );

    // Without a stats stage, matching lines are counted at the request's step.
    let (status, errors_only) = query(&app, &viewer, range("logs", "level:error")).await;
    assert_eq!(status, StatusCode::OK, "{errors_only}");
    assert_eq!(
        points(&errors_only, "count()", json!({})),
        [(ms(base), 3.0), (ms(next), 1.0)]
    );

    let (status, events) = query(&app, &viewer, range("errors", "count by level")).await;
    assert_eq!(status, StatusCode::OK, "{events}");
    assert_eq!(
        points(&events, "events", json!({"level": "error"})),
        [(ms(base), 2.0)]
    );
    assert_eq!(
        points(&events, "events", json!({"level": "warning"})),
        [(ms(base), 1.0)]
    );
    let (_, by_issue) = query(&app, &viewer, range("errors", "by issue level:error")).await;
    assert_eq!(
        by_issue["frames"].as_array().expect("frames").len(),
        1,
        "{by_issue}"
    );

    let (status, perf) = query(
        &app,
        &viewer,
        range(
            "performance",
            r#"count, p95, failure_rate, throughput transaction:"GET /a""#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{perf}");
    assert_eq!(points(&perf, "count", json!({})), [(ms(base), 4.0)]);
    assert_eq!(points(&perf, "throughput", json!({})), [(ms(base), 4.0)]);
    assert_eq!(points(&perf, "failure_rate", json!({})), [(ms(base), 0.25)]);
    let p95 = points(&perf, "p95", json!({}));
    assert!(
        (p95[0].1 - 385.0).abs() < 0.01,
        "p95 of 100..400 ms: {p95:?}"
    );
    let p95_frame = perf["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .find(|f| f["name"] == "p95")
        .expect("p95");
    assert_eq!(p95_frame["unit"], "ms");
    let (_, by_name) = query(&app, &viewer, range("performance", "count by transaction")).await;
    assert_eq!(
        points(&by_name, "count", json!({"transaction": "GET /b"})),
        [(ms(base), 1.0)]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_queries_and_callers_get_their_status(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, key) = app.project("shop").await;
    let viewer = app.token(Role::Viewer).await;
    let body = |source: &str, q: &str| json!({"project": "shop", "source": source, "query": q});

    let (status, answer) = query(&app, &viewer, body("tea-leaves", "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("errors, logs, metrics, performance"),
        "{message}"
    );
    for (source, q, needle) in [
        ("logs", "level:(", "query:"),
        ("logs", "* | sort ts", "sort, limit and fields make tables"),
        ("errors", "count by colour", "`colour` is not a `by` field"),
        ("performance", "p42", "`p42` is not a measure"),
    ] {
        let (status, answer) = query(&app, &viewer, body(source, q)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{source} {q}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{source} {q}: {message}");
    }
    let (status, _) = query(
        &app,
        &viewer,
        json!({"project": "shop", "source": "logs", "from": "now-30d", "step": "1s"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "too many points");

    let (status, _) = query(&app, &Auth::None, body("logs", "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = query(&app, &Auth::Bearer(key), body("logs", "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an ingest key reads nothing");
    let (status, _) = query(
        &app,
        &viewer,
        json!({"project": "nope", "source": "logs", "query": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
