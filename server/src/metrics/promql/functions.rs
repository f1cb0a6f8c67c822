//! Function calls: dispatch plus the functions over instant vectors and
//! scalars. Range-vector functions live in `range_fns.rs`.

use promql_parser::label::MatchOp;
use promql_parser::parser::{Call, Expr};

use super::eval::{unparen, Evaluator, Val};
use super::range_fns;
use super::value::{drop_name, get, has_duplicate_labels, set, Labels, Sample, METRIC_NAME};
use super::EvalError;

pub(super) fn call(ev: &Evaluator, c: &Call, t: i64) -> Result<Val, EvalError> {
    let name = c.func.name;
    if range_fns::is_range_fn(name) {
        return range_fns::call(ev, c, t);
    }
    let args: Vec<&Expr> = c.args.args.iter().map(|b| b.as_ref()).collect();
    let arg = |i: usize| -> Result<&Expr, EvalError> {
        args.get(i)
            .copied()
            .ok_or_else(|| EvalError::BadData(format!("missing argument {i} of {name}")))
    };
    let out = match name {
        "time" => return Ok(Val::Scalar(t as f64 / 1000.0)),
        "pi" => return Ok(Val::Scalar(std::f64::consts::PI)),
        "vector" => {
            let v = ev.eval_scalar(arg(0)?, t)?;
            return Ok(Val::Vector(vec![Sample {
                labels: Labels::new(),
                t,
                v,
            }]));
        }
        "scalar" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            return Ok(Val::Scalar(if v.len() == 1 { v[0].v } else { f64::NAN }));
        }
        "absent" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            if !v.is_empty() {
                return Ok(Val::Vector(Vec::new()));
            }
            return Ok(Val::Vector(vec![Sample {
                labels: absent_labels(arg(0)?),
                t,
                v: 1.0,
            }]));
        }
        "timestamp" => {
            // On a plain selector Prometheus reports the sample's own time,
            // elsewhere the evaluation time.
            let v = match unparen(arg(0)?) {
                Expr::VectorSelector(vs) => ev.vector_selector(vs, t, true)?,
                e => ev.eval_vector(e, t)?,
            };
            map_vec(v, t, |s| Some(s.t as f64 / 1000.0))
        }
        "sort" | "sort_desc" => {
            let mut v = ev.eval_vector(arg(0)?, t)?;
            sort_by_value(&mut v, name == "sort_desc");
            return Ok(Val::Vector(v));
        }
        "label_replace" => label_replace(ev, &args, t)?,
        "label_join" => label_join(ev, &args, t)?,
        "histogram_quantile" => {
            let q = ev.eval_scalar(arg(0)?, t)?;
            let v = ev.eval_vector(arg(1)?, t)?;
            super::histogram::histogram_quantile(q, v, t)
        }
        "clamp" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            let lo = ev.eval_scalar(arg(1)?, t)?;
            let hi = ev.eval_scalar(arg(2)?, t)?;
            if hi < lo {
                return Ok(Val::Vector(Vec::new()));
            }
            map_vec(v, t, |s| {
                Some(super::value::go_max(lo, super::value::go_min(hi, s.v)))
            })
        }
        "clamp_min" | "clamp_max" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            let b = ev.eval_scalar(arg(1)?, t)?;
            let is_min = name == "clamp_min";
            map_vec(v, t, |s| {
                Some(if is_min {
                    super::value::go_max(b, s.v)
                } else {
                    super::value::go_min(b, s.v)
                })
            })
        }
        "round" => {
            let v = ev.eval_vector(arg(0)?, t)?;
            let to = match args.get(1) {
                Some(e) => ev.eval_scalar(e, t)?,
                None => 1.0,
            };
            // Same formula as Prometheus: rounds half up, also for negatives.
            let inv = 1.0 / to;
            map_vec(v, t, |s| Some((s.v * inv + 0.5).floor() / inv))
        }
        _ if super::timefns::date_fn(name).is_some() => {
            let Some(f) = super::timefns::date_fn(name) else {
                return Ok(Val::Vector(Vec::new()));
            };
            match args.first() {
                None => vec![Sample {
                    labels: Labels::new(),
                    t,
                    v: f(t.div_euclid(1000)),
                }],
                Some(e) => map_vec(ev.eval_vector(e, t)?, t, |s| {
                    Some(super::timefns::secs(s.v).map(f).unwrap_or(f64::NAN))
                }),
            }
        }
        _ => match simple_fn(name) {
            Some(f) => {
                let v = ev.eval_vector(arg(0)?, t)?;
                map_vec(v, t, |s| Some(f(s.v)))
            }
            None => {
                return Err(EvalError::BadData(format!(
                    "function {name} is not supported yet"
                )))
            }
        },
    };
    if has_duplicate_labels(&out) {
        return Err(EvalError::Execution(
            "vector cannot contain metrics with the same labelset".into(),
        ));
    }
    Ok(Val::Vector(out))
}

/// Applies `f` to every element, dropping the metric name as Prometheus does
/// for functions that change a value's meaning.
fn map_vec(v: Vec<Sample>, t: i64, f: impl Fn(&Sample) -> Option<f64>) -> Vec<Sample> {
    v.into_iter()
        .filter_map(|s| {
            f(&s).map(|v| Sample {
                labels: drop_name(s.labels),
                t,
                v,
            })
        })
        .collect()
}

/// Element-wise math functions with no parameters.
fn simple_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "ln" => super::gomath::log,
        "log2" => super::gomath::log2,
        "log10" => super::gomath::log10,
        "sqrt" => f64::sqrt,
        "sgn" => |v: f64| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |v: f64| v * 180.0 / std::f64::consts::PI,
        "rad" => |v: f64| v * std::f64::consts::PI / 180.0,
        _ => return None,
    })
}

/// `sort`/`sort_desc`: NaN goes last in both directions, as in Prometheus
/// 2.42 (checked against it); the sort is stable like Go's for small inputs.
fn sort_by_value(v: &mut [Sample], desc: bool) {
    use std::cmp::Ordering;
    v.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if desc => b.v.partial_cmp(&a.v).unwrap_or(Ordering::Equal),
        _ => a.v.partial_cmp(&b.v).unwrap_or(Ordering::Equal),
    });
}

/// Labels of `absent()`'s answer: the equality matchers of a plain
/// selector, minus any label matched more than once or otherwise.
pub(super) fn absent_labels(e: &Expr) -> Labels {
    let ms = match e {
        Expr::VectorSelector(vs) => &vs.matchers.matchers,
        Expr::MatrixSelector(m) => &m.vs.matchers.matchers,
        _ => return Labels::new(),
    };
    let mut out = Labels::new();
    let mut ambiguous = Vec::new();
    for m in ms {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !out.iter().any(|(n, _)| *n == m.name) {
            set(&mut out, &m.name, &m.value);
        } else {
            ambiguous.push(m.name.clone());
        }
    }
    out.retain(|(n, _)| !ambiguous.contains(n));
    out
}

/// True for names Prometheus accepts as label names.
pub(super) fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn label_replace(ev: &Evaluator, args: &[&Expr], t: i64) -> Result<Vec<Sample>, EvalError> {
    if args.len() != 5 {
        return Err(EvalError::BadData("label_replace needs 5 arguments".into()));
    }
    let v = ev.eval_vector(args[0], t)?;
    let dst = ev.eval_string(args[1], t)?;
    let repl = ev.eval_string(args[2], t)?;
    let src = ev.eval_string(args[3], t)?;
    let re_src = ev.eval_string(args[4], t)?;
    let re = regex::Regex::new(&format!("^(?:{re_src})$")).map_err(|_| {
        EvalError::Execution(format!(
            "invalid regular expression in label_replace(): {re_src}"
        ))
    })?;
    if !valid_label_name(&dst) {
        return Err(EvalError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let mut out = Vec::with_capacity(v.len());
    for mut s in v {
        let src_val = get(&s.labels, &src).to_string();
        if let Some(caps) = re.captures(&src_val) {
            let mut res = String::new();
            caps.expand(&repl, &mut res);
            set(&mut s.labels, &dst, &res);
        }
        s.t = t;
        out.push(s);
    }
    Ok(out)
}

fn label_join(ev: &Evaluator, args: &[&Expr], t: i64) -> Result<Vec<Sample>, EvalError> {
    if args.len() < 3 {
        return Err(EvalError::BadData(
            "label_join needs at least 3 arguments".into(),
        ));
    }
    let v = ev.eval_vector(args[0], t)?;
    let dst = ev.eval_string(args[1], t)?;
    let sep = ev.eval_string(args[2], t)?;
    let mut srcs = Vec::new();
    for a in &args[3..] {
        let s = ev.eval_string(a, t)?;
        if !valid_label_name(&s) {
            return Err(EvalError::Execution(format!(
                "invalid source label name in label_join(): {s}"
            )));
        }
        srcs.push(s);
    }
    if !valid_label_name(&dst) {
        return Err(EvalError::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let mut out = Vec::with_capacity(v.len());
    for mut s in v {
        let joined: Vec<&str> = srcs.iter().map(|n| get(&s.labels, n)).collect();
        let joined = joined.join(&sep);
        set(&mut s.labels, &dst, &joined);
        s.t = t;
        out.push(s);
    }
    Ok(out)
}
