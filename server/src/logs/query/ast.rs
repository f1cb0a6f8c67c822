//! The parsed form of a log query: a boolean [`Filter`] over log lines and a
//! pipeline of [`Stage`]s.

use super::MAX_PATH_SEGMENTS;

/// A boolean combination of terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every part matches (implicit AND, or `AND`).
    And(Vec<Filter>),
    /// At least one part matches (`OR`).
    Or(Vec<Filter>),
    /// The part does not match (`NOT` or `-`).
    Not(Box<Filter>),
    /// One condition.
    Term(Term),
}

/// One condition on a log line.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A bare word or `"phrase"`: a case-insensitive substring of the message.
    Text(String),
    /// `/regex/` (or `/regex/i`) against the message.
    Regex(Regex),
    /// `level:...`, compared as the ordered level number.
    Level(Match<Level>),
    /// `service:...`, `host:...`, `trace_id:...`, `span_id:...`, `message:...`.
    Column(Column, Match<String>),
    /// `a.b.c:...` on the attributes, nested or flat.
    Attribute(AttributePath, Match<String>),
}

/// What a `field:` term asks of its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Match<V> {
    /// `field:value` or `field:"phrase"`.
    Equals(V),
    /// `field:!=value`.
    NotEquals(V),
    /// `field:>N`, `>=`, `<`, `<=`. On attributes the value is a number.
    Compare(Comparison, V),
    /// `field:*`: the field is present and not empty.
    Exists,
    /// `field:prefix*` (the prefix without the star).
    Prefix(String),
    /// `field:/regex/`.
    Regex(Regex),
}

/// An ordering comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
}

impl Comparison {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
        }
    }
}

/// A POSIX (PostgreSQL ARE) regular expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regex {
    /// The pattern, with `\/` already turned into `/`.
    pub pattern: String,
    /// `/re/i`: match regardless of case.
    pub case_insensitive: bool,
}

/// Log levels are the ones ingestion normalises to (one definition for both).
pub use crate::logs::level::Level;

/// One of the fixed text columns of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `service`
    Service,
    /// `host`
    Host,
    /// `trace_id` (may be null)
    TraceId,
    /// `span_id` (may be null)
    SpanId,
    /// `message`
    Message,
}

impl Column {
    /// The column's (and the field's) name.
    pub fn name(self) -> &'static str {
        match self {
            Column::Service => "service",
            Column::Host => "host",
            Column::TraceId => "trace_id",
            Column::SpanId => "span_id",
            Column::Message => "message",
        }
    }

    /// Whether the column can be null.
    pub fn nullable(self) -> bool {
        matches!(self, Column::TraceId | Column::SpanId)
    }
}

/// A dotted attribute path, `http.status`: matches both the nested object
/// `{"http": {"status": ..}}` and the flat key `{"http.status": ..}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributePath {
    /// The segments, `["http", "status"]`.
    pub segments: Vec<String>,
}

impl AttributePath {
    /// The path as written, which is also the flat key.
    pub fn dotted(&self) -> String {
        self.segments.join(".")
    }
}

/// Anything a stage can name: the time, the level, a column or an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `ts`, the line's timestamp (stages only; the time range filters time).
    Ts,
    /// `level`
    Level,
    /// A fixed text column.
    Column(Column),
    /// Any other name: an attribute.
    Attribute(AttributePath),
}

impl Field {
    /// The field named `name`, checking it is a valid name: `[A-Za-z_][A-Za-z0-9_.-]*`
    /// with at most [`MAX_PATH_SEGMENTS`] non-empty dotted segments.
    pub fn parse(name: &str) -> Result<Field, String> {
        let mut chars = name.chars();
        let valid_start = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !valid_start || !chars.all(is_name_char) {
            return Err(format!(
                "\"{name}\" is not a field name: names start with a letter or \"_\" and \
                 hold letters, digits, \"_\", \".\" and \"-\""
            ));
        }
        Ok(match name {
            "ts" => Field::Ts,
            "level" => Field::Level,
            "service" => Field::Column(Column::Service),
            "host" => Field::Column(Column::Host),
            "trace_id" => Field::Column(Column::TraceId),
            "span_id" => Field::Column(Column::SpanId),
            "message" => Field::Column(Column::Message),
            _ => {
                let segments: Vec<String> = name.split('.').map(str::to_owned).collect();
                if segments.iter().any(String::is_empty) {
                    return Err(format!("\"{name}\" has an empty path segment"));
                }
                if segments.len() > MAX_PATH_SEGMENTS {
                    return Err(format!(
                        "\"{name}\" has {} path segments: the limit is {MAX_PATH_SEGMENTS}",
                        segments.len()
                    ));
                }
                Field::Attribute(AttributePath { segments })
            }
        })
    }

    /// The name as written in a query.
    pub fn name(&self) -> String {
        match self {
            Field::Ts => "ts".to_owned(),
            Field::Level => "level".to_owned(),
            Field::Column(column) => column.name().to_owned(),
            Field::Attribute(path) => path.dotted(),
        }
    }
}

/// Whether `c` may appear in a field name after its first character.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A stage after `|`.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// `stats count(), p95(duration_ms) by service every 5m`
    Stats(Stats),
    /// `sort -count()`: one or more keys, comma-separated.
    Sort(Vec<SortKey>),
    /// `limit 50`
    Limit(u32),
    /// `fields ts, service, message`
    Fields(Vec<ColumnRef>),
}

/// A `stats` stage: aggregations per group, optionally per time bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// One output column each, after the group columns.
    pub aggregations: Vec<Aggregation>,
    /// The grouping fields (`by ...`).
    pub by: Vec<Field>,
    /// The bucket width in seconds (`every 5m` is 300).
    pub every: Option<i64>,
}

/// One aggregation, `p95(duration_ms)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    /// The function.
    pub function: Function,
    /// Its field; `None` only for `count()`.
    pub field: Option<Field>,
}

impl Aggregation {
    /// The output column's name, as written without spaces: `count()`, `p95(duration_ms)`.
    pub fn name(&self) -> String {
        let field = self.field.as_ref().map(Field::name).unwrap_or_default();
        format!("{}({field})", self.function.name())
    }
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `count()`: matching lines.
    Count,
    /// `count_distinct(f)`: distinct text values.
    CountDistinct,
    /// `sum(f)`
    Sum,
    /// `avg(f)`
    Avg,
    /// `min(f)`
    Min,
    /// `max(f)`
    Max,
    /// `p50(f)`
    P50,
    /// `p90(f)`
    P90,
    /// `p95(f)`
    P95,
    /// `p99(f)`
    P99,
}

impl Function {
    /// Every function, in the order the docs list them.
    pub const ALL: [Function; 10] = [
        Function::Count,
        Function::CountDistinct,
        Function::Sum,
        Function::Avg,
        Function::Min,
        Function::Max,
        Function::P50,
        Function::P90,
        Function::P95,
        Function::P99,
    ];

    /// The function's name in a query.
    pub fn name(self) -> &'static str {
        match self {
            Function::Count => "count",
            Function::CountDistinct => "count_distinct",
            Function::Sum => "sum",
            Function::Avg => "avg",
            Function::Min => "min",
            Function::Max => "max",
            Function::P50 => "p50",
            Function::P90 => "p90",
            Function::P95 => "p95",
            Function::P99 => "p99",
        }
    }

    /// The function called `name` (any case).
    pub fn parse(name: &str) -> Option<Function> {
        let name = name.to_ascii_lowercase();
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The percentile as a fraction, for `p50` to `p99`.
    pub fn percentile(self) -> Option<&'static str> {
        match self {
            Function::P50 => Some("0.5"),
            Function::P90 => Some("0.9"),
            Function::P95 => Some("0.95"),
            Function::P99 => Some("0.99"),
            _ => None,
        }
    }
}

/// A `sort` key: a column, descending with a leading `-`.
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    /// The column.
    pub column: ColumnRef,
    /// `-column`: largest first.
    pub descending: bool,
}

/// A reference to a column by name (`host`, `count()`, `p95(duration_ms)`), kept
/// with its position so a reference to a missing column can be pointed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    /// The name as written, without spaces.
    pub name: String,
    /// Where it starts in the query.
    pub position: usize,
}
