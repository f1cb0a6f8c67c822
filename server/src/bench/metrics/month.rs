//! The benchmark's 30 days: a small fleet scraped every 60 s for a month,
//! the data of its last row. Neither side takes a month-old sample by remote
//! write (Sightline refuses samples outside its receive window, Prometheus
//! outside its head), so Prometheus gets blocks from `promtool` and
//! Sightline gets the rows its writer would have written, into the hot
//! table, which compaction then turns into chunks and hour rollups as it
//! does every closed hour.

use std::collections::HashMap;

use sqlx::PgPool;

use super::fleet::{openmetrics_line, Fleet};
use crate::db::copy::BinaryRows;

/// Targets and handlers of the month's fleet (at most): 120 series, some of
/// the 24 h fleet's, so that they exist in Sightline once that data is in.
pub const TARGETS: usize = 2;
pub const HANDLERS: usize = 3;
/// Days of data.
pub const DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// A series as a string key: `name{a="b",c="d"}`, labels sorted.
fn key<'a>(name: &str, labels: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<_> = labels.filter(|(n, _)| *n != "__name__").collect();
    pairs.sort_unstable();
    let inner: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}=\"{v}\"")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// The month `[start_ms, end_ms)` of `fleet` at `interval_ms` as OpenMetrics
/// text for promtool. Returns the samples.
pub fn openmetrics(
    fleet: &mut Fleet,
    range: (i64, i64, i64),
    file: &mut dyn std::io::Write,
) -> anyhow::Result<usize> {
    let mut line = String::new();
    let samples = fleet.scrapes(range, |_, labels, timestamp, value| {
        line.clear();
        openmetrics_line(&mut line, labels, timestamp, value)?;
        Ok(file.write_all(line.as_bytes())?)
    })?;
    file.write_all(b"# EOF\n")?;
    Ok(samples)
}

/// Writes the month `[start_ms, end_ms)` of `fleet` at `interval_ms` into
/// Sightline's hot table of `project_id`, a day per `COPY`, and moves its
/// series' `first_seen` back to the start. The series must exist. Returns the
/// samples.
pub async fn write(
    pool: &PgPool,
    project_id: i64,
    fleet: &mut Fleet,
    (start_ms, end_ms, interval_ms): (i64, i64, i64),
) -> anyhow::Result<usize> {
    let rows: Vec<(i64, String, serde_json::Value)> =
        sqlx::query_as("select series_id, metric, labels from metric_series where project_id = $1")
            .bind(project_id)
            .fetch_all(pool)
            .await?;
    let by_key: HashMap<String, i64> = rows
        .iter()
        .filter_map(|(id, metric, labels)| {
            let labels = labels.as_object()?;
            let pairs = labels
                .iter()
                .filter_map(|(n, v)| Some((n.as_str(), v.as_str()?)));
            Some((key(metric, pairs), *id))
        })
        .collect();
    // Each of the fleet's series' id, by its index in the scrapes.
    let ids = fleet
        .labels()
        .iter()
        .map(|labels| {
            let key = key(
                &labels[0].value,
                labels.iter().map(|l| (l.name.as_str(), l.value.as_str())),
            );
            by_key
                .get(&key)
                .copied()
                .ok_or_else(|| anyhow::anyhow!("the month's series {key} is not in Sightline"))
        })
        .collect::<anyhow::Result<Vec<i64>>>()?;
    let per_day = usize::try_from(DAY_MS / interval_ms.max(1)).unwrap_or(0);
    let mut samples = 0;
    let mut day = start_ms;
    while day < end_ms {
        let mut copy = BinaryRows::with_capacity(ids.len() * per_day * 38);
        samples += fleet.scrapes(
            (day, (day + DAY_MS).min(end_ms), interval_ms),
            |i, _, timestamp, value| {
                copy.row(3);
                copy.int8(ids[i]);
                copy.timestamptz_millis(timestamp);
                copy.float8(value);
                Ok(())
            },
        )?;
        let mut conn = pool.acquire().await?;
        let mut sink = conn
            .copy_in_raw(
                "copy metric_sample (series_id, ts, value) from stdin with (format binary)",
            )
            .await?;
        sink.send(copy.finish()).await?;
        sink.finish().await?;
        day += DAY_MS;
    }
    sqlx::query(
        "update metric_series set first_seen = least(first_seen, to_timestamp($2 / 1000.0))
         where series_id = any($1)",
    )
    .bind(&ids)
    .bind(start_ms)
    .execute(pool)
    .await?;
    Ok(samples)
}
