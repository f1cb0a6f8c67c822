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
use serde_json::{value::RawValue, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::IngestKey,
    body::{self, BodyLimits},
};
use crate::{
    http::error::{ApiError, Json},
    logs::{record::LogRecord, writer::MAX_RECORDS_PER_JOB},
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
    request_body(content = NativeBody, description = "a JSON object, a JSON array of objects, or NDJSON (`application/x-ndjson`, one object a line)", content_type = "application/json"),
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
        return Ok(nothing_accepted("record", summary));
    }
    key.deliver(&state, &state.logs, records).await?;
    Ok(Json(summary).into_response())
}

/// Counts a refused item of a body (by its 0-based index) in the answer,
/// listing the first [`ERRORS_SHOWN`] reasons.
pub(super) fn refuse(summary: &mut IngestSummary, index: usize, reason: String) {
    summary.rejected += 1;
    if summary.errors.len() < ERRORS_SHOWN {
        summary.errors.push(RecordRejection { index, reason });
    }
}

/// The answer of a body of which every item (`what`: "record", "sample") was
/// refused: a 400 in the API's error shape that still carries the tally and
/// the reasons, as a partly stored body's answer does.
pub(super) fn nothing_accepted(what: &str, summary: IngestSummary) -> Response {
    let first = summary
        .errors
        .first()
        .map(|e| e.reason.clone())
        .unwrap_or_default();
    let body = serde_json::json!({
        "error": {"code": "bad_request", "message": format!("no {what} was accepted; the first problem: {first}")},
        "accepted": 0,
        "rejected": summary.rejected,
        "errors": summary.errors,
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

pub use super::deliver::write_error;

/// The OpenAPI schema of a body of Sightline's own log format: one record or
/// an array of them. The fields it reads are described with the values it
/// takes; every other field is an attribute, of any JSON value. In an array,
/// an item that is not a valid record is refused on its own and reported in
/// `errors` while the others are stored (the answer is 200 when one is), so
/// the array's items are any JSON value; [`describe_batch_body`] adds what
/// the types here cannot say.
pub struct NativeBody;

impl utoipa::PartialSchema for NativeBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, SchemaType};
        let item = ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .description(Some(
                "a log record as in the single-record form; an item that is not one is refused \
                 and reported in `errors`, and the other items are stored",
            ));
        AnyOfBuilder::new()
            .item(record_schema())
            .item(
                ArrayBuilder::new()
                    .items(item)
                    .max_items(Some(MAX_RECORDS_PER_JOB)),
            )
            .into()
    }
}

impl utoipa::ToSchema for NativeBody {}

/// Says in the served document what utoipa's types cannot: an array body is
/// accepted when it holds at least one valid record (`contains`), the other
/// items being refused one by one, or when it is empty; an array of nothing
/// but refusals is a 400, like a single refused record.
pub fn describe_batch_body(doc: &mut Value) {
    let pointer = "/components/schemas/NativeBody/anyOf";
    let Some(any_of) = doc.pointer_mut(pointer).and_then(Value::as_array_mut) else {
        return;
    };
    let Some(record) = any_of.first().cloned() else {
        return;
    };
    for form in any_of.iter_mut() {
        if form.get("type").and_then(Value::as_str) == Some("array") {
            form["contains"] = record.clone();
        }
    }
    any_of.push(serde_json::json!({"type": "array", "maxItems": 0}));
}

/// One record: the recognised fields and what each accepts.
fn record_schema() -> utoipa::openapi::schema::Object {
    use crate::logs::record::{MAX_MESSAGE_CHARS, MAX_NAME_CHARS};
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, SchemaType, Type};
    let string = |pattern: String| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
    };
    let time = || {
        AnyOfBuilder::new()
            // RFC 3339 from 1971 on (an offset may not take it before 1970).
            .item(string(app::api::RFC3339_PATTERN.replacen(
                "^[0-9]{4}",
                "^(197[1-9]|19[89][0-9]|[2-9][0-9]{3})",
                1,
            )))
            .item(string(r"^[0-9]{1,18}(\.[0-9]{1,9})?$".into()))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Number)
                    .minimum(Some(0))
                    .maximum(Some(crate::pipeline::clock::MAX_EPOCH_NUMBER as f64)),
            )
            .description(Some(
                "RFC 3339, or epoch seconds, milliseconds, microseconds or nanoseconds (told apart by size)",
            ))
    };
    // Names in any case: each letter as a class of both.
    let names = [
        "trace",
        "trc",
        "verbose",
        "finest",
        "finer",
        "debug",
        "dbg",
        "fine",
        "config",
        "info",
        "inf",
        "information",
        "informational",
        "notice",
        "log",
        "warn",
        "warning",
        "wrn",
        "error",
        "err",
        "eror",
        "severe",
        "fatal",
        "critical",
        "crit",
        "alert",
        "emerg",
        "emergency",
        "panic",
    ]
    .map(|name| {
        name.chars()
            .map(|c| format!("[{}{}]", c, c.to_ascii_uppercase()))
            .collect::<String>()
    })
    .join("|");
    let numbers = "[0-9]|1[0-9]|2[0-4]|30|40|50|60";
    let level = || {
        AnyOfBuilder::new()
            .item(string(format!(r"^\s*({names}|{numbers})\s*$")))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(24)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .enum_values(Some([30, 40, 50, 60])),
            )
            .description(Some(
                "a name (trace, debug, info, warn, error, fatal and their usual spellings), a syslog severity 0-7, pino 10-60, or OTLP 1-24",
            ))
    };
    // Any JSON value (a string as it is, a number or boolean as its text, an
    // object or array as attributes under the field's name; said in full, as
    // `maxLength` alone reads as "a string" to some tools).
    let text = |max_chars: usize| {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([
                Type::String,
                Type::Number,
                Type::Integer,
                Type::Boolean,
                Type::Object,
                Type::Array,
                Type::Null,
            ]))
            .max_length(Some(max_chars))
    };
    // The other spellings (`timestamp`, `time`, `@timestamp`; `severity`,
    // `lvl`; `msg`) are read the same way when the first is absent, and are
    // attributes when it is present, which a schema cannot say: they are in
    // the description only.
    let mut record = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "A log record. `ts` may also be spelled `timestamp`, `time` or `@timestamp`, `level` \
             `severity` or `lvl`, `message` `msg` (the first present is read). Every other field \
             is an attribute, searchable by its dotted path.",
        ))
        .property("ts", time())
        .property("level", level());
    record = record.property("message", text(MAX_MESSAGE_CHARS));
    for field in ["service", "host", "trace_id", "span_id"] {
        record = record.property(field, text(MAX_NAME_CHARS));
    }
    record.build()
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
        Err(reason) => refuse(&mut summary, index, reason),
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

    #[tokio::test]
    async fn a_body_of_refusals_only_is_a_400_that_lists_the_first_reasons() {
        let mut summary = IngestSummary::default();
        for index in 0..ERRORS_SHOWN + 5 {
            refuse(&mut summary, index, format!("bad item {index}"));
        }
        assert_eq!(summary.rejected, ERRORS_SHOWN + 5);
        assert_eq!(summary.errors.len(), ERRORS_SHOWN, "the count covers all");

        let response = nothing_accepted("sample", summary);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "bad_request");
        assert_eq!(
            body["error"]["message"],
            "no sample was accepted; the first problem: bad item 0"
        );
        assert_eq!(body["accepted"], 0);
        assert_eq!(body["rejected"], ERRORS_SHOWN + 5);
        assert_eq!(body["errors"][1]["index"], 1);
        assert_eq!(body["errors"][1]["reason"], "bad item 1");
    }
}
