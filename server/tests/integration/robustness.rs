//! Faults and hostile input, as an operator and an attacker meet them: a NUL
//! character anywhere a text reaches SQL, a database that is away, compression
//! bombs, and a login lockout behind a reverse proxy. Each answer is the one
//! the input deserves (400, 413, 429, 503 with `Retry-After`), never a 500.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use std::{
    io::Write,
    net::SocketAddr,
    time::{Duration, Instant},
};

use app::api::Role;
use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, Method, Request, StatusCode},
};
use serde_json::json;
use sqlx::{postgres::PgPoolOptions, PgPool};

use crate::common::{error_code, Auth, TestApp};

#[sqlx::test(migrations = "../migrations")]
async fn a_nul_character_is_refused_with_400_naming_the_field(pool: PgPool) {
    let app = TestApp::new(pool);
    app.project("shop").await;
    let admin = app.token(Role::Admin).await;

    // Unauthenticated: the login form.
    let response = app
        .post(
            "/api/v1/auth/login",
            &Auth::None,
            json!({"email": "a\u{0}b@x", "password": "x"}),
        )
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    assert_eq!(error_code(&response), "bad_request");
    assert!(response.text.contains("email"), "{}", response.text);

    // Query strings of searches and lists.
    for uri in [
        "/api/v1/projects/shop/logs/search?q=a%00b",
        "/api/v1/projects/shop/logs/query?q=a%00b",
        "/api/v1/projects/shop/logs/histogram?q=a%00b",
        "/api/v1/projects/shop/issues?q=a%00b",
        "/api/v1/projects/shop/releases?environment=%00",
        "/api/v1/projects/shop/performance/transactions?environment=%00",
    ] {
        let response = app.get(uri, &admin).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            response.text
        );
        assert!(response.text.contains("NUL"), "{uri}: {}", response.text);
    }
    let response = app
        .get("/api/v1/projects/shop/logs/search?q=a%00b", &admin)
        .await;
    assert!(response.text.contains("`q`"), "{}", response.text);
    // The path.
    let response = app.get("/api/v1/projects/sh%00op", &admin).await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );

    // Names in bodies, nested ones too.
    for (method, uri, body, field) in [
        (
            Method::POST,
            "/api/v1/projects",
            json!({"slug": "x", "name": "a\u{0}"}),
            "name",
        ),
        (
            Method::PATCH,
            "/api/v1/projects/shop",
            json!({"name": "a\u{0}"}),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/projects/shop/keys",
            json!({"label": "k\u{0}"}),
            "label",
        ),
        (
            Method::POST,
            "/api/v1/tokens",
            json!({"name": "t\u{0}", "role": "viewer"}),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/users",
            json!({"email": "u\u{0}@x.org", "role": "viewer"}),
            "email",
        ),
    ] {
        let response = app.request(method, uri, &admin, Some(body)).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            response.text
        );
        assert!(response.text.contains(field), "{uri}: {}", response.text);
    }
}

/// A Sightline whose database is not there: every connection attempt fails.
fn app_without_database() -> TestApp {
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(300))
        .connect_lazy("postgres://nobody@127.0.0.1:1/gone")
        .expect("lazy pool");
    TestApp::new(pool)
}

#[tokio::test]
async fn a_database_outage_is_answered_503_with_retry_after() {
    let app = app_without_database();
    let key = "0123456789abcdef0123456789abcdef";
    let bearer = |uri: &str, body: &str, content_type: &str| {
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let ingest = [
        bearer(
            "/api/v1/ingest/logs",
            r#"{"message":"m"}"#,
            "application/json",
        ),
        bearer(
            "/loki/api/v1/push",
            r#"{"streams":[{"stream":{"a":"b"},"values":[["1","m"]]}]}"#,
            "application/json",
        ),
        bearer(
            "/_bulk",
            "{\"create\":{}}\n{\"message\":\"m\"}\n",
            "application/x-ndjson",
        ),
        bearer("/v1/logs", r#"{"resourceLogs":[]}"#, "application/json"),
        Request::builder()
            .method(Method::POST)
            .uri(format!("/api/1/envelope/?sentry_key={key}"))
            .body(Body::from(
                "{}\n{\"type\":\"event\"}\n{\"message\":\"m\"}\n".to_string(),
            ))
            .expect("request"),
    ];
    for request in ingest {
        let uri = request.uri().to_string();
        let response = app.send(request).await;
        assert_eq!(
            response.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{uri}: {}",
            response.text
        );
        assert_eq!(response.headers[header::RETRY_AFTER], "5", "{uri}");
        if uri.contains("envelope") {
            assert_eq!(
                response.headers["x-sentry-rate-limits"], "5::organization",
                "SDKs hold back while the database is away"
            );
        }
    }

    // The read API says so in its one error shape.
    let response = app
        .get("/api/v1/projects", &Auth::Bearer("slt_whatever".into()))
        .await;
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        response.text
    );
    assert_eq!(error_code(&response), "database_unavailable");
    assert_eq!(response.headers[header::RETRY_AFTER], "5");

    // Readiness answers within a second, whatever the database does.
    let started = Instant::now();
    let response = app.get("/readyz", &Auth::None).await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

/// A gzip body of `members` concatenated members, each 1 MiB of zeros: about a
/// kilobyte on the wire per mebibyte decoded.
fn zeros_bomb(members: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 1 << 20]).expect("gzip");
    let member = encoder.finish().expect("gzip");
    member.repeat(members)
}

#[sqlx::test(migrations = "../migrations")]
async fn compression_bombs_are_refused_without_holding_memory(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, key) = app.project("shop").await;
    let bomb = zeros_bomb(1024);
    assert!(bomb.len() < 2 << 20, "{} bytes on the wire", bomb.len());

    let send = |uri: &'static str| {
        let router = app.clone_router();
        let request = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, "application/x-ndjson")
            .header(header::CONTENT_ENCODING, "gzip")
            .body(Body::from(bomb.clone()))
            .expect("request");
        tokio::spawn(async move {
            use tower::ServiceExt;
            router.oneshot(request).await.map(|r| r.status())
        })
    };
    let bombs: Vec<_> = (0..8)
        .map(|i| {
            send(if i % 2 == 0 {
                "/_bulk"
            } else {
                "/api/v1/ingest/logs"
            })
        })
        .collect();
    // The server goes on answering while they are decoded.
    let mut slowest = Duration::ZERO;
    while !bombs.iter().all(tokio::task::JoinHandle::is_finished) {
        let started = Instant::now();
        let response = app.get("/healthz", &Auth::None).await;
        assert_eq!(response.status, StatusCode::OK);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for bomb in bombs {
        assert_eq!(
            bomb.await.expect("task").expect("infallible"),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
    assert!(
        slowest < Duration::from_millis(250),
        "/healthz took {slowest:?}"
    );
    assert_eq!(app.state.decode.in_use(), 0, "every reservation returned");

    // A legitimate body larger than the first step is still decoded whole.
    let lines: String = (0..60_000)
        .map(|i| format!("{{\"message\":\"line {i:0>150}\"}}\n"))
        .collect();
    assert!(lines.len() > 8 << 20);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(lines.as_bytes()).expect("gzip");
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/ingest/logs")
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(encoder.finish().expect("gzip")))
        .expect("request");
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.body["accepted"], 60_000);
    assert_eq!(app.state.decode.in_use(), 0);
}

/// A login attempt from `peer`, forwarded for `forwarded_for` when given.
fn login_from(
    peer: &str,
    forwarded_for: Option<&str>,
    email: &str,
    password: &str,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(client) = forwarded_for {
        request = request.header("x-forwarded-for", client);
    }
    let mut request = request
        .body(Body::from(
            json!({"email": email, "password": password}).to_string(),
        ))
        .expect("request");
    let peer: SocketAddr = peer.parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

#[sqlx::test(migrations = "../migrations")]
async fn behind_a_trusted_proxy_one_attackers_failures_lock_out_only_that_address(pool: PgPool) {
    let app = TestApp::with_env(pool, &[("SIGHTLINE_TRUSTED_PROXIES", "10.0.0.0/8")]);
    let (email, password) = app.user(Role::Viewer).await;
    // 20 failures, for 20 different accounts, from one client behind the proxy.
    for i in 0..20 {
        let response = app
            .send(login_from(
                "10.0.0.2:5000",
                Some("198.51.100.66"),
                &format!("nobody{i}@example.com"),
                "wrong",
            ))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            response.text
        );
    }
    let response = app
        .send(login_from(
            "10.0.0.2:5000",
            Some("198.51.100.66"),
            &email,
            &password,
        ))
        .await;
    assert_eq!(
        response.status,
        StatusCode::TOO_MANY_REQUESTS,
        "that address is locked out"
    );
    // Everyone else behind the same proxy still logs in.
    let response = app
        .send(login_from(
            "10.0.0.2:5000",
            Some("203.0.113.5"),
            &email,
            &password,
        ))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);

    // From a peer that is not a trusted proxy, the header is the attacker's
    // own invention and changes nothing.
    for i in 0..20 {
        app.send(login_from(
            "192.0.2.9:5000",
            Some(&format!("203.0.113.{i}")),
            &format!("other{i}@example.com"),
            "wrong",
        ))
        .await;
    }
    let response = app
        .send(login_from(
            "192.0.2.9:5000",
            Some("203.0.113.99"),
            &email,
            &password,
        ))
        .await;
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS);
}

/// POSTs OTLP/HTTP JSON to `path`.
fn otlp(path: &str, key: &str, body: &serde_json::Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

#[sqlx::test(migrations = "../migrations")]
async fn over_long_otlp_records_are_reported_not_cut(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (_, key) = app.project("shop").await;
    let record = |body: String| json!({"timeUnixNano": "1700000000000000000", "body": {"stringValue": body}});
    let logs = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        record("x".repeat(100 * 1024)),
        record("fits".into()),
    ]}]}]});
    let response = app.send(otlp("/v1/logs", &key, &logs)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let partial = &response.body["partialSuccess"];
    assert_eq!(partial["rejectedLogRecords"], "1", "{}", response.text);
    assert!(
        partial["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("message: longer than 65536 characters")),
        "{}",
        response.text
    );
    let lengths: Vec<i32> = sqlx::query_scalar("select length(message) from log_entry")
        .fetch_all(&pool)
        .await
        .expect("rows");
    assert_eq!(lengths, [4], "only the line that fits, whole");

    let span = |id: &str, name: String| {
        json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": id, "name": name,
               "kind": 2, "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000"})
    };
    let traces = json!({"resourceSpans": [{"scopeSpans": [{"spans": [
        span("eee19b7ec3c1b174", "n".repeat(3000)),
        span("eee19b7ec3c1b175", "GET /ok".into()),
    ]}]}]});
    let response = app.send(otlp("/v1/traces", &key, &traces)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let partial = &response.body["partialSuccess"];
    assert_eq!(partial["rejectedSpans"], "1", "{}", response.text);
    assert!(
        partial["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("longer than 2048 bytes")),
        "{}",
        response.text
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn timestamps_are_read_by_each_protocol_and_drift_takes_the_arrival_time(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    let before = chrono::Utc::now();

    // Sentry: a number is seconds (1e15 s is no year we store), not the
    // microseconds of 2001.
    let envelope = format!(
        "{{}}\n{{\"type\":\"event\"}}\n{}\n",
        json!({"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "message": "clock", "timestamp": 1e15})
    );
    let response = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!("/api/{project_id}/envelope/?sentry_key={key}"))
                .body(Body::from(envelope))
                .expect("request"),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let (ts, kind): (chrono::DateTime<chrono::Utc>, Option<String>) =
        sqlx::query_as("select ts, payload::jsonb #>> '{errors,0,type}' from error_event")
            .fetch_one(&pool)
            .await
            .expect("event");
    assert!(ts >= before, "stored at its arrival, not in 2001: {ts}");
    assert_eq!(kind.as_deref(), Some("future_timestamp"));
    let first_seen: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select first_seen from issue")
            .fetch_one(&pool)
            .await
            .expect("issue");
    assert_eq!(first_seen, ts, "the issue's first-seen is its event's time");

    // Sightline's own format: 253402300800000 is milliseconds of 9999 read by
    // magnitude as microseconds of 1978; either way outside what is kept, so
    // the line takes its arrival time and keeps the original.
    let response = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/ingest/logs")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!([{"ts": 253_402_300_800_000_i64, "message": "far"},
                           {"ts": (before - chrono::TimeDelta::days(1)).to_rfc3339(), "message": "yesterday"}])
                    .to_string(),
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    /// message, ts, the original time and the drift, as stored.
    type Stored = (
        String,
        chrono::DateTime<chrono::Utc>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Stored> =
        sqlx::query_as(
            "select message, ts, attributes->>'sightline.original_ts', attributes->>'sightline.clock_drift'
             from log_entry order by message",
        )
        .fetch_all(&pool)
        .await
        .expect("rows");
    let (_, far_ts, original, drift) = &rows[0];
    assert!(*far_ts >= before, "{far_ts}");
    assert!(
        original.as_deref().is_some_and(|o| o.starts_with("1978-")),
        "{original:?}"
    );
    assert_eq!(drift.as_deref(), Some("past_timestamp"));
    let (message, ts, original, _) = &rows[1];
    assert_eq!(message, "yesterday");
    assert!(*ts < before - chrono::TimeDelta::hours(23), "kept as sent");
    assert_eq!(*original, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_number_postgresql_cannot_give_back_does_not_break_search(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, key) = app.project("shop").await;
    let viewer = app.token(Role::Viewer).await;
    // Stored exactly, PostgreSQL writes this back as 309 digits, which
    // serde_json refuses: every search over the line was a 500.
    let response = app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/ingest/logs")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    r#"{"message":"huge","big":1.7976931348623157e308,"ok":12.5}"#,
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    for uri in [
        "/api/v1/projects/shop/logs/search?q=huge",
        "/api/v1/projects/shop/logs/fields",
    ] {
        let response = app.get(uri, &viewer).await;
        assert_eq!(response.status, StatusCode::OK, "{uri}: {}", response.text);
    }
    let response = app
        .get("/api/v1/projects/shop/logs/search?q=huge", &viewer)
        .await;
    let attributes = &response.body["rows"][0]["attributes"];
    assert_eq!(
        attributes["big"], "1.7976931348623157e+308",
        "kept as its text"
    );
    assert_eq!(attributes["ok"], 12.5);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_whole_number_written_with_a_fraction_is_a_whole_number(pool: PgPool) {
    let app = TestApp::new(pool);
    app.project("shop").await;
    let admin = app.token(Role::Admin).await;
    // JSON Schema calls 2251799813685247.0 an integer; parsed one ulp off
    // (…247.25) it was refused as "floating point".
    let response = app
        .request(
            Method::PATCH,
            "/api/v1/projects/shop/issues",
            &admin,
            Some(json!({"issue_ids": [], "status": "unresolved"})),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let request = Request::builder()
        .method(Method::PATCH)
        .uri("/api/v1/projects/shop/issues")
        .header(header::CONTENT_TYPE, "application/json");
    let Auth::Bearer(token) = &admin else {
        unreachable!("a token")
    };
    let response = app
        .send(
            request
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(
                    r#"{"issue_ids":[2251799813685247.0],"status":"unresolved"}"#,
                ))
                .expect("request"),
        )
        .await;
    // Read as the id 2251799813685247, which no issue has.
    assert_eq!(response.status, StatusCode::NOT_FOUND, "{}", response.text);
    assert!(
        response.text.contains("no issue 2251799813685247"),
        "{}",
        response.text
    );
}

/// A key's rate limit per minute holds whatever protocol the records come by:
/// once Sightline's own format has used it up, Loki, OTLP and Elasticsearch
/// pushes with the same key are refused 429 with `Retry-After`, each in its
/// own answer format, and store nothing.
#[sqlx::test(migrations = "../migrations")]
async fn a_keys_rate_limit_holds_for_every_protocol(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("limited").await;
    sqlx::query("update project_key set rate_limit_per_minute = 3 where public_key = $1")
        .bind(&key)
        .execute(&pool)
        .await
        .unwrap();
    // The window is the clock's minute: start early in one.
    let second = chrono::Utc::now().timestamp() % 60;
    if second > 50 {
        tokio::time::sleep(Duration::from_secs((61 - second) as u64)).await;
    }
    let post = |path: &str, content_type: &str, body: String| {
        Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let native = app
        .send(post(
            "/api/v1/ingest/logs",
            "application/json",
            json!([{"message": "one"}, {"message": "two"}, {"message": "three"}]).to_string(),
        ))
        .await;
    assert_eq!(native.status, StatusCode::OK, "{}", native.text);

    let ns = chrono::Utc::now()
        .timestamp_nanos_opt()
        .unwrap_or_default()
        .to_string();
    let refused = [
        (
            "Loki",
            post(
                "/loki/api/v1/push",
                "application/json",
                json!({"streams": [{"stream": {"service": "api"}, "values": [[ns, "four"]]}]})
                    .to_string(),
            ),
        ),
        (
            "OTLP",
            post(
                "/v1/logs",
                "application/json",
                json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
                    {"body": {"stringValue": "four"}}]}]}]})
                .to_string(),
            ),
        ),
        (
            "Elasticsearch",
            post(
                "/app-logs/_bulk",
                "application/x-ndjson",
                "{\"index\":{}}\n{\"message\":\"four\"}\n".to_string(),
            ),
        ),
    ];
    for (protocol, request) in refused {
        let r = app.send(request).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{protocol}: {}",
            r.text
        );
        let retry_after: u64 = r.headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{protocol}: {retry_after}");
        assert!(r.text.contains("rate limit"), "{protocol}: {}", r.text);
    }
    let stored: i64 = sqlx::query_scalar("select count(*) from log_entry where project_id = $1")
        .bind(project_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, 3, "only the first request's lines");
}
