//! Record ids as every kind of data stores them: trace, span and event ids are
//! lowercase hex of a fixed length, whatever spelling the client sent (UUIDs
//! with dashes or braces, upper case).

/// `len` lowercase hex digits, when `text` is that many hex digits (dashes and
/// braces aside) and not all zero (the nil UUID, and the "invalid" id of W3C
/// trace context).
pub fn hex_id(text: &str, len: usize) -> Option<String> {
    let id: String = text
        .trim()
        .trim_matches(['{', '}'])
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (id.len() == len && id.bytes().all(|b| b.is_ascii_hexdigit()) && id.bytes().any(|b| b != b'0'))
        .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::hex_id;

    #[test]
    fn any_spelling_of_an_id_is_one_id() {
        let id = Some("9ec79c33ec9942ab8353589fcb2e04dc".to_string());
        assert_eq!(hex_id("9EC79C33-EC99-42AB-8353-589FCB2E04DC", 32), id);
        assert_eq!(hex_id(" {9ec79c33-ec99-42ab-8353-589fcb2e04dc} ", 32), id);
        assert_eq!(hex_id("9ec79c33ec9942ab", 32), None, "too short");
        assert_eq!(hex_id("9ec79c33ec9942ag", 16), None, "not hex");
        assert_eq!(hex_id(&"0".repeat(32), 32), None, "the nil id");
    }
}
