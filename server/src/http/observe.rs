//! The request middleware: one span (with the request id) around each request, one
//! log line when it ends, and its Prometheus metrics.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use super::error::LoggedError;
use crate::AppState;

pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    // Name the request's Sentry transaction (when sampled) by its route, not its
    // URI, so that requests of one endpoint make one transaction.
    sentry::configure_scope(|scope| scope.set_transaction(Some(&format!("{method} {route}"))));
    // Handler logs inherit the request id from this span.
    let span = tracing::info_span!("request", request_id = %request_id);

    let response = next.run(request).instrument(span.clone()).await;

    let status = response.status().as_u16();
    let elapsed = start.elapsed();
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route.clone())
        .record(elapsed.as_secs_f64());
    state
        .request_rate
        .record(chrono::Utc::now().timestamp_millis());

    // The request's fields are repeated on its closing line so that each line
    // stands alone in a log search.
    match response.extensions().get::<LoggedError>() {
        Some(LoggedError(error)) => tracing::error!(
            request_id, method, route, status, duration_ms, error = %error, "request failed"
        ),
        None => tracing::info!(request_id, method, route, status, duration_ms, "request"),
    }
    response
}
