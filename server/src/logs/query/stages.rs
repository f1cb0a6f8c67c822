//! The stages after `|`:
//!
//! ```text
//! stage := "stats" agg ("," agg)* ["by" field ("," field)*] ["every" duration]
//!        | "sort" ["-"] column ("," ["-"] column)*
//!        | "limit" N
//!        | "fields" column ("," column)*
//! agg   := function "(" [field] ")"
//! ```
//!
//! Whether a column exists depends on the stages before it; that is checked when
//! the query is planned ([`super::tabular::check`]).

use super::{
    ast::{Aggregation, ColumnRef, Field, Function, SortKey, Stage, Stats},
    cursor::Cursor,
    QueryError, MAX_AGGREGATIONS, MAX_LIMIT, MAX_STAGES,
};

/// Parses `| stage | stage ...` up to the end of the query.
pub(crate) fn parse_stages(cursor: &mut Cursor) -> Result<Vec<Stage>, QueryError> {
    let mut stages = Vec::new();
    loop {
        cursor.skip_space();
        if cursor.at_end() {
            return Ok(stages);
        }
        if cursor.peek() != Some('|') {
            return Err(cursor.expected("\"|\" or end of query after the stage"));
        }
        let bar = cursor.position();
        cursor.bump();
        if stages.len() == MAX_STAGES {
            return Err(QueryError::new(
                bar,
                format!("too many stages: a query has at most {MAX_STAGES}"),
            ));
        }
        cursor.skip_space();
        let start = cursor.position();
        let stage = stage(cursor)?;
        if matches!(stage, Stage::Stats(_)) && stages.iter().any(|s| matches!(s, Stage::Stats(_))) {
            return Err(QueryError::new(
                start,
                "a query has at most one stats stage",
            ));
        }
        stages.push(stage);
    }
}

fn stage(cursor: &mut Cursor) -> Result<Stage, QueryError> {
    cursor.skip_space();
    let start = cursor.position();
    let name = read_word(cursor);
    let stage = match name.to_ascii_lowercase().as_str() {
        "" => return Err(cursor.expected("a stage (stats, sort, limit or fields) after \"|\"")),
        "stats" => Stage::Stats(stats(cursor)?),
        "sort" => Stage::Sort(list(cursor, "sort", sort_key)?),
        "limit" => Stage::Limit(limit(cursor)?),
        "fields" => Stage::Fields(list(cursor, "fields", column_ref)?),
        _ => {
            return Err(QueryError::new(
                start,
                format!("unknown stage \"{name}\": expected stats, sort, limit or fields"),
            ))
        }
    };
    Ok(stage)
}

fn stats(cursor: &mut Cursor) -> Result<Stats, QueryError> {
    let mut aggregations = Vec::new();
    loop {
        cursor.skip_space();
        let position = cursor.position();
        let aggregation = aggregation(cursor)?;
        if aggregations.len() == MAX_AGGREGATIONS {
            return Err(QueryError::new(
                position,
                format!("too many aggregations: a stats stage has at most {MAX_AGGREGATIONS}"),
            ));
        }
        aggregations.push(aggregation);
        cursor.skip_space();
        if cursor.peek() != Some(',') {
            break;
        }
        cursor.bump();
    }
    let mut stats = Stats {
        aggregations,
        by: Vec::new(),
        every: None,
    };
    loop {
        cursor.skip_space();
        let start = cursor.position();
        let word = read_word(cursor);
        match word.to_ascii_lowercase().as_str() {
            "by" if stats.by.is_empty() => {
                for column in list(cursor, "by", column_ref)? {
                    stats.by.push(field(&column.name, column.position)?);
                }
            }
            "every" if stats.every.is_none() => stats.every = Some(duration(cursor)?),
            _ => {
                cursor.rewind(start);
                return Ok(stats);
            }
        }
    }
}

fn aggregation(cursor: &mut Cursor) -> Result<Aggregation, QueryError> {
    let start = cursor.position();
    let name = read_word(cursor);
    if name.is_empty() {
        return Err(cursor.expected("an aggregation like count() or avg(duration_ms)"));
    }
    let function = Function::parse(&name).ok_or_else(|| {
        QueryError::new(
            start,
            format!(
                "unknown function \"{name}\": expected count, count_distinct, sum, avg, min, \
                 max, p50, p90, p95 or p99"
            ),
        )
    })?;
    cursor.skip_space();
    if cursor.peek() != Some('(') {
        return Err(cursor.expected(&format!("\"(\" after \"{name}\"")));
    }
    cursor.bump();
    cursor.skip_space();
    let field_start = cursor.position();
    let field_name = read_word(cursor);
    let field = if field_name.is_empty() {
        None
    } else {
        Some(field(&field_name, field_start)?)
    };
    cursor.skip_space();
    if cursor.peek() != Some(')') {
        return Err(cursor.expected(&format!("\")\" to close \"{name}(\"")));
    }
    cursor.bump();
    let numeric_only =
        matches!(function, Function::Sum | Function::Avg) || function.percentile().is_some();
    match (&field, function) {
        (Some(_), Function::Count) => Err(QueryError::new(
            field_start,
            "count() takes no field: use count_distinct(field) to count values",
        )),
        (None, Function::Count) => Ok(Aggregation { function, field }),
        (None, _) => Err(QueryError::new(
            field_start,
            format!("{name}() needs a field, e.g. {name}(duration_ms)"),
        )),
        (Some(Field::Ts | Field::Column(_)), _) if numeric_only => Err(QueryError::new(
            field_start,
            format!("{name}() needs numbers: use level or an attribute, not \"{field_name}\""),
        )),
        _ => Ok(Aggregation { function, field }),
    }
}

fn sort_key(cursor: &mut Cursor) -> Result<SortKey, QueryError> {
    let descending = cursor.peek() == Some('-');
    if descending {
        cursor.bump();
    }
    Ok(SortKey {
        column: column_ref(cursor)?,
        descending,
    })
}

/// A column name: a field name, or an aggregation like `count()` or `p95(x)`
/// (spaces inside the parentheses are dropped).
fn column_ref(cursor: &mut Cursor) -> Result<ColumnRef, QueryError> {
    let position = cursor.position();
    let mut name = read_word(cursor);
    if name.is_empty() {
        return Err(cursor.expected("a column name"));
    }
    if cursor.peek() == Some('(') {
        cursor.bump();
        cursor.skip_space();
        let inner = read_word(cursor);
        cursor.skip_space();
        if cursor.peek() != Some(')') {
            return Err(cursor.expected(&format!("\")\" to close \"{name}(\"")));
        }
        cursor.bump();
        name = format!("{name}({inner})");
    }
    Ok(ColumnRef { name, position })
}

/// A comma-separated list of at least one item, after the word `after`.
fn list<T>(
    cursor: &mut Cursor,
    after: &str,
    mut item: impl FnMut(&mut Cursor) -> Result<T, QueryError>,
) -> Result<Vec<T>, QueryError> {
    let mut items = Vec::new();
    loop {
        cursor.skip_space();
        match cursor.peek() {
            None | Some('|' | ',') => {
                let what = if items.is_empty() {
                    format!("a field after \"{after}\"")
                } else {
                    "a field after \",\"".to_owned()
                };
                return Err(cursor.expected(&what));
            }
            _ => items.push(item(cursor)?),
        }
        cursor.skip_space();
        if cursor.peek() != Some(',') {
            return Ok(items);
        }
        cursor.bump();
    }
}

fn limit(cursor: &mut Cursor) -> Result<u32, QueryError> {
    cursor.skip_space();
    let position = cursor.position();
    let digits = read_word(cursor);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        cursor.rewind(position);
        return Err(cursor.expected("a number of rows after \"limit\""));
    }
    match digits.parse::<u32>() {
        Ok(0) => Err(QueryError::new(position, "limit must be at least 1")),
        Ok(n) if n <= MAX_LIMIT => Ok(n),
        _ => Err(QueryError::new(
            position,
            format!("limit {digits} is too large: the limit is {MAX_LIMIT}"),
        )),
    }
}

/// `30s`, `5m`, `1h`, `1d`, in seconds.
fn duration(cursor: &mut Cursor) -> Result<i64, QueryError> {
    cursor.skip_space();
    let position = cursor.position();
    let word = read_word(cursor);
    let expected = || {
        QueryError::new(
            position,
            format!(
                "expected a duration after \"every\" like 30s, 5m, 1h or 1d, found {}",
                if word.is_empty() {
                    "end of stage".to_owned()
                } else {
                    format!("\"{word}\"")
                }
            ),
        )
    };
    let unit = match word.chars().last() {
        Some('s') => 1,
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86_400,
        _ => return Err(expected()),
    };
    let count: i64 = word[..word.len() - 1]
        .parse()
        .map_err(|_| expected())
        .and_then(|n| if n > 0 { Ok(n) } else { Err(expected()) })?;
    // A year of buckets is plenty, and keeps the arithmetic far from overflow.
    count
        .checked_mul(unit)
        .filter(|seconds| *seconds <= 366 * 86_400)
        .ok_or_else(|| QueryError::new(position, "the \"every\" duration is longer than a year"))
}

fn field(name: &str, position: usize) -> Result<Field, QueryError> {
    Field::parse(name).map_err(|message| QueryError::new(position, message))
}

/// Reads a stage word: characters allowed in names (which covers numbers and
/// durations).
fn read_word(cursor: &mut Cursor) -> String {
    cursor.read_name()
}
