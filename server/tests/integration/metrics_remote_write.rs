//! Prometheus remote write (`POST /prometheus/api/v1/write`) over real HTTP
//! requests and a real PostgreSQL: series, samples and metadata stored as sent
//! (the stale marker's bits included), both ways Prometheus sends the key,
//! refusals that keep the good series, undecodable bodies, limits, a full
//! queue answered 503 (Prometheus drops a batch answered 429), and a stock
//! Prometheus 2.42 (Debian's) with a `remote_write` block delivering.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use std::time::Duration;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use common::{
    metrics::{remote_write, series, wait_for, Prometheus, REMOTE_WRITE},
    TestApp, TestResponse,
};
use server::{
    ingest::prometheus::proto::{self, MetricMetadata, WriteRequest},
    metrics::record::STALE_NAN_BITS,
};
use sqlx::PgPool;

/// A minute ago, to the second, in ms.
fn recent() -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    now - now % 1000 - 60_000
}

/// `(metric, labels, samples)` of every stored series of a project, with the
/// values' bits.
async fn stored(
    pool: &PgPool,
    project_id: i64,
) -> Vec<(String, serde_json::Value, Vec<(i64, u64)>)> {
    let series: Vec<(i64, String, serde_json::Value)> = sqlx::query_as(
        "select series_id, metric, labels from metric_series where project_id = $1 order by metric, labels::text",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .expect("series");
    let mut out = Vec::new();
    for (id, metric, labels) in series {
        let samples: Vec<(chrono::DateTime<chrono::Utc>, f64)> =
            sqlx::query_as("select ts, value from metric_sample where series_id = $1 order by ts")
                .bind(id)
                .fetch_all(pool)
                .await
                .expect("samples");
        out.push((
            metric,
            labels,
            samples
                .into_iter()
                .map(|(ts, v)| (ts.timestamp_millis(), v.to_bits()))
                .collect(),
        ));
    }
    out
}

fn assert_plain(r: &TestResponse, status: StatusCode, needle: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert!(r.text.contains(needle), "`{needle}` not in {}", r.text);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain"),
        "plain text as Prometheus answers"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn series_samples_and_metadata_are_stored_as_sent(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("prom").await;
    let t = recent();
    let stale = f64::from_bits(STALE_NAN_BITS);
    let request = WriteRequest {
        timeseries: vec![
            // Labels in any order, one empty (= absent), samples out of order.
            series(
                &[
                    ("job", "node"),
                    ("__name__", "up"),
                    ("instance", "h:9100"),
                    ("zone", ""),
                ],
                &[(t + 15_000, 1.0), (t, 1.0), (t + 30_000, stale)],
            ),
            series(
                &[("__name__", "http_requests_total"), ("code", "200")],
                &[
                    (t, 10.0),
                    (t + 15_000, f64::NAN),
                    (t + 30_000, f64::INFINITY),
                ],
            ),
        ],
        metadata: vec![MetricMetadata {
            kind: 1,
            metric_family_name: "http_requests_total".into(),
            help: "Requests served.".into(),
            unit: String::new(),
        }],
    };
    let r = app.send(remote_write(&key, proto::encode(&request))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    let rows = stored(&pool, project_id).await;
    assert_eq!(rows.len(), 2);
    let (metric, labels, samples) = &rows[0];
    assert_eq!(metric, "http_requests_total");
    assert_eq!(labels, &serde_json::json!({"code": "200"}));
    assert_eq!(samples[0], (t, 10f64.to_bits()));
    assert!(f64::from_bits(samples[1].1).is_nan());
    assert_ne!(
        samples[1].1, STALE_NAN_BITS,
        "a NaN value is not a stale marker"
    );
    assert_eq!(samples[2].1, f64::INFINITY.to_bits());
    let (metric, labels, samples) = &rows[1];
    assert_eq!(metric, "up");
    assert_eq!(
        labels,
        &serde_json::json!({"instance": "h:9100", "job": "node"})
    );
    let times: Vec<i64> = samples.iter().map(|s| s.0).collect();
    assert_eq!(times, vec![t, t + 15_000, t + 30_000]);
    assert_eq!(
        samples[2].1, STALE_NAN_BITS,
        "the stale marker keeps its bits"
    );

    let metadata: (String, String) = sqlx::query_as(
        "select type, help from metric_metadata where project_id = $1 and metric = 'http_requests_total'",
    )
    .bind(project_id)
    .fetch_one(&pool)
    .await
    .expect("metadata");
    assert_eq!(metadata, ("counter".into(), "Requests served.".into()));

    // The same series again (a retry): no second series, and the label pairs once.
    let r = app.send(remote_write(&key, proto::encode(&request))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(stored(&pool, project_id).await.len(), 2);
    let pairs: i64 = sqlx::query_scalar("select count(*) from metric_label where project_id = $1")
        .bind(project_id)
        .fetch_one(&pool)
        .await
        .expect("labels");
    assert_eq!(pairs, 5, "__name__ twice, job, instance, code");
    // A read keeps one sample per series and millisecond.
    let ids: Vec<i64> =
        sqlx::query_scalar("select series_id from metric_series where project_id = $1")
            .bind(project_id)
            .fetch_all(&pool)
            .await
            .expect("ids");
    let read = server::metrics::store::samples(&pool, &ids, t - 1, t + 60_000, 100)
        .await
        .expect("read");
    assert!(
        read.iter().all(|(_, samples)| samples.len() == 3),
        "{read:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_key_is_taken_as_bearer_too_and_a_wrong_one_is_401(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("prom").await;
    let body = proto::encode(&WriteRequest {
        timeseries: vec![series(&[("__name__", "up")], &[(recent(), 1.0)])],
        metadata: vec![],
    });
    let bearer = Request::post(REMOTE_WRITE)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_ENCODING, "snappy")
        .body(Body::from(body.clone()))
        .expect("request");
    assert_eq!(app.send(bearer).await.status, StatusCode::NO_CONTENT);
    assert_eq!(stored(&pool, project_id).await.len(), 1);

    let r = app
        .send(remote_write(
            "sl_0000000000000000000000000000",
            body.clone(),
        ))
        .await;
    assert_plain(&r, StatusCode::UNAUTHORIZED, "ingest key");
    let anonymous = Request::post(REMOTE_WRITE)
        .body(Body::from(body))
        .expect("request");
    assert_plain(
        &app.send(anonymous).await,
        StatusCode::UNAUTHORIZED,
        "ingest key",
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_series_are_refused_by_name_and_the_good_ones_kept(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("prom").await;
    let t = recent();
    let request = WriteRequest {
        timeseries: vec![
            series(&[("__name__", "good")], &[(t, 1.0)]),
            series(
                &[("__name__", "bad"), ("not-a-label", "x")],
                &[(t, 1.0), (t + 1, 2.0)],
            ),
            series(&[("job", "nameless")], &[(t, 1.0)]),
            // Older than retention (15 days) and a day ahead.
            series(
                &[("__name__", "clock")],
                &[(t - 20 * 86_400_000, 1.0), (t, 2.0), (t + 86_400_000, 3.0)],
            ),
        ],
        metadata: vec![],
    };
    let r = app.send(remote_write(&key, proto::encode(&request))).await;
    assert_plain(&r, StatusCode::BAD_REQUEST, "5 samples refused");
    assert!(
        r.text.contains("`not-a-label` is not a valid label name"),
        "{}",
        r.text
    );
    let rows = stored(&pool, project_id).await;
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, vec!["clock", "good"]);
    assert_eq!(rows[0].2, vec![(t, 2f64.to_bits())]);
}

#[sqlx::test(migrations = "../migrations")]
async fn undecodable_and_oversized_bodies_are_refused_whole(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("prom").await;
    let r = app
        .send(remote_write(&key, b"not snappy at all".to_vec()))
        .await;
    assert_plain(&r, StatusCode::BAD_REQUEST, "snappy");
    let not_protobuf = snap::raw::Encoder::new()
        .compress_vec(b"\x0a\xff\xff\xff")
        .expect("snappy");
    let r = app.send(remote_write(&key, not_protobuf)).await;
    assert_plain(&r, StatusCode::BAD_REQUEST, "remote write request");

    let t = recent();
    let many: Vec<(i64, f64)> = (0..200_001).map(|i| (t - i, 1.0)).collect();
    let request = WriteRequest {
        timeseries: vec![series(&[("__name__", "big")], &many)],
        metadata: vec![],
    };
    let r = app.send(remote_write(&key, proto::encode(&request))).await;
    assert_plain(&r, StatusCode::PAYLOAD_TOO_LARGE, "max_samples_per_send");
    assert!(stored(&pool, project_id).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_queue_answers_503_with_retry_after(pool: PgPool) {
    let app = TestApp::with_env(pool.clone(), &[("SIGHTLINE_INGEST_QUEUE_MB", "1")]);
    let (project_id, key) = app.project("busy").await;
    let t = recent();
    // Hold the table so that the first write cannot commit while the second arrives.
    let mut blocker = pool.begin().await.expect("begin");
    sqlx::query("lock table metric_sample in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let big: Vec<(i64, f64)> = (0..70_000).map(|i| (t - i, 1.0)).collect();
    let first = {
        let request = remote_write(
            &key,
            proto::encode(&WriteRequest {
                timeseries: vec![series(&[("__name__", "first")], &big)],
                metadata: vec![],
            }),
        );
        let router = app.clone_router();
        tokio::spawn(async move { tower::ServiceExt::oneshot(router, request).await })
    };
    common::wait_until_blocked(&pool, "copy metric_sample").await;
    let one = proto::encode(&WriteRequest {
        timeseries: vec![series(&[("__name__", "second")], &[(t, 1.0)])],
        metadata: vec![],
    });
    let second = common::answered_at_once(app.send(remote_write(&key, one))).await;
    assert_plain(&second, StatusCode::SERVICE_UNAVAILABLE, "retry");
    assert_eq!(second.headers[header::RETRY_AFTER], "1");

    blocker.rollback().await.expect("rollback");
    let first = first.await.expect("join").expect("response");
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    let rows = stored(&pool, project_id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2.len(), 70_000);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stock_prometheus_remote_writes_into_sightline(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("prom").await;
    let base = app.listen().await;
    // It scrapes itself every second and remote-writes to Sightline with the
    // key as basic-auth password, as a user's `remote_write` block would.
    let prometheus = Prometheus::start(
        |address| {
            format!(
                "global: {{ scrape_interval: 1s }}\n\
                 scrape_configs:\n  - job_name: self\n    static_configs: [{{ targets: ['{address}'] }}]\n\
                 remote_write:\n  - url: {base}{REMOTE_WRITE}\n    basic_auth: {{ username: prometheus, password: '{key}' }}\n\
                 \x20   queue_config: {{ batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s }}\n\
                 \x20   metadata_config: {{ send: true, send_interval: 1s }}\n"
            )
        },
        &[],
    )
    .await;
    let viewer = app.token(app::api::Role::Viewer).await;
    // (On failure, Prometheus's log is printed as it is dropped.)
    wait_for(
        &app,
        &viewer,
        "prom",
        r#"up{job="self"}"#,
        Duration::from_secs(45),
        |got| got.first().is_some_and(|(_, up)| *up == 1.0),
    )
    .await;
    // Its own metrics came with it, and their metadata (field 3).
    let names: Vec<String> =
        sqlx::query_scalar("select distinct metric from metric_series where project_id = $1")
            .bind(project_id)
            .fetch_all(&pool)
            .await
            .expect("metrics");
    assert!(
        names.iter().any(|n| n == "prometheus_build_info"),
        "{names:?}"
    );
    let started = std::time::Instant::now();
    loop {
        let kind: Option<String> = sqlx::query_scalar(
            "select type from metric_metadata where project_id = $1 and metric = 'prometheus_http_requests_total'",
        )
        .bind(project_id)
        .fetch_optional(&pool)
        .await
        .expect("metadata");
        if kind.as_deref() == Some("counter") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no metadata arrived; Prometheus's log:\n{}",
            prometheus.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
