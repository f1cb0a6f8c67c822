//! The body of the legacy `POST /api/{project_id}/store/` endpoint, which older
//! SDKs (raven-python, raven-js, sentry-php 1.x, ...) still use: one event as
//! JSON, or that JSON base64-encoded, optionally zlib-compressed first. A body
//! compressed by `Content-Encoding` has already been inflated by
//! [`crate::ingest::body`]; this handles the encodings inside the body, under the
//! same kind of bound so a small compressed body cannot take memory.

use std::io::Read;

use base64::{
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};

/// Standard base64, with or without the trailing `=` padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a store body could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("empty body: expected a JSON event")]
    Empty,
    #[error("decoded event is larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("body is neither a JSON object nor base64: {0}")]
    Base64(#[source] base64::DecodeError),
    #[error("body is not valid zlib: {0}")]
    Zlib(#[source] std::io::Error),
    #[error("decoded body is not a JSON object (it does not start with `{{`)")]
    NotJson,
}

impl StoreError {
    /// Whether the body broke the size limit (413) rather than being malformed (400).
    pub fn is_too_large(&self) -> bool {
        matches!(self, StoreError::TooLarge { .. })
    }
}

/// The event JSON carried by a store body, at most `max_bytes` long. The JSON is
/// not parsed here, only checked to start like an object.
pub fn decode_store_body(body: &[u8], max_bytes: usize) -> Result<Vec<u8>, StoreError> {
    let body = body.trim_ascii();
    if body.is_empty() {
        return Err(StoreError::Empty);
    }
    if body.starts_with(b"{") {
        return within(body.to_vec(), max_bytes);
    }
    // Raw zlib is not base64: 0x78 followed by a byte that completes a valid
    // zlib header is never two base64 characters.
    if body[0] == 0x78 && is_zlib(body) {
        return json(inflate(body, max_bytes)?);
    }
    let text: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let decoded = BASE64.decode(&text).map_err(StoreError::Base64)?;
    if is_zlib(&decoded) {
        json(inflate(&decoded, max_bytes)?)
    } else {
        json(within(decoded, max_bytes)?)
    }
}

/// Whether `data` starts with a zlib header (RFC 1950: deflate method, and a
/// checksum that makes the first two bytes a multiple of 31). JSON's `{` (0x7b)
/// never passes, so plain JSON is not mistaken for zlib.
fn is_zlib(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Inflates zlib data, reading at most one byte past `max_bytes` so a
/// compression bomb stops there.
fn inflate(data: &[u8], max_bytes: usize) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data)
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut out)
        .map_err(StoreError::Zlib)?;
    within(out, max_bytes)
}

fn within(data: Vec<u8>, max_bytes: usize) -> Result<Vec<u8>, StoreError> {
    if data.len() > max_bytes {
        return Err(StoreError::TooLarge { max: max_bytes });
    }
    Ok(data)
}

fn json(data: Vec<u8>) -> Result<Vec<u8>, StoreError> {
    if data.trim_ascii_start().starts_with(b"{") {
        Ok(data)
    } else {
        Err(StoreError::NotJson)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::engine::general_purpose::STANDARD;

    use super::*;

    const EVENT: &[u8] =
        br#"{"event_id":"fc6d8c0c43fc4630ad850ee518f1b9d0","message":"hello","level":"error"}"#;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn plain_json_is_returned_as_sent() {
        assert_eq!(decode_store_body(EVENT, 1024).unwrap(), EVENT);
        let padded = [b"\r\n  ", EVENT, b"\n"].concat();
        assert_eq!(decode_store_body(&padded, 1024).unwrap(), EVENT);
    }

    #[test]
    fn base64_of_json_or_of_zlib() {
        let encoded = STANDARD.encode(EVENT);
        assert_eq!(decode_store_body(encoded.as_bytes(), 1024).unwrap(), EVENT);
        // raven-python: base64(zlib(json)), here wrapped over lines like MIME.
        let encoded = STANDARD.encode(zlib(EVENT));
        let wrapped: String = encoded
            .as_bytes()
            .chunks(20)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(decode_store_body(wrapped.as_bytes(), 1024).unwrap(), EVENT);
        // Without padding.
        let unpadded = encoded.trim_end_matches('=');
        assert_eq!(decode_store_body(unpadded.as_bytes(), 1024).unwrap(), EVENT);
        // Raw zlib, no base64.
        assert_eq!(decode_store_body(&zlib(EVENT), 1024).unwrap(), EVENT);
    }

    #[test]
    fn sizes_are_bounded_after_decoding() {
        let big = [b"{\"message\":\"".as_slice(), &[b'a'; 100_000], b"\"}"].concat();
        for body in [
            big.clone(),
            STANDARD.encode(&big).into_bytes(),
            STANDARD.encode(zlib(&big)).into_bytes(),
        ] {
            let err = decode_store_body(&body, 1000).unwrap_err();
            assert!(err.is_too_large(), "{err}");
        }
        assert_eq!(
            decode_store_body(&STANDARD.encode(zlib(&big)).into_bytes(), big.len()).unwrap(),
            big
        );
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        let err = |body: &[u8]| decode_store_body(body, 1024).unwrap_err();
        assert!(matches!(err(b""), StoreError::Empty));
        assert!(matches!(err(b"  \n"), StoreError::Empty));
        assert!(matches!(err(b"not json!"), StoreError::Base64(_)));
        assert!(matches!(
            err(STANDARD.encode("[1,2]").as_bytes()),
            StoreError::NotJson
        ));
        let mut broken = zlib(EVENT);
        broken.truncate(broken.len() / 2);
        let err = err(STANDARD.encode(&broken).as_bytes());
        assert!(matches!(err, StoreError::Zlib(_)), "{err}");
        assert!(!err.is_too_large());
    }
}
