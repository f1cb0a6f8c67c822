//! `POST /v1/metrics`: OTLP/HTTP metrics, protobuf or JSON, authenticated by
//! ingest key like `/v1/logs`. The metrics become Prometheus series
//! ([`super::to_prometheus`]: names, units, `job`/`instance`, delta to
//! cumulative) and [`crate::metrics`] records; points that cannot be stored
//! are counted in `partialSuccess` and the rest are stored.

use axum::{
    extract::{Request, State},
    http::StatusCode,
    response::Response,
};
use chrono::{DateTime, Utc};

use super::{
    answer,
    metrics_proto::{ExportMetricsPartialSuccess, ExportMetricsServiceResponse},
    serve,
    to_prometheus::{self, MAX_POINTS_PER_REQUEST},
    Encoding, Export, LIMITS,
};
use crate::{
    http::error::ApiError,
    ingest::{body, decoded::Decoded},
    metrics::record::{Metadata, MetricRecord, SeriesSamples},
    pipeline::clock::{retention, ReceiveWindow},
    AppState,
};

/// `POST /v1/metrics`.
pub(super) async fn export_metrics(State(state): State<AppState>, request: Request) -> Response {
    serve(state, request, ingest).await
}

async fn ingest(state: AppState, export: Export) -> Result<Response, ApiError> {
    let (headers, key, encoding) = (&export.headers, &export.key, export.encoding);
    let bytes = body::read(&state.decode, headers, export.body, LIMITS).await?;
    let deltas = state.otlp_deltas.clone();
    let project_id = key.project_id;
    let window = ReceiveWindow::new(Utc::now(), retention(state.config.metrics_retention_days));
    let decoded = body::parse(bytes.len(), move || {
        let request = match encoding {
            Encoding::Protobuf => to_prometheus::decode_protobuf(&bytes),
            Encoding::Json => to_prometheus::decode_json(&bytes),
        }
        .map_err(ApiError::BadRequest)?;
        to_prometheus::points_within(&request, MAX_POINTS_PER_REQUEST)
            .map_err(|message| ApiError::Rejected(StatusCode::PAYLOAD_TOO_LARGE, message))?;
        Ok::<_, ApiError>(records(
            to_prometheus::translate(request, &deltas, project_id),
            &window,
        ))
    })
    .await??;
    let (rejected_data_points, error_message) = (decoded.refused_i64(), decoded.first_refusal);
    key.deliver(&state, &state.metrics, decoded.records).await?;
    let partial_success = (rejected_data_points > 0).then_some(ExportMetricsPartialSuccess {
        rejected_data_points,
        error_message: error_message.unwrap_or_default(),
    });
    Ok(answer(
        encoding,
        ExportMetricsServiceResponse { partial_success },
    ))
}

/// The translated series as records; samples outside the retention window
/// and series Prometheus's rules refuse are counted as refused points.
fn records(translated: to_prometheus::Translated, window: &ReceiveWindow) -> Decoded<MetricRecord> {
    let mut decoded = Decoded::default();
    decoded.refuse(translated.refused, || {
        translated.first_refusal.clone().unwrap_or_default()
    });
    for (labels, samples) in translated.series {
        let total = samples.len();
        let kept: Vec<(i64, f64)> = samples
            .into_iter()
            .filter(|&(ts, _)| {
                DateTime::from_timestamp_millis(ts).is_some_and(|t| window.drift(t).is_none())
            })
            .collect();
        decoded.refuse(total - kept.len(), || {
            "a data point's time is outside the retention window (too old, or more than an hour ahead)".into()
        });
        if kept.is_empty() {
            continue;
        }
        let count = kept.len();
        match SeriesSamples::new(labels, kept) {
            Ok(series) => decoded.records.push(MetricRecord::Series(series)),
            Err(error) => decoded.refuse(count, || error.to_string()),
        }
    }
    for (metric, kind, help, unit) in translated.metadata {
        decoded.records.push(MetricRecord::Metadata(Metadata {
            metric,
            kind: kind.into(),
            help,
            unit,
        }));
    }
    decoded
}
