//! Rollups of metrics: a month of samples sent by remote write is compacted
//! into chunks and one-minute and one-hour rollups; range queries whose step
//! and ranges are whole hours (or minutes) read the rollups and answer what
//! the samples answer; a late sample for a compacted hour reaches the
//! rollups on the next pass; and once raw retention has dropped all but the
//! last days, a 30-day panel is still served whole from the rollups while a
//! query that needs samples only sees the days kept.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use chrono::{DurationRound, TimeDelta, Utc};
use common::{
    metrics::{series, write},
    TestApp,
};
use server::{
    ingest::prometheus::proto::TimeSeries,
    metrics::{
        api::{self, Read},
        compact::compact_once,
        partitions,
        promql::{self, Series},
        record::STALE_NAN_BITS,
        rollup::Tier,
        store, RollupRetention,
    },
    pipeline::partitions::run_once,
    state::partitioned_tables,
};
use sqlx::PgPool;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// A month and a day of samples every 5 minutes up to `now`: two counters
/// (one with a reset), two gauges (one with a NaN, one that goes stale for
/// two days).
fn month(start: i64, now: i64) -> Vec<TimeSeries> {
    let times: Vec<i64> = (0..)
        .map(|i| start + i * 5 * MINUTE + (i % 7) * 1_000)
        .take_while(|&t| t < now - MINUTE)
        .collect();
    let mut noise = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        (noise % 1000) as f64 / 1000.0
    };
    let (mut c1, mut c2) = (0.0, 0.0);
    let (mut s_c1, mut s_c2, mut s_g1, mut s_g2) = (vec![], vec![], vec![], vec![]);
    for (i, &t) in times.iter().enumerate() {
        c1 += next() * 300.0;
        if t - start > 10 * DAY && t - start <= 10 * DAY + 5 * MINUTE {
            c1 = 3.0;
        }
        c2 += 60.0;
        s_c1.push((t, c1));
        s_c2.push((t, c2));
        let g = ((t - start) as f64 / HOUR as f64).sin() * 50.0 + next() * 10.0;
        s_g1.push((t, if i == 3000 { f64::NAN } else { g }));
        let day = (t - start) / DAY;
        if day == 20 && s_g2.last().is_some_and(|&(_, v): &(i64, f64)| !v.is_nan()) {
            s_g2.push((t, f64::from_bits(STALE_NAN_BITS)));
        } else if day != 20 && day != 21 {
            s_g2.push((t, g * 2.0));
        }
    }
    vec![
        series(&[("__name__", "c_total"), ("inst", "1")], &s_c1),
        series(&[("__name__", "c_total"), ("inst", "2")], &s_c2),
        series(&[("__name__", "g"), ("inst", "1")], &s_g1),
        series(&[("__name__", "g"), ("inst", "2")], &s_g2),
    ]
}

/// Fails unless both answers have the same series and times, and values
/// equal within 1e-9 relative (NaN equal to NaN).
fn assert_same(got: &[Series], want: &[Series], what: &str) {
    let labels = |s: &[Series]| s.iter().map(|x| x.labels.clone()).collect::<Vec<_>>();
    assert_eq!(labels(got), labels(want), "{what}: series");
    for (g, w) in got.iter().zip(want) {
        let times = |s: &Series| s.points.iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(times(g), times(w), "{what} {:?}: times", w.labels);
        for (a, b) in g.points.iter().zip(&w.points) {
            let same = (a.1.is_nan() && b.1.is_nan())
                || a.1 == b.1
                || (a.1 - b.1).abs() <= 1e-9 * a.1.abs().max(b.1.abs());
            assert!(
                same,
                "{what} {:?} at {}: rollup {} samples {}",
                w.labels, a.0, a.1, b.1
            );
        }
    }
}

async fn query(
    pool: &PgPool,
    project_id: i64,
    q: &str,
    span: (i64, i64, i64),
    read: Read,
) -> Vec<Series> {
    let expr = promql_parser::parser::parse(q).expect(q);
    api::range_read(pool, project_id, expr, span, read)
        .await
        .unwrap_or_else(|e| panic!("{q}: {e:?}"))
}

/// Asks each expression from the rollups (checking the plan picks
/// `width`) and from the samples; they must agree. Returns the rollup
/// answers.
async fn compare(
    pool: &PgPool,
    project_id: i64,
    exprs: &[&str],
    span: (i64, i64, i64),
    width: i64,
) -> Vec<Vec<Series>> {
    let mut answers = Vec::new();
    for q in exprs {
        let expr = promql_parser::parser::parse(q).expect(q);
        let widths = [MINUTE, HOUR];
        assert_eq!(
            promql::plan(&expr, span.0, span.1, span.2, &widths),
            Some(width),
            "{q}: the plan"
        );
        let rolled = query(pool, project_id, q, span, Read::Rollups).await;
        let raw = query(pool, project_id, q, span, Read::Samples).await;
        assert!(!raw.is_empty(), "{q}: no data");
        assert_same(&rolled, &raw, q);
        answers.push(rolled);
    }
    answers
}

const HOURLY: &[&str] = &[
    "rate(c_total[1h])",
    "increase(c_total[1d])",
    "sum by (inst) (rate(c_total[6h]))",
    "resets(c_total[1d])",
    "irate(c_total[1h])",
    "avg_over_time(g[1h])",
    "max_over_time(g[1d])",
    "min_over_time(g[3h])",
    "sum_over_time(g[1h])",
    "count_over_time(g[2h])",
    "last_over_time(g[1h])",
    "changes(g[1h])",
    "delta(g[2h])",
    "present_over_time(g[1h])",
    "g",
    "c_total offset 1d",
];

const MINUTELY: &[&str] = &[
    "rate(c_total[10m])",
    "avg_over_time(g[5m])",
    "max_over_time(g[1h])",
    "g",
];

#[sqlx::test(migrations = "../migrations")]
async fn a_month_is_served_from_rollups_after_raw_retention(pool: PgPool) {
    let app = TestApp::with_env(pool.clone(), &[("SIGHTLINE_METRICS_RETENTION_DAYS", "40")]);
    let now = Utc::now();
    run_once(&pool, &partitioned_tables(&app.state.config), now)
        .await
        .expect("partitions");
    let (project_id, key) = app.project("shop").await;
    let now_ms = now.timestamp_millis();
    let start = now
        .duration_trunc(TimeDelta::hours(1))
        .expect("hour")
        .timestamp_millis()
        - 31 * DAY;
    write(&app, &key, month(start, now_ms)).await;
    let report = compact_once(&pool, now).await.expect("compaction");
    assert!(report.chunks > 2_500, "{report:?}");
    let rows = |table: &str| {
        let sql = format!("select count(*) from {table}");
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(&pool)
                .await
                .expect("count")
        }
    };
    // A row a series-hour of minutes, a row a series-day of hours.
    assert!(rows("metric_rollup_1m").await > 2_800);
    let days = rows("metric_rollup_1h").await;
    assert!((4 * 30..=4 * 33).contains(&days), "{days} day rows");

    // Thirty days at an hour's step: the hour rollups.
    let month_span = (start + DAY, now_ms, HOUR);
    compare(&pool, project_id, HOURLY, month_span, HOUR).await;
    // The last two days at five minutes: minute rollups, and the hot hours
    // not compacted yet.
    let recent = (
        (now - TimeDelta::days(2))
            .duration_trunc(TimeDelta::hours(1))
            .expect("hour")
            .timestamp_millis(),
        now_ms,
        5 * MINUTE,
    );
    compare(&pool, project_id, MINUTELY, recent, MINUTE).await;
    // One sample in five minutes: a minute bucket summarises less than it
    // costs, so queries that may read either read the samples.
    let all: Vec<i64> = sqlx::query_scalar("select series_id from metric_series")
        .fetch_all(&pool)
        .await
        .expect("series ids");
    let cheaper = store::samples_are_cheaper(&pool, &all, (recent.0, recent.1), 10_000_000)
        .await
        .expect("cost");
    assert!(cheaper, "sparse samples are read raw");
    let cheaper = store::samples_are_cheaper(&pool, &all, (recent.0, recent.1), 10)
        .await
        .expect("cost");
    assert!(!cheaper, "not past the sample budget");

    // A late sample for an hour compacted five days ago reaches both rollups.
    let late_at = start + 26 * DAY + 150_000;
    write(
        &app,
        &key,
        vec![series(
            &[("__name__", "g"), ("inst", "1")],
            &[(late_at, 1e6)],
        )],
    )
    .await;
    // Until the next pass that hour's bucket is both in the rollups and hot:
    // the store says so, and queries read the samples (the late one counts).
    let ids: Vec<i64> =
        sqlx::query_scalar("select series_id from metric_series where metric = 'g'")
            .fetch_all(&pool)
            .await
            .expect("series ids");
    let read = store::buckets(
        &pool,
        &ids,
        late_at - DAY,
        late_at + DAY,
        Tier::Hour,
        10_000_000,
    )
    .await
    .expect("buckets");
    assert!(
        read.is_none(),
        "a bucket both compacted and hot reads samples"
    );
    let now_peak = query(
        &pool,
        project_id,
        "max_over_time(g[1d])",
        month_span,
        Read::Auto,
    )
    .await;
    let peaks = now_peak[0].points.iter().filter(|p| p.1 == 1e6).count();
    assert_eq!(peaks, 24, "the late sample counts before it is compacted");
    compact_once(&pool, Utc::now()).await.expect("compaction");
    let before = compare(&pool, project_id, HOURLY, month_span, HOUR).await;
    let max_index = HOURLY
        .iter()
        .position(|q| *q == "max_over_time(g[1d])")
        .expect("max_over_time");
    let peaks = before[max_index][0]
        .points
        .iter()
        .filter(|p| p.1 == 1e6)
        .count();
    assert_eq!(peaks, 24, "the late sample is the max of 24 hourly windows");
    compare(
        &pool,
        project_id,
        &["count_over_time(g[1h])"],
        (late_at - late_at % HOUR - HOUR, late_at + 2 * HOUR, MINUTE),
        MINUTE,
    )
    .await;

    // Raw retention of 3 days drops the older chunks; the rollups stay.
    let tables = partitions(
        3,
        RollupRetention {
            minute_days: 90,
            hour_days: 730,
        },
    );
    let report = run_once(&pool, &tables, now).await.expect("retention");
    let dropped = report
        .dropped
        .iter()
        .filter(|p| p.starts_with("metric_chunk_p"))
        .count();
    assert!(dropped >= 27, "{:?}", report.dropped);
    let oldest_chunk: chrono::DateTime<Utc> =
        sqlx::query_scalar("select min(ts) from metric_chunk")
            .fetch_one(&pool)
            .await
            .expect("oldest chunk");
    assert!(oldest_chunk > now - TimeDelta::days(4), "{oldest_chunk}");
    let series: i64 = sqlx::query_scalar("select count(*) from metric_series")
        .fetch_one(&pool)
        .await
        .expect("series");
    assert_eq!(series, 4, "series outlive raw retention with their rollups");
    for (q, want) in HOURLY.iter().zip(&before) {
        let got = query(&pool, project_id, q, month_span, Read::Auto).await;
        assert_same(&got, want, &format!("{q} after raw retention"));
    }
    let raw = query(
        &pool,
        project_id,
        "count_over_time(g[1h])",
        month_span,
        Read::Samples,
    )
    .await;
    let first = raw
        .iter()
        .filter_map(|s| s.points.first())
        .map(|p| p.0)
        .min()
        .expect("raw points");
    assert!(first > now_ms - 4 * DAY, "samples end with raw retention");
}
