//! Binary operators: arithmetic, comparisons (filtering or `bool`) and set
//! operators, between scalars and/or instant vectors, with Prometheus 2.42's
//! vector matching (`on`/`ignoring`, `group_left`/`group_right`) and its
//! error messages for ambiguous matches.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use promql_parser::parser::token::{
    T_ADD, T_ATAN2, T_DIV, T_EQLC, T_GTE, T_GTR, T_LAND, T_LOR, T_LSS, T_LTE, T_LUNLESS, T_MOD,
    T_MUL, T_NEQ, T_POW, T_SUB,
};
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};

use super::eval::{Evaluator, Val};
use super::value::{
    drop_name, get, has_duplicate_labels, keep_only, labels_to_string, remove, set, Labels, Sample,
    METRIC_NAME,
};
use super::EvalError;

/// How two vectors are matched, resolved from the optional modifier.
struct Matching {
    card: VectorMatchCardinality,
    on: bool,
    labels: Vec<String>,
}

impl Matching {
    /// Whether label `name` takes part in matching: `on` uses the listed
    /// labels, `ignoring` (and no modifier) all others but the metric name.
    fn uses(&self, name: &str) -> bool {
        if self.on {
            self.labels.iter().any(|l| l == name)
        } else {
            name != METRIC_NAME && !self.labels.iter().any(|l| l == name)
        }
    }

    /// The matching labels themselves (for error messages).
    fn signature(&self, l: &Labels) -> Labels {
        l.iter().filter(|(n, _)| self.uses(n)).cloned().collect()
    }

    /// A hash of the matching labels. Like Prometheus (which hashes with
    /// xxhash) this trades a negligible collision risk for not building a
    /// label set per sample and step.
    fn sig(&self, l: &Labels) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (n, v) in l.iter().filter(|(n, _)| self.uses(n)) {
            n.hash(&mut h);
            v.hash(&mut h);
        }
        h.finish()
    }
}

pub(super) fn eval(ev: &Evaluator, b: &BinaryExpr, t: i64) -> Result<Val, EvalError> {
    let op = b.op.id();
    let return_bool = b.return_bool();
    if let Some(m) = &b.modifier {
        if m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some() {
            return Err(EvalError::BadData(
                "fill modifiers are not supported by Prometheus 2.42".into(),
            ));
        }
    }
    let lhs = ev.eval(&b.lhs, t)?;
    let rhs = ev.eval(&b.rhs, t)?;
    let out = match (lhs, rhs) {
        (Val::Scalar(l), Val::Scalar(r)) => {
            let (v, keep) = elem_op(op, l, r)?;
            // Scalar comparisons always answer 0 or 1 (the parser demands `bool`).
            return Ok(Val::Scalar(if is_comparison(op) {
                if keep {
                    1.0
                } else {
                    0.0
                }
            } else {
                v
            }));
        }
        (Val::Vector(v), Val::Scalar(s)) => vector_scalar(op, v, s, false, return_bool, t)?,
        (Val::Scalar(s), Val::Vector(v)) => vector_scalar(op, v, s, true, return_bool, t)?,
        (Val::Vector(l), Val::Vector(r)) => {
            let m = matching(b, op);
            match op {
                T_LAND => set_op(&m, l, r, SetOp::And),
                T_LOR => set_op(&m, l, r, SetOp::Or),
                T_LUNLESS => set_op(&m, l, r, SetOp::Unless),
                _ => vector_vector(op, &m, l, r, return_bool, t)?,
            }
        }
        _ => {
            return Err(EvalError::BadData(
                "binary operators need scalar or instant vector operands".into(),
            ))
        }
    };
    if has_duplicate_labels(&out) {
        return Err(EvalError::Execution(
            "vector cannot contain metrics with the same labelset".into(),
        ));
    }
    Ok(Val::Vector(out))
}

fn is_comparison(op: u16) -> bool {
    matches!(op, T_EQLC | T_NEQ | T_GTR | T_LSS | T_GTE | T_LTE)
}

/// Operators whose result is a new quantity, so the metric name goes.
fn drops_name(op: u16) -> bool {
    matches!(op, T_ADD | T_SUB | T_MUL | T_DIV | T_MOD | T_POW | T_ATAN2)
}

/// Go's `vectorElemBinop`: the value and, for comparisons, whether to keep it.
fn elem_op(op: u16, l: f64, r: f64) -> Result<(f64, bool), EvalError> {
    Ok(match op {
        T_ADD => (l + r, true),
        T_SUB => (l - r, true),
        T_MUL => (l * r, true),
        T_DIV => (l / r, true),
        T_POW => (l.powf(r), true),
        // Rust's `%` on floats is C's fmod, the same as Go's math.Mod.
        T_MOD => (l % r, true),
        T_ATAN2 => (l.atan2(r), true),
        T_EQLC => (l, l == r),
        T_NEQ => (l, l != r),
        T_GTR => (l, l > r),
        T_LSS => (l, l < r),
        T_GTE => (l, l >= r),
        T_LTE => (l, l <= r),
        _ => {
            return Err(EvalError::BadData(format!(
                "operator {} is not supported here",
                promql_parser::parser::token::TokenType::new(op)
            )))
        }
    })
}

fn vector_scalar(
    op: u16,
    v: Vec<Sample>,
    s: f64,
    swap: bool,
    return_bool: bool,
    t: i64,
) -> Result<Vec<Sample>, EvalError> {
    let mut out = Vec::with_capacity(v.len());
    for mut el in v {
        let (l, r) = if swap { (s, el.v) } else { (el.v, s) };
        let (mut value, mut keep) = elem_op(op, l, r)?;
        // A comparison filters but keeps the vector's own value.
        if is_comparison(op) && swap {
            value = r;
        }
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
            keep = true;
        }
        if keep {
            if drops_name(op) || return_bool {
                el.labels = drop_name(el.labels);
            }
            el.v = value;
            el.t = t;
            out.push(el);
        }
    }
    Ok(out)
}

fn matching(b: &BinaryExpr, op: u16) -> Matching {
    let set_op = matches!(op, T_LAND | T_LOR | T_LUNLESS);
    let (card, lm) = match &b.modifier {
        None => (VectorMatchCardinality::OneToOne, None),
        Some(m) => (m.card.clone(), m.matching.clone()),
    };
    let card = if set_op {
        VectorMatchCardinality::ManyToMany
    } else {
        card
    };
    let (on, labels) = match lm {
        Some(LabelModifier::Include(l)) => (true, l.labels),
        Some(LabelModifier::Exclude(l)) => (false, l.labels),
        None => (false, Vec::new()),
    };
    Matching { card, on, labels }
}

enum SetOp {
    And,
    Or,
    Unless,
}

/// `and`/`or`/`unless`: filter by matching signature, labels untouched.
fn set_op(m: &Matching, l: Vec<Sample>, r: Vec<Sample>, op: SetOp) -> Vec<Sample> {
    match op {
        SetOp::And | SetOp::Unless => {
            let rs: HashSet<u64> = r.iter().map(|s| m.sig(&s.labels)).collect();
            let want = matches!(op, SetOp::And);
            l.into_iter()
                .filter(|s| rs.contains(&m.sig(&s.labels)) == want)
                .collect()
        }
        SetOp::Or => {
            let ls: HashSet<u64> = l.iter().map(|s| m.sig(&s.labels)).collect();
            let mut out = l;
            out.extend(r.into_iter().filter(|s| !ls.contains(&m.sig(&s.labels))));
            out
        }
    }
}

/// Arithmetic/comparison between two vectors, after Go's `VectorBinop`:
/// the "one" side must be unique per signature, and each result must be
/// unique, otherwise the match is ambiguous and the query fails.
fn vector_vector(
    op: u16,
    m: &Matching,
    lhs: Vec<Sample>,
    rhs: Vec<Sample>,
    return_bool: bool,
    t: i64,
) -> Result<Vec<Sample>, EvalError> {
    let one_to_many = matches!(m.card, VectorMatchCardinality::OneToMany(_));
    let include: Vec<String> = match &m.card {
        VectorMatchCardinality::ManyToOne(l) | VectorMatchCardinality::OneToMany(l) => {
            l.labels.clone()
        }
        _ => Vec::new(),
    };
    // Make the right side always the "one" side.
    let (lhs, rhs) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let mut right: HashMap<u64, &Sample> = HashMap::new();
    for rs in &rhs {
        let sig = m.sig(&rs.labels);
        if let Some(dup) = right.get(&sig) {
            let side = if one_to_many { "left" } else { "right" };
            return Err(EvalError::Execution(format!(
                "found duplicate series for the match group {} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                labels_to_string(&m.signature(&rs.labels)),
                labels_to_string(&rs.labels),
                labels_to_string(&dup.labels)
            )));
        }
        right.insert(sig, rs);
    }
    let one_to_one = matches!(m.card, VectorMatchCardinality::OneToOne);
    let mut matched: HashMap<u64, HashSet<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for ls in &lhs {
        let sig = m.sig(&ls.labels);
        let Some(rs) = right.get(&sig) else {
            continue;
        };
        let (vl, vr) = if one_to_many {
            (rs.v, ls.v)
        } else {
            (ls.v, rs.v)
        };
        let (mut value, keep) = elem_op(op, vl, vr)?;
        if return_bool {
            value = if keep { 1.0 } else { 0.0 };
        } else if !keep {
            continue;
        }
        let mut metric = result_metric(&ls.labels, &rs.labels, op, m, one_to_one, &include);
        if return_bool {
            metric = drop_name(metric);
        }
        let seen = matched.entry(sig).or_default();
        if one_to_one {
            if !seen.is_empty() {
                return Err(EvalError::Execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                ));
            }
            seen.insert(Labels::new());
        } else if !seen.insert(metric.clone()) {
            return Err(EvalError::Execution(
                "multiple matches for labels: grouping labels must ensure unique matches".into(),
            ));
        }
        out.push(Sample {
            labels: metric,
            t,
            v: value,
        });
    }
    Ok(out)
}

/// Go's `resultMetric`: start from the "many" side, drop the name for
/// arithmetic, reduce to the matching labels for one-to-one, then copy the
/// `group_x(...)` labels from the "one" side.
fn result_metric(
    l: &Labels,
    r: &Labels,
    op: u16,
    m: &Matching,
    one_to_one: bool,
    include: &[String],
) -> Labels {
    let mut out = l.clone();
    if drops_name(op) {
        out = drop_name(out);
    }
    if one_to_one {
        out = if m.on {
            keep_only(&out, &m.labels)
        } else {
            remove(&out, &m.labels)
        };
    }
    for name in include {
        let v = get(r, name).to_string();
        set(&mut out, name, &v);
    }
    out
}
