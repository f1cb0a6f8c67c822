//! Rollups: compacted hours summarised into one-minute and one-hour buckets
//! ([`Tier`]), so that a 30-day panel reads a few buckets a series instead of
//! every sample, and ranges outlive raw retention.
//!
//! A bucket is a [`Summary`] of its samples plus where its stale markers lie
//! (see `promql/summary.rs` for what it answers and why the answers equal the
//! raw ones). [`compact`](super::compact) writes them with the chunks, in the
//! same transaction: the minute row of each series-hour whole, and that
//! hour's bucket into the series' day row of hours.
//!
//! A row packs its buckets column by column, each column an XOR chunk
//! ([`super::codec`]) of `(time, value)` pairs, times relative to the row's
//! `ts`: successive buckets of a series look alike, so a column costs a few
//! bits a bucket where it does not change. Columns, each a `u16` length (big
//! endian) then the chunk:
//!
//! 1. `first`, 2. `last`, 3. `prev`: the samples (time, value); absent ones
//!    (no sample, or one sample for `prev`) are written as (bucket start, NaN)
//!    and told apart by the count;
//! 4. to 12., at the bucket's start: count, sum, min, max, reset correction,
//!    resets, changes, first and last stale marker (ms after the bucket's
//!    start, or -1).

use super::codec::{self, CodecError};
use super::promql::{Bucket, Summary};

/// Milliseconds in a minute, an hour and a day.
pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// The first byte of a packed row: its layout.
const VERSION: u8 = 1;
/// The columns of a packed row, in order (see the module's comment).
const FIRST: usize = 0;
const LAST: usize = 1;
const PREV: usize = 2;
const COUNT: usize = 3;
const SUM: usize = 4;
const MIN: usize = 5;
const MAX: usize = 6;
const RESET_CORRECTION: usize = 7;
const RESETS: usize = 8;
const CHANGES: usize = 9;
const STALE_FIRST: usize = 10;
const STALE_LAST: usize = 11;
const COLUMNS: usize = 12;

/// A rollup resolution and where it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// One-minute buckets, a row per series and hour (`metric_rollup_1m`).
    Minute,
    /// One-hour buckets, a row per series and day (`metric_rollup_1h`).
    Hour,
}

impl Tier {
    /// Both, the coarser first.
    pub const ALL: [Tier; 2] = [Tier::Hour, Tier::Minute];

    /// A bucket's width in ms.
    pub fn width(self) -> i64 {
        match self {
            Tier::Minute => MINUTE_MS,
            Tier::Hour => HOUR_MS,
        }
    }

    /// The span of one row in ms.
    pub fn row_ms(self) -> i64 {
        match self {
            Tier::Minute => HOUR_MS,
            Tier::Hour => DAY_MS,
        }
    }

    pub fn table(self) -> &'static str {
        match self {
            Tier::Minute => "metric_rollup_1m",
            Tier::Hour => "metric_rollup_1h",
        }
    }

    /// The tier whose buckets are `width` ms wide.
    pub fn of_width(width: i64) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.width() == width)
    }
}

/// `t` rounded down to a multiple of `unit`.
pub fn floor(t: i64, unit: i64) -> i64 {
    // Queries say "all time" with extreme values: never overflow.
    t.saturating_sub(t.rem_euclid(unit))
}

/// Packs the buckets of one row starting at `row_ts` (in time order).
pub fn pack(row_ts: i64, buckets: &[Bucket]) -> Result<Vec<u8>, CodecError> {
    let mut columns: [Vec<(i64, f64)>; COLUMNS] = Default::default();
    for b in buckets {
        let at = b.start.wrapping_sub(row_ts);
        let rel = |(t, v): (i64, f64)| (t.wrapping_sub(row_ts), v);
        let none = (at, f64::NAN);
        let s = b.summary;
        columns[FIRST].push(s.map_or(none, |s| rel(s.first)));
        columns[LAST].push(s.map_or(none, |s| rel(s.last)));
        columns[PREV].push(s.and_then(|s| s.prev).map_or(none, rel));
        let stale = |t: Option<i64>| t.map_or(-1.0, |t| (t - b.start) as f64);
        let stats = match s {
            Some(s) => [
                (COUNT, f64::from(s.count)),
                (SUM, s.total()),
                (MIN, s.min),
                (MAX, s.max),
                (RESET_CORRECTION, s.reset_correction),
                (RESETS, f64::from(s.resets)),
                (CHANGES, f64::from(s.changes)),
            ],
            None => [
                (COUNT, 0.0),
                (SUM, 0.0),
                (MIN, f64::NAN),
                (MAX, f64::NAN),
                (RESET_CORRECTION, 0.0),
                (RESETS, 0.0),
                (CHANGES, 0.0),
            ],
        };
        for (column, v) in stats {
            columns[column].push((at, v));
        }
        columns[STALE_FIRST].push((at, stale(b.stale_first)));
        columns[STALE_LAST].push((at, stale(b.stale_last)));
    }
    let mut out = vec![VERSION];
    for column in &columns {
        let chunk = codec::encode(column)?;
        let len =
            u16::try_from(chunk.len()).map_err(|_| CodecError::TooManySamples(chunk.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The buckets of a packed row whose `ts` is `row_ts`.
pub fn unpack(row_ts: i64, data: &[u8]) -> Result<Vec<Bucket>, CodecError> {
    let (&version, mut rest) = data.split_first().ok_or(CodecError::MissingHeader)?;
    if version != VERSION {
        return Err(CodecError::MissingHeader);
    }
    let mut columns: Vec<Vec<(i64, f64)>> = Vec::with_capacity(COLUMNS);
    for index in 0..COLUMNS {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(CodecError::Truncated { index })?;
        let len = usize::from(u16::from_be_bytes(*len));
        let chunk = tail.get(..len).ok_or(CodecError::Truncated { index })?;
        rest = tail.get(len..).unwrap_or_default();
        columns.push(codec::decode(chunk)?);
    }
    let n = columns[0].len();
    if columns.iter().any(|c| c.len() != n) {
        return Err(CodecError::Truncated { index: n });
    }
    let abs = |(t, v): (i64, f64)| (t.wrapping_add(row_ts), v);
    let count_of = |v: f64| {
        if v.is_finite() && v >= 0.0 {
            v as u32
        } else {
            0
        }
    };
    let mut out = Vec::with_capacity(n);
    #[expect(
        clippy::needless_range_loop,
        reason = "bucket i is row i of every column"
    )]
    for i in 0..n {
        let col = |c: usize| columns[c][i];
        let start = col(COUNT).0.wrapping_add(row_ts);
        let stale = |c: usize| {
            let v = col(c).1;
            (v >= 0.0).then(|| start.wrapping_add(v as i64))
        };
        let count = count_of(col(COUNT).1);
        let summary = (count > 0).then(|| Summary {
            count,
            first: abs(col(FIRST)),
            last: abs(col(LAST)),
            prev: (count > 1).then(|| abs(col(PREV))),
            sum: col(SUM).1,
            sum_c: 0.0,
            min: col(MIN).1,
            max: col(MAX).1,
            reset_correction: col(RESET_CORRECTION).1,
            resets: count_of(col(RESETS).1),
            changes: count_of(col(CHANGES).1),
        });
        out.push(Bucket {
            start,
            summary,
            stale_first: stale(STALE_FIRST),
            stale_last: stale(STALE_LAST),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::promql::bucketize;

    #[test]
    fn a_row_round_trips() {
        let hour = 1_796_648_400_000;
        let stale = f64::from_bits(crate::metrics::record::STALE_NAN_BITS);
        let mut samples: Vec<(i64, f64)> = (0..240)
            .map(|i| (hour + i * 15_000 + i % 3, (i * 7 % 100) as f64))
            .collect();
        samples[10].1 = f64::NAN;
        samples[11].1 = f64::INFINITY;
        // Minute 13 holds stale markers only; minute 12 ends with one.
        for sample in &mut samples[51..56] {
            sample.1 = stale;
        }
        let mut buckets = bucketize(&samples, MINUTE_MS);
        // Sums are packed compensated.
        for b in &mut buckets {
            if let Some(s) = &mut b.summary {
                s.sum = s.total();
                s.sum_c = 0.0;
            }
        }
        let data = pack(hour, &buckets).unwrap();
        let back = unpack(hour, &data).unwrap();
        assert_eq!(back.len(), 60);
        for (a, b) in back.iter().zip(&buckets) {
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
        }
        assert!(back[13].summary.is_none());
        assert_eq!(back[13].stale_first, Some(samples[52].0));
        assert_eq!(back[12].stale_last, Some(samples[51].0));
        assert_eq!(back[12].summary.map(|s| s.count), Some(3));
        // A steady counter at 15 s: well under 40 bytes a minute bucket.
        let counter: Vec<(i64, f64)> = (0..240)
            .map(|i| (hour + i * 15_000, (i * 13) as f64))
            .collect();
        let data = pack(hour, &bucketize(&counter, MINUTE_MS)).unwrap();
        assert!(data.len() < 60 * 40, "{} bytes", data.len());
        assert!(unpack(hour, &data[..data.len() - 3]).is_err());
        assert!(unpack(hour, &[]).is_err());
    }
}
