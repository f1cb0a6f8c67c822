//! The parts of a Sentry event the event view shows besides its exceptions
//! ([`super::exception`]), read from the payload as the SDK sent it
//! (<https://develop.sentry.dev/sdk/data-model/event-payloads/>): the message,
//! breadcrumbs, contexts, request, user, extra data and tags.
//!
//! SDKs differ in what they send, so everything is read tolerantly, the way the
//! server reads events: a field of the wrong type counts as missing, and both the
//! `{"values": [...]}` and the bare array forms are understood.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// A string field of an object; `None` when missing, empty or not a string.
pub(super) fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `{"values": [...]}` or `[...]`.
pub(super) fn values(value: Option<&Value>) -> &[Value] {
    match value {
        Some(Value::Object(object)) => object
            .get("values")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice),
        Some(Value::Array(items)) => items,
        _ => &[],
    }
}

/// A JSON value as the UI prints it: strings bare, everything else as JSON.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An object's fields as `(key, text)` rows; anything else gives no rows.
pub(super) fn rows_of(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_object)
        .map(|object| {
            object
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), value_text(v)))
                .collect()
        })
        .unwrap_or_default()
}

/// The message of a message event: `logentry.formatted`, `logentry.message`, or
/// `message` (a string, or an object of the same shape as `logentry`).
pub fn message(payload: &Value) -> Option<String> {
    let of = |entry: &Value| text(entry, "formatted").or_else(|| text(entry, "message"));
    payload
        .get("logentry")
        .and_then(of)
        .or_else(|| match payload.get("message") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(entry @ Value::Object(_)) => of(entry),
            _ => None,
        })
}

/// One breadcrumb: something that happened before the error.
#[derive(Debug, Clone, PartialEq)]
pub struct Breadcrumb {
    /// When, if the SDK said (RFC 3339 or seconds since the epoch).
    pub timestamp: Option<DateTime<Utc>>,
    /// `http`, `navigation`, `ui.click`, `query`, ...
    pub category: Option<String>,
    /// `debug` … `fatal`; Sentry's default is `info`.
    pub level: String,
    /// `default`, `http`, `error`, ...
    pub kind: Option<String>,
    /// What happened.
    pub message: Option<String>,
    /// Details (`url`, `status_code`, ...).
    pub data: Vec<(String, String)>,
}

/// A timestamp as SDKs send it: RFC 3339 text or (fractional) epoch seconds.
fn timestamp(value: Option<&Value>) -> Option<DateTime<Utc>> {
    match value? {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        Value::Number(n) => {
            let seconds = n.as_f64()?;
            DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
        }
        _ => None,
    }
}

/// The breadcrumbs, oldest first (as sent).
pub fn breadcrumbs(payload: &Value) -> Vec<Breadcrumb> {
    values(payload.get("breadcrumbs"))
        .iter()
        .filter(|b| b.is_object())
        .map(|b| Breadcrumb {
            timestamp: timestamp(b.get("timestamp")),
            category: text(b, "category"),
            level: text(b, "level").unwrap_or_else(|| "info".to_owned()),
            kind: text(b, "type"),
            message: text(b, "message"),
            data: rows_of(b.get("data")),
        })
        .collect()
}

/// Each context (`os`, `runtime`, `browser`, `device`, `trace`, ...) with its
/// fields, by name; the `type` field (which repeats the name) left out.
pub fn contexts(payload: &Value) -> Vec<(String, Vec<(String, String)>)> {
    let Some(contexts) = payload.get("contexts").and_then(Value::as_object) else {
        return Vec::new();
    };
    contexts
        .iter()
        .map(|(name, fields)| {
            let rows = rows_of(Some(fields))
                .into_iter()
                .filter(|(key, _)| key != "type")
                .collect::<Vec<_>>();
            (name.clone(), rows)
        })
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

/// The HTTP request the event happened in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestPart {
    /// `GET`, `POST`, ...
    pub method: Option<String>,
    /// The URL (without the query string, usually).
    pub url: Option<String>,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: Vec<(String, String)>,
}

/// Pairs sent as an object, an array of `[key, value]`, or (for queries) text.
fn pairs(value: Option<&Value>) -> Vec<(String, String)> {
    match value {
        Some(Value::Object(_)) => rows_of(value),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([key, value]) => Some((value_text(key), value_text(value))),
                _ => None,
            })
            .collect(),
        Some(Value::String(query)) => query
            .trim_start_matches('?')
            .split('&')
            .filter(|part| !part.is_empty())
            .map(|part| match part.split_once('=') {
                Some((key, value)) => (key.to_owned(), value.to_owned()),
                None => (part.to_owned(), String::new()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The request, when the event has one with anything in it.
pub fn request(payload: &Value) -> Option<RequestPart> {
    let request = payload.get("request").filter(|r| r.is_object())?;
    let part = RequestPart {
        method: text(request, "method"),
        url: text(request, "url"),
        query: pairs(request.get("query_string")),
        headers: pairs(request.get("headers")),
    };
    (part != RequestPart::default()).then_some(part)
}

/// The user's fields: `id`, `email`, `ip_address` and `username` first, then
/// any others the SDK sent.
pub fn user(payload: &Value) -> Vec<(String, String)> {
    const FIRST: [&str; 4] = ["id", "email", "ip_address", "username"];
    let Some(user) = payload.get("user").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut rows: Vec<(String, String)> = FIRST
        .iter()
        .filter_map(|key| {
            user.get(*key)
                .filter(|v| !v.is_null())
                .map(|v| ((*key).to_owned(), value_text(v)))
        })
        .collect();
    rows.extend(
        user.iter()
            .filter(|(k, v)| !FIRST.contains(&k.as_str()) && !v.is_null())
            .map(|(k, v)| (k.clone(), value_text(v))),
    );
    rows
}

/// `extra`: free-form data the application attached.
pub fn extra(payload: &Value) -> Vec<(String, String)> {
    rows_of(payload.get("extra"))
}

/// The event's tags (`EventDetail.tags`, an object) as rows.
pub fn tags(tags: &Value) -> Vec<(String, String)> {
    rows_of(Some(tags))
}

/// A tag of the event by key, e.g. `server_name`.
pub fn tag<'a>(tags: &'a Value, key: &str) -> Option<&'a str> {
    tags.as_object()
        .and_then(|t: &Map<String, Value>| t.get(key))
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[test]
    fn breadcrumbs_messages_and_requests_read_every_form() {
        let payload = json!({
            "breadcrumbs": [
                {"timestamp": 1_767_225_600.5, "category": "http", "data": {"status_code": 500}},
                {"timestamp": "2026-01-01T00:00:01Z", "message": "clicked", "level": "warning"}
            ],
            "logentry": {"message": "disk %s full", "formatted": "disk /var full"},
            "request": {"method": "POST", "url": "https://shop.example/cart",
                        "query_string": "a=1&b", "headers": [["Accept", "text/html"]]},
            "user": {"email": "a@example.com", "id": "u-1", "segment": "pro"}
        });
        let crumbs = breadcrumbs(&payload);
        assert_eq!(crumbs.len(), 2);
        assert_eq!(
            crumbs[0].timestamp.map(|t| t.timestamp_millis()),
            Some(1_767_225_600_500)
        );
        assert_eq!(crumbs[0].level, "info");
        assert_eq!(crumbs[0].data, vec![("status_code".into(), "500".into())]);
        assert_eq!(crumbs[1].level, "warning");
        assert_eq!(message(&payload).as_deref(), Some("disk /var full"));
        let request = request(&payload).unwrap_or_default();
        assert_eq!(
            request.query,
            vec![("a".into(), "1".into()), ("b".into(), String::new())]
        );
        assert_eq!(request.headers, vec![("Accept".into(), "text/html".into())]);
        let keys: Vec<_> = user(&payload).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["id", "email", "segment"]);
        assert_eq!(
            message(&json!({"message": "plain"})).as_deref(),
            Some("plain")
        );
    }

    #[test]
    fn contexts_leave_out_their_type() {
        let payload = json!({"contexts": {
            "os": {"type": "os", "name": "Linux", "version": "6.1"},
            "empty": {"type": "empty"}
        }});
        assert_eq!(
            contexts(&payload),
            vec![(
                "os".into(),
                vec![
                    ("name".into(), "Linux".into()),
                    ("version".into(), "6.1".into())
                ]
            )]
        );
    }
}
