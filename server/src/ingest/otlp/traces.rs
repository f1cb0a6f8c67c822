//! `POST /v1/traces`: OTLP/HTTP traces, protobuf or JSON, authenticated by
//! ingest key like `/v1/logs`. The spans become [`crate::traces`] records
//! ([`super::spans`]); spans that cannot be stored are counted in
//! `partialSuccess` and the rest are stored.

use axum::{
    extract::{Request, State},
    http::StatusCode,
    response::Response,
};
use chrono::Utc;
use prost::Message;

use super::{
    answer, json,
    proto::{ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse},
    serve,
    spans::spans_of,
    Encoding, Export, LIMITS,
};
use crate::{http::error::ApiError, ingest::body, traces::writer::MAX_SPANS_PER_JOB, AppState};

/// `POST /v1/traces`.
pub(super) async fn export_traces(State(state): State<AppState>, request: Request) -> Response {
    serve(state, request, ingest).await
}

async fn ingest(state: AppState, export: Export) -> Result<Response, ApiError> {
    let (state, headers) = (&state, &export.headers);
    let (key, encoding, body) = (&export.key, export.encoding, export.body);
    let bytes = body::read(&state.decode, headers, body, LIMITS).await?;
    let request = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(bytes.as_ref()).map_err(|e| {
            ApiError::BadRequest(format!("not an OTLP ExportTraceServiceRequest: {e}"))
        })?,
        Encoding::Json => json::decode_traces(&bytes).map_err(ApiError::BadRequest)?,
    };
    let total: usize = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    if total > MAX_SPANS_PER_JOB {
        return Err(ApiError::Rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("more than {MAX_SPANS_PER_JOB} spans in one request"),
        ));
    }
    let converted = spans_of(request, Utc::now());
    let (rejected_spans, error_message) = (converted.refused_i64(), converted.first_refusal);
    key.deliver(state, &state.spans, converted.records).await?;
    let partial_success = (rejected_spans > 0).then_some(ExportTracePartialSuccess {
        rejected_spans,
        error_message: error_message.unwrap_or_default(),
    });
    Ok(answer(
        encoding,
        ExportTraceServiceResponse { partial_success },
    ))
}
