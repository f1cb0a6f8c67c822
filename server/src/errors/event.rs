//! [`ErrorEvent`]: one error or message event as a Sentry SDK sends it
//! (<https://develop.sentry.dev/sdk/data-model/event-payloads/>), normalised for
//! listing and storage, and [`ErrorEvent::from_sentry`], which reads it.
//!
//! SDKs differ in what they send and in how closely they follow the protocol, so
//! a field of the wrong type is skipped as if it were missing; only a payload that
//! is not a JSON object is refused.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::exception::{self, text, Exception, Frame};
use super::fingerprint;
use super::message::{truncate, EventMessage};
use crate::{
    pipeline::clock::parse_timestamp,
    pipeline::{
        clock::{self, Drift, ReceiveWindow, MAX_FUTURE},
        ids::hex_id,
    },
};

/// Most tags one event keeps; the derived tags come first, so they are never the
/// ones dropped.
pub const MAX_TAGS: usize = 64;
/// Longest tag key, in bytes; longer keys are dropped, since a cut key would be
/// a different key.
pub const MAX_TAG_KEY_BYTES: usize = 64;
/// Longest tag value, in bytes; longer values are cut at a character boundary.
pub const MAX_TAG_VALUE_BYTES: usize = 200;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest message and exception value kept in the normalised fields, in bytes
/// (the payload keeps them whole).
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Longest platform, release, environment, transaction, culprit, exception type
/// and user key, in bytes.
pub const MAX_NAME_BYTES: usize = 512;

/// An error event, normalised: the fields the error list, the group view and
/// the filters read; the event as sent stays in `payload`.
#[derive(Debug, Clone)]
pub struct ErrorEvent {
    /// 32 lowercase hex characters: the SDK's id without dashes, or a new one
    /// when it sent none that is valid.
    pub event_id: String,
    /// When the event happened: its `timestamp`, or the arrival time when it is
    /// missing, unreadable or more than [`MAX_FUTURE`] ahead.
    pub ts: DateTime<Utc>,
    /// `fatal`, `error`, `warning`, `info` or `debug`; `error` when unknown.
    pub level: String,
    /// The SDK's platform (`python`, `javascript`, `native`); `other` when missing.
    pub platform: String,
    /// `Type: value` of the innermost exception, else the first line of the
    /// message, else `<unlabeled event>`; at most [`MAX_TITLE_CHARS`].
    pub title: String,
    /// Where it happened: the innermost application frame as `module in function`
    /// (or `file in function`), else the transaction, else empty.
    pub culprit: String,
    /// The formatted message, or empty.
    pub message: String,
    /// The innermost exception's type.
    pub exception_type: Option<String>,
    /// The innermost exception's value (its message).
    pub exception_value: Option<String>,
    /// The application version the SDK reported (`shop@1.4.2`).
    pub release: Option<String>,
    /// The deployment (`production`, `staging`).
    pub environment: Option<String>,
    /// The route or task the event happened in (`/checkout`, `tasks.send_mail`).
    pub transaction: Option<String>,
    /// `contexts.trace.trace_id`, when it is 32 hex characters.
    pub trace_id: Option<String>,
    /// `contexts.trace.span_id`, when it is 16 hex characters.
    pub span_id: Option<String>,
    /// Who was affected: the first of `user.id`, `user.email`, `user.ip_address`
    /// and `user.username` that is present, for counting users per group.
    pub user_key: Option<String>,
    /// The SDK's tags and the derived ones (`level`, `environment`, `release`,
    /// `transaction`, `os.name`, `browser.name`, `runtime.name`, `server_name`,
    /// `url`), one value per key, derived first, within the `MAX_TAG*` limits.
    pub tags: Vec<(String, String)>,
    /// What the event is grouped by ([`fingerprint::components`]).
    pub fingerprint: Vec<String>,
    /// The group key ([`fingerprint::hash`] of `fingerprint`).
    pub grouping_hash: String,
    /// The event as sent, for the event page, with `event_id`, `timestamp` (RFC
    /// 3339) and `level` replaced by their normalised values and NUL characters
    /// removed (PostgreSQL's `jsonb` refuses them). Kept as JSON text, which
    /// may repeat those three keys: the last is the one that counts.
    pub payload: String,
    /// Set when the event's own `timestamp` could not be used (see
    /// [`ErrorEvent::correct_clock`]).
    pub clock_drift: Option<ClockDrift>,
}

/// Why an event's own time was replaced by its arrival time, as Sentry's Relay
/// says it in the event's `errors`: the type and the value as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ClockDrift {
    /// `past_timestamp` or `future_timestamp`.
    pub kind: &'static str,
    /// The `timestamp` as the SDK sent it.
    pub original: Value,
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventError {
    /// The payload is not JSON.
    #[error("event is not valid JSON: {0}")]
    InvalidJson(String),
    /// The payload is valid JSON but not an object.
    #[error("an event must be a JSON object, found {found}")]
    NotAnObject {
        /// What was found instead (`an array`, `a string`, ...).
        found: &'static str,
    },
}

impl ErrorEvent {
    /// Normalises an event from the JSON text a Sentry SDK sent. The payload is
    /// that text with the normalised `event_id`, `timestamp` and `level`
    /// appended: JSON readers (PostgreSQL's `jsonb`, serde_json) keep the last
    /// of repeated keys. Writing the parsed event out again cost the ingest path
    /// a tenth of its time.
    pub fn from_sentry_json(
        text: &[u8],
        received: DateTime<Utc>,
    ) -> Result<ErrorEvent, EventError> {
        let value: Value =
            serde_json::from_slice(text).map_err(|e| EventError::InvalidJson(e.to_string()))?;
        let body = std::str::from_utf8(text)
            .ok()
            .map(str::trim)
            .and_then(|t| t.strip_prefix('{')?.strip_suffix('}'));
        let (Some(body), false) = (body, needs_rewrite(text)) else {
            return Self::from_sentry(value, received);
        };
        if !value.is_object() {
            return Self::from_sentry(value, received);
        }
        let mut event = Self::read(&value, received);
        let ts = event.ts.to_rfc3339_opts(SecondsFormat::Micros, true);
        let mut payload = String::with_capacity(body.len() + 128);
        payload.push('{');
        payload.push_str(body);
        if !body.trim().is_empty() {
            payload.push(',');
        }
        for (i, (key, value)) in [
            ("event_id", event.event_id.as_str()),
            ("timestamp", ts.as_str()),
            ("level", event.level.as_str()),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                payload.push(',');
            }
            // Strings serialise.
            payload.push_str(&serde_json::to_string(key).unwrap_or_default());
            payload.push(':');
            payload.push_str(&serde_json::to_string(value).unwrap_or_default());
        }
        payload.push('}');
        event.payload = payload;
        Ok(event)
    }

    /// Normalises an event as a Sentry SDK sends it. `received` stands in for a
    /// missing or implausible timestamp.
    pub fn from_sentry(value: Value, received: DateTime<Utc>) -> Result<ErrorEvent, EventError> {
        let mut payload = value;
        if !payload.is_object() {
            return Err(EventError::NotAnObject {
                found: json_kind(&payload),
            });
        }
        make_storable(&mut payload);
        let mut event = Self::read(&payload, received);
        if let Value::Object(fields) = &mut payload {
            let ts = event.ts.to_rfc3339_opts(SecondsFormat::Micros, true);
            fields.insert("event_id".into(), Value::String(event.event_id.clone()));
            fields.insert("timestamp".into(), Value::String(ts));
            fields.insert("level".into(), Value::String(event.level.clone()));
        }
        // A JSON object always serialises.
        event.payload = serde_json::to_string(&payload).unwrap_or_else(|_| "{}".into());
        Ok(event)
    }

    /// Every field but the payload.
    fn read(event: &Value, received: DateTime<Utc>) -> ErrorEvent {
        let chain = exception::chain(event);
        let innermost = chain.last();
        let message = EventMessage::from_event(event);
        let level = level(event.get("level"));
        let environment = name(event, "environment");
        let release = name(event, "release");
        let transaction = name(event, "transaction");
        let trace = context(event, "trace");
        let trace_field = |key: &str, len: usize| {
            trace
                .and_then(|t| t.get(key))
                .and_then(Value::as_str)
                .and_then(|id| hex_id(id, len))
        };
        let fingerprint = fingerprint::components(event);
        let (ts, clock_drift) = timestamp(event.get("timestamp"), received);
        ErrorEvent {
            event_id: event_id(event.get("event_id")),
            ts,
            level: level.to_owned(),
            platform: name(event, "platform").unwrap_or_else(|| "other".to_owned()),
            title: title(innermost, message.as_ref()),
            culprit: culprit(innermost, event, transaction.as_deref()),
            message: message
                .map(|m| truncate(&m.formatted, MAX_MESSAGE_BYTES).to_owned())
                .unwrap_or_default(),
            exception_type: innermost
                .and_then(|e| e.ty)
                .map(|ty| truncate(ty, MAX_NAME_BYTES).to_owned()),
            exception_value: innermost
                .and_then(|e| e.value)
                .map(|value| truncate(value, MAX_MESSAGE_BYTES).to_owned()),
            tags: tags(
                event,
                level,
                [&environment, &release, &transaction].map(Option::as_deref),
            ),
            trace_id: trace_field("trace_id", 32),
            span_id: trace_field("span_id", 16),
            user_key: user_key(event),
            release,
            environment,
            transaction,
            grouping_hash: fingerprint::hash(&fingerprint),
            fingerprint,
            payload: String::new(),
            clock_drift,
        }
    }

    /// The stored payload, parsed.
    pub fn payload_value(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or_default()
    }
}

/// The SDK's id when it is a UUID (with or without dashes or braces, any case)
/// other than the nil one, else a new one.
fn event_id(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .and_then(|id| hex_id(id, 32))
        .unwrap_or_else(|| Uuid::new_v4().simple().to_string())
}

/// The event's time: `timestamp` as the protocol defines it (a number is
/// seconds since the epoch, whatever its size; a string is RFC 3339 or such
/// a number), else the arrival time. A time that cannot be right (before 1970,
/// or more than [`MAX_FUTURE`] ahead) is replaced by the arrival time and
/// reported as a [`ClockDrift`].
fn timestamp(
    value: Option<&Value>,
    received: DateTime<Utc>,
) -> (DateTime<Utc>, Option<ClockDrift>) {
    let Some(value) = value else {
        return (received, None);
    };
    let epoch_seconds = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let parsed = match epoch_seconds {
        // SDKs send seconds with a fraction, which an f64 holds to a fraction of a
        // microsecond: rounding keeps `.123` from becoming `.122999`.
        Some(seconds) if seconds.is_finite() && seconds.abs() < 1e11 => {
            DateTime::from_timestamp_micros((seconds * 1e6).round() as i64)
        }
        Some(seconds) if seconds.is_finite() => {
            // Representable by no calendar we store: far past or far future.
            let side = if seconds < 0.0 {
                Drift::Past
            } else {
                Drift::Future
            };
            return (received, Some(drift(side, value)));
        }
        Some(_) => None,
        None => parse_timestamp(value),
    };
    let latest = received.checked_add_signed(MAX_FUTURE).unwrap_or(received);
    match parsed {
        None => (received, None),
        Some(ts) if ts.year() < 1970 => (received, Some(drift(Drift::Past, value))),
        Some(ts) if ts > latest => (received, Some(drift(Drift::Future, value))),
        Some(ts) => (ts, None),
    }
}

fn drift(side: Drift, original: &Value) -> ClockDrift {
    ClockDrift {
        kind: side.kind(),
        original: original.clone(),
    }
}

impl ErrorEvent {
    /// Applies the clock-drift rule ([`crate::pipeline::clock`]): an event
    /// outside `window` (older than retention, it would be deleted at once and
    /// move its issue's first-seen back to then) takes its arrival time too.
    /// When the event's own time was replaced, for that reason or one found
    /// while reading it, the payload says so the way Sentry's Relay does: the
    /// normalised `timestamp`, and an entry in `errors` holding the original.
    pub fn correct_clock(&mut self, window: &ReceiveWindow) {
        if self.clock_drift.is_none() {
            if let Some(side) = window.drift(self.ts) {
                let original = Value::String(clock::rfc3339(self.ts));
                self.clock_drift = Some(drift(side, &original));
                self.ts = window.received;
            }
        }
        let Some(drift) = &self.clock_drift else {
            return;
        };
        let ts = self.ts.to_rfc3339_opts(SecondsFormat::Micros, true);
        let note = serde_json::json!({
            "timestamp": ts,
            "errors": [{"type": drift.kind, "name": "timestamp", "value": drift.original}],
        });
        // Repeated keys: JSON readers keep the last, as for the other normalised fields.
        let note = note.to_string();
        let fields = note.trim_start_matches('{');
        let Some(body) = self.payload.trim_end().strip_suffix('}') else {
            return;
        };
        let body = body.trim_end();
        let mut payload = String::with_capacity(body.len() + fields.len() + 1);
        payload.push_str(body);
        if !body.ends_with('{') {
            payload.push(',');
        }
        payload.push_str(fields);
        self.payload = payload;
    }
}

fn level(value: Option<&Value>) -> &'static str {
    let name = value
        .and_then(Value::as_str)
        .map(|l| l.trim().to_ascii_lowercase());
    match name.as_deref() {
        Some("fatal" | "critical") => "fatal",
        Some("warning" | "warn") => "warning",
        // JavaScript's `console.log` integration sends `log`.
        Some("info" | "log") => "info",
        Some("debug" | "trace") => "debug",
        _ => "error",
    }
}

/// A string field, capped at [`MAX_NAME_BYTES`].
fn name(event: &Value, key: &str) -> Option<String> {
    text(event, key).map(|t| truncate(t, MAX_NAME_BYTES).to_owned())
}

fn title(innermost: Option<&Exception<'_>>, message: Option<&EventMessage>) -> String {
    let from_exception = innermost.and_then(|e| match (e.ty, e.value.map(first_line)) {
        (Some(ty), Some(value)) if !value.is_empty() => Some(format!("{ty}: {value}")),
        (Some(ty), _) => Some(ty.to_owned()),
        (None, Some(value)) if !value.is_empty() => Some(value.to_owned()),
        (None, _) => None,
    });
    let title = from_exception
        .or_else(|| message.map(|m| first_line(&m.formatted).to_owned()))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| fingerprint::UNLABELED.to_owned());
    title.chars().take(MAX_TITLE_CHARS).collect()
}

fn first_line(text: &str) -> &str {
    text.trim().lines().next().unwrap_or_default().trim()
}

/// The innermost application frame of the innermost exception (or of the
/// event's stack when there is no exception), else its innermost frame of any
/// kind, else the transaction.
fn culprit(innermost: Option<&Exception<'_>>, event: &Value, transaction: Option<&str>) -> String {
    let event_frames;
    let frames: &[Frame<'_>] = match innermost {
        Some(exception) => &exception.frames,
        None => {
            event_frames = exception::event_frames(event);
            &event_frames
        }
    };
    exception::innermost_in_app(frames)
        .or(frames.last())
        .and_then(Frame::culprit)
        .or_else(|| transaction.map(str::to_owned))
        .map(|c| truncate(&c, MAX_NAME_BYTES).to_owned())
        .unwrap_or_default()
}

/// A context by its key (`contexts.os`) or, since SDKs may key a context by
/// another name (Rust sends the runtime as `contexts.rust`), by its `type`.
fn context<'a>(event: &'a Value, kind: &str) -> Option<&'a Map<String, Value>> {
    let contexts = event.get("contexts")?.as_object()?;
    contexts.get(kind).and_then(Value::as_object).or_else(|| {
        contexts
            .values()
            .filter_map(Value::as_object)
            .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
    })
}

fn user_key(event: &Value) -> Option<String> {
    let user = event.get("user")?.as_object()?;
    ["id", "email", "ip_address", "username"]
        .into_iter()
        .find_map(|key| {
            let text = match user.get(key)? {
                Value::String(text) => text.trim().to_owned(),
                Value::Number(number) => number.to_string(),
                _ => return None,
            };
            // `{{auto}}` asks the server to fill in the client's address; it
            // names nobody.
            let placeholder = text.starts_with("{{") && text.ends_with("}}");
            (!text.is_empty() && !placeholder).then(|| truncate(&text, MAX_NAME_BYTES).to_owned())
        })
}

/// Derived tags first, then the SDK's; the first value of a key wins.
fn tags(
    event: &Value,
    level: &str,
    [environment, release, transaction]: [Option<&str>; 3],
) -> Vec<(String, String)> {
    let context_name = |kind: &str| {
        context(event, kind)
            .and_then(|c| c.get("name"))
            .and_then(Value::as_str)
    };
    // The query string is left out: it is where tokens and personal data hide,
    // and it would make every value distinct.
    let url = event
        .get("request")
        .and_then(|r| text(r, "url"))
        .and_then(|u| u.split(['?', '#']).next());
    let derived = [
        ("level", Some(level)),
        ("environment", environment),
        ("release", release),
        ("transaction", transaction),
        ("os.name", context_name("os")),
        ("browser.name", context_name("browser")),
        ("runtime.name", context_name("runtime")),
        ("server_name", text(event, "server_name")),
        ("url", url),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key, value?.to_owned())));
    let mut tags: Vec<(String, String)> = Vec::new();
    for (key, value) in derived.chain(sent_tags(event.get("tags"))) {
        if tags.len() == MAX_TAGS {
            break;
        }
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty()
            || key.len() > MAX_TAG_KEY_BYTES
            || value.is_empty()
            || tags.iter().any(|(known, _)| known == key)
        {
            continue;
        }
        tags.push((
            key.to_owned(),
            truncate(value, MAX_TAG_VALUE_BYTES).to_owned(),
        ));
    }
    tags
}

/// The SDK's tags, as an object or as an array of `[key, value]` pairs; values
/// that are numbers or booleans as their text, anything else skipped.
fn sent_tags(tags: Option<&Value>) -> Vec<(&str, String)> {
    let value_text = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        _ => None,
    };
    match tags {
        Some(Value::Object(tags)) => tags
            .iter()
            .filter_map(|(key, value)| Some((key.as_str(), value_text(value)?)))
            .collect(),
        Some(Value::Array(pairs)) => pairs
            .iter()
            .filter_map(|pair| match pair.as_array()?.as_slice() {
                [Value::String(key), value] => Some((key.as_str(), value_text(value)?)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether an event's text may hold what PostgreSQL's `jsonb` refuses although
/// JSON allows it, or what it would give back in a form serde_json refuses, so
/// that it must be written out from the parsed event: an escaped NUL, a number
/// with an exponent (jsonb takes exponents up to ±1000; parsed, `1e-2000` is
/// 0; 1e308 comes back as 309 digits) or a run of over 300 digits. Strings
/// that merely look so (`"\\u0000"`, `"v1e5"`) take that path too, which only
/// costs time.
fn needs_rewrite(text: &[u8]) -> bool {
    let mut digits = 0usize;
    let mut previous = 0u8;
    for (i, &b) in text.iter().enumerate() {
        if b.is_ascii_digit() {
            digits += 1;
            if digits > 300 {
                return true;
            }
        } else {
            digits = 0;
        }
        if matches!(b, b'e' | b'E') && (previous.is_ascii_digit() || previous == b'.') {
            return true;
        }
        if b == b'\\' && text[i..].starts_with(b"\\u0000") {
            return true;
        }
        previous = b;
    }
    false
}

/// Removes NUL characters (PostgreSQL refuses them) and turns numbers beyond
/// ±10^300 into their text: PostgreSQL keeps them exactly and gives them back
/// without an exponent (1e308 as 309 digits), which serde_json refuses, so the
/// event could not be read again.
fn make_storable(value: &mut Value) {
    match value {
        Value::String(text) if text.contains('\0') => text.retain(|c| c != '\0'),
        Value::Number(n) if n.as_f64().is_some_and(|f| f.abs() > 1e300) => {
            *value = Value::String(n.to_string());
        }
        Value::Array(items) => items.iter_mut().for_each(make_storable),
        Value::Object(fields) => {
            // Keys with NUL are rare: rebuild the map only when there is one.
            if fields.keys().any(|key| key.contains('\0')) {
                *fields = std::mem::take(fields)
                    .into_iter()
                    .map(|(mut key, value)| {
                        key.retain(|c| c != '\0');
                        (key, value)
                    })
                    .collect();
            }
            fields.values_mut().for_each(make_storable);
        }
        _ => {}
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
