//! SQL expressions for fields: an attribute's JSON value, its text form and its
//! numeric form, and a level's name. Attribute paths travel as binds (`text[]` for
//! the nested form, `text` for the flat dotted key).

use super::{
    ast::AttributePath,
    fragment::{Bind, Fragment},
};

/// The text shape `numeric` accepts, as [`super::filter::is_number`] checks it; a
/// string that matches casts without error.
const NUMERIC_TEXT: &str = "'^[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]{1,3})?$'";

/// The level names, indexed by level number.
const LEVEL_NAMES: &str = "(array['trace','debug','info','warn','error','fatal'])";

/// The attribute's JSON value, nested (`attributes #> '{a,b}'`) or else flat
/// (`attributes -> 'a.b'`); SQL null when missing.
pub(crate) fn attribute_value(path: &AttributePath) -> Fragment {
    let mut sql = Fragment::sql("coalesce(attributes #> ");
    sql.bind(Bind::TextArray(path.segments.clone()))
        .push(", attributes -> ")
        .bind(Bind::Text(path.dotted()))
        .push(")");
    sql
}

/// The attribute as text: a string's contents, a number's digits (`42` and `"42"`
/// both give `42`), other JSON as JSON text.
pub(crate) fn attribute_text(path: &AttributePath) -> Fragment {
    attribute_value(path).wrap("(", " #>> '{}')")
}

/// The attribute as a `numeric`: JSON numbers and numeric strings; null for
/// anything else, so comparisons and aggregates skip it instead of failing.
pub(crate) fn attribute_number(path: &AttributePath) -> Fragment {
    let mut sql = Fragment::sql("(case when ");
    sql.append(attribute_text(path))
        .push(" ~ ")
        .push(NUMERIC_TEXT)
        .push(" then ")
        .append(attribute_text(path))
        .push("::numeric end)");
    sql
}

/// The level name for a level-number expression.
pub(crate) fn level_name(number: Fragment) -> Fragment {
    let mut sql = Fragment::sql(LEVEL_NAMES);
    sql.append(number.wrap("[", "]"));
    sql
}

/// An RFC 3339 UTC string for a timestamptz expression.
pub(crate) fn rfc3339(time: Fragment) -> Fragment {
    time.wrap(
        "to_char(",
        " at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    )
}
