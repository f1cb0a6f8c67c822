//! Where samples come from. The evaluator asks the storage once per selector
//! for the whole time span the query can touch, so a SQL-backed caller can
//! fetch everything up front (see [`selections`]) and hand it over as a
//! [`MemStorage`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{AtModifier, Expr, Offset, VectorSelector};

use super::summary::{bucketize, Bucket, RolledSeries};
use super::value::{get, RawSeries, METRIC_NAME};
use super::EvalError;

/// What the storage must answer: series matching all `matchers`, samples
/// with `mint <= t <= maxt` (stale markers included).
pub trait Storage {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<RawSeries>, EvalError>;

    /// The bucket width (ms) this storage answers at when it reads rollups
    /// (chosen by [`super::plan`]); then every selector reads
    /// [`Storage::select_buckets`] instead of samples.
    fn bucket_ms(&self) -> Option<i64> {
        None
    }

    /// Series matching all `matchers` as buckets of [`Storage::bucket_ms`],
    /// those starting in `[mint - mint % width, maxt]`.
    fn select_buckets(
        &self,
        _matchers: &[Matcher],
        _mint: i64,
        _maxt: i64,
    ) -> Result<Vec<RolledSeries>, EvalError> {
        Ok(Vec::new())
    }
}

/// One selector of the query and the time span it reads, so a caller can
/// fetch exactly that from SQL first.
#[derive(Debug, Clone)]
pub struct Selection {
    pub matchers: Vec<Matcher>,
    pub mint: i64,
    pub maxt: i64,
}

/// Storage over already fetched series; matchers (the metric name included)
/// are evaluated in memory.
#[derive(Debug, Clone, Default)]
pub struct MemStorage {
    series: Vec<RawSeries>,
    /// Series as buckets of a width, when the storage reads rollups.
    rolled: Option<(i64, Vec<RolledSeries>)>,
}

impl MemStorage {
    /// Takes the series in any order. The same series may appear several
    /// times (e.g. once per [`Selection`] that fetched it, with different
    /// time spans): copies are merged, so callers can simply concatenate.
    pub fn new(series: Vec<RawSeries>) -> Self {
        MemStorage {
            series: merge_series(series),
            rolled: None,
        }
    }

    /// Storage over series already read as buckets of `width` ms, one
    /// entry per series.
    pub fn rolled(width: i64, mut series: Vec<RolledSeries>) -> Self {
        for s in &mut series {
            s.labels.sort();
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        MemStorage {
            series: Vec::new(),
            rolled: Some((width, series)),
        }
    }

    /// The same series as buckets of `width` ms: what rollups of them hold.
    pub fn rolled_up(self, width: i64) -> Self {
        let series = self
            .series
            .into_iter()
            .map(|s| RolledSeries {
                buckets: bucketize(&s.samples, width),
                labels: s.labels,
            })
            .collect();
        MemStorage::rolled(width, series)
    }
}

/// Sorts labels and samples and merges series with identical labels, so
/// that each series appears once, ordered by labels as Prometheus' index
/// returns them. For a timestamp present twice the first copy wins.
pub(super) fn merge_series(mut series: Vec<RawSeries>) -> Vec<RawSeries> {
    for s in &mut series {
        s.labels.sort();
    }
    // Stable, so "first copy wins" holds across the merge below.
    series.sort_by(|a, b| a.labels.cmp(&b.labels));
    let mut out: Vec<RawSeries> = Vec::with_capacity(series.len());
    for s in series {
        match out.last_mut() {
            Some(last) if last.labels == s.labels => last.samples.extend(s.samples),
            _ => out.push(s),
        }
    }
    for s in &mut out {
        s.samples.sort_by_key(|p| p.0);
        s.samples.dedup_by_key(|p| p.0);
    }
    out
}

impl Storage for MemStorage {
    fn select(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<RawSeries>, EvalError> {
        let mut out = Vec::new();
        for s in &self.series {
            // A missing label matches as "", like in Prometheus.
            if !matchers.iter().all(|m| m.is_match(get(&s.labels, &m.name))) {
                continue;
            }
            let samples: Vec<(i64, f64)> = s
                .samples
                .iter()
                .filter(|(t, _)| *t >= mint && *t <= maxt)
                .copied()
                .collect();
            if !samples.is_empty() {
                out.push(RawSeries {
                    labels: s.labels.clone(),
                    samples,
                });
            }
        }
        Ok(out)
    }

    fn bucket_ms(&self) -> Option<i64> {
        self.rolled.as_ref().map(|(width, _)| *width)
    }

    fn select_buckets(
        &self,
        matchers: &[Matcher],
        mint: i64,
        maxt: i64,
    ) -> Result<Vec<RolledSeries>, EvalError> {
        let Some((width, series)) = &self.rolled else {
            return Ok(Vec::new());
        };
        let from = mint.saturating_sub(mint.rem_euclid(*width));
        Ok(series
            .iter()
            .filter(|s| matchers.iter().all(|m| m.is_match(get(&s.labels, &m.name))))
            .filter_map(|s| {
                let buckets: Vec<Bucket> = s
                    .buckets
                    .iter()
                    .filter(|b| (from..=maxt).contains(&b.start))
                    .copied()
                    .collect();
                (!buckets.is_empty()).then(|| RolledSeries {
                    labels: s.labels.clone(),
                    buckets,
                })
            })
            .collect())
    }
}

/// Milliseconds of a parser duration.
pub(super) fn dur_ms(d: &Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Signed milliseconds of an `offset` (0 when absent).
pub(super) fn offset_ms(o: &Option<Offset>) -> i64 {
    match o {
        None => 0,
        Some(Offset::Pos(d)) => dur_ms(d),
        Some(Offset::Neg(d)) => -dur_ms(d),
    }
}

/// The fixed time of an `@` modifier; `start()`/`end()` are the query's.
pub(super) fn at_ms(at: &Option<AtModifier>, start: i64, end: i64) -> Option<i64> {
    match at {
        None => None,
        Some(AtModifier::Start) => Some(start),
        Some(AtModifier::End) => Some(end),
        Some(AtModifier::At(st)) => Some(system_time_ms(st)),
    }
}

fn system_time_ms(st: &SystemTime) -> i64 {
    match st.duration_since(UNIX_EPOCH) {
        Ok(d) => dur_ms(&d),
        Err(e) => -dur_ms(&e.duration()),
    }
}

/// The selector's matchers with the bare metric name turned into a
/// `__name__` matcher (the parser keeps it apart).
pub(super) fn selector_matchers(vs: &VectorSelector) -> Vec<Matcher> {
    let mut ms = vs.matchers.matchers.clone();
    if let Some(name) = &vs.name {
        if !ms.iter().any(|m| m.name == METRIC_NAME) {
            ms.insert(0, Matcher::new(MatchOp::Equal, METRIC_NAME, name));
        }
    }
    ms
}

/// Identity of a selector node, used to find its prefetched data again.
pub(super) fn node_key(vs: &VectorSelector) -> usize {
    vs as *const VectorSelector as usize
}

/// Times the walk needs to know to place `@ start()`/`@ end()` and lookback.
struct WalkCtx {
    start: i64,
    end: i64,
    lookback: i64,
}

/// Calls `f` for every selector with the span it may read when the
/// expression is evaluated at times within `[tmin, tmax]`.
fn walk(expr: &Expr, tmin: i64, tmax: i64, ctx: &WalkCtx, f: &mut dyn FnMut(usize, Selection)) {
    let shift = |at: &Option<AtModifier>, off: &Option<Offset>| -> (i64, i64) {
        let o = offset_ms(off);
        match at_ms(at, ctx.start, ctx.end) {
            Some(a) => (a.saturating_sub(o), a.saturating_sub(o)),
            None => (tmin.saturating_sub(o), tmax.saturating_sub(o)),
        }
    };
    match expr {
        Expr::VectorSelector(vs) => {
            let (lo, hi) = shift(&vs.at, &vs.offset);
            f(
                node_key(vs),
                Selection {
                    matchers: selector_matchers(vs),
                    mint: lo.saturating_sub(ctx.lookback),
                    maxt: hi,
                },
            );
        }
        Expr::MatrixSelector(ms) => {
            let (lo, hi) = shift(&ms.vs.at, &ms.vs.offset);
            f(
                node_key(&ms.vs),
                Selection {
                    matchers: selector_matchers(&ms.vs),
                    mint: lo.saturating_sub(dur_ms(&ms.range)),
                    maxt: hi,
                },
            );
        }
        Expr::Subquery(sq) => {
            let (lo, hi) = shift(&sq.at, &sq.offset);
            walk(&sq.expr, lo.saturating_sub(dur_ms(&sq.range)), hi, ctx, f);
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                walk(p, tmin, tmax, ctx, f);
            }
            walk(&a.expr, tmin, tmax, ctx, f);
        }
        Expr::Unary(u) => walk(&u.expr, tmin, tmax, ctx, f),
        Expr::Binary(b) => {
            walk(&b.lhs, tmin, tmax, ctx, f);
            walk(&b.rhs, tmin, tmax, ctx, f);
        }
        Expr::Paren(p) => walk(&p.expr, tmin, tmax, ctx, f),
        Expr::Call(c) => {
            for a in &c.args.args {
                walk(a, tmin, tmax, ctx, f);
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// Every selector of `expr` with the span a query over `[start, end]` reads.
/// The step does not widen the span (subquery steps stay inside it) but is
/// kept in the signature so callers need not care.
pub fn selections(expr: &Expr, start: i64, end: i64, _step: i64, lookback: i64) -> Vec<Selection> {
    let mut out = Vec::new();
    let ctx = WalkCtx {
        start,
        end,
        lookback,
    };
    walk(expr, start, end, &ctx, &mut |_, s| out.push(s));
    out
}

/// Every selector's data, keyed by selector node: samples, or buckets when
/// the storage reads rollups.
pub(super) type Prefetched = (
    std::collections::HashMap<usize, Vec<RawSeries>>,
    std::collections::HashMap<usize, Vec<RolledSeries>>,
);

/// Fetches every selector's data once, keyed by selector node.
pub(super) fn prefetch(
    expr: &Expr,
    storage: &dyn Storage,
    start: i64,
    end: i64,
    lookback: i64,
) -> Result<Prefetched, EvalError> {
    let mut wanted = Vec::new();
    let ctx = WalkCtx {
        start,
        end,
        lookback,
    };
    walk(expr, start, end, &ctx, &mut |k, s| wanted.push((k, s)));
    let mut out = std::collections::HashMap::new();
    let mut rolled = std::collections::HashMap::new();
    if storage.bucket_ms().is_some() {
        for (key, sel) in wanted {
            rolled.insert(
                key,
                storage.select_buckets(&sel.matchers, sel.mint, sel.maxt)?,
            );
        }
        return Ok((out, rolled));
    }
    for (key, sel) in wanted {
        // Whatever the storage's order, selectors see series sorted by
        // labels, as Prometheus' index returns them.
        let series = merge_series(storage.select(&sel.matchers, sel.mint, sel.maxt)?);
        out.insert(key, series);
    }
    Ok((out, rolled))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn lbl(pairs: &[(&str, &str)]) -> crate::metrics::promql::Labels {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn selections_cover_offset_range_and_subquery() {
        let e =
            promql_parser::parser::parse("rate(foo[5m] offset 1m) + max_over_time(bar[10m:1m])")
                .unwrap();
        let s = selections(&e, 1_000_000, 2_000_000, 15_000, 300_000);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].mint, s[0].maxt),
            (1_000_000 - 360_000, 2_000_000 - 60_000)
        );
        assert_eq!(
            (s[1].mint, s[1].maxt),
            (1_000_000 - 600_000 - 300_000, 2_000_000)
        );
        assert_eq!(s[0].matchers[0].name, "__name__");
    }

    #[test]
    fn mem_storage_merges_copies_of_a_series() {
        let a = |samples: Vec<(i64, f64)>| RawSeries {
            labels: lbl(&[("job", "x"), ("__name__", "a")]),
            samples,
        };
        let st = MemStorage::new(vec![
            a(vec![(5, 5.0), (6, 6.0)]),
            a(vec![(1, 1.0), (5, 9.0)]),
        ]);
        let got = st.select(&[], 0, 10).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].samples, vec![(1, 1.0), (5, 5.0), (6, 6.0)]);
        assert_eq!(got[0].labels[0].0, "__name__");
    }

    #[test]
    fn mem_storage_matches_name_and_regex() {
        let st = MemStorage::new(vec![
            RawSeries {
                labels: lbl(&[("__name__", "a"), ("job", "x")]),
                samples: vec![(1, 1.0), (5, 2.0)],
            },
            RawSeries {
                labels: lbl(&[("__name__", "b"), ("job", "y")]),
                samples: vec![(1, 1.0)],
            },
        ]);
        let e = promql_parser::parser::parse("{job=~\"x|y\", __name__!=\"b\"}").unwrap();
        let s = selections(&e, 0, 0, 1, 10);
        let got = st.select(&s[0].matchers, 0, 3).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].samples, vec![(1, 1.0)]);
    }
}
