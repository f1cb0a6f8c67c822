//! Functions over range vectors (`rate`, `*_over_time`, ...). Each one maps
//! the points of one series inside the window to at most one value; the
//! formulas follow Prometheus 2.42's `functions.go` so results match to the
//! last bit where possible (same summation order, same Kahan steps).

use promql_parser::parser::{Call, Expr};

use super::eval::{RangeArg, Val};
use super::summary::{is_summarisable, Summary};
use super::value::{drop_name, go_max, go_min, has_duplicate_labels, Labels, Sample};
use super::{eval::Evaluator, EvalError};

/// Names handled here; the dispatcher in `functions.rs` asks first.
pub(super) fn is_range_fn(name: &str) -> bool {
    is_summarisable(name)
        || matches!(
            name,
            "quantile_over_time"
                | "stddev_over_time"
                | "stdvar_over_time"
                | "deriv"
                | "predict_linear"
                | "holt_winters"
                | "double_exponential_smoothing"
        )
}

pub(super) fn call(ev: &Evaluator, c: &Call, t: i64) -> Result<Val, EvalError> {
    if let Some(out) = super::steps::answer(ev, c, t)? {
        return Ok(Val::Vector(out));
    }
    let name = c.func.name;
    let args = &c.args.args;
    let arg = |i: usize| -> Result<&Expr, EvalError> {
        args.get(i)
            .map(|b| b.as_ref())
            .ok_or_else(|| EvalError::BadData(format!("missing argument {i} of {name}")))
    };
    // The range argument is first except for quantile_over_time.
    let (range_expr, scalar) = match name {
        "quantile_over_time" => (arg(1)?, Some(ev.eval_scalar(arg(0)?, t)?)),
        "predict_linear" => (arg(0)?, Some(ev.eval_scalar(arg(1)?, t)?)),
        _ => (arg(0)?, None),
    };
    let ra = ev.range_arg(range_expr, t)?;
    if matches!(name, "holt_winters" | "double_exponential_smoothing") {
        let sf = ev.eval_scalar(arg(1)?, t)?;
        let tf = ev.eval_scalar(arg(2)?, t)?;
        return holt_winters_all(&ra, sf, tf, t);
    }
    if name == "absent_over_time" {
        if !ra.series.is_empty() || !ra.summaries.is_empty() {
            return Ok(Val::Vector(Vec::new()));
        }
        return Ok(Val::Vector(vec![Sample {
            labels: super::functions::absent_labels(range_expr),
            t,
            v: 1.0,
        }]));
    }
    if !ra.summaries.is_empty() && !is_summarisable(name) {
        // `summary::plan` reads buckets only for what they answer.
        return Err(EvalError::Execution(format!(
            "{name} cannot be answered from rollups"
        )));
    }
    // last_over_time only picks a sample, so it keeps the metric name.
    let labels_of = |labels: &Labels| {
        if name == "last_over_time" {
            labels.clone()
        } else {
            drop_name(labels.clone())
        }
    };
    let mut out = Vec::new();
    for s in &ra.series {
        if let Some(v) = apply(name, &s.points, &ra, scalar, t) {
            out.push(Sample {
                labels: labels_of(&s.labels),
                t,
                v,
            });
        }
    }
    for (labels, summary) in &ra.summaries {
        if let Some(v) = apply_summary(name, summary, &ra) {
            out.push(Sample {
                labels: labels_of(labels),
                t,
                v,
            });
        }
    }
    if has_duplicate_labels(&out) {
        return Err(EvalError::Execution(
            "vector cannot contain metrics with the same labelset".into(),
        ));
    }
    Ok(Val::Vector(out))
}

pub(super) fn apply(
    name: &str,
    p: &[(i64, f64)],
    ra: &RangeArg,
    scalar: Option<f64>,
    t: i64,
) -> Option<f64> {
    let first = p.first()?;
    let last = p.last()?;
    match name {
        "rate" => extrapolated_rate(p, ra, true, true),
        "increase" => extrapolated_rate(p, ra, true, false),
        "delta" => extrapolated_rate(p, ra, false, false),
        "irate" => instant_value(p, true),
        "idelta" => instant_value(p, false),
        "avg_over_time" => Some(avg(p)),
        "min_over_time" => {
            Some(
                p.iter()
                    .skip(1)
                    .fold(first.1, |m, x| if x.1 < m || m.is_nan() { x.1 } else { m }),
            )
        }
        "max_over_time" => {
            Some(
                p.iter()
                    .skip(1)
                    .fold(first.1, |m, x| if x.1 > m || m.is_nan() { x.1 } else { m }),
            )
        }
        "sum_over_time" => Some(kahan_sum(p.iter().map(|x| x.1))),
        "count_over_time" => Some(p.len() as f64),
        "last_over_time" => Some(last.1),
        "present_over_time" => Some(1.0),
        "quantile_over_time" => {
            let mut vals: Vec<f64> = p.iter().map(|x| x.1).collect();
            Some(quantile(scalar.unwrap_or(f64::NAN), &mut vals))
        }
        "stddev_over_time" => Some(stdvar(p).sqrt()),
        "stdvar_over_time" => Some(stdvar(p)),
        "resets" => {
            let mut n = 0;
            for w in p.windows(2) {
                if w[1].1 < w[0].1 {
                    n += 1;
                }
            }
            Some(n as f64)
        }
        "changes" => {
            let mut n = 0;
            for w in p.windows(2) {
                if w[1].1 != w[0].1 && !(w[1].1.is_nan() && w[0].1.is_nan()) {
                    n += 1;
                }
            }
            Some(n as f64)
        }
        "deriv" => {
            if p.len() < 2 {
                return None;
            }
            Some(linear_regression(p, first.0).0)
        }
        "predict_linear" => {
            if p.len() < 2 {
                return None;
            }
            let (slope, intercept) = linear_regression(p, t);
            Some(slope * scalar.unwrap_or(f64::NAN) + intercept)
        }
        _ => None,
    }
}

/// The functions of [`summary::is_summarisable`] from the summary of the
/// window, with the raw path's formulas.
pub(super) fn apply_summary(name: &str, s: &Summary, ra: &RangeArg) -> Option<f64> {
    let count = usize::try_from(s.count).unwrap_or(usize::MAX);
    match name {
        "rate" | "increase" | "delta" if count >= 2 => {
            let counter = name != "delta";
            let mut result = s.last.1 - s.first.1;
            if counter {
                result += s.reset_correction;
            }
            Some(extrapolate(
                result,
                count,
                s.first,
                s.last,
                ra,
                counter,
                name == "rate",
            ))
        }
        "irate" | "idelta" => last_two(s.prev?, s.last, name == "irate"),
        "avg_over_time" => {
            let sum = s.total();
            Some(if sum.is_infinite() {
                sum
            } else {
                sum / s.count as f64
            })
        }
        "min_over_time" => Some(s.min),
        "max_over_time" => Some(s.max),
        "sum_over_time" => Some(s.total()),
        "count_over_time" => Some(s.count as f64),
        "last_over_time" => Some(s.last.1),
        "present_over_time" => Some(1.0),
        "resets" => Some(f64::from(s.resets)),
        "changes" => Some(f64::from(s.changes)),
        _ => None,
    }
}

/// `holt_winters` (2.42's name; the parser knows it as
/// `double_exponential_smoothing`) over every series of the argument.
fn holt_winters_all(ra: &RangeArg, sf: f64, tf: f64, t: i64) -> Result<Val, EvalError> {
    if sf <= 0.0 || sf >= 1.0 {
        return Err(EvalError::Execution(format!(
            "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
        )));
    }
    if tf <= 0.0 || tf >= 1.0 {
        return Err(EvalError::Execution(format!(
            "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
        )));
    }
    let mut out = Vec::new();
    for s in &ra.series {
        let p = &s.points;
        if p.len() < 2 {
            continue;
        }
        let (mut s0, mut s1, mut b) = (0.0, p[0].1, p[1].1 - p[0].1);
        for (i, &(_, v)) in p.iter().enumerate().skip(1) {
            let x = sf * v;
            // The trend is only updated from the second step on.
            if i > 1 {
                b = tf * (s1 - s0) + (1.0 - tf) * b;
            }
            let y = (1.0 - sf) * (s1 + b);
            (s0, s1) = (s1, x + y);
        }
        out.push(Sample {
            labels: drop_name(s.labels.clone()),
            t,
            v: s1,
        });
    }
    Ok(Val::Vector(out))
}

/// Prometheus' `extrapolatedRate`: the change over the samples, extended
/// to the window edges when the samples come close enough to them (at most
/// 1.1 average intervals), and never extended below zero for counters.
fn extrapolated_rate(p: &[(i64, f64)], ra: &RangeArg, counter: bool, is_rate: bool) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    let (first, last) = (p[0], p[p.len() - 1]);
    let mut result = last.1 - first.1;
    if counter {
        // A drop means the counter restarted from zero: add what was lost.
        let mut prev = 0.0;
        for &(_, v) in p {
            if v < prev {
                result += prev;
            }
            prev = v;
        }
    }
    Some(extrapolate(
        result,
        p.len(),
        first,
        last,
        ra,
        counter,
        is_rate,
    ))
}

/// The second half of `extrapolatedRate`: `result` (the change over `count`
/// samples from `first` to `last`) extended to the window's edges.
fn extrapolate(
    result: f64,
    count: usize,
    first: (i64, f64),
    last: (i64, f64),
    ra: &RangeArg,
    counter: bool,
    is_rate: bool,
) -> f64 {
    let mut to_start = (first.0 - ra.start) as f64 / 1000.0;
    let to_end = (ra.end - last.0) as f64 / 1000.0;
    let sampled = (last.0 - first.0) as f64 / 1000.0;
    let avg_step = sampled / (count - 1) as f64;
    if counter && result > 0.0 && first.1 >= 0.0 {
        let to_zero = sampled * (first.1 / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = avg_step * 1.1;
    let mut interval = sampled;
    interval += if to_start < threshold {
        to_start
    } else {
        avg_step / 2.0
    };
    interval += if to_end < threshold {
        to_end
    } else {
        avg_step / 2.0
    };
    // One factor, applied once, exactly as 2.42 orders the arithmetic.
    let mut factor = interval / sampled;
    if is_rate {
        factor /= ra.range_ms() as f64 / 1000.0;
    }
    result * factor
}

/// `irate`/`idelta`: from the last two samples only.
fn instant_value(p: &[(i64, f64)], is_rate: bool) -> Option<f64> {
    if p.len() < 2 {
        return None;
    }
    last_two(p[p.len() - 2], p[p.len() - 1], is_rate)
}

/// `irate`/`idelta` of the samples `prev` then `last`.
fn last_two(prev: (i64, f64), last: (i64, f64), is_rate: bool) -> Option<f64> {
    let mut result = last.1 - prev.1;
    if is_rate && last.1 < prev.1 {
        result = last.1;
    }
    let interval = last.0 - prev.0;
    if interval == 0 {
        return None;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// Incremental, Kahan-compensated mean as in 2.42: avoids overflow and
/// keeps ±Inf.
fn avg(p: &[(i64, f64)]) -> f64 {
    let (mut mean, mut count, mut c) = (0.0f64, 0.0f64, 0.0f64);
    for &(_, v) in p {
        count += 1.0;
        if mean.is_infinite() {
            if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                continue;
            }
            if !v.is_infinite() && !v.is_nan() {
                continue;
            }
        }
        (mean, c) = kahan_inc(v / count - mean / count, mean, c);
    }
    if mean.is_infinite() {
        return mean;
    }
    mean + c
}

/// One Kahan–Babuška step, as Prometheus' `kahanSumInc`.
pub(super) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// `sum_over_time`'s sum, as 2.42 answers it: an infinite sum stands (its
/// compensation is NaN once an infinity has passed through it).
fn kahan_sum(vals: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0f64, 0.0);
    for v in vals {
        (sum, c) = kahan_inc(v, sum, c);
    }
    if sum.is_infinite() {
        return sum;
    }
    sum + c
}

/// Population variance with Welford's method plus Kahan compensation.
fn stdvar(p: &[(i64, f64)]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    for &(_, v) in p {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Least squares fit with x in seconds relative to `intercept_time`.
fn linear_regression(p: &[(i64, f64)], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sxy, mut cxy, mut sx2, mut cx2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = p[0].1;
    let mut const_y = true;
    for (i, &(ts, v)) in p.iter().enumerate() {
        if const_y && i > 0 && v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (ts - intercept_time) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(v, sy, cy);
        (sxy, cxy) = kahan_inc(x * v, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sx, sy, sxy, sx2) = (sx + cx, sy + cy, sxy + cxy, sx2 + cx2);
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    (slope, sy / n - slope * sx / n)
}

/// Prometheus' `quantile`: linear interpolation between closest ranks; NaNs
/// sort first as in Go's `vectorByValueHeap`.
pub(super) fn quantile(q: f64, vals: &mut [f64]) -> f64 {
    if vals.is_empty() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    vals.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = vals.len() as f64;
    let rank = q * (n - 1.0);
    let lower = go_max(0.0, rank.floor());
    let upper = go_min(n - 1.0, lower + 1.0);
    let weight = rank - rank.floor();
    // NaN q gives NaN indexes; Go would index 0 via int(NaN), do the same.
    let li = if lower.is_nan() { 0 } else { lower as usize };
    let ui = if upper.is_nan() { 0 } else { upper as usize };
    vals[li] * (1.0 - weight) + vals[ui] * weight
}

/// The window of a range selector, for tests.
#[cfg(test)]
fn window(p: &[(i64, f64)], start: i64, end: i64) -> RangeArg {
    RangeArg {
        series: vec![super::value::Series {
            labels: Labels::new(),
            points: p.to_vec(),
        }],
        summaries: Vec::new(),
        start,
        end,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn rate_with_reset_and_extrapolation() {
        // Samples every 10s from 10s to 50s in a 60s window ending at 60s;
        // value drops from 40 to 5 at 40s (a reset).
        let p = [
            (10_000, 10.0),
            (20_000, 20.0),
            (30_000, 40.0),
            (40_000, 5.0),
            (50_000, 15.0),
        ];
        let ra = window(&p, 0, 60_000);
        // increase: 15-10 + 40 = 45 over 40s sampled; 10s to each edge is
        // below 1.1*10s so extrapolate fully... but zero-crossing limits
        // the start: 40 * (10/45) = 8.888s.
        let inc = extrapolated_rate(&p, &ra, true, false).unwrap();
        let expect = 45.0 * ((40.0 + 40.0 * (10.0 / 45.0) + 10.0) / 40.0);
        assert!((inc - expect).abs() < 1e-9, "{inc} vs {expect}");
        let rate = extrapolated_rate(&p, &ra, true, true).unwrap();
        assert!((rate - expect / 60.0).abs() < 1e-12);
    }

    #[test]
    fn rate_far_from_edges_extends_half_step() {
        let p = [(30_000, 1.0), (40_000, 2.0)];
        let ra = window(&p, 0, 100_000);
        // Both edges farther than 11s: extend by 5s on each side.
        let d = extrapolated_rate(&p, &ra, false, false).unwrap();
        assert!((d - 2.0).abs() < 1e-12);
    }

    #[test]
    fn holt_winters_follows_a_line() {
        // A straight line is smoothed onto itself: the answer is its end.
        let ra = window(&[(0, 1.0), (10_000, 3.0), (20_000, 5.0)], 0, 20_000);
        let Ok(Val::Vector(v)) = holt_winters_all(&ra, 0.5, 0.5, 20_000) else {
            panic!("expected a vector");
        };
        assert_eq!(v[0].v, 5.0);
        assert!(holt_winters_all(&ra, 1.0, 0.5, 0).is_err());
    }

    #[test]
    fn irate_uses_last_two() {
        let p = [(0, 1.0), (10_000, 100.0), (20_000, 5.0)];
        assert_eq!(instant_value(&p, true), Some(0.5));
        assert_eq!(instant_value(&p, false), Some(-95.0));
    }

    #[test]
    fn quantile_interpolates() {
        let mut v = vec![4.0, 1.0, 2.0, 3.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(1.5, &mut v), f64::INFINITY);
    }

    #[test]
    fn deriv_and_predict() {
        let p = [(0, 1.0), (10_000, 3.0), (20_000, 5.0)];
        let (slope, icpt) = linear_regression(&p, 20_000);
        assert!((slope - 0.2).abs() < 1e-12);
        assert!((icpt - 5.0).abs() < 1e-12);
    }

    #[test]
    fn stdvar_population() {
        let p = [
            (0, 2.0),
            (1, 4.0),
            (2, 4.0),
            (3, 4.0),
            (4, 5.0),
            (5, 5.0),
            (6, 7.0),
            (7, 9.0),
        ];
        assert!((stdvar(&p) - 4.0).abs() < 1e-12);
    }
}
