//! The envelope items that are not events, decoded into Sightline's terms:
//! structured logs (`log`) into [`LogRecord`](crate::logs::record::LogRecord)s,
//! release-health sessions (`session`, `sessions`) into [`SessionUpdate`]s, and
//! client reports (`client_report`) into [`Discarded`] counts. Logs and sessions
//! have a submodule each; client reports, the shared error and the timestamp
//! rule are here.
//!
//! Client reports: <https://develop.sentry.dev/sdk/telemetry/client-reports/>.

mod log;
mod session;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

pub use self::log::log_records;
pub use self::session::{session_updates, SessionStatus, SessionUpdate};
use crate::pipeline::clock::parse_timestamp;

/// Why a whole item could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    #[error("{kind} item is not valid: {source}")]
    Json {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{kind} item: {message}")]
    Invalid { kind: &'static str, message: String },
    #[error("{kind} item has no `attrs.release`; sessions without a release are dropped")]
    MissingRelease { kind: &'static str },
    #[error("`{0}` items carry no sessions")]
    NotSessions(String),
}

/// A Sentry timestamp: RFC 3339, or epoch seconds as a float. Float seconds
/// near today carry only about a quarter of a microsecond of precision, so the
/// fraction is rounded to microseconds rather than truncated (1700000000.25
/// would otherwise become ….249999 s).
fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    match value.as_f64() {
        Some(secs) if (0.0..1e11).contains(&secs) => {
            let whole = secs.trunc();
            let micros = ((secs - whole) * 1e6).round();
            DateTime::from_timestamp(whole as i64, 0)?
                .checked_add_signed(chrono::Duration::microseconds(micros as i64))
        }
        _ => parse_timestamp(value),
    }
}

/// One count of a client report: events of `category` the SDK dropped for `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Discarded {
    /// Why, e.g. `queue_overflow`, `ratelimit_backoff`, `sample_rate`, `before_send`.
    pub reason: String,
    /// What, e.g. `error`, `transaction`, `session`, `log_item`.
    pub category: String,
    pub quantity: u64,
}

#[derive(Deserialize)]
struct RawReport {
    #[serde(default)]
    discarded_events: Vec<Discarded>,
}

/// The counts of a `client_report` item.
pub fn client_report(payload: &[u8]) -> Result<Vec<Discarded>, ItemError> {
    serde_json::from_slice::<RawReport>(payload)
        .map(|report| report.discarded_events)
        .map_err(|source| ItemError::Json {
            kind: "client_report",
            source,
        })
}

fn invalid(kind: &'static str, message: impl Into<String>) -> ItemError {
    ItemError::Invalid {
        kind,
        message: message.into(),
    }
}

/// A JSON value as text: strings as they are, anything else as JSON.
fn text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A value for an error message, cut short.
fn compact(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn bytes(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn client_reports() {
        let payload = bytes(json!({"timestamp": 1_700_000_000.5, "discarded_events": [
            {"reason": "queue_overflow", "category": "error", "quantity": 3},
            {"reason": "sample_rate", "category": "transaction", "quantity": 12},
        ]}));
        assert_eq!(
            client_report(&payload).unwrap(),
            [
                Discarded {
                    reason: "queue_overflow".into(),
                    category: "error".into(),
                    quantity: 3
                },
                Discarded {
                    reason: "sample_rate".into(),
                    category: "transaction".into(),
                    quantity: 12
                },
            ]
        );
        assert!(client_report(b"{\"timestamp\":1}").unwrap().is_empty());
        let err = client_report(&bytes(
            json!({"discarded_events": [{"reason": "x", "quantity": -1}]}),
        ));
        assert!(err
            .unwrap_err()
            .to_string()
            .starts_with("client_report item is not valid"));
    }
}
