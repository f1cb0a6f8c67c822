//! Prometheus's XOR ("Gorilla") chunk encoding for float samples.
//!
//! The byte layout is the `data` part of an XOR chunk as Prometheus writes it
//! (`tsdb/chunkenc/xor.go`, `tsdb/docs/format/chunks.md`), so a chunk made
//! here is bit-for-bit what Prometheus would produce for the same samples and
//! vice versa:
//!
//! ```text
//! num_samples <u16 BE> | ts_0 <varint> | v_0 <f64 bits> | ts_1 - ts_0 <uvarint> | v_1 xor
//! | ts_2 delta-of-delta <varbit> | v_2 xor | ... | zero padding to a byte
//! ```
//!
//! Values are handled purely as their 64 bits, so every `f64` round-trips
//! exactly: NaN payloads (the staleness marker `0x7ff0000000000002`), ±Inf,
//! `-0.0`. Timestamp arithmetic wraps like Go's does, so even out-of-order
//! timestamps round-trip, although Prometheus only ever appends ascending ones.
//!
//! The surrounding chunk-file framing (length, encoding byte, CRC32C) is not
//! part of this module.

use std::fmt;

/// Most samples one chunk can hold: the count is a `u16`. Splitting longer
/// series into several chunks is the caller's job.
pub const MAX_SAMPLES: usize = u16::MAX as usize;

/// Why a chunk could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// More samples than the `u16` header can count.
    TooManySamples(usize),
    /// Fewer than the two header bytes.
    MissingHeader,
    /// The bit stream ended before sample `index` was complete.
    Truncated { index: usize },
    /// A varint longer than 64 bits (corrupt data) at sample `index`.
    VarintOverflow { index: usize },
    /// A value's leading-zero count plus significant bits exceed 64 at
    /// sample `index`; no encoder writes that, so the data is corrupt.
    BadXorWindow { index: usize },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManySamples(n) => {
                write!(f, "{n} samples do not fit one chunk (max {MAX_SAMPLES})")
            }
            Self::MissingHeader => f.write_str("chunk shorter than its 2-byte header"),
            Self::Truncated { index } => write!(f, "chunk truncated in sample {index}"),
            Self::VarintOverflow { index } => {
                write!(f, "varint overflows 64 bits in sample {index}")
            }
            Self::BadXorWindow { index } => {
                write!(f, "invalid XOR leading/significant bits in sample {index}")
            }
        }
    }
}

impl std::error::Error for CodecError {}

/// Encodes `samples` into one XOR chunk.
///
/// Timestamps are meant to be strictly ascending (as Prometheus appends
/// them); other orders still round-trip but compress badly. Fails only when
/// there are more than [`MAX_SAMPLES`] samples.
pub fn encode(samples: &[(i64, f64)]) -> Result<Vec<u8>, CodecError> {
    let count =
        u16::try_from(samples.len()).map_err(|_| CodecError::TooManySamples(samples.len()))?;
    let mut w = BitWriter::with_capacity(2 + samples.len() * 2);
    w.buf.extend_from_slice(&count.to_be_bytes());

    let mut prev_t = 0i64;
    let mut prev_v = 0u64;
    let mut prev_delta = 0u64;
    // `None` means "no window yet": the first XOR'd value must write a fresh
    // one (Prometheus marks this with leading = 0xff).
    let mut window: Option<(u32, u32)> = None;

    for (i, &(t, v)) in samples.iter().enumerate() {
        let v = v.to_bits();
        match i {
            0 => {
                w.write_varint(t);
                w.write_bits(v, 64);
            }
            1 => {
                prev_delta = t.wrapping_sub(prev_t) as u64;
                w.write_uvarint(prev_delta);
                write_xor(&mut w, v ^ prev_v, &mut window);
            }
            _ => {
                let delta = t.wrapping_sub(prev_t) as u64;
                let dod = delta.wrapping_sub(prev_delta) as i64;
                // Bucket widths are Prometheus's (wider than Gorilla's
                // because timestamps are in ms, not s).
                if dod == 0 {
                    w.write_bit(false);
                } else if bit_range(dod, 14) {
                    w.write_bits(0b10, 2);
                    w.write_bits(dod as u64, 14);
                } else if bit_range(dod, 17) {
                    w.write_bits(0b110, 3);
                    w.write_bits(dod as u64, 17);
                } else if bit_range(dod, 20) {
                    w.write_bits(0b1110, 4);
                    w.write_bits(dod as u64, 20);
                } else {
                    w.write_bits(0b1111, 4);
                    w.write_bits(dod as u64, 64);
                }
                prev_delta = delta;
                write_xor(&mut w, v ^ prev_v, &mut window);
            }
        }
        prev_t = t;
        prev_v = v;
    }
    Ok(w.buf)
}

/// Whether `x` fits the `nbits` dod bucket. The range is deliberately
/// asymmetric, `-(2^(n-1) - 1) ..= 2^(n-1)`, exactly as Prometheus's
/// `bitRange`: the decoder maps the raw pattern `2^(n-1)` to the positive
/// value, so the most negative value is excluded.
fn bit_range(x: i64, nbits: u32) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= x && x <= half
}

/// Writes one value as the XOR with its predecessor, reusing the previous
/// leading/trailing-zero window when the new bits fit inside it.
fn write_xor(w: &mut BitWriter, xor: u64, window: &mut Option<(u32, u32)>) {
    if xor == 0 {
        w.write_bit(false);
        return;
    }
    w.write_bit(true);
    // The leading count has only 5 bits on the wire.
    let leading = xor.leading_zeros().min(31);
    let trailing = xor.trailing_zeros();
    match *window {
        Some((wl, wt)) if leading >= wl && trailing >= wt => {
            w.write_bit(false);
            w.write_bits(xor >> wt, 64 - wl - wt);
        }
        _ => {
            *window = Some((leading, trailing));
            w.write_bit(true);
            w.write_bits(u64::from(leading), 5);
            let sigbits = 64 - leading - trailing;
            // 64 significant bits are written as 0 in the 6-bit field; 0 is
            // never needed because a zero XOR takes the branch above.
            w.write_bits(u64::from(sigbits), 6);
            w.write_bits(xor >> trailing, sigbits);
        }
    }
}

/// Decodes one XOR chunk. Bytes after the last sample are ignored (as
/// Prometheus does); any inconsistency returns an error, never a panic.
pub fn decode(data: &[u8]) -> Result<Vec<(i64, f64)>, CodecError> {
    let (header, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => return Err(CodecError::MissingHeader),
    };
    let total = usize::from(header);
    let mut r = BitReader::new(body);
    let mut out = Vec::with_capacity(total);

    let mut t = 0i64;
    let mut v = 0u64;
    let mut delta = 0u64;
    // Prometheus's iterator starts with a zero window, so a (never encoded)
    // "reuse window" bit on the first XOR means 64 significant bits.
    let mut leading = 0u32;
    let mut trailing = 0u32;

    for index in 0..total {
        let trunc = |_| CodecError::Truncated { index };
        match index {
            0 => {
                t = r.read_varint(index)?;
                v = r.read_bits(64).map_err(trunc)?;
            }
            1 => {
                delta = r.read_uvarint(index)?;
                t = t.wrapping_add(delta as i64);
                v = read_xor(&mut r, v, &mut leading, &mut trailing, index)?;
            }
            _ => {
                let mut prefix = 0u8;
                for _ in 0..4 {
                    let bit = r.read_bit().map_err(trunc)?;
                    prefix = (prefix << 1) | u8::from(bit);
                    if !bit {
                        break;
                    }
                }
                let dod = match prefix {
                    0b0 => 0,
                    0b10 => read_signed(&mut r, 14).map_err(trunc)?,
                    0b110 => read_signed(&mut r, 17).map_err(trunc)?,
                    0b1110 => read_signed(&mut r, 20).map_err(trunc)?,
                    _ => r.read_bits(64).map_err(trunc)? as i64,
                };
                delta = (delta as i64).wrapping_add(dod) as u64;
                t = t.wrapping_add(delta as i64);
                v = read_xor(&mut r, v, &mut leading, &mut trailing, index)?;
            }
        }
        out.push((t, f64::from_bits(v)));
    }
    Ok(out)
}

/// Reads an `sz`-bit dod; patterns above `2^(sz-1)` are negative.
fn read_signed(r: &mut BitReader<'_>, sz: u32) -> Result<i64, Eof> {
    let bits = r.read_bits(sz)? as i64;
    Ok(if bits > 1 << (sz - 1) {
        bits - (1 << sz)
    } else {
        bits
    })
}

fn read_xor(
    r: &mut BitReader<'_>,
    prev: u64,
    leading: &mut u32,
    trailing: &mut u32,
    index: usize,
) -> Result<u64, CodecError> {
    let trunc = |_| CodecError::Truncated { index };
    if !r.read_bit().map_err(trunc)? {
        return Ok(prev);
    }
    if r.read_bit().map_err(trunc)? {
        let l = r.read_bits(5).map_err(trunc)? as u32;
        let mut sig = r.read_bits(6).map_err(trunc)? as u32;
        if sig == 0 {
            sig = 64;
        }
        if l + sig > 64 {
            return Err(CodecError::BadXorWindow { index });
        }
        *leading = l;
        *trailing = 64 - l - sig;
    }
    let sig = 64 - *leading - *trailing;
    let bits = r.read_bits(sig).map_err(trunc)?;
    Ok(prev ^ (bits << *trailing))
}

/// MSB-first bit writer; the last byte is zero-padded.
struct BitWriter {
    buf: Vec<u8>,
    /// Bits still free in the last byte of `buf` (0 = start a new byte).
    free: u32,
}

impl BitWriter {
    fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
            free: 0,
        }
    }

    fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }

    /// Writes the low `n` bits of `value` (`n` <= 64), most significant first.
    fn write_bits(&mut self, value: u64, n: u32) {
        let mut left = n;
        while left > 0 {
            if self.free == 0 {
                self.buf.push(0);
                self.free = 8;
            }
            let take = left.min(self.free);
            // The `take` bits of value just below bit `left`.
            let chunk = (value >> (left - take)) & ((1u64 << take) - 1);
            if let Some(last) = self.buf.last_mut() {
                *last |= (chunk as u8) << (self.free - take);
            }
            self.free -= take;
            left -= take;
        }
    }

    /// Go's `binary.PutUvarint`: 7 bits per byte, little-endian groups.
    fn write_uvarint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.write_bits((x as u8 | 0x80).into(), 8);
            x >>= 7;
        }
        self.write_bits(x, 8);
    }

    /// Go's `binary.PutVarint`: zig-zag, then uvarint.
    fn write_varint(&mut self, x: i64) {
        self.write_uvarint(((x << 1) ^ (x >> 63)) as u64);
    }
}

/// The input ran out.
struct Eof;

/// MSB-first bit reader over a byte slice.
struct BitReader<'a> {
    data: &'a [u8],
    /// Next bit to read, counted from the start of `data`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn read_bit(&mut self) -> Result<bool, Eof> {
        Ok(self.read_bits(1)? == 1)
    }

    /// Reads `n` (<= 64) bits, most significant first.
    fn read_bits(&mut self, n: u32) -> Result<u64, Eof> {
        let end = self.pos.checked_add(n as usize).ok_or(Eof)?;
        if end > self.data.len().saturating_mul(8) {
            return Err(Eof);
        }
        let mut out = 0u64;
        let mut left = n;
        while left > 0 {
            let byte = *self.data.get(self.pos / 8).ok_or(Eof)?;
            let avail = 8 - (self.pos % 8) as u32;
            let take = left.min(avail);
            let chunk = (u64::from(byte) >> (avail - take)) & ((1u64 << take) - 1);
            // `take` <= 8, so the shift never reaches 64.
            out = (out << take) | chunk;
            self.pos += take as usize;
            left -= take;
        }
        Ok(out)
    }

    /// Go's `binary.ReadUvarint`, including its overflow check.
    fn read_uvarint(&mut self, index: usize) -> Result<u64, CodecError> {
        let mut x = 0u64;
        let mut shift = 0u32;
        for i in 0..10 {
            let b = self
                .read_bits(8)
                .map_err(|_| CodecError::Truncated { index })? as u8;
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return Err(CodecError::VarintOverflow { index });
                }
                return Ok(x | (u64::from(b) << shift));
            }
            x |= u64::from(b & 0x7f) << shift;
            shift += 7;
        }
        Err(CodecError::VarintOverflow { index })
    }

    fn read_varint(&mut self, index: usize) -> Result<i64, CodecError> {
        let ux = self.read_uvarint(index)?;
        Ok(((ux >> 1) as i64) ^ -((ux & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: deterministic, dependency-free randomness for tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn assert_roundtrip(samples: &[(i64, f64)]) -> Vec<u8> {
        let enc = encode(samples).unwrap();
        let dec = decode(&enc).unwrap();
        assert_eq!(dec.len(), samples.len());
        for (i, (a, b)) in samples.iter().zip(&dec).enumerate() {
            assert_eq!(a.0, b.0, "timestamp {i}");
            assert_eq!(a.1.to_bits(), b.1.to_bits(), "value bits {i}");
        }
        enc
    }

    #[test]
    fn empty_one_two() {
        assert_eq!(encode(&[]).unwrap(), vec![0, 0]);
        assert!(decode(&[0, 0]).unwrap().is_empty());
        assert_roundtrip(&[(1_700_000_000_000, 42.5)]);
        assert_roundtrip(&[(-5, f64::NAN), (10, -0.0)]);
        assert_roundtrip(&[(i64::MIN, 1.0), (i64::MAX, 2.0)]);
    }

    /// Hand-computed bytes, checking the layout rather than only symmetry.
    #[test]
    fn known_bytes() {
        // 3 samples: t = 1000, 2000, 3000; v = 1.0, 1.0, 2.0.
        let enc = encode(&[(1000, 1.0), (2000, 1.0), (3000, 2.0)]).unwrap();
        let mut want = vec![0x00, 0x03];
        want.extend_from_slice(&[0xd0, 0x0f]); // varint(1000) = zigzag 2000
        want.extend_from_slice(&1.0f64.to_bits().to_be_bytes());
        want.extend_from_slice(&[0xe8, 0x07]); // uvarint(1000)
                                               // Bits: v1 xor=0 -> "0"; dod=0 -> "0"; v2 xor = 1.0^2.0 =
                                               // 0x7ff0_0000_0000_0000: leading 1, trailing 52, sig 11 ->
                                               // "1" "1" 00001 001011 11111111111, then padding.
                                               // 0 0 1 1 00001 001011 11111111111 = 26 bits:
                                               // 00110000 10010111 11111111 11 + 000000
        want.extend_from_slice(&[0b0011_0000, 0b1001_0111, 0b1111_1111, 0b1100_0000]);
        assert_eq!(enc, want);
        assert_roundtrip(&[(1000, 1.0), (2000, 1.0), (3000, 2.0)]);
    }

    /// Bytes produced by Prometheus's own Go `XORChunk` appender (published
    /// as a cross-language test vector by SINTEF/rusty-chunkenc).
    #[test]
    fn matches_go_appender_output() {
        let samples: Vec<_> = (0..10)
            .map(|i| (1_234_123_324 + i, 123_535.123 + i as f64))
            .collect();
        let go = [
            0x00, 0x0a, 0xf8, 0xe8, 0xf9, 0x98, 0x09, 0x40, 0xfe, 0x28, 0xf1, 0xf7, 0xce, 0xd9,
            0x17, 0x01, 0xee, 0x2f, 0xd0, 0x50, 0xd0, 0x51, 0xd0, 0x50, 0xd0, 0x53, 0xc0,
        ];
        assert_eq!(encode(&samples).unwrap(), go);
        assert_roundtrip(&samples);
    }

    /// A one-sample chunk as Prometheus writes it; some older versions left
    /// an extra trailing byte (prometheus/prometheus#14854), which decoding
    /// must ignore.
    #[test]
    fn one_sample_chunk_with_and_without_trailing_byte() {
        let good = [
            0x00, 0x01, 0x80, 0xf4, 0xee, 0x06, 0x40, 0xc7, 0x70, 0, 0, 0, 0, 0,
        ];
        assert_eq!(encode(&[(7_200_000, 12_000.0)]).unwrap(), good);
        let mut long = good.to_vec();
        long.push(0);
        for data in [&good[..], &long[..]] {
            assert_eq!(decode(data).unwrap(), vec![(7_200_000, 12_000.0)]);
        }
    }

    #[test]
    fn special_values_bit_exact() {
        let stale = f64::from_bits(0x7ff0_0000_0000_0002);
        let vals = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            stale,
            f64::NAN,
            f64::from_bits(0xfff8_0000_0000_0001),
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::MAX,
            stale,
            1.0,
            stale,
        ];
        let samples: Vec<_> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| (i as i64 * 15_000, *v))
            .collect();
        let dec = decode(&assert_roundtrip(&samples)).unwrap();
        assert_eq!(dec[4].1.to_bits(), 0x7ff0_0000_0000_0002);
    }

    #[test]
    fn random_series() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..300 {
            let n = rng.below(400) as usize;
            let mut t = rng.next() as i64 >> 20;
            let mut samples = Vec::with_capacity(n);
            for _ in 0..n {
                let v = match rng.below(4) {
                    0 => f64::from_bits(rng.next()),
                    1 => rng.below(1000) as f64,
                    2 => (rng.below(100) as f64) / 7.0,
                    _ => samples.last().map_or(0.0, |s: &(i64, f64)| s.1),
                };
                samples.push((t, v));
                t += 1 + match round % 3 {
                    0 => rng.below(30) as i64,
                    1 => rng.below(1 << 40) as i64,
                    _ => 15_000 + rng.below(3) as i64,
                };
            }
            assert_roundtrip(&samples);
        }
    }

    #[test]
    fn constant_series() {
        let samples: Vec<_> = (0..1000).map(|i| (i * 10_000, 3.25)).collect();
        let enc = assert_roundtrip(&samples);
        // 2 bits per sample after the first two.
        assert!(enc.len() < 2 + 10 + 8 + 10 + 1000 / 4 + 2, "{}", enc.len());
    }

    #[test]
    fn counter_with_resets() {
        let mut v = 0.0;
        let mut samples = Vec::new();
        for i in 0..2000i64 {
            v = if i % 500 == 499 {
                0.0
            } else {
                v + (i % 7) as f64
            };
            samples.push((1_600_000_000_000 + i * 15_000, v));
        }
        assert_roundtrip(&samples);
    }

    #[test]
    fn irregular_timestamps_all_dod_buckets() {
        let deltas: [i64; 16] = [
            1,
            15_000,
            15_000,
            15_000 + 8192,  // +8192: top of the 14-bit bucket
            15_000,         // -8192: needs 17 bits (asymmetric range)
            15_000 - 8191,  // -8191 fits 14 bits
            15_000 + 65536, // top of 17-bit bucket
            15_000,
            15_000 + 524_288, // top of 20-bit bucket
            15_000,
            3_600_000 * 24 * 365, // a year-long gap: 64-bit bucket
            1,
            2,
            1,
            i64::MAX / 4,
            1,
        ];
        let mut t = -1_000_000i64;
        let mut samples = vec![(t, 0.0)];
        for (i, d) in deltas.iter().enumerate() {
            t += d;
            samples.push((t, i as f64));
        }
        assert_roundtrip(&samples);
        for n in [14u32, 17, 20] {
            let h = 1i64 << (n - 1);
            assert!(bit_range(h, n) && bit_range(-(h - 1), n));
            assert!(!bit_range(-h, n) && !bit_range(h + 1, n));
        }
    }

    #[test]
    fn out_of_order_still_roundtrips() {
        assert_roundtrip(&[(100, 1.0), (50, 2.0), (200, 3.0), (-7, 4.0)]);
    }

    #[test]
    fn hour_of_samples_compresses_well() {
        // 3600 samples at 1 s, and a slowly growing 15 s counter.
        let samples: Vec<_> = (0..3600).map(|i| (i * 1000, (i / 10) as f64)).collect();
        assert_roundtrip(&samples);

        let mut v = 1_234_567.0;
        let mut rng = Rng(7);
        let samples: Vec<_> = (0..3600)
            .map(|i| {
                v += rng.below(5) as f64;
                (1_700_000_000_000 + i * 15_000, v)
            })
            .collect();
        let enc = assert_roundtrip(&samples);
        let per = enc.len() as f64 / samples.len() as f64;
        println!(
            "15 s counter: {} samples -> {} bytes, {per:.3} bytes/sample",
            samples.len(),
            enc.len()
        );
        assert!((0.5..=2.0).contains(&per), "{per}");
    }

    #[test]
    fn max_samples() {
        let samples: Vec<_> = (0..MAX_SAMPLES as i64).map(|i| (i, i as f64)).collect();
        let enc = assert_roundtrip(&samples);
        assert_eq!(&enc[..2], &[0xff, 0xff]);
        let mut more = samples;
        more.push((1 << 40, 0.0));
        assert_eq!(encode(&more), Err(CodecError::TooManySamples(65536)));
    }

    #[test]
    fn corrupt_input_never_panics() {
        let mut rng = Rng(0xdead_beef);
        assert_eq!(decode(&[]), Err(CodecError::MissingHeader));
        assert_eq!(decode(&[0]), Err(CodecError::MissingHeader));
        // Every truncation of a real chunk fails cleanly.
        let samples: Vec<_> = (0..300)
            .map(|i| (i * 15_000 + (i % 3) * 7, f64::from_bits(rng.next())))
            .collect();
        let enc = encode(&samples).unwrap();
        for cut in 0..enc.len() {
            assert!(decode(&enc[..cut]).is_err(), "cut at {cut}");
        }
        // Bit flips and random strings: any result but a panic.
        for _ in 0..20_000 {
            let mut buf = enc.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(buf.len() as u64) as usize;
                buf[i] ^= 1 << rng.below(8);
            }
            let _ = decode(&buf);
            let n = rng.below(64) as usize;
            let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let _ = decode(&junk);
        }
        // An overlong varint is reported as such.
        let mut bad = vec![0, 1];
        bad.extend_from_slice(&[0xff; 11]);
        assert_eq!(decode(&bad), Err(CodecError::VarintOverflow { index: 0 }));
    }
}
