//! The Sentry protocol: envelopes ([`envelope`]) and the legacy store body
//! ([`store`]) as Sentry SDKs send them, where those SDKs put their key
//! ([`auth`]), the non-event items inside envelopes ([`items`]) and
//! transactions and span v2 items as spans ([`transaction`],
//! [`spans`]) — pure decoding, no database or
//! HTTP — and the endpoints that build on them
//! ([`handler`]), at the paths a DSN makes SDKs use.

pub mod auth;
pub mod envelope;
pub mod handler;
pub mod items;
pub mod spans;
pub mod store;
pub mod transaction;

use std::time::Duration;

use axum::{
    http::{HeaderName, Method},
    routing::post,
    Router,
};
use tower_http::cors::{Any, CorsLayer};

use crate::AppState;

/// How long browsers may cache the answer to a preflight request.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3600);

/// The envelope and store endpoints, with and without the trailing slash, open
/// to browser SDKs on any origin (they authenticate by key, not by cookie).
pub fn router() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST])
        .allow_headers([
            HeaderName::from_static("x-sentry-auth"),
            HeaderName::from_static("content-type"),
            HeaderName::from_static("content-encoding"),
            HeaderName::from_static("authorization"),
            HeaderName::from_static("sentry-trace"),
            HeaderName::from_static("baggage"),
        ])
        .expose_headers([
            HeaderName::from_static("x-sentry-error"),
            HeaderName::from_static("x-sentry-rate-limits"),
            HeaderName::from_static("retry-after"),
        ])
        .max_age(PREFLIGHT_MAX_AGE);
    Router::new()
        .route("/api/{project_id}/envelope/", post(handler::post_envelope))
        .route("/api/{project_id}/envelope", post(handler::post_envelope))
        .route("/api/{project_id}/store/", post(handler::post_store))
        .route("/api/{project_id}/store", post(handler::post_store))
        .layer(cors)
}
