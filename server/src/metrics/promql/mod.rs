//! PromQL evaluation for Sightline, following Prometheus 2.42's semantics
//! (lookback, staleness, extrapolation, matching rules). Parsing is done by
//! the `promql-parser` crate; this module only evaluates its AST.
//!
//! Entry points: [`eval_instant`] and [`eval_range`] over a [`Storage`].
//! A caller backed by SQL uses [`selections`] to learn what to fetch, then
//! evaluates over a [`MemStorage`] holding the fetched series (copies of a
//! series fetched by several selections are merged there).
//!
//! Long ranges read rollups: [`plan`] picks a bucket width at which the query
//! gives the same answer from buckets as from samples, and a storage that
//! answers [`Storage::bucket_ms`] hands the evaluator buckets, from which
//! windows are summarised (`summary.rs`).
//!
//! Choices worth knowing, all checked against a real Prometheus 2.42:
//! - Windows are closed at both ends, as in 2.x (3.x opened the start): an
//!   instant selector sees `[t - lookback, t]`, a range selector
//!   `[t - range, t]`, after `offset` and `@`.
//! - A subquery without a step (`x[5m:]`) uses one minute, the default
//!   global `evaluation_interval` that 2.42 uses, not the query step.
//! - Range queries evaluate each step as an instant query; subquery points
//!   are kept between steps so overlapping windows are not recomputed.
//! - Values are rendered by [`format_value`] as 2.42's JSON encoder does.

mod aggregate;
mod binary;
mod eval;
mod functions;
mod gomath;
mod histogram;
mod range_fns;
mod steps;
mod storage;
mod summary;
mod timefns;
mod value;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use promql_parser::parser::Expr;

pub use eval::DEFAULT_SUBQUERY_STEP_MS;
pub use storage::{selections, MemStorage, Selection, Storage};
pub use summary::{bucketize, plan, Bucket, RolledSeries, Summary};
pub use value::{format_value, is_stale, Labels, RawSeries, Sample, Series, Value, STALE_NAN_BITS};

use eval::{Evaluator, Val};

/// Errors map to Prometheus' HTTP answers: `BadData` is a 400, `Execution`
/// a 422.
#[derive(thiserror::Error, Debug, Clone, PartialEq)]
pub enum EvalError {
    #[error("{0}")]
    BadData(String),
    #[error("{0}")]
    Execution(String),
}

/// Per-query limits, the equivalents of Prometheus' command line flags.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `--query.lookback-delta`, 5 minutes by default in Prometheus.
    pub lookback_ms: i64,
    /// `--query.max-samples`: points held at once; exceeding it fails the
    /// query with an `Execution` error.
    pub max_samples: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            lookback_ms: 300_000,
            max_samples: 50_000_000,
        }
    }
}

fn evaluator(
    expr: &Expr,
    storage: &dyn Storage,
    (start, end, step): (i64, i64, i64),
    limits: &Limits,
) -> Result<Evaluator, EvalError> {
    let (data, rolled) = storage::prefetch(expr, storage, start, end, limits.lookback_ms)?;
    Ok(Evaluator {
        start,
        end,
        lookback: limits.lookback_ms,
        max_samples: limits.max_samples,
        data,
        rolled,
        step,
        sub_cache: Default::default(),
        steps: Default::default(),
        groupings: Default::default(),
    })
}

/// Evaluates `expr` at time `t` (ms), like `/api/v1/query`.
pub fn eval_instant(
    expr: &Expr,
    storage: &dyn Storage,
    t: i64,
    limits: &Limits,
) -> Result<Value, EvalError> {
    let ev = evaluator(expr, storage, (t, t, 0), limits)?;
    Ok(match ev.eval(expr, t)? {
        Val::Scalar(v) => Value::Scalar { t, v },
        Val::Str(v) => Value::String { t, v },
        Val::Vector(v) => Value::Vector(
            v.into_iter()
                .map(|s| Sample {
                    labels: s.labels,
                    t,
                    v: s.v,
                })
                .collect(),
        ),
        Val::Matrix(m) => Value::Matrix(m),
    })
}

/// Evaluates `expr` at every step of `[start, end]`, like
/// `/api/v1/query_range`. Series come out sorted by labels; a scalar
/// expression gives one series with no labels, as in Prometheus.
pub fn eval_range(
    expr: &Expr,
    storage: &dyn Storage,
    start: i64,
    end: i64,
    step: i64,
    limits: &Limits,
) -> Result<Vec<Series>, EvalError> {
    if step <= 0 {
        return Err(EvalError::BadData(
            "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
        ));
    }
    if end < start {
        return Err(EvalError::BadData(
            "end timestamp must not be before start time".into(),
        ));
    }
    // Prometheus' API refuses more than 11,000 steps; without this a tiny
    // step over a long span would run (and allocate) almost forever.
    if end.saturating_sub(start) / step > 11_000 {
        return Err(EvalError::BadData(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
        ));
    }
    match expr.value_type() {
        promql_parser::parser::value::ValueType::Vector
        | promql_parser::parser::value::ValueType::Scalar => {}
        other => {
            // Prometheus names the types as in its documentation.
            let name = match other {
                promql_parser::parser::value::ValueType::Matrix => "range vector",
                _ => "string",
            };
            return Err(EvalError::BadData(format!(
                "invalid expression type \"{name}\" for range query, must be Scalar or instant Vector"
            )));
        }
    }
    let ev = evaluator(expr, storage, (start, end, step), limits)?;
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut by_id: HashMap<usize, usize> = HashMap::new();
    let mut out: Vec<Series> = Vec::new();
    let mut total = 0usize;
    let mut t = start;
    while t <= end {
        let samples = match ev.eval(expr, t)? {
            Val::Scalar(v) => vec![Sample {
                labels: Labels::new(),
                t,
                v,
            }],
            Val::Vector(v) => v,
            _ => {
                return Err(EvalError::BadData(
                    "range query needs a vector or scalar".into(),
                ))
            }
        };
        total += samples.len();
        ev.check_samples(total)?;
        for s in samples {
            // Most steps hand over the same shared labels as the last: found
            // by their identity first (only the copies kept in `out` are
            // keys, so an identity is never reused while it is one).
            let found = match by_id.get(&s.labels.id()) {
                Some(&i) => Some(i),
                None => index.get(&s.labels).copied(),
            };
            match found {
                Some(i) => out[i].points.push((t, s.v)),
                None => {
                    index.insert(s.labels.clone(), out.len());
                    by_id.insert(s.labels.id(), out.len());
                    out.push(Series {
                        labels: s.labels,
                        points: vec![(t, s.v)],
                    });
                }
            }
        }
        match t.checked_add(step) {
            Some(n) => t = n,
            None => break,
        }
    }
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(out)
}
