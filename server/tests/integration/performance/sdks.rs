//! Real SDKs: the Rust `sentry` crate's transactions with child spans,
//! `@sentry/node` 11's streamed spans (span v2 envelope items) with its errors,
//! sessions and client reports, and the
//! OpenTelemetry Python SDK's OTLP/HTTP span exporter.

use super::*;

#[sqlx::test(migrations = "../migrations")]
async fn the_rust_sdk_reports_transactions_with_child_spans(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    set_apdex_threshold(&app, 300).await;
    let base = app.listen().await;
    with_rust_sdk(&app.dsn(&base, &key, project_id), || {
        let base = ten_minutes_ago();
        for i in 1..=10u64 {
            let start = base + Duration::from_secs(i);
            let context = sentry::TransactionContext::new("GET /checkout", "http.server");
            let transaction = sentry::start_transaction_with_timestamp(context, start);
            let query = transaction.start_child("db.query", "select * from carts where id = $1");
            let cache = query.start_child("cache.get", "cart:7");
            cache.finish();
            query.finish();
            if i == 8 {
                transaction.set_status(sentry::protocol::SpanStatus::InternalError);
                transaction.set_tag("http.status_code", "500");
            }
            transaction.finish_with_timestamp(start + Duration::from_millis(100 * i));
        }
        for i in 0..4u64 {
            let start = base + Duration::from_secs(20 + i);
            let context = sentry::TransactionContext::new("GET /health", "http.server");
            let transaction = sentry::start_transaction_with_timestamp(context, start);
            transaction.set_status(sentry::protocol::SpanStatus::Ok);
            transaction.finish_with_timestamp(start + Duration::from_millis(5));
        }
    })
    .await;

    let (segments, spans): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where is_segment), count(*) from span where project_id = $1",
    )
    .bind(project_id)
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!((segments, spans), (14, 14 + 10 * 2));
    let nested: (Option<String>, Option<String>, String, String, String) = sqlx::query_as(
        "select c.parent_span_id, c.segment_id, c.transaction, c.release, q.span_id
         from span c join span q on q.span_id = c.parent_span_id
         where c.project_id = $1 and c.op = 'cache.get' limit 1",
    )
    .bind(project_id)
    .fetch_one(&pool)
    .await
    .expect("nested span");
    assert_eq!(
        nested.0.as_deref(),
        Some(nested.4.as_str()),
        "below the query"
    );
    assert!(nested.1.is_some());
    assert_eq!(
        (nested.2.as_str(), nested.3.as_str()),
        ("GET /checkout", "shop@2.0")
    );

    let viewer = app.token(Role::Viewer).await;
    let rows = transactions(&app, &viewer, "").await;
    assert_eq!(names(&rows), ["GET /checkout", "GET /health"], "by count");
    assert_hundred_to_thousand(&rows[0], 0.1);
    let per_minute = rows[0]["throughput_per_min"].as_f64().expect("throughput");
    assert_near(&json!(per_minute * 24.0 * 60.0), 10.0);
    assert_eq!(rows[1]["count"], 4);
    assert_near(&rows[1]["p95_ms"], 5.0);
    assert_near(&rows[1]["error_rate"], 0.0);
    assert_near(&rows[1]["apdex"], 1.0);

    let by_p95 = transactions(&app, &viewer, "sort=p95_ms&order=asc").await;
    assert_eq!(names(&by_p95), ["GET /health", "GET /checkout"]);
    let found = transactions(&app, &viewer, "q=CHECK").await;
    assert_eq!(names(&found), ["GET /checkout"]);
    assert_eq!(
        transactions(&app, &viewer, "environment=production")
            .await
            .len(),
        2
    );
    assert!(transactions(&app, &viewer, "environment=staging")
        .await
        .is_empty());
    assert!(transactions(&app, &viewer, "from=now-2m").await.is_empty());
    let bad = app
        .get(
            "/api/v1/projects/shop/performance/transactions?sort=loudest",
            &viewer,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("sort"), "{}", bad.text);

    let series = app
        .get(
            "/api/v1/projects/shop/performance/transactions/series?name=GET%20/checkout&from=now-1h&buckets=60",
            &viewer,
        )
        .await;
    assert_eq!(series.status, StatusCode::OK, "{}", series.text);
    assert_eq!(series.body["interval_ms"], 60_000);
    let buckets = series.body["buckets"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 60);
    let counted: i64 = buckets
        .iter()
        .map(|b| b["count"].as_i64().expect("count"))
        .sum();
    assert_eq!(counted, 10, "every transaction in one bucket or another");
    let busy: Vec<&Value> = buckets.iter().filter(|b| b["count"] != 0).collect();
    assert!(busy
        .iter()
        .all(|b| b["p50_ms"].is_number() && b["apdex"].is_number()));
    assert!(buckets
        .iter()
        .any(|b| b["count"] == 0 && b["p50_ms"].is_null()));
    let slowest = series.body["slowest"].as_array().expect("slowest");
    assert_eq!(slowest.len(), 10);
    assert_near(&slowest[0]["duration_ms"], 1000.0);
    assert_eq!(
        slowest[2]["status"], "internal_error",
        "the 800 ms one failed"
    );
    assert_eq!(slowest[2]["trace_id"].as_str().map(str::len), Some(32));
    let missing = app
        .get(
            "/api/v1/projects/shop/performance/transactions/series",
            &viewer,
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_current_node_sdk_streams_spans_that_show_as_transactions(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    set_apdex_threshold(&app, 300).await;
    let base = app.listen().await;
    let out = run_node("sentry_client.mjs", &[&app.dsn(&base, &key, project_id)]).await;
    let sent: Value = serde_json::from_str(out.trim()).expect("client output");
    assert!(
        sent["sdk"].as_str().expect("version").starts_with("11."),
        "{sent}"
    );
    assert_eq!(sent["flushed"], true, "the SDK got its answers: {sent}");

    let viewer = app.token(Role::Viewer).await;
    let rows = transactions(&app, &viewer, "").await;
    assert_eq!(names(&rows), ["GET /checkout", "GET /health"]);
    assert_hundred_to_thousand(&rows[0], 0.1);
    assert_eq!(rows[1]["count"], 4);

    // The failed one: its child, its status, and its error linked to the trace.
    let failed = sent["trace_ids"][7].as_str().expect("trace id");
    let trace = app
        .get(&format!("/api/v1/projects/shop/traces/{failed}"), &viewer)
        .await;
    assert_eq!(trace.status, StatusCode::OK, "{}", trace.text);
    let spans = trace.body["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 2, "{}", trace.text);
    let (root, query) = (&spans[0], &spans[1]);
    assert_eq!(root["is_segment"], true);
    assert_eq!(root["transaction"], "GET /checkout");
    assert_eq!(root["op"], "http.server");
    assert_eq!(root["status"], "internal_error");
    assert_eq!(root["release"], "node-shop@3.1.0");
    assert_eq!(root["environment"], "staging");
    assert_eq!(query["op"], "db");
    assert_eq!(query["name"], "select cart");
    assert_eq!(query["parent_span_id"], root["span_id"]);
    assert_eq!(query["segment_id"], root["span_id"]);
    assert_eq!(query["depth"], 1);
    let errors = trace.body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{}", trace.text);
    assert_eq!(errors[0]["title"], "Error: card declined");
    assert_eq!(errors[0]["span_id"], root["span_id"]);

    // Its sessions count in release health; the message its `beforeSend`
    // dropped arrives as a client report.
    let releases = app.get("/api/v1/projects/shop/releases", &viewer).await;
    assert_eq!(releases.status, StatusCode::OK, "{}", releases.text);
    let release = &releases.body["releases"][0];
    assert_eq!(release["version"], "node-shop@3.1.0", "{}", releases.text);
    assert!(
        release["sessions"].as_i64().expect("sessions") >= 1,
        "{release}"
    );
    let metrics = app.get("/metrics", &Auth::None).await.text;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("sentry_client_discarded_total{")
                && l.contains("reason=\"before_send\"")),
        "no client report in\n{metrics}"
    );

    let count = || async {
        let stored: i64 = sqlx::query_scalar("select count(*) from span where project_id = $1")
            .bind(project_id)
            .fetch_one(&pool)
            .await
            .expect("count");
        stored
    };
    assert_eq!(count().await, 10 * 2 + 4);

    // A container sent again (an SDK retrying after a lost answer) is stored once.
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
        - 60.0;
    let container = json!({"version": 2, "items": [
        {"name": "GET /retry", "span_id": "eee19b7ec3c1b175", "trace_id": "5b8efff798038103d269b633813fc60d",
         "start_timestamp": start, "end_timestamp": start + 0.25, "is_segment": true, "status": "ok",
         "attributes": {"sentry.op": {"value": "http.server", "type": "string"}}}]});
    let envelope = format!(
        "{{\"trace\":{{\"transaction\":\"GET /retry\"}}}}\n\
         {{\"type\":\"span\",\"item_count\":1,\"content_type\":\"application/vnd.sentry.items.span.v2+json\"}}\n\
         {container}\n"
    );
    for _ in 0..2 {
        let response = app
            .send(
                Request::post(format!("/api/{project_id}/envelope/?sentry_key={key}"))
                    .body(Body::from(envelope.clone()))
                    .expect("request"),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    }
    assert_eq!(count().await, 10 * 2 + 4 + 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_opentelemetry_python_exporter_delivers_traces(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    set_apdex_threshold(&app, 300).await;
    let url = app.listen().await;
    let out = run_python("otlp_traces.py", &[&url, &key]).await;
    let sent: Value = serde_json::from_str(out.trim()).expect("client output");

    let viewer = app.token(Role::Viewer).await;
    let rows = transactions(&app, &viewer, "").await;
    assert_eq!(names(&rows), ["GET /users/{id}", "POST /orders"]);
    // The 404 (not_found) and the 500 (internal_error) count as failures.
    assert_hundred_to_thousand(&rows[0], 0.2);

    type Stored = (
        bool,
        String,
        String,
        Option<i32>,
        String,
        String,
        String,
        String,
        Option<String>,
    );
    let spans_of = |trace_id: String| {
        let pool = pool.clone();
        async move {
            let rows: Vec<Stored> = sqlx::query_as(
                "select is_segment, transaction, op, http_status, status, service, release,
                        environment, segment_id
                 from span where project_id = $1 and trace_id = $2 order by ts",
            )
            .bind(project_id)
            .bind(trace_id)
            .fetch_all(&pool)
            .await
            .expect("spans");
            rows
        }
    };
    let trace = |i: usize| sent["trace_ids"][i].as_str().expect("trace id").to_string();
    let first = spans_of(trace(0)).await;
    assert_eq!(first.len(), 2, "the request and its query");
    let (root, query) = (&first[0], &first[1]);
    assert!(root.0 && !query.0);
    assert_eq!((root.2.as_str(), root.3), ("http.server", Some(200)));
    assert_eq!(
        (root.5.as_str(), root.6.as_str(), root.7.as_str()),
        ("users-api", "2.0.1", "staging")
    );
    assert_eq!(
        query.1, "GET /users/{id}",
        "the child carries its transaction"
    );
    assert_eq!(query.2, "db");
    assert_eq!(query.8, root.8, "one segment");
    assert_eq!(spans_of(trace(3)).await[0].4, "not_found");
    assert_eq!(spans_of(trace(7)).await[0].4, "internal_error");

    let remote = spans_of(sent["remote_trace_id"].as_str().expect("id").to_string()).await;
    assert_eq!(remote.len(), 1);
    assert!(
        remote[0].0,
        "a server span below a remote parent is a transaction"
    );
    assert_eq!(remote[0].1, "POST /orders");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_retried_transaction_is_stored_once(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64()
        - 60.0;
    let transaction = json!({"type": "transaction", "event_id": "4c35e7e8-3f4b-4c9e-9f5c-1b2a3c4d5e6f",
        "transaction": "GET /retry", "start_timestamp": start, "timestamp": start + 0.25,
        "contexts": {"trace": {"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174"}},
        "spans": [{"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "aaa19b7ec3c1b174",
                   "parent_span_id": "eee19b7ec3c1b174", "op": "db", "description": "select 1",
                   "start_timestamp": start + 0.01, "timestamp": start + 0.02}]});
    let send = |items: usize| {
        let item = format!("{{\"type\":\"transaction\"}}\n{transaction}\n");
        let envelope = format!("{{}}\n{}", item.repeat(items));
        app.send(
            Request::post(format!("/api/{project_id}/envelope/"))
                .header(
                    "x-sentry-auth",
                    format!("Sentry sentry_key={key}, sentry_version=7"),
                )
                .body(Body::from(envelope))
                .expect("request"),
        )
    };
    // Twice in one envelope, then the whole envelope again (an SDK's retry).
    for items in [2, 1] {
        let response = send(items).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    }
    let spans: Vec<(String, bool)> = sqlx::query_as(
        "select span_id, is_segment from span where trace_id = '5b8efff798038103d269b633813fc60c'
         order by span_id",
    )
    .fetch_all(&pool)
    .await
    .expect("spans");
    assert_eq!(
        spans,
        vec![
            ("aaa19b7ec3c1b174".to_string(), false),
            ("eee19b7ec3c1b174".to_string(), true)
        ]
    );
}
