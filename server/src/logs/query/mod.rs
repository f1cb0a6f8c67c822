//! The log search language: `service:api level:>=warn "timed out" | stats count() by host`.
//!
//! A query is a filter (terms joined by implicit AND, `OR`, `NOT`/`-` and
//! parentheses) optionally followed by stages after `|` (`stats`, `sort`, `limit`,
//! `fields`). [`parse`] turns text into a [`LogQuery`]; [`LogQuery::push_filter`]
//! appends its filter to a `where` clause; [`tabular_sql`] builds the whole
//! statement for a query with stages. Every value and every field name reaches
//! PostgreSQL as a bind parameter, never as SQL text.
//!
//! The files follow the query's path: `cursor` scans characters, `filter` and
//! `stages` parse, `pattern` checks regexes, [`ast`] is the parsed form,
//! `predicate` turns terms into SQL (with `expression` for fields) and `tabular`
//! turns stages into SQL, both through `fragment`, SQL text with its binds.

pub mod ast;
pub mod counted;
mod cursor;
mod expression;
mod filter;
mod fragment;
mod pattern;
mod predicate;
mod stages;
mod tabular;

#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod sql_tests;

use chrono::{DateTime, Utc};

pub use ast::{
    Aggregation, AttributePath, Column, ColumnRef, Comparison, Field, Filter, Function, Level,
    Match, Regex, SortKey, Stage, Stats, Term,
};
pub use tabular::{tabular_sql, Tabular};

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 4096;
/// The most terms (words, phrases, regexes, `field:value`) in one filter.
pub const MAX_TERMS: usize = 64;
/// The most aggregations in one `stats` stage.
pub const MAX_AGGREGATIONS: usize = 10;
/// The largest `limit`.
pub const MAX_LIMIT: u32 = 10_000;
/// The longest regex, in characters.
pub const MAX_REGEX_CHARS: usize = 512;
/// The most stages after the filter.
pub const MAX_STAGES: usize = 16;
/// The most segments in a dotted attribute path.
pub const MAX_PATH_SEGMENTS: usize = 10;
/// How many rows a tabular query returns when it has no `limit` stage.
pub const DEFAULT_LIMIT: u32 = 1000;

/// A parsed query: what lines to match and what to do with them.
#[derive(Debug, Clone, PartialEq)]
pub struct LogQuery {
    /// Which lines match; `None` matches every line.
    pub filter: Option<Filter>,
    /// The stages after `|`, in order.
    pub stages: Vec<Stage>,
}

/// Why a query was refused: where (a 0-based character offset) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {position}: {message}")]
pub struct QueryError {
    /// The 0-based character offset into the query.
    pub position: usize,
    /// What went wrong, in words a user understands.
    pub message: String,
}

impl QueryError {
    /// An error at `position`.
    pub fn new(position: usize, message: impl Into<String>) -> QueryError {
        QueryError {
            position,
            message: message.into(),
        }
    }
}

/// Where a query runs: one project, a half-open time range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The project whose lines are searched.
    pub project_id: i64,
    /// The first instant included.
    pub from: DateTime<Utc>,
    /// The first instant excluded.
    pub to: DateTime<Utc>,
}

/// Parses a query. Stage references (`sort count()`, `fields host`) are checked
/// here too, so a query that parses also builds.
pub fn parse(input: &str) -> Result<LogQuery, QueryError> {
    let length = input.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(QueryError::new(
            MAX_QUERY_CHARS,
            format!("the query is {length} characters long: the limit is {MAX_QUERY_CHARS}"),
        ));
    }
    let mut cursor = cursor::Cursor::new(input);
    let filter = filter::parse_filter(&mut cursor)?;
    let stages = stages::parse_stages(&mut cursor)?;
    let query = LogQuery { filter, stages };
    tabular::check(&query)?;
    Ok(query)
}

impl LogQuery {
    /// Pushes " and <filter>" (nothing when there is no filter) onto a query whose
    /// WHERE clause is already open, binding every value.
    pub fn push_filter(&self, qb: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>) {
        if let Some(filter) = &self.filter {
            let mut sql = fragment::Fragment::new();
            sql.push(" and ");
            sql.append(predicate::filter_sql(filter));
            sql.write_to(qb);
        }
    }

    /// Whether the query has stages that turn rows into a table (stats/fields/sort/limit).
    pub fn is_tabular(&self) -> bool {
        !self.stages.is_empty()
    }
}
