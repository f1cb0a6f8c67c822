//! Real SDKs: the Rust `sentry` crate and Python's sentry-sdk (gzip and brotli).

use serde_json::Value;
use sqlx::PgPool;

use super::common::{run_python, TestApp};
use super::*;

/// Runs `report` with a Sentry client of its own (the `sentry` crate as an
/// application configures it) on a blocking thread, since the client blocks
/// while the test's runtime serves its requests; then flushes.
async fn with_rust_sdk(dsn: &str, report: impl FnOnce() + Send + 'static) {
    // `ClientOptions` is non-exhaustive: start from the defaults.
    let mut options = sentry::ClientOptions::default();
    options.dsn = Some(dsn.parse().expect("dsn"));
    options.release = Some("shop@1.4.2".into());
    options.environment = Some("test".into());
    options.attach_stacktrace = true;
    common::with_sentry_client(options, report).await;
}

/// Parses a quantity and reports the error; reached from two call sites.
#[inline(never)]
fn report_bad_quantity(raw: &str) {
    if let Err(error) = raw.parse::<u32>() {
        sentry::capture_error(&error);
    }
}

#[inline(never)]
fn checkout() {
    report_bad_quantity("ten");
}

#[inline(never)]
fn reorder() {
    report_bad_quantity("a dozen");
}

#[inline(never)]
fn report_bad_price(raw: &str) {
    if let Err(error) = raw.parse::<f64>() {
        sentry::capture_error(&error);
    }
}

#[inline(never)]
fn add_to_total(total: u32, amount: u32) -> u32 {
    total
        .checked_add(amount)
        .unwrap_or_else(|| panic!("cart total overflowed"))
}

#[sqlx::test(migrations = "../migrations")]
async fn the_rust_sdk_reports_errors_messages_and_panics(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("rust-shop").await;
    let base = app.listen().await;
    with_rust_sdk(&app.dsn(&base, &key, project_id), || {
        sentry::configure_scope(|scope| {
            scope.set_user(Some(sentry::User {
                id: Some("user-7".into()),
                email: Some("ada@example.com".into()),
                ..Default::default()
            }));
            scope.set_tag("tenant", "acme");
        });
        checkout();
        reorder();
        report_bad_price("cheap");
        sentry::capture_message("disk almost full", sentry::Level::Warning);
        for message in [
            "card declined by the bank",
            "gateway refused the connection",
        ] {
            sentry::with_scope(
                |scope| scope.set_fingerprint(Some(&["payment-gateway"][..])),
                || sentry::capture_message(message, sentry::Level::Error),
            );
        }
        let panicked = std::panic::catch_unwind(|| add_to_total(u32::MAX, 1));
        assert!(panicked.is_err());
    })
    .await;

    let issues = issues(&pool, project_id).await;
    assert_eq!(issues.len(), 5, "{issues:#?}");
    let quantity = issue(&issues, "ParseIntError: invalid digit found in string");
    assert_eq!(
        quantity.event_count, 2,
        "one function reached from two call sites is one issue"
    );
    assert!(
        quantity
            .culprit
            .ends_with("in integration::sentry_ingest::sdks::report_bad_quantity"),
        "{quantity:?}"
    );
    assert_eq!(quantity.last_release.as_deref(), Some("shop@1.4.2"));
    let price = issue(&issues, "ParseFloatError: invalid float literal");
    assert_eq!(price.event_count, 1, "another error type is another issue");
    assert!(price
        .culprit
        .ends_with("in integration::sentry_ingest::sdks::report_bad_price"));
    assert_eq!(issue(&issues, "disk almost full").level, "warning");
    // Both messages share the custom fingerprint; the title is the newest's.
    let gateway = issue(&issues, "gateway refused the connection");
    assert_eq!(gateway.event_count, 2);
    let panic = issue(&issues, "panic: cart total overflowed");
    assert_eq!(panic.level, "fatal");
    assert!(
        panic.culprit.contains("sentry_ingest::sdks::add_to_total"),
        "{panic:?}"
    );
    assert!(issues.iter().all(|i| i.status == "unresolved"));
    assert_eq!(activity(&pool, quantity.issue_id).await, ["first_seen"]);

    let details: Vec<EventDetails> = sqlx::query_as(
        "select user_key, release, environment, tags from error_event where project_id = $1",
    )
    .bind(project_id)
    .fetch_all(&pool)
    .await
    .expect("events");
    assert_eq!(details.len(), 7);
    for event in details {
        assert_eq!(event.user_key.as_deref(), Some("user-7"));
        assert_eq!(event.release.as_deref(), Some("shop@1.4.2"));
        assert_eq!(event.environment.as_deref(), Some("test"));
        assert_eq!(event.tags["tenant"], "acme");
    }
    let release: i64 = sqlx::query_scalar(
        "select count(*) from release where project_id = $1 and version = 'shop@1.4.2'",
    )
    .bind(project_id)
    .fetch_one(&pool)
    .await
    .expect("release");
    assert_eq!(release, 1);
    assert_counts_agree(&pool, project_id).await;
}

async fn python_sdk_reports(pool: PgPool, compression: &str) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("py-shop").await;
    let base = app.listen().await;
    let dsn = app.dsn(&base, &key, project_id);
    let out = run_python("sentry_client.py", &[&dsn, compression, "py-shop@2.0.0"]).await;
    let out: Value = serde_json::from_str(out.trim()).expect("client output");
    assert_eq!(
        out["compression"], compression,
        "the SDK compressed with it"
    );

    let issues = issues(&pool, project_id).await;
    assert_eq!(issues.len(), 3, "{issues:#?}");
    let missing = issue(&issues, "KeyError: 'cart-2'");
    assert_eq!(missing.event_count, 2, "one raise, two callers: one issue");
    assert!(missing.culprit.ends_with("in load_cart"), "{missing:?}");
    assert_eq!(missing.last_release.as_deref(), Some("py-shop@2.0.0"));
    assert_eq!(issue(&issues, "payment provider is slow").level, "warning");
    let chained = issue(&issues, "RuntimeError: order id is not a number");
    assert!(chained.culprit.ends_with("in parse_order"), "{chained:?}");

    let ids: Vec<String> = sqlx::query_scalar(
        "select replace(event_id::text, '-', '') from error_event where project_id = $1 order by ts",
    )
    .bind(project_id)
    .fetch_all(&pool)
    .await
    .expect("ids");
    let mut sent: Vec<String> = out["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|id| id.as_str().expect("id").to_string())
        .collect();
    sent.sort();
    let mut stored = ids.clone();
    stored.sort();
    assert_eq!(stored, sent, "every captured event is stored under its id");
    let user: Option<String> =
        sqlx::query_scalar("select user_key from error_event where project_id = $1 limit 1")
            .bind(project_id)
            .fetch_one(&pool)
            .await
            .expect("user");
    assert_eq!(user.as_deref(), Some("user-42"));

    let log: (i16, String) =
        sqlx::query_as("select level, message from log_entry where project_id = $1")
            .bind(project_id)
            .fetch_one(&pool)
            .await
            .expect("the SDK's log line");
    assert_eq!(log, (4, "cart 7 abandoned".to_string()));
    assert_counts_agree(&pool, project_id).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_python_sdk_reports_with_gzip(pool: PgPool) {
    python_sdk_reports(pool, "gzip").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_python_sdk_reports_with_brotli(pool: PgPool) {
    python_sdk_reports(pool, "br").await;
}
