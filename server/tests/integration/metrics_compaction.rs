//! Compaction of closed metric hours into XOR chunks: samples sent by remote
//! write for past hours are compacted (the hot hour emptied, one chunk a
//! series), PromQL answers exactly as before (NaN and a stale marker
//! included), late samples for a compacted hour are merged on the next pass,
//! a sample sent twice is stored once (the first wins), closed hours waiting
//! in the default partition are compacted too, and a realistic hour
//! of 1000 series at 15 s costs at most 16 bytes a sample on disk.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use app::api::Role;
use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use chrono::{DateTime, Datelike, DurationRound, TimeDelta, Utc};
use common::{
    metrics::{series, write},
    Auth, TestApp,
};
use serde_json::Value;
use server::{
    metrics::{compact::compact_once, record::STALE_NAN_BITS},
    pipeline::partitions::{partition_name, run_once, Period},
    state::partitioned_tables,
};
use sqlx::PgPool;

/// A project ready for samples of past hours (their partitions made as of
/// `now`): the app, the ingest key and a viewer token.
async fn project(pool: PgPool, now: DateTime<Utc>) -> (TestApp, String, String) {
    let app = TestApp::new(pool.clone());
    run_once(&pool, &partitioned_tables(&app.state.config), now)
        .await
        .expect("partitions");
    let (_, key) = app.project("shop").await;
    let Auth::Bearer(token) = app.token(Role::Viewer).await else {
        unreachable!("tokens are bearer")
    };
    (app, key, token)
}

/// The `data` of a range query over `[start, end]` (ms) at 15 s.
async fn range(app: &TestApp, token: &str, query: &str, start: i64, end: i64) -> Value {
    let query: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let uri = format!(
        "/prometheus/shop/api/v1/query_range?query={query}&start={}&end={}&step=15s",
        start as f64 / 1000.0,
        end as f64 / 1000.0
    );
    let r = app
        .send(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"].clone()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.expect(sql)
}

/// Fails at the first sample where `got` and `want` differ (the whole lists
/// are too long to read).
fn assert_same(got: &[(i64, u64)], want: &[(i64, u64)], what: &str) {
    if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        panic!(
            "{what}: sample {i} differs: got {:?}, want {:?} ({} vs {} samples)",
            got.get(i),
            want.get(i),
            got.len(),
            want.len()
        );
    }
}

/// The samples stored for the series of `metric`, bit for bit.
async fn stored(pool: &PgPool, metric: &str) -> Vec<(i64, u64)> {
    let ids: Vec<i64> = sqlx::query_scalar("select series_id from metric_series where metric = $1")
        .bind(metric)
        .fetch_all(pool)
        .await
        .expect("series");
    let read = server::metrics::store::samples(pool, &ids, 0, i64::MAX / 2, 1_000_000)
        .await
        .expect("samples");
    assert_eq!(read.len(), 1, "{metric}");
    read[0].1.iter().map(|&(t, v)| (t, v.to_bits())).collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn compaction_answers_as_before_and_merges_late_samples(pool: PgPool) {
    let now = Utc::now();
    let hour = (now - TimeDelta::hours(3))
        .duration_trunc(TimeDelta::hours(1))
        .expect("hour");
    let h = hour.timestamp_millis();
    let (app, key, token) = project(pool.clone(), now).await;
    let hot = partition_name("metric_sample", Period::Hour, hour);

    // A counter every 15 s with a few ms of jitter, a gauge with a NaN in
    // the middle, and a series ended by a stale marker half-way.
    let times: Vec<i64> = (0..240).map(|i| h + i * 15_000 + (i * 7) % 5).collect();
    let counter: Vec<(i64, f64)> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| (t, (i * i % 97 + i * 10) as f64))
        .collect();
    let gauge: Vec<(i64, f64)> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            (
                t,
                if i == 100 {
                    f64::NAN
                } else {
                    20.0 + i as f64 / 8.0
                },
            )
        })
        .collect();
    let mut ending: Vec<(i64, f64)> = times[..120].iter().map(|&t| (t, 1.0)).collect();
    ending.push((times[120], f64::from_bits(STALE_NAN_BITS)));
    write(
        &app,
        &key,
        vec![
            series(&[("__name__", "requests_total"), ("job", "api")], &counter),
            series(&[("__name__", "temperature"), ("room", "lab")], &gauge),
            series(&[("__name__", "worker_up"), ("worker", "w1")], &ending),
        ],
    )
    .await;

    let queries = [
        "rate(requests_total[1m])",
        "temperature",
        "worker_up",
        "count_over_time(worker_up[10m])",
    ];
    let (start, end) = (h - 300_000, h + 3_900_000);
    let mut before = Vec::new();
    for q in queries {
        before.push(range(&app, &token, q, start, end).await);
    }
    let rows = count(&pool, &format!("select count(*) from {hot}")).await;
    assert_eq!(rows, 240 + 240 + 121);
    let sent = [
        ("requests_total", counter.clone()),
        ("temperature", gauge.clone()),
        ("worker_up", ending.clone()),
    ];
    let bits = |s: &[(i64, f64)]| s.iter().map(|&(t, v)| (t, v.to_bits())).collect::<Vec<_>>();

    let report = compact_once(&pool, now).await.expect("compact");
    assert_eq!(report.hours, vec![hot.clone()], "{report:?}");
    assert_eq!((report.chunks, report.samples), (3, rows as u64));
    assert_eq!(
        count(&pool, &format!("select count(*) from {hot}")).await,
        0
    );
    assert_eq!(count(&pool, "select count(*) from metric_chunk").await, 3);
    assert_eq!(
        count(&pool, "select sum(samples)::int8 from metric_chunk").await,
        rows
    );
    for (q, expected) in queries.iter().zip(&before) {
        assert_eq!(&range(&app, &token, q, start, end).await, expected, "{q}");
    }
    for (metric, samples) in &sent {
        assert_same(&stored(&pool, metric).await, &bits(samples), metric);
    }
    // Nothing left to do: the pass after changes nothing.
    assert!(compact_once(&pool, now)
        .await
        .expect("again")
        .hours
        .is_empty());

    // Late samples for the compacted hour: a new one between two others,
    // and one sent again with another value (the first written wins), read
    // from the chunk and the hot rows together, then merged by the next pass.
    let late = (h + 7_500, 3.25);
    write(
        &app,
        &key,
        vec![series(
            &[("__name__", "temperature"), ("room", "lab")],
            &[late, (gauge[10].0, -1.0)],
        )],
    )
    .await;
    assert_eq!(
        count(&pool, &format!("select count(*) from {hot}")).await,
        2
    );
    let mut expected = gauge.clone();
    expected.insert(1, late);
    assert_same(
        &stored(&pool, "temperature").await,
        &bits(&expected),
        "late",
    );
    let report = compact_once(&pool, now).await.expect("late");
    assert_eq!((report.chunks, report.samples), (1, 241), "{report:?}");
    assert_eq!(
        count(&pool, &format!("select count(*) from {hot}")).await,
        0
    );
    assert_eq!(count(&pool, "select count(*) from metric_chunk").await, 3);
    assert_same(
        &stored(&pool, "temperature").await,
        &bits(&expected),
        "late",
    );
    let after = range(&app, &token, "temperature", start, end).await;
    assert_ne!(after, before[1], "the late sample shows");
    assert_eq!(
        range(&app, &token, "worker_up", start, end).await,
        before[2]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn closed_hours_waiting_in_the_default_partition_are_compacted(pool: PgPool) {
    let now = Utc::now();
    // Older than the hour partitions kept a day back: the default partition.
    let hour = (now - TimeDelta::days(2))
        .duration_trunc(TimeDelta::hours(1))
        .expect("hour");
    let h = hour.timestamp_millis();
    let (app, key, token) = project(pool.clone(), now).await;
    let first: Vec<(i64, f64)> = (0..60).map(|i| (h + i * 60_000, i as f64)).collect();
    let next: Vec<(i64, f64)> = (0..60)
        .map(|i| (h + 3_600_000 + i * 60_000, 100.0 - i as f64))
        .collect();
    let all: Vec<(i64, f64)> = first.iter().chain(&next).copied().collect();
    write(
        &app,
        &key,
        vec![series(&[("__name__", "backfilled"), ("job", "a")], &all)],
    )
    .await;
    let waiting = "select count(*) from metric_sample_default";
    assert_eq!(count(&pool, waiting).await, 120);
    let (start, end) = (h - 60_000, h + 7_260_000);
    let before = range(&app, &token, "backfilled", start, end).await;

    let report = compact_once(&pool, now).await.expect("compact");
    assert_eq!(report.hours, vec!["metric_sample_default".to_string()]);
    assert_eq!(
        (report.chunks, report.samples),
        (2, 120),
        "one chunk an hour"
    );
    assert_eq!(count(&pool, waiting).await, 0);
    assert_eq!(range(&app, &token, "backfilled", start, end).await, before);
    let bits = |s: &[(i64, f64)]| s.iter().map(|&(t, v)| (t, v.to_bits())).collect::<Vec<_>>();
    assert_same(
        &stored(&pool, "backfilled").await,
        &bits(&all),
        "backfilled",
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_hour_of_1000_series_at_15s_takes_at_most_16_bytes_a_sample(pool: PgPool) {
    let now = Utc::now();
    let hour = (now - TimeDelta::hours(2))
        .duration_trunc(TimeDelta::hours(1))
        .expect("hour");
    let h = hour.timestamp_millis();
    let (app, key, _) = project(pool.clone(), now).await;
    // A small linear congruential generator: realistic, repeatable noise.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    let mut batch = Vec::new();
    for s in 0..1000u64 {
        let mut value = (next() % 10_000) as f64;
        let samples: Vec<(i64, f64)> = (0..240)
            .map(|i| {
                // Scrapes land a few ms off the 15 s grid, as Prometheus's do.
                let t = h + i * 15_000 + (next() % 4) as i64;
                value = match s % 4 {
                    // Counters of requests and bytes.
                    0 => value + (next() % 50) as f64,
                    1 => value + (next() % 100_000) as f64,
                    // A gauge in tenths, and one that rarely changes.
                    2 => ((value + (next() % 21) as f64 - 10.0) * 10.0).round() / 10.0,
                    _ if next() % 20 == 0 => (next() % 8) as f64,
                    _ => value,
                };
                (t, value)
            })
            .collect();
        let (instance, kind) = (format!("host-{}", s / 4), format!("m{}", s % 4));
        batch.push(series(
            &[
                ("__name__", "node_metric"),
                ("instance", &instance),
                ("kind", &kind),
            ],
            &samples,
        ));
        if batch.len() == 100 {
            write(&app, &key, std::mem::take(&mut batch)).await;
        }
    }
    let report = compact_once(&pool, now).await.expect("compact");
    assert_eq!((report.chunks, report.samples), (1000, 240_000));
    let samples = count(&pool, "select sum(samples)::int8 from metric_chunk").await as f64;
    let day = partition_name(
        "metric_chunk",
        Period::Day,
        hour.duration_trunc(TimeDelta::days(1)).expect("day"),
    );
    let partition = count(&pool, &format!("select pg_total_relation_size('{day}')")).await as f64;
    let all = count(
        &pool,
        "select sum(pg_total_relation_size(inhrelid))::int8 from pg_inherits
         where inhparent = 'metric_chunk'::regclass",
    )
    .await as f64;
    let payload = count(&pool, "select sum(length(data))::int8 from metric_chunk").await as f64;
    println!(
        "metric_chunk: {:.2} B/sample ({day}), {:.2} B/sample with every empty partition, \
         XOR payload {:.2} B/sample",
        partition / samples,
        all / samples,
        payload / samples
    );
    assert!(all / samples <= 16.0, "{} B/sample", all / samples);
    // Four samples a minute: a range query at a minute's step reads the
    // minute rollups, not the samples.
    let ids: Vec<i64> = sqlx::query_scalar("select series_id from metric_series")
        .fetch_all(&pool)
        .await
        .expect("series ids");
    let hour_ms = hour.timestamp_millis();
    let cheaper = server::metrics::store::samples_are_cheaper(
        &pool,
        &ids,
        (hour_ms, hour_ms + 3_599_999),
        10_000_000,
    )
    .await
    .expect("cost");
    assert!(!cheaper, "15 s samples read from the minute rollups");
    // The rollups of the same hour, kept longer: measured per raw sample.
    let mut rollups = 0.0;
    for (table, period) in [
        ("metric_rollup_1m", Period::Day),
        ("metric_rollup_1h", Period::Month),
    ] {
        let start = match period {
            Period::Month => hour
                .date_naive()
                .with_day(1)
                .expect("first of the month")
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc(),
            _ => hour.duration_trunc(TimeDelta::days(1)).expect("day"),
        };
        let name = partition_name(table, period, start);
        let size = count(&pool, &format!("select pg_total_relation_size('{name}')")).await as f64;
        let payload = count(
            &pool,
            &format!("select sum(length(data))::int8 from {table}"),
        )
        .await as f64;
        println!(
            "{table}: {:.2} B/sample ({name}), payload {:.2} B/sample",
            size / samples,
            payload / samples
        );
        rollups += size;
    }
    assert!(
        (partition + rollups) / samples <= 16.0,
        "{} B/sample with the rollups",
        (partition + rollups) / samples
    );
}
