//! The test harness: a Sightline router over a fresh database (from
//! `#[sqlx::test]`), driven in-process with `oneshot`, plus helpers to make users,
//! sessions and tokens; [`metrics`] holds what the metrics tests share.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

pub mod metrics;

use app::api::Role;
use axum::{
    body::Body,
    http::{header, HeaderMap, Method, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use server::{config::Config, AppState};
use sqlx::PgPool;
use tower::ServiceExt;

/// How a test request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    /// A browser session: the cookie secret and the CSRF token.
    Session {
        cookie: String,
        csrf: String,
    },
    /// A session that "forgets" the CSRF header.
    SessionWithoutCsrf {
        cookie: String,
    },
}

pub struct TestApp {
    pub pool: PgPool,
    pub state: AppState,
    router: Router,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub fn new(pool: PgPool) -> Self {
        Self::with_env(pool, &[])
    }

    pub fn with_env(pool: PgPool, vars: &[(&str, &str)]) -> Self {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config = Config::from_lookup(|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .expect("test config");
        let state = AppState::new(pool.clone(), config).expect("writer thread");
        TestApp {
            pool,
            router: server::routes::router(state.clone()),
            state,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(uri);
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            Auth::Session { cookie, csrf } => {
                builder = builder
                    .header(
                        header::COOKIE,
                        format!("sightline_session={cookie}; sightline_csrf={csrf}"),
                    )
                    .header("x-csrf-token", csrf);
            }
            Auth::SessionWithoutCsrf { cookie } => {
                builder = builder.header(header::COOKIE, format!("sightline_session={cookie}"));
            }
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        }
        .expect("request");
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible router");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            body,
            text,
        }
    }

    /// Serves the app on a free port of 127.0.0.1 (for real clients in other
    /// processes) and returns its base URL, e.g. `http://127.0.0.1:41234`.
    pub async fn listen(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let app = self
            .router
            .clone()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}")
    }

    /// The project's DSN as Sightline prints it (`sightline project create`),
    /// pointed at the test server listening on `base_url` (from [`Self::listen`]).
    pub fn dsn(&self, base_url: &str, key: &str, project_id: i64) -> String {
        let port = url::Url::parse(base_url)
            .expect("base url")
            .port()
            .expect("port");
        let mut dsn = url::Url::parse(&self.state.config.dsn(key, project_id)).expect("dsn");
        dsn.set_port(Some(port)).expect("port");
        dsn.to_string()
    }

    /// The router itself, for requests whose body is read as a stream.
    pub fn clone_router(&self) -> Router {
        self.router.clone()
    }

    pub async fn get(&self, uri: &str, auth: &Auth) -> TestResponse {
        self.request(Method::GET, uri, auth, None).await
    }

    pub async fn post(&self, uri: &str, auth: &Auth, body: Value) -> TestResponse {
        self.request(Method::POST, uri, auth, Some(body)).await
    }

    /// Creates a user with `role` through the library and returns its credentials.
    pub async fn user(&self, role: Role) -> (String, String) {
        let email = format!("{role}-{}@example.com", server::auth::secret::random_hex(4));
        let password = "correct horse battery".to_string();
        server::auth::users::insert_user(&self.pool, &email, &password, role)
            .await
            .expect("user");
        (email, password)
    }

    /// Logs in through the API and returns the session.
    pub async fn login(&self, email: &str, password: &str) -> Auth {
        let response = self
            .post(
                "/api/v1/auth/login",
                &Auth::None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "login: {}", response.text);
        session_from(&response)
    }

    /// A session of a new user with `role`.
    pub async fn session(&self, role: Role) -> Auth {
        let (email, password) = self.user(role).await;
        self.login(&email, &password).await
    }

    /// A new API token with `role`.
    pub async fn token(&self, role: Role) -> Auth {
        let created = server::auth::tokens::insert_token(&self.pool, "test", role, None)
            .await
            .expect("token");
        Auth::Bearer(created.token)
    }

    /// Creates a project through the library; returns (project_id, ingest key).
    pub async fn project(&self, slug: &str) -> (i64, String) {
        let created = server::projects::insert_project(&self.state, slug, "Test project")
            .await
            .expect("project");
        (created.project.project_id, created.key.public_key)
    }
}

/// Runs `tests/python/<script>` with the test virtualenv's Python (made by
/// `make test`; `SIGHTLINE_TEST_PYTHON` overrides it) and returns its stdout. Fails
/// the test with the script's output when it exits non-zero.
pub async fn run_python(script: &str, args: &[&str]) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/python");
    let python = std::env::var("SIGHTLINE_TEST_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join(".venv/bin/python"));
    let output = tokio::process::Command::new(&python)
        .arg(root.join(script))
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} (run `make deps-test`): {e}",
                python.display()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed ({})\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs `tests/node/<script>` with Node (the client packages pinned in
/// `tests/node/package.json`, installed by `make deps-test`) and returns its
/// stdout. Fails the test with the script's output when it exits non-zero.
pub async fn run_node(script: &str, args: &[&str]) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/node");
    assert!(
        root.join("node_modules").is_dir(),
        "{} has no node_modules (run `make deps-test`)",
        root.display()
    );
    let output = tokio::process::Command::new("node")
        .arg(root.join(script))
        .args(args)
        .current_dir(&root)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run node (run `make deps-test`): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed ({})\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Locks `log_entry` in a transaction of its own, so that no batch can commit
/// until the returned transaction is rolled back.
pub async fn lock_log_entry(pool: &PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut blocker = pool.begin().await.expect("begin");
    sqlx::query("lock table log_entry in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    blocker
}

/// Waits (30 s at most) until some session runs a statement that starts with
/// `statement` and waits for a lock. Overload tests hold a table locked so that
/// a first big request sits in its write holding the ingest budget; this waits
/// until it does (so that a second request finds the queue full), instead of
/// guessing with a sleep.
pub async fn wait_until_blocked(pool: &PgPool, statement: &str) {
    let started = std::time::Instant::now();
    loop {
        let waiting: bool = sqlx::query_scalar(
            "select exists(select 1 from pg_stat_activity
             where query like $1 || '%' and wait_event_type = 'Lock')",
        )
        .bind(statement)
        .fetch_one(pool)
        .await
        .expect("pg_stat_activity");
        if waiting {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no `{statement}` ever waited for a lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A request that must be answered at once (e.g. refused by a full queue), not
/// wait behind a lock: fails the test after 10 s instead of hanging.
pub async fn answered_at_once<F: std::future::Future<Output = TestResponse>>(
    request: F,
) -> TestResponse {
    tokio::time::timeout(std::time::Duration::from_secs(10), request)
        .await
        .expect("answered within 10 s")
}

/// Reads the session and CSRF cookies a login or setup response sets.
pub fn session_from(response: &TestResponse) -> Auth {
    let mut cookie = None;
    let mut csrf = None;
    for value in response.headers.get_all(header::SET_COOKIE) {
        let value = value.to_str().expect("cookie");
        let pair = value.split(';').next().unwrap_or_default();
        if let Some(v) = pair.strip_prefix("sightline_session=") {
            cookie = Some(v.to_string());
        }
        if let Some(v) = pair.strip_prefix("sightline_csrf=") {
            csrf = Some(v.to_string());
        }
    }
    Auth::Session {
        cookie: cookie.expect("session cookie"),
        csrf: csrf.expect("csrf cookie"),
    }
}

/// The error body's code, asserting the one error shape.
pub fn error_code(response: &TestResponse) -> String {
    let code = response.body["error"]["code"].as_str();
    let message = response.body["error"]["message"].as_str();
    assert!(
        code.is_some() && message.is_some_and(|m| !m.is_empty()),
        "not the API error shape: {} {}",
        response.status,
        response.text
    );
    code.unwrap_or_default().to_string()
}

/// The URL of the test's own database (its name comes from `#[sqlx::test]`),
/// for a `sightline` process the test starts.
pub fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let mut url = url::Url::parse(&base).expect("DATABASE_URL is a URL");
    let name = pool
        .connect_options()
        .get_database()
        .unwrap_or("postgres")
        .to_string();
    url.set_path(&name);
    url.to_string()
}

/// Runs `report` with a Sentry client of its own, made from `options` as an
/// application would, on a blocking thread (the client blocks while the test's
/// runtime serves its requests); then flushes.
pub async fn with_sentry_client(
    options: sentry::ClientOptions,
    report: impl FnOnce() + Send + 'static,
) {
    let client = std::sync::Arc::new(sentry::Client::from(sentry::apply_defaults(options)));
    tokio::task::spawn_blocking(move || {
        let hub = std::sync::Arc::new(sentry::Hub::new(
            Some(client.clone()),
            std::sync::Arc::new(sentry::Scope::default()),
        ));
        sentry::Hub::run(hub, report);
        assert!(
            client.flush(Some(std::time::Duration::from_secs(10))),
            "flushed"
        );
        client.close(Some(std::time::Duration::from_secs(5)));
    })
    .await
    .expect("sdk thread");
}
