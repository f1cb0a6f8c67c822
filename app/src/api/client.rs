//! The UI's typed client for `/api/v1`, one async function per endpoint.
//!
//! Requests go from the browser with `fetch` (gloo-net): JSON bodies, same-origin
//! credentials (the session cookie), and on every non-GET request the
//! `X-CSRF-Token` header copied from the `sightline_csrf` cookie. A 401 outside the
//! login and setup pages sends the browser to `/login?next=<here>`.
//!
//! In the server build these functions compile but answer an error at once: pages
//! only call them from `LocalResource`s and event handlers, which run in the browser.

use serde::{de::DeserializeOwned, Serialize};

mod errors;
mod performance;

pub use errors::*;
pub use performance::*;

use super::{
    ApiToken, CreatedScrapeTarget, DefaultProject, InstantValue, LogContext, LogFields,
    LogHistogram, LogLine, LogSearchResult, LogTable, LoginRequest, Me, MetricLabel, MetricName,
    NewKey, NewProject, NewScrapeTarget, NewToken, NewUser, Overview, Project, ProjectChoice,
    ProjectCreated, ProjectKey, ProjectPatch, QueryRequest, QueryResult, ScrapeTarget, SetupStatus,
    TokenCreated, User, UserCreated, UserPatch,
};
use crate::browser::percent_encode;

/// Why an API call failed, worded for the person looking at the page.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server answered with an error (`{"error": {"code", "message"}}`).
    Server {
        /// The HTTP status, e.g. 403.
        status: u16,
        /// The server's machine-readable code, e.g. `forbidden`.
        code: String,
        /// The server's sentence for people.
        message: String,
    },
    /// No answer: the network or the server is down.
    Unreachable(String),
    /// An answer the UI could not read (a version mismatch or a proxy's error page).
    Unreadable(String),
}

impl ApiError {
    /// The HTTP status when the server answered, e.g. to tell 403 from other errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Server { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Server { message, .. } => f.write_str(message),
            ApiError::Unreachable(why) => write!(f, "could not reach Sightline: {why}"),
            ApiError::Unreadable(why) => {
                write!(
                    f,
                    "Sightline sent an answer this page could not read: {why}"
                )
            }
        }
    }
}

impl std::error::Error for ApiError {}

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// Sends one request and returns the body text of a 2xx answer.
#[cfg(feature = "hydrate")]
async fn send(method: Method, path: &str, body: Option<String>) -> Result<String, ApiError> {
    use gloo_net::http::Request;

    let url = format!("/api/v1{path}");
    let builder = match method {
        Method::Get => Request::get(&url),
        Method::Post => Request::post(&url),
        Method::Put => Request::put(&url),
        Method::Patch => Request::patch(&url),
        Method::Delete => Request::delete(&url),
    }
    .header("Accept", "application/json");
    let builder = if method == Method::Get {
        builder
    } else {
        let token = crate::browser::cookie("sightline_csrf").unwrap_or_default();
        builder.header("X-CSRF-Token", &token)
    };
    let request = match body {
        Some(json) => builder
            .header("Content-Type", "application/json")
            .body(json),
        None => builder.build(),
    }
    .map_err(|e| ApiError::Unreachable(e.to_string()))?;

    let response = request
        .send()
        .await
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Unreachable(e.to_string()))?;
    if (200..300).contains(&status) {
        return Ok(text);
    }
    if status == 401 {
        crate::browser::redirect_to_login();
    }
    Err(error_from_answer(status, &text))
}

/// In the server build nothing is sent: see the module documentation.
#[cfg(not(feature = "hydrate"))]
async fn send(method: Method, path: &str, body: Option<String>) -> Result<String, ApiError> {
    let _ = (method, path, body);
    Err(ApiError::Unreachable(
        "the API client only runs in the browser".to_owned(),
    ))
}

/// Turns a non-2xx answer into an error, using the server's message when the body
/// has the API's error shape.
#[cfg(feature = "hydrate")]
fn error_from_answer(status: u16, text: &str) -> ApiError {
    match serde_json::from_str::<super::ErrorBody>(text) {
        Ok(body) => ApiError::Server {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiError::Server {
            status,
            code: "http_error".to_owned(),
            message: format!("the server answered HTTP {status}"),
        },
    }
}

/// Sends a request and decodes a JSON answer.
async fn call<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<T, ApiError> {
    let text = send(method, path, body).await?;
    serde_json::from_str(&text).map_err(|e| ApiError::Unreadable(e.to_string()))
}

/// Sends a request whose answer has no body (204).
async fn call_empty(method: Method, path: &str) -> Result<(), ApiError> {
    send(method, path, None).await.map(|_| ())
}

/// Encodes a request body.
fn json(body: &impl Serialize) -> Result<Option<String>, ApiError> {
    serde_json::to_string(body)
        .map(Some)
        .map_err(|e| ApiError::Unreadable(e.to_string()))
}

/// `GET /setup`: whether the first admin still has to be created.
pub async fn setup_status() -> Result<SetupStatus, ApiError> {
    call(Method::Get, "/setup", None).await
}

/// `POST /setup`: creates the first admin and logs them in.
pub async fn setup(request: &LoginRequest) -> Result<Me, ApiError> {
    call(Method::Post, "/setup", json(request)?).await
}

/// `POST /auth/login`: starts a session (sets the session and CSRF cookies).
pub async fn login(request: &LoginRequest) -> Result<Me, ApiError> {
    call(Method::Post, "/auth/login", json(request)?).await
}

/// `POST /auth/logout`: ends the session.
pub async fn logout() -> Result<(), ApiError> {
    call_empty(Method::Post, "/auth/logout").await
}

/// `GET /me`: who is logged in.
pub async fn me() -> Result<Me, ApiError> {
    call(Method::Get, "/me", None).await
}

/// `GET /me/project`: the project the UI opens when the URL names none.
pub async fn default_project() -> Result<DefaultProject, ApiError> {
    call(Method::Get, "/me/project", None).await
}

/// `PUT /me/project`: remembers the project the user looks at as their default.
pub async fn remember_project(project: &str) -> Result<(), ApiError> {
    let body = ProjectChoice {
        project: project.to_owned(),
    };
    send(Method::Put, "/me/project", json(&body)?)
        .await
        .map(|_| ())
}

/// `POST /query`: series of one source of a project over a range.
pub async fn query(request: &QueryRequest) -> Result<QueryResult, ApiError> {
    call(Method::Post, "/query", json(request)?).await
}

/// `GET /overview`: counts and requests per minute.
pub async fn overview() -> Result<Overview, ApiError> {
    call(Method::Get, "/overview", None).await
}

/// `GET /projects`.
pub async fn projects() -> Result<Vec<Project>, ApiError> {
    call(Method::Get, "/projects", None).await
}

/// `POST /projects`: the new project and its first ingest key.
pub async fn create_project(project: &NewProject) -> Result<ProjectCreated, ApiError> {
    call(Method::Post, "/projects", json(project)?).await
}

/// `GET /projects/{project}` by id or slug.
pub async fn project(project: &str) -> Result<Project, ApiError> {
    let path = format!("/projects/{}", percent_encode(project));
    call(Method::Get, &path, None).await
}

/// `PATCH /projects/{project}`: renames or re-slugs a project.
pub async fn update_project(project: &str, patch: &ProjectPatch) -> Result<Project, ApiError> {
    let path = format!("/projects/{}", percent_encode(project));
    call(Method::Patch, &path, json(patch)?).await
}

/// `DELETE /projects/{project}`.
pub async fn delete_project(project: &str) -> Result<(), ApiError> {
    let path = format!("/projects/{}", percent_encode(project));
    call_empty(Method::Delete, &path).await
}

/// `GET /projects/{project}/metrics/names`: metric names with their metadata.
pub async fn metric_names(project: &str) -> Result<Vec<MetricName>, ApiError> {
    let path = format!("/projects/{}/metrics/names", percent_encode(project));
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/metrics/labels?metric=`: its labels and values.
pub async fn metric_labels(project: &str, metric: &str) -> Result<Vec<MetricLabel>, ApiError> {
    let path = format!(
        "/projects/{}/metrics/labels?metric={}",
        percent_encode(project),
        percent_encode(metric)
    );
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/metrics/instant?query=`: each series' value now.
pub async fn metrics_instant(project: &str, query: &str) -> Result<Vec<InstantValue>, ApiError> {
    let path = format!(
        "/projects/{}/metrics/instant?query={}",
        percent_encode(project),
        percent_encode(query)
    );
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/metrics/targets`: scrape targets and their state.
pub async fn scrape_targets(project: &str) -> Result<Vec<ScrapeTarget>, ApiError> {
    let path = format!("/projects/{}/metrics/targets", percent_encode(project));
    call(Method::Get, &path, None).await
}

/// `POST /projects/{project}/metrics/targets`: adds a scrape target.
pub async fn create_scrape_target(
    project: &str,
    target: &NewScrapeTarget,
) -> Result<CreatedScrapeTarget, ApiError> {
    let path = format!("/projects/{}/metrics/targets", percent_encode(project));
    call(Method::Post, &path, json(target)?).await
}

/// `DELETE /projects/{project}/metrics/targets/{target_id}`: stops scraping it.
pub async fn delete_scrape_target(project: &str, target_id: i64) -> Result<(), ApiError> {
    let path = format!(
        "/projects/{}/metrics/targets/{target_id}",
        percent_encode(project)
    );
    call_empty(Method::Delete, &path).await
}

/// `GET /projects/{project}/keys`, revoked ones included.
pub async fn keys(project: &str) -> Result<Vec<ProjectKey>, ApiError> {
    let path = format!("/projects/{}/keys", percent_encode(project));
    call(Method::Get, &path, None).await
}

/// `POST /projects/{project}/keys`.
pub async fn create_key(project: &str, key: &NewKey) -> Result<ProjectKey, ApiError> {
    let path = format!("/projects/{}/keys", percent_encode(project));
    call(Method::Post, &path, json(key)?).await
}

/// `POST /projects/{project}/keys/{key_id}/rotate`: the new key (the old one is revoked).
pub async fn rotate_key(project: &str, key_id: i64) -> Result<ProjectKey, ApiError> {
    let path = format!("/projects/{}/keys/{key_id}/rotate", percent_encode(project));
    call(Method::Post, &path, None).await
}

/// `DELETE /projects/{project}/keys/{key_id}`: revokes a key.
pub async fn revoke_key(project: &str, key_id: i64) -> Result<(), ApiError> {
    let path = format!("/projects/{}/keys/{key_id}", percent_encode(project));
    call_empty(Method::Delete, &path).await
}

/// `GET /users` (admin only).
pub async fn users() -> Result<Vec<User>, ApiError> {
    call(Method::Get, "/users", None).await
}

/// `POST /users` (admin only): the password is in the answer when it was generated.
pub async fn create_user(user: &NewUser) -> Result<UserCreated, ApiError> {
    call(Method::Post, "/users", json(user)?).await
}

/// `PATCH /users/{user_id}` (admin only): name, role, active.
pub async fn update_user(user_id: i64, patch: &UserPatch) -> Result<User, ApiError> {
    call(Method::Patch, &format!("/users/{user_id}"), json(patch)?).await
}

/// `DELETE /users/{user_id}` (admin only).
pub async fn delete_user(user_id: i64) -> Result<(), ApiError> {
    call_empty(Method::Delete, &format!("/users/{user_id}")).await
}

/// `GET /tokens`.
pub async fn tokens() -> Result<Vec<ApiToken>, ApiError> {
    call(Method::Get, "/tokens", None).await
}

/// `POST /tokens`: the answer holds the secret, shown once.
pub async fn create_token(token: &NewToken) -> Result<TokenCreated, ApiError> {
    call(Method::Post, "/tokens", json(token)?).await
}

/// `DELETE /tokens/{token_id}`: revokes a token.
pub async fn revoke_token(token_id: i64) -> Result<(), ApiError> {
    call_empty(Method::Delete, &format!("/tokens/{token_id}")).await
}

/// The time range and query of a logs request (`q`, `from`, `to`).
#[derive(Debug, Clone, PartialEq)]
pub struct LogScope {
    /// The query (docs/logs-query.md); empty matches every line.
    pub q: String,
    /// Start of the range, inclusive.
    pub from: chrono::DateTime<chrono::Utc>,
    /// End of the range, exclusive.
    pub to: chrono::DateTime<chrono::Utc>,
}

impl LogScope {
    /// `q`, `from` and `to` as query-string pairs.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let time = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        vec![
            ("q", self.q.clone()),
            ("from", time(self.from)),
            ("to", time(self.to)),
        ]
    }
}

/// `?key=value&...`, every value percent-encoded.
fn query_string(pairs: &[(&str, String)]) -> String {
    let joined = pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    format!("?{joined}")
}

/// The logs endpoint `endpoint` of `project`, e.g. `/projects/web/logs/search`.
fn logs_path(project: &str, endpoint: &str) -> String {
    format!("/projects/{}/logs/{endpoint}", percent_encode(project))
}

/// `GET /projects/{project}/logs/search`: a page of matching lines, newest first;
/// pass the previous page's `next_cursor` to get older lines.
pub async fn log_search(
    project: &str,
    scope: &LogScope,
    limit: u32,
    cursor: Option<&str>,
) -> Result<LogSearchResult, ApiError> {
    let mut pairs = scope.pairs();
    pairs.push(("limit", limit.to_string()));
    if let Some(cursor) = cursor {
        pairs.push(("cursor", cursor.to_owned()));
    }
    let path = format!("{}{}", logs_path(project, "search"), query_string(&pairs));
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/logs/query`: a query with stages as a table.
pub async fn log_query(project: &str, scope: &LogScope) -> Result<LogTable, ApiError> {
    let path = format!(
        "{}{}",
        logs_path(project, "query"),
        query_string(&scope.pairs())
    );
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/logs/histogram`: matching lines per level in `buckets`
/// equal slices of the range.
pub async fn log_histogram(
    project: &str,
    scope: &LogScope,
    buckets: u32,
) -> Result<LogHistogram, ApiError> {
    let mut pairs = scope.pairs();
    pairs.push(("buckets", buckets.to_string()));
    let path = format!(
        "{}{}",
        logs_path(project, "histogram"),
        query_string(&pairs)
    );
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/logs/fields`: field names and frequent values in the
/// range (the query is ignored).
pub async fn log_fields(project: &str, scope: &LogScope) -> Result<LogFields, ApiError> {
    let pairs: Vec<_> = scope
        .pairs()
        .into_iter()
        .filter(|(k, _)| *k != "q")
        .collect();
    let path = format!("{}{}", logs_path(project, "fields"), query_string(&pairs));
    call(Method::Get, &path, None).await
}

/// `GET /projects/{project}/logs/context`: up to `around` lines before and after
/// `line` from the same service and host.
pub async fn log_context(
    project: &str,
    line: &LogLine,
    around: u32,
) -> Result<LogContext, ApiError> {
    // Microseconds, as stored: the server finds the line by its exact time.
    let ts = line.ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let pairs = [
        ("ts", ts),
        ("id", line.id.to_string()),
        ("before", around.to_string()),
        ("after", around.to_string()),
    ];
    let path = format!("{}{}", logs_path(project, "context"), query_string(&pairs));
    call(Method::Get, &path, None).await
}

/// The URL of `GET /projects/{project}/logs/tail` (Server-Sent Events of new lines
/// matching `q`), for an `EventSource`.
pub fn log_tail_url(project: &str, q: &str) -> String {
    format!(
        "/api/v1{}{}",
        logs_path(project, "tail"),
        query_string(&[("q", q.to_owned())])
    )
}

/// A time as the API reads it in a query string (`Z`, milliseconds).
fn query_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
