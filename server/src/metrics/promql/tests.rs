//! End-to-end tests of the evaluator over a small in-memory data set, with
//! expected values worked out by hand from Prometheus 2.42's rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn lbl(pairs: &[(&str, &str)]) -> Labels {
    let mut l: Labels = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    l.sort();
    l
}

fn series(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> RawSeries {
    RawSeries {
        labels: lbl(pairs),
        samples: samples.to_vec(),
    }
}

fn stale() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Series every 10s from 0 to 600s unless noted.
fn storage() -> MemStorage {
    let every = |f: &dyn Fn(i64) -> f64| -> Vec<(i64, f64)> {
        (0..=60).map(|i| (i * 10_000, f(i))).collect()
    };
    MemStorage::new(vec![
        series(
            &[("__name__", "req"), ("job", "a"), ("inst", "1")],
            &every(&|i| i as f64),
        ),
        series(
            &[("__name__", "req"), ("job", "a"), ("inst", "2")],
            &every(&|i| (2 * i) as f64),
        ),
        series(
            &[("__name__", "req"), ("job", "b"), ("inst", "1")],
            &every(&|i| (i % 20) as f64),
        ),
        series(
            &[("__name__", "gone"), ("job", "a")],
            &[(0, 1.0), (10_000, 2.0), (20_000, stale())],
        ),
        series(
            &[("__name__", "info"), ("job", "a"), ("team", "x")],
            &[(0, 1.0)],
        ),
        series(
            &[("__name__", "info"), ("job", "b"), ("team", "y")],
            &[(0, 1.0)],
        ),
        series(&[("__name__", "h_bucket"), ("le", "0.1")], &[(0, 10.0)]),
        series(&[("__name__", "h_bucket"), ("le", "0.5")], &[(0, 20.0)]),
        series(&[("__name__", "h_bucket"), ("le", "+Inf")], &[(0, 30.0)]),
    ])
}

fn lim() -> Limits {
    Limits::default()
}

fn instant(q: &str, t: i64) -> Result<Value, EvalError> {
    let e = promql_parser::parser::parse(q).unwrap();
    eval_instant(&e, &storage(), t, &lim())
}

fn vec_of(q: &str, t: i64) -> Vec<(Labels, f64)> {
    match instant(q, t).unwrap() {
        Value::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
        other => panic!("expected vector, got {other:?}"),
    }
}

fn scalar_of(q: &str, t: i64) -> f64 {
    match instant(q, t).unwrap() {
        Value::Scalar { v, .. } => v,
        other => panic!("expected scalar, got {other:?}"),
    }
}

#[test]
fn literals_and_unary() {
    assert_eq!(scalar_of("-(1 + 2) * 3", 0), -9.0);
    assert_eq!(scalar_of("2 ^ 3 ^ 2", 0), 512.0);
    assert_eq!(scalar_of("5 % 3", 0), 2.0);
    assert_eq!(scalar_of("1 < bool 2", 0), 1.0);
    assert!(matches!(instant("\"hi\"", 0).unwrap(), Value::String { v, .. } if v == "hi"));
}

#[test]
fn selector_lookback_boundary_is_closed() {
    // The newest `info` sample is at 0: visible up to exactly 300s.
    assert_eq!(vec_of("info", 300_000).len(), 2);
    assert_eq!(vec_of("info", 300_001).len(), 0);
}

#[test]
fn stale_marker_ends_series() {
    assert_eq!(
        vec_of("gone", 15_000),
        vec![(lbl(&[("__name__", "gone"), ("job", "a")]), 2.0)]
    );
    assert!(vec_of("gone", 20_000).is_empty());
    // Range vectors skip the marker but keep earlier samples.
    assert_eq!(vec_of("count_over_time(gone[1m])", 30_000)[0].1, 2.0);
}

#[test]
fn matchers_offset_and_at() {
    let v = vec_of("req{job=~\"a|b\", inst!=\"2\"}", 100_000);
    assert_eq!(v.len(), 2);
    assert_eq!(vec_of("req{inst=\"2\"} offset 1m", 100_000)[0].1, 8.0);
    assert_eq!(vec_of("req{inst=\"2\"} @ 50", 100_000)[0].1, 10.0);
    assert_eq!(
        vec_of("req{inst=\"2\"} @ 50 offset -10s", 100_000)[0].1,
        12.0
    );
    assert_eq!(vec_of("req{inst=\"2\"} @ start()", 100_000)[0].1, 20.0);
}

#[test]
fn rate_of_steady_counter() {
    // inst=2 grows 2 per 10s: 0.2/s, samples align with the window edges.
    let v = vec_of("rate(req{inst=\"2\"}[1m])", 300_000);
    assert_eq!(v[0].0, lbl(&[("inst", "2"), ("job", "a")]));
    assert!((v[0].1 - 0.2).abs() < 1e-12);
    let v = vec_of("increase(req{inst=\"2\"}[1m])", 300_000);
    assert!((v[0].1 - 12.0).abs() < 1e-12);
}

#[test]
fn rate_with_reset() {
    // job=b counts 0..19 and wraps. Window (150s..210s] samples 15..19,0,1
    // at 150..210: increase = (1-15) + 19 = 5 over 60s sampled, no
    // extrapolation needed as samples sit on both edges.
    let v = vec_of("increase(req{job=\"b\"}[1m])", 210_000);
    assert!((v[0].1 - 5.0).abs() < 1e-12, "{}", v[0].1);
    assert_eq!(vec_of("resets(req{job=\"b\"}[1m])", 210_000)[0].1, 1.0);
    assert_eq!(vec_of("changes(req{job=\"b\"}[1m])", 210_000)[0].1, 6.0);
}

#[test]
fn over_time_functions() {
    let q = |f: &str| vec_of(&format!("{f}(req{{inst=\"2\",job=\"a\"}}[1m])"), 100_000)[0].1;
    // Points 40..=100s: values 8,10,..,20.
    assert_eq!(q("avg_over_time"), 14.0);
    assert_eq!(q("min_over_time"), 8.0);
    assert_eq!(q("max_over_time"), 20.0);
    assert_eq!(q("sum_over_time"), 98.0);
    assert_eq!(q("count_over_time"), 7.0);
    assert_eq!(q("last_over_time"), 20.0);
    assert_eq!(q("present_over_time"), 1.0);
    assert_eq!(q("stdvar_over_time"), 16.0);
    assert_eq!(q("stddev_over_time"), 4.0);
    assert!((q("deriv") - 0.2).abs() < 1e-12);
    assert_eq!(q("irate"), 0.2);
    assert_eq!(q("idelta"), 2.0);
    let p = vec_of("predict_linear(req{inst=\"2\"}[1m], 60)", 100_000)[0].1;
    assert!((p - 32.0).abs() < 1e-9);
    let qo = vec_of("quantile_over_time(0.5, req{inst=\"2\"}[1m])", 100_000)[0].1;
    assert_eq!(qo, 14.0);
    // last_over_time keeps the metric name; others drop it.
    assert_eq!(
        get_name(&vec_of("last_over_time(req{inst=\"2\"}[1m])", 100_000)[0].0),
        "req"
    );
}

fn get_name(l: &Labels) -> String {
    value::get(l, "__name__").to_string()
}

#[test]
fn instant_functions() {
    assert_eq!(vec_of("abs(-req{inst=\"2\"})", 10_000)[0].1, 2.0);
    assert_eq!(vec_of("clamp(req{inst=\"2\"}, 0, 1)", 10_000)[0].1, 1.0);
    assert!(vec_of("clamp(req{inst=\"2\"}, 2, 1)", 10_000).is_empty());
    assert_eq!(vec_of("round(req{inst=\"2\"} / 4)", 30_000)[0].1, 2.0);
    assert_eq!(vec_of("round(req{inst=\"2\"}, 5)", 30_000)[0].1, 5.0);
    assert_eq!(vec_of("sgn(-req{inst=\"2\"})", 30_000)[0].1, -1.0);
    assert_eq!(scalar_of("time()", 30_000), 30.0);
    assert_eq!(scalar_of("scalar(req{inst=\"2\"})", 30_000), 6.0);
    assert!(scalar_of("scalar(req)", 30_000).is_nan());
    assert_eq!(vec_of("vector(3)", 0), vec![(Labels::new(), 3.0)]);
    assert_eq!(vec_of("timestamp(info)", 100_000)[0].1, 0.0);
    assert_eq!(vec_of("timestamp(-info)", 100_000)[0].1, 100.0);
    let s: Vec<f64> = vec_of("sort_desc(req)", 30_000)
        .iter()
        .map(|x| x.1)
        .collect();
    assert_eq!(s, vec![6.0, 3.0, 3.0]);
}

#[test]
fn sort_puts_nan_last_both_ways() {
    let q = "label_replace(vector(NaN), \"a\", \"n\", \"\", \"\") or label_replace(vector(2), \"a\", \"two\", \"\", \"\") or label_replace(vector(1), \"a\", \"one\", \"\", \"\")";
    let names = |q: &str| -> Vec<String> {
        vec_of(q, 0)
            .iter()
            .map(|(l, _)| value::get(l, "a").to_string())
            .collect()
    };
    assert_eq!(names(&format!("sort({q})")), ["one", "two", "n"]);
    assert_eq!(names(&format!("sort_desc({q})")), ["two", "one", "n"]);
}

#[test]
fn absent_labels_from_equality_matchers() {
    assert_eq!(
        vec_of("absent(nope{job=\"x\", a=~\"y\"})", 0),
        vec![(lbl(&[("job", "x")]), 1.0)]
    );
    assert!(vec_of("absent(req)", 0).is_empty());
    assert_eq!(vec_of("absent_over_time(nope{job=\"x\"}[1m])", 0)[0].1, 1.0);
    assert!(vec_of("absent_over_time(gone[1m])", 60_000).is_empty());
}

#[test]
fn label_functions() {
    let v = vec_of(
        "label_replace(info{job=\"a\"}, \"dst\", \"$1-z\", \"team\", \"(.*)\")",
        0,
    );
    assert_eq!(value::get(&v[0].0, "dst"), "x-z");
    assert_eq!(get_name(&v[0].0), "info");
    let v = vec_of(
        "label_join(info{job=\"a\"}, \"dst\", \"/\", \"job\", \"team\")",
        0,
    );
    assert_eq!(value::get(&v[0].0, "dst"), "a/x");
    assert!(matches!(
        instant("label_replace(info, \"1x\", \"\", \"team\", \".*\")", 0),
        Err(EvalError::Execution(_))
    ));
}

#[test]
fn histogram_quantile_interpolates() {
    let v = vec_of("histogram_quantile(0.5, h_bucket)", 0);
    assert_eq!(v[0].0, Vec::new());
    assert!((v[0].1 - 0.3).abs() < 1e-12);
}

#[test]
fn aggregations() {
    let v = vec_of("sum by (job) (req)", 30_000);
    assert_eq!(
        v,
        vec![(lbl(&[("job", "a")]), 9.0), (lbl(&[("job", "b")]), 3.0)]
    );
    let v = vec_of("max without (inst) (req)", 30_000);
    assert_eq!(
        v,
        vec![(lbl(&[("job", "a")]), 6.0), (lbl(&[("job", "b")]), 3.0)]
    );
    assert_eq!(vec_of("count(req)", 30_000), vec![(Labels::new(), 3.0)]);
    assert_eq!(vec_of("avg(req)", 30_000)[0].1, 4.0);
    assert_eq!(vec_of("group(req)", 30_000)[0].1, 1.0);
    assert_eq!(vec_of("stdvar(req)", 30_000)[0].1, 2.0);
    assert_eq!(vec_of("quantile(0.5, req)", 30_000)[0].1, 3.0);
    // count_values adds the value as a label.
    let v = vec_of("count_values(\"val\", req)", 30_000);
    assert_eq!(
        v,
        vec![(lbl(&[("val", "3")]), 2.0), (lbl(&[("val", "6")]), 1.0)]
    );
}

#[test]
fn topk_ties_keep_first_seen() {
    // Input order at 30s: {a,1}=3, {b,1}=3, {a,2}=6. Go's heap keeps
    // [a1, b1], then 6 evicts the root a1: the later tie survives.
    let v = vec_of("topk(2, req)", 30_000);
    assert_eq!(v[0].1, 6.0);
    assert_eq!(
        v[1].0,
        lbl(&[("__name__", "req"), ("inst", "1"), ("job", "b")])
    );
    let v = vec_of("bottomk(1, req)", 30_000);
    assert_eq!(
        v[0].0,
        lbl(&[("__name__", "req"), ("inst", "1"), ("job", "a")])
    );
    assert!(vec_of("topk(0, req)", 30_000).is_empty());
}

#[test]
fn binary_matching() {
    // one-to-one on all labels but the name.
    let v = vec_of("req - req", 30_000);
    assert_eq!(v.len(), 3);
    assert!(v.iter().all(|(l, x)| *x == 0.0 && get_name(l).is_empty()));
    // Comparison filters and keeps the name; with bool it answers 0/1.
    let v = vec_of("req > 3", 30_000);
    assert_eq!(
        v,
        vec![(
            lbl(&[("__name__", "req"), ("inst", "2"), ("job", "a")]),
            6.0
        )]
    );
    assert_eq!(vec_of("req > bool 3", 30_000).len(), 3);
    assert_eq!(vec_of("3 < req", 30_000)[0].1, 6.0);
    // group_left copies `team` from the one side.
    let v = vec_of("req * on (job) group_left (team) info", 30_000);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].0, lbl(&[("inst", "1"), ("job", "a"), ("team", "x")]));
    // group_right mirrors it.
    let v = vec_of("info * on (job) group_right (team) req", 30_000);
    let b = v.iter().find(|x| value::get(&x.0, "job") == "b").unwrap();
    assert_eq!(b.0, lbl(&[("inst", "1"), ("job", "b"), ("team", "y")]));
    assert_eq!(b.1, 3.0);
}

#[test]
fn many_to_many_errors() {
    let e = instant("req * on (job) info", 30_000).unwrap_err();
    assert!(
        matches!(&e, EvalError::Execution(m) if m.starts_with("multiple matches for labels: many-to-one")),
        "{e}"
    );
    let e = instant("info * on (job) req", 30_000).unwrap_err();
    assert!(
        matches!(&e, EvalError::Execution(m) if m.contains("found duplicate series for the match group {job=\"a\"} on the right hand-side")),
        "{e}"
    );
}

#[test]
fn set_operators() {
    assert_eq!(vec_of("req and on (job) info{team=\"x\"}", 30_000).len(), 2);
    assert_eq!(
        vec_of("req unless on (job) info{team=\"x\"}", 30_000).len(),
        1
    );
    assert_eq!(vec_of("info or req", 30_000).len(), 5);
    assert_eq!(vec_of("req{job=\"a\"} or on (job) req", 30_000).len(), 3);
}

#[test]
fn subquery_default_step_and_range_query() {
    // max over 1m of a 1m-step subquery at 120s: points at 60s and 120s.
    let v = vec_of("max_over_time(req{inst=\"2\"}[1m:])", 125_000);
    assert_eq!(v[0].1, 24.0);
    assert_eq!(
        vec_of("count_over_time(req{inst=\"2\"}[1m:20s])", 125_000)[0].1,
        3.0
    );
    let e = promql_parser::parser::parse("sum(req)").unwrap();
    let m = eval_range(&e, &storage(), 0, 20_000, 10_000, &lim()).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].points, vec![(0, 0.0), (10_000, 4.0), (20_000, 8.0)]);
    let e = promql_parser::parser::parse("1 + 1").unwrap();
    let m = eval_range(&e, &storage(), 0, 20_000, 10_000, &lim()).unwrap();
    assert_eq!(m[0].labels, Vec::new());
    assert_eq!(m[0].points.len(), 3);
}

#[test]
fn max_samples_is_enforced() {
    let e = promql_parser::parser::parse("req[10m]").unwrap();
    let small = Limits {
        lookback_ms: 300_000,
        max_samples: 10,
    };
    assert!(matches!(
        eval_instant(&e, &storage(), 600_000, &small),
        Err(EvalError::Execution(_))
    ));
}

#[test]
fn unsupported_function_is_bad_data() {
    assert!(matches!(
        instant("mad_over_time(req[5m])", 0),
        Err(EvalError::BadData(m)) if m.contains("not supported yet")
    ));
}

/// Rough speed check on a day of data for 200 series; run with
/// `cargo test --release -- --ignored perf --nocapture`.
#[test]
#[ignore]
fn perf_day_of_data() {
    let mut all = Vec::new();
    for i in 0..200 {
        let inst = i.to_string();
        let samples: Vec<(i64, f64)> = (0..5760)
            .map(|k| (k * 15_000, (k * (i + 1)) as f64))
            .collect();
        all.push(series(
            &[
                ("__name__", "x"),
                ("inst", &inst),
                ("job", if i % 2 == 0 { "a" } else { "b" }),
            ],
            &samples,
        ));
    }
    let st = MemStorage::new(all);
    for q in [
        "sum by (job) (rate(x[5m]))",
        "max_over_time(rate(x[5m])[1h:1m])",
        "histogram_quantile(0.9, x)",
        "x / on (inst, job) x",
        "x / x",
        "x",
    ] {
        let e = promql_parser::parser::parse(q).unwrap();
        let t0 = std::time::Instant::now();
        let m = eval_range(&e, &st, 3_600_000, 86_400_000, 60_000, &lim()).unwrap();
        eprintln!("{q}: {} series in {:?}", m.len(), t0.elapsed());
    }
}

#[test]
fn extreme_times_do_not_panic() {
    for q in [
        "req offset 100000000w",
        "rate(req[1000000w] offset -100000000w)",
    ] {
        let e = promql_parser::parser::parse(q).unwrap();
        let _ = eval_instant(&e, &storage(), 0, &lim());
    }
    // 100M empty subquery steps are refused up front, not run.
    let e = promql_parser::parser::parse("max_over_time(req[100000000w:1w])").unwrap();
    assert!(matches!(
        eval_instant(&e, &storage(), 0, &lim()),
        Err(EvalError::Execution(_))
    ));
    let e = promql_parser::parser::parse("req").unwrap();
    assert!(matches!(
        eval_range(&e, &storage(), 0, 1_000_000_000, 1, &lim()),
        Err(EvalError::BadData(m)) if m.contains("11,000 points")
    ));
}

/// A deterministic generator for the rollup comparison below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        // xorshift64*: enough for test data.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Six hours of counters (with resets), gauges (with NaN and ±Inf), a
/// series with gaps and stale markers, at 15 s with jitter.
fn rollup_data() -> MemStorage {
    let mut rng = Rng(0x5eed);
    let mut all = Vec::new();
    let hours = 6 * 3_600_000;
    for inst in ["1", "2", "3"] {
        let (mut c, mut g) = (0.0, 0.0);
        let (mut counter, mut gauge, mut gappy) = (Vec::new(), Vec::new(), Vec::new());
        let mut t = 0;
        while t < hours {
            // Timestamps on the minute now and then: window edges matter.
            let ts = if rng.next() < 0.2 {
                t
            } else {
                t + (rng.next() * 3_000.0) as i64
            };
            c += rng.next() * 10.0;
            if rng.next() < 0.01 {
                c = rng.next() * 5.0;
            }
            counter.push((ts, c));
            g += rng.next() * 4.0 - 2.0;
            let gv = match rng.next() {
                x if x < 0.003 => f64::NAN,
                x if x < 0.005 => f64::INFINITY,
                _ => g,
            };
            gauge.push((ts, gv));
            let minute = (ts / 60_000) % 90;
            if minute < 40 {
                gappy.push((ts, (minute % 7) as f64));
            } else if minute == 40 && gappy.last().is_some_and(|p: &(i64, f64)| !is_stale(p.1)) {
                gappy.push((ts, stale()));
            }
            t += 15_000;
        }
        all.push(series(&[("__name__", "c_total"), ("inst", inst)], &counter));
        all.push(series(&[("__name__", "g"), ("inst", inst)], &gauge));
        all.push(series(&[("__name__", "gappy"), ("inst", inst)], &gappy));
    }
    MemStorage::new(all)
}

fn close(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits()
        || (a.is_nan() && b.is_nan())
        || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Every summarisable function, in the shapes dashboards use, gives the
/// same answer from buckets as from the samples, at both rollup widths.
#[test]
fn rollups_answer_as_raw_samples_do() {
    let raw = rollup_data();
    let exprs = [
        "rate(c_total[5m])",
        "rate(c_total[1h])",
        "increase(c_total[2h])",
        "sum by (inst) (rate(c_total[5m]))",
        "delta(g[10m])",
        "irate(c_total[5m])",
        "idelta(g[3m])",
        "avg_over_time(g[5m])",
        "min_over_time(g[10m])",
        "max_over_time(g[1h])",
        "sum_over_time(gappy[5m])",
        "count_over_time(gappy[10m])",
        "last_over_time(gappy[5m])",
        "present_over_time(gappy[2m])",
        "absent_over_time(gappy{inst=\"1\"}[1m])",
        "resets(c_total[1h])",
        "changes(gappy[1h])",
        "gappy",
        "timestamp(gappy)",
        "c_total offset 1h",
        "rate(c_total[5m] offset 2h)",
        "sum(rate(c_total[10m])) / sum(rate(c_total[1h]))",
        "max_over_time(rate(c_total[5m])[1h:5m])",
        "topk(2, avg_over_time(g[1h]))",
        "rate(c_total[1h] @ 10800)",
    ];
    let widths = [60_000, 3_600_000];
    let start = 3_600_000 * 2;
    let end = 6 * 3_600_000 - 1;
    for width in widths {
        let rolled = raw.clone().rolled_up(width);
        for q in exprs {
            let e = promql_parser::parser::parse(q).unwrap();
            for step in [width, width * 5] {
                // Ranges shorter than an hour cannot read hour buckets.
                let planned = plan(&e, start, end, step, &[width]);
                let minutes = ["[1m]", "[2m]", "[3m]", "[5m]", "[10m]", ":5m"];
                if width == 3_600_000 && minutes.iter().any(|m| q.contains(m)) {
                    assert_eq!(planned, None, "{q} at {width}");
                    continue;
                }
                assert_eq!(planned, Some(width), "{q} at {width} step {step}");
                let want = eval_range(&e, &raw, start, end, step, &lim()).unwrap();
                let got = eval_range(&e, &rolled, start, end, step, &lim()).unwrap();
                let labels = |s: &[Series]| s.iter().map(|x| x.labels.clone()).collect::<Vec<_>>();
                assert_eq!(
                    labels(&got),
                    labels(&want),
                    "{q} at width {width} step {step}"
                );
                assert!(!want.is_empty() || q.starts_with("absent"), "{q}: no data");
                for (g, w) in got.iter().zip(&want) {
                    let times = |s: &Series| s.points.iter().map(|p| p.0).collect::<Vec<_>>();
                    assert_eq!(times(g), times(w), "{q} {:?} width {width}", w.labels);
                    for (a, b) in g.points.iter().zip(&w.points) {
                        assert!(
                            close(a.1, b.1),
                            "{q} {:?} at {} width {width} step {step}: rollup {} raw {}",
                            w.labels,
                            a.0,
                            a.1,
                            b.1
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_table_past_the_sample_limit_gives_way_to_the_step_by_step_path() {
    // 3 series x 61 steps = 183 cells: over a limit of 150, while no step's
    // windows hold more than 3 x 7 points and the answer is 2 x 61 points.
    for q in [
        "sum by (job) (rate(req[1m]))",
        "sum(max_over_time(req[1m]))",
    ] {
        let e = promql_parser::parser::parse(q).unwrap();
        let whole = eval_range(&e, &storage(), 0, 600_000, 10_000, &lim()).unwrap();
        let tight = Limits {
            max_samples: 150,
            ..lim()
        };
        let stepwise = eval_range(&e, &storage(), 0, 600_000, 10_000, &tight).unwrap();
        assert!(!whole.is_empty(), "{q}");
        assert_eq!(whole, stepwise, "{q}");
        // Only the roomy evaluation kept a table.
        for (limits, tables) in [(lim(), 1), (tight, 0)] {
            let st = storage();
            let ev = evaluator(&e, &st, (0, 600_000, 10_000), &limits).unwrap();
            ev.eval(&e, 0).unwrap();
            assert_eq!(ev.steps.borrow().len(), tables, "{q}");
        }
    }
}
