//! `POST /loki/api/v1/push`: Grafana Loki's push API, so Promtail, Alloy, the
//! Docker driver, Fluent Bit's `loki` output and the logging libraries that
//! speak it can ship to Sightline unchanged.
//!
//! Both encodings Loki accepts are read: JSON (`Content-Type:
//! application/json`, optionally gzip- or zstd-compressed by `Content-Encoding`)
//! and snappy-compressed protobuf (`application/x-protobuf`, the default of
//! Loki's own clients; see [`proto`]). Stream labels name the service, host and
//! level and are kept as attributes, as is each entry's structured metadata
//! ([`entry`]). The key is the basic-auth password (the user name is ignored,
//! like a Loki tenant) or a bearer token.
//!
//! Answers follow Loki, whose clients only look at the status: 204 once the
//! entries are committed; plain-text errors with 400 for a body that cannot be
//! read, 401 without a valid key, 413 past a size limit, and 429 (or 503 while
//! stopping) with `Retry-After` when the ingest queue is full, which clients
//! retry. Loki's distributor stores the valid entries of a partly invalid push
//! and still answers 400 (naming the problem) so that the client does not resend
//! them; Sightline does the same: refused entries (a bad timestamp, a line over
//! [`entry::MAX_LINE_BYTES`], a stream whose labels do not parse) are counted in
//! the 400's message and the rest are stored. A push whose entries are all
//! refused stores nothing. A body that is not a push request at all (bad JSON,
//! protobuf or snappy) is refused whole.

pub mod entry;
pub mod json;
pub mod labels;
pub mod proto;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};

use super::{
    auth,
    body::{self, BodyLimits},
    decoded::Decoded,
};
use crate::{
    http::error::ApiError,
    logs::{
        record::{LogRecord, RecordError},
        writer::MAX_RECORDS_PER_JOB,
    },
    AppState,
};

/// The path Loki clients push to.
pub const PUSH_PATH: &str = "/loki/api/v1/push";
/// Body limits: 10 MiB as sent, 64 MiB after gzip/zstd or snappy.
pub const LIMITS: BodyLimits = BodyLimits {
    wire: 10 * 1024 * 1024,
    decoded: 64 * 1024 * 1024,
};
/// Most entries one push may carry (more is a 413: split the batch).
pub const MAX_ENTRIES: usize = MAX_RECORDS_PER_JOB;

/// The Loki push route, at the path Loki clients use (not under `/api/v1`).
pub fn router() -> Router<AppState> {
    Router::new().route(PUSH_PATH, post(push))
}

/// Stores a push's entries in the key's project; errors are plain text.
async fn push(State(state): State<AppState>, request: Request) -> Response {
    match store(&state, request).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => super::plain_text(error),
    }
}

async fn store(state: &AppState, request: Request) -> Result<(), ApiError> {
    let (parts, body) = request.into_parts();
    let key = auth::key_from_headers(&parts).ok_or_else(|| {
        ApiError::Unauthorized(
            "no ingest key: send the project's ingest key as the basic-auth password or as `Authorization: Bearer <key>`".into(),
        )
    })?;
    let project = auth::resolve(state, &key).await?;
    let outcome = decode(state, parts.headers, body).await?;
    let refusal = outcome.refusal_message();
    if !outcome.records.is_empty() {
        project.deliver(state, &state.logs, outcome.records).await?;
    }
    match refusal {
        Some(message) => Err(ApiError::BadRequest(message)),
        None => Ok(()),
    }
}

/// Reads the body in the encoding its headers (or, without a content type,
/// its first byte) say.
async fn decode(
    state: &AppState,
    mut headers: HeaderMap,
    body: Body,
) -> Result<PushOutcome, ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    // Snappy is implied by the protobuf format; a few shippers still say so.
    let snappy_header = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("snappy"));
    if snappy_header {
        headers.remove(header::CONTENT_ENCODING);
    }
    let bytes = body::read(&state.decode, &headers, body, LIMITS).await?;
    let is_json = if media.ends_with("json") {
        true
    } else if media.contains("protobuf") {
        false
    } else {
        // Loki reads anything but JSON as protobuf; a body opening with `{` is
        // JSON sent without its content type (curl -d does that).
        bytes.trim_ascii_start().first() == Some(&b'{')
    };
    body::parse(bytes.len(), move || decode_bytes(&bytes, is_json))
        .await?
        .map_err(ApiError::from)
}

fn decode_bytes(bytes: &[u8], is_json: bool) -> Result<PushOutcome, PushError> {
    if is_json {
        json::decode(bytes, MAX_ENTRIES)
    } else {
        proto::decode(bytes, LIMITS.decoded, MAX_ENTRIES).map(proto::records)
    }
}

/// What one push decoded to: the records to store and the entries refused (a
/// stream with bad labels counts all its entries), the first refusal's reason
/// naming its stream and entry.
pub type PushOutcome = Decoded<LogRecord>;

impl Decoded<LogRecord> {
    /// Keeps a record, or counts it refused, naming where it came from.
    pub fn add_entry(
        &mut self,
        record: Result<LogRecord, RecordError>,
        stream: &str,
        index: usize,
    ) {
        self.add(record, |error| {
            format!("stream {}, entry {index}: {error}", shorten(stream))
        });
    }

    /// The 400 message when some entries were refused.
    fn refusal_message(&self) -> Option<String> {
        let first = self.first_refusal.as_deref()?;
        let stored = self.records.len();
        Some(if stored == 0 {
            format!(
                "all {} entries were refused; the first: {first}",
                self.refused
            )
        } else {
            format!(
                "{} of {} entries were refused ({stored} stored); the first: {first}",
                self.refused,
                self.refused + stored
            )
        })
    }
}

/// At most 200 bytes of `text` (a label set shown in a message), cut at a
/// character boundary.
pub fn shorten(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_string();
    }
    format!("{}…", &text[..text.floor_char_boundary(MAX)])
}

/// Why a body is not a push request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// 400: not JSON, protobuf or snappy, or not of the push request's shape.
    #[error("{0}")]
    Malformed(String),
    /// 413: more than [`MAX_ENTRIES`] entries, or decompressing past the limit.
    #[error("{0}")]
    TooLarge(String),
}

impl From<PushError> for ApiError {
    fn from(error: PushError) -> Self {
        match error {
            PushError::Malformed(message) => ApiError::BadRequest(message),
            PushError::TooLarge(message) => {
                ApiError::Rejected(StatusCode::PAYLOAD_TOO_LARGE, message)
            }
        }
    }
}
