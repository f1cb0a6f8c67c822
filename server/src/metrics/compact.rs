//! Compaction: closed hours of `metric_sample` rewritten per series into XOR
//! chunks (`metric_chunk`, [`super::codec`]), so that a sample costs a few
//! bytes on disk (4.1 measured, row and index included, for a noisy mix of
//! counters and gauges at 15 s) instead of the ~70 of a narrow row and its
//! index entry.
//!
//! Samples are written narrow while their hour is open (ingest is a plain
//! COPY). Ten minutes after an hour ends, [`compact_once`] takes its partition
//! in one transaction:
//!
//! 1. `lock table ... in share mode`: a late insert into that hour waits for
//!    the commit (and then lands in the emptied partition, for the next pass);
//!    readers go on. Without the lock, rows committed between the read and the
//!    truncate would be lost.
//! 2. Reads the rows through a cursor, by series and time, a batch of series at
//!    a time; merges each series with the chunk it already has for that hour
//!    (late data compacted again), the chunk's samples first, so that the
//!    sample written first wins a timestamp, as at read time
//!    ([`super::store::samples`]).
//! 3. Replaces those series' chunks of the hour and truncates the partition:
//!    chunks and truncation commit together.
//!
//! Samples older than the hour partitions kept ahead (a day back: a backfill,
//! or Prometheus replaying its WAL after the server was off for days) wait in
//! `metric_sample_default`; its rows of closed hours are compacted the same
//! way, in a transaction of their own, and deleted from it.
//!
//! One instance compacts at a time (an advisory lock per hour's transaction);
//! a failed pass changes nothing and the next one retries. [`run`] repeats it
//! every few minutes.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};
use tokio_util::sync::CancellationToken;

use super::codec::{self, CodecError, MAX_SAMPLES};
use super::promql::{bucketize, Bucket};
use super::rollup::{self, Tier, DAY_MS, HOUR_MS, MINUTE_MS};

/// How often the worker runs.
const INTERVAL: Duration = Duration::from_secs(300);
/// An hour is compacted this long after its end, so that samples arriving a
/// little late (remote write retries, slow scrapes) are still written narrow.
const GRACE: TimeDelta = TimeDelta::minutes(10);
/// Rows fetched from the cursor at a time.
const FETCH_ROWS: usize = 50_000;
/// Series whose chunks are written in one statement.
const WRITE_SERIES: usize = 2_000;
/// The hot table whose hour partitions are compacted.
const HOT_TABLE: &str = "metric_sample";

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct CompactReport {
    /// Hour partitions compacted (and emptied), and `metric_sample_default`
    /// when closed hours waiting there were.
    pub hours: Vec<String>,
    /// Chunk rows written.
    pub chunks: u64,
    /// Samples those chunks hold, merged ones included.
    pub samples: u64,
    /// Another instance was compacting; this pass stopped.
    pub skipped: bool,
}

/// Why a pass failed.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("a stored chunk of series {series_id} is corrupt: {error}")]
    Corrupt { series_id: i64, error: CodecError },
}

/// One row of `metric_chunk`, ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkRow {
    /// Milliseconds: the hour's start for its first row, the first sample's
    /// time for the rows an hour continues in.
    pub ts_ms: i64,
    pub samples: i32,
    pub data: Vec<u8>,
}

/// The hour a partition named `metric_sample_pYYYYMMDDHH` holds: its start.
pub fn hour_of(partition: &str) -> Option<DateTime<Utc>> {
    let digits = partition.strip_prefix(HOT_TABLE)?.strip_prefix("_p")?;
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let day = NaiveDate::parse_from_str(digits.get(..8)?, "%Y%m%d").ok()?;
    let hour: u32 = digits.get(8..)?.parse().ok()?;
    Some(day.and_hms_opt(hour, 0, 0)?.and_utc())
}

/// Whether the hour starting at `start` is closed for compaction at `now`.
pub fn is_closed(start: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    start + TimeDelta::hours(1) + GRACE <= now
}

/// `earlier` then `later` as one series: in time order, one sample per
/// millisecond, the first given winning a timestamp (`earlier` before
/// `later`, each in its own order).
pub fn merge_first_wins(earlier: Vec<(i64, f64)>, later: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    let mut all = earlier;
    all.extend(later);
    // Stable: among equal timestamps the first given stays first.
    all.sort_by_key(|&(ts, _)| ts);
    all.dedup_by_key(|&mut (ts, _)| ts);
    all
}

/// The chunk rows of one series-hour starting at `hour_ms`, from its samples
/// (in time order, one per millisecond): one row, or more when they pass what
/// one chunk can count.
pub fn encode_hour(hour_ms: i64, samples: &[(i64, f64)]) -> Result<Vec<ChunkRow>, CodecError> {
    let mut rows = Vec::with_capacity(samples.len().div_ceil(MAX_SAMPLES));
    for (i, piece) in samples.chunks(MAX_SAMPLES).enumerate() {
        let ts_ms = match (i, piece.first()) {
            (0, _) | (_, None) => hour_ms,
            (_, Some(&(first, _))) => first,
        };
        let relative: Vec<(i64, f64)> = piece
            .iter()
            .map(|&(t, v)| (t.wrapping_sub(ts_ms), v))
            .collect();
        rows.push(ChunkRow {
            ts_ms,
            // A piece holds at most MAX_SAMPLES = u16::MAX samples.
            samples: i32::try_from(piece.len()).unwrap_or(i32::MAX),
            data: codec::encode(&relative)?,
        });
    }
    Ok(rows)
}

/// The samples of a stored chunk row whose `ts` is `ts_ms`.
pub fn decode_row(ts_ms: i64, data: &[u8]) -> Result<Vec<(i64, f64)>, CodecError> {
    let mut samples = codec::decode(data)?;
    for sample in &mut samples {
        sample.0 = sample.0.wrapping_add(ts_ms);
    }
    Ok(samples)
}

/// Where one transaction takes hot samples from.
enum Source {
    /// A closed hour partition: all its rows, then `truncate`.
    Hour(String),
    /// `metric_sample_default` (samples older than the hour partitions kept
    /// ahead, as a backfill or a restart after days sends them): its rows of
    /// closed hours, then `delete`.
    Default(DateTime<Utc>),
}

/// Compacts every closed hour of `metric_sample` that has rows, as of `now`:
/// the hour partitions, then the closed hours waiting in the default one.
pub async fn compact_once(
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<CompactReport, CompactError> {
    let partitions: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = $1::regclass order by 1",
    )
    .bind(HOT_TABLE)
    .fetch_all(pool)
    .await?;
    let mut sources = Vec::new();
    for partition in partitions {
        if !hour_of(&partition).is_some_and(|h| is_closed(h, now)) {
            continue;
        }
        // The name comes from the catalogue and matched the pattern above.
        let has_rows: bool =
            sqlx::query_scalar(&format!("select exists(select 1 from {partition})"))
                .fetch_one(pool)
                .await?;
        if has_rows {
            sources.push(Source::Hour(partition));
        }
    }
    // Hours that end GRACE or more before now are closed.
    let closed_before = (now - GRACE)
        .duration_trunc(TimeDelta::hours(1))
        .unwrap_or(now - GRACE - TimeDelta::hours(1));
    let stray: bool = sqlx::query_scalar(&format!(
        "select exists(select 1 from {HOT_TABLE}_default where ts < $1)"
    ))
    .bind(closed_before)
    .fetch_one(pool)
    .await?;
    if stray {
        sources.push(Source::Default(closed_before));
    }
    let mut report = CompactReport::default();
    for source in sources {
        let mut tx = pool.begin().await?;
        let locked: bool = sqlx::query_scalar(
            "select pg_try_advisory_xact_lock(hashtext('sightline.metrics.compact'))",
        )
        .fetch_one(&mut *tx)
        .await?;
        if !locked {
            report.skipped = true;
            return Ok(report);
        }
        let (chunks, samples) = compact_source(&mut tx, &source).await?;
        tx.commit().await?;
        report.chunks += chunks;
        report.samples += samples;
        report.hours.push(match source {
            Source::Hour(partition) => partition,
            Source::Default(_) => format!("{HOT_TABLE}_default"),
        });
    }
    Ok(report)
}

/// Hot samples of one series in one hour: `(series, hour start in ms, samples)`.
type SeriesHour = (i64, i64, Vec<(i64, f64)>);

/// Compacts one source in `tx` (see the module's steps); returns the chunk
/// rows written and the samples they hold.
async fn compact_source(
    tx: &mut Transaction<'_, Postgres>,
    source: &Source,
) -> Result<(u64, u64), CompactError> {
    let (relation, filter) = match source {
        Source::Hour(partition) => (partition.clone(), String::new()),
        // A timestamp the server formats, not input.
        Source::Default(before) => (
            format!("{HOT_TABLE}_default"),
            format!("where ts < '{}'", before.format("%Y-%m-%d %H:%M:%S+00")),
        ),
    };
    // Never stall ingestion behind a long wait for a table lock.
    sqlx::query("set local lock_timeout = '5s'")
        .execute(&mut **tx)
        .await?;
    sqlx::query(&format!("lock table {relation} in share mode"))
        .execute(&mut **tx)
        .await?;
    // ctid after ts: among rows sent twice, the one written first comes first.
    sqlx::query(&format!(
        "declare metric_compact no scroll cursor for
         select series_id, ts, value from {relation} {filter} order by series_id, ts, ctid"
    ))
    .execute(&mut **tx)
    .await?;
    let fetch = format!("fetch {FETCH_ROWS} from metric_compact");
    let mut pending: Vec<SeriesHour> = Vec::new();
    let (mut chunks, mut samples) = (0, 0);
    loop {
        let rows: Vec<(i64, DateTime<Utc>, f64)> =
            sqlx::query_as(&fetch).fetch_all(&mut **tx).await?;
        let done = rows.len() < FETCH_ROWS;
        for (id, ts, value) in rows {
            let ts = ts.timestamp_millis();
            let hour = ts - ts.rem_euclid(HOUR_MS);
            match pending.last_mut() {
                Some((last, h, points)) if *last == id && *h == hour => points.push((ts, value)),
                _ => pending.push((id, hour, vec![(ts, value)])),
            }
        }
        if done {
            break;
        }
        // The last series may go on in the next fetch.
        if pending.len() > WRITE_SERIES {
            let rest = pending.split_off(pending.len() - 1);
            let written = write_chunks(tx, std::mem::replace(&mut pending, rest)).await?;
            chunks += written.0;
            samples += written.1;
        }
    }
    while !pending.is_empty() {
        let rest = pending.split_off(pending.len().min(WRITE_SERIES));
        let written = write_chunks(tx, std::mem::replace(&mut pending, rest)).await?;
        chunks += written.0;
        samples += written.1;
    }
    sqlx::query("close metric_compact")
        .execute(&mut **tx)
        .await?;
    match source {
        Source::Hour(partition) => {
            sqlx::query(&format!("truncate {partition}"))
                .execute(&mut **tx)
                .await?;
        }
        Source::Default(before) => {
            sqlx::query(&format!("delete from {relation} where ts < $1"))
                .bind(before)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok((chunks, samples))
}

/// Writes the chunks of `hours` (hot samples of a series in an hour, in time
/// order) merged with the chunks they already have.
async fn write_chunks(
    tx: &mut Transaction<'_, Postgres>,
    hours: Vec<SeriesHour>,
) -> Result<(u64, u64), CompactError> {
    let ids: Vec<i64> = hours.iter().map(|(id, _, _)| *id).collect();
    let starts: Vec<DateTime<Utc>> = hours.iter().map(|(_, h, _)| time(*h)).collect();
    // Keyed by series and hour: the chunks of the same hours, if any.
    let stored: Vec<(i64, DateTime<Utc>, Vec<u8>)> = sqlx::query_as(
        "select c.series_id, c.ts, c.data
         from unnest($1::int8[], $2::timestamptz[]) k (series_id, hour)
         join metric_chunk c on c.series_id = k.series_id
          and c.ts >= k.hour and c.ts < k.hour + interval '1 hour'
         order by c.series_id, c.ts",
    )
    .bind(&ids)
    .bind(&starts)
    .fetch_all(&mut **tx)
    .await?;
    let mut earlier: HashMap<(i64, i64), Vec<(i64, f64)>> = HashMap::new();
    for (series_id, ts, data) in stored {
        let ts = ts.timestamp_millis();
        let decoded =
            decode_row(ts, &data).map_err(|error| CompactError::Corrupt { series_id, error })?;
        let hour = ts - ts.rem_euclid(HOUR_MS);
        earlier
            .entry((series_id, hour))
            .or_default()
            .extend(decoded);
    }
    let (replaced_ids, replaced_hours): (Vec<i64>, Vec<DateTime<Utc>>) =
        earlier.keys().map(|&(id, h)| (id, time(h))).unzip();
    let (mut row_ids, mut row_ts, mut row_samples, mut row_data) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut minutes = Rollups::default();
    // The hour buckets of each series-day, to write into its day row.
    let mut hour_buckets: HashMap<(i64, i64), Vec<Bucket>> = HashMap::new();
    for (series_id, hour, hot) in hours {
        let stored = earlier.remove(&(series_id, hour)).unwrap_or_default();
        let merged = merge_first_wins(stored, hot);
        let corrupt = |error| CompactError::Corrupt { series_id, error };
        minutes.push(
            series_id,
            time(hour),
            rollup::pack(hour, &bucketize(&merged, MINUTE_MS)).map_err(corrupt)?,
        );
        hour_buckets
            .entry((series_id, rollup::floor(hour, DAY_MS)))
            .or_default()
            .extend(bucketize(&merged, HOUR_MS));
        let rows = encode_hour(hour, &merged)
            .map_err(|error| CompactError::Corrupt { series_id, error })?;
        for row in rows {
            row_ids.push(series_id);
            row_ts.push(time(row.ts_ms));
            row_samples.push(row.samples);
            row_data.push(row.data);
        }
    }
    if !replaced_ids.is_empty() {
        sqlx::query(
            "delete from metric_chunk c
             using unnest($1::int8[], $2::timestamptz[]) k (series_id, hour)
             where c.series_id = k.series_id
               and c.ts >= k.hour and c.ts < k.hour + interval '1 hour'",
        )
        .bind(&replaced_ids)
        .bind(&replaced_hours)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "insert into metric_chunk (series_id, ts, samples, data)
         select * from unnest($1::int8[], $2::timestamptz[], $3::int4[], $4::bytea[])",
    )
    .bind(&row_ids)
    .bind(&row_ts)
    .bind(&row_samples)
    .bind(&row_data)
    .execute(&mut **tx)
    .await?;
    minutes.write(tx, Tier::Minute).await?;
    write_hour_rollups(tx, hour_buckets).await?;
    let samples: i64 = row_samples.iter().map(|&n| i64::from(n)).sum();
    Ok((row_ids.len() as u64, samples.unsigned_abs()))
}

/// Rollup rows to write: series, row start, packed buckets.
#[derive(Default)]
struct Rollups {
    ids: Vec<i64>,
    ts: Vec<DateTime<Utc>>,
    data: Vec<Vec<u8>>,
}

impl Rollups {
    fn push(&mut self, series_id: i64, ts: DateTime<Utc>, data: Vec<u8>) {
        self.ids.push(series_id);
        self.ts.push(ts);
        self.data.push(data);
    }

    /// Writes the rows into `tier`'s table, replacing rows of the same key.
    async fn write(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        tier: Tier,
    ) -> Result<(), CompactError> {
        if self.ids.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "insert into {} (series_id, ts, data)
             select * from unnest($1::int8[], $2::timestamptz[], $3::bytea[])
             on conflict (series_id, ts) do update set data = excluded.data",
            tier.table()
        ))
        .bind(&self.ids)
        .bind(&self.ts)
        .bind(&self.data)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// Puts the hour buckets of each series-day into its day row of
/// `metric_rollup_1h`, replacing the buckets of the same hours.
async fn write_hour_rollups(
    tx: &mut Transaction<'_, Postgres>,
    buckets: HashMap<(i64, i64), Vec<Bucket>>,
) -> Result<(), CompactError> {
    if buckets.is_empty() {
        return Ok(());
    }
    let (ids, days): (Vec<i64>, Vec<DateTime<Utc>>) =
        buckets.keys().map(|&(id, day)| (id, time(day))).unzip();
    let rows: Vec<(i64, DateTime<Utc>, Vec<u8>)> = sqlx::query_as(
        "select r.series_id, r.ts, r.data
         from unnest($1::int8[], $2::timestamptz[]) k (series_id, day)
         join metric_rollup_1h r on r.series_id = k.series_id and r.ts = k.day",
    )
    .bind(&ids)
    .bind(&days)
    .fetch_all(&mut **tx)
    .await?;
    let mut stored: HashMap<(i64, i64), Vec<Bucket>> = HashMap::new();
    for (series_id, day, data) in rows {
        let day = day.timestamp_millis();
        match rollup::unpack(day, &data) {
            Ok(unpacked) => {
                stored.insert((series_id, day), unpacked);
            }
            // Failing the pass would leave every hot hour uncompacted; the
            // day's other hours are still in the minute rollups and chunks.
            Err(error) => tracing::error!(
                series_id,
                error = %error,
                "a day row of hour rollups could not be read; it is rewritten with this pass's hours only"
            ),
        }
    }
    let mut out = Rollups::default();
    for ((series_id, day), new) in buckets {
        let mut all = stored.remove(&(series_id, day)).unwrap_or_default();
        all.retain(|b| !new.iter().any(|n| n.start == b.start));
        all.extend(new);
        all.sort_by_key(|b| b.start);
        let data =
            rollup::pack(day, &all).map_err(|error| CompactError::Corrupt { series_id, error })?;
        out.push(series_id, time(day), data);
    }
    out.write(tx, Tier::Hour).await
}

/// A time in ms as a timestamp (0 for the impossible out-of-range case).
fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The compaction worker: runs now, then every few minutes, until `cancel`.
pub async fn run(pool: PgPool, cancel: CancellationToken) {
    loop {
        let started = std::time::Instant::now();
        tokio::select! {
            () = cancel.cancelled() => break,
            result = compact_once(&pool, Utc::now()) => match result {
                Ok(report) if report.skipped => {
                    tracing::debug!("metrics compaction skipped: another instance holds the lock")
                }
                Ok(report) if report.hours.is_empty() => {}
                Ok(report) => tracing::info!(
                    compact.hours = report.hours.len(),
                    compact.chunks = report.chunks,
                    compact.samples = report.samples,
                    duration_ms = started.elapsed().as_millis() as u64,
                    "metric hours compacted"
                ),
                Err(error) => tracing::error!(error = %error, "metrics compaction failed"),
            },
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(INTERVAL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn hour_partitions_are_recognised_and_closed_after_the_grace() {
        let hour = Utc.with_ymd_and_hms(2026, 12, 7, 13, 0, 0).unwrap();
        assert_eq!(hour_of("metric_sample_p2026120713"), Some(hour));
        assert_eq!(hour_of("metric_sample_default"), None);
        assert_eq!(hour_of("metric_sample_p20261207"), None);
        assert_eq!(hour_of("metric_chunk_p2026120713"), None);
        assert_eq!(hour_of("metric_sample_p2026120725"), None);
        let end = hour + TimeDelta::hours(1);
        assert!(!is_closed(hour, end + TimeDelta::minutes(9)));
        assert!(is_closed(hour, end + GRACE));
    }

    #[test]
    fn merging_sorts_and_keeps_the_first_of_a_timestamp() {
        let chunk = vec![(1_000, 1.0), (3_000, 3.0)];
        let hot = vec![(2_000, 2.0), (3_000, 99.0), (3_000, 98.0), (4_000, 4.0)];
        assert_eq!(
            merge_first_wins(chunk, hot),
            vec![(1_000, 1.0), (2_000, 2.0), (3_000, 3.0), (4_000, 4.0)]
        );
        let hot = vec![(5, 1.0), (5, 2.0)];
        assert_eq!(merge_first_wins(Vec::new(), hot), vec![(5, 1.0)]);
    }

    #[test]
    fn an_hour_round_trips_bit_for_bit_relative_to_its_row() {
        let hour = 1_796_648_400_000;
        let stale = f64::from_bits(crate::metrics::record::STALE_NAN_BITS);
        let samples = vec![
            (hour + 3, 1.5),
            (hour + 15_004, f64::NAN),
            (hour + 30_001, stale),
            (hour + 45_000, -0.0),
        ];
        let rows = encode_hour(hour, &samples).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].ts_ms, rows[0].samples), (hour, 4));
        let back = decode_row(rows[0].ts_ms, &rows[0].data).unwrap();
        let bits = |s: &[(i64, f64)]| s.iter().map(|&(t, v)| (t, v.to_bits())).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&samples));
    }

    #[test]
    fn an_hour_past_one_chunks_count_continues_in_more_rows() {
        let hour = 1_796_648_400_000;
        // One sample every 50 ms: 72 000 in the hour.
        let samples: Vec<(i64, f64)> = (0..72_000).map(|i| (hour + i * 50, i as f64)).collect();
        let rows = encode_hour(hour, &samples).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].ts_ms, hour);
        assert_eq!(rows[1].ts_ms, samples[MAX_SAMPLES].0);
        assert_eq!(rows[0].samples + rows[1].samples, 72_000);
        let mut back = Vec::new();
        for row in &rows {
            back.extend(decode_row(row.ts_ms, &row.data).unwrap());
        }
        assert_eq!(back, samples);
    }
}
