//! [`LogRecord`]: one log line as every protocol adapter hands it to the batch
//! writer, and [`LogRecord::from_json`], the normalisation of a JSON log object
//! (field aliases, timestamps in any common form, level names and numbers).

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::level::Level;

/// Longest message kept, in bytes; longer messages are cut at a character boundary.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Most attribute values (leaves) one record may carry.
pub const MAX_ATTRIBUTES: usize = 256;
/// Deepest nesting of attribute objects and arrays.
pub const MAX_ATTRIBUTE_DEPTH: usize = 8;
/// Longest service, host, trace or span id.
pub const MAX_NAME_BYTES: usize = 512;

/// A normalised log line, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub ts: DateTime<Utc>,
    pub level: Level,
    pub service: String,
    pub host: String,
    pub message: String,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// Every other field, nested objects kept as they came.
    pub attributes: Map<String, Value>,
}

/// Why one record was refused (the rest of its batch is still stored).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(pub String);

impl LogRecord {
    /// A record with only a message, at `info`, timestamped `ts`.
    pub fn new(ts: DateTime<Utc>, message: impl Into<String>) -> Self {
        LogRecord {
            ts,
            level: Level::Info,
            service: String::new(),
            host: String::new(),
            message: message.into(),
            trace_id: None,
            span_id: None,
            attributes: Map::new(),
        }
    }

    /// Normalises a JSON log object. `received` stands in for a missing timestamp.
    ///
    /// Recognised fields: `ts`/`timestamp`/`time`/`@timestamp` (RFC 3339, or epoch
    /// seconds, milliseconds, microseconds or nanoseconds, as numbers or strings),
    /// `level`/`severity`/`lvl` (names or numbers), `message`/`msg`, `service`,
    /// `host`, `trace_id`, `span_id`. Everything else becomes an attribute.
    pub fn from_json(value: Value, received: DateTime<Utc>) -> Result<Self, RecordError> {
        let Value::Object(mut object) = value else {
            return Err(RecordError(format!(
                "expected a JSON object, found {}",
                json_kind(&value)
            )));
        };
        let ts = match take_first(&mut object, &["ts", "timestamp", "time", "@timestamp"]) {
            Some((name, v)) => parse_timestamp(&v)
                .ok_or_else(|| RecordError(format!("{name}: not a timestamp: {}", preview(&v))))?,
            None => received,
        };
        let level = match take_first(&mut object, &["level", "severity", "lvl"]) {
            Some((name, v)) => parse_level(&v)
                .ok_or_else(|| RecordError(format!("{name}: not a log level: {}", preview(&v))))?,
            None => Level::Info,
        };
        let message = take_first(&mut object, &["message", "msg"])
            .map(|(_, v)| text_of(v))
            .unwrap_or_default();
        let mut record = LogRecord {
            ts,
            level,
            service: take_text(&mut object, "service").unwrap_or_default(),
            host: take_text(&mut object, "host").unwrap_or_default(),
            message,
            trace_id: take_text(&mut object, "trace_id"),
            span_id: take_text(&mut object, "span_id"),
            attributes: object,
        };
        record.sanitise()?;
        Ok(record)
    }

    /// Enforces the limits and removes what PostgreSQL cannot store (NUL
    /// characters), so that a record that passed never fails its batch's COPY.
    pub fn sanitise(&mut self) -> Result<(), RecordError> {
        if !(1970..=9999).contains(&chrono::Datelike::year(&self.ts)) {
            return Err(RecordError(format!(
                "timestamp {} is outside 1970–9999",
                self.ts.to_rfc3339()
            )));
        }
        strip_nul(&mut self.message);
        truncate_utf8(&mut self.message, MAX_MESSAGE_BYTES);
        for (name, field) in [("service", &mut self.service), ("host", &mut self.host)] {
            strip_nul(field);
            if field.len() > MAX_NAME_BYTES {
                return Err(RecordError(format!(
                    "{name}: longer than {MAX_NAME_BYTES} bytes"
                )));
            }
        }
        for (name, field) in [
            ("trace_id", &mut self.trace_id),
            ("span_id", &mut self.span_id),
        ] {
            if let Some(id) = field {
                strip_nul(id);
                if id.len() > MAX_NAME_BYTES {
                    return Err(RecordError(format!(
                        "{name}: longer than {MAX_NAME_BYTES} bytes"
                    )));
                }
                if id.is_empty() {
                    *field = None;
                }
            }
        }
        let mut leaves = 0;
        // Keys with NUL are rare: rebuild the map only when there is one.
        if self.attributes.keys().any(|k| k.contains('\0')) {
            self.attributes = std::mem::take(&mut self.attributes)
                .into_iter()
                .map(|(mut key, value)| {
                    strip_nul(&mut key);
                    (key, value)
                })
                .collect();
        }
        for value in self.attributes.values_mut() {
            sanitise_value(value, 1, &mut leaves)?;
        }
        Ok(())
    }
}

fn sanitise_value(value: &mut Value, depth: usize, leaves: &mut usize) -> Result<(), RecordError> {
    if depth > MAX_ATTRIBUTE_DEPTH {
        return Err(RecordError(format!(
            "attributes nest deeper than {MAX_ATTRIBUTE_DEPTH} levels"
        )));
    }
    match value {
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(mut key, v)| {
                        strip_nul(&mut key);
                        (key, v)
                    })
                    .collect();
            }
            for v in map.values_mut() {
                sanitise_value(v, depth + 1, leaves)?;
            }
        }
        Value::Array(items) => {
            for v in items {
                sanitise_value(v, depth + 1, leaves)?;
            }
        }
        Value::String(s) => {
            strip_nul(s);
            *leaves += 1;
        }
        _ => *leaves += 1,
    }
    if *leaves > MAX_ATTRIBUTES {
        return Err(RecordError(format!(
            "more than {MAX_ATTRIBUTES} attribute values"
        )));
    }
    Ok(())
}

fn strip_nul(s: &mut String) {
    if s.contains('\0') {
        s.retain(|c| c != '\0');
    }
}

fn truncate_utf8(s: &mut String, max: usize) {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
}

fn take_first(
    object: &mut Map<String, Value>,
    names: &[&'static str],
) -> Option<(&'static str, Value)> {
    names
        .iter()
        .find_map(|name| object.remove(*name).map(|v| (*name, v)))
}

fn take_text(object: &mut Map<String, Value>, name: &str) -> Option<String> {
    match object.remove(name)? {
        Value::Null => None,
        other => Some(text_of(other)),
    }
}

/// A JSON value as text: strings as they are, anything else as JSON.
fn text_of(value: Value) -> String {
    match value {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn parse_level(value: &Value) -> Option<Level> {
    match value {
        Value::String(s) => {
            Level::from_name(s).or_else(|| s.trim().parse().ok().and_then(Level::from_number))
        }
        Value::Number(n) => n.as_i64().and_then(Level::from_number),
        _ => None,
    }
}

/// RFC 3339 (or the same with a space, or without a zone: UTC), or an epoch
/// number whose magnitude says its unit.
pub fn parse_timestamp(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => n.as_f64().and_then(from_epoch),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(t.with_timezone(&Utc));
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(&s.replacen(' ', "T", 1)) {
                return Some(t.with_timezone(&Utc));
            }
            for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
                if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
                    return Some(t.and_utc());
                }
            }
            s.parse::<f64>().ok().and_then(from_epoch)
        }
        _ => None,
    }
}

/// Seconds below 10^11, milliseconds below 10^14, microseconds below 10^17,
/// nanoseconds above.
fn from_epoch(n: f64) -> Option<DateTime<Utc>> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let nanos = if n < 1e11 {
        n * 1e9
    } else if n < 1e14 {
        n * 1e6
    } else if n < 1e17 {
        n * 1e3
    } else {
        n
    };
    if nanos > i64::MAX as f64 {
        return None;
    }
    Some(Utc.timestamp_nanos(nanos as i64))
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

fn preview(value: &Value) -> String {
    let mut text = value.to_string();
    truncate_utf8(&mut text, 64);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn known_fields_are_promoted_and_the_rest_kept() {
        let r = LogRecord::from_json(
            json!({"ts": "2026-11-26T10:00:00.5Z", "severity": "WARNING", "msg": "disk full",
                   "service": "api", "host": "web-1", "trace_id": "abc", "http": {"status": 507}}),
            now(),
        )
        .unwrap();
        assert_eq!(r.ts.to_rfc3339(), "2026-11-26T10:00:00.500+00:00");
        assert_eq!(r.level, Level::Warn);
        assert_eq!(r.message, "disk full");
        assert_eq!((r.service.as_str(), r.host.as_str()), ("api", "web-1"));
        assert_eq!(r.trace_id.as_deref(), Some("abc"));
        assert_eq!(
            r.attributes,
            json!({"http": {"status": 507}})
                .as_object()
                .cloned()
                .unwrap()
        );
    }

    #[test]
    fn epoch_timestamps_in_every_unit() {
        let expected = Utc
            .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
            .single()
            .unwrap();
        let s = expected.timestamp();
        for value in [
            json!(s),
            json!(s * 1000),
            json!(s * 1_000_000),
            json!(s * 1_000_000_000),
            json!(s.to_string()),
        ] {
            let r = LogRecord::from_json(json!({"time": value, "message": "x"}), now()).unwrap();
            assert_eq!(r.ts, expected, "{value}");
        }
        let missing = LogRecord::from_json(json!({"message": "x"}), now()).unwrap();
        assert_eq!(missing.ts, now());
    }

    #[test]
    fn bad_records_say_what_is_wrong() {
        let err = |v: Value| LogRecord::from_json(v, now()).unwrap_err().0;
        assert!(err(json!(42)).contains("expected a JSON object"));
        assert!(err(json!({"ts": "yesterday"})).contains("ts: not a timestamp"));
        assert!(err(json!({"level": "loud"})).contains("level: not a log level"));
        let mut deep = json!(1);
        for _ in 0..10 {
            deep = json!({"a": deep});
        }
        assert!(err(json!({"deep": deep})).contains("nest deeper"));
        let many: Map<String, Value> = (0..300).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(err(Value::Object(many)).contains("attribute values"));
    }

    #[test]
    fn nul_characters_and_huge_messages_are_made_storable() {
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let r =
            LogRecord::from_json(json!({"message": long, "a\u{0}b": "c\u{0}d"}), now()).unwrap();
        assert!(r.message.len() <= MAX_MESSAGE_BYTES);
        assert_eq!(r.attributes.get("ab"), Some(&json!("cd")));
    }
}
