//! Rows for `COPY ... FROM STDIN`, in PostgreSQL's text format (fields
//! separated by tabs, rows ended by a newline, `\N` for null, and the characters
//! the format gives meaning to escaped with a backslash), or in its binary
//! format ([`BinaryRows`]) where a value's exact bits matter.

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

/// Rows for `COPY ... FROM STDIN WITH (FORMAT binary)`: numbers travel as
/// their bits, so a float's NaN payload (Prometheus's stale marker) survives,
/// and nothing is formatted or parsed on either side.
#[derive(Debug)]
pub struct BinaryRows {
    buffer: Vec<u8>,
}

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl BinaryRows {
    /// An empty stream: the signature, no flags, no header extension.
    pub fn with_capacity(bytes: usize) -> Self {
        let mut buffer = Vec::with_capacity(bytes + 21);
        buffer.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buffer.extend_from_slice(&0i32.to_be_bytes());
        buffer.extend_from_slice(&0i32.to_be_bytes());
        BinaryRows { buffer }
    }

    /// Starts a row of `fields` fields; the fields follow.
    pub fn row(&mut self, fields: i16) {
        self.buffer.extend_from_slice(&fields.to_be_bytes());
    }

    fn field(&mut self, bytes: &[u8; 8]) {
        self.buffer.extend_from_slice(&8i32.to_be_bytes());
        self.buffer.extend_from_slice(bytes);
    }

    /// A `bigint` field.
    pub fn int8(&mut self, value: i64) {
        self.field(&value.to_be_bytes());
    }

    /// A `double precision` field, bit for bit.
    pub fn float8(&mut self, value: f64) {
        self.field(&value.to_bits().to_be_bytes());
    }

    /// A `timestamptz` field from milliseconds since the Unix epoch.
    pub fn timestamptz_millis(&mut self, millis: i64) {
        let micros = millis
            .saturating_mul(1000)
            .saturating_sub(POSTGRES_EPOCH_MICROS);
        self.field(&micros.to_be_bytes());
    }

    /// The stream, ended by its trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.buffer.extend_from_slice(&(-1i16).to_be_bytes());
        self.buffer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_rows_have_the_signature_fields_and_trailer() {
        let mut rows = BinaryRows::with_capacity(0);
        rows.row(2);
        rows.int8(7);
        rows.timestamptz_millis(946_684_800_001);
        let bytes = rows.finish();
        assert_eq!(&bytes[..11], b"PGCOPY\n\xff\r\n\0");
        assert_eq!(&bytes[19..21], &2i16.to_be_bytes());
        assert_eq!(&bytes[21..25], &8i32.to_be_bytes());
        assert_eq!(&bytes[25..33], &7i64.to_be_bytes());
        // One millisecond after PostgreSQL's epoch is 1000 microseconds.
        assert_eq!(&bytes[37..45], &1000i64.to_be_bytes());
        assert_eq!(&bytes[45..], &(-1i16).to_be_bytes());
    }

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
