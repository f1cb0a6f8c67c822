//! Range functions answered from summaries of samples rather than the
//! samples themselves: what rollups store ([`crate::metrics::rollup`]).
//!
//! A [`Summary`] of a run of samples keeps exactly what `rate`, `increase`,
//! `delta`, `irate`, `idelta`, `resets`, `changes` and the `*_over_time`
//! functions other than `quantile`, `stddev` and `stdvar` need: the count,
//! first, last and second-to-last samples, the sum, min and max, and what a
//! counter lost at its resets. Summaries of consecutive runs merge into the
//! summary of both ([`Summary::merge`]), so a window made of whole buckets is
//! answered from the buckets, with the same formulas as the raw path; only
//! the order of additions differs (floating-point error).
//!
//! Buckets are left-closed, `[start, start + width)`, aligned to multiples of
//! their width. A 2.x window `[t - range, t]` with `t` and `range` multiples
//! of the width is then its whole buckets plus the one sample at exactly `t`
//! (the first of the bucket starting at `t`, when it lies there). [`plan`]
//! picks a bucket width only when every window of the query is like that.

use promql_parser::parser::{AtModifier, Expr};

use super::eval::unparen;
use super::range_fns::kahan_inc;
use super::storage::{dur_ms, offset_ms};
use super::value::{is_stale, Labels};

/// Aggregates of a run of non-stale samples, in time order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: u32,
    pub first: (i64, f64),
    pub last: (i64, f64),
    /// The sample before `last` (`irate`, `idelta`); `None` for one sample.
    pub prev: Option<(i64, f64)>,
    /// Kahan-compensated sum: `sum + sum_c` is the value ([`Summary::total`];
    /// just `sum` once it is infinite, where the compensation is NaN).
    pub sum: f64,
    pub sum_c: f64,
    /// NaN only when every value is, as `min_over_time` and `max_over_time`.
    pub min: f64,
    pub max: f64,
    /// What a counter lost at its resets: the value before each drop, which
    /// `rate` and `increase` add to `last - first`.
    pub reset_correction: f64,
    pub resets: u32,
    pub changes: u32,
}

impl Summary {
    /// The summary of one sample.
    pub fn of(t: i64, v: f64) -> Summary {
        Summary {
            count: 1,
            first: (t, v),
            last: (t, v),
            prev: None,
            sum: v,
            sum_c: 0.0,
            min: v,
            max: v,
            reset_correction: 0.0,
            resets: 0,
            changes: 0,
        }
    }

    /// Appends a later sample.
    pub fn push(&mut self, t: i64, v: f64) {
        self.merge(&Summary::of(t, v));
    }

    /// Appends the summary of a later run: the result summarises both.
    pub fn merge(&mut self, later: &Summary) {
        let (before, after) = (self.last.1, later.first.1);
        if after < before {
            self.reset_correction += before;
            self.resets += 1;
        }
        if after != before && !(after.is_nan() && before.is_nan()) {
            self.changes += 1;
        }
        self.reset_correction += later.reset_correction;
        self.resets += later.resets;
        self.changes += later.changes;
        self.count += later.count;
        self.prev = later.prev.or(Some(self.last));
        self.last = later.last;
        (self.sum, self.sum_c) = kahan_inc(later.total(), self.sum, self.sum_c);
        if later.min < self.min || self.min.is_nan() {
            self.min = later.min;
        }
        if later.max > self.max || self.max.is_nan() {
            self.max = later.max;
        }
    }

    /// The sum, as `sum_over_time` gives it.
    pub fn total(&self) -> f64 {
        if self.sum.is_infinite() {
            self.sum
        } else {
            self.sum + self.sum_c
        }
    }
}

/// One bucket of a series: the summary of its non-stale samples, and where
/// its stale markers lie (an instant selector must not look past one).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub start: i64,
    /// `None` when the bucket holds stale markers only.
    pub summary: Option<Summary>,
    pub stale_first: Option<i64>,
    pub stale_last: Option<i64>,
}

/// A series read at a bucket width: its buckets in time order, each holding
/// at least one sample or stale marker.
#[derive(Debug, Clone, PartialEq)]
pub struct RolledSeries {
    pub labels: Labels,
    pub buckets: Vec<Bucket>,
}

/// The buckets of `width` ms of samples in time order (stale markers
/// included).
pub fn bucketize(samples: &[(i64, f64)], width: i64) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    for &(t, v) in samples {
        let start = t.saturating_sub(t.rem_euclid(width));
        let bucket = match out.last_mut() {
            Some(b) if b.start == start => b,
            _ => {
                out.push(Bucket {
                    start,
                    summary: None,
                    stale_first: None,
                    stale_last: None,
                });
                let last = out.len() - 1;
                &mut out[last]
            }
        };
        if is_stale(v) {
            bucket.stale_first.get_or_insert(t);
            bucket.stale_last = Some(t);
        } else {
            match &mut bucket.summary {
                Some(s) => s.push(t, v),
                None => bucket.summary = Some(Summary::of(t, v)),
            }
        }
    }
    out
}

/// The summary of the non-stale samples in `[start, end]` (both multiples of
/// the width): the buckets from `start` up to `end`, plus the sample at
/// exactly `end`. `None` when there is none.
pub fn window(buckets: &[Bucket], start: i64, end: i64) -> Option<Summary> {
    let lo = buckets.partition_point(|b| b.start < start);
    let hi = buckets.partition_point(|b| b.start < end);
    let mut acc: Option<Summary> = None;
    let edge = buckets
        .get(hi)
        .and_then(|b| b.summary)
        .filter(|s| s.first.0 == end)
        .map(|s| Summary::of(end, s.first.1));
    for s in buckets[lo..hi].iter().filter_map(|b| b.summary).chain(edge) {
        match &mut acc {
            Some(a) => a.merge(&s),
            None => acc = Some(s),
        }
    }
    acc
}

/// The instant selector's sample at `reft` (a multiple of the width): the
/// newest sample in `[reft - lookback, reft]`, unless it is a stale marker.
pub fn instant(buckets: &[Bucket], reft: i64, lookback: i64) -> Option<(i64, f64)> {
    let i = buckets.partition_point(|b| b.start < reft);
    if let Some(b) = buckets.get(i).filter(|b| b.start == reft) {
        if b.stale_first == Some(reft) {
            return None;
        }
        if let Some(s) = b.summary.filter(|s| s.first.0 == reft) {
            return Some(s.first);
        }
    }
    let b = buckets.get(i.checked_sub(1)?)?;
    let last = b.summary?.last;
    if b.stale_last.is_some_and(|st| st > last.0) || last.0 < reft.saturating_sub(lookback) {
        return None;
    }
    Some(last)
}

/// Range functions that [`Summary`] answers exactly (up to the order of
/// floating-point additions).
pub fn is_summarisable(name: &str) -> bool {
    matches!(
        name,
        "rate"
            | "increase"
            | "delta"
            | "irate"
            | "idelta"
            | "avg_over_time"
            | "min_over_time"
            | "max_over_time"
            | "sum_over_time"
            | "count_over_time"
            | "last_over_time"
            | "present_over_time"
            | "absent_over_time"
            | "resets"
            | "changes"
    )
}

/// The coarsest of the bucket `widths` (ms) at which `expr` can be answered
/// from buckets over `[start, end]` at `step` (0 for an instant query) with
/// the same result as from raw samples: every evaluation time, range and
/// offset a multiple of the width, `@` times on its multiples, and every
/// range selector read by a function [`Summary`] answers.
pub fn plan(expr: &Expr, start: i64, end: i64, step: i64, widths: &[i64]) -> Option<i64> {
    let mut widths: Vec<i64> = widths.iter().copied().filter(|&w| w > 0).collect();
    widths.sort_unstable_by(|a, b| b.cmp(a));
    widths
        .into_iter()
        .find(|&w| start % w == 0 && step % w == 0 && fits(expr, w, start, end))
}

/// Whether every selector of `expr` lands on bucket boundaries of `w`.
fn fits(expr: &Expr, w: i64, start: i64, end: i64) -> bool {
    let aligned = |at: &Option<AtModifier>, offset: i64| -> bool {
        let at_ok = match at {
            None => true,
            Some(AtModifier::Start) => start % w == 0,
            Some(AtModifier::End) => end % w == 0,
            Some(AtModifier::At(_)) => {
                super::storage::at_ms(at, start, end).is_some_and(|t| t % w == 0)
            }
        };
        at_ok && offset % w == 0
    };
    match expr {
        Expr::VectorSelector(vs) => aligned(&vs.at, offset_ms(&vs.offset)),
        // A range selector only fits as the argument of a function below.
        Expr::MatrixSelector(_) => false,
        Expr::Subquery(sq) => {
            let step = sq
                .step
                .as_ref()
                .map(dur_ms)
                .unwrap_or(super::eval::DEFAULT_SUBQUERY_STEP_MS);
            // Its grid is made of multiples of its step, whatever the offset.
            step % w == 0 && fits(&sq.expr, w, start, end)
        }
        Expr::Call(c) => c.args.args.iter().all(|arg| match unparen(arg) {
            Expr::MatrixSelector(ms) => {
                is_summarisable(c.func.name)
                    && dur_ms(&ms.range) % w == 0
                    && aligned(&ms.vs.at, offset_ms(&ms.vs.offset))
            }
            other => fits(other, w, start, end),
        }),
        Expr::Aggregate(a) => {
            a.param.as_ref().is_none_or(|p| fits(p, w, start, end)) && fits(&a.expr, w, start, end)
        }
        Expr::Unary(u) => fits(&u.expr, w, start, end),
        Expr::Binary(b) => fits(&b.lhs, w, start, end) && fits(&b.rhs, w, start, end),
        Expr::Paren(p) => fits(&p.expr, w, start, end),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => true,
        Expr::Extension(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_buckets_equal_the_summary_of_all_samples() {
        let samples: Vec<(i64, f64)> = [5.0, 7.0, 2.0, 2.0, 9.0, f64::NAN, 4.0, 10.0]
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as i64 * 15_000, v))
            .collect();
        let mut whole = Summary::of(samples[0].0, samples[0].1);
        for &(t, v) in &samples[1..] {
            whole.push(t, v);
        }
        let buckets = bucketize(&samples, 60_000);
        assert_eq!(buckets.len(), 2);
        let merged = window(&buckets, 0, 120_000).unwrap();
        assert_eq!(merged.count, 8);
        assert_eq!(merged.resets, whole.resets);
        assert_eq!(merged.changes, whole.changes);
        assert_eq!(merged.reset_correction, whole.reset_correction);
        assert_eq!((merged.min, merged.max), (2.0, 10.0));
        assert_eq!(merged.prev, Some((90_000, 4.0)));
        assert!(merged.total().is_nan());
    }

    #[test]
    fn a_window_takes_the_sample_on_its_end_and_not_past_it() {
        let samples = [(0, 1.0), (30_000, 2.0), (60_000, 3.0), (75_000, 4.0)];
        let buckets = bucketize(&samples, 60_000);
        let w = window(&buckets, 0, 60_000).unwrap();
        assert_eq!((w.count, w.first, w.last), (3, (0, 1.0), (60_000, 3.0)));
        // The sample at the window's start is inside it (2.x is closed there).
        let w = window(&buckets, 60_000, 120_000).unwrap();
        assert_eq!((w.count, w.first), (2, (60_000, 3.0)));
    }

    #[test]
    fn instant_reads_stop_at_stale_markers_and_the_lookback() {
        let stale = f64::from_bits(super::super::STALE_NAN_BITS);
        let samples = [(10_000, 1.0), (50_000, stale), (120_000, 2.0)];
        let buckets = bucketize(&samples, 60_000);
        assert_eq!(instant(&buckets, 60_000, 300_000), None);
        assert_eq!(instant(&buckets, 120_000, 300_000), Some((120_000, 2.0)));
        assert_eq!(instant(&buckets, 180_000, 300_000), Some((120_000, 2.0)));
        assert_eq!(instant(&buckets, 480_000, 300_000), None);
        assert_eq!(instant(&buckets, 420_000, 300_000), Some((120_000, 2.0)));
    }

    #[test]
    fn the_plan_needs_aligned_times_and_summarisable_functions() {
        let p = |q: &str, start: i64, step: i64| {
            let e = promql_parser::parser::parse(q).unwrap();
            plan(&e, start, start + 86_400_000, step, &[60_000, 3_600_000])
        };
        let day = 1_796_601_600_000;
        assert_eq!(p("sum by (job) (rate(x[5m]))", day, 300_000), Some(60_000));
        assert_eq!(p("rate(x[1h])", day, 3_600_000), Some(3_600_000));
        assert_eq!(p("rate(x[90s])", day, 300_000), None);
        assert_eq!(p("rate(x[5m])", day + 15_000, 300_000), None);
        assert_eq!(p("rate(x[5m])", day, 15_000), None);
        assert_eq!(p("quantile_over_time(0.9, x[1h])", day, 3_600_000), None);
        assert_eq!(p("x offset 30s", day, 60_000), None);
        assert_eq!(p("x / on(job) y", day, 3_600_000), Some(3_600_000));
        assert_eq!(
            p("max_over_time(rate(x[5m])[1h:5m])", day, 3_600_000),
            Some(60_000)
        );
        assert_eq!(p("x[5m]", day, 0), None);
    }
}
