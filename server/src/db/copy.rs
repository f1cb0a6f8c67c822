//! Rows for `COPY ... FROM STDIN` in PostgreSQL's text format: fields separated
//! by tabs, rows ended by a newline, `\N` for null, and the characters the format
//! gives meaning to escaped with a backslash.

/// Appends `value` as one field, escaped.
pub fn push_text(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(i) = next_special(rest.as_bytes()) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            _ => "\\t",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// The first backslash, newline, carriage return or tab: the bytes the text
/// format gives meaning to. memchr's vectorised search, because every message
/// and attribute of every log line passes here.
fn next_special(bytes: &[u8]) -> Option<usize> {
    let first = memchr::memchr3(b'\\', b'\n', b'\t', bytes);
    let before = &bytes[..first.unwrap_or(bytes.len())];
    memchr::memchr(b'\r', before).or(first)
}

/// Appends `value` as one field, or null.
pub fn push_optional(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) => push_text(out, v),
        None => out.push_str("\\N"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped_and_null_is_marked() {
        let mut out = String::new();
        push_text(&mut out, "a\tb\\c\nd\re");
        out.push('\t');
        push_optional(&mut out, None);
        assert_eq!(out, "a\\tb\\\\c\\nd\\re\t\\N");
        out.clear();
        push_text(&mut out, "é\r\nü\\\\ plain 🌍\t");
        assert_eq!(out, "é\\r\\nü\\\\\\\\ plain 🌍\\t");
    }
}
