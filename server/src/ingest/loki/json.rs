//! Loki's JSON push body:
//! `{"streams": [{"stream": {labels}, "values": [["<ns>", "<line>", {metadata}?], ...]}]}`.
//!
//! The body is read in one pass straight into records (serde seeds carry the
//! outcome down), so the entry limit stops a huge body early and no document
//! tree of the whole body is ever built. A body that is not JSON of this shape
//! is refused whole, as Loki does; within that shape, a bad timestamp, line or
//! label value refuses only its entry (or its stream).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{
    entry::{parse_nanos, StreamFields},
    labels, shorten, PushError, PushOutcome,
};

/// Reads a JSON push body into records, refusing more than `max_entries`.
pub fn decode(bytes: &[u8], max_entries: usize) -> Result<PushOutcome, PushError> {
    let mut state = Reading {
        outcome: PushOutcome::default(),
        entries: 0,
        max_entries,
        too_many: false,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let result = Push(&mut state)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    match result {
        Ok(()) => Ok(state.outcome),
        Err(_) if state.too_many => Err(PushError::TooLarge(format!(
            "more than {max_entries} entries in one push; split the batch"
        ))),
        Err(error) => Err(PushError::Malformed(format!(
            "body is not a Loki JSON push request: {error}"
        ))),
    }
}

/// What the seeds share while reading.
struct Reading {
    outcome: PushOutcome,
    entries: usize,
    max_entries: usize,
    /// Set when reading stopped at the entry limit (a 413, not a 400).
    too_many: bool,
}

/// One `values` item, before it is checked.
struct RawEntry {
    ts: Value,
    line: String,
    metadata: Map<String, Value>,
}

/// A stream's labels as read: the fields they name, or why they are refused;
/// and how the stream is named in messages.
struct StreamLabels {
    shown: String,
    fields: Result<StreamFields, String>,
}

impl StreamLabels {
    fn new(object: Map<String, Value>) -> Self {
        let mut pairs = Vec::with_capacity(object.len());
        let mut problem = None;
        for (name, value) in object {
            let value = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    problem.get_or_insert_with(|| {
                        format!("label `{name}` is not a string but {}", kind(&other))
                    });
                    continue;
                }
            };
            pairs.push((name, value));
        }
        let shown = labels::format(&pairs);
        StreamLabels {
            fields: match problem {
                Some(problem) => Err(problem),
                None => Ok(StreamFields::new(pairs)),
            },
            shown,
        }
    }

    fn add(&self, outcome: &mut PushOutcome, index: usize, entry: RawEntry) {
        match &self.fields {
            Ok(fields) => {
                let record = parse_nanos(&entry.ts).and_then(|ts| {
                    fields.record(ts, entry.line, entry.metadata.into_iter().collect())
                });
                outcome.add_entry(record, &self.shown, index);
            }
            Err(problem) => {
                outcome.refuse(1, || format!("stream {}: {problem}", shorten(&self.shown)));
            }
        }
    }
}

/// The top-level object: only `streams` matters.
struct Push<'a>(&'a mut Reading);

impl<'de> DeserializeSeed<'de> for Push<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Push<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"an object {"streams": [...]}"#)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "streams" {
                map.next_value_seed(Streams(&mut *self.0))?;
                seen = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if seen {
            Ok(())
        } else {
            Err(de::Error::missing_field("streams"))
        }
    }
}

/// The `streams` array.
struct Streams<'a>(&'a mut Reading);

impl<'de> DeserializeSeed<'de> for Streams<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Streams<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of streams")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Stream(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// One stream object. Its `values` may come before its `stream` labels; they
/// are then held until the labels are known.
struct Stream<'a>(&'a mut Reading);

impl<'de> DeserializeSeed<'de> for Stream<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Stream<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(r#"a stream {"stream": {labels}, "values": [...]}"#)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut labels: Option<StreamLabels> = None;
        let mut pending: Vec<RawEntry> = Vec::new();
        let mut next_index = 0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "stream" if labels.is_none() => {
                    labels = Some(StreamLabels::new(map.next_value()?));
                }
                "values" => map.next_value_seed(Values {
                    reading: &mut *self.0,
                    labels: labels.as_ref(),
                    pending: &mut pending,
                    next_index: &mut next_index,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !pending.is_empty() {
            let labels = labels.unwrap_or_else(|| StreamLabels::new(Map::new()));
            for (index, entry) in pending.into_iter().enumerate() {
                labels.add(&mut self.0.outcome, index, entry);
            }
        }
        Ok(())
    }
}

/// A stream's `values` array: each entry becomes a record at once when the
/// labels are known, or waits in `pending`.
struct Values<'a> {
    reading: &'a mut Reading,
    labels: Option<&'a StreamLabels>,
    pending: &'a mut Vec<RawEntry>,
    next_index: &'a mut usize,
}

impl<'de> DeserializeSeed<'de> for Values<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Values<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element_seed(EntrySeed)? {
            self.reading.entries += 1;
            if self.reading.entries > self.reading.max_entries {
                self.reading.too_many = true;
                return Err(de::Error::custom("too many entries"));
            }
            match self.labels {
                Some(labels) => labels.add(&mut self.reading.outcome, *self.next_index, entry),
                None => self.pending.push(entry),
            }
            *self.next_index += 1;
        }
        Ok(())
    }
}

/// One entry: `["<ns>", "<line>"]` or `["<ns>", "<line>", {metadata}]`.
struct EntrySeed;

impl<'de> DeserializeSeed<'de> for EntrySeed {
    type Value = RawEntry;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawEntry, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed {
    type Value = RawEntry;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            r#"an entry ["<unix epoch in nanoseconds>", "<log line>", {structured metadata}]"#,
        )
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawEntry, A::Error> {
        let ts: Value = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let line: String = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        let metadata: Map<String, Value> = seq
            .next_element::<Option<_>>()?
            .flatten()
            .unwrap_or_default();
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(4, &self));
        }
        Ok(RawEntry { ts, line, metadata })
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        _ => "a scalar",
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::logs::level::Level;

    fn read(body: Value) -> Result<PushOutcome, PushError> {
        decode(body.to_string().as_bytes(), 100)
    }

    #[test]
    fn streams_values_and_metadata_become_records() {
        let outcome = read(json!({"streams": [
            {"stream": {"service_name": "api", "level": "warn"},
             "values": [["1764151200000000001", "one"], ["1764151200000000002", "{\"a\":1}", {"trace_id": "t"}]]},
            {"values": [["5", "labels later"]], "stream": {"job": "cron"}},
        ]}))
        .unwrap();
        assert_eq!(outcome.refused, 0);
        let r = &outcome.records;
        assert_eq!(r.len(), 3);
        assert_eq!((r[0].service.as_str(), r[0].level), ("api", Level::Warn));
        assert_eq!(r[0].ts, Utc.timestamp_nanos(1_764_151_200_000_000_001));
        assert_eq!(r[1].message, "{\"a\":1}");
        assert_eq!(r[1].trace_id.as_deref(), Some("t"));
        assert_eq!(
            (r[2].service.as_str(), r[2].message.as_str()),
            ("cron", "labels later")
        );
    }

    #[test]
    fn bad_entries_are_refused_one_by_one() {
        let outcome = read(json!({"streams": [
            {"stream": {"app": "a"}, "values": [["yesterday", "x"], ["1", "ok"], [-3, "y"]]},
            {"stream": {"app": {"nested": true}}, "values": [["1", "z"]]},
        ]}))
        .unwrap();
        assert_eq!((outcome.records.len(), outcome.refused), (1, 3));
        let first = outcome.first_refusal.unwrap_or_default();
        assert!(
            first.contains("entry 0") && first.contains("\"yesterday\""),
            "{first}"
        );
    }

    #[test]
    fn bodies_of_another_shape_are_refused_whole() {
        for body in [
            &b"not json"[..],
            b"[]",
            b"{}",
            br#"{"streams": {}}"#,
            br#"{"streams": [{"values": [["1"]]}]}"#,
            br#"{"streams": [{"values": [["1", 2]]}]}"#,
            br#"{"streams": [{"values": [["1", "a", {}, 4]]}]}"#,
            br#"{"streams": [{"stream": "app", "values": []}]}"#,
            br#"{"streams": []} trailing"#,
        ] {
            assert!(
                matches!(decode(body, 100), Err(PushError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(read(json!({"streams": []})).map(|o| o.records.len()), Ok(0));
    }

    #[test]
    fn the_entry_limit_is_a_413() {
        let values: Vec<Value> = (0..101).map(|i| json!([i.to_string(), "x"])).collect();
        assert!(matches!(
            read(json!({"streams": [{"stream": {}, "values": values}]})),
            Err(PushError::TooLarge(_))
        ));
    }
}
