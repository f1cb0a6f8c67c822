//! Setup, login, logout, sessions, CSRF, rate limiting and tokens, through the HTTP API
//! against a real PostgreSQL.

use crate::common;

use app::api::Role;
use axum::http::{header, Method, StatusCode};
use common::{error_code, session_from, Auth, TestApp};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn first_run_creates_the_first_admin_once(pool: PgPool) {
    let app = TestApp::new(pool);
    let status = app.get("/api/v1/setup", &Auth::None).await;
    assert_eq!(status.body["needs_setup"], true);

    let body = json!({"email": "ada@example.com", "password": "analytical engine"});
    let created = app.post("/api/v1/setup", &Auth::None, body.clone()).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(created.body["role"], "admin");
    let session = session_from(&created);
    let me = app.get("/api/v1/me", &session).await;
    assert_eq!(me.body["user"]["email"], "ada@example.com");

    let again = app.post("/api/v1/setup", &Auth::None, body).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&again), "conflict");
    let status = app.get("/api/v1/setup", &Auth::None).await;
    assert_eq!(status.body["needs_setup"], false);
}

#[sqlx::test(migrations = "../migrations")]
async fn setup_rejects_a_short_password(pool: PgPool) {
    let app = TestApp::new(pool);
    let r = app
        .post(
            "/api/v1/setup",
            &Auth::None,
            json!({"email": "a@b.c", "password": "short"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("password"));
}

#[sqlx::test(migrations = "../migrations")]
async fn login_sets_safe_cookies_and_logout_ends_the_session(pool: PgPool) {
    let app = TestApp::new(pool);
    let (email, password) = app.user(Role::Editor).await;
    let response = app
        .post(
            "/api/v1/auth/login",
            &Auth::None,
            json!({"email": email.to_uppercase(), "password": password}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let cookies: Vec<String> = response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("sightline_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "http public URL: {session_cookie}"
    );
    let session = session_from(&response);

    let me = app.get("/api/v1/me", &session).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["role"], "editor");

    let Auth::Session { cookie, .. } = &session else {
        unreachable!()
    };
    let no_csrf = Auth::SessionWithoutCsrf {
        cookie: cookie.clone(),
    };
    let refused = app
        .request(Method::POST, "/api/v1/auth/logout", &no_csrf, None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let out = app
        .request(Method::POST, "/api/v1/auth/logout", &session, None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = app.get("/api/v1/me", &session).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&me), "unauthorized");
}

#[sqlx::test(migrations = "../migrations")]
async fn cookies_are_secure_behind_https(pool: PgPool) {
    let app = TestApp::with_env(
        pool,
        &[("SIGHTLINE_PUBLIC_URL", "https://sightline.example.com")],
    );
    let (email, password) = app.user(Role::Viewer).await;
    let response = app
        .post(
            "/api/v1/auth/login",
            &Auth::None,
            json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let cookies: Vec<&str> = response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap())
        .collect();
    // The session cookie and the CSRF cookie, both only over HTTPS.
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for name in ["sightline_session=", "sightline_csrf="] {
        let cookie = cookies
            .iter()
            .find(|c| c.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"));
        assert!(cookie.contains("; Secure"), "{cookie}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn wrong_passwords_are_refused_then_rate_limited(pool: PgPool) {
    let app = TestApp::new(pool);
    let (email, password) = app.user(Role::Admin).await;
    let unknown = app
        .post(
            "/api/v1/auth/login",
            &Auth::None,
            json!({"email": "nobody@example.com", "password": "whatever1"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    for _ in 0..5 {
        let wrong = app
            .post(
                "/api/v1/auth/login",
                &Auth::None,
                json!({"email": email, "password": "wrong password"}),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(&wrong), "unauthorized");
    }
    // Even the right password is refused while the address is locked.
    let limited = app
        .post(
            "/api/v1/auth/login",
            &Auth::None,
            json!({"email": email, "password": password}),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&limited), "too_many_requests");
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
}

#[sqlx::test(migrations = "../migrations")]
async fn expired_sessions_are_refused(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let session = app.session(Role::Viewer).await;
    assert_eq!(app.get("/api/v1/me", &session).await.status, StatusCode::OK);
    sqlx::query("update session set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    let me = app.get("/api/v1/me", &session).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert!(me.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[sqlx::test(migrations = "../migrations")]
async fn state_changes_from_a_browser_need_the_csrf_header(pool: PgPool) {
    let app = TestApp::new(pool);
    let Auth::Session { cookie, .. } = app.session(Role::Admin).await else {
        unreachable!()
    };
    let no_csrf = Auth::SessionWithoutCsrf { cookie };
    let r = app
        .request(
            Method::POST,
            "/api/v1/projects",
            &no_csrf,
            Some(json!({"slug": "x", "name": "X"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("CSRF"));
    // Reading needs no CSRF header.
    assert_eq!(
        app.get("/api/v1/projects", &no_csrf).await.status,
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn tokens_are_shown_once_stored_hashed_and_revocable(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let admin = app.session(Role::Admin).await;
    let created = app
        .post(
            "/api/v1/tokens",
            &admin,
            json!({"name": "ci", "role": "viewer"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let token = created.body["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("slt_"));
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from api_token where token_hash = $1 or token_hash = $2",
    )
    .bind(&token)
    .bind(server::auth::secret::fingerprint(&token))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 1, "only the hash is stored");

    let bearer = Auth::Bearer(token);
    let me = app.get("/api/v1/me", &bearer).await;
    assert_eq!(me.body["role"], "viewer");
    assert_eq!(me.body["token_name"], "ci");
    let listed = app.get("/api/v1/tokens", &admin).await;
    assert!(!listed.text.contains("slt_"), "secrets are never listed");

    let id = created.body["api_token"]["token_id"].as_i64().unwrap();
    let revoked = app
        .request(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", &bearer).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_create_users_with_generated_passwords(pool: PgPool) {
    let app = TestApp::new(pool);
    let admin = app.token(Role::Admin).await;
    let created = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": "grace@example.com", "role": "editor"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let password = created.body["password"].as_str().unwrap().to_string();
    let session = app.login("grace@example.com", &password).await;
    assert_eq!(app.get("/api/v1/me", &session).await.body["role"], "editor");

    let duplicate = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": "GRACE@example.com", "role": "viewer", "password": "long enough"}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let bad = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": "not-an-address", "role": "viewer"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad_role = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"email": "x@example.com", "role": "owner"}),
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    error_code(&bad_role);
}

#[sqlx::test(migrations = "../migrations")]
async fn admins_edit_deactivate_and_remove_users_but_keep_an_admin(pool: PgPool) {
    let app = TestApp::new(pool);
    let (admin_email, password) = app.user(Role::Admin).await;
    let admin = app.login(&admin_email, &password).await;
    let (viewer_email, _) = app.user(Role::Viewer).await;
    let viewer_session = app.login(&viewer_email, &password).await;
    let users = app.get("/api/v1/users", &admin).await;
    let id_of = |email: &str| {
        users
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap()["user_id"]
            .as_i64()
            .unwrap()
    };
    let (admin_id, viewer_id) = (id_of(&admin_email), id_of(&viewer_email));
    let patch = |id: i64, body: serde_json::Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.request(
                Method::PATCH,
                &format!("/api/v1/users/{id}"),
                &admin,
                Some(body),
            )
            .await
        }
    };

    // Name and role.
    let renamed = patch(
        viewer_id,
        json!({"name": "  Vera Viewer ", "role": "editor"}),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.body["name"], "Vera Viewer");
    assert_eq!(renamed.body["role"], "editor");
    assert_eq!(renamed.body["active"], true);
    let long = patch(viewer_id, json!({"name": "x".repeat(101)})).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST, "{}", long.text);

    // Deactivated: the session ends at once and logging in is refused.
    let off = patch(viewer_id, json!({"active": false})).await;
    assert_eq!(off.body["active"], false, "{}", off.text);
    assert_eq!(
        app.get("/api/v1/me", &viewer_session).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refused = app
        .post(
            "/api/v1/auth/login",
            &Auth::None,
            json!({"email": viewer_email, "password": password}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(refused.text.contains("deactivated"), "{}", refused.text);
    patch(viewer_id, json!({"active": true})).await;
    app.login(&viewer_email, &password).await;

    // The only admin can be neither demoted, deactivated nor removed.
    for body in [json!({"role": "editor"}), json!({"active": false})] {
        let kept = patch(admin_id, body).await;
        assert_eq!(kept.status, StatusCode::CONFLICT, "{}", kept.text);
        assert!(kept.text.contains("last active admin"), "{}", kept.text);
        error_code(&kept);
    }
    let uri = format!("/api/v1/users/{admin_id}");
    let kept = app.request(Method::DELETE, &uri, &admin, None).await;
    assert_eq!(kept.status, StatusCode::CONFLICT, "{}", kept.text);

    // With a second admin, the first may step down: the admin token they
    // made is revoked with their rights. The user removed is gone.
    let made = app
        .post(
            "/api/v1/tokens",
            &admin,
            json!({"name": "deploys", "role": "admin"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let own = Auth::Bearer(made.body["token"].as_str().unwrap().to_owned());
    assert_eq!(app.get("/api/v1/users", &own).await.status, StatusCode::OK);
    patch(viewer_id, json!({"role": "admin"})).await;
    let stepped = patch(admin_id, json!({"role": "viewer"})).await;
    assert_eq!(stepped.status, StatusCode::OK, "{}", stepped.text);
    assert_eq!(
        app.get("/api/v1/users", &own).await.status,
        StatusCode::UNAUTHORIZED,
        "a token may not keep the rights its creator lost"
    );
    let (other, _) = app.user(Role::Viewer).await;
    let users = app
        .get("/api/v1/users", &app.token(Role::Admin).await)
        .await;
    let other_id = users
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == other)
        .unwrap()["user_id"]
        .as_i64()
        .unwrap();
    let second_admin = app.login(&viewer_email, &password).await;
    let removed = app
        .request(
            Method::DELETE,
            &format!("/api/v1/users/{other_id}"),
            &second_admin,
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    let missing = app
        .request(
            Method::DELETE,
            &format!("/api/v1/users/{other_id}"),
            &second_admin,
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
