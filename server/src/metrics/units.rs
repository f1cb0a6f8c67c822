//! The unit of a PromQL expression's values, for chart axes: from the
//! metrics' metadata (`UNIT`, as OpenMetrics and OTLP send it) or, failing
//! that, from the name's suffix as Prometheus's naming conventions write
//! them (`_seconds`, `_bytes`, `_ratio`...), carried through the functions,
//! aggregations and operators that keep it. `rate(x_bytes_total[5m])` is in
//! `bytes/s`, `histogram_quantile(0.95, rate(x_seconds_bucket[5m]))` in
//! `seconds`, a ratio of two rates has none.

use std::collections::HashMap;

use promql_parser::label::MatchOp;
use promql_parser::parser::{token, Expr, VectorSelector};

/// Units Prometheus's conventions put at the end of a name.
const SUFFIXES: &[&str] = &[
    "seconds",
    "milliseconds",
    "bytes",
    "ratio",
    "percent",
    "celsius",
    "meters",
    "volts",
    "amperes",
    "joules",
    "grams",
    "hertz",
];

/// The metric name a selector reads, when it names one.
fn name_of(vs: &VectorSelector) -> Option<&str> {
    vs.name.as_deref().or_else(|| {
        vs.matchers
            .matchers
            .iter()
            .find(|m| m.name == "__name__" && matches!(m.op, MatchOp::Equal))
            .map(|m| m.value.as_str())
    })
}

/// Every metric name the expression's selectors name.
pub fn metric_names(expr: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    walk(expr, &mut |vs| {
        if let Some(name) = name_of(vs) {
            out.push(name.to_owned());
        }
    });
    out.sort();
    out.dedup();
    out
}

fn walk(expr: &Expr, f: &mut dyn FnMut(&VectorSelector)) {
    match expr {
        Expr::VectorSelector(vs) => f(vs),
        Expr::MatrixSelector(ms) => f(&ms.vs),
        Expr::Subquery(sq) => walk(&sq.expr, f),
        Expr::Aggregate(a) => walk(&a.expr, f),
        Expr::Unary(u) => walk(&u.expr, f),
        Expr::Binary(b) => {
            walk(&b.lhs, f);
            walk(&b.rhs, f);
        }
        Expr::Paren(p) => walk(&p.expr, f),
        Expr::Call(c) => c.args.args.iter().for_each(|a| walk(a, f)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

/// The unit of one metric: its metadata's, else its name's suffix. The
/// series of a histogram or summary other than `_sum` count observations.
fn metric_unit(name: &str, metadata: &HashMap<String, String>) -> Option<String> {
    if name.ends_with("_bucket") || name.ends_with("_count") {
        return None;
    }
    let family = name
        .strip_suffix("_total")
        .or_else(|| name.strip_suffix("_sum"))
        .unwrap_or(name);
    if let Some(unit) = metadata
        .get(name)
        .or_else(|| metadata.get(family))
        .filter(|u| !u.is_empty())
    {
        return Some(unit.clone());
    }
    SUFFIXES
        .iter()
        .find(|s| family.ends_with(&format!("_{s}")))
        .map(|s| s.to_string())
}

/// The unit of `expr`'s values, `metadata` giving the known metrics' units.
pub fn unit_of(expr: &Expr, metadata: &HashMap<String, String>) -> Option<String> {
    match expr {
        Expr::VectorSelector(vs) => metric_unit(name_of(vs)?, metadata),
        Expr::MatrixSelector(ms) => metric_unit(name_of(&ms.vs)?, metadata),
        Expr::Subquery(sq) => unit_of(&sq.expr, metadata),
        Expr::Paren(p) => unit_of(&p.expr, metadata),
        Expr::Unary(u) => unit_of(&u.expr, metadata),
        Expr::Aggregate(a) => match a.op.id() {
            token::T_COUNT | token::T_COUNT_VALUES | token::T_GROUP => None,
            _ => unit_of(&a.expr, metadata),
        },
        Expr::Call(c) => {
            let arg = |i: usize| c.args.args.get(i).map(|a| a.as_ref());
            match c.func.name {
                "rate" | "irate" | "deriv" => per_second(unit_of(arg(0)?, metadata)?),
                "histogram_quantile" => {
                    // The buckets' family: `x_seconds_bucket` is in seconds.
                    let mut family = None;
                    walk(arg(1)?, &mut |vs| {
                        if let Some(base) = name_of(vs).and_then(|n| n.strip_suffix("_bucket")) {
                            family.get_or_insert_with(|| base.to_owned());
                        }
                    });
                    metric_unit(&family?, metadata)
                }
                "quantile_over_time" => unit_of(arg(1)?, metadata),
                "count_over_time" | "changes" | "resets" | "present_over_time"
                | "absent_over_time" | "absent" | "vector" | "scalar" | "time" | "timestamp"
                | "sgn" | "exp" | "ln" | "log2" | "log10" | "sqrt" => None,
                _ => unit_of(arg(0)?, metadata),
            }
        }
        Expr::Binary(b) => {
            let (l, r) = (unit_of(&b.lhs, metadata), unit_of(&b.rhs, metadata));
            let number = |e: &Expr| matches!(e, Expr::NumberLiteral(_));
            match b.op.id() {
                token::T_ADD | token::T_SUB if l == r => l,
                token::T_ADD | token::T_SUB | token::T_MUL | token::T_DIV if number(&b.rhs) => l,
                token::T_ADD | token::T_SUB | token::T_MUL if number(&b.lhs) => r,
                token::T_EQLC
                | token::T_NEQ
                | token::T_GTR
                | token::T_LSS
                | token::T_GTE
                | token::T_LTE
                    if !b.return_bool() =>
                {
                    l
                }
                token::T_LAND | token::T_LUNLESS => l,
                token::T_LOR if l == r => l,
                _ => None,
            }
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => None,
    }
}

fn per_second(unit: String) -> Option<String> {
    // A rate of seconds is a share of time: seconds per second.
    Some(format!("{unit}/s"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(q: &str) -> Option<String> {
        let e = promql_parser::parser::parse(q).unwrap();
        let metadata = HashMap::from([("app_queue_depth".to_owned(), "requests".to_owned())]);
        unit_of(&e, &metadata)
    }

    #[test]
    fn units_come_from_names_and_metadata_through_the_expression() {
        assert_eq!(unit("up"), None);
        assert_eq!(unit("node_memory_MemFree_bytes"), Some("bytes".into()));
        assert_eq!(
            unit("rate(node_network_receive_bytes_total[5m])"),
            Some("bytes/s".into())
        );
        assert_eq!(
            unit("histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"),
            Some("seconds".into())
        );
        assert_eq!(unit("rate(http_request_duration_seconds_count[5m])"), None);
        assert_eq!(
            unit("sum by (job) (app_queue_depth)"),
            Some("requests".into())
        );
        assert_eq!(unit("count(node_memory_MemFree_bytes)"), None);
        assert_eq!(
            unit("rate(a_bytes_total[5m]) / rate(b_bytes_total[5m])"),
            None
        );
        assert_eq!(
            unit("node_memory_MemFree_bytes / 1024"),
            Some("bytes".into())
        );
        assert_eq!(unit("x_seconds > 0.5"), Some("seconds".into()));
        assert_eq!(unit("x_seconds > bool 0.5"), None);
        assert_eq!(unit("cache_hit_ratio"), Some("ratio".into()));
        assert_eq!(
            metric_names(&promql_parser::parser::parse("a / on(x) rate(b[5m])").unwrap()),
            vec!["a".to_owned(), "b".to_owned()]
        );
    }
}
