//! Prometheus's query API as Sightline answers it per project
//! (`/prometheus/{project}/api/v1/...`), over samples sent by remote write:
//! Prometheus's JSON shapes for instant and range queries, series, labels,
//! label values, metadata and build info; errors in its shape (400
//! `bad_data`, 401); API tokens as bearer or basic-auth password; the project
//! by path or header; form POST as Grafana sends it; stale markers ending a
//! series; and metrics as a source of `POST /api/v1/query`. OTLP metrics from
//! the OpenTelemetry Python SDK are read back by their Prometheus names.

use crate::common;

use app::api::Role;
use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use common::{
    metrics::{enc, instant, remote_write, series, success},
    run_python, Auth, TestApp,
};
use serde_json::json;
use server::{
    ingest::prometheus::proto::{self, MetricMetadata, WriteRequest},
    metrics::record::STALE_NAN_BITS,
};
use sqlx::PgPool;

/// A project with 20 minutes of samples every 15 s, ending a minute ago: a
/// counter growing by 10 a sample for two jobs, a gauge per room, and a series
/// that ends with a stale marker five minutes before the end. Returns the
/// app, the project slug, a viewer token and the time of the last sample (ms).
async fn loaded(pool: PgPool) -> (TestApp, String, Auth, i64) {
    let app = TestApp::new(pool);
    let (_, key) = app.project("shop").await;
    let now = chrono::Utc::now().timestamp_millis();
    let end = now - now % 15_000 - 60_000;
    let start = end - 20 * 60_000;
    let times = || (start..=end).step_by(15_000);
    let counter = |per: f64| -> Vec<(i64, f64)> {
        times()
            .map(|t| (t, (t - start) as f64 / 15_000.0 * per))
            .collect()
    };
    let mut gone: Vec<(i64, f64)> = times()
        .filter(|t| *t <= end - 300_000)
        .map(|t| (t, 1.0))
        .collect();
    gone.push((end - 300_000 + 15_000, f64::from_bits(STALE_NAN_BITS)));
    let request = WriteRequest {
        timeseries: vec![
            series(
                &[
                    ("__name__", "http_requests_total"),
                    ("job", "api"),
                    ("code", "200"),
                ],
                &counter(10.0),
            ),
            series(
                &[
                    ("__name__", "http_requests_total"),
                    ("job", "api"),
                    ("code", "500"),
                ],
                &counter(1.0),
            ),
            series(
                &[
                    ("__name__", "http_requests_total"),
                    ("job", "web"),
                    ("code", "200"),
                ],
                &counter(5.0),
            ),
            series(
                &[("__name__", "temperature_celsius"), ("room", "lab")],
                &times().map(|t| (t, 21.5)).collect::<Vec<_>>(),
            ),
            series(
                &[("__name__", "temperature_celsius"), ("room", "hall")],
                &times().map(|t| (t, 18.0)).collect::<Vec<_>>(),
            ),
            series(&[("__name__", "worker_up"), ("worker", "w1")], &gone),
        ],
        metadata: vec![MetricMetadata {
            kind: 1,
            metric_family_name: "http_requests_total".into(),
            help: "Requests served.".into(),
            unit: "requests".into(),
        }],
    };
    let r = app.send(remote_write(&key, proto::encode(&request))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let viewer = app.token(Role::Viewer).await;
    (app, "shop".into(), viewer, end)
}

/// The token of a bearer `Auth`, for requests the test builds itself.
fn token_of(auth: &Auth) -> &str {
    match auth {
        Auth::Bearer(token) => token,
        _ => unreachable!("tokens are bearer"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn instant_and_range_queries_answer_as_prometheus(pool: PgPool) {
    let (app, slug, viewer, end) = loaded(pool).await;

    let got = instant(
        &app,
        &viewer,
        &slug,
        r#"http_requests_total{job="api",code=~"2.."}"#,
        Some(end),
    )
    .await;
    assert_eq!(
        got,
        vec![(
            json!({"__name__": "http_requests_total", "code": "200", "job": "api"}),
            800.0
        )]
    );
    // 10 every 15 s; `rate` drops the metric name, `sum by` keeps only `job`.
    let got = instant(
        &app,
        &viewer,
        &slug,
        "sum by (job) (rate(http_requests_total[5m]))",
        Some(end),
    )
    .await;
    let expected = [("api", 11.0 / 15.0), ("web", 5.0 / 15.0)];
    assert_eq!(got.len(), 2);
    for ((labels, value), (job, rate)) in got.iter().zip(expected) {
        assert_eq!(labels, &json!({"job": job}));
        assert!((value - rate).abs() < 1e-9, "{value} != {rate}");
    }
    // A regex that takes the empty value also selects series without the label.
    let got = instant(
        &app,
        &viewer,
        &slug,
        r#"temperature_celsius{room=~"lab|"}"#,
        Some(end),
    )
    .await;
    assert_eq!(got.len(), 1);
    let got = instant(
        &app,
        &viewer,
        &slug,
        r#"temperature_celsius{nope=~"x|"}"#,
        Some(end),
    )
    .await;
    assert_eq!(got.len(), 2, "no series has `nope`: all have it empty");
    let got = instant(
        &app,
        &viewer,
        &slug,
        r#"temperature_celsius{room!="lab"}"#,
        Some(end),
    )
    .await;
    assert_eq!(
        got,
        vec![(
            json!({"__name__": "temperature_celsius", "room": "hall"}),
            18.0
        )]
    );

    // The stale marker ends `worker_up` at once, not five minutes later.
    assert_eq!(
        instant(&app, &viewer, &slug, "worker_up", Some(end - 300_000))
            .await
            .len(),
        1
    );
    assert!(
        instant(&app, &viewer, &slug, "worker_up", Some(end - 270_000))
            .await
            .is_empty()
    );

    // A range query: a matrix, each point `[seconds, "value"]`.
    let uri = format!(
        "/prometheus/{slug}/api/v1/query_range?query={}&start={}&end={}&step=60s",
        enc("sum(temperature_celsius)"),
        (end - 600_000) / 1000,
        end / 1000
    );
    let r = app.get(&uri, &viewer).await;
    let data = success(&r);
    assert_eq!(data["resultType"], "matrix");
    let values = data["result"][0]["values"].as_array().expect("values");
    assert_eq!(values.len(), 11);
    // A whole second is written without a fraction, as Prometheus writes it.
    assert_eq!(values[0], json!([(end - 600_000) / 1000, "39.5"]));
    assert_eq!(data["result"][0]["metric"], json!({}));

    // Grafana posts the query as a form.
    let token = token_of(&viewer);
    let form = format!(
        "query={}&time={}",
        enc("count(temperature_celsius)"),
        end / 1000
    );
    let r = app
        .send(
            Request::post(format!("/prometheus/{slug}/api/v1/query"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .expect("request"),
        )
        .await;
    assert_eq!(success(&r)["result"][0]["value"][1], "2");

    // A scalar.
    let r = app
        .get(
            &format!("/prometheus/{slug}/api/v1/query?query=1%2B1&time=100"),
            &viewer,
        )
        .await;
    assert_eq!(
        success(&r),
        &json!({"resultType": "scalar", "result": [100, "2"]})
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn errors_and_credentials_as_grafana_meets_them(pool: PgPool) {
    let (app, slug, viewer, _) = loaded(pool).await;
    let token = token_of(&viewer);
    let r = app
        .get(
            &format!("/prometheus/{slug}/api/v1/query?query=sum(("),
            &viewer,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["status"], "error");
    assert_eq!(r.body["errorType"], "bad_data");
    assert!(
        r.body["error"].as_str().expect("message").contains("query"),
        "{}",
        r.text
    );

    let uri = format!("/prometheus/{slug}/api/v1/query?query=up");
    let anonymous = app
        .send(Request::get(&uri).body(Body::empty()).expect("request"))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.body["errorType"], "unauthorized");

    // The token as the basic-auth password, as a Grafana data source sends it.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("grafana:{token}"));
    let r = app
        .send(
            Request::get(&uri)
                .header(header::AUTHORIZATION, format!("Basic {basic}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // The project by header, on the routes without it in the path.
    let r = app
        .send(
            Request::get("/prometheus/api/v1/query?query=count(temperature_celsius)")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header("X-Sightline-Project", &slug)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(success(&r)["result"][0]["value"][1], "2");
    let r = app.get("/prometheus/api/v1/query?query=up", &viewer).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let r = app
        .get("/prometheus/nowhere/api/v1/query?query=up", &viewer)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["errorType"], "not_found");

    let r = app
        .get(
            &format!("/prometheus/{slug}/api/v1/query_range?query=up&start=0&end=100000&step=1"),
            &viewer,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]
        .as_str()
        .expect("message")
        .contains("11,000 points"));
}

#[sqlx::test(migrations = "../migrations")]
async fn series_labels_values_metadata_and_buildinfo(pool: PgPool) {
    let (app, slug, viewer, _) = loaded(pool).await;
    let base = format!("/prometheus/{slug}/api/v1");
    let r = app.get(&format!("{base}/labels"), &viewer).await;
    assert_eq!(
        success(&r),
        &json!(["__name__", "code", "job", "room", "worker"])
    );
    let r = app.get(&format!("{base}/label/job/values"), &viewer).await;
    assert_eq!(success(&r), &json!(["api", "web"]));
    let r = app
        .get(&format!("{base}/label/__name__/values"), &viewer)
        .await;
    assert_eq!(
        success(&r),
        &json!(["http_requests_total", "temperature_celsius", "worker_up"])
    );
    let r = app
        .get(
            &format!(
                "{base}/series?match[]={}",
                enc(r#"http_requests_total{code="500"}"#)
            ),
            &viewer,
        )
        .await;
    assert_eq!(
        success(&r),
        &json!([{"__name__": "http_requests_total", "code": "500", "job": "api"}])
    );
    let r = app
        .get(
            &format!("{base}/label/room/values?match[]=temperature_celsius"),
            &viewer,
        )
        .await;
    assert_eq!(success(&r), &json!(["hall", "lab"]));
    let r = app.get(&format!("{base}/metadata"), &viewer).await;
    assert_eq!(
        success(&r),
        &json!({"http_requests_total": [{"type": "counter", "help": "Requests served.", "unit": "requests"}]})
    );
    let r = app.get(&format!("{base}/status/buildinfo"), &viewer).await;
    assert_eq!(success(&r)["version"], "2.42.0");

    // The explorer's own reads under /api/v1: names with metadata, values now.
    let r = app
        .get(&format!("/api/v1/projects/{slug}/metrics/names"), &viewer)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body[0],
        json!({"name": "http_requests_total", "kind": "counter", "help": "Requests served.", "unit": "requests"})
    );
    assert_eq!(r.body[1], json!({"name": "temperature_celsius"}));
    // The label filters' read: a metric's labels with their values.
    let r = app
        .get(
            &format!("/api/v1/projects/{slug}/metrics/labels?metric=http_requests_total"),
            &viewer,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"name": "code", "values": ["200", "500"], "truncated": false},
               {"name": "job", "values": ["api", "web"], "truncated": false}])
    );
    let query = enc(r#"temperature_celsius{room="lab"}"#);
    let r = app
        .get(
            &format!("/api/v1/projects/{slug}/metrics/instant?query={query}"),
            &viewer,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        json!([{"labels": {"__name__": "temperature_celsius", "room": "lab"}, "value": "21.5"}])
    );
    let r = app
        .get(
            &format!("/api/v1/projects/{slug}/metrics/instant?query=sum(("),
            &viewer,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"]["code"], "bad_request");
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_answer_the_one_query_endpoint(pool: PgPool) {
    let (app, slug, viewer, end) = loaded(pool).await;
    let from = chrono::DateTime::from_timestamp_millis(end - 600_000).expect("time");
    let to = chrono::DateTime::from_timestamp_millis(end).expect("time");
    let r = app
        .post(
            "/api/v1/query",
            &viewer,
            json!({"project": slug, "source": "metrics", "query": "sum by (job) (rate(http_requests_total[5m]))",
                   "from": from.to_rfc3339(), "to": to.to_rfc3339(), "step": "60s"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let frames = r.body["frames"].as_array().expect("frames");
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0]["labels"], json!({"job": "api"}));
    let point = &frames[0]["points"][3];
    assert!(
        (point[1].as_f64().expect("value") - 11.0 / 15.0).abs() < 1e-9,
        "{point}"
    );
    // The unit comes from the metadata (`requests`), per second for a rate;
    // else from the name's suffix; a count has none.
    assert_eq!(frames[0]["unit"], "requests/s");
    for (query, unit) in [
        ("avg(temperature_celsius)", json!("celsius")),
        ("count(temperature_celsius)", json!(null)),
    ] {
        let r = app
            .post(
                "/api/v1/query",
                &viewer,
                json!({"project": slug, "source": "metrics", "query": query,
                       "from": from.to_rfc3339(), "to": to.to_rfc3339(), "step": "60s"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["frames"][0]["unit"], unit, "{query}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_opentelemetry_python_exporter_delivers_metrics(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, key) = app.project("otel").await;
    let url = app.listen().await;
    let out = run_python("otlp_metrics.py", &[&url, &key]).await;
    assert_eq!(out.trim(), "ok");
    let viewer = app.token(Role::Viewer).await;
    let now = chrono::Utc::now().timestamp_millis();
    let query = |q: &'static str| {
        let (app, viewer) = (&app, &viewer);
        async move { instant(app, viewer, "otel", q, Some(now)).await }
    };
    let got = query(r#"bars_orders_total{job="svc"}"#).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1, 5.0, "3 then 2, cumulative");
    assert_eq!(got[0].0["instance"], "i-1");
    assert_eq!(got[0].0["plan"], "pro");
    // Delta sums become a cumulative series: 4 then 6.
    let got = query(r#"bars_orders_total{job="svc-delta"}"#).await;
    assert_eq!(got.iter().map(|g| g.1).collect::<Vec<_>>(), vec![10.0]);
    let got = query(r#"x_latency_milliseconds_count{job="svc"}"#).await;
    assert_eq!(got[0].1, 2.0);
    let got = query(r#"x_latency_milliseconds_bucket{job="svc",le="+Inf"}"#).await;
    assert_eq!(got[0].1, 2.0);
    let got = query(r#"x_latency_milliseconds_sum{job="svc"}"#).await;
    assert_eq!(got[0].1, 712.0);
    let got = query(r#"jobs_queued{job="svc"}"#).await;
    assert_eq!(got[0].1, 5.0);
}
