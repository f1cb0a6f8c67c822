//! A range function over a range selector (`rate(x[5m])`), the heart of
//! most dashboard queries, answered for every step of a range query at
//! once: per series, its window slides along the steps instead of being cut
//! out afresh at each, and its output labels are made once. The answers
//! equal the step-by-step path's ([`super::range_fns::call`]) value for
//! value, in the same order; that path still serves instant queries,
//! subqueries and times off the query's grid.

use std::rc::Rc;

use promql_parser::parser::{Call, Expr, MatrixSelector};

use super::eval::{unparen, Evaluator, RangeArg};
use super::range_fns::{apply, apply_summary};
use super::storage::{at_ms, dur_ms, node_key, offset_ms};
use super::summary::{self, is_summarisable};
use super::value::{drop_name, is_stale, Labels, Sample};
use super::EvalError;

/// One range function's answers at every step of the query.
pub(super) struct Steps {
    /// Output labels of each series: the selector's raw series first, then
    /// its rolled ones, as the step-by-step path orders them.
    labels: Vec<Labels>,
    /// `values[series][step]`: `None` where the window holds nothing.
    values: Vec<Vec<Option<f64>>>,
    /// Points in each step's windows, for the sample limit.
    points: Vec<usize>,
    /// Steps at which two series answer with the same labels.
    duplicate: Vec<bool>,
}

/// The answer of `c` at `t` from the whole-query table, computed at the
/// first step that asks; `None` when `c` is not of the shape this serves.
pub(super) fn answer(ev: &Evaluator, c: &Call, t: i64) -> Result<Option<Vec<Sample>>, EvalError> {
    let Some(step) = step_index(ev, t) else {
        return Ok(None);
    };
    let key = c as *const Call as usize;
    let cached = ev.steps.borrow().get(&key).cloned();
    let steps = match cached {
        Some(steps) => steps,
        None => {
            let Some(steps) = compute(ev, c)? else {
                return Ok(None);
            };
            let steps = Rc::new(steps);
            ev.steps.borrow_mut().insert(key, steps.clone());
            steps
        }
    };
    if steps.points.get(step).is_some_and(|&n| n > ev.max_samples) {
        ev.check_samples(steps.points[step])?;
    }
    if steps.duplicate.get(step).copied().unwrap_or(false) {
        return Err(EvalError::Execution(
            "vector cannot contain metrics with the same labelset".into(),
        ));
    }
    let out = steps
        .labels
        .iter()
        .zip(&steps.values)
        .filter_map(|(labels, values)| {
            Some(Sample {
                labels: labels.clone(),
                t,
                v: (*values.get(step)?)?,
            })
        })
        .collect();
    Ok(Some(out))
}

/// The index of `t` among the steps of the range query, when it is one.
fn step_index(ev: &Evaluator, t: i64) -> Option<usize> {
    if ev.step <= 0 || t < ev.start || t > ev.end || (t - ev.start) % ev.step != 0 {
        return None;
    }
    usize::try_from((t - ev.start) / ev.step).ok()
}

/// The range selector and constant parameter of `c`, when it is a range
/// function this module serves.
fn shape(c: &Call) -> Option<(&MatrixSelector, Option<f64>)> {
    let args = &c.args.args;
    let literal = |e: &Expr| match unparen(e) {
        Expr::NumberLiteral(n) => Some(n.val),
        _ => None,
    };
    let (range, scalar) = match c.func.name {
        "quantile_over_time" => (args.get(1)?, Some(literal(args.first()?)?)),
        "predict_linear" => (args.first()?, Some(literal(args.get(1)?)?)),
        // Both answer per window from all series together.
        "holt_winters" | "double_exponential_smoothing" | "absent_over_time" => return None,
        _ => (args.first()?, None),
    };
    match unparen(range) {
        Expr::MatrixSelector(ms) => Some((ms, scalar)),
        _ => None,
    }
}

fn compute(ev: &Evaluator, c: &Call) -> Result<Option<Steps>, EvalError> {
    let Some((ms, scalar)) = shape(c) else {
        return Ok(None);
    };
    let name = c.func.name;
    let vs = &ms.vs;
    let count = usize::try_from((ev.end - ev.start) / ev.step)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    // The table holds a cell a series and step: where that passes the
    // sample limit, the step-by-step path answers instead, holding one
    // step at a time (many short-lived series over a long range).
    let raw = ev.series_of(vs)?;
    let rolled = ev.rolled.get(&node_key(vs)).map_or(&[][..], Vec::as_slice);
    if (raw.len() + rolled.len()).saturating_mul(count) > ev.max_samples {
        return Ok(None);
    }
    let range = dur_ms(&ms.range);
    let at = at_ms(&vs.at, ev.start, ev.end);
    let offset = offset_ms(&vs.offset);
    // (t, window start, window end) of each step; the ends never go back.
    let windows: Vec<(i64, i64, i64)> = (0..count)
        .map(|i| {
            let t = ev.start + ev.step * i as i64;
            let end = at.unwrap_or(t).saturating_sub(offset);
            (t, end.saturating_sub(range), end)
        })
        .collect();
    // last_over_time only picks a sample, so it keeps the metric name.
    let labels_of = |labels: &Labels| {
        if name == "last_over_time" {
            labels.clone()
        } else {
            drop_name(labels.clone())
        }
    };
    let mut steps = Steps {
        labels: Vec::new(),
        values: Vec::new(),
        points: vec![0; count],
        duplicate: vec![false; count],
    };
    let mut points: Vec<(i64, f64)> = Vec::new();
    for s in raw {
        points.clear();
        points.extend(s.samples.iter().filter(|p| !is_stale(p.1)));
        let (mut lo, mut hi) = (0, 0);
        let mut values = Vec::with_capacity(count);
        for (i, &(t, start, end)) in windows.iter().enumerate() {
            while lo < points.len() && points[lo].0 < start {
                lo += 1;
            }
            hi = hi.max(lo);
            while hi < points.len() && points[hi].0 <= end {
                hi += 1;
            }
            steps.points[i] += hi - lo;
            let ra = RangeArg {
                series: Vec::new(),
                summaries: Vec::new(),
                start,
                end,
            };
            values.push(apply(name, &points[lo..hi], &ra, scalar, t));
        }
        steps.labels.push(labels_of(&s.labels));
        steps.values.push(values);
    }
    if !rolled.is_empty() && !is_summarisable(name) {
        // `summary::plan` reads buckets only for what they answer.
        return Err(EvalError::Execution(format!(
            "{name} cannot be answered from rollups"
        )));
    }
    for s in rolled {
        let mut values = Vec::with_capacity(count);
        for (i, &(_, start, end)) in windows.iter().enumerate() {
            let ra = RangeArg {
                series: Vec::new(),
                summaries: Vec::new(),
                start,
                end,
            };
            values.push(match summary::window(&s.buckets, start, end) {
                Some(summary) => {
                    steps.points[i] += 1;
                    apply_summary(name, &summary, &ra)
                }
                None => None,
            });
        }
        steps.labels.push(labels_of(&s.labels));
        steps.values.push(values);
    }
    mark_duplicates(&mut steps);
    Ok(Some(steps))
}

/// Flags the steps at which two series with equal output labels (e.g. two
/// metrics once `rate` dropped their names) both answer.
fn mark_duplicates(steps: &mut Steps) {
    let mut order: Vec<usize> = (0..steps.labels.len()).collect();
    order.sort_by(|&a, &b| steps.labels[a].cmp(&steps.labels[b]));
    for run in order.chunk_by(|&a, &b| steps.labels[a] == steps.labels[b]) {
        if run.len() < 2 {
            continue;
        }
        for (i, duplicate) in steps.duplicate.iter_mut().enumerate() {
            let answering = run
                .iter()
                .filter(|&&s| steps.values[s].get(i).is_some_and(Option::is_some))
                .count();
            *duplicate |= answering > 1;
        }
    }
}
