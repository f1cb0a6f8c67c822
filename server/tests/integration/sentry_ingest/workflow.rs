//! The issue workflow as events arrive: regressions, "resolved in release",
//! ignores that run out.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use super::common::TestApp;
use super::*;

/// Sends one event and returns its issue.
async fn report(
    app: &TestApp,
    project_id: i64,
    key: &str,
    release: Option<&str>,
    ts: DateTime<Utc>,
) -> Issue {
    let mut event = event(&new_id(), "checkout failed for cart 42", ts);
    if let Some(release) = release {
        event["release"] = json!(release);
    }
    let r = app
        .send(post(
            &envelope_uri(project_id),
            Some(key),
            event_envelope(&event),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let issues = issues(&app.pool, project_id).await;
    assert_eq!(issues.len(), 1, "{issues:#?}");
    issues[0].clone()
}

async fn set_status(pool: &PgPool, issue_id: i64, assignments: &str) {
    sqlx::query(&format!(
        "update issue set {assignments} where issue_id = $1"
    ))
    .bind(issue_id)
    .execute(pool)
    .await
    .expect("status");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_resolved_issue_that_happens_again_regresses(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("regress").await;
    let t = base_time();
    let first = report(&app, project_id, &key, None, t).await;
    set_status(
        &pool,
        first.issue_id,
        "status = 'resolved', resolved_at = now()",
    )
    .await;
    let again = report(
        &app,
        project_id,
        &key,
        None,
        t + chrono::Duration::seconds(1),
    )
    .await;
    assert_eq!(
        (again.status.as_str(), again.event_count),
        ("unresolved", 2)
    );
    assert_eq!(
        activity(&pool, first.issue_id).await,
        ["first_seen", "regression"]
    );
    let resolved_at: Option<DateTime<Utc>> =
        sqlx::query_scalar("select resolved_at from issue where issue_id = $1")
            .bind(first.issue_id)
            .fetch_one(&pool)
            .await
            .expect("resolved_at");
    assert_eq!(resolved_at, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn resolved_in_a_release_reopens_only_for_a_later_release(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("releases").await;
    let t = base_time();
    let second = |n: i64| t + chrono::Duration::seconds(n);
    let issue = report(&app, project_id, &key, Some("1.0"), second(0)).await;
    set_status(
        &pool,
        issue.issue_id,
        "status = 'resolved', resolved_in_release = '1.0', resolved_at = now()",
    )
    .await;
    // Events of the release it was resolved in, or of no release: still resolved.
    let same = report(&app, project_id, &key, Some("1.0"), second(10)).await;
    assert_eq!((same.status.as_str(), same.event_count), ("resolved", 2));
    let unknown = report(&app, project_id, &key, None, second(20)).await;
    assert_eq!(unknown.status, "resolved");
    // A release first seen after 1.0 reopens it.
    let later = report(&app, project_id, &key, Some("1.1"), second(30)).await;
    assert_eq!(
        (later.status.as_str(), later.event_count),
        ("unresolved", 4)
    );
    assert_eq!(later.last_release.as_deref(), Some("1.1"));
    let regression: Value = sqlx::query_scalar(
        "select detail from issue_activity where issue_id = $1 and kind = 'regression'",
    )
    .bind(issue.issue_id)
    .fetch_one(&pool)
    .await
    .expect("regression");
    assert_eq!(regression["release"], "1.1");
    assert_eq!(regression["resolved_in_release"], "1.0");
    assert_counts_agree(&pool, project_id).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_ignored_issue_wakes_up_when_its_count_or_time_is_up(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("ignored").await;
    let t = base_time();
    let issue = report(&app, project_id, &key, None, t).await;
    set_status(
        &pool,
        issue.issue_id,
        "status = 'ignored', ignore_until_count = 3",
    )
    .await;
    let two = report(&app, project_id, &key, None, t).await;
    assert_eq!((two.status.as_str(), two.event_count), ("ignored", 2));
    let three = report(&app, project_id, &key, None, t).await;
    assert_eq!(
        (three.status.as_str(), three.event_count),
        ("unresolved", 3)
    );
    assert_eq!(
        activity(&pool, issue.issue_id).await,
        ["first_seen", "unignored"]
    );

    set_status(
        &pool,
        issue.issue_id,
        "status = 'ignored', ignore_until = now() + interval '1 hour'",
    )
    .await;
    assert_eq!(
        report(&app, project_id, &key, None, t).await.status,
        "ignored"
    );
    set_status(
        &pool,
        issue.issue_id,
        "ignore_until = now() - interval '1 second'",
    )
    .await;
    assert_eq!(
        report(&app, project_id, &key, None, t).await.status,
        "unresolved"
    );
    let cleared: (Option<DateTime<Utc>>, Option<i64>) =
        sqlx::query_as("select ignore_until, ignore_until_count from issue where issue_id = $1")
            .bind(issue.issue_id)
            .fetch_one(&pool)
            .await
            .expect("ignore fields");
    assert_eq!(cleared, (None, None));
}
