//! From an Elasticsearch document to a [`LogRecord`]. Shippers write the Elastic
//! Common Schema (ECS), whose fields nest (`{"log": {"level": "info"}}`) or come
//! as flat dotted keys (`{"log.level": "info"}`); the ECS spellings of the fields
//! Sightline indexes are moved to the names [`LogRecord::from_json`] reads, and
//! everything else stays an attribute. The bulk action's index is kept as the
//! attribute `index`.
//!
//! | ECS                           | Sightline  |
//! |-------------------------------|------------|
//! | `@timestamp`                  | `ts`       |
//! | `log.level`                   | `level`    |
//! | `message`                     | `message`  |
//! | `service.name`                | `service`  |
//! | `host.name` (`host.hostname`) | `host`     |
//! | `trace.id`, `span.id`         | `trace_id`, `span_id` |
//!
//! A field the document already carries under Sightline's own name wins over its
//! ECS spelling, which then stays an attribute.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::logs::record::{LogRecord, RecordError};

/// The names [`LogRecord::from_json`] reads a level from.
const LEVEL_NAMES: [&str; 3] = ["level", "severity", "lvl"];

/// Normalises one document of index `index`, received at `received`.
pub fn to_record(
    document: Value,
    index: &str,
    received: DateTime<Utc>,
) -> Result<LogRecord, RecordError> {
    let Value::Object(mut doc) = document else {
        return Err(RecordError(format!(
            "a document must be a JSON object, found {}",
            kind(&document)
        )));
    };
    if !LEVEL_NAMES.iter().any(|name| doc.contains_key(*name)) {
        promote(&mut doc, "log", "level", "level");
    }
    promote(&mut doc, "trace", "id", "trace_id");
    promote(&mut doc, "span", "id", "span_id");
    let service_rest = name_of_group(&mut doc, "service", &["name"]);
    let host_rest = name_of_group(&mut doc, "host", &["name", "hostname"]);
    // The document's own `index` field, if it has one, is data and wins.
    doc.entry("index")
        .or_insert_with(|| Value::String(index.to_owned()));

    let mut record = LogRecord::from_json(Value::Object(doc), received)?;
    let mut regrouped = false;
    for (group, rest) in [("service", service_rest), ("host", host_rest)] {
        if let Some(rest) = rest.filter(|rest| !rest.is_empty()) {
            record
                .attributes
                .map_mut()
                .entry(group)
                .or_insert(Value::Object(rest));
            regrouped = true;
        }
    }
    if regrouped {
        record.sanitise()?;
    }
    Ok(record)
}

/// Moves ECS's `<group>.<leaf>` to `target` unless the document has `target`.
fn promote(doc: &mut Map<String, Value>, group: &str, leaf: &str, target: &str) {
    if doc.contains_key(target) {
        return;
    }
    if let Some(value) = take_field(doc, group, leaf) {
        doc.insert(target.to_owned(), value);
    }
}

/// Removes and returns ECS's `<group>.<leaf>`: the flat dotted key, or the member
/// of the group object (dropping the object when it empties).
fn take_field(doc: &mut Map<String, Value>, group: &str, leaf: &str) -> Option<Value> {
    if let Some(value) = doc.remove(&format!("{group}.{leaf}")) {
        return Some(value);
    }
    let Some(Value::Object(members)) = doc.get_mut(group) else {
        return None;
    };
    let value = members.remove(leaf)?;
    if members.is_empty() {
        doc.remove(group);
    }
    Some(value)
}

/// For `service` and `host`, which ECS makes objects but Sightline reads as a
/// name: sets the plain field to the group's name (the first of `leaves` found)
/// and returns the group's other members, to be kept as an attribute once the
/// record is normalised (the normaliser would take the object itself for the
/// name). A plain string field is left alone.
fn name_of_group(
    doc: &mut Map<String, Value>,
    group: &str,
    leaves: &[&str],
) -> Option<Map<String, Value>> {
    if doc.get(group).is_some_and(|value| !value.is_object()) {
        return None;
    }
    let mut rest = match doc.remove(group) {
        Some(Value::Object(members)) => Some(members),
        _ => None,
    };
    let name = leaves.iter().find_map(|leaf| {
        doc.remove(&format!("{group}.{leaf}"))
            .or_else(|| rest.as_mut().and_then(|members| members.remove(*leaf)))
    });
    if let Some(name) = name {
        doc.insert(group.to_owned(), name);
    }
    rest
}

fn kind(value: &Value) -> &'static str {
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
mod tests {
    use serde_json::json;

    use super::*;
    use crate::logs::level::Level;

    fn record(document: Value) -> LogRecord {
        to_record(document, "logs-app", Utc::now()).unwrap()
    }

    #[test]
    fn nested_ecs_fields_are_mapped() {
        let r = record(json!({
            "@timestamp": "2026-11-26T10:00:00.123Z",
            "message": "disk almost full",
            "log": {"level": "warning", "file": {"path": "/var/log/app.log"}},
            "service": {"name": "api", "version": "1.2"},
            "host": {"name": "web-1", "os": {"family": "debian"}},
            "trace": {"id": "t-1"},
            "span": {"id": "s-1"},
        }));
        assert_eq!(r.ts.to_rfc3339(), "2026-11-26T10:00:00.123+00:00");
        assert_eq!(
            (
                r.level,
                r.message.as_str(),
                r.service.as_str(),
                r.host.as_str()
            ),
            (Level::Warn, "disk almost full", "api", "web-1")
        );
        assert_eq!(
            (r.trace_id.as_deref(), r.span_id.as_deref()),
            (Some("t-1"), Some("s-1"))
        );
        assert_eq!(
            r.attributes.to_value(),
            json!({
                "index": "logs-app",
                "log": {"file": {"path": "/var/log/app.log"}},
                "service": {"version": "1.2"},
                "host": {"os": {"family": "debian"}},
            })
        );
    }

    #[test]
    fn flat_dotted_ecs_fields_are_mapped() {
        let r = record(json!({
            "message": "m", "log.level": "ERROR", "service.name": "api",
            "host.hostname": "web-2", "trace.id": "t", "span.id": "s", "user.id": 7,
        }));
        assert_eq!(
            (r.level, r.service.as_str(), r.host.as_str()),
            (Level::Error, "api", "web-2")
        );
        assert_eq!(
            (r.trace_id.as_deref(), r.span_id.as_deref()),
            (Some("t"), Some("s"))
        );
        assert_eq!(
            r.attributes.to_value(),
            json!({"index": "logs-app", "user.id": 7})
        );
    }

    #[test]
    fn native_names_win_over_ecs() {
        let r = record(
            json!({"level": "debug", "log": {"level": "error"}, "service": "native",
            "service.name": "ecs", "index": 3}),
        );
        assert_eq!((r.level, r.service.as_str()), (Level::Debug, "native"));
        assert_eq!(
            r.attributes.to_value(),
            json!({"log": {"level": "error"}, "service.name": "ecs", "index": 3})
        );
    }

    #[test]
    fn host_name_wins_over_hostname_and_objects_without_name_stay() {
        let r = record(
            json!({"host": {"name": "a", "hostname": "b"}, "service": {"environment": "prod"}}),
        );
        assert_eq!((r.host.as_str(), r.service.as_str()), ("a", ""));
        assert_eq!(r.attributes.to_value()["host"], json!({"hostname": "b"}));
        assert_eq!(
            r.attributes.to_value()["service"],
            json!({"environment": "prod"})
        );
    }

    #[test]
    fn non_objects_and_bad_fields_are_refused() {
        let now = Utc::now();
        assert!(to_record(json!([1]), "i", now)
            .unwrap_err()
            .0
            .contains("an array"));
        assert!(to_record(json!({"log": {"level": "loud"}}), "i", now).is_err());
        assert!(to_record(json!({"@timestamp": "yesterday"}), "i", now).is_err());
    }
}
