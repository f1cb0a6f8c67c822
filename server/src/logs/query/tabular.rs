//! Queries with stages as one SQL statement. Each stage refines the current
//! layer (its `from`, order and limit); a stage that must see the result of an
//! earlier limit (a `sort` or `stats` after `limit`) wraps the layer in a
//! subquery. `stats` always makes a subquery whose columns are named `c0`, `c1`,
//! ... so that later stages refer to them without repeating expressions (whose
//! binds would differ) and without user text in the SQL.

use chrono::DateTime;
use sqlx::{Postgres, QueryBuilder};

use super::{
    ast::{Field, Function, SortKey, Stage, Stats},
    counted::{counted_source, stats_countable},
    expression::{attribute_number, attribute_text, attribute_value, level_name, rfc3339},
    fragment::{Bind, Fragment},
    predicate::filter_sql,
    ColumnRef, LogQuery, QueryError, Scope, DEFAULT_LIMIT,
};

/// The columns of a tabular result, in order.
pub struct Tabular {
    /// The column names: field names, or aggregations as written (`count()`).
    pub columns: Vec<String>,
    /// The statement: one row per result row, a single jsonb array column `row`.
    pub sql: QueryBuilder<'static, Postgres>,
}

/// Builds the complete SQL for a query with stages over `scope`: one row per result
/// row, selected as a single jsonb array column named `row` (jsonb_build_array(...)),
/// so that the caller fetches `Vec<serde_json::Value>`. Without a stats stage,
/// `fields` picks columns of the matching lines (default: ts, level, service, host,
/// message), newest first; `sort`/`limit` apply to whatever the previous stage made
/// (default limit 1000). Stats output columns: the `by` fields (and `ts` first for
/// `every`), then one column per aggregation named as written without spaces, e.g.
/// `count()`, `p95(duration_ms)`; `sort -count()` or `sort -count` both work.
/// Levels come out as names ("error"), timestamps as RFC 3339 strings.
pub fn tabular_sql(query: &LogQuery, scope: &Scope) -> Result<Tabular, QueryError> {
    let (columns, fragment) = plan(query, scope)?;
    let mut sql = QueryBuilder::new("");
    fragment.write_to(&mut sql);
    Ok(Tabular { columns, sql })
}

/// Checks that every stage's references resolve, without a scope.
pub(crate) fn check(query: &LogQuery) -> Result<(), QueryError> {
    let scope = Scope {
        project_id: 0,
        from: DateTime::UNIX_EPOCH,
        to: DateTime::UNIX_EPOCH,
    };
    plan(query, &scope).map(|_| ())
}

/// How a layer's values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Level,
    Time,
}

/// A column of a stats result: its name, how to show it, and its alias (`c3`).
#[derive(Debug, Clone)]
struct TableColumn {
    name: String,
    kind: Kind,
    alias: String,
}

/// What a layer's rows are.
enum Shape {
    /// Log lines; the fields shown.
    Lines(Vec<Field>),
    /// A stats result.
    Table(Vec<TableColumn>),
}

/// A select under construction: `from` (with its `where`), order and limit.
struct Layer {
    from: Fragment,
    shape: Shape,
    order: Vec<Fragment>,
    limit: Option<u32>,
    /// Names the next subquery.
    subqueries: usize,
    /// The rows are [`counted_source`] rows: `count()` sums their `lines`.
    counted: bool,
}

const DEFAULT_FIELDS: [Field; 5] = [
    Field::Ts,
    Field::Level,
    Field::Column(super::ast::Column::Service),
    Field::Column(super::ast::Column::Host),
    Field::Column(super::ast::Column::Message),
];

fn plan(query: &LogQuery, scope: &Scope) -> Result<(Vec<String>, Fragment), QueryError> {
    let counted = stats_countable(query);
    let from = if counted {
        counted_source(scope, query.filter.as_ref())
    } else {
        let mut from = Fragment::sql("log_entry where project_id = ");
        from.bind(Bind::BigInt(scope.project_id))
            .push(" and ts >= ")
            .bind(Bind::Time(scope.from))
            .push(" and ts < ")
            .bind(Bind::Time(scope.to));
        if let Some(filter) = &query.filter {
            from.push(" and ").append(filter_sql(filter));
        }
        from
    };
    let mut layer = Layer {
        from,
        shape: Shape::Lines(DEFAULT_FIELDS.to_vec()),
        order: newest_first(),
        limit: None,
        subqueries: 0,
        counted,
    };
    for stage in &query.stages {
        match stage {
            Stage::Limit(n) => layer.limit = Some(layer.limit.map_or(*n, |l| l.min(*n))),
            Stage::Sort(keys) => layer.sort(keys)?,
            Stage::Fields(refs) => layer.fields(refs)?,
            Stage::Stats(stats) => layer.stats(stats)?,
        }
    }
    let has_limit = query.stages.iter().any(|s| matches!(s, Stage::Limit(_)));
    if layer.limit.is_none() && !has_limit {
        layer.limit = Some(DEFAULT_LIMIT);
    }
    Ok(layer.render())
}

fn newest_first() -> Vec<Fragment> {
    vec![Fragment::sql("ts desc"), Fragment::sql("log_id desc")]
}

impl Layer {
    fn sort(&mut self, keys: &[SortKey]) -> Result<(), QueryError> {
        if self.limit.is_some() {
            self.wrap();
        }
        let mut order = Vec::new();
        for key in keys {
            let direction = if key.descending {
                " desc nulls last"
            } else {
                " asc nulls last"
            };
            match &self.shape {
                Shape::Lines(_) => match line_field(&key.column)? {
                    // Numbers (and numeric strings) by value first, then the rest
                    // in jsonb order.
                    Field::Attribute(path) => {
                        order.push(attribute_number(&path).wrap("", direction));
                        order.push(attribute_value(&path).wrap("", direction));
                    }
                    field => order.push(line_value(&field).wrap("", direction)),
                },
                Shape::Table(columns) => order.push(
                    Fragment::sql(&table_column(columns, &key.column)?.alias).wrap("", direction),
                ),
            }
        }
        // Ties keep the previous order.
        order.append(&mut self.order);
        self.order = order;
        Ok(())
    }

    fn fields(&mut self, refs: &[ColumnRef]) -> Result<(), QueryError> {
        self.shape = match &self.shape {
            Shape::Lines(_) => Shape::Lines(refs.iter().map(line_field).collect::<Result<_, _>>()?),
            Shape::Table(columns) => Shape::Table(
                refs.iter()
                    .map(|r| table_column(columns, r).cloned())
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(())
    }

    fn stats(&mut self, stats: &Stats) -> Result<(), QueryError> {
        if matches!(self.shape, Shape::Table(_)) {
            return Err(QueryError::new(0, "a query has at most one stats stage"));
        }
        if self.limit.is_some() {
            self.wrap();
        }
        let mut columns = Vec::new();
        let mut select = Vec::new();
        if let Some(seconds) = stats.every {
            let mut bucket = Fragment::sql("date_bin(");
            bucket
                .bind(Bind::BigInt(seconds))
                .push(" * interval '1 second', ts, timestamptz '2000-01-01')");
            select.push(bucket);
            columns.push(("ts".to_owned(), Kind::Time));
        }
        for field in &stats.by {
            let (expr, kind) = match field {
                Field::Ts => (Fragment::sql("ts"), Kind::Time),
                Field::Level => (Fragment::sql("level"), Kind::Level),
                Field::Column(column) => (Fragment::sql(column.name()), Kind::Plain),
                Field::Attribute(path) => (attribute_text(path), Kind::Plain),
            };
            select.push(expr);
            columns.push((field.name(), kind));
        }
        let groups = select.len();
        for aggregation in &stats.aggregations {
            let (expr, kind) = if self.counted {
                // Only count() qualifies for counted rows (see `stats_countable`).
                (Fragment::sql("sum(lines)::bigint"), Kind::Plain)
            } else {
                aggregate(aggregation.function, aggregation.field.as_ref())
            };
            select.push(expr);
            columns.push((aggregation.name(), kind));
        }
        let mut inner = Fragment::sql("select ");
        let aliased = select
            .into_iter()
            .enumerate()
            .map(|(i, expr)| expr.wrap("", &format!(" as c{i}")))
            .collect();
        inner.join(aliased, ", ").push(" from ");
        inner.append(std::mem::take(&mut self.from));
        if groups > 0 {
            let ordinals: Vec<String> = (1..=groups).map(|i| i.to_string()).collect();
            inner.push(" group by ").push(&ordinals.join(", "));
        }
        self.from = self.subquery(inner);
        self.order = (0..groups)
            .map(|i| Fragment::sql(&format!("c{i} asc nulls last")))
            .collect();
        self.shape = Shape::Table(
            columns
                .into_iter()
                .enumerate()
                .map(|(i, (name, kind))| TableColumn {
                    name,
                    kind,
                    alias: format!("c{i}"),
                })
                .collect(),
        );
        Ok(())
    }

    /// Turns the current select (with its order and limit) into the `from` of a
    /// new one, so later stages see only the rows it returns.
    fn wrap(&mut self) {
        let mut inner = Fragment::sql("select * from ");
        inner.append(std::mem::take(&mut self.from));
        inner.append(self.order_limit());
        self.from = self.subquery(inner);
        self.limit = None;
    }

    fn subquery(&mut self, inner: Fragment) -> Fragment {
        self.subqueries += 1;
        inner.wrap("(", &format!(") as t{}", self.subqueries))
    }

    fn order_limit(&self) -> Fragment {
        let mut sql = Fragment::new();
        if !self.order.is_empty() {
            sql.push(" order by ").join(self.order.clone(), ", ");
        }
        if let Some(limit) = self.limit {
            sql.push(" limit ").bind(Bind::BigInt(i64::from(limit)));
        }
        sql
    }

    fn render(self) -> (Vec<String>, Fragment) {
        let (names, values): (Vec<String>, Vec<Fragment>) = match &self.shape {
            Shape::Lines(fields) => fields
                .iter()
                .map(|field| (field.name(), line_output(field)))
                .unzip(),
            Shape::Table(columns) => columns
                .iter()
                .map(|column| {
                    let value = Fragment::sql(&column.alias);
                    let value = match column.kind {
                        Kind::Plain => value,
                        Kind::Level => level_name(value),
                        Kind::Time => rfc3339(value),
                    };
                    (column.name.clone(), value)
                })
                .unzip(),
        };
        let mut sql = Fragment::sql("select jsonb_build_array(");
        sql.join(values, ", ").push(") as row from ");
        let order_limit = self.order_limit();
        sql.append(self.from).append(order_limit);
        (names, sql)
    }
}

/// A field of a log line named in `sort` or `fields` before any `stats`.
fn line_field(column: &ColumnRef) -> Result<Field, QueryError> {
    Field::parse(&column.name).map_err(|message| {
        QueryError::new(
            column.position,
            format!("{message} (before stats, sort and fields name fields of log lines)"),
        )
    })
}

/// A log line's field, for sorting: levels as numbers, attributes as JSON.
fn line_value(field: &Field) -> Fragment {
    match field {
        Field::Ts => Fragment::sql("ts"),
        Field::Level => Fragment::sql("level"),
        Field::Column(column) => Fragment::sql(column.name()),
        Field::Attribute(path) => attribute_value(path),
    }
}

/// A log line's field, for output: levels as names, times as RFC 3339.
fn line_output(field: &Field) -> Fragment {
    match field {
        Field::Ts => rfc3339(Fragment::sql("ts")),
        Field::Level => level_name(Fragment::sql("level")),
        _ => line_value(field),
    }
}

/// The stats column named `column`: exactly, or `count` for `count()`.
fn table_column<'c>(
    columns: &'c [TableColumn],
    column: &ColumnRef,
) -> Result<&'c TableColumn, QueryError> {
    let called = format!("{}()", column.name);
    columns
        .iter()
        .find(|c| c.name == column.name)
        .or_else(|| columns.iter().find(|c| c.name == called))
        .ok_or_else(|| {
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            QueryError::new(
                column.position,
                format!(
                    "no column \"{}\" after stats: the columns are {}",
                    column.name,
                    names.join(", ")
                ),
            )
        })
}

/// An aggregate expression and how to show it.
fn aggregate(function: Function, field: Option<&Field>) -> (Fragment, Kind) {
    let Some(field) = field else {
        return (Fragment::sql("count(*)"), Kind::Plain);
    };
    // The value aggregated: numbers for arithmetic, text for distinct counts.
    let number = || match field {
        Field::Attribute(path) => attribute_number(path),
        _ => line_value(field),
    };
    match function {
        Function::Count => (Fragment::sql("count(*)"), Kind::Plain),
        Function::CountDistinct => {
            let value = match field {
                Field::Attribute(path) => attribute_text(path),
                _ => line_value(field),
            };
            (value.wrap("count(distinct ", ")"), Kind::Plain)
        }
        Function::Sum => (number().wrap("sum(", ")"), Kind::Plain),
        Function::Avg => (number().wrap("avg(", ")"), Kind::Plain),
        Function::Min | Function::Max => {
            let kind = match field {
                Field::Ts => Kind::Time,
                Field::Level => Kind::Level,
                _ => Kind::Plain,
            };
            let name = if function == Function::Min {
                "min("
            } else {
                "max("
            };
            (number().wrap(name, ")"), kind)
        }
        Function::P50 | Function::P90 | Function::P95 | Function::P99 => {
            let fraction = function.percentile().unwrap_or("0.5");
            let prefix = format!("percentile_cont({fraction}) within group (order by ");
            (number().wrap(&prefix, "::float8)"), Kind::Plain)
        }
    }
}
