//! `GET /healthz` (the process answers), `GET /readyz` (the database answers and
//! is migrated) and `GET /metrics` (Prometheus text format).

use std::time::Duration;

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use serde_json::json;

use crate::{db, telemetry, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `/readyz` answers within this, whatever the database does: load balancers
/// and orchestrators give up on a probe after about a second.
const READY_CHECK_TIMEOUT: Duration = Duration::from_millis(800);

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let check =
        tokio::time::timeout(READY_CHECK_TIMEOUT, db::migrations_applied(&state.pool)).await;
    match check {
        Ok(Ok(true)) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Ok(Ok(false)) => unavailable("database migrations are not all applied"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            unavailable("database unreachable")
        }
        Err(_) => unavailable("database did not answer within 0.8 s"),
    }
}

fn unavailable(reason: &str) -> (StatusCode, Json<serde_json::Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({"status": "unavailable", "reason": reason})),
    )
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    metrics::gauge!("db_pool_connections").set(state.pool.size() as f64);
    metrics::gauge!("db_pool_idle_connections").set(state.pool.num_idle() as f64);
    metrics::gauge!("db_pool_max_connections")
        .set(state.pool.options().get_max_connections() as f64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        telemetry::prometheus().render(),
    )
}
