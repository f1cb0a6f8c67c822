//! The Sentry endpoints: `POST /api/{project_id}/envelope/` (every current SDK)
//! and `POST /api/{project_id}/store/` (the legacy one-event body), answered
//! the way Sentry's own server (Relay) answers, since that is what SDKs act on.
//!
//! - **Auth.** The key comes from `X-Sentry-Auth`, `Authorization: Sentry ...` or
//!   the `sentry_key` query parameter ([`super::auth::sentry_key`]), else from the
//!   envelope header's `dsn` (tunnelled browser traffic). It must be an active
//!   ingest key of the project in the URL (the DSN's last path segment, as
//!   [`crate::config::Config::dsn`] prints it); otherwise 403.
//! - **Items.** `event` items become [`ErrorEvent`]s stored by the error writer;
//!   `log` items go to the log writer; `session`/`sessions` to release health
//!   ([`crate::errors::sessions`]); `client_report` counts become metrics;
//!   `transaction` items and `span` v2 containers (the current JavaScript
//!   SDKs) become spans stored by the span writer ([`crate::traces`]); every other type (attachments, check-ins, profiles,
//!   replays, feedback, ...) is accepted and skipped. An `event` that cannot be
//!   read fails the request (400, nothing stored); other unreadable items are
//!   skipped and counted (`sentry_items_invalid_total`), as Relay drops them.
//! - **Answers.** 200 `{"id": "<event id>"}` once everything is committed.
//!   Errors carry `{"detail": "..."}` and the reason in `X-Sentry-Error`: 400
//!   for a malformed body, 403 for a bad key or project, 413 past a limit, 429
//!   with `Retry-After` and `X-Sentry-Rate-Limits` (scope `key` for the key's
//!   own limit, `organization` when the ingest queue is full), 503 while stopping.

use axum::{
    body::{Body, Bytes},
    extract::{Path, RawQuery, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::{
    auth as sentry_auth,
    envelope::{self, EnvelopeLimits, ItemKind},
    items::{self, Discarded, SessionUpdate},
    spans,
    store::decode_store_body,
};
use crate::{
    errors::{event::ErrorEvent, sessions, writer::WriteError},
    http::error::ApiError,
    ingest::{
        auth,
        body::{self, BodyLimits},
    },
    logs::{record::LogRecord, writer::MAX_RECORDS_PER_JOB},
    pipeline::ids::hex_id,
    traces::span::SpanRecord,
    AppState,
};

/// Envelope bodies: 20 MiB as sent and after decompression.
pub const ENVELOPE_LIMITS: BodyLimits = BodyLimits {
    wire: 20 * 1024 * 1024,
    decoded: 20 * 1024 * 1024,
};
/// Store bodies: room for a 1 MiB event in base64.
pub const STORE_LIMITS: BodyLimits = BodyLimits {
    wire: 2 * 1024 * 1024,
    decoded: 2 * 1024 * 1024,
};
/// Largest event, transaction, log, session or client report item (attachments
/// and other skipped items may be larger, up to the envelope's limit).
pub const MAX_ITEM_BYTES: usize = 1024 * 1024;
/// Most items in one envelope.
pub const MAX_ITEMS: usize = 1000;

/// `POST /api/{project_id}/envelope/`.
pub async fn post_envelope(
    State(state): State<AppState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    match receive_envelope(&state, &project, query.as_deref(), request).await {
        Ok(id) => answer(id),
        Err(refusal) => refusal.into_response(),
    }
}

/// `POST /api/{project_id}/store/`.
pub async fn post_store(
    State(state): State<AppState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Response {
    match receive_store(&state, &project, query.as_deref(), request).await {
        Ok(id) => answer(Some(id)),
        Err(refusal) => refusal.into_response(),
    }
}

fn answer(id: Option<String>) -> Response {
    match id {
        Some(id) => Json(json!({ "id": id })),
        None => Json(json!({})),
    }
    .into_response()
}

async fn receive_envelope(
    state: &AppState,
    project: &str,
    query: Option<&str>,
    request: Request,
) -> Result<Option<String>, Refusal> {
    let project_id = project_id(project)?;
    let (parts, body) = request.into_parts();
    let sent_key = sentry_auth::sentry_key(&parts.headers, query);
    // A key in the request is checked before the body is read.
    if let Some(key) = &sent_key {
        authenticate(state, key, project_id).await?;
    }
    let bytes = body::read(&state.decode, &parts.headers, body, ENVELOPE_LIMITS).await?;
    let received = Utc::now();
    let contents = body::parse(bytes.len(), move || decode_envelope(&bytes, received)).await??;
    let key = match sent_key {
        Some(key) => key,
        None => {
            let key = contents.dsn_key.clone().ok_or_else(missing_key)?;
            authenticate(state, &key, project_id).await?;
            key
        }
    };
    let units = contents.events.len() + contents.transactions.len() + contents.segments;
    rate_limit(state, project_id, &key, units).await?;
    store_contents(state, project_id, contents).await
}

async fn receive_store(
    state: &AppState,
    project: &str,
    query: Option<&str>,
    request: Request,
) -> Result<String, Refusal> {
    let project_id = project_id(project)?;
    let (parts, body) = request.into_parts();
    let key = sentry_auth::sentry_key(&parts.headers, query).ok_or_else(missing_key)?;
    authenticate(state, &key, project_id).await?;
    let bytes = body::read(&state.decode, &parts.headers, body, STORE_LIMITS).await?;
    let json = decode_store_body(&bytes, MAX_ITEM_BYTES).map_err(|e| {
        if e.is_too_large() {
            Refusal::too_large(e.to_string())
        } else {
            Refusal::bad_request(e.to_string())
        }
    })?;
    let event = read_event(&json, Utc::now()).map_err(Refusal::bad_request)?;
    rate_limit(state, project_id, &key, 1).await?;
    let stored = state
        .errors
        .write(project_id, vec![event])
        .await
        .map_err(write_refusal)?;
    Ok(stored
        .into_iter()
        .next()
        .map(|s| s.event_id)
        .unwrap_or_default())
}

/// What an envelope carries, decoded, before anything is stored.
#[derive(Debug, Default)]
struct Contents {
    /// The envelope header's event id, normalised.
    id: Option<String>,
    /// The key of the envelope header's DSN.
    dsn_key: Option<String>,
    events: Vec<ErrorEvent>,
    /// Transaction payloads, decoded into spans when they are stored.
    transactions: Vec<Bytes>,
    /// Spans of span v2 items, decoded.
    spans: Vec<SpanRecord>,
    /// How many of those are segments (transactions), for the rate limit.
    segments: usize,
    spans_refused: usize,
    logs: Vec<LogRecord>,
    logs_refused: usize,
    sessions: Vec<SessionUpdate>,
    discarded: Vec<Discarded>,
    /// Metric labels of items skipped by type, and of items skipped unread.
    skipped: Vec<&'static str>,
    invalid: Vec<&'static str>,
}

fn decode_envelope(bytes: &Bytes, received: DateTime<Utc>) -> Result<Contents, Refusal> {
    let limits = EnvelopeLimits {
        max_items: MAX_ITEMS,
        max_item_bytes: ENVELOPE_LIMITS.decoded,
    };
    let envelope = envelope::parse_bytes(bytes, limits).map_err(|e| {
        if e.is_too_large() {
            Refusal::too_large(e.to_string())
        } else {
            Refusal::bad_request(format!("invalid envelope: {e}"))
        }
    })?;
    let mut contents = Contents {
        id: envelope
            .header
            .event_id
            .as_deref()
            .and_then(|id| hex_id(id, 32)),
        dsn_key: envelope
            .header
            .dsn
            .as_deref()
            .and_then(sentry_auth::key_from_dsn),
        ..Contents::default()
    };
    let trace = spans::TraceHeader::of(envelope.header.trace.as_ref());
    for (index, item) in envelope.items.into_iter().enumerate() {
        let index = index + 1;
        let kind = item.kind;
        if !matches!(kind, ItemKind::Other(_)) && item.payload.len() > MAX_ITEM_BYTES {
            return Err(Refusal::too_large(format!(
                "item {index}: {} payload of {} bytes is larger than the limit of {MAX_ITEM_BYTES}",
                kind.as_str(),
                item.payload.len()
            )));
        }
        let skipped = |contents: &mut Contents,
                       label: &'static str,
                       error: &dyn std::fmt::Display| {
            tracing::debug!(item.index = index, item.kind = label, error = %error, "skipped an unreadable Sentry item");
            contents.invalid.push(label);
        };
        match &kind {
            ItemKind::Event => {
                let event = read_event(&item.payload, received)
                    .map_err(|e| Refusal::bad_request(format!("item {index}: {e}")))?;
                contents.events.push(event);
            }
            ItemKind::Transaction => contents.transactions.push(item.payload),
            ItemKind::Log => match items::log_records(&item.payload, received) {
                Ok(records) => {
                    for record in records {
                        match record {
                            Ok(record) => contents.logs.push(record),
                            Err(_) => contents.logs_refused += 1,
                        }
                    }
                }
                Err(error) => skipped(&mut contents, "log", &error),
            },
            ItemKind::Session | ItemKind::Sessions => {
                match items::session_updates(&kind, &item.payload) {
                    Ok(updates) => contents.sessions.extend(updates),
                    Err(error) => skipped(&mut contents, "session", &error),
                }
            }
            ItemKind::ClientReport => match items::client_report(&item.payload) {
                Ok(discarded) => contents.discarded.extend(discarded),
                Err(error) => skipped(&mut contents, "client_report", &error),
            },
            ItemKind::Span if item.content_type.as_deref() == Some(spans::CONTENT_TYPE) => {
                match spans::spans_of_container(&item.payload, &trace, received) {
                    Ok((read, refused)) => {
                        contents.segments += read.iter().filter(|s| s.is_segment).count();
                        contents.spans.extend(read);
                        contents.spans_refused += refused;
                    }
                    Err(error) => skipped(&mut contents, "span", &error),
                }
            }
            // Spans of the retired v1 protocol (one JSON span an item).
            ItemKind::Span => contents.skipped.push("span"),
            ItemKind::Other(name) => contents.skipped.push(skipped_label(name)),
        }
    }
    if contents.logs.len() > MAX_RECORDS_PER_JOB {
        return Err(Refusal::too_large(format!(
            "more than {MAX_RECORDS_PER_JOB} log records in one envelope"
        )));
    }
    Ok(contents)
}

/// Stores what the envelope carries: events first (retries of them are stored
/// once), then logs and sessions; returns the id to answer with.
async fn store_contents(
    state: &AppState,
    project_id: i64,
    contents: Contents,
) -> Result<Option<String>, Refusal> {
    let mut id = contents.id;
    if !contents.events.is_empty() {
        let stored = state
            .errors
            .write(project_id, contents.events)
            .await
            .map_err(write_refusal)?;
        if id.is_none() {
            id = stored.into_iter().next().map(|s| s.event_id);
        }
    }
    if !contents.transactions.is_empty() {
        // Transactions become spans (unreadable ones are skipped and counted).
        metrics::counter!("sentry_transactions_received_total")
            .increment(contents.transactions.len() as u64);
        let spans = super::transaction::decode(contents.transactions, Utc::now()).await;
        let stored = state.spans.write(project_id, spans).await;
        stored.map_err(write_refusal)?;
    }
    if !contents.spans.is_empty() {
        metrics::counter!("sentry_spans_received_total").increment(contents.spans.len() as u64);
        state
            .spans
            .write(project_id, contents.spans)
            .await
            .map_err(write_refusal)?;
    }
    if contents.spans_refused > 0 {
        metrics::counter!("sentry_spans_refused_total").increment(contents.spans_refused as u64);
    }
    if !contents.logs.is_empty() {
        state
            .logs
            .write(project_id, contents.logs)
            .await
            .map_err(write_refusal)?;
    }
    if contents.logs_refused > 0 {
        metrics::counter!("sentry_log_records_refused_total")
            .increment(contents.logs_refused as u64);
    }
    if !contents.sessions.is_empty() {
        sessions::store(&state.pool, project_id, &contents.sessions)
            .await
            .map_err(|e| {
                ApiError::from(anyhow::Error::new(e).context("storing session updates"))
            })?;
    }
    for discarded in contents.discarded {
        metrics::counter!(
            "sentry_client_discarded_total",
            "reason" => metric_label(&discarded.reason),
            "category" => metric_label(&discarded.category)
        )
        .increment(discarded.quantity);
    }
    for label in contents.skipped {
        metrics::counter!("sentry_items_skipped_total", "type" => label).increment(1);
    }
    for label in contents.invalid {
        metrics::counter!("sentry_items_invalid_total", "type" => label).increment(1);
    }
    Ok(id)
}

/// An event payload, normalised.
fn read_event(payload: &[u8], received: DateTime<Utc>) -> Result<ErrorEvent, String> {
    ErrorEvent::from_sentry_json(payload, received).map_err(|e| e.to_string())
}

fn project_id(segment: &str) -> Result<i64, Refusal> {
    segment.parse::<i64>().map_err(|_| {
        Refusal::bad_request(format!(
            "`{}` is not a project id: use the number at the end of the project's DSN",
            segment.chars().take(40).collect::<String>()
        ))
    })
}

/// Checks that `key` is an active key of `project_id`.
async fn authenticate(state: &AppState, key: &str, project_id: i64) -> Result<(), Refusal> {
    let ingest = auth::resolve(state, key)
        .await
        .map_err(|error| match error {
            ApiError::Unauthorized(message) => Refusal::forbidden(message),
            other => Refusal::from(other),
        })?;
    if ingest.project_id != project_id {
        return Err(Refusal::forbidden(format!(
            "this key does not belong to project {project_id}: check the DSN"
        )));
    }
    Ok(())
}

fn missing_key() -> Refusal {
    Refusal::forbidden(
        "missing sentry_key: send the DSN's key in X-Sentry-Auth, as the sentry_key query parameter or in the envelope's dsn",
    )
}

/// The key's rate limit ([`auth::IngestKey::admit`]), answered as Sentry does:
/// `X-Sentry-Rate-Limits` scoped to the key.
async fn rate_limit(
    state: &AppState,
    project_id: i64,
    key: &str,
    units: usize,
) -> Result<(), Refusal> {
    let ingest = auth::IngestKey {
        project_id,
        key: key.into(),
    };
    match ingest.admit(state, units).await {
        Ok(()) => Ok(()),
        Err(error @ ApiError::TooManyRequests { .. }) => {
            metrics::counter!("sentry_rate_limited_total", "scope" => "key").increment(1);
            let rate_limits = error.retry_after_secs().map(|secs| format!("{secs}::key"));
            Err(Refusal { error, rate_limits })
        }
        Err(error) => Err(Refusal::from(error)),
    }
}

/// A full queue is a 429 for the whole server (scope `organization`), so SDKs
/// back off from everything; stopping is a 503.
fn write_refusal(error: WriteError) -> Refusal {
    match error {
        WriteError::Overloaded => {
            metrics::counter!("sentry_rate_limited_total", "scope" => "organization").increment(1);
            const RETRY_AFTER_SECS: u64 = 1;
            Refusal {
                error: ApiError::TooManyRequests {
                    message: error.to_string(),
                    retry_after_secs: RETRY_AFTER_SECS,
                },
                rate_limits: Some(format!("{RETRY_AFTER_SECS}::organization")),
            }
        }
        WriteError::ShuttingDown => Refusal::from(ApiError::Unavailable {
            message: error.to_string(),
            retry_after_secs: 5,
        }),
        WriteError::Unavailable => Refusal::from(ApiError::DatabaseUnavailable),
        WriteError::Failed => Refusal::from(ApiError::Internal(anyhow::anyhow!(
            "storing Sentry items failed"
        ))),
    }
}

/// The metric label of a skipped item type: known types by name, the rest as
/// `other` (item types are client input; labels must stay few).
fn skipped_label(name: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "attachment",
        "check_in",
        "feedback",
        "user_report",
        "profile",
        "profile_chunk",
        "replay_event",
        "replay_recording",
        "replay_video",
        "span",
        "statsd",
        "metric_buckets",
    ];
    KNOWN
        .iter()
        .find(|known| **known == name)
        .copied()
        .unwrap_or("other")
}

/// A client report's reason or category as a metric label: documented values
/// are short snake case; anything else is `other`.
fn metric_label(value: &str) -> String {
    let plain = !value.is_empty()
        && value.len() <= 32
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        value.to_string()
    } else {
        "other".to_string()
    }
}

/// A refused request, answered as Relay does: the status (with `Retry-After`
/// where it applies), `{"detail": reason}`, the reason in `X-Sentry-Error`, and
/// `X-Sentry-Rate-Limits` for rate limits.
#[derive(Debug)]
pub struct Refusal {
    error: ApiError,
    rate_limits: Option<String>,
}

impl Refusal {
    fn forbidden(message: impl Into<String>) -> Refusal {
        Refusal::from(ApiError::Forbidden(message.into()))
    }

    fn bad_request(message: impl Into<String>) -> Refusal {
        Refusal::from(ApiError::BadRequest(message.into()))
    }

    fn too_large(message: impl Into<String>) -> Refusal {
        Refusal::from(ApiError::Rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            message.into(),
        ))
    }
}

impl From<ApiError> for Refusal {
    /// While the database is away, SDKs are asked to hold everything back for
    /// as long as `Retry-After` says, rather than send into a wall of 503s.
    fn from(error: ApiError) -> Self {
        let rate_limits = match &error {
            ApiError::DatabaseUnavailable => error
                .retry_after_secs()
                .map(|secs| format!("{secs}::organization")),
            _ => None,
        };
        Refusal { error, rate_limits }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let detail = self.error.public_message();
        // The API error's response keeps its status, Retry-After and the
        // extension the middleware logs internal errors from.
        let mut response = self.error.into_response();
        *response.body_mut() = Body::from(json!({ "detail": detail }).to_string());
        let headers = response.headers_mut();
        headers.remove(header::CONTENT_LENGTH);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(value) = HeaderValue::from_str(&header_text(&detail)) {
            headers.insert("x-sentry-error", value);
        }
        if let Some(Ok(value)) = self.rate_limits.as_deref().map(HeaderValue::from_str) {
            headers.insert("x-sentry-rate-limits", value);
        }
        response
    }
}

/// `text` as a header value: visible ASCII and spaces only, at most 300 bytes.
fn header_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_few() {
        assert_eq!(skipped_label("attachment"), "attachment");
        assert_eq!(skipped_label("made_up_1"), "other");
        assert_eq!(metric_label("queue_overflow"), "queue_overflow");
        assert_eq!(metric_label("Robert'); drop"), "other");
    }

    #[test]
    fn header_text_is_visible_ascii() {
        assert_eq!(header_text("größer\nals"), "gr??er?als");
    }

    #[test]
    fn an_envelope_is_decoded_by_item_type() {
        let body = Bytes::from_static(
            b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"http://k1@h/3\"}\n\
{\"type\":\"event\"}\n{\"message\":\"boom\"}\n\
{\"type\":\"transaction\"}\n{\"type\":\"transaction\"}\n\
{\"type\":\"client_report\"}\n{\"discarded_events\":[{\"reason\":\"sample_rate\",\"category\":\"error\",\"quantity\":2}]}\n\
{\"type\":\"session\"}\n{\"started\":\"2026-01-02T03:04:05Z\"}\n\
{\"type\":\"replay_event\"}\n{}\n",
        );
        let contents = decode_envelope(&body, Utc::now()).unwrap();
        assert_eq!(
            contents.id.as_deref(),
            Some("9ec79c33ec9942ab8353589fcb2e04dc")
        );
        assert_eq!(contents.dsn_key.as_deref(), Some("k1"));
        assert_eq!(contents.events.len(), 1);
        assert_eq!(contents.transactions.len(), 1);
        assert_eq!(contents.discarded.len(), 1);
        // A session without a release is dropped, as Sentry drops it.
        assert!(contents.sessions.is_empty());
        assert_eq!(contents.invalid, ["session"]);
        assert_eq!(contents.skipped, ["replay_event"]);
    }
}
