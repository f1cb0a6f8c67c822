//! The protocol's edges: where the key is, refusals, the store endpoint,
//! retries, malformed bodies, item types and CORS.

use std::io::Write;

use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use serde_json::json;
use sqlx::PgPool;

use super::common::{TestApp, TestResponse};
use super::*;

#[sqlx::test(migrations = "../migrations")]
async fn the_key_is_read_wherever_sdks_put_it(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("keys").await;
    let t = base_time();
    let requests = [
        // Browser SDKs: the query string, with a text/plain body (no preflight).
        Request::post(format!(
            "/api/{project_id}/envelope/?sentry_key={key}&sentry_version=7"
        ))
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .body(Body::from(event_envelope(&event(&new_id(), "by query", t))))
        .expect("request"),
        Request::post(format!("/api/{project_id}/envelope"))
            .header(
                header::AUTHORIZATION,
                format!("Sentry sentry_key={key}, sentry_version=7"),
            )
            .body(Body::from(event_envelope(&event(
                &new_id(),
                "by authorization",
                t,
            ))))
            .expect("request"),
        // A tunnelled browser envelope: only the DSN in its header.
        post(
            &envelope_uri(project_id),
            None,
            envelope(
                json!({"dsn": format!("https://{key}@errors.example.com/{project_id}")}),
                &[item("event", &event(&new_id(), "by dsn", t))],
            ),
        ),
    ];
    for request in requests {
        let r = app.send(request).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["id"].as_str().map(str::len), Some(32), "{}", r.text);
    }
    assert_eq!(stored_events(&pool, project_id).await, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn wrong_keys_and_projects_are_403(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("mine").await;
    let (other_project, other_key) = app.project("theirs").await;
    let body = || event_envelope(&event(&new_id(), "nope", base_time()));
    let uri = envelope_uri(project_id);

    let r = app.send(post(&uri, Some("0123456789abcdef"), body())).await;
    assert_refused(&r, StatusCode::FORBIDDEN, "unknown");
    let r = app.send(post(&uri, Some(&other_key), body())).await;
    assert_refused(&r, StatusCode::FORBIDDEN, "project");
    let r = app.send(post(&uri, None, body())).await;
    assert_refused(&r, StatusCode::FORBIDDEN, "sentry_key");
    let tunnelled = envelope(
        json!({"dsn": format!("http://{other_key}@h/{other_project}")}),
        &[item("event", &event(&new_id(), "nope", base_time()))],
    );
    let r = app.send(post(&uri, None, tunnelled)).await;
    assert_refused(&r, StatusCode::FORBIDDEN, "project");
    let r = app
        .send(post(&format!("/api/{project_id}/store/"), None, "{}"))
        .await;
    assert_refused(&r, StatusCode::FORBIDDEN, "sentry_key");
    sqlx::query("update project_key set revoked_at = now() where public_key = $1")
        .bind(&key)
        .execute(&pool)
        .await
        .expect("revoke");
    let r = app.send(post(&uri, Some(&key), body())).await;
    assert_refused(&r, StatusCode::FORBIDDEN, "revoked");

    assert_eq!(stored_events(&pool, project_id).await, 0);
    assert_eq!(stored_events(&pool, other_project).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_store_endpoint_takes_json_and_base64_zlib(pool: PgPool) {
    use base64::Engine;
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("legacy").await;
    let plain = event(&new_id(), "stored as json", base_time());
    let r = app
        .send(post(
            &format!("/api/{project_id}/store/"),
            Some(&key),
            plain.to_string(),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], plain["event_id"]);

    // raven-python: base64(zlib(json)), the key in the query.
    let packed = event(&new_id(), "stored as base64 zlib", base_time());
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    zlib.write_all(packed.to_string().as_bytes()).expect("zlib");
    let body = base64::engine::general_purpose::STANDARD.encode(zlib.finish().expect("zlib"));
    let r = app
        .send(post(
            &format!("/api/{project_id}/store?sentry_key={key}"),
            None,
            body,
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], packed["event_id"]);

    let titles: Vec<String> = issues(&pool, project_id)
        .await
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert_eq!(titles, ["stored as base64 zlib", "stored as json"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_retried_event_is_stored_once(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("retries").await;
    let id = new_id();
    let first = event(&id, "flaky network", base_time());
    for _ in 0..2 {
        let r = app
            .send(post(
                &envelope_uri(project_id),
                Some(&key),
                event_envelope(&first),
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["id"], id.as_str());
    }
    // The same id twice in one envelope, with a new one.
    let twice = envelope(
        json!({}),
        &[
            item("event", &first),
            item("event", &first),
            item("event", &event(&new_id(), "flaky network", base_time())),
        ],
    );
    let r = app
        .send(post(&envelope_uri(project_id), Some(&key), twice))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(stored_events(&pool, project_id).await, 2);
    assert_eq!(issues(&pool, project_id).await[0].event_count, 2);
    assert_counts_agree(&pool, project_id).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn malformed_envelopes_are_refused_and_store_nothing(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("malformed").await;
    let uri = envelope_uri(project_id);
    let good = event_envelope(&event(&new_id(), "fine", base_time()));
    let mut truncated = gzip(&good);
    truncated.truncate(truncated.len() / 2);
    let huge = json!({"message": "big", "extra": {"blob": "x".repeat(1024 * 1024)}});
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            post(
                &uri,
                Some(&key),
                b"{}\n{\"type\":\"event\",\"length\":500}\n{}\n".to_vec(),
            ),
            StatusCode::BAD_REQUEST,
            "length 500",
        ),
        (
            post(
                &uri,
                Some(&key),
                b"not json\n{\"type\":\"event\"}\n{}\n".to_vec(),
            ),
            StatusCode::BAD_REQUEST,
            "envelope header",
        ),
        (
            Request::post(&uri)
                .header("x-sentry-auth", format!("Sentry sentry_key={key}"))
                .header(header::CONTENT_ENCODING, "gzip")
                .body(Body::from(truncated))
                .expect("request"),
            StatusCode::BAD_REQUEST,
            "gzip",
        ),
        (
            post(
                &uri,
                Some(&key),
                envelope(json!({}), &[item("event", &huge)]),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the limit",
        ),
        (
            post(
                &uri,
                Some(&key),
                envelope(json!({}), &[(json!({"type": "event"}), b"{oops".to_vec())]),
            ),
            StatusCode::BAD_REQUEST,
            "not valid JSON",
        ),
        (
            post(
                &uri,
                Some(&key),
                envelope(json!({}), &[item("event", &json!([1, 2]))]),
            ),
            StatusCode::BAD_REQUEST,
            "JSON object",
        ),
        (
            post("/api/shop/envelope/", Some(&key), good.clone()),
            StatusCode::BAD_REQUEST,
            "project id",
        ),
        (
            Request::post(&uri)
                .header("x-sentry-auth", format!("Sentry sentry_key={key}"))
                .header(header::CONTENT_ENCODING, "lzma")
                .body(Body::from(good.clone()))
                .expect("request"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "lzma",
        ),
    ];
    for (request, status, needle) in cases {
        let r = app.send(request).await;
        assert_refused(&r, status, needle);
    }
    assert_eq!(stored_events(&pool, project_id).await, 0);
    assert!(issues(&pool, project_id).await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_items_are_accepted_and_skipped(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("items").await;
    let id = new_id();
    let body = envelope(
        json!({"event_id": id, "sdk": {"name": "sentry.javascript.browser"}}),
        &[
            (
                json!({"type": "attachment", "filename": "core.bin"}),
                b"\x00\x01\n{\"type\":\"event\"}\n\xff".to_vec(),
            ),
            item(
                "check_in",
                &json!({"check_in_id": new_id(), "status": "ok"}),
            ),
            item("made_up_kind", &json!({})),
            item("transaction", &json!({"type": "transaction", "spans": []})),
            item("event", &event(&id, "with company", base_time())),
            item("replay_event", &json!({})),
        ],
    );
    let r = app
        .send(post(&envelope_uri(project_id), Some(&key), body))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(stored_events(&pool, project_id).await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn browsers_get_cors_answers(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("browser").await;
    let uri = envelope_uri(project_id);
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri(&uri)
        .header(header::ORIGIN, "https://shop.example.com")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "x-sentry-auth,content-type,sentry-trace,baggage",
        )
        .body(Body::empty())
        .expect("request");
    let r = app.send(preflight).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let value = |r: &TestResponse, name: header::HeaderName| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    assert_eq!(value(&r, header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    assert!(value(&r, header::ACCESS_CONTROL_ALLOW_METHODS).contains("post"));
    let allowed = value(&r, header::ACCESS_CONTROL_ALLOW_HEADERS);
    for name in [
        "x-sentry-auth",
        "content-type",
        "content-encoding",
        "sentry-trace",
        "baggage",
    ] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }

    for (key, status) in [
        (key.as_str(), StatusCode::OK),
        ("0000", StatusCode::FORBIDDEN),
    ] {
        let request = Request::post(format!("{uri}?sentry_key={key}"))
            .header(header::ORIGIN, "https://shop.example.com")
            .body(Body::from(event_envelope(&event(
                &new_id(),
                "from a browser",
                base_time(),
            ))))
            .expect("request");
        let r = app.send(request).await;
        assert_eq!(r.status, status, "{}", r.text);
        assert_eq!(value(&r, header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
        let exposed = value(&r, header::ACCESS_CONTROL_EXPOSE_HEADERS);
        for name in ["x-sentry-error", "x-sentry-rate-limits", "retry-after"] {
            assert!(exposed.contains(name), "{name} not in {exposed}");
        }
    }
}
