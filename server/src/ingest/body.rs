//! Reading an ingestion body: at most so many bytes on the wire, then decompressed
//! (`Content-Encoding` gzip, deflate with or without zlib header, zstd, brotli) into
//! at most so many bytes, so that a compression bomb costs neither memory nor the
//! other requests' time.
//!
//! - Decompression runs on the blocking pool, never on an async worker, and at
//!   most one body per CPU at a time.
//! - Decoded bodies in flight across all requests share one [`DecodeBudget`]
//!   (`SIGHTLINE_INGEST_DECODE_MB`): a body's bytes are reserved before they are
//!   written and released when the last reference to them is dropped. A request
//!   that finds no room waits a few seconds, then gets 429 with `Retry-After`.
//! - A body is decoded into at most [`FIRST_STEP_BYTES`] first. Only the rare body
//!   that is larger is then measured by decoding it into nothing; a bomb ends
//!   there (413) having held no memory, and a legitimate one reserves its exact
//!   size and is decoded again.

use std::{io::Read, sync::Arc, time::Duration};

use axum::{
    body::{Body, Bytes},
    http::{header, HeaderMap, StatusCode},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::error::ApiError;

/// The brotli decoder's input buffer; `raw` is in memory already, so a small one does.
const BROTLI_BUFFER_BYTES: usize = 4096;
/// Most bytes a body is decoded into before it is measured first.
const FIRST_STEP_BYTES: usize = 8 * 1024 * 1024;
/// How long a request waits for room in the budget (or a free decoder) before it
/// is refused with 429.
const BUDGET_WAIT: Duration = Duration::from_secs(5);
/// What a refused client is asked to wait.
const RETRY_AFTER_SECS: u64 = 1;

/// Size limits of one endpoint.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Bytes as received (compressed or not).
    pub wire: usize,
    /// Bytes after decompression.
    pub decoded: usize,
}

/// Decoded bytes all requests may hold at once, and the decoders that may run.
#[derive(Debug)]
pub struct DecodeBudget {
    bytes: Arc<Semaphore>,
    total: usize,
    decoders: Arc<Semaphore>,
}

impl DecodeBudget {
    /// A budget of `total` bytes (raised to the largest decoded body an endpoint
    /// accepts, so that every body can fit), decoded by as many threads at once
    /// as the machine has CPUs.
    pub fn new(total: usize) -> Self {
        let total = total.clamp(LARGEST_DECODED + 1, Semaphore::MAX_PERMITS);
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        DecodeBudget {
            bytes: Arc::new(Semaphore::new(total)),
            total,
            decoders: Arc::new(Semaphore::new(cpus)),
        }
    }

    /// Bytes reserved by bodies being decoded or in use now.
    pub fn in_use(&self) -> usize {
        self.total - self.bytes.available_permits()
    }

    /// Reserves `bytes`, waiting up to [`BUDGET_WAIT`] for room.
    async fn reserve(&self, bytes: usize) -> Result<OwnedSemaphorePermit, ApiError> {
        let permits = u32::try_from(bytes.clamp(1, self.total)).unwrap_or(u32::MAX);
        tokio::time::timeout(BUDGET_WAIT, self.bytes.clone().acquire_many_owned(permits))
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(busy)
    }

    /// Runs `decode` on the blocking pool once a decoder is free.
    async fn run<T: Send + 'static>(
        &self,
        decode: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let decoder = tokio::time::timeout(BUDGET_WAIT, self.decoders.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(busy)?;
        let result = tokio::task::spawn_blocking(decode)
            .await
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("decoding a body")));
        drop(decoder);
        result
    }
}

/// Bodies up to this many bytes are parsed on the request's own task; larger
/// ones on the blocking pool ([`parse`]).
pub const INLINE_PARSE_BYTES: usize = 256 * 1024;

/// Runs `parse` over a body of `bytes` bytes: inline when it is small, else on
/// the blocking pool, since parsing megabytes of JSON or protobuf would stall
/// the other requests of this runtime thread.
pub async fn parse<T: Send + 'static>(
    bytes: usize,
    parse: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    if bytes <= INLINE_PARSE_BYTES {
        return Ok(parse());
    }
    tokio::task::spawn_blocking(parse)
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("parsing a body")))
}

/// The largest decoded body of any endpoint (Elasticsearch `_bulk`).
const LARGEST_DECODED: usize = 128 * 1024 * 1024;

fn busy() -> ApiError {
    metrics::counter!("ingest_decode_budget_refusals_total").increment(1);
    ApiError::TooManyRequests {
        message: "the server is decompressing too much data at once; retry in a moment".into(),
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

/// The decompressors Sightline speaks.
#[derive(Debug, Clone, Copy)]
enum Codec {
    Gzip,
    Zlib,
    Deflate,
    Zstd,
    Brotli,
}

impl Codec {
    /// The codec of a `Content-Encoding`; `None` for identity.
    fn of(encoding: &str, raw: &[u8]) -> Result<Option<Codec>, ApiError> {
        Ok(Some(match encoding {
            "" | "identity" => return Ok(None),
            "gzip" | "x-gzip" => Codec::Gzip,
            // HTTP says zlib-wrapped; some clients send raw deflate. The zlib
            // header's checksum tells them apart.
            "deflate"
                if raw.len() >= 2
                    && (u16::from(raw[0]) << 8 | u16::from(raw[1])) % 31 == 0
                    && raw[0] & 0x0f == 8 =>
            {
                Codec::Zlib
            }
            "deflate" => Codec::Deflate,
            "zstd" => Codec::Zstd,
            // Browser SDKs (Sentry's among them) compress with `CompressionStream`,
            // which offers brotli where gzip would be larger.
            "br" => Codec::Brotli,
            other => {
                return Err(ApiError::Rejected(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "Content-Encoding `{other}` is not supported; use gzip, deflate, zstd or br"
                    ),
                ))
            }
        }))
    }

    fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zlib | Codec::Deflate => "deflate",
            Codec::Zstd => "zstd",
            Codec::Brotli => "brotli",
        }
    }

    /// A reader of the decoded bytes of `raw`.
    fn reader(self, raw: &[u8]) -> Result<Box<dyn Read + '_>, ApiError> {
        Ok(match self {
            Codec::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
            Codec::Zlib => Box::new(flate2::bufread::ZlibDecoder::new(raw)),
            Codec::Deflate => Box::new(flate2::bufread::DeflateDecoder::new(raw)),
            Codec::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(raw)
                    .map_err(|e| ApiError::BadRequest(format!("body is not valid zstd: {e}")))?,
            ),
            Codec::Brotli => Box::new(brotli_decompressor::Decompressor::new(
                raw,
                BROTLI_BUFFER_BYTES,
            )),
        })
    }

    /// Decodes at most `max` bytes of `raw`; more than `max` means there is more.
    /// The output never holds more than `max` bytes of memory: it grows by
    /// doubling, capped at `max`, not past it as `read_to_end` alone would.
    fn decode(self, raw: &[u8], max: usize) -> Result<Vec<u8>, ApiError> {
        // Room for typical ratios up front: growing by doubling copies the output.
        let mut out = Vec::with_capacity(raw.len().saturating_mul(4).max(4096).min(max));
        let mut reader = self.reader(raw)?.take(max as u64);
        loop {
            if out.len() == out.capacity() {
                if out.len() >= max {
                    break;
                }
                out.reserve_exact(out.capacity().min(max - out.len()));
            }
            let room = out.capacity() - out.len();
            let read = (&mut reader)
                .take(room as u64)
                .read_to_end(&mut out)
                .map_err(|e| self.invalid(e))?;
            if read < room {
                break;
            }
        }
        Ok(out)
    }

    /// The decoded size of `raw`, counted up to `max + 1` without keeping a byte.
    fn measure(self, raw: &[u8], max: usize) -> Result<usize, ApiError> {
        let counted = std::io::copy(
            &mut self.reader(raw)?.take(max as u64 + 1),
            &mut std::io::sink(),
        )
        .map_err(|e| self.invalid(e))?;
        Ok(usize::try_from(counted).unwrap_or(usize::MAX))
    }

    fn invalid(self, error: std::io::Error) -> ApiError {
        ApiError::BadRequest(format!("body is not valid {}: {error}", self.name()))
    }
}

/// Decoded bytes together with their reservation in the budget, released when
/// the last `Bytes` referring to them is dropped.
struct Reserved {
    data: Vec<u8>,
    _permit: OwnedSemaphorePermit,
}

impl Reserved {
    /// `data` as `Bytes`, holding as much of `permit` as `data` takes.
    fn keep(data: Vec<u8>, mut permit: OwnedSemaphorePermit) -> Bytes {
        let excess = permit.num_permits().saturating_sub(data.capacity().max(1));
        drop(permit.split(excess));
        Bytes::from_owner(Reserved {
            data,
            _permit: permit,
        })
    }
}

impl AsRef<[u8]> for Reserved {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

/// Reads and decompresses the body under `limits` and the shared `budget`.
pub async fn read(
    budget: &DecodeBudget,
    headers: &HeaderMap,
    body: Body,
    limits: BodyLimits,
) -> Result<Bytes, ApiError> {
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
    let Some(codec) = Codec::of(&encoding, &raw)? else {
        return if raw.len() > limits.decoded {
            Err(too_large(limits))
        } else {
            Ok(raw)
        };
    };

    // Most bodies: one pass into a small reservation.
    let first = FIRST_STEP_BYTES.min(limits.decoded);
    let permit = budget.reserve(first + 1).await?;
    let input = raw.clone();
    let out = budget
        .run(move || codec.decode(&input, first + 1))
        .await??;
    if out.len() <= first {
        return Ok(Reserved::keep(out, permit));
    }
    drop((out, permit));
    if first == limits.decoded {
        return Err(too_large(limits));
    }

    // Larger: measure without memory, then decode into exactly that much.
    let input = raw.clone();
    let size = budget
        .run(move || codec.measure(&input, limits.decoded))
        .await??;
    if size > limits.decoded {
        return Err(too_large(limits));
    }
    let permit = budget.reserve(size).await?;
    let out = budget.run(move || codec.decode(&raw, size)).await??;
    Ok(Reserved::keep(out, permit))
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
        read(&DecodeBudget::new(0), &headers, Body::from(raw), LIMITS).await
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
