//! The read SQL of metrics: the series a set of label matchers selects, their
//! samples, label names and values, and metadata.
//!
//! Matchers are answered from the inverted index: each is turned into the ids
//! of the label pairs it accepts (`metric_label`; regular expressions are
//! applied here, in Rust, so they mean what they mean in Prometheus, RE2, not
//! PostgreSQL's dialect), and the series are those whose `label_ids` contain,
//! or avoid, those ids (a GIN index on `metric_series.label_ids`).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt as _, TryStreamExt as _};
use promql_parser::label::{MatchOp, Matcher};
use sqlx::{PgPool, QueryBuilder};

use super::compact;
use super::promql::{bucketize, Bucket};
use super::rollup::{self, Tier};

/// Labels of a series, sorted by name, `__name__` among them.
pub type Labels = Vec<(String, String)>;

/// Most series one selector may read.
pub const MAX_SERIES: usize = 50_000;
/// Most samples one query may read.
pub const MAX_SAMPLES: usize = 5_000_000;
/// Most values of one label a regular expression is tried against.
const MAX_REGEX_VALUES: i64 = 1_000_000;

/// A `metric_series` row: id, metric, labels.
type StoredSeries = (
    i64,
    String,
    sqlx::types::Json<serde_json::Map<String, serde_json::Value>>,
);

/// A row of [`samples`]' statement: whether it is a chunk, the series, the
/// time, and either the chunk or the hot sample's value.
type SampleRow = (bool, i64, DateTime<Utc>, Option<Vec<u8>>, Option<f64>);

/// A series as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRow {
    pub id: i64,
    pub labels: Labels,
}

/// What a read could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The query reads more than a limit allows: narrow it (422).
    #[error("{0}")]
    TooMuch(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What one matcher asks of a series' label ids.
enum Condition {
    /// It has one of these pairs.
    AnyOf(Vec<i32>),
    /// It has none of these pairs.
    NoneOf(Vec<i32>),
}

/// The pairs of label `name` in a project whose values `accept` accepts, and
/// all its pairs.
async fn pairs_of(
    pool: &PgPool,
    project_id: i64,
    name: &str,
    accept: impl Fn(&str) -> bool,
) -> Result<(Vec<i32>, Vec<i32>), StoreError> {
    let rows: Vec<(i32, String)> = sqlx::query_as(
        "select label_id, value from metric_label where project_id = $1 and name = $2 limit $3",
    )
    .bind(project_id)
    .bind(name)
    .bind(MAX_REGEX_VALUES + 1)
    .fetch_all(pool)
    .await?;
    if rows.len() as i64 > MAX_REGEX_VALUES {
        return Err(StoreError::TooMuch(format!(
            "label `{name}` has more than {MAX_REGEX_VALUES} values; match it with `=`"
        )));
    }
    let all = rows.iter().map(|(id, _)| *id).collect();
    let accepted = rows
        .into_iter()
        .filter(|(_, v)| accept(v))
        .map(|(id, _)| id)
        .collect();
    Ok((accepted, all))
}

/// The condition of one matcher; `None` when no series can match.
async fn condition(
    pool: &PgPool,
    project_id: i64,
    matcher: &Matcher,
) -> Result<Option<Condition>, StoreError> {
    let name = matcher.name.as_str();
    let value = matcher.value.as_str();
    let condition = match &matcher.op {
        MatchOp::Equal if !value.is_empty() => {
            let id: Option<i32> = sqlx::query_scalar(
                "select label_id from metric_label where project_id = $1 and name = $2 and value = $3",
            )
            .bind(project_id)
            .bind(name)
            .bind(value)
            .fetch_optional(pool)
            .await?;
            match id {
                Some(id) => Condition::AnyOf(vec![id]),
                None => return Ok(None),
            }
        }
        MatchOp::NotEqual if !value.is_empty() => {
            let id: Option<i32> = sqlx::query_scalar(
                "select label_id from metric_label where project_id = $1 and name = $2 and value = $3",
            )
            .bind(project_id)
            .bind(name)
            .bind(value)
            .fetch_optional(pool)
            .await?;
            Condition::NoneOf(id.into_iter().collect())
        }
        // `name=""`: the label is absent; `name!=""`: it is present.
        MatchOp::Equal => Condition::NoneOf(pairs_of(pool, project_id, name, |_| true).await?.1),
        MatchOp::NotEqual => {
            let (all, _) = pairs_of(pool, project_id, name, |_| true).await?;
            if all.is_empty() {
                return Ok(None);
            }
            Condition::AnyOf(all)
        }
        MatchOp::Re(_) | MatchOp::NotRe(_) => {
            let (accepted, all) = pairs_of(pool, project_id, name, |v| matcher.is_match(v)).await?;
            // An absent label has the value "": when the matcher takes it, a
            // series matches unless it has one of the values refused.
            if matcher.is_match("") {
                let refused: BTreeSet<i32> = all
                    .iter()
                    .copied()
                    .collect::<BTreeSet<_>>()
                    .difference(&accepted.iter().copied().collect())
                    .copied()
                    .collect();
                Condition::NoneOf(refused.into_iter().collect())
            } else if accepted.is_empty() {
                return Ok(None);
            } else {
                Condition::AnyOf(accepted)
            }
        }
    };
    Ok(Some(condition))
}

/// Matcher lookups of one selector that run at once.
const CONCURRENT_LOOKUPS: usize = 4;

/// The series of a project that `matchers` select and that had samples in
/// `[mint, maxt]` (ms) as far as their recorded bounds tell.
pub async fn select_series(
    pool: &PgPool,
    project_id: i64,
    matchers: &[Matcher],
    mint: i64,
    maxt: i64,
) -> Result<Vec<SeriesRow>, StoreError> {
    // One lookup of `metric_label` a matcher, a few at once (a selector may
    // have many matchers; the pool serves other requests too).
    // (The futures are made first: a stream over a closure taking a
    // reference is not `Send` to the compiler in an axum handler.)
    let lookups: Vec<_> = matchers
        .iter()
        .map(|matcher| condition(pool, project_id, matcher))
        .collect();
    let found: Vec<_> = futures_util::stream::iter(lookups)
        .buffered(CONCURRENT_LOOKUPS)
        .try_collect()
        .await?;
    let Some(conditions) = found.into_iter().collect::<Option<Vec<Condition>>>() else {
        return Ok(Vec::new());
    };
    let mut sql = QueryBuilder::new(
        "select series_id, metric, labels from metric_series where project_id = ",
    );
    sql.push_bind(project_id);
    // last_seen is kept to the hour: a series seen at 10:00 may have samples until 11:00.
    sql.push(" and first_seen <= ")
        .push_bind(time(maxt))
        .push(" and last_seen > ")
        .push_bind(time(mint.saturating_sub(3_600_000)));
    for condition in &conditions {
        match condition {
            Condition::AnyOf(ids) => {
                sql.push(" and label_ids && ").push_bind(ids.clone());
            }
            Condition::NoneOf(ids) if ids.is_empty() => {}
            Condition::NoneOf(ids) => {
                sql.push(" and not label_ids && ").push_bind(ids.clone());
            }
        }
    }
    sql.push(" limit ").push_bind(MAX_SERIES as i64 + 1);
    let rows: Vec<StoredSeries> = sql.build_query_as().fetch_all(pool).await?;
    if rows.len() > MAX_SERIES {
        return Err(StoreError::TooMuch(format!(
            "the selector matches more than {MAX_SERIES} series; add label matchers"
        )));
    }
    Ok(rows
        .into_iter()
        .map(|(id, metric, labels)| SeriesRow {
            id,
            labels: labels_of(metric, labels.0),
        })
        .collect())
}

/// A series' labels from its stored form.
fn labels_of(metric: String, labels: serde_json::Map<String, serde_json::Value>) -> Labels {
    let mut all: Labels = labels
        .into_iter()
        .map(|(n, v)| match v {
            serde_json::Value::String(s) => (n, s),
            other => (n, other.to_string()),
        })
        .collect();
    all.push(("__name__".into(), metric));
    all.sort();
    all
}

/// A time in ms as PostgreSQL takes it: clamped to the years 1 to 9999
/// (queries say "all time" with extreme values).
fn time(ms: i64) -> DateTime<Utc> {
    const YEAR_1: i64 = -62_135_596_800_000;
    const YEAR_9999: i64 = 253_402_300_799_999;
    DateTime::from_timestamp_millis(ms.clamp(YEAR_1, YEAR_9999)).unwrap_or_default()
}

/// The samples of `series` in `[mint, maxt]` (ms), per series in time order,
/// one per millisecond; at most `budget` read in all.
///
/// Closed hours are read from their chunks (`metric_chunk`, decoded here),
/// the rest from the hot rows, in one statement so that a compaction
/// committing meanwhile is seen whole or not at all. A timestamp found twice
/// (a sample sent twice, or a hot row not yet compacted beside its chunk)
/// keeps the sample written first: the chunk's, then the first hot row, as
/// compaction does. Every sample of a chunk read counts against the budget,
/// in range or not; the statement stops reading chunks past it.
pub async fn samples(
    pool: &PgPool,
    series: &[i64],
    mint: i64,
    maxt: i64,
    budget: usize,
) -> Result<Vec<(i64, Vec<(i64, f64)>)>, StoreError> {
    if series.is_empty() {
        return Ok(Vec::new());
    }
    let limit = i64::try_from(budget).unwrap_or(i64::MAX).saturating_add(1);
    // A chunk row starts at its hour, or later within it.
    let first_hour = mint.saturating_sub(mint.rem_euclid(3_600_000));
    let rows: Vec<SampleRow> = sqlx::query_as(
        "select true, series_id, ts, data, null::float8 from (
             select series_id, ts, data,
                    sum(samples) over (order by series_id, ts) - samples as before
             from metric_chunk
             where series_id = any($1) and ts >= $2 and ts <= $4
         ) chunk
         where before < $5
         union all
         (select false, series_id, ts, null::bytea, value from metric_sample
          where series_id = any($1) and ts >= $3 and ts <= $4
          order by series_id, ts, ctid
          limit $5)",
    )
    .bind(series)
    .bind(time(first_hour))
    .bind(time(mint))
    .bind(time(maxt))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let too_much = || {
        StoreError::TooMuch(format!(
            "the query reads more than {budget} samples; narrow the selectors or the range"
        ))
    };
    let mut read = 0usize;
    let mut chunks: HashMap<i64, Vec<(i64, f64)>> = HashMap::new();
    let mut hot: HashMap<i64, Vec<(i64, f64)>> = HashMap::new();
    for (from_chunk, id, ts, data, value) in rows {
        let ts = ts.timestamp_millis();
        match (from_chunk, data, value) {
            (true, Some(data), _) => {
                let decoded = compact::decode_row(ts, &data)
                    .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
                read += decoded.len();
                let points = chunks.entry(id).or_default();
                points.extend(
                    decoded
                        .into_iter()
                        .filter(|&(t, _)| (mint..=maxt).contains(&t)),
                );
            }
            (false, _, Some(value)) => {
                read += 1;
                hot.entry(id).or_default().push((ts, value));
            }
            _ => {}
        }
        if read > budget {
            return Err(too_much());
        }
    }
    let mut ids: Vec<i64> = chunks.keys().chain(hot.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids
        .into_iter()
        .map(|id| {
            let earlier = chunks.remove(&id).unwrap_or_default();
            let later = hot.remove(&id).unwrap_or_default();
            (id, compact::merge_first_wins(earlier, later))
        })
        .collect())
}

/// The buckets of `tier` of `series` that start in `[mint - mint % width,
/// maxt]` (ms), per series in time order; at most `budget` read in all.
///
/// Compacted hours come from the tier's rollup rows, the rest from the hot
/// rows, bucketed here, in one statement (as [`samples`]). `None` when a
/// bucket has both: samples that arrived for an hour after it was compacted
/// wait in the hot rows for the next compaction, and until then only the
/// samples give the right answer (a resent sample must count once, a late one
/// in its place), so the caller reads those.
pub async fn buckets(
    pool: &PgPool,
    series: &[i64],
    mint: i64,
    maxt: i64,
    tier: Tier,
    budget: usize,
) -> Result<Option<Vec<(i64, Vec<Bucket>)>>, StoreError> {
    if series.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let width = tier.width();
    let from = rollup::floor(mint, width);
    let limit = i64::try_from(budget).unwrap_or(i64::MAX).saturating_add(1);
    let rows: Vec<SampleRow> = sqlx::query_as(&format!(
        "select true, series_id, ts, data, null::float8 from {}
         where series_id = any($1) and ts >= $2 and ts <= $4
         union all
         (select false, series_id, ts, null::bytea, value from metric_sample
          where series_id = any($1) and ts >= $3 and ts <= $4
          order by series_id, ts, ctid
          limit $5)",
        tier.table()
    ))
    .bind(series)
    .bind(time(rollup::floor(from, tier.row_ms())))
    .bind(time(from))
    .bind(time(maxt))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut read = 0usize;
    let mut rolled: HashMap<i64, Vec<Bucket>> = HashMap::new();
    let mut hot: HashMap<i64, Vec<(i64, f64)>> = HashMap::new();
    for (from_rollup, id, ts, data, value) in rows {
        let ts = ts.timestamp_millis();
        match (from_rollup, data, value) {
            (true, Some(data), _) => {
                let unpacked = rollup::unpack(ts, &data)
                    .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
                read += unpacked.len();
                rolled.entry(id).or_default().extend(
                    unpacked
                        .into_iter()
                        .filter(|b| (from..=maxt).contains(&b.start)),
                );
            }
            (false, _, Some(value)) => {
                read += 1;
                hot.entry(id).or_default().push((ts, value));
            }
            _ => {}
        }
        if read > budget {
            return Err(StoreError::TooMuch(format!(
                "the query reads more than {budget} buckets; narrow the selectors or the range"
            )));
        }
    }
    let mut ids: Vec<i64> = rolled.keys().chain(hot.keys()).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let mut stored = rolled.remove(&id).unwrap_or_default();
        stored.sort_by_key(|b| b.start);
        // The first of a timestamp sent twice wins, as in `samples`.
        let fresh = compact::merge_first_wins(Vec::new(), hot.remove(&id).unwrap_or_default());
        let fresh = bucketize(&fresh, width);
        if fresh
            .iter()
            .any(|b| stored.binary_search_by_key(&b.start, |s| s.start).is_ok())
        {
            return Ok(None);
        }
        // No bucket in both: the two lists interleave by start.
        stored.extend(fresh);
        stored.sort_by_key(|b| b.start);
        out.push((id, stored));
    }
    Ok(Some(out))
}

/// Whether the samples of `series` in `[mint, maxt]` (ms) are cheaper to
/// read than their minute rollups, and fewer than `budget`: when a minute
/// holds two samples or fewer (a 30 s or slower scrape interval), a bucket
/// costs more to read and unpack than what it summarises. Only when the
/// chunks cover every hour the rollups do: past raw retention the rollups
/// alone remember.
pub async fn samples_are_cheaper(
    pool: &PgPool,
    series: &[i64],
    (mint, maxt): (i64, i64),
    budget: usize,
) -> Result<bool, StoreError> {
    let from = time(rollup::floor(mint, Tier::Minute.row_ms()));
    let (rollup_rows, chunk_hours, samples): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from metric_rollup_1m
                 where series_id = any($1) and ts >= $2 and ts <= $3),
                count(distinct (series_id, floor(extract(epoch from ts) / 3600))),
                coalesce(sum(samples), 0)::int8
         from metric_chunk where series_id = any($1) and ts >= $2 and ts <= $3",
    )
    .bind(series)
    .bind(from)
    .bind(time(maxt))
    .fetch_one(pool)
    .await?;
    let buckets = rollup_rows.saturating_mul(Tier::Minute.row_ms() / Tier::Minute.width());
    // Nothing compacted yet: both read the same hot rows.
    // Within the budget too: the samples may be twice the buckets.
    let budget = i64::try_from(budget).unwrap_or(i64::MAX);
    Ok(rollup_rows > 0
        && chunk_hours >= rollup_rows
        && samples <= buckets.saturating_mul(2)
        && samples <= budget)
}

/// Label names of a project, `__name__` among them.
pub async fn label_names(pool: &PgPool, project_id: i64) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "select distinct name from metric_label where project_id = $1 order by 1 limit 100000",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await?)
}

/// A metric name with its type, help and unit when known.
pub type NameRow = (String, Option<String>, Option<String>, Option<String>);

/// The metric names of a project with their metadata when known:
/// `(name, type, help, unit)`, by name.
pub async fn metric_names(pool: &PgPool, project_id: i64) -> Result<Vec<NameRow>, StoreError> {
    Ok(sqlx::query_as(
        "select l.value, m.type, m.help, m.unit
         from metric_label l
         left join metric_metadata m on m.project_id = l.project_id and m.metric = l.value
         where l.project_id = $1 and l.name = '__name__'
         order by 1 limit 100000",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await?)
}

/// Values of label `name` in a project.
pub async fn label_values(
    pool: &PgPool,
    project_id: i64,
    name: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "select value from metric_label where project_id = $1 and name = $2 order by 1 limit 100000",
    )
    .bind(project_id)
    .bind(name)
    .fetch_all(pool)
    .await?)
}

/// `(label, value)` pairs of the series of `metric`, `__name__` aside, by
/// label and value: at most `per_label + 1` values a label (so a caller can
/// tell there are more), read from at most 100 000 series.
pub async fn metric_labels(
    pool: &PgPool,
    project_id: i64,
    metric: &str,
    per_label: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "with ids as (
             select distinct unnest(label_ids) as label_id
             from (select label_ids from metric_series
                   where project_id = $1 and metric = $2 limit 100000) s
         ), pairs as (
             select l.name, l.value,
                    row_number() over (partition by l.name order by l.value) as n
             from metric_label l join ids using (label_id)
             where l.project_id = $1 and l.name <> '__name__'
         )
         select name, value from pairs where n <= $3 + 1 order by name, value",
    )
    .bind(project_id)
    .bind(metric)
    .bind(per_label)
    .fetch_all(pool)
    .await?)
}

/// The UNIT of the named metric families that have one.
pub async fn units(
    pool: &PgPool,
    project_id: i64,
    metrics: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select metric, unit from metric_metadata
         where project_id = $1 and metric = any($2) and unit <> ''",
    )
    .bind(project_id)
    .bind(metrics)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// HELP, TYPE and UNIT of a project's metric families: `(metric, type, help, unit)`.
pub async fn metadata(
    pool: &PgPool,
    project_id: i64,
    metric: Option<&str>,
    limit: i64,
) -> Result<Vec<(String, String, String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "select metric, type, help, unit from metric_metadata
         where project_id = $1 and ($2::text is null or metric = $2)
         order by metric limit $3",
    )
    .bind(project_id)
    .bind(metric)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
