//! The evaluator: evaluates one expression at one instant. Range queries and
//! subqueries are built from repeated instant evaluations, which keeps the
//! semantics obviously equal to Prometheus' at each step.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use promql_parser::parser::{Expr, MatrixSelector, SubqueryExpr, VectorSelector};

use super::aggregate::Grouping;
use super::steps::Steps;
use super::storage::{at_ms, dur_ms, node_key, offset_ms};
use super::summary::{self, RolledSeries, Summary};
use super::value::{drop_name, is_stale, Labels, RawSeries, Sample, Series};
use super::{aggregate, binary, functions, EvalError};

/// Step of a subquery written without one (`x[5m:]`). Prometheus 2.42 uses
/// the global `evaluation_interval`, whose default is one minute.
pub const DEFAULT_SUBQUERY_STEP_MS: i64 = 60_000;

/// An intermediate value at one evaluation time.
#[derive(Debug, Clone)]
pub(super) enum Val {
    Scalar(f64),
    Str(String),
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

/// A range-vector argument of a function, with the window it covers: rate
/// and friends extrapolate to the window edges, so they need them.
pub(super) struct RangeArg {
    pub series: Vec<Series>,
    /// Windows read from buckets instead ([`summary::window`]): labels and
    /// the summary of the samples in the window.
    pub summaries: Vec<(Labels, Summary)>,
    /// Window start (inclusive), after offset and `@`.
    pub start: i64,
    /// Window end (inclusive), after offset and `@`.
    pub end: i64,
}

impl RangeArg {
    pub fn range_ms(&self) -> i64 {
        self.end - self.start
    }
}

/// State shared by all evaluation steps of one query.
pub(super) struct Evaluator {
    /// Query start and end: what `@ start()` and `@ end()` mean.
    pub start: i64,
    pub end: i64,
    pub lookback: i64,
    pub max_samples: usize,
    /// Prefetched data of each selector node (see `storage::prefetch`).
    pub data: HashMap<usize, Vec<RawSeries>>,
    /// The same as buckets, when the storage reads rollups
    /// ([`super::Storage::bucket_ms`]).
    pub rolled: HashMap<usize, Vec<RolledSeries>>,
    /// Step of the range query; 0 for an instant query.
    pub step: i64,
    /// Points of each subquery node kept between steps (see `subquery`).
    pub sub_cache: RefCell<HashMap<usize, SubState>>,
    /// Range functions answered for all steps at once (see `steps`).
    pub steps: RefCell<HashMap<usize, Rc<Steps>>>,
    /// How each aggregation groups its inputs (kept between steps).
    pub groupings: RefCell<HashMap<usize, Grouping>>,
}

/// Strips parentheses, which carry no meaning for argument inspection.
pub(super) fn unparen(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Prometheus' error for `--query.max-samples`.
fn too_many_samples() -> EvalError {
    EvalError::Execution(
        "query processing would load too many samples into memory in query execution".into(),
    )
}

fn type_err(what: &str) -> EvalError {
    EvalError::Execution(format!("expected {what} value"))
}

impl Evaluator {
    /// Mirrors `--query.max-samples`: refuse to hold more points at once.
    pub fn check_samples(&self, n: usize) -> Result<(), EvalError> {
        if n > self.max_samples {
            return Err(too_many_samples());
        }
        Ok(())
    }

    pub fn eval(&self, e: &Expr, t: i64) -> Result<Val, EvalError> {
        match e {
            Expr::NumberLiteral(n) => Ok(Val::Scalar(n.val)),
            Expr::StringLiteral(s) => Ok(Val::Str(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr, t),
            Expr::Unary(u) => match self.eval(&u.expr, t)? {
                Val::Scalar(v) => Ok(Val::Scalar(-v)),
                Val::Vector(vs) => Ok(Val::Vector(
                    vs.into_iter()
                        .map(|s| Sample {
                            labels: drop_name(s.labels),
                            t: s.t,
                            v: -s.v,
                        })
                        .collect(),
                )),
                _ => Err(EvalError::BadData(
                    "unary minus is only allowed on scalars and instant vectors".into(),
                )),
            },
            Expr::VectorSelector(vs) => Ok(Val::Vector(self.vector_selector(vs, t, false)?)),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                Ok(Val::Matrix(self.range_arg(e, t)?.series))
            }
            Expr::Call(c) => functions::call(self, c, t),
            Expr::Aggregate(a) => aggregate::eval(self, a, t),
            Expr::Binary(b) => binary::eval(self, b, t),
            Expr::Extension(_) => Err(EvalError::BadData(
                "extension expressions are not supported".into(),
            )),
        }
    }

    pub fn eval_vector(&self, e: &Expr, t: i64) -> Result<Vec<Sample>, EvalError> {
        match self.eval(e, t)? {
            Val::Vector(v) => Ok(v),
            _ => Err(type_err("instant vector")),
        }
    }

    pub fn eval_scalar(&self, e: &Expr, t: i64) -> Result<f64, EvalError> {
        match self.eval(e, t)? {
            Val::Scalar(v) => Ok(v),
            _ => Err(type_err("scalar")),
        }
    }

    pub fn eval_string(&self, e: &Expr, t: i64) -> Result<String, EvalError> {
        match self.eval(e, t)? {
            Val::Str(s) => Ok(s),
            _ => Err(type_err("string")),
        }
    }

    pub fn series_of(&self, vs: &VectorSelector) -> Result<&[RawSeries], EvalError> {
        if !vs.matchers.or_matchers.is_empty() {
            return Err(EvalError::BadData(
                "`or` inside label matchers is not supported by Prometheus 2.42".into(),
            ));
        }
        Ok(self
            .data
            .get(&node_key(vs))
            .map(|v| v.as_slice())
            .unwrap_or(&[]))
    }

    /// Instant selector: per series the newest sample in the closed window
    /// `[ref - lookback, ref]` (Prometheus 2.x), unless it is a stale marker.
    /// `keep_ts` keeps the sample's own time for `timestamp()`.
    pub fn vector_selector(
        &self,
        vs: &VectorSelector,
        t: i64,
        keep_ts: bool,
    ) -> Result<Vec<Sample>, EvalError> {
        let reft = at_ms(&vs.at, self.start, self.end)
            .unwrap_or(t)
            .saturating_sub(offset_ms(&vs.offset));
        let mut out = Vec::new();
        for s in self.rolled.get(&node_key(vs)).into_iter().flatten() {
            if let Some((st, sv)) = summary::instant(&s.buckets, reft, self.lookback) {
                out.push(Sample {
                    labels: s.labels.clone(),
                    t: if keep_ts { st } else { t },
                    v: sv,
                });
            }
        }
        for s in self.series_of(vs)? {
            let idx = s.samples.partition_point(|p| p.0 <= reft);
            if idx == 0 {
                continue;
            }
            let (st, sv) = s.samples[idx - 1];
            if st < reft.saturating_sub(self.lookback) || is_stale(sv) {
                continue;
            }
            out.push(Sample {
                labels: s.labels.clone(),
                t: if keep_ts { st } else { t },
                v: sv,
            });
        }
        self.check_samples(out.len())?;
        Ok(out)
    }

    /// Range selector or subquery evaluated at `t`.
    pub fn range_arg(&self, e: &Expr, t: i64) -> Result<RangeArg, EvalError> {
        match unparen(e) {
            Expr::MatrixSelector(ms) => self.matrix_selector(ms, t),
            Expr::Subquery(sq) => self.subquery(sq, t),
            _ => Err(type_err("range vector")),
        }
    }

    /// Range selector: non-stale samples in the closed window
    /// `[ref - range, ref]` (Prometheus 2.x; 3.x made the start open).
    fn matrix_selector(&self, ms: &MatrixSelector, t: i64) -> Result<RangeArg, EvalError> {
        let vs = &ms.vs;
        let end = at_ms(&vs.at, self.start, self.end)
            .unwrap_or(t)
            .saturating_sub(offset_ms(&vs.offset));
        let start = end.saturating_sub(dur_ms(&ms.range));
        let mut summaries = Vec::new();
        for s in self.rolled.get(&node_key(vs)).into_iter().flatten() {
            if let Some(summary) = summary::window(&s.buckets, start, end) {
                summaries.push((s.labels.clone(), summary));
            }
        }
        self.check_samples(summaries.len())?;
        let mut series = Vec::new();
        let mut total = 0;
        for s in self.series_of(vs)? {
            let lo = s.samples.partition_point(|p| p.0 < start);
            let hi = s.samples.partition_point(|p| p.0 <= end);
            let points: Vec<(i64, f64)> = s.samples[lo..hi]
                .iter()
                .filter(|p| !is_stale(p.1))
                .copied()
                .collect();
            if points.is_empty() {
                continue;
            }
            total += points.len();
            self.check_samples(total)?;
            series.push(Series {
                labels: s.labels.clone(),
                points,
            });
        }
        Ok(RangeArg {
            series,
            summaries,
            start,
            end,
        })
    }

    /// Subquery: the inner expression evaluated at every multiple of the
    /// step inside `[ref - range, ref]`, like Prometheus' aligned grid.
    /// Consecutive steps of a range query share most of that grid, so the
    /// points are kept per subquery node and only new grid times are
    /// evaluated; points left of the window are dropped.
    fn subquery(&self, sq: &SubqueryExpr, t: i64) -> Result<RangeArg, EvalError> {
        let step = sq
            .step
            .as_ref()
            .map(dur_ms)
            .unwrap_or(DEFAULT_SUBQUERY_STEP_MS);
        if step <= 0 {
            return Err(EvalError::BadData("zero or negative subquery step".into()));
        }
        let end = at_ms(&sq.at, self.start, self.end)
            .unwrap_or(t)
            .saturating_sub(offset_ms(&sq.offset));
        let start = end.saturating_sub(dur_ms(&sq.range));
        // Go's integer division truncates toward zero, as Rust's does.
        let mut first = step * (start / step);
        if first < start {
            first = first.saturating_add(step);
        }
        // Each grid time costs an evaluation even when it finds nothing, so
        // count steps against the sample limit: a huge range with a tiny
        // step would otherwise run for hours without holding any point.
        let steps = end.saturating_sub(first) / step + 1;
        if usize::try_from(steps).unwrap_or(usize::MAX) > self.max_samples {
            return Err(too_many_samples());
        }
        let key = sq as *const SubqueryExpr as usize;
        // Taken out of the cache while in use: nested subqueries borrow it.
        let mut st = self.sub_cache.borrow_mut().remove(&key).unwrap_or_default();
        if !(st.first <= first && first <= st.next) {
            st = SubState {
                first,
                next: first,
                ..SubState::default()
            };
        }
        for (_, pts) in st.series.iter_mut() {
            while pts.front().is_some_and(|p| p.0 < first) {
                pts.pop_front();
            }
        }
        st.first = first;
        while st.next <= end {
            let ts = st.next;
            let samples = match self.eval(&sq.expr, ts)? {
                Val::Vector(v) => v,
                Val::Scalar(v) => vec![Sample {
                    labels: Labels::new(),
                    t: ts,
                    v,
                }],
                _ => return Err(type_err("instant vector")),
            };
            for s in samples {
                match st.index.get(&s.labels) {
                    Some(&i) => st.series[i].1.push_back((ts, s.v)),
                    None => {
                        st.index.insert(s.labels.clone(), st.series.len());
                        st.series.push((s.labels, VecDeque::from([(ts, s.v)])));
                    }
                }
            }
            match st.next.checked_add(step) {
                Some(n) => st.next = n,
                None => break,
            }
        }
        let mut series = Vec::new();
        let mut total = 0;
        for (labels, pts) in &st.series {
            let points: Vec<(i64, f64)> = pts.iter().take_while(|p| p.0 <= end).copied().collect();
            if points.is_empty() {
                continue;
            }
            total += points.len();
            self.check_samples(total)?;
            series.push(Series {
                labels: labels.clone(),
                points,
            });
        }
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        self.sub_cache.borrow_mut().insert(key, st);
        Ok(RangeArg {
            series,
            summaries: Vec::new(),
            start,
            end,
        })
    }
}

/// Points of one subquery kept between evaluation steps: every grid time
/// in `[first, next)` has been evaluated.
#[derive(Default)]
pub(super) struct SubState {
    first: i64,
    next: i64,
    index: HashMap<Labels, usize>,
    series: Vec<(Labels, VecDeque<(i64, f64)>)>,
}
