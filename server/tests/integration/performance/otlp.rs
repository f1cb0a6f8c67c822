//! OTLP/HTTP traces built here: the JSON form feeding a trace with its error and
//! log line, partial success, malformed bodies, and a full queue.

use super::*;

#[sqlx::test(migrations = "../migrations")]
async fn a_trace_shows_its_spans_errors_and_logs(pool: PgPool) {
    let app = TestApp::new(pool);
    let (project_id, key) = app.project("shop").await;
    let trace_id = "5b8efff798038103d269b633813fc60c";
    let start = unix_nanos(Duration::from_secs(60));
    let ms = 1_000_000u64;
    let span = |id: &str, parent: &str, name: &str, kind: Value, from: u64, to: u64| {
        json!({"traceId": trace_id, "spanId": id, "parentSpanId": parent, "name": name,
               "kind": kind, "flags": 256, "startTimeUnixNano": (start + from * ms).to_string(),
               "endTimeUnixNano": (start + to * ms).to_string()})
    };
    // The OTLP/JSON form, with the ids in hex and the times as strings.
    let body = json!({"resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
    "scopeSpans": [{"scope": {"name": "cart.http"}, "spans": [
        span("00f067aa0ba902b7", "", "GET /cart", json!("SPAN_KIND_SERVER"), 0, 300),
        span("00f067aa0ba902b8", "00f067aa0ba902b7", "render", json!("SPAN_KIND_INTERNAL"), 10, 200),
        // Enums may be numbers too: 3 is CLIENT.
        span("00f067aa0ba902b9", "00f067aa0ba902b8", "SELECT cart", json!(3), 20, 120),
    ]}]}]});
    let r = app
        .send(post_traces(
            &key,
            "application/json",
            body.to_string().into_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!({}), "no partial success");

    let error = json!({"message": "cart is empty", "level": "error",
        "contexts": {"trace": {"trace_id": trace_id, "span_id": "00f067aa0ba902b8"}}});
    let r = app
        .send(
            Request::post(format!("/api/{project_id}/store/"))
                .header(
                    "x-sentry-auth",
                    format!("Sentry sentry_key={key}, sentry_version=7"),
                )
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(error.to_string()))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = app
        .post(
            "/api/v1/ingest/logs",
            &Auth::Bearer(key.clone()),
            json!({"message": "rendering cart 7", "level": "info", "trace_id": trace_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let viewer = app.token(Role::Viewer).await;
    let r = app
        .get(&format!("/api/v1/projects/shop/traces/{trace_id}"), &viewer)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let spans = r.body["spans"].as_array().expect("spans");
    let field = |key: &str| spans.iter().map(|s| s[key].clone()).collect::<Vec<_>>();
    assert_eq!(
        field("name"),
        [json!("GET /cart"), json!("render"), json!("SELECT cart")]
    );
    assert_eq!(field("depth"), [json!(0), json!(1), json!(2)]);
    assert_eq!(
        field("is_segment"),
        [json!(true), json!(false), json!(false)]
    );
    assert_eq!(field("transaction"), vec![json!("GET /cart"); 3]);
    assert_eq!(
        field("op"),
        [json!("server"), json!("internal"), json!("client")]
    );
    assert_near(&spans[1]["offset_ms"], 10.0);
    assert_near(&spans[2]["duration_ms"], 100.0);
    assert_near(&r.body["duration_ms"], 300.0);
    assert_eq!(r.body["errors"][0]["title"], "cart is empty");
    assert_eq!(r.body["errors"][0]["span_id"], "00f067aa0ba902b8");
    assert_eq!(
        r.body["errors"][0]["event_id"].as_str().map(str::len),
        Some(32)
    );
    assert_eq!(r.body["logs"][0]["message"], "rendering cart 7");

    let unknown = app
        .get(
            "/api/v1/projects/shop/traces/0af7651916cd43dd8448eb211c80319c",
            &viewer,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let bad = app.get("/api/v1/projects/shop/traces/xyz", &viewer).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_otlp_traces_get_4xx_and_bad_spans_partial_success(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    let stored = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from span where project_id = $1")
            .bind(project_id)
            .fetch_one(&pool)
            .await
            .expect("count")
    };
    let r = app
        .send(post_traces(
            &key,
            "application/x-protobuf",
            b"\xff\xff\xff not protobuf".to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .send(post_traces(
            &key,
            "application/json",
            b"{\"resourceSpans\": 5}".to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["message"]
        .as_str()
        .expect("message")
        .contains("resourceSpans"));
    let r = app
        .send(post_traces(
            &key,
            "application/json",
            b"{\"resourceSpans\": [{".to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .send(post_traces(&key, "text/plain", b"hello".to_vec()))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .send(post_traces("wrong", "application/json", b"{}".to_vec()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(stored().await, 0);

    let now = unix_nanos(Duration::ZERO);
    let good = Span {
        trace_id: vec![0xab; 16],
        span_id: vec![0xcd; 8],
        name: "nightly export".into(),
        kind: 1,
        start_time_unix_nano: now - 2_000_000_000,
        end_time_unix_nano: now - 1_000_000_000,
        ..Default::default()
    };
    let short_id = Span {
        span_id: vec![1, 2, 3],
        ..good.clone()
    };
    let request = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: None,
            scope_spans: vec![ScopeSpans {
                scope: None,
                spans: vec![good, short_id],
            }],
        }],
    };
    let r = app
        .send(post_traces(
            &key,
            "application/x-protobuf",
            request.encode_to_vec(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/x-protobuf");
    let answer = ExportTraceServiceResponse::decode(r.text.as_bytes()).expect("protobuf answer");
    let partial = answer.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("span id"),
        "{}",
        partial.error_message
    );
    assert_eq!(stored().await, 1, "the good span is stored");

    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
         "startTimeUnixNano": "2000", "endTimeUnixNano": "1000"}]}]}]});
    let r = app
        .send(post_traces(
            &key,
            "application/json",
            body.to_string().into_bytes(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["partialSuccess"]["rejectedSpans"], "1");
    assert_eq!(stored().await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_span_queue_answers_429_to_otlp_and_sentry(pool: PgPool) {
    let app = TestApp::with_env(pool.clone(), &[("SIGHTLINE_INGEST_QUEUE_MB", "1")]);
    let (project_id, key) = app.project("shop").await;
    // Hold the table so that a first batch holding the whole budget cannot commit.
    let mut blocker = pool.begin().await.expect("begin");
    sqlx::query("lock table span in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let now = unix_nanos(Duration::ZERO);
    let big = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: None,
            scope_spans: vec![ScopeSpans {
                scope: None,
                spans: (0..5000u64)
                    .map(|i| Span {
                        trace_id: vec![0xab; 16],
                        span_id: (i + 1).to_be_bytes().to_vec(),
                        name: "x".repeat(200),
                        start_time_unix_nano: now - 1_000_000,
                        end_time_unix_nano: now,
                        ..Default::default()
                    })
                    .collect(),
            }],
        }],
    };
    let first = {
        let request = post_traces(&key, "application/x-protobuf", big.encode_to_vec());
        let router = app.clone_router();
        tokio::spawn(async move { tower::ServiceExt::oneshot(router, request).await })
    };
    common::wait_until_blocked(&pool, "copy span").await;

    let otlp = common::answered_at_once(app.send(post_traces(
        &key,
        "application/json",
        br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
            "spanId":"eee19b7ec3c1b174","startTimeUnixNano":"1764151200000000000",
            "endTimeUnixNano":"1764151200100000000"}]}]}]}"#
            .to_vec(),
    )))
    .await;
    assert_eq!(otlp.status, StatusCode::TOO_MANY_REQUESTS, "{}", otlp.text);
    assert_eq!(otlp.headers[header::RETRY_AFTER], "1");

    let transaction = json!({"type": "transaction", "transaction": "GET /", "start_timestamp": 1_764_151_200.0,
        "timestamp": 1_764_151_200.25,
        "contexts": {"trace": {"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174"}}});
    let envelope = format!("{{}}\n{{\"type\":\"transaction\"}}\n{transaction}\n");
    let sentry = common::answered_at_once(
        app.send(
            Request::post(format!("/api/{project_id}/envelope/"))
                .header(
                    "x-sentry-auth",
                    format!("Sentry sentry_key={key}, sentry_version=7"),
                )
                .body(Body::from(envelope))
                .expect("request"),
        ),
    )
    .await;
    assert_eq!(
        sentry.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        sentry.text
    );
    assert_eq!(sentry.headers["x-sentry-rate-limits"], "1::organization");

    blocker.rollback().await.expect("rollback");
    let first = first.await.expect("task").expect("infallible");
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "stored once the table is free"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn spans_sent_before_their_root_join_its_transaction(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, key) = app.project("shop").await;
    let trace_id = "6c9f0e1d2b3a4c5d6e7f8091a2b3c4d5";
    let start = unix_nanos(Duration::from_secs(60));
    let send = |spans: Value| {
        let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]});
        app.send(post_traces(
            &key,
            "application/json",
            body.to_string().into_bytes(),
        ))
    };
    let span = |id: &str, parent: &str, name: &str, kind: &str, to_ms: u64| {
        json!({"traceId": trace_id, "spanId": id, "parentSpanId": parent, "name": name,
               "kind": kind, "startTimeUnixNano": start.to_string(),
               "endTimeUnixNano": (start + to_ms * 1_000_000).to_string()})
    };
    // A batch exporter sends each span when it ends: the children first.
    let r = send(json!([
        span(
            "1000000000000002",
            "1000000000000001",
            "render",
            "SPAN_KIND_INTERNAL",
            50
        ),
        span(
            "1000000000000003",
            "1000000000000002",
            "SELECT 1",
            "SPAN_KIND_CLIENT",
            20
        ),
    ]))
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = send(json!([span(
        "1000000000000001",
        "",
        "GET /late",
        "SPAN_KIND_SERVER",
        80
    )]))
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let viewer = app.token(Role::Viewer).await;
    let r = app
        .get(&format!("/api/v1/projects/shop/traces/{trace_id}"), &viewer)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let spans = r.body["spans"].as_array().expect("spans");
    for span in spans {
        assert_eq!(span["transaction"], json!("GET /late"), "{span}");
        assert_eq!(span["segment_id"], json!("1000000000000001"), "{span}");
    }
    assert_eq!(spans.len(), 3);
}
