//! Rows for `COPY ... FROM STDIN` in PostgreSQL's text format: fields separated
//! by tabs, rows ended by a newline, `\N` for null, and the characters the format
//! gives meaning to escaped with a backslash.

/// Appends `value` as one field, escaped. Special bytes are found with memchr's
/// vectorised search, since every message and attribute of every log line passes
/// here; each byte is looked at twice at most, as memchr finds at most three
/// kinds of byte at once.
pub fn push_text(out: &mut String, value: &str) {
    let mut start = 0;
    for i in memchr::memchr3_iter(b'\\', b'\n', b'\t', value.as_bytes()) {
        push_escaping_cr(out, &value[start..i]);
        out.push_str(match value.as_bytes()[i] {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            _ => "\\t",
        });
        start = i + 1;
    }
    push_escaping_cr(out, &value[start..]);
}

/// Appends `text`, which has no backslash, newline or tab, with its carriage
/// returns escaped.
fn push_escaping_cr(out: &mut String, text: &str) {
    let mut start = 0;
    for i in memchr::memchr_iter(b'\r', text.as_bytes()) {
        out.push_str(&text[start..i]);
        out.push_str("\\r");
        start = i + 1;
    }
    out.push_str(&text[start..]);
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
        // Linear in the length whatever the mix (1 MiB of CRs, then of tabs).
        for special in ['\r', '\t'] {
            out.clear();
            push_text(&mut out, &special.to_string().repeat(1 << 20));
            assert_eq!(out.len(), 2 << 20);
        }
    }
}
