//! `POST /api/v1/ingest/logs`: Sightline's own log format. The body is one JSON
//! object, a JSON array of objects, or NDJSON (one object a line); see
//! [`LogRecord::from_json`] for the fields. Good records are stored even when
//! others in the same body are refused; the answer counts both.

use app::api::{IngestSummary, RecordRejection};
use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::IngestKey,
    body::{self, BodyLimits},
};
use crate::{
    http::error::{ApiError, Json},
    logs::{
        record::LogRecord,
        writer::{WriteError, MAX_RECORDS_PER_JOB},
    },
    AppState,
};

/// Body limits of the native endpoint.
pub const LIMITS: BodyLimits = BodyLimits {
    wire: 16 * 1024 * 1024,
    decoded: 64 * 1024 * 1024,
};
/// Longest NDJSON line (one record).
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Refusals listed in the answer (the count covers all).
const ERRORS_SHOWN: usize = 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ingest_logs))
}

/// Stores log lines in the key's project; answers after they are committed.
#[utoipa::path(post, path = "/ingest/logs", tag = "ingest",
    request_body(content = String, description = "a JSON object, a JSON array of objects, or NDJSON", content_type = "application/json"),
    responses(
        (status = 200, body = IngestSummary, description = "stored (some records may have been refused)"),
        (status = 400, description = "nothing could be read, or every record was refused"),
        (status = 401, description = "missing or unknown ingest key"),
        (status = 413, description = "body or decompressed body too large"),
        (status = 429, description = "ingest queue full; see Retry-After"),
    ),
    security(("ingest_key" = [])))]
async fn ingest_logs(
    State(state): State<AppState>,
    key: IngestKey,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body::read(&state.decode, &headers, body, LIMITS).await?;
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("ndjson") || t.contains("jsonlines"));
    let (records, summary) = decode(&bytes, ndjson, Utc::now())?;
    if records.is_empty() && summary.rejected > 0 {
        let first = summary
            .errors
            .first()
            .map(|e| e.reason.clone())
            .unwrap_or_default();
        let body = serde_json::json!({
            "error": {"code": "bad_request", "message": format!("no record was accepted; the first problem: {first}")},
            "accepted": 0,
            "rejected": summary.rejected,
            "errors": summary.errors,
        });
        return Ok((StatusCode::BAD_REQUEST, axum::Json(body)).into_response());
    }
    state
        .logs
        .write(key.project_id, records)
        .await
        .map_err(write_error)?;
    Ok(Json(summary).into_response())
}

/// The API error for a failed write: 429 (or 503 while stopping) with Retry-After.
pub fn write_error(error: WriteError) -> ApiError {
    match error {
        WriteError::Overloaded => ApiError::TooManyRequests {
            message: error.to_string(),
            retry_after_secs: 1,
        },
        WriteError::ShuttingDown => ApiError::Unavailable {
            message: error.to_string(),
            retry_after_secs: 5,
        },
        WriteError::Unavailable => ApiError::DatabaseUnavailable,
        WriteError::Failed => ApiError::Internal(anyhow::anyhow!("log batch write failed")),
    }
}

/// Splits a body into records and refusals.
pub fn decode(
    bytes: &[u8],
    ndjson: bool,
    received: DateTime<Utc>,
) -> Result<(Vec<LogRecord>, IngestSummary), ApiError> {
    let mut summary = IngestSummary::default();
    let mut records = Vec::new();
    let mut accept = |index: usize, item: Result<LogRecord, String>| match item {
        Ok(record) => {
            summary.accepted += 1;
            records.push(record);
        }
        Err(reason) => {
            summary.rejected += 1;
            if summary.errors.len() < ERRORS_SHOWN {
                summary.errors.push(RecordRejection { index, reason });
            }
        }
    };
    let record = |json: &[u8]| LogRecord::from_json_line(json, received).map_err(|e| e.0);

    let trimmed = bytes.trim_ascii_start();
    // The whole body as one JSON value, borrowed: an object, or an array of them.
    let whole = if ndjson || trimmed.is_empty() {
        None
    } else {
        serde_json::from_slice::<&RawValue>(bytes).ok()
    };
    match (whole, trimmed.first()) {
        (Some(array), Some(b'[')) => {
            let items: Vec<&RawValue> = serde_json::from_str(array.get())
                .map_err(|e| ApiError::BadRequest(format!("invalid JSON array: {e}")))?;
            check_count(items.len())?;
            for (index, item) in items.into_iter().enumerate() {
                accept(index, record(item.get().as_bytes()));
            }
        }
        (Some(object), Some(b'{')) => accept(0, record(object.get().as_bytes())),
        (Some(_), first) => {
            return Err(ApiError::BadRequest(format!(
                "expected a JSON object, an array of objects or NDJSON; found {}",
                match first {
                    Some(b'"') => "a string",
                    Some(b't' | b'f') => "a boolean",
                    Some(b'n') => "null",
                    // What else a valid JSON value can start with.
                    _ => "a number",
                }
            )));
        }
        (None, _) => {
            let lines: Vec<&[u8]> = bytes
                .split(|b| *b == b'\n')
                .map(<[u8]>::trim_ascii)
                .filter(|l| !l.is_empty())
                .collect();
            if lines.is_empty() {
                return Err(ApiError::BadRequest("the body holds no log record".into()));
            }
            check_count(lines.len())?;
            for (index, line) in lines.into_iter().enumerate() {
                let item = if line.len() > MAX_LINE_BYTES {
                    Err(format!("line longer than {} KiB", MAX_LINE_BYTES / 1024))
                } else {
                    record(line)
                };
                accept(index, item);
            }
        }
    }
    Ok((records, summary))
}

fn check_count(n: usize) -> Result<(), ApiError> {
    if n > MAX_RECORDS_PER_JOB {
        return Err(ApiError::Rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("more than {MAX_RECORDS_PER_JOB} records in one request; split the batch"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_arrays_and_ndjson_decode() {
        let now = Utc::now();
        let (r, s) = decode(br#"{"message":"one"}"#, false, now).unwrap();
        assert_eq!((r.len(), s.accepted), (1, 1));
        let (r, _) = decode(br#"[{"message":"a"},{"message":"b"}]"#, false, now).unwrap();
        assert_eq!(r.len(), 2);
        let (r, s) = decode(
            b"{\"message\":\"a\"}\n\nnot json\n{\"message\":\"c\"}\n",
            false,
            now,
        )
        .unwrap();
        assert_eq!((r.len(), s.rejected), (2, 1));
        assert_eq!(s.errors[0].index, 1);
        assert!(s.errors[0].reason.contains("invalid JSON"));
        // One bad item of an array is refused alone, the rest kept.
        let (r, s) = decode(
            br#"[{"message":"a"},{"message":"b","n":1e400}]"#,
            false,
            now,
        )
        .unwrap();
        assert_eq!((r.len(), s.rejected), (1, 1));
        assert_eq!(s.errors[0].index, 1);
        assert!(s.errors[0].reason.contains("number out of range"));
        assert!(decode(b"42", false, now).is_err());
        assert!(decode(b"   ", false, now).is_err());
    }
}
