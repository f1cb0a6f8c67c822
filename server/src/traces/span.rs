//! [`SpanRecord`]: one span as stored, whichever protocol brought it, with the
//! status vocabulary every protocol is mapped onto ([`SpanStatus`], Sentry's) and
//! the rules every span passes before it is queued ([`SpanRecord::sanitise`]):
//! ids are lowercase hex, times are plausible, text is capped and free of the NUL
//! characters PostgreSQL cannot store, so a span that passed never fails its
//! batch's `COPY`.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};
use serde_json::{Map, Value};

pub use crate::pipeline::ids::hex_id;

/// Longest span name (description) and transaction name, in bytes.
pub const MAX_NAME_BYTES: usize = 2048;
/// Longest op, service, environment and release, in bytes.
pub const MAX_LABEL_BYTES: usize = 256;
/// Longest string inside `tags` or `data`; longer ones are cut.
pub const MAX_VALUE_BYTES: usize = 8 * 1024;
/// Most entries of `tags` and of `data`; the rest are dropped.
pub const MAX_ENTRIES: usize = 256;
/// Values nested deeper than this are kept as their JSON text.
const MAX_DEPTH: usize = 6;

/// How a span ended, as Sentry names it (gRPC's codes, in snake case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanStatus {
    Ok,
    Cancelled,
    Unknown,
    InvalidArgument,
    DeadlineExceeded,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Aborted,
    OutOfRange,
    Unimplemented,
    InternalError,
    Unavailable,
    DataLoss,
    Unauthenticated,
}

impl SpanStatus {
    /// Every status, in gRPC code order (`ALL[n]` is gRPC code `n`).
    pub const ALL: [SpanStatus; 17] = [
        SpanStatus::Ok,
        SpanStatus::Cancelled,
        SpanStatus::Unknown,
        SpanStatus::InvalidArgument,
        SpanStatus::DeadlineExceeded,
        SpanStatus::NotFound,
        SpanStatus::AlreadyExists,
        SpanStatus::PermissionDenied,
        SpanStatus::ResourceExhausted,
        SpanStatus::FailedPrecondition,
        SpanStatus::Aborted,
        SpanStatus::OutOfRange,
        SpanStatus::Unimplemented,
        SpanStatus::InternalError,
        SpanStatus::Unavailable,
        SpanStatus::DataLoss,
        SpanStatus::Unauthenticated,
    ];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanStatus::Ok => "ok",
            SpanStatus::Cancelled => "cancelled",
            SpanStatus::Unknown => "unknown",
            SpanStatus::InvalidArgument => "invalid_argument",
            SpanStatus::DeadlineExceeded => "deadline_exceeded",
            SpanStatus::NotFound => "not_found",
            SpanStatus::AlreadyExists => "already_exists",
            SpanStatus::PermissionDenied => "permission_denied",
            SpanStatus::ResourceExhausted => "resource_exhausted",
            SpanStatus::FailedPrecondition => "failed_precondition",
            SpanStatus::Aborted => "aborted",
            SpanStatus::OutOfRange => "out_of_range",
            SpanStatus::Unimplemented => "unimplemented",
            SpanStatus::InternalError => "internal_error",
            SpanStatus::Unavailable => "unavailable",
            SpanStatus::DataLoss => "data_loss",
            SpanStatus::Unauthenticated => "unauthenticated",
        }
    }

    /// A status as SDKs spell it: Sentry's names in any case, the older
    /// `unknown_error`, gRPC's `internal` and `CamelCase` forms.
    pub fn from_name(name: &str) -> Option<SpanStatus> {
        let mut key = String::with_capacity(name.len() + 4);
        let mut previous_lower = false;
        for c in name.trim().chars() {
            // `DeadlineExceeded` → `deadline_exceeded`; `OK` stays one word.
            if c.is_ascii_uppercase() && previous_lower {
                key.push('_');
            }
            previous_lower = c.is_ascii_lowercase();
            key.push(c.to_ascii_lowercase());
        }
        match key.as_str() {
            "unknown_error" => Some(SpanStatus::Unknown),
            "internal" => Some(SpanStatus::InternalError),
            "canceled" => Some(SpanStatus::Cancelled),
            other => Self::ALL.into_iter().find(|s| s.as_str() == other),
        }
    }

    /// The status of an HTTP response code, as Sentry's SDKs map it.
    pub fn from_http(code: i64) -> SpanStatus {
        match code {
            100..=399 => SpanStatus::Ok,
            401 => SpanStatus::Unauthenticated,
            403 => SpanStatus::PermissionDenied,
            404 => SpanStatus::NotFound,
            409 => SpanStatus::AlreadyExists,
            413 => SpanStatus::FailedPrecondition,
            429 => SpanStatus::ResourceExhausted,
            499 => SpanStatus::Cancelled,
            400..=498 => SpanStatus::InvalidArgument,
            501 => SpanStatus::Unimplemented,
            503 => SpanStatus::Unavailable,
            504 => SpanStatus::DeadlineExceeded,
            500..=599 => SpanStatus::InternalError,
            _ => SpanStatus::Unknown,
        }
    }

    /// The status of a gRPC status code.
    pub fn from_grpc(code: i64) -> Option<SpanStatus> {
        usize::try_from(code)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// Whether Sentry counts a transaction with this status as failed: every
    /// status but `ok`, `cancelled` and `unknown`.
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            SpanStatus::Ok | SpanStatus::Cancelled | SpanStatus::Unknown
        )
    }
}

/// One span, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRecord {
    /// When the span started.
    pub ts: DateTime<Utc>,
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    pub parent_span_id: Option<String>,
    /// The span id of the span's segment (its own for a segment).
    pub segment_id: Option<String>,
    /// A transaction (Sentry) or a service's local root span (OpenTelemetry).
    pub is_segment: bool,
    /// The segment's name.
    pub transaction: String,
    pub op: String,
    /// The span's description.
    pub name: String,
    pub status: SpanStatus,
    pub duration_ms: f64,
    pub service: String,
    pub environment: String,
    pub release: String,
    pub http_status: Option<i32>,
    pub tags: Map<String, Value>,
    pub data: Map<String, Value>,
    /// The Sentry event id of the transaction, on its segment only: an SDK that
    /// retries an envelope sends it again, and it is stored once.
    pub event_id: Option<String>,
}

/// Why one span was refused (the rest of its request is still stored).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SpanError(pub String);

impl SpanRecord {
    /// Enforces the limits: refuses a span whose ids or times cannot be right,
    /// cuts what is only too long.
    pub fn sanitise(&mut self) -> Result<(), SpanError> {
        if hex_id(&self.trace_id, 32).as_deref() != Some(self.trace_id.as_str()) {
            return Err(SpanError(
                "trace id: expected 32 hex digits, not all zero".into(),
            ));
        }
        for (name, id) in [
            ("span id", Some(&self.span_id)),
            ("parent span id", self.parent_span_id.as_ref()),
            ("segment id", self.segment_id.as_ref()),
        ] {
            if let Some(id) = id {
                if hex_id(id, 16).as_deref() != Some(id.as_str()) {
                    return Err(SpanError(format!(
                        "{name}: expected 16 hex digits, not all zero"
                    )));
                }
            }
        }
        if !(1970..=9999).contains(&self.ts.year()) {
            return Err(SpanError(format!(
                "start time {} is outside 1970–9999",
                self.ts.to_rfc3339()
            )));
        }
        if !self.duration_ms.is_finite() || self.duration_ms < 0.0 {
            return Err(SpanError("the span ends before it starts".into()));
        }
        // Names are what a span is found by: one over the limit is refused
        // (reported in each protocol's own way), never cut silently.
        for (label, field) in [("transaction", &self.transaction), ("name", &self.name)] {
            // NUL characters are removed below, so they do not count.
            let len = field.len() - field.matches('\0').count();
            if len > MAX_NAME_BYTES {
                return Err(SpanError(format!(
                    "{label}: longer than {MAX_NAME_BYTES} bytes ({len} bytes)"
                )));
            }
        }
        for (field, max) in [
            (&mut self.transaction, MAX_NAME_BYTES),
            (&mut self.name, MAX_NAME_BYTES),
            (&mut self.op, MAX_LABEL_BYTES),
            (&mut self.service, MAX_LABEL_BYTES),
            (&mut self.environment, MAX_LABEL_BYTES),
            (&mut self.release, MAX_LABEL_BYTES),
        ] {
            clean_text(field, max);
        }
        clean_map(&mut self.tags, 1);
        clean_map(&mut self.data, 1);
        Ok(())
    }
}

/// Fills in the segment of every span whose segment is not known yet, from its
/// nearest ancestor that is a segment among `spans`; a segment is its own.
/// Spans whose ancestry leaves `spans` keep no segment.
pub fn assign_segments(spans: &mut [SpanRecord]) {
    let links: Vec<SpanLink<'_>> = spans
        .iter()
        .map(|s| SpanLink {
            trace_id: &s.trace_id,
            span_id: &s.span_id,
            parent_span_id: s.parent_span_id.as_deref(),
            is_segment: s.is_segment,
        })
        .collect();
    let found = nearest_segments(&links);
    let segments: Vec<Option<(String, String)>> = found
        .iter()
        .map(|s| s.map(|s| (spans[s].span_id.clone(), spans[s].transaction.clone())))
        .collect();
    for (span, segment) in spans.iter_mut().zip(segments) {
        if span.segment_id.is_some() {
            continue;
        }
        if let Some((segment_id, transaction)) = segment {
            span.segment_id = Some(segment_id);
            span.transaction = transaction;
        }
    }
}

/// How a span hangs in its trace, for [`nearest_segments`].
pub struct SpanLink<'a> {
    pub trace_id: &'a str,
    pub span_id: &'a str,
    pub parent_span_id: Option<&'a str>,
    pub is_segment: bool,
}

/// For each span, the index of its nearest ancestor that is a segment (its own
/// for a segment), when its ancestry stays among `spans`. Each span is walked
/// through once: a chain's answer is kept for every span on it, and a cycle of
/// parents (malformed input) answers none.
pub fn nearest_segments(spans: &[SpanLink<'_>]) -> Vec<Option<usize>> {
    let by_id: HashMap<(&str, &str), usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.trace_id, s.span_id), i))
        .collect();
    let mut found: Vec<Option<Option<usize>>> = vec![None; spans.len()];
    let mut on_path = vec![false; spans.len()];
    let mut path = Vec::new();
    for start in 0..spans.len() {
        let mut at = start;
        let answer = loop {
            if let Some(known) = found[at] {
                break known;
            }
            if on_path[at] {
                break None;
            }
            let span = &spans[at];
            if span.is_segment {
                break Some(at);
            }
            on_path[at] = true;
            path.push(at);
            match span
                .parent_span_id
                .and_then(|p| by_id.get(&(span.trace_id, p)))
            {
                Some(&parent) => at = parent,
                None => break None,
            }
        };
        if spans[at].is_segment && found[at].is_none() {
            found[at] = Some(Some(at));
        }
        for i in path.drain(..) {
            on_path[i] = false;
            found[i] = Some(answer);
        }
    }
    found.into_iter().map(Option::flatten).collect()
}

/// Milliseconds from `start` to `end`, to the microsecond.
pub fn duration_ms(start: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    match (end - start).num_microseconds() {
        Some(micros) => micros as f64 / 1000.0,
        None => f64::INFINITY,
    }
}

/// An HTTP status code carried as a number or a numeric string.
pub fn http_status_of(value: &Value) -> Option<i32> {
    let code = match value {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    i32::try_from(code).ok().filter(|c| (100..=599).contains(c))
}

fn clean_text(text: &mut String, max: usize) {
    if text.contains('\0') {
        text.retain(|c| c != '\0');
    }
    text.truncate(text.floor_char_boundary(max));
}

fn clean_map(map: &mut Map<String, Value>, depth: usize) {
    let needs_rebuild = map.len() > MAX_ENTRIES || map.keys().any(|k| k.contains('\0'));
    if needs_rebuild {
        *map = std::mem::take(map)
            .into_iter()
            .take(MAX_ENTRIES)
            .map(|(mut key, value)| {
                clean_text(&mut key, MAX_LABEL_BYTES);
                (key, value)
            })
            .collect();
    }
    for value in map.values_mut() {
        clean_value(value, depth);
    }
}

fn clean_value(value: &mut Value, depth: usize) {
    match value {
        Value::String(s) => clean_text(s, MAX_VALUE_BYTES),
        Value::Object(_) | Value::Array(_) if depth >= MAX_DEPTH => {
            let mut text = value.to_string();
            clean_text(&mut text, MAX_VALUE_BYTES);
            // The JSON text escapes NUL as `\u0000`, which jsonb refuses too.
            *value = Value::String(text.replace("\\u0000", ""));
        }
        Value::Object(map) => clean_map(map, depth + 1),
        Value::Array(items) => {
            items.truncate(MAX_ENTRIES);
            for item in items {
                clean_value(item, depth + 1);
            }
        }
        // PostgreSQL gives a number this large back as hundreds of digits,
        // which serde_json refuses: kept as its text, the span stays readable.
        Value::Number(n) if n.as_f64().is_some_and(|f| f.abs() > 1e300) => {
            *value = Value::String(n.to_string());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn record(span_id: &str, parent: Option<&str>, is_segment: bool) -> SpanRecord {
        SpanRecord {
            event_id: None,
            ts: Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: span_id.into(),
            parent_span_id: parent.map(Into::into),
            segment_id: None,
            is_segment,
            transaction: if is_segment {
                format!("GET /{span_id}")
            } else {
                String::new()
            },
            op: String::new(),
            name: String::new(),
            status: SpanStatus::Ok,
            duration_ms: 1.0,
            service: String::new(),
            environment: String::new(),
            release: String::new(),
            http_status: None,
            tags: Map::new(),
            data: Map::new(),
        }
    }

    #[test]
    fn statuses_are_read_in_every_spelling_and_from_codes() {
        assert_eq!(SpanStatus::from_name("ok"), Some(SpanStatus::Ok));
        assert_eq!(SpanStatus::from_name("OK"), Some(SpanStatus::Ok));
        assert_eq!(
            SpanStatus::from_name("INTERNAL_ERROR"),
            Some(SpanStatus::InternalError)
        );
        assert_eq!(
            SpanStatus::from_name("DeadlineExceeded"),
            Some(SpanStatus::DeadlineExceeded)
        );
        assert_eq!(
            SpanStatus::from_name("unknown_error"),
            Some(SpanStatus::Unknown)
        );
        assert_eq!(SpanStatus::from_name("splendid"), None);
        assert_eq!(SpanStatus::from_http(204), SpanStatus::Ok);
        assert_eq!(SpanStatus::from_http(404), SpanStatus::NotFound);
        assert_eq!(SpanStatus::from_http(422), SpanStatus::InvalidArgument);
        assert_eq!(SpanStatus::from_http(500), SpanStatus::InternalError);
        assert_eq!(SpanStatus::from_http(503), SpanStatus::Unavailable);
        assert_eq!(SpanStatus::from_grpc(5), Some(SpanStatus::NotFound));
        assert_eq!(SpanStatus::from_grpc(17), None);
        assert!(SpanStatus::NotFound.is_failure());
        assert!(!SpanStatus::Cancelled.is_failure());
        assert!(!SpanStatus::Unknown.is_failure());
    }

    #[test]
    fn children_take_the_segment_of_their_nearest_segment_ancestor() {
        let mut spans = vec![
            record("00000000000000c2", Some("00000000000000c1"), false),
            record("00000000000000c1", Some("00000000000000a1"), false),
            record("00000000000000a1", None, true),
            // A server span below a remote parent: a segment of its own.
            record("00000000000000b1", Some("00000000000000c2"), true),
            record("00000000000000d1", Some("0000000000000fff"), false),
        ];
        assign_segments(&mut spans);
        let segment_of = |i: usize| spans[i].segment_id.as_deref();
        assert_eq!(segment_of(0), Some("00000000000000a1"));
        assert_eq!(spans[0].transaction, "GET /00000000000000a1");
        assert_eq!(segment_of(2), Some("00000000000000a1"));
        assert_eq!(segment_of(3), Some("00000000000000b1"));
        assert_eq!(segment_of(4), None, "the parent never arrived");
    }

    #[test]
    fn bad_ids_times_and_long_names_are_refused() {
        let mut long = record("00000000000000a1", None, true);
        long.name = "x".repeat(MAX_NAME_BYTES + 1);
        assert!(long.sanitise().is_err(), "never cut silently");
        let mut ok = record("00000000000000a1", None, true);
        ok.name = format!("{}\0", "x".repeat(MAX_NAME_BYTES));
        ok.data
            .insert("deep".into(), json!([[[[[[[["bottom"]]]]]]]]));
        ok.data.insert("nul\0key".into(), json!("a\0b"));
        ok.data.insert("huge".into(), json!(1.7976931348623157e308));
        ok.sanitise().unwrap();
        assert_eq!(ok.name.len(), MAX_NAME_BYTES);
        assert!(ok.data["deep"].to_string().contains("bottom"));
        assert_eq!(ok.data["nulkey"], "ab");
        assert_eq!(ok.data["huge"], "1.7976931348623157e+308");

        let mut bad = record("00000000000000a1", None, true);
        bad.trace_id = "0".repeat(32);
        assert!(bad.sanitise().is_err());
        let mut bad = record("xyz", None, true);
        assert!(bad.sanitise().is_err());
        let mut bad = record("00000000000000a1", None, true);
        bad.duration_ms = -1.0;
        assert!(bad.sanitise().is_err());
    }

    #[test]
    fn long_chains_are_walked_once_and_cycles_answer_none() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("{:016x}", i + 1)).collect();
        let links: Vec<SpanLink<'_>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| SpanLink {
                trace_id: "t",
                span_id: id,
                parent_span_id: (i > 0).then(|| ids[i - 1].as_str()),
                is_segment: i == 0,
            })
            .collect();
        let started = std::time::Instant::now();
        let found = nearest_segments(&links);
        assert!(found.iter().all(|s| *s == Some(0)));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));

        let cycle = [("a", "b"), ("b", "a")].map(|(id, parent)| SpanLink {
            trace_id: "t",
            span_id: id,
            parent_span_id: Some(parent),
            is_segment: false,
        });
        assert_eq!(nearest_segments(&cycle), vec![None, None]);
    }
}
