//! The errors read and triage API as a user drives it: events arrive through the
//! Sentry store endpoint, then the issue list (counts and users in the range,
//! filters, sort, pages), one issue (series, tags, activity), its events with
//! navigation, status changes with their activity and who made them, regressions
//! and "resolve in next release" as later events arrive, and release health.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use crate::common;

use app::api::Role;
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use common::{Auth, TestApp, TestResponse};
use serde_json::{json, Value};
use sqlx::PgPool;

/// Sends one event through `POST /api/{project_id}/store/`.
async fn store(app: &TestApp, project_id: i64, key: &str, event: Value) -> TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/{project_id}/store/"))
        .header(
            "x-sentry-auth",
            format!("Sentry sentry_key={key}, sentry_version=7, sentry_client=test/1.0"),
        )
        .header("content-type", "application/json")
        .body(Body::from(event.to_string()))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response
}

fn error(kind: &str, value: &str, function: &str, user: &str, release: &str) -> Value {
    json!({
        "platform": "python",
        "level": "error",
        "release": release,
        "environment": "production",
        "user": {"id": user, "email": format!("{user}@example.com")},
        "tags": {"browser": if user == "u1" { "Firefox" } else { "Chrome" }},
        "exception": {"values": [{
            "type": kind,
            "value": value,
            "stacktrace": {"frames": [
                {"module": "app.views", "function": "handle", "in_app": true, "lineno": 10},
                {"module": "app.billing", "function": function, "in_app": true, "lineno": 42}
            ]}
        }]}
    })
}

async fn issues(app: &TestApp, auth: &Auth, query: &str) -> Vec<Value> {
    let response = app
        .get(&format!("/api/v1/projects/shop/issues?{query}"), auth)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.body["issues"].as_array().unwrap().clone()
}

async fn patch(app: &TestApp, auth: &Auth, uri: &str, body: Value) -> TestResponse {
    app.request(Method::PATCH, uri, auth, Some(body)).await
}

#[sqlx::test(migrations = "../migrations")]
async fn issues_are_listed_with_counts_filters_and_pages(pool: PgPool) {
    let app = TestApp::new(pool);
    let (project, key) = app.project("shop").await;
    for user in ["u1", "u2", "u1"] {
        store(
            &app,
            project,
            &key,
            error("KeyError", "'sku'", "charge", user, "1.0"),
        )
        .await;
    }
    store(
        &app,
        project,
        &key,
        json!({"level": "warning", "message": "disk 91% full on db-1"}),
    )
    .await;
    let viewer = app.token(Role::Viewer).await;

    let by_events = issues(&app, &viewer, "sort=events").await;
    assert_eq!(by_events.len(), 2);
    let key_error = &by_events[0];
    assert_eq!(key_error["title"], "KeyError: 'sku'");
    assert_eq!(key_error["culprit"], "app.billing in charge");
    assert_eq!(key_error["count"], 3);
    assert_eq!(key_error["user_count"], 2);
    assert_eq!(key_error["status"], "unresolved");
    let sparkline: i64 = key_error["sparkline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(sparkline, 3, "the sparkline adds up to the count");

    assert_eq!(issues(&app, &viewer, "level=warning").await.len(), 1);
    assert_eq!(issues(&app, &viewer, "q=disk").await.len(), 1);
    assert_eq!(issues(&app, &viewer, "q=billing").await.len(), 1, "culprit");
    // Tag terms count only the events that match: u1's two are the Firefox ones.
    let firefox = issues(&app, &viewer, "q=browser:Firefox").await;
    assert_eq!(firefox.len(), 1);
    assert_eq!(
        (&firefox[0]["count"], &firefox[0]["user_count"]),
        (&json!(2), &json!(1))
    );
    let not_firefox = issues(&app, &viewer, "q=-browser:Firefox&sort=events").await;
    assert_eq!(not_firefox.len(), 2, "the warning has no browser tag");
    assert_eq!(not_firefox[0]["count"], 1);
    let of_u2 = issues(&app, &viewer, "q=user.email:u2@example.com").await;
    assert_eq!((of_u2.len(), &of_u2[0]["count"]), (1, &json!(1)));
    let of_u2 = issues(&app, &viewer, "q=user.id:u2").await;
    assert_eq!((of_u2.len(), &of_u2[0]["count"]), (1, &json!(1)));
    assert_eq!(
        issues(&app, &viewer, "q=charge%20browser:Chrome")
            .await
            .len(),
        1
    );
    assert_eq!(
        issues(&app, &viewer, "q=disk%20browser:Chrome").await.len(),
        0
    );
    assert_eq!(issues(&app, &viewer, "q=release:%221.0%22").await.len(), 1);
    let many = (0..11)
        .map(|i| format!("k:{i}"))
        .collect::<Vec<_>>()
        .join("%20");
    let refused = app
        .get(&format!("/api/v1/projects/shop/issues?q={many}"), &viewer)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(issues(&app, &viewer, "release=1.0").await.len(), 1);
    assert_eq!(issues(&app, &viewer, "status=resolved").await.len(), 0);
    assert!(
        issues(&app, &viewer, "from=now-30m&to=now-10m")
            .await
            .is_empty(),
        "nothing happened in that range"
    );

    let first = app
        .get("/api/v1/projects/shop/issues?limit=1&sort=events", &viewer)
        .await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let second = app
        .get(
            &format!("/api/v1/projects/shop/issues?limit=1&sort=events&cursor={cursor}"),
            &viewer,
        )
        .await;
    assert_eq!(second.body["issues"][0]["level"], "warning");
    assert!(second.body["next_cursor"].is_null());

    // Keyset pages: an issue arriving between two pages neither repeats a row
    // of the first page on the second nor hides one (offset paging would).
    let newest = app
        .get(
            "/api/v1/projects/shop/issues?limit=1&sort=last_seen",
            &viewer,
        )
        .await;
    assert_eq!(newest.body["issues"][0]["level"], "warning");
    let cursor = newest.body["next_cursor"].as_str().unwrap().to_string();
    store(
        &app,
        project,
        &key,
        json!({"level": "error", "message": "queue stalled"}),
    )
    .await;
    let next = issues(
        &app,
        &viewer,
        &format!("limit=1&sort=last_seen&cursor={cursor}"),
    )
    .await;
    assert_eq!(next.len(), 1);
    assert_eq!(next[0]["title"], "KeyError: 'sku'", "{next:?}");
    for sort in ["last_seen", "first_seen", "events", "users"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let after = cursor
                .as_ref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let page = app
                .get(
                    &format!("/api/v1/projects/shop/issues?limit=1&sort={sort}{after}"),
                    &viewer,
                )
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
            for issue in page.body["issues"].as_array().unwrap() {
                seen.push(issue["issue_id"].as_i64().unwrap());
            }
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let mut distinct = seen.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!((seen.len(), distinct.len()), (3, 3), "{sort}: {seen:?}");
    }
    let stranger = app
        .get("/api/v1/projects/shop/issues?cursor=12", &viewer)
        .await;
    assert_eq!(
        stranger.status,
        StatusCode::BAD_REQUEST,
        "{}",
        stranger.text
    );

    let bad = app
        .get("/api/v1/projects/shop/issues?sort=loudest", &viewer)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("sort"), "{}", bad.text);
}

#[sqlx::test(migrations = "../migrations")]
async fn an_issue_shows_series_tags_events_and_navigation(pool: PgPool) {
    let app = TestApp::new(pool);
    let (project, key) = app.project("shop").await;
    // The first event happened 90 minutes before it arrives (an SDK's retry).
    let mut late = error("KeyError", "'sku'", "charge", "u1", "1.0");
    let happened = chrono::Utc::now() - chrono::Duration::minutes(90);
    late["timestamp"] = json!(happened.timestamp());
    store(&app, project, &key, late).await;
    for user in ["u2", "u1"] {
        store(
            &app,
            project,
            &key,
            error("KeyError", "'sku'", "charge", user, "1.0"),
        )
        .await;
    }
    let viewer = app.token(Role::Viewer).await;
    let issue_id = issues(&app, &viewer, "").await[0]["issue_id"]
        .as_i64()
        .unwrap();

    let detail = app
        .get(&format!("/api/v1/issues/{issue_id}"), &viewer)
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert_eq!(detail.body["count"], 3);
    assert_eq!(detail.body["user_count"], 2);
    assert_eq!(detail.body["first_release"], "1.0");
    let series: i64 = detail.body["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["events"].as_i64().unwrap())
        .sum();
    assert_eq!(series, 3);
    let browser = detail.body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "browser")
        .unwrap()
        .clone();
    assert_eq!(browser["total"], 3);
    assert_eq!(browser["top"][0], json!({"value": "Firefox", "count": 2}));
    assert_eq!(detail.body["activity"][0]["kind"], "first_seen");
    // Dated by the event, as the header's first seen is, not by its arrival.
    let time = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(
        time(&detail.body["activity"][0]["at"]),
        time(&detail.body["first_seen"])
    );
    assert_eq!(
        time(&detail.body["first_seen"]).timestamp(),
        happened.timestamp()
    );

    let events = app
        .get(
            &format!("/api/v1/issues/{issue_id}/events?limit=2"),
            &viewer,
        )
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.text);
    assert_eq!(events.body["events"].as_array().unwrap().len(), 2);
    assert_eq!(events.body["events"][0]["message"], "'sku'");
    let cursor = events.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/issues/{issue_id}/events?limit=2&cursor={cursor}"),
            &viewer,
        )
        .await;
    assert_eq!(rest.body["events"].as_array().unwrap().len(), 1);

    let latest = detail.body["latest_event_id"].as_str().unwrap();
    assert_eq!(latest, events.body["events"][0]["event_id"]);
    let event = app.get(&format!("/api/v1/events/{latest}"), &viewer).await;
    assert_eq!(event.status, StatusCode::OK, "{}", event.text);
    assert_eq!(event.body["issue_id"], issue_id);
    assert_eq!(
        event.body["payload"]["exception"]["values"][0]["type"],
        "KeyError"
    );
    assert_eq!(event.body["latest_event_id"], latest);
    assert!(event.body["next_event_id"].is_null());
    let previous = event.body["previous_event_id"].as_str().unwrap();
    let middle = app
        .get(&format!("/api/v1/events/{previous}"), &viewer)
        .await;
    assert_eq!(middle.body["next_event_id"], latest);
    assert_eq!(
        middle.body["previous_event_id"],
        middle.body["oldest_event_id"]
    );

    let missing = app
        .get("/api/v1/events/00000000000000000000000000000001", &viewer)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrations = "../migrations")]
async fn triage_changes_status_records_who_and_regressions_reopen(pool: PgPool) {
    let app = TestApp::new(pool);
    let (project, key) = app.project("shop").await;
    store(
        &app,
        project,
        &key,
        error("KeyError", "'sku'", "charge", "u1", "1.0"),
    )
    .await;
    let viewer = app.token(Role::Viewer).await;
    let editor = app.session(Role::Editor).await;
    let issue_id = issues(&app, &viewer, "").await[0]["issue_id"]
        .as_i64()
        .unwrap();
    let uri = format!("/api/v1/issues/{issue_id}");

    let refused = patch(&app, &viewer, &uri, json!({"status": "resolved"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = patch(
        &app,
        &editor,
        &uri,
        json!({"status": "unresolved", "ignore_count": 3}),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);

    let resolved = patch(&app, &editor, &uri, json!({"status": "resolved"})).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    assert_eq!(resolved.body["status"], "resolved");
    assert_eq!(resolved.body["activity"][0]["kind"], "resolved");
    assert!(resolved.body["activity"][0]["user"]
        .as_str()
        .unwrap()
        .contains('@'));

    // The same error again: a regression.
    store(
        &app,
        project,
        &key,
        error("KeyError", "'sku'", "charge", "u1", "1.0"),
    )
    .await;
    let reopened = app.get(&uri, &viewer).await;
    assert_eq!(reopened.body["status"], "unresolved");
    assert_eq!(reopened.body["activity"][0]["kind"], "regression");

    // Resolved in the next release: events of 1.0 do not reopen, 1.1 does.
    let next = patch(
        &app,
        &editor,
        &uri,
        json!({"status": "resolved", "resolved_in_release": "next"}),
    )
    .await;
    assert_eq!(next.body["resolved_in_release"], "1.0", "{}", next.text);
    store(
        &app,
        project,
        &key,
        error("KeyError", "'sku'", "charge", "u1", "1.0"),
    )
    .await;
    assert_eq!(app.get(&uri, &viewer).await.body["status"], "resolved");
    store(
        &app,
        project,
        &key,
        error("KeyError", "'sku'", "charge", "u1", "1.1"),
    )
    .await;
    let regressed = app.get(&uri, &viewer).await;
    assert_eq!(regressed.body["status"], "unresolved");
    assert_eq!(regressed.body["activity"][0]["kind"], "regression");

    // Ignored until two more events.
    let ignored = patch(
        &app,
        &editor,
        &uri,
        json!({"status": "ignored", "ignore_count": 2}),
    )
    .await;
    assert_eq!(ignored.body["status"], "ignored", "{}", ignored.text);
    store(
        &app,
        project,
        &key,
        error("KeyError", "'sku'", "charge", "u1", "1.1"),
    )
    .await;
    assert_eq!(app.get(&uri, &viewer).await.body["status"], "ignored");
    store(
        &app,
        project,
        &key,
        error("KeyError", "'sku'", "charge", "u1", "1.1"),
    )
    .await;
    assert_eq!(app.get(&uri, &viewer).await.body["status"], "unresolved");
}

#[sqlx::test(migrations = "../migrations")]
async fn bulk_triage_changes_many_issues_of_one_project(pool: PgPool) {
    let app = TestApp::new(pool);
    let (project, key) = app.project("shop").await;
    store(
        &app,
        project,
        &key,
        error("KeyError", "'a'", "charge", "u1", "1.0"),
    )
    .await;
    store(
        &app,
        project,
        &key,
        error("ValueError", "b", "refund", "u1", "1.0"),
    )
    .await;
    let editor = app.token(Role::Editor).await;
    let ids: Vec<i64> = issues(&app, &editor, "")
        .await
        .iter()
        .map(|i| i["issue_id"].as_i64().unwrap())
        .collect();
    let done = patch(
        &app,
        &editor,
        "/api/v1/projects/shop/issues",
        json!({"issue_ids": ids, "status": "ignored"}),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["updated"], 2);
    assert_eq!(issues(&app, &editor, "status=ignored").await.len(), 2);

    app.project("other").await;
    let elsewhere = patch(
        &app,
        &editor,
        "/api/v1/projects/other/issues",
        json!({"issue_ids": ids, "status": "resolved"}),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        issues(&app, &editor, "status=ignored").await.len(),
        2,
        "nothing changed"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn release_health_counts_sessions_and_users(pool: PgPool) {
    let app = TestApp::new(pool);
    let (project, key) = app.project("shop").await;
    let now = chrono::Utc::now().to_rfc3339();
    let mut envelope = String::from("{}\n");
    for (sid, did, status) in [
        ("a", "u1", "exited"),
        ("b", "u2", "crashed"),
        ("c", "u2", "exited"),
        ("d", "u3", "exited"),
    ] {
        let session = json!({"sid": format!("{sid}0000000000000000000000000000000"), "did": did,
            "init": true, "started": now, "timestamp": now, "status": status, "errors": 0,
            "attrs": {"release": "2.0", "environment": "production"}})
        .to_string();
        envelope.push_str(&format!("{{\"type\":\"session\"}}\n{session}\n"));
    }
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/{project}/envelope/?sentry_key={key}"))
        .body(Body::from(envelope))
        .unwrap();
    let sent = app.send(request).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);

    let viewer = app.token(Role::Viewer).await;
    let health = app.get("/api/v1/projects/shop/releases", &viewer).await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    let release = &health.body["releases"][0];
    assert_eq!(release["version"], "2.0");
    assert_eq!(release["sessions"], 4);
    assert_eq!(release["crashed_sessions"], 1);
    assert_eq!(release["crash_free_sessions"], 0.75);
    assert_eq!(release["users"], 3);
    assert_eq!(release["crashed_users"], 1);
    let crash_free_users = release["crash_free_users"].as_f64().unwrap();
    assert!((crash_free_users - 2.0 / 3.0).abs() < 1e-9);
}
