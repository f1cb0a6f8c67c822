//! Scrape targets over real HTTP: a target added through the API is scraped
//! (a small exporter of the test's own serves Prometheus text), its series
//! carry `job`, `instance` and the target's labels, clashing labels become
//! `exported_<name>`, `up` and the other synthetic series are written, the
//! targets list shows the state, a failing target turns `up` to 0 and its
//! series stale, and two instances on one database scrape each interval
//! once between them; a URL with credentials is refused, and a failing
//! target's error shows neither its password nor its URL's query.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use app::api::Role;
use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    routing::get,
    Router,
};
use serde_json::json;
use sqlx::PgPool;

use crate::common::{
    metrics::{instant, wait_for},
    Auth, TestApp,
};

/// The exporter: counts its scrapes, and fails while `failing` is set.
#[derive(Clone, Default)]
struct Exporter {
    scrapes: Arc<AtomicUsize>,
    failing: Arc<AtomicBool>,
}

const EXPOSITION: &str = "# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.5\n# TYPE requests_total counter\nrequests_total{job=\"inner\",code=\"200\"} 7\n";

async fn exporter() -> (Exporter, String) {
    let exporter = Exporter::default();
    let state = exporter.clone();
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let state = state.clone();
            async move {
                state.scrapes.fetch_add(1, Ordering::SeqCst);
                if state.failing.load(Ordering::SeqCst) {
                    (StatusCode::INTERNAL_SERVER_ERROR, String::from("down"))
                } else {
                    (StatusCode::OK, EXPOSITION.to_string())
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (exporter, format!("127.0.0.1:{}", address.port()))
}

/// How long a test waits for what a scrape stores.
const WAIT: Duration = Duration::from_secs(20);

#[sqlx::test(migrations = "../migrations")]
async fn a_target_added_through_the_api_is_scraped(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    app.project("shop").await;
    let (exporter, address) = exporter().await;
    let admin = app.token(Role::Admin).await;
    let viewer = app.token(Role::Viewer).await;
    let target = json!({"job": "node", "url": format!("http://{address}/metrics"),
                        "interval_seconds": 1, "labels": {"env": "test"}});

    let r = app
        .post(
            "/api/v1/projects/shop/metrics/targets",
            &viewer,
            target.clone(),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "viewers do not add targets"
    );
    let bad = json!({"job": "node", "url": "ftp://x/metrics", "interval_seconds": 1});
    let r = app
        .post("/api/v1/projects/shop/metrics/targets", &admin, bad)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("url"), "{}", r.text);
    let r = app
        .post(
            "/api/v1/projects/shop/metrics/targets",
            &admin,
            target.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let target_id = r.body["target_id"].as_i64().expect("target_id");
    let r = app
        .post("/api/v1/projects/shop/metrics/targets", &admin, target)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    app.state.start_scraper();
    wait_for(&app, &viewer, "shop", r#"up{job="node"}"#, WAIT, |got| {
        got.len() == 1 && got[0].1 == 1.0
    })
    .await;
    let got = instant(&app, &viewer, "shop", "node_load1", None).await;
    assert_eq!(
        got,
        vec![(
            json!({"__name__": "node_load1", "job": "node", "instance": address, "env": "test"}),
            0.5
        )]
    );
    // The target's own `job` clashes with Sightline's: it is kept as `exported_job`.
    let got = instant(&app, &viewer, "shop", "requests_total", None).await;
    assert_eq!(got[0].0["job"], "node");
    assert_eq!(got[0].0["exported_job"], "inner");
    let got = instant(
        &app,
        &viewer,
        "shop",
        r#"scrape_samples_scraped{job="node"}"#,
        None,
    )
    .await;
    assert_eq!(got[0].1, 2.0);
    assert_eq!(
        instant(
            &app,
            &viewer,
            "shop",
            r#"scrape_duration_seconds{job="node"}"#,
            None
        )
        .await
        .len(),
        1
    );

    let r = app
        .get("/api/v1/projects/shop/metrics/targets", &viewer)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let listed = &r.body[0];
    assert_eq!(listed["target_id"], target_id);
    assert_eq!(listed["instance"], address.as_str());
    assert_eq!(listed["health"], "up");
    assert_eq!(listed["last_samples"], 2);
    assert_eq!(
        listed["timeout_seconds"], 1,
        "the timeout is at most the interval"
    );

    // Down: `up` is 0, the series are stale at once, and the list says why.
    exporter.failing.store(true, Ordering::SeqCst);
    wait_for(&app, &viewer, "shop", r#"up{job="node"}"#, WAIT, |got| {
        got.len() == 1 && got[0].1 == 0.0
    })
    .await;
    assert!(
        instant(&app, &viewer, "shop", "node_load1", None)
            .await
            .is_empty(),
        "stale after the failed scrape"
    );
    let r = app
        .get("/api/v1/projects/shop/metrics/targets", &viewer)
        .await;
    assert_eq!(r.body[0]["health"], "down");
    assert!(
        r.body[0]["last_error"]
            .as_str()
            .expect("error")
            .contains("500"),
        "{}",
        r.text
    );

    let existing = server::metrics::targets::existing(&pool, &[target_id, target_id + 1])
        .await
        .expect("lookup");
    assert_eq!(existing, [target_id].into());
    let r = app
        .send(
            Request::delete(format!("/api/v1/projects/shop/metrics/targets/{target_id}"))
                .header(
                    header::AUTHORIZATION,
                    match &admin {
                        Auth::Bearer(t) => format!("Bearer {t}"),
                        _ => unreachable!("a token"),
                    },
                )
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // The scraper forgets the last series of targets this lookup no longer finds.
    let existing = server::metrics::targets::existing(&pool, &[target_id])
        .await
        .expect("lookup");
    assert!(existing.is_empty(), "{existing:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn two_instances_scrape_each_interval_once_between_them(pool: PgPool) {
    let one = TestApp::new(pool.clone());
    let two = TestApp::new(pool.clone());
    one.project("shop").await;
    let (exporter, address) = exporter().await;
    let admin = one.token(Role::Admin).await;
    let r = one
        .post(
            "/api/v1/projects/shop/metrics/targets",
            &admin,
            json!({"job": "node", "url": format!("http://{address}/metrics"), "interval_seconds": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    one.state.start_scraper();
    two.state.start_scraper();
    tokio::time::sleep(std::time::Duration::from_millis(5_500)).await;
    let scrapes = exporter.scrapes.load(Ordering::SeqCst);
    // One scrape a second: about six in 5.5 s; two instances each scraping
    // on their own would make about twelve.
    assert!(
        (4..=7).contains(&scrapes),
        "{scrapes} scrapes in 5.5 s at a 1 s interval"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn credentials_stay_out_of_target_urls_and_scrape_errors(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    app.project("shop").await;
    let admin = app.token(Role::Admin).await;
    let viewer = app.token(Role::Viewer).await;

    for url in [
        "http://scraper:hunter2@127.0.0.1:9100/metrics",
        "http://scraper@127.0.0.1:9100/metrics",
    ] {
        let r = app
            .post(
                "/api/v1/projects/shop/metrics/targets",
                &admin,
                json!({"job": "node", "url": url, "interval_seconds": 1}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text);
        assert!(
            r.text.contains("credentials go in `auth`"),
            "{url}: {}",
            r.text
        );
    }

    // A port nothing listens on: the scrape fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let r = app
        .post(
            "/api/v1/projects/shop/metrics/targets",
            &admin,
            json!({"job": "node",
                   "url": format!("http://127.0.0.1:{closed}/metrics?token=query-secret"),
                   "interval_seconds": 1,
                   "auth": {"basic": {"username": "scraper", "password": "hunter2"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.state.start_scraper();
    let started = std::time::Instant::now();
    let listed = loop {
        let r = app
            .get("/api/v1/projects/shop/metrics/targets", &viewer)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        if r.body[0]["last_error"].is_string() {
            break r.body[0].clone();
        }
        assert!(
            started.elapsed() < WAIT,
            "the target was never scraped: {}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(listed["health"], "down");
    let error = listed["last_error"].as_str().expect("error");
    assert!(error.contains("refused"), "says why: {error}");
    assert!(
        !error.contains("hunter2") && !error.contains("query-secret"),
        "no secret in the error every viewer reads: {error}"
    );
}
