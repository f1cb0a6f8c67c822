//! [`LogRecord`]: one log line as every protocol adapter hands it to the batch
//! writer, and [`LogRecord::from_json`], the normalisation of a JSON log object
//! (field aliases, timestamps in any common form, level names and numbers).
//!
//! [`LogRecord::from_json_line`] is the same normalisation for a line's JSON text,
//! with a fast path for the common line: its attributes are kept as the JSON text
//! they came in ([`Attributes::Json`]) instead of being parsed into a map and
//! written out again, which measured a third of the CPU Sightline spends on a line.

use std::{borrow::Cow, fmt};

use chrono::{DateTime, Utc};
use serde::{de, Deserialize, Deserializer};
use serde_json::{value::RawValue, Map, Value};

use super::level::Level;
pub use crate::pipeline::clock::parse_timestamp;

/// Longest message, in characters (as JSON Schema's `maxLength` counts them);
/// a record with a longer one is refused.
pub const MAX_MESSAGE_CHARS: usize = 64 * 1024;
/// Most attribute values (leaves) one record may carry.
pub const MAX_ATTRIBUTES: usize = 256;
/// Deepest nesting of attribute objects and arrays.
pub const MAX_ATTRIBUTE_DEPTH: usize = 8;
/// Longest service, host, trace or span id, in characters.
pub const MAX_NAME_CHARS: usize = 512;

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
    pub attributes: Attributes,
}

/// A record's attributes: a map, as adapters build them, or the JSON text of a
/// line's other fields as it came ([`LogRecord::from_json_line`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Attributes {
    Map(Map<String, Value>),
    Json(StorableJson),
}

/// A JSON object's text that PostgreSQL's `jsonb` accepts, that `serde_json`
/// parses, and that is within the attribute limits; made only by
/// [`StorableJson::from_fields`], which checks all three.
#[derive(Debug, Clone, PartialEq)]
pub struct StorableJson(String);

impl Default for Attributes {
    fn default() -> Self {
        Attributes::Map(Map::new())
    }
}

impl From<Map<String, Value>> for Attributes {
    fn from(map: Map<String, Value>) -> Self {
        Attributes::Map(map)
    }
}

impl Attributes {
    /// The attributes as a map to add to or change (parses the JSON form once;
    /// [`StorableJson`] always parses, so nothing is lost).
    pub fn map_mut(&mut self) -> &mut Map<String, Value> {
        if let Attributes::Json(json) = self {
            *self = Attributes::Map(serde_json::from_str(&json.0).unwrap_or_default());
        }
        match self {
            Attributes::Map(map) => map,
            Attributes::Json(_) => unreachable!("replaced by a map just above"),
        }
    }

    /// The attributes as one JSON object.
    pub fn to_value(&self) -> Value {
        match self {
            Attributes::Map(map) => Value::Object(map.clone()),
            Attributes::Json(json) => serde_json::from_str(&json.0).unwrap_or_default(),
        }
    }

    /// The attributes as JSON text, for the `attributes` column.
    pub fn as_json(&self) -> Cow<'_, str> {
        match self {
            Attributes::Map(map) => {
                Cow::Owned(serde_json::to_string(map).unwrap_or_else(|_| "{}".into()))
            }
            Attributes::Json(json) => Cow::Borrowed(&json.0),
        }
    }

    /// Roughly the memory they take, for the queue's accounting.
    pub fn estimated_bytes(&self) -> usize {
        match self {
            Attributes::Map(map) => map.len() * 48,
            Attributes::Json(json) => json.0.len(),
        }
    }
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
            attributes: Attributes::default(),
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
        let known = Known::take(|names| take_first(&mut object, names));
        known.into_record(Attributes::Map(object), received)
    }

    /// [`LogRecord::from_json`] of a line's JSON text, with the same result. Lines
    /// whose other fields can be stored as they are (no `\u` escapes or exponents,
    /// comfortably within the limits: the common case) keep them as text.
    pub fn from_json_line(line: &[u8], received: DateTime<Utc>) -> Result<Self, RecordError> {
        if let Some(record) = Self::from_plain_json(line, received) {
            return record;
        }
        let value = serde_json::from_slice(line)
            .map_err(|error| RecordError(format!("invalid JSON: {error}")))?;
        Self::from_json(value, received)
    }

    /// The fast path of [`LogRecord::from_json_line`]; `None` means "take the
    /// careful path", never that the line is bad.
    fn from_plain_json(line: &[u8], received: DateTime<Utc>) -> Option<Result<Self, RecordError>> {
        // UTF-8 checked once for the line, not again for every string in it.
        let text = std::str::from_utf8(line).ok()?;
        let Fields(mut fields) = serde_json::from_str(text).ok()?;
        let mut unreadable = false;
        let known = Known::take(|names| {
            let (name, raw) = take_raw(&mut fields, names)?;
            match serde_json::from_str(raw.get()) {
                Ok(value) => Some((name, value)),
                Err(_) => {
                    unreadable = true; // a number out of range: the careful path says so
                    None
                }
            }
        });
        if unreadable {
            return None;
        }
        let attributes = StorableJson::from_fields(&fields)?;
        Some(known.into_record(Attributes::Json(attributes), received))
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
        // One rule for every protocol: a record over a limit is refused, and
        // each protocol reports it in its own way (native `errors`, `_bulk`
        // item errors, OTLP `partialSuccess`); it is never cut silently.
        if longer_than(&self.message, MAX_MESSAGE_CHARS) {
            return Err(RecordError(format!(
                "message: longer than {MAX_MESSAGE_CHARS} characters ({} bytes)",
                self.message.len()
            )));
        }
        for (name, field) in [("service", &mut self.service), ("host", &mut self.host)] {
            strip_nul(field);
            if longer_than(field, MAX_NAME_CHARS) {
                return Err(RecordError(format!(
                    "{name}: longer than {MAX_NAME_CHARS} characters"
                )));
            }
        }
        for (name, field) in [
            ("trace_id", &mut self.trace_id),
            ("span_id", &mut self.span_id),
        ] {
            if let Some(id) = field {
                strip_nul(id);
                if longer_than(id, MAX_NAME_CHARS) {
                    return Err(RecordError(format!(
                        "{name}: longer than {MAX_NAME_CHARS} characters"
                    )));
                }
                if id.is_empty() {
                    *field = None;
                }
            }
        }
        // The JSON form was checked when it was made.
        let Attributes::Map(attributes) = &mut self.attributes else {
            return Ok(());
        };
        let mut leaves = 0;
        // Keys with NUL are rare: rebuild the map only when there is one.
        if attributes.keys().any(|k| k.contains('\0')) {
            *attributes = std::mem::take(attributes)
                .into_iter()
                .map(|(mut key, value)| {
                    strip_nul(&mut key);
                    (key, value)
                })
                .collect();
        }
        for value in attributes.values_mut() {
            sanitise_value(value, 1, &mut leaves)?;
        }
        Ok(())
    }
}

/// Whether `text` has more than `max` characters; counted only when its bytes
/// say it might.
fn longer_than(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().count() > max
}

const TIMESTAMP_FIELDS: &[&str] = &["ts", "timestamp", "time", "@timestamp"];
const LEVEL_FIELDS: &[&str] = &["level", "severity", "lvl"];
const MESSAGE_FIELDS: &[&str] = &["message", "msg"];

/// The recognised fields of a log object, taken out of it (the rest are its
/// attributes), each with the name it had.
struct Known {
    ts: Option<(&'static str, Value)>,
    level: Option<(&'static str, Value)>,
    message: Option<Value>,
    service: Option<Value>,
    host: Option<Value>,
    trace_id: Option<Value>,
    span_id: Option<Value>,
}

impl Known {
    /// `take(aliases)` removes the first of `aliases` the object has and returns
    /// its name and value.
    fn take(mut take: impl FnMut(&[&'static str]) -> Option<(&'static str, Value)>) -> Known {
        let ts = take(TIMESTAMP_FIELDS);
        let level = take(LEVEL_FIELDS);
        let mut value = |names: &[&'static str]| take(names).map(|(_, value)| value);
        Known {
            ts,
            level,
            message: value(MESSAGE_FIELDS),
            service: value(&["service"]),
            host: value(&["host"]),
            trace_id: value(&["trace_id"]),
            span_id: value(&["span_id"]),
        }
    }

    fn into_record(
        self,
        mut attributes: Attributes,
        received: DateTime<Utc>,
    ) -> Result<LogRecord, RecordError> {
        let ts = match self.ts {
            Some((name, v)) => parse_timestamp(&v)
                .ok_or_else(|| RecordError(format!("{name}: not a timestamp: {}", preview(&v))))?,
            None => received,
        };
        let level = match self.level {
            Some((name, v)) => parse_level(&v)
                .ok_or_else(|| RecordError(format!("{name}: not a log level: {}", preview(&v))))?,
            None => Level::Info,
        };
        let service = name_or_attribute("service", self.service, &mut attributes);
        let host = name_or_attribute("host", self.host, &mut attributes);
        let trace_id = name_or_attribute("trace_id", self.trace_id, &mut attributes);
        let span_id = name_or_attribute("span_id", self.span_id, &mut attributes);
        let mut record = LogRecord {
            ts,
            level,
            service: service.unwrap_or_default(),
            host: host.unwrap_or_default(),
            message: self.message.map(text_of).unwrap_or_default(),
            trace_id,
            span_id,
            attributes,
        };
        record.sanitise()?;
        Ok(record)
    }
}

/// The top-level fields of a JSON object in order, borrowed from its text. Keys
/// with escapes cannot be borrowed and fail (the careful path takes those).
struct Fields<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> de::Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
                let mut fields = Vec::with_capacity(16);
                while let Some(field) = map.next_entry()? {
                    fields.push(field);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

/// Removes the first of `names` present, and returns its last value (as a map
/// would keep it) with the name.
fn take_raw<'a>(
    fields: &mut Vec<(&'a str, &'a RawValue)>,
    names: &[&'static str],
) -> Option<(&'static str, &'a RawValue)> {
    names.iter().find_map(|name| {
        let last = fields.iter().rposition(|(key, _)| key == name)?;
        let value = fields[last].1;
        fields.retain(|(key, _)| key != name);
        Some((*name, value))
    })
}

/// Deepest bracket nesting kept as text: values inside it are at most
/// [`MAX_ATTRIBUTE_DEPTH`] deep as [`LogRecord::sanitise`] counts.
const MAX_NESTING_AS_TEXT: usize = MAX_ATTRIBUTE_DEPTH - 1;
/// Longest run of digits kept as text: an `f64` ends near 10^308, and numbers
/// beyond it are refused by `serde_json`, so the careful path decides those.
const MAX_DIGITS_AS_TEXT: usize = 300;
/// Largest attribute number stored as a number (see `sanitise_value`).
const MAX_STORED_NUMBER: f64 = 1e300;

impl StorableJson {
    /// The object of `fields`, if every value can be stored as it is; `None`
    /// sends the line down the careful path, which decides exactly.
    fn from_fields(fields: &[(&str, &RawValue)]) -> Option<StorableJson> {
        let size: usize = fields
            .iter()
            .map(|(k, v)| k.len() + v.get().len() + 4)
            .sum();
        let mut text = String::with_capacity(size + 2);
        let mut leaves = 0;
        text.push('{');
        for (i, (key, value)) in fields.iter().enumerate() {
            if !storable_as_is(value.get(), &mut leaves) {
                return None;
            }
            if i > 0 {
                text.push(',');
            }
            // A borrowed key has no escapes, so it needs none here.
            text.push('"');
            text.push_str(key);
            text.push_str("\":");
            text.push_str(value.get());
        }
        text.push('}');
        Some(StorableJson(text))
    }
}

/// Whether a JSON value's text (valid JSON: serde_json checked it) can be stored
/// as it is, and reads the same as through a `serde_json::Value`. It may not
/// contain `\u` escapes (NUL and lone surrogates, which `jsonb` refuses, can only
/// come that way), exponents or runs of more than [`MAX_DIGITS_AS_TEXT`] digits
/// (which `serde_json` may refuse as out of range), nesting deeper than
/// [`MAX_NESTING_AS_TEXT`], or, with the values before it, more than
/// [`MAX_ATTRIBUTES`] leaf values (keys are counted too: an overestimate).
fn storable_as_is(text: &str, leaves: &mut usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut digits = 0usize;
    let mut previous = b' ';
    for &b in text.as_bytes() {
        if in_string {
            if escaped {
                if b == b'u' {
                    return false;
                }
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                *leaves += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING_AS_TEXT {
                    return false;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'e' | b'E' if previous.is_ascii_digit() || previous == b'.' => return false,
            // The first character of a number, `true`, `false` or `null`.
            b'-' | b't' | b'f' | b'n' => *leaves += 1,
            b'0'..=b'9' if !(previous.is_ascii_digit() || matches!(previous, b'.' | b'-')) => {
                *leaves += 1
            }
            _ => {}
        }
        if b.is_ascii_digit() {
            digits += 1;
            if digits > MAX_DIGITS_AS_TEXT {
                return false;
            }
        } else {
            digits = 0;
        }
        previous = b;
    }
    *leaves <= MAX_ATTRIBUTES
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
        // PostgreSQL keeps a number exactly and writes it back without an
        // exponent: 1.7976931348623157e308 comes back as 309 digits that
        // serde_json cannot read, and every search over the line would fail.
        // Numbers that large are kept as their text instead.
        Value::Number(n) if n.as_f64().is_some_and(|f| f.abs() > MAX_STORED_NUMBER) => {
            *value = Value::String(n.to_string());
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
    s.truncate(s.floor_char_boundary(max));
}

fn take_first(
    object: &mut Map<String, Value>,
    names: &[&'static str],
) -> Option<(&'static str, Value)> {
    names
        .iter()
        .find_map(|name| object.remove(*name).map(|v| (*name, v)))
}

fn non_null_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        other => Some(text_of(other)),
    }
}

/// The text of a name field (`service`, `host`, `trace_id`, `span_id`): a
/// string as it is, a number or boolean as its text. An object or array names
/// nothing (`{"host": {"os": ...}}`): it stays an attribute under the field's
/// name, as the Elasticsearch adapter keeps ECS objects without a name.
fn name_or_attribute(
    field: &str,
    value: Option<Value>,
    attributes: &mut Attributes,
) -> Option<String> {
    match value {
        Some(value @ (Value::Object(_) | Value::Array(_))) => {
            attributes.map_mut().insert(field.to_string(), value);
            None
        }
        other => other.and_then(non_null_text),
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
        // `3.0` is the number 3 in JSON.
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .and_then(Level::from_number),
        _ => None,
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

fn preview(value: &Value) -> String {
    let mut text = value.to_string();
    truncate_utf8(&mut text, 64);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
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
        assert_eq!(r.attributes.to_value(), json!({"http": {"status": 507}}));
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
        // Past 2262, where nanoseconds leave an i64, every other unit still reads.
        let later = Utc.with_ymd_and_hms(2512, 6, 1, 0, 0, 0).single().unwrap();
        let s = later.timestamp();
        for value in [json!(s), json!(s * 1000), json!((s * 1_000_000) as f64)] {
            let r = LogRecord::from_json(json!({"ts": value, "message": "x"}), now()).unwrap();
            assert_eq!(r.ts, later, "{value}");
        }
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
    fn nul_characters_are_removed_and_huge_messages_refused() {
        let r = LogRecord::from_json(json!({"message": "x\u{0}y", "a\u{0}b": "c\u{0}d"}), now())
            .unwrap();
        assert_eq!(r.message, "xy");
        assert_eq!(r.attributes.to_value()["ab"], json!("cd"));
        let long = "é".repeat(MAX_MESSAGE_CHARS);
        assert!(LogRecord::from_json(json!({ "message": long }), now()).is_ok());
        let long = "é".repeat(MAX_MESSAGE_CHARS + 1);
        let refused = LogRecord::from_json(json!({ "message": long }), now()).unwrap_err();
        assert!(
            refused.0.contains("message: longer than 65536 characters"),
            "{}",
            refused.0
        );
    }

    /// `from_json_line` gives what `from_json` of the parsed line gives, and
    /// whether it kept the attributes as text.
    fn line(text: &str) -> (Result<LogRecord, RecordError>, bool) {
        let fast = LogRecord::from_json_line(text.as_bytes(), now());
        let careful = serde_json::from_str::<Value>(text)
            .map_err(|e| RecordError(format!("invalid JSON: {e}")))
            .and_then(|v| LogRecord::from_json(v, now()));
        let as_text = matches!(&fast, Ok(r) if matches!(r.attributes, Attributes::Json(_)));
        let normalise = |r: Result<LogRecord, RecordError>| {
            r.map(|mut r| {
                r.attributes = Attributes::Map(match r.attributes.to_value() {
                    Value::Object(map) => map,
                    _ => Map::new(),
                });
                r
            })
        };
        let fast = normalise(fast);
        assert_eq!(fast, normalise(careful), "{text}");
        (fast, as_text)
    }

    #[test]
    fn lines_as_text_read_the_same_as_parsed_lines() {
        for text in [
            r#"{"ts":1764151200123,"level":"warn","service":"api","host":"web-1","message":"slow","http.status":503,"user":{"id":42,"tags":["a","b"]},"ok":true,"none":null,"ratio":-0.25}"#,
            // Aliases: the first name present wins, the others stay attributes.
            r#"{"time":"2026-11-26T10:00:00Z","ts":1764151200,"msg":"m","message":"wins","lvl":3,"severity":"error"}"#,
            // A repeated key: the last one counts, as in a map.
            r#"{"service":"a","service":"b","k":1,"k":2}"#,
            r#"{"service":null,"host":7,"trace_id":"","span_id":"s1","message":{"b":1,"a":[2]}}"#,
            r#"{ "message" : "spaced" , "n" : [ 1 , 2 ] }"#,
            r#"{}"#,
            // Taken by the careful path, and still the same.
            r#"{"message":"x","note":"caf\u00e9"}"#,
            r#"{"message":"x","big":1e400}"#,
            r#"{"message":"x","small":2.5E-3}"#,
            r#"{"message":"x","bad":"a\u0000b","ke\u0000y":1}"#,
            r#"{"message":"x","lone":"\ud800"}"#,
            r#"{"ts":1e400}"#,
            r#"{"m\u0065ssage":"escaped key"}"#,
            r#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}"#,
            r#"{"a":[[[[[[[[1]]]]]]]]}"#,
            r#"{"a":[[[[[[[[[1]]]]]]]]]}"#,
            // Bad lines: the same refusal.
            r#"{"ts":"yesterday"}"#,
            r#"{"level":"loud"}"#,
            r#"[1,2]"#,
            r#"42"#,
            r#"{"message": "#,
            "{\"message\":\"raw\ncontrol\"}",
        ] {
            let _ = line(text); // asserts that both paths agree
        }
        assert!(line(r#"{"message":"m","a":{"b":[1,"x",null]},"c":-1.5}"#).1);
        assert!(
            line(r#"{"a":[[[[[[[1]]]]]]]}"#).1,
            "7 brackets deep is kept as text"
        );
        assert!(!line(r#"{"a":[[[[[[[[1]]]]]]]]}"#).1);
        assert!(!line(r#"{"note":"caf\u00e9"}"#).1);
        assert!(!line(r#"{"x":12e3}"#).1);
        // Beyond an f64 serde_json refuses the number, so both paths refuse it.
        let big = |digits: usize| format!(r#"{{"message":"m","big":1{}}}"#, "0".repeat(digits));
        assert!(line(&big(299)).1);
        assert!(line(&big(309)).0.is_err());
        let not_utf8 = b"{\"message\":\"\xff\"}";
        let error = LogRecord::from_json_line(not_utf8, now()).unwrap_err().0;
        assert!(
            error.starts_with("invalid JSON: invalid unicode"),
            "{error}"
        );
    }

    #[test]
    fn many_attribute_values_are_counted_either_way() {
        for n in [100, 255, 256, 257, 300] {
            let values: Vec<String> = (0..n).map(|i| i.to_string()).collect();
            let text = format!(r#"{{"message":"m","list":[{}]}}"#, values.join(","));
            let (record, as_text) = line(&text);
            assert_eq!(record.is_ok(), n <= MAX_ATTRIBUTES, "{n}");
            assert_eq!(as_text, n <= MAX_ATTRIBUTES, "{n}");
            let object: Vec<String> = (0..n).map(|i| format!(r#""k{i}":{i}"#)).collect();
            let (record, _) = line(&format!("{{{}}}", object.join(",")));
            assert_eq!(record.is_ok(), n <= MAX_ATTRIBUTES, "{n}");
        }
    }
}
