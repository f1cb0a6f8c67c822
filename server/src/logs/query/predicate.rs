//! Filters as SQL conditions. Every condition is true or false, never null (a
//! missing attribute or trace id does not match, and does match under `NOT`), so
//! `NOT` means exactly "the lines the term does not match".

use crate::query::like_escape;

use super::{
    ast::{AttributePath, Column, Filter, Level, Match, Regex, Term},
    expression::{attribute_number, attribute_text, attribute_value, level_name},
    fragment::{Bind, Fragment},
};

/// The SQL condition for `filter`.
pub(crate) fn filter_sql(filter: &Filter) -> Fragment {
    match filter {
        Filter::And(parts) => combine(parts, " and "),
        Filter::Or(parts) => combine(parts, " or "),
        Filter::Not(inner) => filter_sql(inner).wrap("(not ", ")"),
        Filter::Term(term) => term_sql(term),
    }
}

fn combine(parts: &[Filter], operator: &str) -> Fragment {
    let mut sql = Fragment::new();
    sql.join(parts.iter().map(filter_sql).collect(), operator);
    sql.wrap("(", ")")
}

fn term_sql(term: &Term) -> Fragment {
    match term {
        Term::Text(text) => contains(Fragment::sql("message"), text),
        Term::Regex(regex) => regex_match(Fragment::sql("message"), regex),
        Term::Level(matcher) => level_sql(matcher),
        Term::Column(column, matcher) => column_sql(*column, matcher),
        Term::Attribute(path, matcher) => attribute_sql(path, matcher),
    }
}

/// `expr ILIKE '%text%'`: a case-insensitive substring.
fn contains(expr: Fragment, text: &str) -> Fragment {
    let mut sql = expr.wrap("(", " ilike ");
    sql.bind(Bind::Text(format!("%{}%", like_escape(text))))
        .push(")");
    sql
}

fn regex_match(expr: Fragment, regex: &Regex) -> Fragment {
    let operator = if regex.case_insensitive {
        " ~* "
    } else {
        " ~ "
    };
    let mut sql = expr.wrap("(", operator);
    sql.bind(Bind::Text(regex.pattern.clone())).push(")");
    sql
}

/// `expr <operator> $value`.
fn binary(expr: Fragment, operator: &str, value: Bind) -> Fragment {
    let mut sql = expr.wrap("(", &format!(" {operator} "));
    sql.bind(value).push(")");
    sql
}

fn level_sql(matcher: &Match<Level>) -> Fragment {
    let level = || Fragment::sql("level");
    let number = |l: &Level| Bind::SmallInt(l.as_i16());
    match matcher {
        Match::Equals(l) => binary(level(), "=", number(l)),
        Match::NotEquals(l) => binary(level(), "<>", number(l)),
        Match::Compare(comparison, l) => binary(level(), comparison.sql(), number(l)),
        Match::Exists => Fragment::sql("true"),
        Match::Prefix(prefix) => {
            let levels = Level::ALL
                .into_iter()
                .filter(|l| l.as_str().starts_with(prefix.as_str()))
                .map(Level::as_i16)
                .collect();
            let mut sql = Fragment::sql("(level = any(");
            sql.bind(Bind::SmallIntArray(levels)).push("))");
            sql
        }
        Match::Regex(regex) => regex_match(level_name(level()), regex),
    }
}

fn column_sql(column: Column, matcher: &Match<String>) -> Fragment {
    let expr = || Fragment::sql(column.name());
    let text = |value: &String| Bind::Text(value.clone());
    let condition = match (column, matcher) {
        (Column::Message, Match::Equals(value)) => contains(expr(), value),
        (Column::Message, Match::NotEquals(value)) => contains(expr(), value).wrap("(not ", ")"),
        (_, Match::Equals(value)) => binary(expr(), "=", text(value)),
        (_, Match::NotEquals(value)) => binary(expr(), "is distinct from", text(value)),
        (_, Match::Compare(comparison, value)) => binary(expr(), comparison.sql(), text(value)),
        (_, Match::Exists) => binary(expr(), "<>", Bind::Text(String::new())),
        (Column::Message, Match::Prefix(prefix)) => binary(
            expr(),
            "ilike",
            Bind::Text(format!("{}%", like_escape(prefix))),
        ),
        (_, Match::Prefix(prefix)) => binary(
            expr(),
            "like",
            Bind::Text(format!("{}%", like_escape(prefix))),
        ),
        (_, Match::Regex(regex)) => regex_match(expr(), regex),
    };
    if column.nullable() && !matches!(matcher, Match::NotEquals(_)) {
        // `col is not null and ...` rather than coalesce: keeps the condition
        // usable by the partial index on trace_id.
        return condition.wrap(&format!("({} is not null and ", column.name()), ")");
    }
    condition
}

fn attribute_sql(path: &AttributePath, matcher: &Match<String>) -> Fragment {
    let text = |value: &String| Bind::Text(value.clone());
    let condition = match matcher {
        Match::Equals(value) => binary(attribute_text(path), "=", text(value)),
        Match::NotEquals(value) => {
            return binary(attribute_text(path), "is distinct from", text(value))
        }
        Match::Compare(comparison, number) => {
            let mut sql = attribute_number(path).wrap("(", &format!(" {} ", comparison.sql()));
            sql.bind(text(number)).push("::numeric)");
            sql
        }
        Match::Exists => return attribute_value(path).wrap("(", " is not null)"),
        Match::Prefix(prefix) => binary(
            attribute_text(path),
            "like",
            Bind::Text(format!("{}%", like_escape(prefix))),
        ),
        Match::Regex(regex) => regex_match(attribute_text(path), regex),
    };
    condition.wrap("coalesce(", ", false)")
}
