//! Rows for `COPY ... FROM STDIN` in PostgreSQL's text format: fields separated
//! by tabs, rows ended by a newline, `\N` for null, and the characters the format
//! gives meaning to escaped with a backslash.

/// Appends `value` as one field, escaped.
pub fn push_text(out: &mut String, value: &str) {
    if !value
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\n' | b'\r' | b'\t'))
    {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
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
    }
}
