//! Elasticsearch compatibility: log shippers (Filebeat, Fluent Bit, Vector,
//! Logstash) and the Elasticsearch clients send logs to Sightline unmodified, by
//! pointing them at it as if it were an Elasticsearch 8 cluster.
//!
//! - [`bulk`]: `POST /_bulk` and `POST /{index}/_bulk`, where the logs arrive;
//!   [`document`] maps each document (Elastic Common Schema) to a log record,
//!   [`answer`] is the per-item answer.
//! - [`cluster`]: the handshake clients perform first (`GET /`, cluster health,
//!   license, index templates, ILM policies, nodes), answered as a one-node
//!   cluster; index management is acknowledged and ignored.
//! - [`error`]: request-level failures in Elasticsearch's error shape.
//!
//! Every answer carries `X-Elastic-Product: Elasticsearch` (the official clients
//! refuse a server without it) and is `application/json`, or
//! `application/vnd.elasticsearch+json; compatible-with=N` when the client asked
//! for that compatibility mode.
//!
//! **Authentication.** Every endpoint, the handshake included, requires a
//! project's ingest key: as the basic-auth password (any user name), an
//! `Authorization: ApiKey` (base64 `id:key`, or the bare key) or a bearer token.
//! Clients send their credentials on every request, so this costs nothing, and a
//! wrong key is reported at the first request rather than at the first bulk. A
//! missing or unknown key is a 401 `security_exception` with
//! `WWW-Authenticate: Basic realm="sightline"`.
//!
//! **`GET /` is shared** with the web UI's Overview page: [`root_handshake`]
//! answers it as Elasticsearch only for clients, not for browsers or probes.

mod answer;
mod bulk;
mod cluster;
mod document;
mod error;

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, Method},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};

pub use bulk::{LIMITS, MAX_DOCUMENT_BYTES, MAX_ITEMS};
pub use error::EsError;

use super::auth;
use crate::AppState;

/// The header the official clients check before trusting an answer.
const PRODUCT_HEADER: &str = "x-elastic-product";

/// The Elasticsearch endpoints, at the paths clients use (not under `/api/v1`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_bulk", post(bulk::bulk).put(bulk::bulk))
        .route("/{index}/_bulk", post(bulk::bulk_into).put(bulk::bulk_into))
        .route("/_cluster/health", get(cluster::health))
        .route("/_cat/health", get(cluster::cat_health))
        .route("/_license", get(cluster::license))
        .route("/_xpack", get(cluster::xpack))
        .route("/_nodes", get(cluster::nodes))
        .route("/_nodes/{*filter}", get(cluster::nodes))
        .route(
            "/_index_template/{name}",
            get(cluster::get_index_template).put(cluster::acknowledge),
        )
        .route(
            "/_ilm/policy/{name}",
            get(cluster::get_ilm_policy).put(cluster::acknowledge),
        )
        .route(
            "/_data_stream/{name}",
            get(cluster::get_data_stream).put(cluster::acknowledge),
        )
        .layer(middleware::from_fn(product_headers))
}

/// The project an Elasticsearch request writes into; refused in ES's error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsKey(pub auth::IngestKey);

impl FromRequestParts<AppState> for EsKey {
    type Rejection = EsError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, EsError> {
        let key = auth::key_from_headers(parts).ok_or_else(|| {
            EsError::unauthorized(format!(
                "missing authentication credentials for REST request [{}]; send a project's ingest key as the basic-auth password or as an API key",
                parts.uri.path()
            ))
        })?;
        Ok(EsKey(auth::resolve(state, &key).await?))
    }
}

/// Answers `GET /` and `HEAD /` as Elasticsearch for clients, and passes every
/// other request on (to the web UI).
///
/// A request is an Elasticsearch client's when it is not a browser's (its
/// `Accept` does not name `text/html`) and it either carries credentials
/// (`Authorization`) or says it is a client (an `Accept` of
/// `application/vnd.elasticsearch+json`, or `X-Elastic-Client-Meta`). Anonymous
/// probes of `/` (load balancers, uptime checks, `curl`) still reach the UI as
/// before.
pub async fn root_handshake(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !is_client_handshake(&request) {
        return next.run(request).await;
    }
    let compat = compatibility(request.headers());
    let (mut parts, _) = request.into_parts();
    let mut response = match EsKey::from_request_parts(&mut parts, &state).await {
        Ok(_) => cluster::info(),
        Err(error) => error.into_response(),
    };
    mark(&mut response, compat.as_deref());
    response
}

fn is_client_handshake(request: &Request) -> bool {
    if request.uri().path() != "/" || !matches!(*request.method(), Method::GET | Method::HEAD) {
        return false;
    }
    let headers = request.headers();
    let accept = header_text(headers, header::ACCEPT).to_ascii_lowercase();
    if accept.contains("text/html") {
        return false;
    }
    headers.contains_key(header::AUTHORIZATION)
        || accept.contains("vnd.elasticsearch")
        || headers.contains_key("x-elastic-client-meta")
}

/// Adds the product header (and the compatible content type) to every answer.
async fn product_headers(request: Request, next: Next) -> Response {
    let compat = compatibility(request.headers());
    let mut response = next.run(request).await;
    mark(&mut response, compat.as_deref());
    response
}

/// The `compatible-with` version the client's `Accept` asks for, if any
/// (`application/vnd.elasticsearch+json; compatible-with=8`).
fn compatibility(headers: &HeaderMap) -> Option<String> {
    let accept = header_text(headers, header::ACCEPT).to_ascii_lowercase();
    let (_, rest) = accept.split_once("compatible-with=")?;
    let version: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!version.is_empty()).then_some(version)
}

fn mark(response: &mut Response, compat: Option<&str>) {
    let headers = response.headers_mut();
    headers.insert(PRODUCT_HEADER, HeaderValue::from_static("Elasticsearch"));
    let is_json = header_text(headers, header::CONTENT_TYPE).starts_with("application/json");
    if let (true, Some(version)) = (is_json, compat) {
        let value = format!("application/vnd.elasticsearch+json;compatible-with={version}");
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header::CONTENT_TYPE, value);
        }
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, path: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn browsers_and_anonymous_probes_keep_the_ui() {
        let basic = ("authorization", "Basic c2lnaHRsaW5lOmtleQ==");
        assert!(is_client_handshake(&request(Method::GET, "/", &[basic])));
        assert!(is_client_handshake(&request(
            Method::HEAD,
            "/",
            &[basic, ("accept", "*/*")]
        )));
        assert!(is_client_handshake(&request(
            Method::GET,
            "/",
            &[(
                "accept",
                "application/vnd.elasticsearch+json; compatible-with=8"
            )]
        )));
        assert!(!is_client_handshake(&request(
            Method::GET,
            "/",
            &[
                basic,
                ("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            ]
        )));
        assert!(!is_client_handshake(&request(
            Method::GET,
            "/",
            &[("accept", "*/*")]
        )));
        assert!(!is_client_handshake(&request(
            Method::GET,
            "/logs",
            &[basic]
        )));
        assert!(!is_client_handshake(&request(Method::POST, "/", &[basic])));
    }

    #[test]
    fn compatibility_mode_is_echoed() {
        let mut headers = HeaderMap::new();
        assert_eq!(compatibility(&headers), None);
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.elasticsearch+json; compatible-with=8"),
        );
        assert_eq!(compatibility(&headers).as_deref(), Some("8"));
        let mut response = axum::Json(serde_json::json!({})).into_response();
        mark(&mut response, Some("8"));
        assert_eq!(response.headers()[PRODUCT_HEADER], "Elasticsearch");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/vnd.elasticsearch+json;compatible-with=8"
        );
    }
}
