//! Ingestion protocols. Each adapter decodes its wire format into domain records
//! and hands them to the domain's writer; none of them talks SQL. Shared here:
//! the ingest-key extractor ([`auth`]), body reading with size limits and
//! decompression ([`body`]), per-key rate limits ([`rate_limit`]), and the
//! bounded queue with group commit in front of every writer ([`queue`]).

pub mod auth;
pub mod body;
pub mod elastic;
pub mod loki;
pub mod native;
pub mod otlp;
pub mod queue;
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
