//! Reading an ingestion body: at most so many bytes on the wire, then decompressed
//! (`Content-Encoding` gzip, deflate with or without zlib header, zstd, brotli) into
//! at most so many bytes, so a small compression bomb cannot take memory.

use std::io::Read;

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderMap, StatusCode},
};

use crate::http::error::ApiError;

/// The brotli decoder's input buffer; `raw` is in memory already, so a small one does.
const BROTLI_BUFFER_BYTES: usize = 4096;

/// Size limits of one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Bytes as received (compressed or not).
    pub wire: usize,
    /// Bytes after decompression.
    pub decoded: usize,
}

/// Reads and decompresses the body under `limits`.
pub async fn read(headers: &HeaderMap, body: Body, limits: BodyLimits) -> Result<Bytes, ApiError> {
    let raw = axum::body::to_bytes(body, limits.wire).await.map_err(|_| {
        ApiError::Rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than {}", human(limits.wire)),
        )
    })?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let decoded = match encoding.as_str() {
        "" | "identity" => {
            return if raw.len() > limits.decoded {
                Err(too_large(limits))
            } else {
                Ok(raw)
            }
        }
        "gzip" | "x-gzip" => bounded(
            flate2::bufread::MultiGzDecoder::new(&raw[..]),
            &raw,
            limits,
            "gzip",
        )?,
        "deflate" => {
            // HTTP says zlib-wrapped; some clients send raw deflate. The zlib header's
            // checksum tells them apart.
            if raw.len() >= 2
                && (u16::from(raw[0]) << 8 | u16::from(raw[1])) % 31 == 0
                && raw[0] & 0x0f == 8
            {
                bounded(
                    flate2::bufread::ZlibDecoder::new(&raw[..]),
                    &raw,
                    limits,
                    "deflate",
                )?
            } else {
                bounded(
                    flate2::bufread::DeflateDecoder::new(&raw[..]),
                    &raw,
                    limits,
                    "deflate",
                )?
            }
        }
        "zstd" => {
            let decoder = zstd::stream::read::Decoder::new(&raw[..])
                .map_err(|e| ApiError::BadRequest(format!("body is not valid zstd: {e}")))?;
            bounded(decoder, &raw, limits, "zstd")?
        }
        // Browser SDKs (Sentry's among them) compress with `CompressionStream`,
        // which offers brotli where gzip would be larger.
        "br" => bounded(
            brotli_decompressor::Decompressor::new(&raw[..], BROTLI_BUFFER_BYTES),
            &raw,
            limits,
            "brotli",
        )?,
        other => {
            return Err(ApiError::Rejected(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Encoding `{other}` is not supported; use gzip, deflate, zstd or br"
                ),
            ))
        }
    };
    Ok(Bytes::from(decoded))
}

/// Decompresses `reader` (reading `raw`) up to the decoded limit.
fn bounded(
    reader: impl Read,
    raw: &[u8],
    limits: BodyLimits,
    name: &str,
) -> Result<Vec<u8>, ApiError> {
    // Room for typical ratios up front: growing by doubling copies the output.
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4).min(limits.decoded));
    reader
        .take(limits.decoded as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::BadRequest(format!("body is not valid {name}: {e}")))?;
    if out.len() > limits.decoded {
        return Err(too_large(limits));
    }
    Ok(out)
}

fn too_large(limits: BodyLimits) -> ApiError {
    ApiError::Rejected(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("decompressed body larger than {}", human(limits.decoded)),
    )
}

fn human(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: BodyLimits = BodyLimits {
        wire: 1024,
        decoded: 64,
    };

    /// A brotli stream holding `data` in one uncompressed meta-block (RFC 7932
    /// §9.2), so the test needs no brotli encoder: WBITS 16, MNIBBLES 4,
    /// MLEN-1, ISUNCOMPRESSED, padding, the data, then an empty last meta-block.
    fn brotli_stored(data: &[u8]) -> Vec<u8> {
        assert!((1..=1 << 16).contains(&data.len()));
        let bits = ((data.len() as u32 - 1) << 4) | 1 << 20;
        let mut out = bits.to_le_bytes()[..3].to_vec();
        out.extend_from_slice(data);
        out.push(0b11);
        out
    }

    async fn read_br(raw: Vec<u8>) -> Result<Bytes, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, "br".parse().unwrap());
        read(&headers, Body::from(raw), LIMITS).await
    }

    #[tokio::test]
    async fn brotli_bodies_are_decoded_within_the_limit() {
        let body = read_br(brotli_stored(b"{\"message\":\"hello\"}"))
            .await
            .unwrap();
        assert_eq!(&body[..], b"{\"message\":\"hello\"}");

        let err = read_br(brotli_stored(&[b'a'; 65])).await.unwrap_err();
        assert!(
            matches!(&err, ApiError::Rejected(StatusCode::PAYLOAD_TOO_LARGE, m) if m.contains("decompressed body larger than")),
            "{err}"
        );
        // A metadata meta-block with its reserved bit set.
        let err = read_br(vec![0x1c, 0, 0, 0]).await.unwrap_err();
        assert!(
            matches!(&err, ApiError::BadRequest(m) if m.contains("not valid brotli")),
            "{err}"
        );
    }
}
