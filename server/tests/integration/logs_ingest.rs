//! Log ingestion through the native endpoint and the read API over real HTTP
//! requests and a real PostgreSQL: formats and encodings, partial acceptance,
//! limits, overload, durability, search, pagination, histogram, fields, context,
//! live tail, and partition upkeep with retention.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use std::{io::Write, time::Duration};

use app::api::Role;
use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use chrono::{DateTime, DurationRound, Utc};
use common::{error_code, Auth, TestApp};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;

fn ingest(key: &str, body: impl Into<Body>, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request =
        Request::post("/api/v1/ingest/logs").header(header::AUTHORIZATION, format!("Bearer {key}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body.into()).expect("request")
}

async fn count(pool: &PgPool, project_id: i64) -> i64 {
    sqlx::query_scalar("select count(*) from log_entry where project_id = $1")
        .bind(project_id)
        .fetch_one(pool)
        .await
        .expect("count")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

#[sqlx::test(migrations = "../migrations")]
async fn objects_arrays_and_ndjson_are_stored_normalised(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;

    let one = app
        .send(ingest(
            &key,
            json!({"ts": "2026-11-26T10:00:00Z", "level": "WARNING", "msg": "disk almost full",
            "service": "api", "host": "web-1", "trace_id": "t-1", "disk": {"free_mb": 12}})
            .to_string(),
            &[],
        ))
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(
        one.body,
        json!({"accepted": 1, "rejected": 0, "errors": []})
    );

    let array =
        json!([{"message": "a", "level": 50}, {"message": "b", "severity": "err"}]).to_string();
    assert_eq!(app.send(ingest(&key, array, &[])).await.body["accepted"], 2);

    let ndjson =
        "{\"message\":\"c\",\"time\":1764151200123}\n{\"message\":\"d\",\"lvl\":\"debug\"}\n";
    let r = app
        .send(ingest(
            &key,
            ndjson,
            &[("content-type", "application/x-ndjson")],
        ))
        .await;
    assert_eq!(r.body["accepted"], 2, "{}", r.text);

    assert_eq!(
        count(&pool, project_id).await,
        5,
        "a 2xx means the rows are committed"
    );
    let (level, service, host, message, trace, attributes): (i16, String, String, String, Option<String>, Value) =
        sqlx::query_as("select level, service, host, message, trace_id, attributes from log_entry where message = 'disk almost full'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (level, service.as_str(), host.as_str(), message.as_str()),
        (4, "api", "web-1", "disk almost full")
    );
    assert_eq!(trace.as_deref(), Some("t-1"));
    assert_eq!(attributes, json!({"disk": {"free_mb": 12}}));
    let levels: Vec<i16> = sqlx::query_scalar(
        "select level from log_entry where message in ('a','b','d') order by message",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(levels, vec![5, 5, 2]);
}

#[sqlx::test(migrations = "../migrations")]
async fn compressed_bodies_are_accepted(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("zip").await;
    let body = json!([{"message": "compressed"}]).to_string();

    let r = app
        .send(ingest(
            &key,
            gzip(body.as_bytes()),
            &[("content-encoding", "gzip")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "gzip: {}", r.text);

    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    zlib.write_all(body.as_bytes()).unwrap();
    let r = app
        .send(ingest(
            &key,
            zlib.finish().unwrap(),
            &[("content-encoding", "deflate")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "zlib deflate: {}", r.text);

    let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    raw.write_all(body.as_bytes()).unwrap();
    let r = app
        .send(ingest(
            &key,
            raw.finish().unwrap(),
            &[("content-encoding", "deflate")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "raw deflate: {}", r.text);

    let zstd = zstd::encode_all(body.as_bytes(), 1).unwrap();
    let r = app
        .send(ingest(&key, zstd, &[("content-encoding", "zstd")]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "zstd: {}", r.text);

    assert_eq!(count(&pool, project_id).await, 4);
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_gets_a_clear_4xx_and_good_records_are_kept(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("bad").await;
    let (_, other_key) = app.project("other").await;

    let r = app
        .send(
            Request::post("/api/v1/ingest/logs")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    error_code(&r);
    let r = app
        .send(ingest("0123456789abcdef0123456789abcdef", "{}", &[]))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let api_token = app.token(Role::Admin).await;
    let Auth::Bearer(token) = api_token else {
        unreachable!()
    };
    let r = app.send(ingest(&token, "{}", &[])).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "an API token is not an ingest key"
    );

    let mixed = "{\"message\":\"good 1\"}\n{broken\n42\n{\"message\":\"good 2\",\"ts\":\"not a time\"}\n{\"message\":\"good 3\"}\n";
    let r = app.send(ingest(&key, mixed, &[])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.body["accepted"].as_i64(), r.body["rejected"].as_i64()),
        (Some(2), Some(3))
    );
    let indexes: Vec<i64> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_i64().unwrap())
        .collect();
    assert_eq!(indexes, vec![1, 2, 3]);
    assert!(r.body["errors"][2]["reason"]
        .as_str()
        .unwrap()
        .contains("ts: not a timestamp"));

    let r = app.send(ingest(&key, "[1, 2]", &[])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["rejected"], 2);
    error_code(&r);
    let r = app.send(ingest(&key, "\"just a string\"", &[])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.send(ingest(&key, "", &[])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // A compression bomb: 100 MiB of zeros in about 100 KiB.
    let bomb = gzip(&vec![b' '; 100 * 1024 * 1024]);
    let r = app
        .send(ingest(&key, bomb, &[("content-encoding", "gzip")]))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("decompressed"));
    let r = app
        .send(ingest(&key, vec![b' '; 17 * 1024 * 1024], &[]))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = app
        .send(ingest(&key, "{}", &[("content-encoding", "compress")]))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .send(ingest(&key, "{}", &[("content-encoding", "br")]))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "not brotli: {}", r.text);
    let r = app
        .send(ingest(
            &key,
            "not gzip at all",
            &[("content-encoding", "gzip")],
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    assert_eq!(count(&pool, project_id).await, 2, "only the good records");
    let _ = other_key;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_queue_answers_429_with_retry_after(pool: PgPool) {
    let app = TestApp::with_env(pool.clone(), &[("SIGHTLINE_INGEST_QUEUE_MB", "1")]);
    let (_, key) = app.project("busy").await;
    // Hold the table so the first batch cannot commit while the second arrives.
    let blocker = common::lock_log_entry(&pool).await;

    let big: Vec<Value> = (0..2000)
        .map(|i| json!({"message": format!("{i} {}", "x".repeat(600))}))
        .collect();
    let first = {
        let app_request = ingest(&key, json!(big).to_string(), &[]);
        let router = app.clone_router();
        tokio::spawn(async move { tower::ServiceExt::oneshot(router, app_request).await })
    };
    common::wait_until_blocked(&pool, "copy log_entry").await;
    let second = common::answered_at_once(app.send(ingest(
        &key,
        json!({"message": "one more"}).to_string(),
        &[],
    )))
    .await;
    assert_eq!(
        second.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        second.text
    );
    assert_eq!(second.headers[header::RETRY_AFTER], "1");
    error_code(&second);

    blocker.rollback().await.unwrap();
    let first = first.await.unwrap().unwrap();
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "the first request is stored once the table is free"
    );
}

async fn seed(app: &TestApp, key: &str) {
    let base = Utc::now() - chrono::Duration::minutes(30);
    let lines: Vec<Value> = (0..50)
        .map(|i| {
            let level = ["info", "warn", "error"][i as usize % 3];
            json!({
                "ts": (base + chrono::Duration::seconds(i)).to_rfc3339(),
                "level": level,
                "service": if i % 2 == 0 { "api" } else { "worker" },
                "host": "h1",
                "message": format!("request {i} finished"),
                "http": {"status": if i % 5 == 0 { 500 } else { 200 }},
            })
        })
        .collect();
    let r = app.send(ingest(key, json!(lines).to_string(), &[])).await;
    assert_eq!(r.body["accepted"], 50, "{}", r.text);
}

#[sqlx::test(migrations = "../migrations")]
async fn search_pages_histogram_fields_and_context(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (_, key) = app.project("web").await;
    seed(&app, &key).await;
    let viewer = app.token(Role::Viewer).await;

    let r = app
        .get(
            "/api/v1/projects/web/logs/search?q=service:api%20http.status:%3E%3D500&from=now-1h",
            &viewer,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let rows = r.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5, "i in 0,10,20,30,40");
    assert_eq!(rows[0]["message"], "request 40 finished", "newest first");
    assert!(r.body["next_cursor"].is_null());

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/projects/web/logs/search?limit=20&cursor={c}"),
            None => "/api/v1/projects/web/logs/search?limit=20".to_string(),
        };
        let page = app.get(&url, &viewer).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        seen.extend(
            page.body["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_i64().unwrap()),
        );
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 50);
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 50, "pages neither repeat nor skip lines");

    let h = app
        .get(
            "/api/v1/projects/web/logs/histogram?from=now-1h&to=now&buckets=12",
            &viewer,
        )
        .await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text);
    let buckets = h.body["buckets"].as_array().unwrap();
    // 5-minute buckets from the minute `from` falls in: 12, or 13 when `from` is
    // not on a minute.
    assert!((12..=13).contains(&buckets.len()), "{}", buckets.len());
    let total: i64 = buckets
        .iter()
        .flat_map(|b| b["counts"].as_object().unwrap().values())
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(total, 50);
    let errors: i64 = buckets
        .iter()
        .filter_map(|b| b["counts"]["error"].as_i64())
        .sum();
    assert_eq!(errors, 16);

    let f = app.get("/api/v1/projects/web/logs/fields", &viewer).await;
    let names: Vec<&str> = f.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for expected in ["http.status", "level", "service", "host"] {
        assert!(names.contains(&expected), "{names:?}");
    }

    let middle = &rows[2];
    let url = format!(
        "/api/v1/projects/web/logs/context?ts={}&id={}&before=2&after=2",
        urlencode(middle["ts"].as_str().unwrap()),
        middle["id"]
    );
    let c = app.get(&url, &viewer).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert_eq!(c.body["line"]["message"], "request 20 finished");
    let before: Vec<&str> = c.body["before"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        before,
        vec!["request 16 finished", "request 18 finished"],
        "same service, oldest first"
    );

    let t = app
        .get(
            "/api/v1/projects/web/logs/query?q=%7C%20stats%20count()%20by%20level",
            &viewer,
        )
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
    assert_eq!(t.body["columns"], json!(["level", "count()"]));

    let bad = app
        .get("/api/v1/projects/web/logs/search?q=service:", &viewer)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at "));
    let bad = app
        .get("/api/v1/projects/web/logs/search?from=yesterday", &viewer)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad = app
        .get("/api/v1/projects/web/logs/search?cursor=zzz", &viewer)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/api/v1/projects/web/logs/search", &Auth::None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/projects/web/logs/search", &Auth::Bearer(key))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn live_tail_streams_new_matching_lines(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (_, key) = app.project("tail").await;
    let viewer = app.token(Role::Viewer).await;
    let Auth::Bearer(token) = &viewer else {
        unreachable!()
    };
    let request = Request::get("/api/v1/projects/tail/logs/tail?q=level:%3E%3Dwarn")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(app.clone_router(), request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut body = response.into_body();

    // The subscription is live once the handler answered; now send lines.
    let lines =
        json!([{"level": "info", "message": "quiet"}, {"level": "error", "message": "loud"}])
            .to_string();
    assert_eq!(
        app.send(ingest(&key, lines, &[])).await.status,
        StatusCode::OK
    );

    let started = std::time::Instant::now();
    let mut text = String::new();
    while !text.contains("loud") {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "no line within 2 s: {text}"
        );
        let frame = tokio::time::timeout(Duration::from_secs(2), body.frame()).await;
        if let Ok(Some(Ok(frame))) = frame {
            if let Ok(data) = frame.into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
    assert!(text.contains("event: line"), "{text}");
    assert!(!text.contains("quiet"), "only matching lines: {text}");
}

#[sqlx::test(migrations = "../migrations")]
async fn partitions_are_made_ahead_and_dropped_by_retention(pool: PgPool) {
    use server::pipeline::partitions::{partition_name, run_once, Period};
    let hour = |t: DateTime<Utc>| t.duration_trunc(chrono::Duration::hours(1)).unwrap();
    let now = Utc::now();
    let tables = [server::logs::partitions(3), server::errors::partitions(3)];
    let report = run_once(&pool, &tables, now).await.unwrap();
    let hours = report
        .created
        .iter()
        .filter(|name| name.starts_with("log_entry_p"))
        .count();
    assert_eq!(hours, 49, "a day of hours back and ahead: {report:?}");
    assert!(report
        .created
        .contains(&partition_name("log_entry", Period::Hour, hour(now))));
    let day = now.duration_trunc(chrono::Duration::days(1)).unwrap();
    assert!(report
        .created
        .contains(&partition_name("error_event", Period::Day, day)));

    // A line from 10 days ago (within the 14 days of retention) goes to the
    // default partition: no partition is made that far back.
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("ret").await;
    let old = now - chrono::Duration::days(10);
    let future = now + chrono::Duration::days(5);
    let lines = json!([{"ts": old.to_rfc3339(), "message": "old"}, {"message": "now"}]).to_string();
    assert_eq!(app.send(ingest(&key, lines, &[])).await.body["accepted"], 2);
    // Ingestion stores no line five days ahead (the clock-drift rule gives it
    // its arrival time), but a row can still sit beyond the partitions made so
    // far (upkeep stopped for days, say): it waits in the default partition.
    sqlx::query(
        "insert into log_entry (project_id, ts, level, message) values ($1, $2, 3, 'future')",
    )
    .bind(project_id)
    .bind(future)
    .execute(&pool)
    .await
    .unwrap();
    let in_default: i64 = sqlx::query_scalar("select count(*) from log_entry_default")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(in_default, 2);

    // Five days later, with 3 days retention: old partitions go, the future line's
    // hour gets its partition (the line moves into it), the old line is purged.
    let later = now + chrono::Duration::days(5);
    let report = run_once(&pool, &tables, later).await.unwrap();
    assert!(
        report
            .dropped
            .contains(&partition_name("log_entry", Period::Hour, hour(now))),
        "{report:?}"
    );
    let future_partition = partition_name("log_entry", Period::Hour, hour(future));
    assert!(report.created.contains(&future_partition), "{report:?}");
    assert_eq!(report.purged_default_rows, 1);
    let messages: Vec<String> =
        sqlx::query_scalar("select message from log_entry where project_id = $1 order by message")
            .bind(project_id)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        messages,
        vec!["future"],
        "the current line went with its partition"
    );
    let moved: i64 = sqlx::query_scalar(&format!("select count(*) from {future_partition}"))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(moved, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn closed_hours_get_the_search_index_and_searches_use_it(pool: PgPool) {
    use server::pipeline::partitions::{index_closed, partition_name, run_once, Period};
    let hour = |t: DateTime<Utc>| t.duration_trunc(chrono::Duration::hours(1)).unwrap();
    let now = Utc::now();
    let tables = [server::logs::partitions(3)];
    run_once(&pool, &tables, now).await.unwrap();
    let app = TestApp::new(pool.clone());
    let (_, key) = app.project("idx").await;
    let earlier = now - chrono::Duration::hours(2);
    let lines = json!([{"ts": earlier.to_rfc3339(), "message": "a needle in an old hour"},
                       {"message": "a needle now"}])
    .to_string();
    assert_eq!(app.send(ingest(&key, lines, &[])).await.body["accepted"], 2);

    let built = index_closed(&pool, &tables, now).await.unwrap();
    let closed = format!(
        "{}_message_trgm",
        partition_name("log_entry", Period::Hour, hour(earlier))
    );
    let open = format!(
        "{}_message_trgm",
        partition_name("log_entry", Period::Hour, hour(now))
    );
    assert!(built.contains(&closed), "{built:?}");
    assert!(
        !built.contains(&open),
        "the current hour stays unindexed: {built:?}"
    );
    assert!(
        index_closed(&pool, &tables, now).await.unwrap().is_empty(),
        "built once"
    );
    // Both lines are still found, one through the index, one by the scan.
    let token = app.token(Role::Viewer).await;
    let found = app
        .get(
            "/api/v1/projects/idx/logs/search?q=needle&from=now-3h",
            &token,
        )
        .await;
    assert_eq!(
        found.body["rows"].as_array().map(Vec::len),
        Some(2),
        "{}",
        found.body
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn counts_from_the_minute_rollup_equal_counting_every_line(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (_, key) = app.project("roll").await;
    let base = Utc::now() - chrono::Duration::minutes(50);
    let lines: Vec<Value> = (0..600)
        .map(|i: i64| {
            let level = ["debug", "info", "warn", "error"][(i % 4) as usize];
            let service = ["a", "b", "c"][(i % 3) as usize];
            json!({"ts": (base + chrono::Duration::seconds(i * 5 + i % 7)).to_rfc3339(),
                   "level": level, "service": service, "message": format!("line {i}")})
        })
        .collect();
    for chunk in lines.chunks(100) {
        let r = app.send(ingest(&key, json!(chunk).to_string(), &[])).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let viewer = app.token(Role::Viewer).await;
    // A range that starts and ends inside minutes; `message:*` (true for every line
    // here) forces counting the lines themselves.
    let from = urlencode(&(base + chrono::Duration::seconds(95)).to_rfc3339());
    let to = urlencode(&(base + chrono::Duration::seconds(2517)).to_rfc3339());
    for (counted, raw) in [
        (
            "| stats count() by level",
            "message:* | stats count() by level",
        ),
        (
            "service:b | stats count() by service, level every 5m",
            "service:b message:* | stats count() by service, level every 5m",
        ),
        (
            "level:>=warn -service:c | stats count()",
            "level:>=warn -service:c message:* | stats count()",
        ),
    ] {
        let get = |q: &str| {
            format!(
                "/api/v1/projects/roll/logs/query?from={from}&to={to}&q={}",
                urlencode(q)
            )
        };
        let a = app.get(&get(counted), &viewer).await;
        let b = app.get(&get(raw), &viewer).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["rows"], b.body["rows"], "{counted}");
        assert!(!a.body["rows"].as_array().unwrap().is_empty());
    }
    let histogram = |q: &str| {
        format!(
            "/api/v1/projects/roll/logs/histogram?from={from}&to={to}&buckets=8&q={}",
            urlencode(q)
        )
    };
    let a = app.get(&histogram("level:error"), &viewer).await;
    let b = app.get(&histogram("level:error message:*"), &viewer).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let total = |r: &common::TestResponse| -> i64 {
        r.body["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|b| b["counts"]["error"].as_i64())
            .sum()
    };
    assert_eq!(total(&a), total(&b));
    assert!(total(&a) > 0);
}

/// Attributes kept as the text they came in (the fast path) must be what
/// `jsonb` stores from them: escapes, raw non-ASCII, numbers of every form,
/// nesting, and a line that needs the careful path in the same batch.
#[sqlx::test(migrations = "../migrations")]
async fn attributes_kept_as_text_are_stored_as_json(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    let lines = [
        r#"{"message":"a","quote":"say \"hi\"","path":"C:\\tmp\/x","tab":"a\tb\nc","emoji":"héllo 🌍","n":[0,-0,1.50,-7,123456789012345678901234567890],"deep":{"a":{"b":[true,false,null,{}]}},"empty":[]}"#,
        r#"{"message":"b","nul":"x\u0000y","e":1.5e3,"cafe":"caf\u00e9"}"#,
    ];
    let r = app
        .send(ingest(
            &key,
            lines.join("\n"),
            &[("content-type", "application/x-ndjson")],
        ))
        .await;
    assert_eq!(r.body["accepted"], 2, "{}", r.text);
    let stored: Vec<Value> = sqlx::query_scalar(
        "select attributes from log_entry where project_id = $1 order by message",
    )
    .bind(project_id)
    .fetch_all(&pool)
    .await
    .expect("attributes");
    assert_eq!(
        stored[0],
        json!({"quote": "say \"hi\"", "path": "C:\\tmp/x", "tab": "a\tb\nc", "emoji": "héllo 🌍",
               "n": [0, 0, 1.5, -7, 123456789012345678901234567890_f64],
               "deep": {"a": {"b": [true, false, null, {}]}}, "empty": []})
    );
    assert_eq!(stored[1], json!({"nul": "xy", "e": 1500.0, "cafe": "café"}));
    let big: String = sqlx::query_scalar(
        "select attributes->'n'->>4 from log_entry where project_id = $1 and message = 'a'",
    )
    .bind(project_id)
    .fetch_one(&pool)
    .await
    .expect("number");
    assert_eq!(big, "123456789012345678901234567890", "kept exactly");
}
