//! Rate limits: a key's own limit per minute and a full ingest queue.

use std::time::Duration;

use axum::http::{header, StatusCode};
use chrono::Utc;
use serde_json::json;
use sqlx::PgPool;

use super::common::{self, TestApp};
use super::*;

#[sqlx::test(migrations = "../migrations")]
async fn a_keys_rate_limit_is_a_429_with_sentry_rate_limits(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("limited").await;
    sqlx::query("update project_key set rate_limit_per_minute = 2 where public_key = $1")
        .bind(&key)
        .execute(&pool)
        .await
        .expect("limit");
    // The window is the clock's minute: start early in one.
    let second = Utc::now().timestamp() % 60;
    if second > 50 {
        tokio::time::sleep(Duration::from_secs((61 - second) as u64)).await;
    }
    let send = |message: &str| {
        post(
            &envelope_uri(project_id),
            Some(&key),
            event_envelope(&event(&new_id(), message, base_time())),
        )
    };
    for n in 1..=2 {
        let r = app.send(send(&format!("event {n}"))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let r = app.send(send("event 3")).await;
    assert_refused(&r, StatusCode::TOO_MANY_REQUESTS, "rate limit");
    let limits = r.headers["x-sentry-rate-limits"].to_str().expect("header");
    let (seconds, scope) = limits.split_once("::").expect("retry_after::scope");
    assert_eq!(scope, "key");
    let seconds: u64 = seconds.parse().expect("seconds");
    assert!((1..=60).contains(&seconds), "{limits}");
    assert_eq!(
        r.headers[header::RETRY_AFTER].to_str().ok(),
        Some(seconds.to_string().as_str())
    );

    // Sessions are not events: still accepted.
    let session = json!({"sid": new_id(), "init": true, "started": Utc::now().to_rfc3339(),
                         "status": "ok", "attrs": {"release": "app@1"}});
    let r = app
        .send(post(
            &envelope_uri(project_id),
            Some(&key),
            envelope(json!({}), &[item("session", &session)]),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(stored_events(&pool, project_id).await, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_queue_is_a_429_for_the_organization(pool: PgPool) {
    let app = TestApp::with_env(pool.clone(), &[("SIGHTLINE_INGEST_QUEUE_MB", "1")]);
    let (project_id, key) = app.project("busy").await;
    // Hold the table so the first event cannot commit while the second arrives.
    let mut blocker = pool.begin().await.expect("begin");
    sqlx::query("lock table error_event_seen in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let big = |message: &str| {
        let mut event = event(&new_id(), message, base_time());
        event["extra"] = json!({"blob": "y".repeat(700 * 1024)});
        post(
            &envelope_uri(project_id),
            Some(&key),
            event_envelope(&event),
        )
    };
    let first = {
        let request = big("first");
        let router = app.clone_router();
        tokio::spawn(async move { tower::ServiceExt::oneshot(router, request).await })
    };
    common::wait_until_blocked(&pool, "insert into error_event_seen").await;
    let second = common::answered_at_once(app.send(big("second"))).await;
    assert_refused(&second, StatusCode::TOO_MANY_REQUESTS, "retry");
    assert_eq!(second.headers[header::RETRY_AFTER], "1");
    assert_eq!(second.headers["x-sentry-rate-limits"], "1::organization");

    blocker.rollback().await.expect("rollback");
    let first = first.await.expect("join").expect("response");
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(stored_events(&pool, project_id).await, 1);
}
