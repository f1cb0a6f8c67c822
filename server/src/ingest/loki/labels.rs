//! The label-set syntax of Loki's protobuf push (`StreamAdapter.labels`), the
//! same as a Prometheus series selector without operators:
//! `{app="api", env="prod"}`. Values are double-quoted with Go escapes (`\"`,
//! `\\`, `\n`, `\t`, `\xHH`, `\u263a`, octal, ...); names are identifiers or, as
//! Prometheus 3 allows, quoted strings. Anything else is a [`LabelError`], never
//! a panic: the string comes straight from the client.

use std::fmt;

/// Why a label string could not be read; the message names the byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LabelError(pub String);

/// Longest label string read, in bytes; longer ones are refused before parsing.
pub const MAX_LABELS_BYTES: usize = 64 * 1024;

/// Parses `{name="value", ...}` into its pairs, in their order. Duplicate names
/// are refused (Loki does too); an empty set `{}` is allowed.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, LabelError> {
    if text.len() > MAX_LABELS_BYTES {
        return Err(LabelError(format!(
            "label set longer than {} KiB",
            MAX_LABELS_BYTES / 1024
        )));
    }
    let mut reader = Reader { text, at: 0 };
    reader.skip_space();
    reader.expect(b'{', "`{`")?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    loop {
        reader.skip_space();
        if reader.eat(b'}') {
            break;
        }
        let name = reader.name()?;
        reader.skip_space();
        reader.expect(b'=', "`=` after a label name")?;
        reader.skip_space();
        let value = reader.quoted()?;
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(LabelError(format!("duplicate label name `{name}`")));
        }
        pairs.push((name, value));
        reader.skip_space();
        if reader.eat(b',') {
            continue;
        }
        reader.expect(b'}', "`,` or `}`")?;
        break;
    }
    reader.skip_space();
    if reader.at < text.len() {
        return Err(reader.error("nothing after `}`"));
    }
    Ok(pairs)
}

/// A cursor over the label string's bytes.
struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), LabelError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(format_args!("expected {what}")))
        }
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    fn error(&self, what: impl fmt::Display) -> LabelError {
        let found = match self
            .text
            .get(self.at..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => format!("`{}`", c.escape_debug()),
            None => "the end".to_string(),
        };
        LabelError(format!(
            "invalid labels: {what} at byte {}, found {found}",
            self.at
        ))
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, or a quoted string.
    fn name(&mut self) -> Result<String, LabelError> {
        if self.peek() == Some(b'"') {
            let name = self.quoted()?;
            if name.is_empty() {
                return Err(self.error("empty label name"));
            }
            return Ok(name);
        }
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.at += 1;
        }
        let name = &self.text[start..self.at];
        if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
            self.at = start;
            return Err(self.error("expected a label name"));
        }
        Ok(name.to_string())
    }

    /// A double-quoted string with Go's escapes. Bytes are collected and checked
    /// as UTF-8 at the end, because `\xHH` and octal escapes are bytes.
    fn quoted(&mut self) -> Result<String, LabelError> {
        self.expect(b'"', "`\"`")?;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            self.at += 1;
            match byte {
                b'"' => break,
                b'\\' => self.escape(&mut out)?,
                b'\n' => {
                    self.at -= 1;
                    return Err(self.error("newline in a string"));
                }
                other => out.push(other),
            }
        }
        String::from_utf8(out).map_err(|_| self.error("escapes that are not UTF-8"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), LabelError> {
        let Some(byte) = self.peek() else {
            return Err(self.error("unterminated escape"));
        };
        self.at += 1;
        let simple = match byte {
            b'"' => Some(b'"'),
            b'\'' => Some(b'\''),
            b'\\' => Some(b'\\'),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'a' => Some(0x07),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'v' => Some(0x0b),
            _ => None,
        };
        if let Some(b) = simple {
            out.push(b);
            return Ok(());
        }
        match byte {
            b'x' => {
                let n = self.digits(2, 16)?;
                out.push(n as u8);
            }
            b'0'..=b'7' => {
                self.at -= 1;
                let n = self.digits(3, 8)?;
                let b = u8::try_from(n).map_err(|_| self.error("octal escape above \\377"))?;
                out.push(b);
            }
            b'u' | b'U' => {
                let n = self.digits(if byte == b'u' { 4 } else { 8 }, 16)?;
                let c = char::from_u32(n)
                    .ok_or_else(|| self.error("escape of an invalid character"))?;
                let mut buffer = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            }
            _ => {
                self.at -= 1;
                return Err(self.error("unknown escape"));
            }
        }
        Ok(())
    }

    /// Exactly `count` digits in `radix`.
    fn digits(&mut self, count: usize, radix: u32) -> Result<u32, LabelError> {
        let mut n: u32 = 0;
        for _ in 0..count {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(radix))
                .ok_or_else(|| self.error("expected an escape digit"))?;
            n = n * radix + digit;
            self.at += 1;
        }
        Ok(n)
    }
}

/// Formats pairs back into the label syntax, escaping as Go does, so that
/// [`parse`] reads the same pairs (for messages and tests).
pub fn format(pairs: &[(String, String)]) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let identifier = name
            .bytes()
            .enumerate()
            .all(|(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()));
        if identifier && !name.is_empty() {
            out.push_str(name);
        } else {
            push_quoted(&mut out, name);
        }
        out.push('=');
        push_quoted(&mut out, value);
    }
    out.push('}');
    out
}

fn push_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plain_sets_parse_in_order() {
        assert_eq!(
            parse(r#"{app="api", env="prod"}"#),
            Ok(pairs(&[("app", "api"), ("env", "prod")]))
        );
        assert_eq!(parse(" { job = \"x\" ,\n } "), Ok(pairs(&[("job", "x")])));
        assert_eq!(parse("{}"), Ok(vec![]));
        assert_eq!(
            parse(r#"{_a1="",b="="}"#),
            Ok(pairs(&[("_a1", ""), ("b", "=")]))
        );
    }

    #[test]
    fn escapes_follow_go() {
        assert_eq!(
            parse(r#"{k2="v\"q", p="C:\\tmp", n="a\nb\tc"}"#),
            Ok(pairs(&[("k2", "v\"q"), ("p", "C:\\tmp"), ("n", "a\nb\tc")]))
        );
        assert_eq!(
            parse(r#"{u="\u263a\U0001F600", x="\xc3\xa9", o="\303\251"}"#),
            Ok(pairs(&[("u", "☺😀"), ("x", "é"), ("o", "é")]))
        );
        assert_eq!(
            parse(r#"{"service.name"="api"}"#),
            Ok(pairs(&[("service.name", "api")]))
        );
        assert_eq!(parse("{k=\"naïve ☃\"}"), Ok(pairs(&[("k", "naïve ☃")])));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            "",
            "{",
            "}",
            "app=\"x\"",
            "{app}",
            "{app=}",
            "{app=x}",
            "{app=\"x\"",
            "{app=\"x}",
            "{app=\"x\" env=\"y\"}",
            "{1app=\"x\"}",
            "{app=\"x\"} trailing",
            "{app=\"\\q\"}",
            "{app=\"\\x4\"}",
            "{app=\"\\xff\"}",
            "{app=\"\\400\"}",
            "{app=\"\\ud800\"}",
            "{app=\"\\",
            "{a=\"1\", a=\"2\"}",
            "{\"\"=\"x\"}",
            "{é=\"x\"}",
            "{app=\"line\nbreak\"}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        let message = parse("{app=\"x\" env=\"y\"}").unwrap_err().0;
        assert!(
            message.contains("expected `,` or `}` at byte 9, found `e`"),
            "{message}"
        );
        assert!(parse(&format!("{{a=\"{}\"}}", "x".repeat(MAX_LABELS_BYTES))).is_err());
    }

    #[test]
    fn every_prefix_of_a_valid_set_is_handled() {
        let text = r#"{a="\u00e9\"x", "b.c"="\\"}"#;
        for cut in 0..text.len() {
            if text.is_char_boundary(cut) {
                assert!(parse(&text[..cut]).is_err());
            }
        }
        assert!(parse(text).is_ok());
    }

    #[test]
    fn format_round_trips() {
        let set = pairs(&[("app", "a\"b\\\u{7}\n"), ("env", "prod"), ("k.8s", "é")]);
        assert_eq!(parse(&format(&set)), Ok(set));
    }
}
