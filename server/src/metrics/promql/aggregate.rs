//! Aggregation operators (`sum by (..)`, `topk`, ...). Groups are emitted in
//! the order they are first seen and the arithmetic follows Prometheus 2.42
//! step by step (incremental mean, Welford variance, Go's heap for topk) so
//! that results and tie-breaking match.

use std::collections::HashMap;

use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_MAX, T_MIN, T_QUANTILE, T_STDDEV,
    T_STDVAR, T_SUM, T_TOPK,
};
use promql_parser::parser::{AggregateExpr, LabelModifier};

use super::eval::{Evaluator, Val};
use super::functions::valid_label_name;
use super::range_fns::quantile;
use super::value::{
    format_plain, format_value, keep_only, remove, set, Labels, Sample, METRIC_NAME,
};
use super::EvalError;

/// How one aggregation groups its inputs, kept between the steps of a
/// range query: a series' labels are the same shared copy at every step
/// ([`Labels::id`]), so its group is one lookup away instead of building
/// its grouping labels and hashing them at every step.
#[derive(Default)]
pub(super) struct Grouping {
    /// Input labels by id, with the slot of their group. The labels are
    /// held so that their address is not reused while it is a key.
    by_input: HashMap<usize, (Labels, usize)>,
    /// The grouping labels of each slot, and the slot of each.
    slots: Vec<Labels>,
    by_labels: HashMap<Labels, usize>,
}

impl Grouping {
    /// Starts over when the inputs are not the same from step to step (an
    /// operator below makes new labels at each), so that what is kept
    /// follows one step's inputs rather than the whole query's.
    fn bound(&mut self, inputs: usize) {
        let most = inputs.saturating_mul(2).saturating_add(1024);
        if self.by_input.len() > most || self.slots.len() > most {
            *self = Grouping::default();
        }
    }

    /// The slot of the group of `labels`, whose grouping labels `make` makes.
    fn slot(&mut self, labels: &Labels, make: impl Fn(&Labels) -> Labels) -> usize {
        if let Some(&(_, slot)) = self.by_input.get(&labels.id()) {
            return slot;
        }
        let slot = self.intern(make(labels));
        self.by_input.insert(labels.id(), (labels.clone(), slot));
        slot
    }

    /// The slot of the group with grouping labels `key`.
    fn intern(&mut self, key: Labels) -> usize {
        if let Some(&slot) = self.by_labels.get(&key) {
            return slot;
        }
        self.slots.push(key.clone());
        self.by_labels.insert(key, self.slots.len() - 1);
        self.slots.len() - 1
    }
}

/// Running state of one output group.
struct Group {
    labels: Labels,
    value: f64,
    mean: f64,
    count: f64,
    /// Samples kept by topk/bottomk (as a Go heap) or values for quantile.
    heap: Vec<Sample>,
}

pub(super) fn eval(ev: &Evaluator, a: &AggregateExpr, t: i64) -> Result<Val, EvalError> {
    let op = a.op.id();
    let mut k: usize = 0;
    let mut q = 0.0;
    let mut value_label = String::new();
    match op {
        T_TOPK | T_BOTTOMK => {
            let p = param(a)?;
            let f = ev.eval_scalar(p, t)?;
            if !(-9.223_372_036_854_775e18..=9.223_372_036_854_775e18).contains(&f) {
                return Err(EvalError::Execution(format!(
                    "Scalar value {} overflows int64",
                    format_value(f)
                )));
            }
            if f < 1.0 {
                return Ok(Val::Vector(Vec::new()));
            }
            k = f.min(usize::MAX as f64) as usize;
        }
        T_QUANTILE => q = ev.eval_scalar(param(a)?, t)?,
        T_COUNT_VALUES => {
            value_label = ev.eval_string(param(a)?, t)?;
            if !valid_label_name(&value_label) {
                return Err(EvalError::Execution(format!(
                    "invalid label name {value_label:?}"
                )));
            }
        }
        T_SUM | T_AVG | T_COUNT | T_MIN | T_MAX | T_GROUP | T_STDDEV | T_STDVAR => {}
        _ => {
            return Err(EvalError::BadData(format!(
                "aggregation {} is not supported",
                a.op
            )))
        }
    }
    let input = ev.eval_vector(&a.expr, t)?;
    let (without, mut names) = match &a.modifier {
        None => (false, Vec::new()),
        Some(LabelModifier::Include(l)) => (false, l.labels.clone()),
        Some(LabelModifier::Exclude(l)) => (true, l.labels.clone()),
    };
    if op == T_COUNT_VALUES && !without {
        names.push(value_label.clone());
    }
    if without {
        names.push(METRIC_NAME.to_string());
    }

    let grouping = |labels: &Labels| {
        if without {
            remove(labels, &names)
        } else {
            keep_only(labels, &names)
        }
    };
    let node = a as *const AggregateExpr as usize;
    let mut cache = ev.groupings.borrow_mut().remove(&node).unwrap_or_default();
    cache.bound(input.len());
    // The group of each slot at this step, in first-seen order.
    let mut position: Vec<usize> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for mut s in input {
        let slot = if op == T_COUNT_VALUES {
            set(&mut s.labels, &value_label, &format_plain(s.v));
            cache.intern(grouping(&s.labels))
        } else {
            cache.slot(&s.labels, grouping)
        };
        if position.len() <= slot {
            position.resize(slot + 1, usize::MAX);
        }
        let gi = position[slot];
        if gi == usize::MAX {
            position[slot] = groups.len();
            let key = cache.slots[slot].clone();
            let first_value = match op {
                T_STDDEV | T_STDVAR => 0.0,
                T_GROUP => 1.0,
                _ => s.v,
            };
            groups.push(Group {
                labels: key,
                value: first_value,
                mean: s.v,
                count: 1.0,
                heap: if matches!(op, T_TOPK | T_BOTTOMK | T_QUANTILE) {
                    vec![s]
                } else {
                    Vec::new()
                },
            });
            continue;
        }
        let g = &mut groups[gi];
        match op {
            T_SUM => g.value += s.v,
            T_AVG => {
                g.count += 1.0;
                if g.mean.is_infinite() {
                    // Inf stays Inf unless a NaN or an opposite Inf arrives.
                    if s.v.is_infinite() && (g.mean > 0.0) == (s.v > 0.0) {
                        continue;
                    }
                    if !s.v.is_infinite() && !s.v.is_nan() {
                        continue;
                    }
                }
                g.mean += s.v / g.count - g.mean / g.count;
            }
            T_COUNT | T_COUNT_VALUES => g.count += 1.0,
            T_MAX if g.value < s.v || g.value.is_nan() => g.value = s.v,
            T_MIN if g.value > s.v || g.value.is_nan() => g.value = s.v,
            T_STDDEV | T_STDVAR => {
                g.count += 1.0;
                let delta = s.v - g.mean;
                g.mean += delta / g.count;
                g.value += delta * (s.v - g.mean);
            }
            T_TOPK | T_BOTTOMK => {
                let top = op == T_TOPK;
                if g.heap.len() < k {
                    g.heap.push(s);
                    let n = g.heap.len();
                    heap_up(&mut g.heap, n - 1, top);
                } else if replaces(&g.heap[0], &s, top) {
                    g.heap[0] = s;
                    if k > 1 {
                        heap_fix0(&mut g.heap, top);
                    }
                }
            }
            T_QUANTILE => g.heap.push(s),
            _ => {}
        }
    }

    ev.groupings.borrow_mut().insert(node, cache);
    let mut out = Vec::new();
    for mut g in groups {
        let v = match op {
            T_AVG => g.mean,
            T_COUNT | T_COUNT_VALUES => g.count,
            T_STDVAR => g.value / g.count,
            T_STDDEV => (g.value / g.count).sqrt(),
            T_QUANTILE => {
                let mut vals: Vec<f64> = g.heap.iter().map(|s| s.v).collect();
                quantile(q, &mut vals)
            }
            T_TOPK | T_BOTTOMK => {
                let top = op == T_TOPK;
                // Go sorts the heap with sort.Reverse; for small groups
                // that is a stable insertion sort, which this matches.
                g.heap.sort_by(|a, b| {
                    if less(b, a, top) {
                        std::cmp::Ordering::Less
                    } else if less(a, b, top) {
                        std::cmp::Ordering::Greater
                    } else {
                        std::cmp::Ordering::Equal
                    }
                });
                for s in g.heap {
                    out.push(Sample {
                        labels: s.labels,
                        t,
                        v: s.v,
                    });
                }
                continue;
            }
            _ => g.value,
        };
        out.push(Sample {
            labels: g.labels,
            t,
            v,
        });
    }
    Ok(Val::Vector(out))
}

fn param(a: &AggregateExpr) -> Result<&promql_parser::parser::Expr, EvalError> {
    a.param
        .as_deref()
        .ok_or_else(|| EvalError::BadData(format!("{} needs a parameter", a.op)))
}

/// Heap order: topk keeps the smallest kept value on top (NaN smallest);
/// bottomk the largest (NaN still "smallest" so it is evicted first).
fn less(a: &Sample, b: &Sample, top: bool) -> bool {
    if top {
        a.v < b.v || (a.v.is_nan() && !b.v.is_nan())
    } else {
        a.v > b.v || (a.v.is_nan() && !b.v.is_nan())
    }
}

/// Whether a new sample evicts the heap's top element.
fn replaces(top_el: &Sample, s: &Sample, top: bool) -> bool {
    let (h, v) = (top_el.v, s.v);
    let nan_rule = h.is_nan() && !v.is_nan();
    if top {
        h < v || nan_rule
    } else {
        h > v || nan_rule
    }
}

/// Go's `container/heap` up-move.
fn heap_up(h: &mut [Sample], mut j: usize, top: bool) {
    while j > 0 {
        let i = (j - 1) / 2;
        if !less(&h[j], &h[i], top) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

/// Go's `heap.Fix(h, 0)`: only a down-move can apply at the root.
fn heap_fix0(h: &mut [Sample], top: bool) {
    let n = h.len();
    let mut i = 0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let mut j = j1;
        if j1 + 1 < n && less(&h[j1 + 1], &h[j1], top) {
            j = j1 + 1;
        }
        if !less(&h[j], &h[i], top) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
}
