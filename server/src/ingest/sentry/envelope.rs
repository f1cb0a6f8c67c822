//! Sentry envelopes (<https://develop.sentry.dev/sdk/data-model/envelopes/>), the
//! body of `POST /api/{project_id}/envelope/`: a JSON header line, then items,
//! each a JSON header line followed by a payload. A payload whose header gives a
//! `length` is exactly that many bytes (so it may hold newlines and binary data,
//! as attachments do); without `length` it runs to the next newline.
//!
//! [`parse`] only splits the envelope; what an item's payload means is for
//! [`super::items`] (and the event decoder) to say. It never panics, whatever
//! the bytes, and every error names the item (counting from 1) and the problem.

use axum::body::Bytes;
use serde::Deserialize;
use serde_json::Value;

/// A split envelope: its header and its items, in order.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub header: EnvelopeHeader,
    pub items: Vec<Item>,
}

/// The envelope header fields Sightline uses; other keys (`sdk`, `trace`, ...)
/// are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EnvelopeHeader {
    /// The id of the event or transaction the envelope carries, if any.
    #[serde(default)]
    pub event_id: Option<String>,
    /// The DSN the client was configured with; the browser SDK's tunnel mode
    /// authenticates by it.
    #[serde(default)]
    pub dsn: Option<String>,
    /// When the client sent the envelope (RFC 3339), for clock-skew correction.
    #[serde(default)]
    pub sent_at: Option<String>,
    /// The trace's dynamic sampling context (`trace_id`, `transaction`,
    /// `release`, `environment`, ...), as sent.
    #[serde(default)]
    pub trace: Option<serde_json::Value>,
}

/// One item of an envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: ItemKind,
    /// The item header's `content_type`, if given.
    pub content_type: Option<String>,
    /// The payload, exactly as sent (without the newline that ends it).
    pub payload: Bytes,
}

/// What an item carries, from its header's `type`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// `event`: an error or message event.
    Event,
    /// `transaction`: a performance transaction.
    Transaction,
    /// `log`: a batch of structured logs.
    Log,
    /// `session`: one release-health session update.
    Session,
    /// `sessions`: pre-aggregated release-health sessions.
    Sessions,
    /// `client_report`: what the SDK dropped before sending.
    ClientReport,
    /// `span`: spans of the span protocol (a v2 container of many spans).
    Span,
    /// Any other type (`attachment`, `check_in`, `profile`, `replay_event`,
    /// ...), kept by name so the caller can count and skip it.
    Other(String),
}

impl ItemKind {
    /// The kind named by an item header's `type`.
    pub fn from_type(name: &str) -> ItemKind {
        match name {
            "event" => ItemKind::Event,
            "transaction" => ItemKind::Transaction,
            "log" => ItemKind::Log,
            "session" => ItemKind::Session,
            "sessions" => ItemKind::Sessions,
            "client_report" => ItemKind::ClientReport,
            "span" => ItemKind::Span,
            other => ItemKind::Other(other.to_string()),
        }
    }

    /// The `type` name, as sent.
    pub fn as_str(&self) -> &str {
        match self {
            ItemKind::Event => "event",
            ItemKind::Transaction => "transaction",
            ItemKind::Log => "log",
            ItemKind::Session => "session",
            ItemKind::Sessions => "sessions",
            ItemKind::ClientReport => "client_report",
            ItemKind::Span => "span",
            ItemKind::Other(name) => name,
        }
    }
}

/// Limits applied while splitting, so one request cannot make the server hold
/// more than it accepts.
#[derive(Debug, Clone, Copy)]
pub struct EnvelopeLimits {
    /// Most items in one envelope.
    pub max_items: usize,
    /// Largest payload of one item, in bytes.
    pub max_item_bytes: usize,
}

/// Why an envelope could not be split. Items are numbered from 1.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("empty body: an envelope starts with a JSON header line")]
    Empty,
    #[error("envelope header is not a valid JSON object: {0}")]
    Header(#[source] serde_json::Error),
    #[error("item {index}: header is not a valid JSON object: {source}")]
    ItemHeader {
        index: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("item {index}: header has no `type` string")]
    MissingType { index: usize },
    #[error("item {index}: header's `length` must be a non-negative integer, found {found}")]
    BadLength { index: usize, found: String },
    #[error("item {index}: header says length {length} but only {remaining} bytes remain")]
    Truncated {
        index: usize,
        length: usize,
        remaining: usize,
    },
    #[error("item {index}: the {length}-byte payload is followed by byte 0x{found:02x} instead of a newline")]
    MissingNewline {
        index: usize,
        length: usize,
        found: u8,
    },
    #[error("item {index}: payload of {size} bytes is larger than the limit of {max}")]
    ItemTooLarge {
        index: usize,
        size: usize,
        max: usize,
    },
    #[error("envelope has more than {max} items")]
    TooManyItems { max: usize },
}

impl EnvelopeError {
    /// Whether the envelope broke a size limit (413) rather than being malformed (400).
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            EnvelopeError::ItemTooLarge { .. } | EnvelopeError::TooManyItems { .. }
        )
    }
}

/// Splits an envelope; the payloads are copied out of `body`.
pub fn parse(body: &[u8], limits: EnvelopeLimits) -> Result<Envelope, EnvelopeError> {
    parse_bytes(&Bytes::copy_from_slice(body), limits)
}

/// Splits an envelope; the payloads share `body`'s buffer instead of copying it.
pub fn parse_bytes(body: &Bytes, limits: EnvelopeLimits) -> Result<Envelope, EnvelopeError> {
    let mut cursor = Cursor { body, pos: 0 };
    cursor.skip_whitespace();
    if cursor.at_end() {
        return Err(EnvelopeError::Empty);
    }
    let header: EnvelopeHeader =
        serde_json::from_slice(cursor.line()).map_err(EnvelopeError::Header)?;

    let mut items = Vec::new();
    loop {
        // Relay reads item headers with a JSON reader that skips whitespace, so
        // blank lines between items (and trailing newlines) are accepted.
        cursor.skip_whitespace();
        if cursor.at_end() {
            break;
        }
        let index = items.len() + 1;
        if items.len() >= limits.max_items {
            return Err(EnvelopeError::TooManyItems {
                max: limits.max_items,
            });
        }
        let header = ItemHeader::parse(cursor.line(), index)?;
        let payload = match header.length {
            Some(length) => cursor.exact(index, length, limits.max_item_bytes)?,
            None => {
                let range = cursor.line_range();
                if range.len() > limits.max_item_bytes {
                    return Err(EnvelopeError::ItemTooLarge {
                        index,
                        size: range.len(),
                        max: limits.max_item_bytes,
                    });
                }
                body.slice(range)
            }
        };
        items.push(Item {
            kind: ItemKind::from_type(&header.kind),
            content_type: header.content_type,
            payload,
        });
    }
    Ok(Envelope { header, items })
}

/// The item header fields that matter for splitting and dispatch.
struct ItemHeader {
    kind: String,
    length: Option<usize>,
    content_type: Option<String>,
}

impl ItemHeader {
    fn parse(line: &[u8], index: usize) -> Result<ItemHeader, EnvelopeError> {
        let mut object: serde_json::Map<String, Value> = serde_json::from_slice(line)
            .map_err(|source| EnvelopeError::ItemHeader { index, source })?;
        let kind = match object.remove("type") {
            Some(Value::String(kind)) => kind,
            _ => return Err(EnvelopeError::MissingType { index }),
        };
        let length = match object.remove("length") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| EnvelopeError::BadLength {
                        index,
                        found: value.to_string(),
                    })?,
            ),
        };
        let content_type = match object.remove("content_type") {
            Some(Value::String(content_type)) => Some(content_type),
            _ => None,
        };
        Ok(ItemHeader {
            kind,
            length,
            content_type,
        })
    }
}

/// A read position in the body.
struct Cursor<'a> {
    body: &'a Bytes,
    pos: usize,
}

impl Cursor<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.body.len()
    }

    fn rest(&self) -> &[u8] {
        self.body.get(self.pos..).unwrap_or_default()
    }

    fn skip_whitespace(&mut self) {
        let skipped = self
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        self.pos += skipped;
    }

    /// The range of the line at the cursor (without its `\n` or `\r\n`), moving
    /// past the line and its newline.
    fn line_range(&mut self) -> std::ops::Range<usize> {
        let start = self.pos;
        let (mut end, next) = match self.rest().iter().position(|&b| b == b'\n') {
            Some(offset) => (start + offset, start + offset + 1),
            None => (self.body.len(), self.body.len()),
        };
        if end > start && self.body.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        self.pos = next;
        start..end
    }

    /// The line at the cursor, moving past it.
    fn line(&mut self) -> &[u8] {
        let range = self.line_range();
        self.body.get(range).unwrap_or_default()
    }

    /// Exactly `length` payload bytes, then the optional newline after them.
    fn exact(&mut self, index: usize, length: usize, max: usize) -> Result<Bytes, EnvelopeError> {
        // The limit is checked before the remainder, so an honest header announcing
        // a payload over the limit gets a 413 even if the body was cut short.
        if length > max {
            return Err(EnvelopeError::ItemTooLarge {
                index,
                size: length,
                max,
            });
        }
        let remaining = self.body.len().saturating_sub(self.pos);
        if length > remaining {
            return Err(EnvelopeError::Truncated {
                index,
                length,
                remaining,
            });
        }
        let payload = self.body.slice(self.pos..self.pos + length);
        self.pos += length;
        match self.rest() {
            [] => {}
            [b'\n', ..] => self.pos += 1,
            [b'\r', b'\n', ..] => self.pos += 2,
            [found, ..] => {
                return Err(EnvelopeError::MissingNewline {
                    index,
                    length,
                    found: *found,
                })
            }
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use sentry::protocol::{Attachment, Event};

    use super::*;

    const LIMITS: EnvelopeLimits = EnvelopeLimits {
        max_items: 100,
        max_item_bytes: 1024 * 1024,
    };

    fn kinds(envelope: &Envelope) -> Vec<&str> {
        envelope.items.iter().map(|i| i.kind.as_str()).collect()
    }

    #[test]
    fn the_protocol_documents_example_with_and_without_lengths() {
        let body = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"dsn\":\"https://e12d836b15bb49d7bbf99e64295d995b@sentry.io/42\"}\n\
{\"type\":\"attachment\",\"length\":10,\"content_type\":\"text/plain\",\"filename\":\"hello.txt\"}\n\
\xef\xbb\xbfHello\r\n\n\
{\"type\":\"event\",\"length\":41,\"content_type\":\"application/json\",\"filename\":\"application.log\"}\n\
{\"message\":\"hello world\",\"level\":\"error\"}\n";
        let envelope = parse(body, LIMITS).unwrap();
        assert_eq!(
            envelope.header.event_id.as_deref(),
            Some("9ec79c33ec9942ab8353589fcb2e04dc")
        );
        assert_eq!(kinds(&envelope), ["attachment", "event"]);
        assert_eq!(&envelope.items[0].payload[..], b"\xef\xbb\xbfHello\r\n");
        assert_eq!(
            envelope.items[1].content_type.as_deref(),
            Some("application/json")
        );
        assert_eq!(
            &envelope.items[1].payload[..],
            br#"{"message":"hello world","level":"error"}"#
        );

        // The same items without lengths (the attachment no longer holds newlines),
        // no trailing newline, and an empty envelope header.
        let body =
            b"{}\n{\"type\":\"attachment\"}\nhello\n{\"type\":\"event\"}\n{\"message\":\"x\"}";
        let envelope = parse(body, LIMITS).unwrap();
        assert_eq!(envelope.header, EnvelopeHeader::default());
        assert_eq!(&envelope.items[0].payload[..], b"hello");
        assert_eq!(&envelope.items[1].payload[..], br#"{"message":"x"}"#);
    }

    #[test]
    fn an_envelope_of_the_rust_sdk() {
        // sentry 0.49 gives events a `length`, and the attachment's binary payload
        // (newlines, even a line that looks like an item header) is read by it.
        // Its log items, which have no `length`, are in `items::log`'s tests.
        let event = Event {
            message: Some("boom\nsecond line".into()),
            level: sentry::Level::Error,
            ..Default::default()
        };
        let event_id = event.event_id;
        let attachment = Attachment {
            buffer: b"\x00\x01\n\n\xff{\"type\":\"event\"}\n".to_vec(),
            filename: "core.bin".into(),
            content_type: None,
            ty: None,
        };
        let mut envelope = sentry::Envelope::new();
        envelope.add_item(event);
        envelope.add_item(attachment.clone());
        let mut body = Vec::new();
        envelope.to_writer(&mut body).unwrap();

        let parsed = parse(&body, LIMITS).unwrap();
        assert_eq!(parsed.header.event_id, Some(event_id.to_string()));
        assert_eq!(kinds(&parsed), ["event", "attachment"]);
        let event: Value = serde_json::from_slice(&parsed.items[0].payload).unwrap();
        assert_eq!(event["message"], "boom\nsecond line");
        assert_eq!(parsed.items[1].payload[..], attachment.buffer[..]);
    }

    #[test]
    fn an_envelope_of_the_python_sdk() {
        // sentry-sdk 2.x: compact JSON, every item with `length`, each payload
        // followed by a newline, unknown header keys and item types.
        let event = br#"{"event_id":"0c1b6a5c3a4b4a7e8c9d0e1f2a3b4c5d","level":"error","platform":"python","exception":{"values":[{"type":"ZeroDivisionError","value":"division by zero"}]}}"#;
        let logs = br#"{"items":[{"timestamp":1700000000.123,"trace_id":"00000000-0000-0000-0000-000000000000","level":"info","body":"hi","attributes":{"sentry.sdk.name":{"value":"sentry.python","type":"string"}}}]}"#;
        let profile = b"{\"version\":\"1\"}";
        let mut body = br#"{"event_id":"0c1b6a5c3a4b4a7e8c9d0e1f2a3b4c5d","sent_at":"2026-01-02T03:04:05.678901Z","trace":{"trace_id":"abc","public_key":"k"},"sdk":{"name":"sentry.python","version":"2.40.0"}}"#.to_vec();
        for (header, payload) in [
            (
                format!(
                    r#"{{"type":"event","content_type":"application/json","length":{}}}"#,
                    event.len()
                ),
                &event[..],
            ),
            (
                format!(
                    r#"{{"type":"log","content_type":"application/vnd.sentry.items.log+json","item_count":1,"length":{}}}"#,
                    logs.len()
                ),
                &logs[..],
            ),
            (
                format!(
                    r#"{{"type":"profile","content_type":"application/json","platform":"python","length":{}}}"#,
                    profile.len()
                ),
                &profile[..],
            ),
        ] {
            body.push(b'\n');
            body.extend_from_slice(header.as_bytes());
            body.push(b'\n');
            body.extend_from_slice(payload);
        }
        body.push(b'\n');

        let parsed = parse(&body, LIMITS).unwrap();
        assert_eq!(
            parsed.header.sent_at.as_deref(),
            Some("2026-01-02T03:04:05.678901Z")
        );
        assert_eq!(kinds(&parsed), ["event", "log", "profile"]);
        assert_eq!(parsed.items[2].kind, ItemKind::Other("profile".into()));
        assert_eq!(&parsed.items[0].payload[..], &event[..]);
        assert_eq!(&parsed.items[1].payload[..], &logs[..]);
    }

    #[test]
    fn every_known_type_has_its_kind() {
        for name in [
            "event",
            "transaction",
            "log",
            "session",
            "sessions",
            "client_report",
            "span",
            "check_in",
        ] {
            let kind = ItemKind::from_type(name);
            assert_eq!(kind.as_str(), name);
            assert_eq!(matches!(kind, ItemKind::Other(_)), name == "check_in");
        }
    }

    #[test]
    fn crlf_line_ends_and_empty_payloads_are_accepted() {
        let body = b"{}\r\n{\"type\":\"event\",\"length\":2}\r\n{}\r\n{\"type\":\"attachment\",\"length\":0}\n\n{\"type\":\"event\"}\r\n{}\r\n";
        let parsed = parse(body, LIMITS).unwrap();
        assert_eq!(kinds(&parsed), ["event", "attachment", "event"]);
        assert_eq!(&parsed.items[0].payload[..], b"{}");
        assert!(parsed.items[1].payload.is_empty());
        assert_eq!(&parsed.items[2].payload[..], b"{}");
        // A header with no item at all is a valid, empty envelope.
        assert!(parse(b"{}\n", LIMITS).unwrap().items.is_empty());
    }

    #[test]
    fn malformed_envelopes_say_what_is_wrong() {
        let err = |body: &[u8]| parse(body, LIMITS).unwrap_err();
        assert!(matches!(err(b""), EnvelopeError::Empty));
        assert!(matches!(err(b"\n\n"), EnvelopeError::Empty));
        assert!(matches!(err(b"not json\n"), EnvelopeError::Header(_)));
        assert!(matches!(err(b"[1]\n"), EnvelopeError::Header(_)));
        assert!(matches!(
            err(b"{}\n{\"length\":2}\n{}"),
            EnvelopeError::MissingType { index: 1 }
        ));
        assert!(matches!(
            err(b"{}\n{\"type\":\"event\",\"length\":-1}\n{}"),
            EnvelopeError::BadLength { index: 1, .. }
        ));
        let truncated =
            err(b"{}\n{\"type\":\"event\"}\n{}\n{\"type\":\"event\",\"length\":500}\n{}");
        assert_eq!(
            truncated.to_string(),
            "item 2: header says length 500 but only 2 bytes remain"
        );
        assert!(!truncated.is_too_large());
        assert!(matches!(
            err(b"{}\n{\"type\":\"event\",\"length\":2}\n{}x"),
            EnvelopeError::MissingNewline {
                index: 1,
                found: b'x',
                ..
            }
        ));
        assert!(matches!(
            err(b"{}\n{\"type\":\"event\"}\n{}\nnot a header\n"),
            EnvelopeError::ItemHeader { index: 2, .. }
        ));
    }

    #[test]
    fn limits_are_413s() {
        let small = EnvelopeLimits {
            max_items: 2,
            max_item_bytes: 4,
        };
        let err = parse(b"{}\n{\"type\":\"event\"}\n12345\n", small).unwrap_err();
        assert!(err.is_too_large(), "{err}");
        assert_eq!(
            err.to_string(),
            "item 1: payload of 5 bytes is larger than the limit of 4"
        );
        // Announced but not sent: still a size problem, not a truncated body.
        let err = parse(b"{}\n{\"type\":\"event\",\"length\":99999}\n", small).unwrap_err();
        assert!(err.is_too_large(), "{err}");
        let three = b"{}\n{\"type\":\"a\"}\n1\n{\"type\":\"b\"}\n2\n{\"type\":\"c\"}\n3\n";
        let err = parse(three, small).unwrap_err();
        assert!(matches!(err, EnvelopeError::TooManyItems { max: 2 }));
        assert!(err.is_too_large());
        let two = b"{}\n{\"type\":\"a\"}\n1\n{\"type\":\"b\"}\n2\n";
        assert_eq!(parse(two, small).unwrap().items.len(), 2);
    }

    /// A small xorshift generator: deterministic, no dependency.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn no_input_makes_it_panic() {
        let limits = EnvelopeLimits {
            max_items: 8,
            max_item_bytes: 64,
        };
        let valid = b"{\"event_id\":\"x\"}\n{\"type\":\"event\",\"length\":11}\n{\"a\":\n\"bc\"}\n{\"type\":\"attachment\",\"length\":3}\n\n\r\n\n{\"type\":\"log\"}\n{\"items\":[]}\r\n";
        assert_eq!(parse(valid, limits).unwrap().items.len(), 3);
        // Every truncation of a valid envelope.
        for end in 0..valid.len() {
            let _ = parse(&valid[..end], limits);
        }
        let mut state = 0x2545_f491_4f6c_dd1d;
        for round in 0..20_000 {
            let mut body = valid.to_vec();
            if round & 1 == 0 {
                // Mutate a few bytes of the valid envelope, biased to structural ones.
                for _ in 0..1 + next(&mut state) % 4 {
                    let at = (next(&mut state) % body.len() as u64) as usize;
                    let alphabet = b"\n\r{}\":0123456789-length";
                    body[at] = if next(&mut state) & 1 == 0 {
                        alphabet[(next(&mut state) % alphabet.len() as u64) as usize]
                    } else {
                        next(&mut state) as u8
                    };
                }
            } else {
                let len = (next(&mut state) % 200) as usize;
                body = (0..len)
                    .map(|_| match next(&mut state) % 8 {
                        0 => b'\n',
                        1 => b'{',
                        2 => b'}',
                        _ => next(&mut state) as u8,
                    })
                    .collect();
            }
            if let Ok(envelope) = parse(&body, limits) {
                assert!(envelope.items.len() <= limits.max_items);
                assert!(envelope
                    .items
                    .iter()
                    .all(|i| i.payload.len() <= limits.max_item_bytes));
            }
        }
    }
}
