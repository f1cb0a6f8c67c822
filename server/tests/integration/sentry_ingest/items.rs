//! Envelope items besides events: sessions, client reports and logs.

use app::api::Role;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

use super::common::{Auth, TestApp};
use super::*;

#[sqlx::test(migrations = "../migrations")]
async fn sessions_update_release_health(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("health").await;
    let started = base_time() + chrono::Duration::minutes(5);
    let sid = new_id();
    let attrs = json!({"release": "app@2.0", "environment": "production"});
    let session = |init: bool, status: &str, errors: u32| {
        json!({"sid": sid, "did": "user-1", "init": init, "started": started.to_rfc3339(),
               "status": status, "errors": errors, "attrs": attrs})
    };
    let aggregates = json!({"aggregates": [{"started": started.to_rfc3339(), "exited": 5, "errored": 1}],
                            "attrs": attrs});
    let bodies = [
        envelope(json!({}), &[item("session", &session(true, "ok", 0))]),
        envelope(
            json!({}),
            &[
                item("session", &session(false, "crashed", 1)),
                item("sessions", &aggregates),
            ],
        ),
    ];
    for body in bodies {
        let r = app
            .send(post(&envelope_uri(project_id), Some(&key), body))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body, json!({}), "no event, no id");
    }
    let hour: (String, String, DateTime<Utc>, i64, i64, i64, i64, i64) = sqlx::query_as(
        "select release, environment, hour, started, exited, errored, abnormal, crashed
         from release_session_hour where project_id = $1",
    )
    .bind(project_id)
    .fetch_one(&pool)
    .await
    .expect("one hour of one release");
    let expected_hour =
        DateTime::from_timestamp(started.timestamp() / 3600 * 3600, 0).expect("hour");
    assert_eq!(
        hour,
        (
            "app@2.0".into(),
            "production".into(),
            expected_hour,
            7,
            5,
            1,
            0,
            1
        )
    );
    let user: (String, bool) =
        sqlx::query_as("select distinct_id, crashed from release_user where project_id = $1")
            .bind(project_id)
            .fetch_one(&pool)
            .await
            .expect("user");
    assert_eq!(user, ("user-1".into(), true));
    let release: DateTime<Utc> = sqlx::query_scalar(
        "select first_seen from release where project_id = $1 and version = 'app@2.0'",
    )
    .bind(project_id)
    .fetch_one(&pool)
    .await
    .expect("release");
    assert_eq!(release, started);
}

#[sqlx::test(migrations = "../migrations")]
async fn client_reports_are_counted_in_metrics(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("reports").await;
    let report = json!({"timestamp": 1_700_000_000.5, "discarded_events": [
        {"reason": "queue_overflow", "category": "error", "quantity": 3},
        {"reason": "Weird Reason!", "category": "error", "quantity": 1},
    ]});
    let body = envelope(json!({}), &[item("client_report", &report)]);
    let r = app
        .send(post(&envelope_uri(project_id), Some(&key), body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let metrics = app.get("/metrics", &Auth::None).await.text;
    let line = |reason: &str| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("sentry_client_discarded_total{")
                    && l.contains(&format!("reason=\"{reason}\""))
                    && l.contains("category=\"error\"")
            })
            .unwrap_or_else(|| panic!("no {reason} count in\n{metrics}"))
            .to_string()
    };
    let count = |line: String| -> f64 {
        line.rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("value")
    };
    assert!(count(line("queue_overflow")) >= 3.0);
    assert!(
        count(line("other")) >= 1.0,
        "odd labels are folded into `other`"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn sentry_logs_are_stored_and_searchable(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("logs").await;
    let now = Utc::now().timestamp() as f64;
    let logs = json!({"items": [
        {"timestamp": now - 2.0, "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "level": "warn",
         "body": "cart 7 abandoned",
         "attributes": {"service.name": {"value": "checkout", "type": "string"},
                        "cart": {"value": 7, "type": "integer"}}},
        {"timestamp": now - 1.0, "level": "info", "body": "cart 8 paid"},
    ]});
    let body = envelope(
        json!({}),
        &[(
            json!({"type": "log", "item_count": 2, "content_type": "application/vnd.sentry.items.log+json"}),
            logs.to_string().into_bytes(),
        )],
    );
    let r = app
        .send(post(&envelope_uri(project_id), Some(&key), body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let viewer = app.token(Role::Viewer).await;
    let r = app
        .get(
            &format!("/api/v1/projects/{project_id}/logs/search?q=abandoned&from=now-1h"),
            &viewer,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = r.body["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{}", r.text);
    assert_eq!(rows[0]["message"], "cart 7 abandoned");
    assert_eq!(rows[0]["service"], "checkout");
    assert_eq!(rows[0]["level"], "warn");
    assert_eq!(rows[0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(rows[0]["attributes"]["cart"], 7);
    let all: i64 = sqlx::query_scalar("select count(*) from log_entry where project_id = $1")
        .bind(project_id)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(all, 2);
}
