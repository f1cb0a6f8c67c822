//! Projects, keys, the role matrix, health, metrics, request ids and the OpenAPI
//! document, through the HTTP API against a real PostgreSQL.

use crate::common;

use app::api::Role;
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use common::{error_code, Auth, TestApp};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn projects_can_be_created_found_renamed_and_deleted(pool: PgPool) {
    let app = TestApp::with_env(
        pool,
        &[("SIGHTLINE_PUBLIC_URL", "http://sightline.test:3000")],
    );
    let admin = app.session(Role::Admin).await;
    let created = app
        .post(
            "/api/v1/projects",
            &admin,
            json!({"slug": "shop", "name": "Shop"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["project"]["project_id"].as_i64().unwrap();
    let key = created.body["key"]["public_key"].as_str().unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(
        created.body["key"]["dsn"],
        format!("http://{key}@sightline.test:3000/{id}")
    );

    for path in [
        format!("/api/v1/projects/{id}"),
        "/api/v1/projects/shop".to_string(),
    ] {
        let found = app.get(&path, &admin).await;
        assert_eq!(found.status, StatusCode::OK);
        assert_eq!(found.body["name"], "Shop");
    }
    let renamed = app
        .request(
            Method::PATCH,
            "/api/v1/projects/shop",
            &admin,
            Some(json!({"name": "Web shop"})),
        )
        .await;
    assert_eq!(renamed.body["name"], "Web shop");
    assert_eq!(renamed.body["slug"], "shop");

    let duplicate = app
        .post(
            "/api/v1/projects",
            &admin,
            json!({"slug": "shop", "name": "Again"}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert!(duplicate.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("slug"));
    let bad = app
        .post(
            "/api/v1/projects",
            &admin,
            json!({"slug": "Not OK!", "name": "x"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&bad), "bad_request");

    let listed = app.get("/api/v1/projects", &admin).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    let deleted = app
        .request(Method::DELETE, "/api/v1/projects/shop", &admin, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app.get("/api/v1/projects/shop", &admin).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&gone), "not_found");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_default_project_is_the_last_one_used_else_the_one_with_data(pool: PgPool) {
    let app = TestApp::new(pool);
    app.project("alpha").await;
    let (_, beta_key) = app.project("beta").await;
    app.project("gamma").await;
    let ann = app.session(Role::Viewer).await;
    let bob = app.session(Role::Viewer).await;
    async fn default_of(app: &TestApp, auth: &Auth) -> serde_json::Value {
        let r = app.get("/api/v1/me/project", auth).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body["project"].clone()
    }
    async fn put(app: &TestApp, auth: &Auth, project: &str) -> common::TestResponse {
        let body = json!({ "project": project });
        app.request(Method::PUT, "/api/v1/me/project", auth, Some(body))
            .await
    }
    // No data anywhere: the first by slug, as the project list is sorted.
    assert_eq!(default_of(&app, &ann).await, "alpha");

    // Only beta has data.
    let sent = app
        .post(
            "/api/v1/ingest/logs",
            &Auth::Bearer(beta_key),
            json!([{"message": "hello"}]),
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert_eq!(default_of(&app, &ann).await, "beta");

    // Ann looks at gamma: her default from now on, not Bob's.
    let remembered = put(&app, &ann, "gamma").await;
    assert_eq!(
        remembered.status,
        StatusCode::NO_CONTENT,
        "{}",
        remembered.text
    );
    assert_eq!(default_of(&app, &ann).await, "gamma");
    assert_eq!(default_of(&app, &bob).await, "beta");

    assert_eq!(
        put(&app, &ann, "nowhere").await.status,
        StatusCode::NOT_FOUND
    );
    let token = app.token(Role::Viewer).await;
    let refused = put(&app, &token, "gamma").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    error_code(&refused);

    // A deleted project is forgotten.
    let admin = app.token(Role::Admin).await;
    let deleted = app
        .request(Method::DELETE, "/api/v1/projects/gamma", &admin, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(default_of(&app, &ann).await, "beta");
}

#[sqlx::test(migrations = "../migrations")]
async fn keys_can_be_added_rotated_and_revoked(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.token(Role::Admin).await;
    let (_, first_key) = app.project("api").await;
    let added = app
        .post("/api/v1/projects/api/keys", &admin, json!({"label": "CI"}))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let added_id = added.body["key_id"].as_i64().unwrap();

    let rotated = app
        .request(
            Method::POST,
            &format!("/api/v1/projects/api/keys/{added_id}/rotate"),
            &admin,
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    assert_eq!(rotated.body["label"], "CI");
    assert_ne!(rotated.body["public_key"], added.body["public_key"]);

    let keys = app.get("/api/v1/projects/api/keys", &admin).await;
    let keys = keys.body.as_array().unwrap();
    assert_eq!(keys.len(), 3);
    let active: Vec<_> = keys.iter().filter(|k| k["revoked_at"].is_null()).collect();
    assert_eq!(active.len(), 2, "the rotated key is revoked");

    let first_id = keys
        .iter()
        .find(|k| k["public_key"] == first_key.as_str())
        .unwrap()["key_id"]
        .as_i64()
        .unwrap();
    let revoked = app
        .request(
            Method::DELETE,
            &format!("/api/v1/projects/api/keys/{first_id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let again = app
        .request(
            Method::POST,
            &format!("/api/v1/projects/api/keys/{first_id}/rotate"),
            &admin,
            None,
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::NOT_FOUND,
        "a revoked key cannot be rotated"
    );
}

/// Each endpoint with the lowest role allowed to call it.
fn endpoints() -> Vec<(Method, &'static str, Option<serde_json::Value>, Role)> {
    vec![
        (Method::GET, "/api/v1/me", None, Role::Viewer),
        (Method::GET, "/api/v1/me/project", None, Role::Viewer),
        (Method::GET, "/api/v1/overview", None, Role::Viewer),
        (Method::GET, "/api/v1/projects", None, Role::Viewer),
        (Method::GET, "/api/v1/projects/matrix", None, Role::Viewer),
        (
            Method::GET,
            "/api/v1/projects/matrix/keys",
            None,
            Role::Viewer,
        ),
        (
            Method::POST,
            "/api/v1/projects",
            Some(json!({"slug": "new", "name": "New"})),
            Role::Admin,
        ),
        (
            Method::PATCH,
            "/api/v1/projects/matrix",
            Some(json!({"name": "Renamed"})),
            Role::Admin,
        ),
        (
            Method::POST,
            "/api/v1/projects/matrix/keys",
            Some(json!({})),
            Role::Admin,
        ),
        (
            Method::POST,
            "/api/v1/projects/matrix/keys/999999/rotate",
            None,
            Role::Admin,
        ),
        (
            Method::DELETE,
            "/api/v1/projects/matrix/keys/999999",
            None,
            Role::Admin,
        ),
        (Method::GET, "/api/v1/users", None, Role::Admin),
        (
            Method::POST,
            "/api/v1/users",
            Some(json!({"email": "new@example.com", "role": "viewer"})),
            Role::Admin,
        ),
        (
            Method::PATCH,
            "/api/v1/users/999999",
            Some(json!({"name": "Matrix"})),
            Role::Admin,
        ),
        (Method::DELETE, "/api/v1/users/999999", None, Role::Admin),
        (Method::GET, "/api/v1/tokens", None, Role::Admin),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "n", "role": "viewer"})),
            Role::Admin,
        ),
        (Method::DELETE, "/api/v1/tokens/999999", None, Role::Admin),
        (
            Method::GET,
            "/api/v1/projects/matrix/logs/search",
            None,
            Role::Viewer,
        ),
        (
            Method::GET,
            "/api/v1/projects/matrix/logs/query?q=%7C%20stats%20count()",
            None,
            Role::Viewer,
        ),
        (
            Method::GET,
            "/api/v1/projects/matrix/logs/histogram",
            None,
            Role::Viewer,
        ),
        (
            Method::GET,
            "/api/v1/projects/matrix/logs/fields",
            None,
            Role::Viewer,
        ),
        (Method::DELETE, "/api/v1/projects/other", None, Role::Admin),
    ]
}

#[sqlx::test(migrations = "../migrations")]
async fn every_endpoint_enforces_the_role_matrix(pool: PgPool) {
    let app = TestApp::new(pool);
    let (_, ingest_key) = app.project("matrix").await;
    let callers = [
        (None, Auth::None),
        (None, Auth::Bearer(ingest_key)),
        (None, Auth::Bearer("slt_not_a_real_token".into())),
        (Some(Role::Viewer), app.token(Role::Viewer).await),
        (Some(Role::Editor), app.token(Role::Editor).await),
        (Some(Role::Viewer), app.session(Role::Viewer).await),
        (Some(Role::Editor), app.session(Role::Editor).await),
    ];
    for (method, path, body, needed) in endpoints() {
        for (role, auth) in &callers {
            let r = app.request(method.clone(), path, auth, body.clone()).await;
            let expected = match (role, auth) {
                (None, Auth::Bearer(t)) if !t.starts_with("slt_") => StatusCode::FORBIDDEN,
                (None, _) => StatusCode::UNAUTHORIZED,
                (Some(role), _) if *role < needed => StatusCode::FORBIDDEN,
                _ => StatusCode::OK, // allowed: anything but 401/403
            };
            if expected == StatusCode::OK {
                assert!(
                    r.status != StatusCode::UNAUTHORIZED && r.status != StatusCode::FORBIDDEN,
                    "{method} {path} as {role:?}: {} {}",
                    r.status,
                    r.text
                );
            } else {
                assert_eq!(
                    r.status, expected,
                    "{method} {path} as {role:?} ({auth:?}): {}",
                    r.text
                );
                error_code(&r);
            }
        }
    }
    // Admins may do everything (run last: the matrix deletes and renames).
    let admin = app.token(Role::Admin).await;
    app.project("other").await;
    for (method, path, body, _) in endpoints() {
        let r = app.request(method.clone(), path, &admin, body).await;
        assert!(
            r.status.is_success() || r.status == StatusCode::NOT_FOUND,
            "{method} {path} as admin: {} {}",
            r.status,
            r.text
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn health_readiness_and_metrics_answer(pool: PgPool) {
    let app = TestApp::new(pool);
    let health = app.get("/healthz", &Auth::None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    let ready = app.get("/readyz", &Auth::None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(ready.body["status"], "ready");

    app.get("/api/v1/projects", &Auth::None).await;
    let metrics = app.get("/metrics", &Auth::None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.text.contains("http_requests_total{"),
        "{}",
        metrics.text
    );
    assert!(
        metrics.text.contains("route=\"/api/v1/projects\""),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("http_request_duration_seconds_bucket"),
        "{}",
        metrics.text
    );
    assert!(
        metrics.text.contains("db_pool_connections"),
        "{}",
        metrics.text
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn readiness_fails_while_migrations_are_missing(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    sqlx::query("delete from _sqlx_migrations")
        .execute(&pool)
        .await
        .unwrap();
    let ready = app.get("/readyz", &Auth::None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.body["reason"]
        .as_str()
        .unwrap()
        .contains("migrations"));
}

#[sqlx::test(migrations = "../migrations")]
async fn request_ids_are_echoed_or_generated(pool: PgPool) {
    let app = TestApp::new(pool);
    let request = Request::get("/healthz")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let echoed = app.send(request).await;
    assert_eq!(echoed.headers["x-request-id"], "abc-123");
    let generated = app.get("/healthz", &Auth::None).await;
    assert_eq!(generated.headers["x-request-id"].len(), 36, "a UUID");
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_input_gets_the_error_shape_and_the_right_status(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.token(Role::Admin).await;
    let Auth::Bearer(token) = &admin else {
        unreachable!()
    };
    let malformed = Request::post("/api/v1/projects")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let r = app.send(malformed).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    error_code(&r);
    let wrong_type = Request::post("/api/v1/projects")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from("slug=x"))
        .unwrap();
    let r = app.send(wrong_type).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    error_code(&r);
    let huge = json!({"slug": "big", "name": "x".repeat(1024 * 1024)});
    let r = app.post("/api/v1/projects", &admin, huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    error_code(&r);
    let r = app.get("/api/v1/no-such-thing", &admin).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    error_code(&r);
    let r = app.get("/api/v1/tokens/abc", &admin).await;
    assert!(r.status.is_client_error());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_lists_every_route(pool: PgPool) {
    let app = TestApp::new(pool);
    let doc = app.get("/api/v1/openapi.json", &Auth::None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().unwrap();
    // An array of log records is accepted when one of them is a record.
    let forms = &doc.body["components"]["schemas"]["NativeBody"]["anyOf"];
    assert_eq!(forms[0]["type"], "object", "{forms}");
    assert_eq!(forms[1]["contains"], forms[0], "{forms}");
    let expected = [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me/project", "get"),
        ("/api/v1/me/project", "put"),
        ("/api/v1/setup", "get"),
        ("/api/v1/setup", "post"),
        ("/api/v1/overview", "get"),
        ("/api/v1/projects", "get"),
        ("/api/v1/projects", "post"),
        ("/api/v1/projects/{project}", "get"),
        ("/api/v1/projects/{project}", "patch"),
        ("/api/v1/projects/{project}", "delete"),
        ("/api/v1/projects/{project}/keys", "get"),
        ("/api/v1/projects/{project}/keys", "post"),
        ("/api/v1/projects/{project}/keys/{key_id}/rotate", "post"),
        ("/api/v1/projects/{project}/keys/{key_id}", "delete"),
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{user_id}", "patch"),
        ("/api/v1/users/{user_id}", "delete"),
        ("/api/v1/tokens", "get"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/tokens/{token_id}", "delete"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/ingest/logs", "post"),
        ("/api/v1/projects/{project}/logs/search", "get"),
        ("/api/v1/projects/{project}/logs/query", "get"),
        ("/api/v1/projects/{project}/logs/histogram", "get"),
        ("/api/v1/projects/{project}/logs/fields", "get"),
        ("/api/v1/projects/{project}/logs/context", "get"),
        ("/api/v1/projects/{project}/logs/tail", "get"),
        ("/api/v1/projects/{project}/performance/transactions", "get"),
        (
            "/api/v1/projects/{project}/performance/transactions/series",
            "get",
        ),
        ("/api/v1/projects/{project}/performance/settings", "get"),
        ("/api/v1/projects/{project}/performance/settings", "put"),
        ("/api/v1/projects/{project}/traces/{trace_id}", "get"),
        ("/api/v1/projects/{project}/issues", "get"),
        ("/api/v1/projects/{project}/issues", "patch"),
        ("/api/v1/issues/{issue_id}", "get"),
        ("/api/v1/issues/{issue_id}", "patch"),
        ("/api/v1/issues/{issue_id}/events", "get"),
        ("/api/v1/events/{event_id}", "get"),
        ("/api/v1/projects/{project}/releases", "get"),
        ("/api/v1/query", "post"),
        ("/api/v1/ingest/metrics", "post"),
        ("/api/v1/projects/{project}/metrics/targets", "get"),
        ("/api/v1/projects/{project}/metrics/targets", "post"),
        (
            "/api/v1/projects/{project}/metrics/targets/{target_id}",
            "delete",
        ),
        ("/api/v1/projects/{project}/metrics/names", "get"),
        ("/api/v1/projects/{project}/metrics/labels", "get"),
        ("/api/v1/projects/{project}/metrics/instant", "get"),
    ];
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "every documented route is tested above"
    );
}
