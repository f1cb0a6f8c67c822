//! `POST /prometheus/api/v1/write`: Prometheus remote write 1.0, so a stock
//! Prometheus (or Grafana Alloy, vmagent, the OpenTelemetry Collector) with a
//! `remote_write` block sends its samples to Sightline. The body is a
//! snappy-compressed `WriteRequest` ([`proto`]); the key is the basic-auth
//! password (any user name) or a bearer token, as `basic_auth` and
//! `authorization` send them.
//!
//! Answers follow the remote write specification, whose senders retry 5xx and
//! drop the batch on any other 4xx: 204 once the samples are committed; plain
//! text errors with 400 for a body that cannot be read, 401 without a valid
//! key, 413 past a size limit, and **503** with `Retry-After` when the queue
//! is full or the key's rate limit is reached (Prometheus 2.x drops a batch
//! answered 429 unless told otherwise). Series that break Prometheus's naming
//! rules, native histograms and samples outside the retention window are
//! refused and counted in a 400's message after the rest is stored, as
//! Prometheus answers "out of bounds"; the sender then does not resend them.

pub mod exposition;
pub mod proto;
pub mod scrape;

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use chrono::{DateTime, Utc};

use super::{
    auth,
    body::{self, BodyLimits},
    decoded::Decoded,
};
use crate::{
    http::error::ApiError,
    metrics::record::{Metadata, MetricRecord, SeriesSamples, MAX_LABELS},
    pipeline::clock::{retention, ReceiveWindow},
    AppState,
};

/// The path remote write senders are pointed at.
pub const WRITE_PATH: &str = "/prometheus/api/v1/write";
/// Body limits: 10 MiB as sent, 32 MiB once decompressed.
pub const LIMITS: BodyLimits = BodyLimits {
    wire: 10 * 1024 * 1024,
    decoded: 32 * 1024 * 1024,
};
/// Most samples in one request (Prometheus sends 2 000 by default).
pub const MAX_SAMPLES: usize = 200_000;

/// The remote write route.
pub fn router() -> Router<AppState> {
    Router::new().route(WRITE_PATH, post(write))
}

async fn write(State(state): State<AppState>, request: Request) -> Response {
    match store(&state, request).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => super::plain_text(retryable(error)),
    }
}

/// Remote write senders retry 5xx only: a refusal to be retried is a 503.
fn retryable(error: ApiError) -> ApiError {
    match error {
        ApiError::TooManyRequests {
            message,
            retry_after_secs,
        } => ApiError::Unavailable {
            message,
            retry_after_secs,
        },
        other => other,
    }
}

async fn store(state: &AppState, request: Request) -> Result<(), ApiError> {
    let (mut parts, body) = request.into_parts();
    let key = auth::key_from_headers(&parts).ok_or_else(|| {
        ApiError::Unauthorized(
            "no ingest key: send the project's ingest key as the basic-auth password or as `Authorization: Bearer <key>`".into(),
        )
    })?;
    let project = auth::resolve(state, &key).await?;
    // Snappy is the protocol's own framing, not a transfer encoding to undo.
    if parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("snappy"))
    {
        parts.headers.remove(header::CONTENT_ENCODING);
    }
    let bytes = body::read(&state.decode, &parts.headers, body, LIMITS).await?;
    let window = ReceiveWindow::new(Utc::now(), retention(state.config.metrics_retention_days));
    let decoded = body::parse(bytes.len(), move || {
        proto::decode(
            &bytes,
            proto::Limits {
                decoded_bytes: LIMITS.decoded,
                samples: MAX_SAMPLES,
                labels: MAX_LABELS,
            },
        )
        .map(|request| records(request, &window))
    })
    .await?
    .map_err(|e| match e {
        proto::DecodeError::Malformed(message) => ApiError::BadRequest(message),
        proto::DecodeError::TooLarge(message) => {
            ApiError::Rejected(StatusCode::PAYLOAD_TOO_LARGE, message)
        }
    })?;
    if !decoded.records.is_empty() {
        project
            .deliver(state, &state.metrics, decoded.records)
            .await?;
    }
    match decoded.first_refusal {
        Some(reason) => Err(ApiError::BadRequest(format!(
            "{} samples refused, the rest stored; the first: {reason}",
            decoded.refused
        ))),
        None => Ok(()),
    }
}

/// The request's series and metadata as records; refusals count samples.
fn records(request: proto::WriteRequest, window: &ReceiveWindow) -> Decoded<MetricRecord> {
    let mut decoded = Decoded::default();
    for series in request.timeseries {
        if series.histograms > 0 {
            decoded.refuse(series.histograms, || {
                "native histograms are not stored yet; send classic histograms".into()
            });
        }
        if series.samples.is_empty() {
            continue;
        }
        let total = series.samples.len();
        let samples: Vec<(i64, f64)> = series
            .samples
            .iter()
            .filter(|s| in_window(s.timestamp, window))
            .map(|s| (s.timestamp, s.value))
            .collect();
        decoded.refuse(total - samples.len(), || {
            "a sample's timestamp is outside the retention window (too old, or more than an hour ahead)".into()
        });
        if samples.is_empty() {
            continue;
        }
        let count = samples.len();
        let labels = series.labels.into_iter().map(|l| (l.name, l.value));
        match SeriesSamples::new(labels, samples) {
            Ok(series) => decoded.records.push(MetricRecord::Series(series)),
            Err(error) => decoded.refuse(count, || error.to_string()),
        }
    }
    for m in request.metadata {
        if crate::metrics::record::valid_metric_name(&m.metric_family_name) {
            decoded.records.push(MetricRecord::Metadata(Metadata {
                kind: m.kind_name().into(),
                metric: m.metric_family_name,
                help: m.help,
                unit: m.unit,
            }));
        }
    }
    decoded
}

fn in_window(ms: i64, window: &ReceiveWindow) -> bool {
    DateTime::from_timestamp_millis(ms).is_some_and(|t| window.drift(t).is_none())
}
