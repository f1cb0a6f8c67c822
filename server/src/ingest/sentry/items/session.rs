//! `session` and `sessions` items: Sentry's release health
//! (<https://develop.sentry.dev/sdk/telemetry/sessions/>), one session's update
//! or counts of sessions aggregated by the SDK, both as the errors domain's
//! [`SessionUpdate`]s.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{compact, invalid, text, timestamp, ItemError};
pub use crate::errors::sessions::{SessionStatus, SessionUpdate};
use crate::ingest::sentry::envelope::ItemKind;

/// The updates of a `session` item (exactly one) or a `sessions` item (one per
/// non-zero count of each aggregate row).
pub fn session_updates(kind: &ItemKind, payload: &[u8]) -> Result<Vec<SessionUpdate>, ItemError> {
    match kind {
        ItemKind::Session => session(payload).map(|update| vec![update]),
        ItemKind::Sessions => aggregates(payload),
        other => Err(ItemError::NotSessions(other.as_str().to_string())),
    }
}

/// `attrs` of both session items.
#[derive(Deserialize, Default)]
struct Attributes {
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    environment: Option<String>,
}

impl Attributes {
    /// Release and environment, or the error for a missing release.
    fn into_names(self, kind: &'static str) -> Result<(String, String), ItemError> {
        let release = self
            .release
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .ok_or(ItemError::MissingRelease { kind })?;
        Ok((release, self.environment.unwrap_or_default()))
    }
}

#[derive(Deserialize)]
struct RawSession {
    #[serde(default)]
    sid: Option<Value>,
    #[serde(default)]
    did: Option<Value>,
    #[serde(default)]
    init: bool,
    #[serde(default)]
    started: Option<Value>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    errors: u64,
    #[serde(default)]
    attrs: Attributes,
}

fn session(payload: &[u8]) -> Result<SessionUpdate, ItemError> {
    let kind = "session";
    let raw: RawSession =
        serde_json::from_slice(payload).map_err(|source| ItemError::Json { kind, source })?;
    let (release, environment) = raw.attrs.into_names(kind)?;
    let status = match raw.status.as_deref() {
        None => SessionStatus::Ok,
        Some(name) => SessionStatus::from_name(name)
            .ok_or_else(|| invalid(kind, format!("unknown status `{name}`")))?,
    };
    Ok(SessionUpdate {
        session_id: raw.sid.map(text).filter(|s| !s.is_empty()),
        distinct_id: raw.did.map(text).filter(|s| !s.is_empty()),
        started: started(kind, raw.started)?,
        release,
        environment,
        status,
        errors: u32::try_from(raw.errors).unwrap_or(u32::MAX),
        init: raw.init,
        quantity: 1,
    })
}

#[derive(Deserialize)]
struct RawAggregates {
    #[serde(default)]
    aggregates: Vec<RawAggregate>,
    #[serde(default)]
    attrs: Attributes,
}

#[derive(Deserialize)]
struct RawAggregate {
    #[serde(default)]
    started: Option<Value>,
    #[serde(default)]
    did: Option<Value>,
    #[serde(default)]
    exited: u32,
    #[serde(default)]
    errored: u32,
    #[serde(default)]
    abnormal: u32,
    #[serde(default)]
    crashed: u32,
}

fn aggregates(payload: &[u8]) -> Result<Vec<SessionUpdate>, ItemError> {
    let kind = "sessions";
    let raw: RawAggregates =
        serde_json::from_slice(payload).map_err(|source| ItemError::Json { kind, source })?;
    let (release, environment) = raw.attrs.into_names(kind)?;
    let mut updates = Vec::new();
    for row in raw.aggregates {
        let started = started(kind, row.started)?;
        let distinct_id = row.did.map(text).filter(|s| !s.is_empty());
        for (status, quantity, errors) in [
            (SessionStatus::Exited, row.exited, 0),
            (SessionStatus::Errored, row.errored, 1),
            (SessionStatus::Abnormal, row.abnormal, 1),
            (SessionStatus::Crashed, row.crashed, 1),
        ] {
            if quantity > 0 {
                updates.push(SessionUpdate {
                    session_id: None,
                    distinct_id: distinct_id.clone(),
                    started,
                    release: release.clone(),
                    environment: environment.clone(),
                    status,
                    errors,
                    init: true,
                    quantity,
                });
            }
        }
    }
    Ok(updates)
}

/// The required `started` of a session or aggregate row (RFC 3339; epoch
/// seconds are accepted too).
fn started(kind: &'static str, value: Option<Value>) -> Result<DateTime<Utc>, ItemError> {
    match value {
        None | Some(Value::Null) => Err(invalid(kind, "`started` is missing")),
        Some(v) => timestamp(&v)
            .ok_or_else(|| invalid(kind, format!("started: not a timestamp: {}", compact(&v)))),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use chrono::TimeZone;
    use sentry::protocol as sentry_protocol;
    use serde_json::json;

    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap()
    }

    fn bytes(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    #[test]
    fn a_session_of_the_rust_sdk() {
        let update = sentry_protocol::SessionUpdate {
            session_id: sentry_protocol::Uuid::nil(),
            distinct_id: Some("user-7".into()),
            sequence: Some(3),
            timestamp: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_060)),
            started: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            init: false,
            duration: Some(60.0),
            status: sentry_protocol::SessionStatus::Crashed,
            errors: 2,
            attributes: sentry_protocol::SessionAttributes {
                release: "app@1.0.0".into(),
                environment: Some("staging".into()),
                ip_address: None,
                user_agent: None,
            },
        };
        let payload = serde_json::to_vec(&update).unwrap();
        let updates = session_updates(&ItemKind::Session, &payload).unwrap();
        assert_eq!(
            updates,
            [SessionUpdate {
                session_id: Some("00000000-0000-0000-0000-000000000000".into()),
                distinct_id: Some("user-7".into()),
                started: at(1_700_000_000),
                release: "app@1.0.0".into(),
                environment: "staging".into(),
                status: SessionStatus::Crashed,
                errors: 2,
                init: false,
                quantity: 1,
            }]
        );
    }

    #[test]
    fn a_session_of_the_python_sdk() {
        let payload = bytes(json!({
            "sid": "5b2d4a3e9f2c4e8aa1b0c3d4e5f60718", "did": "42", "init": true,
            "started": "2026-01-02T03:04:05.123456Z", "timestamp": "2026-01-02T03:04:05.123456Z",
            "status": "ok", "errors": 0,
            "attrs": {"release": "web@3", "ip_address": "{{auto}}", "user_agent": "curl/8"},
        }));
        let update = &session_updates(&ItemKind::Session, &payload).unwrap()[0];
        assert_eq!(update.status, SessionStatus::Ok);
        assert!(update.init);
        assert_eq!(update.environment, "");
        assert_eq!(update.started.timestamp_micros() % 1_000_000, 123_456);
    }

    #[test]
    fn aggregates_become_one_update_per_outcome() {
        let aggregates = sentry_protocol::SessionAggregates {
            aggregates: vec![sentry_protocol::SessionAggregateItem {
                started: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
                distinct_id: None,
                exited: 3,
                errored: 0,
                abnormal: 0,
                crashed: 1,
            }],
            attributes: sentry_protocol::SessionAttributes {
                release: "api@9".into(),
                environment: Some("production".into()),
                ip_address: None,
                user_agent: None,
            },
        };
        let payload = serde_json::to_vec(&aggregates).unwrap();
        let updates = session_updates(&ItemKind::Sessions, &payload).unwrap();
        let summary: Vec<_> = updates
            .iter()
            .map(|u| (u.status, u.quantity, u.errors))
            .collect();
        assert_eq!(
            summary,
            [
                (SessionStatus::Exited, 3, 0),
                (SessionStatus::Crashed, 1, 1)
            ]
        );
        assert!(updates.iter().all(|u| u.init && u.session_id.is_none()));
        assert_eq!(updates[0].release, "api@9");
        assert_eq!(updates[0].started, at(1_700_000_000));
    }

    #[test]
    fn bad_sessions_say_what_is_wrong() {
        let err = |kind: ItemKind, value: Value| {
            session_updates(&kind, &bytes(value))
                .unwrap_err()
                .to_string()
        };
        let started = "2026-01-02T03:04:05Z";
        assert_eq!(
            err(ItemKind::Session, json!({"started": started, "attrs": {}})),
            "session item has no `attrs.release`; sessions without a release are dropped"
        );
        assert!(err(ItemKind::Sessions, json!({"aggregates": []})).contains("no `attrs.release`"));
        assert_eq!(
            err(
                ItemKind::Session,
                json!({"started": started, "status": "asleep", "attrs": {"release": "r"}})
            ),
            "session item: unknown status `asleep`"
        );
        assert_eq!(
            err(ItemKind::Session, json!({"attrs": {"release": "r"}})),
            "session item: `started` is missing"
        );
        assert!(err(
            ItemKind::Sessions,
            json!({"aggregates": [{"started": "soon", "exited": 1}], "attrs": {"release": "r"}})
        )
        .contains("started: not a timestamp"));
        assert_eq!(
            err(ItemKind::Event, json!({})),
            "`event` items carry no sessions"
        );
    }
}
