//! Ingestion protocols: the adapter layer. Each adapter decodes its wire format
//! into domain records, hands them to the domain's writer (the pipeline's
//! queue) and answers in its protocol's own way; none of them talks SQL, and no
//! domain imports this layer. Shared here: the ingest-key extractor ([`auth`]),
//! body reading with size limits, decompression and parsing ([`body`]), the
//! tally of stored and refused records ([`decoded`]), and
//! handing records to a writer ([`deliver`]) after the key's rate limit
//! ([`rate_limit`]), which so applies to every protocol.

pub mod auth;
pub mod body;
pub mod decoded;
pub mod deliver;
pub mod elastic;
pub mod loki;
pub mod native;
pub mod native_metrics;
pub mod otlp;
pub mod prometheus;
pub mod protowire;
pub mod rate_limit;
pub mod sentry;

use axum::{
    body::Body,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Router,
};
use utoipa_axum::router::OpenApiRouter;

use crate::{http::error::ApiError, AppState};

/// Sightline's own ingestion endpoints (under `/api/v1`, in the OpenAPI document).
pub fn router() -> OpenApiRouter<AppState> {
    native::router().merge(native_metrics::router())
}

/// The endpoints of other products' protocols, at the paths their clients use
/// (`/loki/api/v1/push`, `/_bulk`, `/v1/logs`, `/api/{project_id}/envelope/`, ...).
pub fn protocol_router() -> Router<AppState> {
    loki::router()
        .merge(elastic::router())
        .merge(otlp::router())
        .merge(sentry::router())
        .merge(prometheus::router())
}

/// Answers an error as Loki and Prometheus do: the status, and the reason as
/// plain text. The API error's own response is kept for its status, headers
/// (`Retry-After`) and extensions (internal errors are logged from them by the
/// middleware).
pub fn plain_text(error: ApiError) -> Response {
    let message = error.public_message();
    let mut response = error.into_response();
    *response.body_mut() = Body::from(message + "\n");
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
