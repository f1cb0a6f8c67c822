//! [`MetricWriter`]: how samples reach PostgreSQL. The queue and group commit
//! are [`crate::pipeline::queue`]'s; a batch is written here:
//!
//! 1. Each series is found in the writer's cache by its hash; the few it does
//!    not know (new series, or a restart) are looked up or created in a short
//!    transaction of their own, label pairs first. Steady ingest reads nothing.
//! 2. In the batch's transaction: the samples with one binary `COPY`, in
//!    series order (the stale marker's NaN keeps its bits), the metadata
//!    that changed, and the time bounds of series whose samples passed them
//!    (at most once an hour a series).
//!
//! A series row left by a failed batch is harmless: it is found next time.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, PoisonError},
};

use sqlx::PgPool;

use super::record::{Metadata, MetricRecord, SeriesHash, SeriesSamples};
use crate::{
    db::copy::BinaryRows,
    pipeline::{
        clock::ReceiveWindow,
        queue::{Batch, Job, Queue},
    },
};

/// Handle to the metrics batch writer; cheap to clone.
pub type MetricWriter = Queue<MetricBatch>;

/// Series remembered at most; past this the cache starts again empty (each
/// entry is about 80 bytes).
const MAX_CACHED_SERIES: usize = 2_000_000;
/// Milliseconds in an hour: series' `last_seen` is kept to the hour.
const HOUR_MS: i64 = 3_600_000;

/// What the writer knows of a series without asking the database.
#[derive(Debug, Clone, Copy)]
struct Known {
    id: i64,
    /// Its `first_seen`, in ms.
    first_ms: i64,
    /// Its `last_seen`, in ms (a whole hour).
    last_ms: i64,
}

/// How metric records are written: [`Queue`]'s batches, with a series cache.
#[derive(Debug, Default)]
pub struct MetricBatch {
    series: Mutex<HashMap<(i64, SeriesHash), Known>>,
    /// The metadata last written per project and family, so that the same
    /// HELP sent every minute is not written every minute.
    metadata: Mutex<HashMap<(i64, String), Metadata>>,
}

impl Batch for MetricBatch {
    type Item = MetricRecord;
    type Answer = ();
    const NAME: &'static str = "metrics";
    /// As for logs: one writer COPYs while the other commits.
    const WRITERS: usize = 2;
    /// Records are series with their points; 200 000 points is ~10 MB queued.
    const MAX_ITEMS: usize = 50_000;
    const MAX_BYTES: usize = 16 * 1024 * 1024;

    fn estimated_bytes(record: &MetricRecord) -> usize {
        match record {
            MetricRecord::Series(s) => {
                64 + s.metric.len()
                    + s.labels
                        .iter()
                        .map(|(n, v)| 48 + n.len() + v.len())
                        .sum::<usize>()
                    + 16 * s.samples.len()
            }
            MetricRecord::Metadata(m) => 96 + m.metric.len() + m.help.len() + m.unit.len(),
        }
    }

    /// A sample's time is what it measures, so unlike a log line it is never
    /// moved: the adapters refuse samples outside the window, and this drops
    /// any that would still be there.
    fn correct_clock(record: &mut MetricRecord, window: &ReceiveWindow) {
        if let MetricRecord::Series(series) = record {
            series.samples.retain(|&(ts, _)| {
                chrono::DateTime::from_timestamp_millis(ts)
                    .is_some_and(|t| window.drift(t).is_none())
            });
        }
    }

    async fn write(&self, pool: &PgPool, jobs: &[Job<Self>]) -> anyhow::Result<Vec<()>> {
        let ids = self.resolve(pool, jobs).await?;
        let points: usize = jobs.iter().flat_map(|j| &j.items).map(|r| r.points()).sum();
        let mut samples: Vec<(i64, i64, f64)> = Vec::with_capacity(points);
        let mut bounds: HashMap<i64, (i64, i64)> = HashMap::new();
        let mut metadata = Vec::new();
        for job in jobs {
            for record in &job.items {
                match record {
                    MetricRecord::Series(series) => {
                        let Some(&id) = ids.get(&(job.project_id, series.hash)) else {
                            continue;
                        };
                        samples.extend(series.samples.iter().map(|&(ts, v)| (id, ts, v)));
                        if let (Some(first), Some(last)) =
                            (series.samples.first(), series.samples.last())
                        {
                            let entry = bounds.entry(id).or_insert((first.0, last.0));
                            entry.0 = entry.0.min(first.0);
                            entry.1 = entry.1.max(last.0);
                        }
                    }
                    MetricRecord::Metadata(m) => metadata.push((job.project_id, m)),
                }
            }
        }
        // In series order, each `(series_id, ts)` index entry goes next to the
        // one before it: inserting an hour of 20 000 series at 15 s (4.8 M
        // rows, as they arrive, round by round) took 21.0 s instead of 23.8 s
        // (2 GB of buffers; 26.1 instead of 31.2 s with 128 MB). Stable, so
        // that a sample sent twice keeps its order of arrival.
        samples.sort_by_key(|&(id, ts, _)| (id, ts));
        let mut rows = BinaryRows::with_capacity(points * 38);
        for (id, ts, value) in samples {
            rows.row(3);
            rows.int8(id);
            rows.timestamptz_millis(ts);
            rows.float8(value);
        }
        let widened = self.widened(&ids, &bounds);
        let metadata = self.changed_metadata(metadata);

        let mut tx = pool.begin().await?;
        let mut copy = tx
            .copy_in_raw(
                "copy metric_sample (series_id, ts, value) from stdin with (format binary)",
            )
            .await?;
        copy.send(rows.finish()).await?;
        copy.finish().await?;
        if !widened.is_empty() {
            let ids: Vec<i64> = widened.iter().map(|(_, k)| k.id).collect();
            let firsts: Vec<i64> = widened.iter().map(|(_, k)| k.first_ms).collect();
            let lasts: Vec<i64> = widened.iter().map(|(_, k)| k.last_ms).collect();
            // In id order, so that two writers never wait for each other's rows
            // the other way round.
            sqlx::query(
                "update metric_series s set
                     first_seen = least(s.first_seen, to_timestamp(u.first / 1000.0)),
                     last_seen = greatest(s.last_seen, to_timestamp(u.last / 1000.0))
                 from (select * from unnest($1::int8[], $2::int8[], $3::int8[]) as u(id, first, last)
                       order by id) u
                 where s.series_id = u.id",
            )
            .bind(&ids)
            .bind(&firsts)
            .bind(&lasts)
            .execute(&mut *tx)
            .await?;
        }
        if !metadata.is_empty() {
            write_metadata(&mut tx, &metadata).await?;
        }
        tx.commit().await?;
        // Only what is committed is remembered.
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(widened);
        let mut seen = self.metadata.lock().unwrap_or_else(PoisonError::into_inner);
        for (project_id, m) in metadata {
            seen.insert((project_id, m.metric.clone()), m);
        }
        Ok(vec![(); jobs.len()])
    }
}

impl MetricBatch {
    /// The id of every series in `jobs`, from the cache, else from the
    /// database (created there if new).
    async fn resolve(
        &self,
        pool: &PgPool,
        jobs: &[Job<Self>],
    ) -> Result<HashMap<(i64, SeriesHash), i64>, sqlx::Error> {
        let mut ids = HashMap::new();
        let mut missing: Vec<(i64, &SeriesSamples)> = Vec::new();
        {
            let known = self.series.lock().unwrap_or_else(PoisonError::into_inner);
            let mut asked = HashSet::new();
            for job in jobs {
                for record in &job.items {
                    let MetricRecord::Series(series) = record else {
                        continue;
                    };
                    let key = (job.project_id, series.hash);
                    match known.get(&key) {
                        Some(k) => {
                            ids.insert(key, k.id);
                        }
                        None if asked.insert(key) => missing.push((job.project_id, series)),
                        None => {}
                    }
                }
            }
        }
        if missing.is_empty() {
            return Ok(ids);
        }
        let found = create_series(pool, &missing).await?;
        let mut known = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        if known.len() + found.len() > MAX_CACHED_SERIES {
            known.clear();
        }
        for (key, k) in found {
            ids.insert(key, k.id);
            known.insert(key, k);
        }
        Ok(ids)
    }

    /// The series whose known time bounds the batch's points pass, with their
    /// new bounds (`last_seen` rounded down to the hour).
    fn widened(
        &self,
        ids: &HashMap<(i64, SeriesHash), i64>,
        bounds: &HashMap<i64, (i64, i64)>,
    ) -> Vec<((i64, SeriesHash), Known)> {
        let known = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let mut widened: Vec<((i64, SeriesHash), Known)> = ids
            .iter()
            .filter_map(|(key, id)| {
                let (first, last) = *bounds.get(id)?;
                let k = known.get(key).copied().unwrap_or(Known {
                    id: *id,
                    first_ms: first,
                    last_ms: i64::MIN,
                });
                let last_hour = last.div_euclid(HOUR_MS) * HOUR_MS;
                (first < k.first_ms || last_hour > k.last_ms).then_some((
                    *key,
                    Known {
                        id: *id,
                        first_ms: k.first_ms.min(first),
                        last_ms: k.last_ms.max(last_hour),
                    },
                ))
            })
            .collect();
        widened.sort_by_key(|(_, k)| k.id);
        widened
    }

    /// The metadata of `records` that differs from what was last written,
    /// one per project and family (the last sent wins).
    fn changed_metadata(&self, records: Vec<(i64, &Metadata)>) -> Vec<(i64, Metadata)> {
        let seen = self.metadata.lock().unwrap_or_else(PoisonError::into_inner);
        let mut latest: HashMap<(i64, &str), &Metadata> = HashMap::new();
        for (project_id, m) in records {
            latest.insert((project_id, m.metric.as_str()), m);
        }
        let mut changed: Vec<(i64, Metadata)> = latest
            .into_iter()
            .filter(|((p, name), m)| seen.get(&(*p, name.to_string())) != Some(*m))
            .map(|((p, _), m)| (p, m.clone()))
            .collect();
        changed.sort_by(|a, b| (a.0, &a.1.metric).cmp(&(b.0, &b.1.metric)));
        changed
    }
}

/// Looks up, creating those that do not exist, the series of `missing` (one
/// per project and hash), with their label pairs; in hash order, so that two
/// writers creating the same series lock in the same order.
async fn create_series(
    pool: &PgPool,
    missing: &[(i64, &SeriesSamples)],
) -> Result<Vec<((i64, SeriesHash), Known)>, sqlx::Error> {
    let mut missing = missing.to_vec();
    missing.sort_by_key(|(project_id, series)| (*project_id, series.hash));
    let mut tx = pool.begin().await?;

    // Every pair, once.
    let mut pairs: Vec<(i64, &str, &str)> = missing
        .iter()
        .flat_map(|(p, s)| s.all_labels().map(move |(n, v)| (*p, n, v)))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let (projects, names, values) = unzip3(pairs.iter().map(|&(p, n, v)| (p, n, v)));
    sqlx::query(
        "insert into metric_label (project_id, name, value)
         select * from unnest($1::int8[], $2::text[], $3::text[])
         on conflict do nothing",
    )
    .bind(&projects)
    .bind(&names)
    .bind(&values)
    .execute(&mut *tx)
    .await?;
    let label_rows: Vec<(i64, String, String, i32)> = sqlx::query_as(
        "select l.project_id, l.name, l.value, l.label_id
         from unnest($1::int8[], $2::text[], $3::text[]) u(project_id, name, value)
         join metric_label l using (project_id, name, value)",
    )
    .bind(&projects)
    .bind(&names)
    .bind(&values)
    .fetch_all(&mut *tx)
    .await?;
    let label_ids: HashMap<(i64, &str, &str), i32> = label_rows
        .iter()
        .map(|(p, n, v, id)| ((*p, n.as_str(), v.as_str()), *id))
        .collect();

    let mut rows = SeriesRows::default();
    for (project_id, series) in &missing {
        let mut ids: Vec<i32> = series
            .all_labels()
            .filter_map(|(n, v)| label_ids.get(&(*project_id, n, v)).copied())
            .collect();
        ids.sort_unstable();
        let labels: serde_json::Map<String, serde_json::Value> = series
            .labels
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let first = series.samples.first().map_or(0, |s| s.0);
        let last = series.samples.last().map_or(0, |s| s.0);
        rows.project.push(*project_id);
        rows.metric.push(series.metric.clone());
        rows.labels
            .push(serde_json::Value::Object(labels).to_string());
        rows.label_ids.push(format!(
            "{{{}}}",
            ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
        ));
        rows.hash.push(series.hash.to_vec());
        rows.first.push(first);
        rows.last.push(last.div_euclid(HOUR_MS) * HOUR_MS);
    }
    sqlx::query(
        "insert into metric_series
             (project_id, metric, labels, label_ids, labels_hash, first_seen, last_seen)
         select p, m, l::jsonb, i::integer[], h, to_timestamp(f / 1000.0), to_timestamp(t / 1000.0)
         from unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::int8[], $7::int8[])
              as u(p, m, l, i, h, f, t)
         on conflict (project_id, labels_hash) do nothing",
    )
    .bind(&rows.project)
    .bind(&rows.metric)
    .bind(&rows.labels)
    .bind(&rows.label_ids)
    .bind(&rows.hash)
    .bind(&rows.first)
    .bind(&rows.last)
    .execute(&mut *tx)
    .await?;
    let found: Vec<(i64, Vec<u8>, i64, i64, i64)> = sqlx::query_as(
        "select s.project_id, s.labels_hash, s.series_id,
                (extract(epoch from s.first_seen) * 1000)::int8,
                (extract(epoch from s.last_seen) * 1000)::int8
         from unnest($1::int8[], $2::bytea[]) u(project_id, labels_hash)
         join metric_series s using (project_id, labels_hash)",
    )
    .bind(&rows.project)
    .bind(&rows.hash)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(found
        .into_iter()
        .filter_map(|(project_id, hash, id, first_ms, last_ms)| {
            let hash: SeriesHash = hash.try_into().ok()?;
            Some((
                (project_id, hash),
                Known {
                    id,
                    first_ms,
                    last_ms,
                },
            ))
        })
        .collect())
}

/// Columns of new `metric_series` rows.
#[derive(Default)]
struct SeriesRows {
    project: Vec<i64>,
    metric: Vec<String>,
    labels: Vec<String>,
    label_ids: Vec<String>,
    hash: Vec<Vec<u8>>,
    first: Vec<i64>,
    last: Vec<i64>,
}

fn unzip3<'a>(
    items: impl Iterator<Item = (i64, &'a str, &'a str)>,
) -> (Vec<i64>, Vec<&'a str>, Vec<&'a str>) {
    let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
    for (x, y, z) in items {
        a.push(x);
        b.push(y);
        c.push(z);
    }
    (a, b, c)
}

async fn write_metadata(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    metadata: &[(i64, Metadata)],
) -> Result<(), sqlx::Error> {
    let projects: Vec<i64> = metadata.iter().map(|(p, _)| *p).collect();
    let column =
        |f: fn(&Metadata) -> &str| -> Vec<&str> { metadata.iter().map(|(_, m)| f(m)).collect() };
    sqlx::query(
        "insert into metric_metadata (project_id, metric, type, help, unit)
         select * from unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[])
         on conflict (project_id, metric) do update
         set type = excluded.type, help = excluded.help, unit = excluded.unit, updated_at = now()
         where (metric_metadata.type, metric_metadata.help, metric_metadata.unit)
               is distinct from (excluded.type, excluded.help, excluded.unit)",
    )
    .bind(&projects)
    .bind(column(|m| &m.metric))
    .bind(column(|m| &m.kind))
    .bind(column(|m| &m.help))
    .bind(column(|m| &m.unit))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
