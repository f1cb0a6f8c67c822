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
pub mod otlp;
pub mod rate_limit;
pub mod sentry;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// Sightline's own ingestion endpoints (under `/api/v1`, in the OpenAPI document).
pub fn router() -> OpenApiRouter<AppState> {
    native::router()
}

/// The endpoints of other products' protocols, at the paths their clients use
/// (`/loki/api/v1/push`, `/_bulk`, `/v1/logs`, `/api/{project_id}/envelope/`, ...).
pub fn protocol_router() -> Router<AppState> {
    loki::router()
        .merge(elastic::router())
        .merge(otlp::router())
        .merge(sentry::router())
}
