//! Elasticsearch compatibility over real HTTP requests and a real PostgreSQL: the
//! bulk API item by item, the default index of `/{index}/_bulk`, compressed
//! bodies, overload, the handshake endpoints and their product header, `GET /`
//! shared with the web UI, authentication errors in Elasticsearch's shape, and
//! the official Python client end to end.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use std::io::Write;

use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use base64::Engine;
use common::{TestApp, TestResponse};
use serde_json::{json, Value};
use sqlx::PgPool;

const NDJSON: &str = "application/x-ndjson";

fn basic(key: &str) -> String {
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("elastic:{key}"));
    format!("Basic {credentials}")
}

fn es_request(
    method: Method,
    uri: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: impl Into<Body>,
) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, basic(key));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body.into()).expect("request")
}

fn bulk(uri: &str, key: &str, body: impl Into<Body>) -> Request<Body> {
    es_request(
        Method::POST,
        uri,
        Some(key),
        &[("content-type", NDJSON)],
        body,
    )
}

fn get(uri: &str, key: Option<&str>) -> Request<Body> {
    es_request(Method::GET, uri, key, &[], Body::empty())
}

fn assert_es(response: &TestResponse) {
    assert_eq!(
        response
            .headers
            .get("x-elastic-product")
            .map(|v| v.to_str().expect("ascii")),
        Some("Elasticsearch"),
        "product header missing: {} {}",
        response.status,
        response.text
    );
}

/// `(op, status, error type)` of each item of a bulk answer.
fn items(response: &TestResponse) -> Vec<(String, u64, Option<String>)> {
    response.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            let (op, outcome) = item
                .as_object()
                .expect("item")
                .iter()
                .next()
                .expect("one op");
            (
                op.clone(),
                outcome["status"].as_u64().expect("status"),
                outcome["error"]["type"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn item(op: &str, status: u64, error: Option<&str>) -> (String, u64, Option<String>) {
    (op.to_owned(), status, error.map(str::to_owned))
}

async fn count(pool: &PgPool, project_id: i64) -> i64 {
    sqlx::query_scalar("select count(*) from log_entry where project_id = $1")
        .bind(project_id)
        .fetch_one(pool)
        .await
        .expect("count")
}

type Row = (
    i16,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Value,
);

async fn row(pool: &PgPool, message: &str) -> Row {
    sqlx::query_as("select level, service, host, message, trace_id, span_id, attributes from log_entry where message = $1")
        .bind(message)
        .fetch_one(pool)
        .await
        .expect("row")
}

#[sqlx::test(migrations = "../migrations")]
async fn mixed_bulk_answers_every_item_and_stores_the_good_ones(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    let body = [
        r#"{"create":{"_index":"filebeat-8.17.0"}}"#,
        r#"{"@timestamp":"2026-11-26T10:00:00.000Z","message":"disk almost full","log":{"level":"warning","file":{"path":"/var/log/app.log"}},"service":{"name":"api","version":"2.1"},"host":{"name":"web-1","os":{"family":"debian"}},"trace":{"id":"t-1"},"span":{"id":"s-1"}}"#,
        r#"{"delete":{"_index":"filebeat-8.17.0","_id":"abc"}}"#,
        r#"{"index":{"_index":"app-logs","_id":"doc-7"}}"#,
        r#"{"@timestamp":"2026-11-26T10:00:01Z","message":"payment failed","log.level":"ERROR","service.name":"billing","host.hostname":"web-2","customer":{"tier":"gold"}}"#,
        r#"{"update":{"_index":"app-logs","_id":"doc-7"}}"#,
        r#"{"doc":{"message":"changed"}}"#,
        r#"{"create":{"_index":"app-logs"}"#,
        r#"{"message":"the document of a malformed action"}"#,
        r#"{"create":{"_index":"app-logs"}}"#,
        r#"{"message": "unterminated"#,
        r#"{"index":{"_index":"app-logs"}}"#,
        r#"{"@timestamp":"not a time","message":"bad timestamp"}"#,
        r#"{"index":{"_index":"app-logs"}}"#,
        r#"{"message":"plain line"}"#,
        "",
    ]
    .join("\n");
    let response = app.send(bulk("/_bulk", &key, body)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_es(&response);
    assert_eq!(response.body["errors"], true);
    assert!(response.body["took"].is_u64());
    assert_eq!(
        items(&response),
        vec![
            item("create", 201, None),
            item("delete", 400, Some("illegal_argument_exception")),
            item("index", 201, None),
            item("update", 400, Some("illegal_argument_exception")),
            item("index", 400, Some("parse_exception")),
            item("create", 400, Some("mapper_parsing_exception")),
            item("index", 400, Some("mapper_parsing_exception")),
            item("index", 201, None),
        ]
    );
    let answered = &response.body["items"];
    assert_eq!(answered[0]["create"]["_index"], "filebeat-8.17.0");
    assert_eq!(answered[0]["create"]["result"], "created");
    assert_eq!(answered[0]["create"]["_version"], 1);
    assert_eq!(answered[2]["index"]["_id"], "doc-7");
    assert!(answered[0]["create"]["_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    assert!(answered[1]["delete"]["error"]["reason"]
        .as_str()
        .expect("reason")
        .contains("append-only"));

    assert_eq!(
        count(&pool, project_id).await,
        3,
        "exactly the good documents are stored"
    );
    let (level, service, host, _, trace, span, attributes) = row(&pool, "disk almost full").await;
    assert_eq!(
        (level, service.as_str(), host.as_str()),
        (4, "api", "web-1")
    );
    assert_eq!(
        (trace.as_deref(), span.as_deref()),
        (Some("t-1"), Some("s-1"))
    );
    assert_eq!(
        attributes,
        json!({"index": "filebeat-8.17.0", "log": {"file": {"path": "/var/log/app.log"}},
            "service": {"version": "2.1"}, "host": {"os": {"family": "debian"}}})
    );
    let (level, service, host, _, _, _, attributes) = row(&pool, "payment failed").await;
    assert_eq!(
        (level, service.as_str(), host.as_str()),
        (5, "billing", "web-2")
    );
    assert_eq!(
        attributes,
        json!({"index": "app-logs", "customer": {"tier": "gold"}})
    );
    let ts: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select ts from log_entry where message = 'payment failed'")
            .fetch_one(&pool)
            .await
            .expect("ts");
    assert_eq!(ts.to_rfc3339(), "2026-11-26T10:00:01+00:00");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_path_names_the_default_index(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    let body = "{\"index\":{}}\n{\"message\":\"to the path index\"}\n{\"create\":{\"_index\":\"other\"}}\n{\"message\":\"to its own index\"}\n";
    let response = app.send(bulk("/nginx-access/_bulk", &key, body)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.body["errors"], false);
    assert_eq!(response.body["items"][0]["index"]["_index"], "nginx-access");
    assert_eq!(response.body["items"][1]["create"]["_index"], "other");
    assert_eq!(
        row(&pool, "to the path index").await.6,
        json!({"index": "nginx-access"})
    );
    assert_eq!(
        row(&pool, "to its own index").await.6,
        json!({"index": "other"})
    );

    // PUT works too, and an index named like a UI page still reaches the bulk API.
    let put = es_request(
        Method::PUT,
        "/logs/_bulk",
        Some(&key),
        &[("content-type", "application/json")],
        "{\"index\":{}}\n{\"message\":\"put\"}\n",
    );
    let response = app.send(put).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(row(&pool, "put").await.6, json!({"index": "logs"}));

    // Without a path index, an action without `_index` is refused on its own.
    let response = app
        .send(bulk(
            "/_bulk",
            &key,
            "{\"index\":{}}\n{\"message\":\"nowhere\"}\n",
        ))
        .await;
    assert_eq!(
        items(&response),
        vec![item(
            "index",
            400,
            Some("action_request_validation_exception")
        )]
    );
    assert_eq!(count(&pool, project_id).await, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn compressed_and_compatibility_mode_bulks_are_accepted(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    let body: String = (0..50)
        .map(|i| format!("{{\"create\":{{\"_index\":\"gz\"}}}}\n{{\"message\":\"zipped {i}\",\"log.level\":\"debug\"}}\n"))
        .collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(body.as_bytes()).expect("gzip");
    let gzipped = encoder.finish().expect("gzip");
    let compat = "application/vnd.elasticsearch+x-ndjson; compatible-with=8";
    let accept = "application/vnd.elasticsearch+json; compatible-with=8";
    let request = es_request(
        Method::POST,
        "/_bulk?filter_path=errors,items.*.error&refresh=false",
        Some(&key),
        &[
            ("content-type", compat),
            ("accept", accept),
            ("content-encoding", "gzip"),
        ],
        gzipped,
    );
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert_eq!(response.body["errors"], false);
    assert_eq!(response.body["items"].as_array().map(Vec::len), Some(50));
    assert_eq!(
        response.headers[header::CONTENT_TYPE],
        "application/vnd.elasticsearch+json;compatible-with=8"
    );
    assert_eq!(count(&pool, project_id).await, 50);
    let debug: i64 = sqlx::query_scalar("select count(*) from log_entry where level = 2")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(debug, 50);

    // A form body (what `curl -d` sends) is refused like Elasticsearch does.
    let form = es_request(
        Method::POST,
        "/_bulk",
        Some(&key),
        &[("content-type", "application/x-www-form-urlencoded")],
        "x",
    );
    let response = app.send(form).await;
    assert_eq!(
        response.status,
        StatusCode::NOT_ACCEPTABLE,
        "{}",
        response.text
    );
    assert_eq!(
        response.body["error"]["type"],
        "media_type_header_exception"
    );
    // So is a body with no action at all.
    let response = app.send(bulk("/_bulk", &key, "\n")).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        response.body["error"]["type"],
        "action_request_validation_exception"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn handshake_endpoints_answer_as_elasticsearch(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (_, key) = app.project("shop").await;
    let key = Some(key.as_str());

    let info = app.send(get("/", key)).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.text);
    assert_es(&info);
    assert_eq!(info.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(info.body["version"]["number"], "8.17.0");
    assert_eq!(info.body["version"]["build_flavor"], "default");
    assert_eq!(info.body["tagline"], "You Know, for Search");
    for field in [
        "lucene_version",
        "minimum_wire_compatibility_version",
        "minimum_index_compatibility_version",
    ] {
        assert!(info.body["version"][field].is_string(), "{field}");
    }
    let head = app
        .send(es_request(Method::HEAD, "/", key, &[], Body::empty()))
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_es(&head);
    assert!(head.text.is_empty());

    let compat = app
        .send(es_request(
            Method::GET,
            "/",
            key,
            &[(
                "accept",
                "application/vnd.elasticsearch+json; compatible-with=8",
            )],
            Body::empty(),
        ))
        .await;
    assert_eq!(
        compat.headers[header::CONTENT_TYPE],
        "application/vnd.elasticsearch+json;compatible-with=8"
    );

    let health = app.send(get("/_cluster/health", key)).await;
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (StatusCode::OK, Some("green"))
    );
    assert_es(&health);
    let license = app.send(get("/_license", key)).await;
    assert_eq!(license.body["license"]["status"], "active");
    assert_es(&license);
    let nodes = app.send(get("/_nodes/_all/http", key)).await;
    assert_eq!(nodes.body["_nodes"]["total"], 1);
    assert_es(&nodes);
    assert_eq!(app.send(get("/_nodes", key)).await.status, StatusCode::OK);
    assert_eq!(
        app.send(get("/_xpack", key)).await.body["features"]["ilm"]["enabled"],
        true
    );
    let cat = app
        .send(es_request(
            Method::HEAD,
            "/_cat/health",
            key,
            &[],
            Body::empty(),
        ))
        .await;
    assert_eq!(cat.status, StatusCode::OK);
    assert_es(&cat);
    assert!(app
        .send(get("/_cat/health", key))
        .await
        .text
        .contains("green"));

    // Index management: reported present (so Filebeat skips it), PUTs acknowledged.
    for path in [
        "/_index_template/filebeat-8.17.0",
        "/_ilm/policy/filebeat",
        "/_data_stream/filebeat-8.17.0",
    ] {
        let exists = app
            .send(es_request(Method::HEAD, path, key, &[], Body::empty()))
            .await;
        assert_eq!(exists.status, StatusCode::OK, "HEAD {path}");
        assert_es(&exists);
        assert_eq!(
            app.send(get(path, key)).await.status,
            StatusCode::OK,
            "GET {path}"
        );
        let put = app
            .send(es_request(
                Method::PUT,
                path,
                key,
                &[("content-type", "application/json")],
                r#"{"index_patterns":["x-*"]}"#,
            ))
            .await;
        assert_eq!(
            (put.status, &put.body),
            (StatusCode::OK, &json!({"acknowledged": true})),
            "PUT {path}"
        );
    }
    let template = app.send(get("/_index_template/filebeat-8.17.0", key)).await;
    assert_eq!(
        template.body["index_templates"][0]["name"],
        "filebeat-8.17.0"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn browsers_and_anonymous_probes_of_the_root_get_the_ui(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (_, key) = app.project("shop").await;
    let browser = es_request(
        Method::GET,
        "/",
        Some(&key),
        &[(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )],
        Body::empty(),
    );
    let page = app.send(browser).await;
    assert!(
        page.headers.get("x-elastic-product").is_none(),
        "{} {}",
        page.status,
        page.text
    );
    let probe = app
        .send(es_request(
            Method::GET,
            "/",
            None,
            &[("accept", "*/*")],
            Body::empty(),
        ))
        .await;
    assert!(
        probe.headers.get("x-elastic-product").is_none(),
        "{} {}",
        probe.status,
        probe.text
    );
    assert_ne!(probe.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "../migrations")]
async fn missing_or_unknown_keys_are_refused_in_elasticsearch_shape(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, _) = app.project("shop").await;
    let body = "{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"m\"}\n";
    let anonymous = es_request(
        Method::POST,
        "/_bulk",
        None,
        &[("content-type", NDJSON)],
        body,
    );
    let cases = [
        anonymous,
        bulk("/_bulk", "not-a-key", body),
        get("/_cluster/health", None),
        get("/_license", Some("nope")),
        es_request(Method::GET, "/", Some("nope"), &[], Body::empty()),
        es_request(
            Method::GET,
            "/",
            None,
            &[(
                "accept",
                "application/vnd.elasticsearch+json; compatible-with=8",
            )],
            Body::empty(),
        ),
    ];
    for request in cases {
        let uri = request.uri().clone();
        let response = app.send(request).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{uri}: {}",
            response.text
        );
        assert_es(&response);
        assert_eq!(
            response.headers[header::WWW_AUTHENTICATE],
            "Basic realm=\"sightline\""
        );
        assert_eq!(response.body["status"], 401);
        assert_eq!(response.body["error"]["type"], "security_exception");
        assert_eq!(
            response.body["error"]["root_cause"][0]["type"],
            "security_exception"
        );
        assert!(response.body["error"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()));
    }
    assert_eq!(count(&pool, project_id).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_queue_rejects_the_bulk_with_429(pool: PgPool) {
    let app = TestApp::with_env(pool.clone(), &[("SIGHTLINE_INGEST_QUEUE_MB", "1")]);
    let (_, key) = app.project("busy").await;
    // Hold the table so the first bulk cannot commit while the second arrives.
    let blocker = common::lock_log_entry(&pool).await;
    let big: String = (0..2000)
        .map(|i| {
            format!(
                "{{\"create\":{{\"_index\":\"big\"}}}}\n{{\"message\":\"{i} {}\"}}\n",
                "x".repeat(600)
            )
        })
        .collect();
    let first = {
        let request = bulk("/_bulk", &key, big);
        let router = app.clone_router();
        tokio::spawn(async move { tower::ServiceExt::oneshot(router, request).await })
    };
    common::wait_until_blocked(&pool, "copy log_entry").await;
    let second = common::answered_at_once(app.send(bulk(
        "/_bulk",
        &key,
        "{\"create\":{\"_index\":\"i\"}}\n{\"message\":\"one more\"}\n",
    )))
    .await;
    assert_eq!(
        second.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        second.text
    );
    assert_eq!(second.headers[header::RETRY_AFTER], "1");
    assert_eq!(
        second.body["error"]["type"],
        "es_rejected_execution_exception"
    );
    assert_es(&second);

    blocker.rollback().await.expect("rollback");
    let first = first.await.expect("join").expect("response");
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "the first bulk is stored once the table is free"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_python_client_stores_every_document(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("shop").await;
    let url = app.listen().await;
    let output = common::run_python("elastic_client.py", &[&url, &key]).await;
    let result: Value = serde_json::from_str(output.trim()).expect("the script prints JSON");
    assert_eq!(
        result,
        json!({"version": "8.17.0", "health": "green", "success": 100, "errors": []})
    );

    assert_eq!(count(&pool, project_id).await, 100);
    let per_level: Vec<(i16, i64)> = sqlx::query_as(
        "select level, count(*) from log_entry where project_id = $1 group by level order by level",
    )
    .bind(project_id)
    .fetch_all(&pool)
    .await
    .expect("levels");
    assert_eq!(per_level, vec![(2, 25), (3, 25), (4, 25), (5, 25)]);
    let services: Vec<String> =
        sqlx::query_scalar("select distinct service from log_entry where project_id = $1")
            .bind(project_id)
            .fetch_all(&pool)
            .await
            .expect("services");
    assert_eq!(services, vec!["checkout".to_string()]);
    let indexes: Vec<(String, i64)> = sqlx::query_as(
        "select attributes->>'index', count(*) from log_entry where project_id = $1 group by 1 order by 1",
    )
    .bind(project_id)
    .fetch_all(&pool)
    .await
    .expect("indexes");
    assert_eq!(
        indexes,
        vec![("py-audit".to_string(), 34), ("py-logs".to_string(), 66)]
    );

    let (level, service, host, _, _, _, attributes) = row(&pool, "python message 4").await;
    assert_eq!(
        (level, service.as_str(), host.as_str()),
        (3, "checkout", "web-1")
    );
    assert_eq!(
        attributes,
        json!({"index": "py-logs", "order": {"id": 4}, "log": {"logger": "shop.orders"}, "service": {"version": "1.4.2"}})
    );
    let ts: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select ts from log_entry where message = 'python message 61'")
            .fetch_one(&pool)
            .await
            .expect("ts");
    assert_eq!(ts.to_rfc3339(), "2026-11-26T10:01:01.061+00:00");
}
