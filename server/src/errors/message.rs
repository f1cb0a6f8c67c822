//! The message of an error event: [`EventMessage::from_event`] reads it from
//! `logentry` or `message` (applying the parameters to the template), and
//! [`normalise`] replaces its variable parts (ids, addresses, dates, numbers) with
//! placeholders, so that "User 42 failed" and "User 7 failed" group together.

use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde_json::{Map, Value};

/// Longest text [`normalise`] reads and returns, in bytes. The variable parts of a
/// message that matter for grouping are near its start; the cap also bounds the
/// regex work per event.
pub const MAX_NORMALISED_BYTES: usize = 1024;

/// An event's message, as the SDK sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMessage {
    /// The template before parameters were applied (`logentry.message`, e.g.
    /// `"User %s failed"`), when the SDK sent one.
    pub template: Option<String>,
    /// The message as a person reads it.
    pub formatted: String,
}

impl EventMessage {
    /// Reads `logentry` (`formatted`, else `message` with `params` applied), else
    /// the top-level `message` as a string or in the same object form. `None`
    /// when the event carries no non-empty message.
    pub fn from_event(event: &Value) -> Option<EventMessage> {
        let from_entry = |entry: &Map<String, Value>| {
            let template = non_empty(entry.get("message"));
            let formatted = non_empty(entry.get("formatted"))
                .map(str::to_owned)
                .or_else(|| template.map(|t| apply_params(t, entry.get("params"))))?;
            Some(EventMessage {
                template: template.map(str::to_owned),
                formatted,
            })
        };
        if let Some(message) = event
            .get("logentry")
            .and_then(Value::as_object)
            .and_then(from_entry)
        {
            return Some(message);
        }
        match event.get("message")? {
            Value::String(text) if !text.trim().is_empty() => Some(EventMessage {
                template: None,
                formatted: text.clone(),
            }),
            Value::Object(entry) => from_entry(entry),
            _ => None,
        }
    }
}

fn non_empty(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
}

/// `printf` conversions (`%s`, `%5.2f`, `%(name)s`, `%%`) as Python logging and
/// most SDKs send them, and `{}`/`{0}` as SLF4J-style loggers do.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"%%|%(?:\(([^)]{0,64})\))?[-+ #0]*\d*(?:\.\d+)?[sdifrxXoeEgGcua]|\{(\d{0,3})\}")
});

/// Fills a template's placeholders from `params` (an array for positional
/// placeholders, an object for named ones). Without parameters the template is
/// the message, `%%` included, the way Python logging treats a message without
/// arguments.
pub fn apply_params(template: &str, params: Option<&Value>) -> String {
    let params = match params {
        Some(Value::Array(items)) if !items.is_empty() => Params::Positional(items),
        Some(Value::Object(named)) if !named.is_empty() => Params::Named(named),
        _ => return template.to_owned(),
    };
    let mut next = 0;
    PLACEHOLDER
        .replace_all(template, |caps: &Captures<'_>| {
            let whole = &caps[0];
            if whole == "%%" {
                return "%".to_owned();
            }
            let param = match (&params, caps.get(1), caps.get(2)) {
                (Params::Named(named), Some(name), _) => named.get(name.as_str()),
                (Params::Positional(items), None, Some(index)) if !index.is_empty() => index
                    .as_str()
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i)),
                (Params::Positional(items), None, _) => {
                    next += 1;
                    items.get(next - 1)
                }
                _ => None,
            };
            match param {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                // A placeholder without a parameter stays visible rather than vanish.
                None => whole.to_owned(),
            }
        })
        .into_owned()
}

enum Params<'a> {
    Positional(&'a [Value]),
    Named(&'a Map<String, Value>),
}

/// One replacement of [`normalise`]: what to find, what to put instead, and a
/// check the pattern alone cannot express (the `regex` crate has no look-around).
struct Pass {
    pattern: Regex,
    placeholder: fn(&str) -> &'static str,
    accept: fn(text: &str, before: Option<char>, after: Option<char>) -> bool,
}

/// The passes, in precedence order: each later pass only sees what the earlier
/// ones left, so a UUID never becomes numbers. URLs come first because a URL
/// swallows the ids and addresses in its path, which keeps `<url>` whole.
static PASSES: LazyLock<Vec<Pass>> = LazyLock::new(|| {
    let any = |_: &str, _: Option<char>, _: Option<char>| true;
    vec![
        Pass {
            pattern: pattern(r#"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s"'`]*[^\s"'`.,;:!?)\]}>]"#),
            placeholder: |_| "<url>",
            accept: any,
        },
        Pass {
            pattern: pattern(
                r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b",
            ),
            placeholder: |_| "<uuid>",
            accept: any,
        },
        Pass {
            pattern: pattern(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
            placeholder: |_| "<email>",
            accept: any,
        },
        Pass {
            // A loose shape; `accept` parses it, since IPv6 is too irregular for a
            // readable pattern and Rust paths (`std::io`) look alike.
            pattern: pattern(
                r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?",
            ),
            placeholder: |_| "<ip>",
            accept: |text, before, after| {
                let word = |c: Option<char>, extra: &[char]| {
                    c.is_some_and(|c| c.is_alphanumeric() || c == '_' || extra.contains(&c))
                };
                !word(before, &[':', '.'])
                    && !word(after, &[])
                    && text.bytes().any(|b| b.is_ascii_digit())
                    && text.parse::<Ipv6Addr>().is_ok()
            },
        },
        Pass {
            pattern: pattern(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
            placeholder: |_| "<ip>",
            accept: any,
        },
        Pass {
            pattern: pattern(
                r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b",
            ),
            placeholder: |_| "<date>",
            accept: any,
        },
        Pass {
            pattern: pattern(r"\b(?:0[xX][0-9a-fA-F]+|[0-9a-fA-F]{8,})\b"),
            placeholder: |_| "<hex>",
            // A run of digits alone is a number, and a word of letters a-f alone
            // ("deadbeef", "acceded") is a word.
            accept: |text, _, _| {
                text.starts_with("0x")
                    || text.starts_with("0X")
                    || (text.bytes().any(|b| b.is_ascii_digit())
                        && text.bytes().any(|b| b.is_ascii_alphabetic()))
            },
        },
        Pass {
            // No closing `\b`: "30s" and "500ms" are numbers with a unit.
            pattern: pattern(r"\b\d+(?:\.\d+)?"),
            placeholder: |text| {
                if text.contains('.') {
                    "<float>"
                } else {
                    "<int>"
                }
            },
            accept: any,
        },
    ]
});

/// Replaces the variable parts of a message with placeholders, most specific
/// first: URLs `<url>`, UUIDs `<uuid>`, e-mail addresses `<email>`, IPv4 and IPv6
/// addresses `<ip>`, ISO 8601 dates and times `<date>`, hex strings (`0x...`, or 8
/// or more hex characters with a digit and a letter) `<hex>`, numbers `<int>` and
/// `<float>`. Reads and returns at most [`MAX_NORMALISED_BYTES`].
pub fn normalise(message: &str) -> String {
    let mut text = truncate(message.trim(), MAX_NORMALISED_BYTES).to_owned();
    for pass in PASSES.iter() {
        let current = text.as_str();
        let replaced = pass.pattern.replace_all(current, |caps: &Captures<'_>| {
            let Some(found) = caps.get(0) else {
                return String::new();
            };
            let before = current[..found.start()].chars().next_back();
            let after = current[found.end()..].chars().next();
            if (pass.accept)(found.as_str(), before, after) {
                (pass.placeholder)(found.as_str()).to_owned()
            } else {
                found.as_str().to_owned()
            }
        });
        text = replaced.into_owned();
    }
    truncate(&text, MAX_NORMALISED_BYTES).to_owned()
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character
/// boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    &text[..text.floor_char_boundary(max)]
}

#[expect(
    clippy::expect_used,
    reason = "the patterns are constants, compiled by the tests"
)]
fn pattern(source: &str) -> Regex {
    Regex::new(source).expect("a valid constant pattern")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variable_parts_become_placeholders() {
        for (input, expected) in [
            ("User 42 failed", "User <int> failed"),
            ("took 1.5 s, then 500ms", "took <float> s, then <int>ms"),
            (
                "order 550e8400-e29b-41d4-a716-446655440000 not found",
                "order <uuid> not found",
            ),
            (
                "mail to ada.l+x@example.co.uk bounced",
                "mail to <email> bounced",
            ),
            (
                "GET https://api.example.com/v2/users/17?token=abc) failed",
                "GET <url>) failed",
            ),
            (
                "connect 10.0.0.1:5432 refused",
                "connect <ip>:<int> refused",
            ),
            (
                "from fe80::1ff:fe23:4567:890a and ::1",
                "from <ip> and <ip>",
            ),
            ("at 2026-11-26T10:00:00.123+01:00 sharp", "at <date> sharp"),
            ("on 2026-11-26 at 10:00:00", "on <date> at <date>"),
            (
                "addr 0x7ffd5e8c and commit 3f2a9b1c4d",
                "addr <hex> and commit <hex>",
            ),
            ("id 12345678 is a number", "id <int> is a number"),
        ] {
            assert_eq!(normalise(input), expected, "{input}");
        }
    }

    #[test]
    fn words_and_code_paths_are_left_alone() {
        for text in [
            "deadbeef is a word here",
            "std::io::Error in myapp::db::connect",
            "utf8 v2 x86_64 http2",
            "KeyError: 'sku'",
        ] {
            assert_eq!(normalise(text), text);
        }
    }

    #[test]
    fn messages_that_differ_only_in_values_normalise_alike() {
        assert_eq!(
            normalise("User 42 failed at 2026-11-26T10:00:00Z from 10.0.0.1"),
            normalise("User 7 failed at 2026-11-27T11:00:00Z from 10.0.0.2"),
        );
        assert_eq!(
            normalise("User 42 failed at 2026-11-26T10:00:00Z from 10.0.0.1"),
            "User <int> failed at <date> from <ip>"
        );
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_NORMALISED_BYTES);
        let out = normalise(&long);
        assert!(out.len() <= MAX_NORMALISED_BYTES);
        assert!(out.chars().all(|c| c == 'é'));
    }

    #[test]
    fn params_fill_the_template() {
        let positional = json!(["42", 3, null]);
        assert_eq!(
            apply_params("User %s failed %d times (%r) at 100%%", Some(&positional)),
            "User 42 failed 3 times (null) at 100%"
        );
        assert_eq!(
            apply_params("{} then {1} then {}", Some(&json!(["a", "b"]))),
            "a then b then b"
        );
        assert_eq!(
            apply_params(
                "%(user)s has %(count)5.1f",
                Some(&json!({"user": "ada", "count": 2}))
            ),
            "ada has 2"
        );
        assert_eq!(apply_params("100% %s", None), "100% %s");
        assert_eq!(
            apply_params("%s and %s", Some(&json!(["one"]))),
            "one and %s"
        );
    }

    #[test]
    fn messages_are_read_from_logentry_or_message() {
        let read = |event: Value| EventMessage::from_event(&event);
        let logentry = read(json!({"logentry": {"message": "User %s failed", "params": ["42"]}}));
        assert_eq!(
            logentry,
            Some(EventMessage {
                template: Some("User %s failed".into()),
                formatted: "User 42 failed".into()
            })
        );
        let formatted =
            read(json!({"logentry": {"message": "t", "formatted": "f"}, "message": "m"}));
        assert_eq!(formatted.map(|m| m.formatted), Some("f".into()));
        let plain = read(json!({"message": "plain"}));
        assert_eq!(
            plain.map(|m| (m.template, m.formatted)),
            Some((None, "plain".into()))
        );
        let object = read(json!({"message": {"message": "x %s", "params": [1]}}));
        assert_eq!(object.map(|m| m.formatted), Some("x 1".into()));
        for odd in [
            json!({}),
            json!({"message": 5}),
            json!({"message": "  "}),
            json!({"logentry": "x"}),
            json!({"logentry": {"message": 1, "params": "p"}}),
        ] {
            assert_eq!(read(odd.clone()), None, "{odd}");
        }
    }
}
