//! The read SQL of log lines, over any executor: the statement a search page,
//! a line's context, live tail and a trace's logs all select lines with, and
//! the rows as the API's [`LogLine`]s.

use app::api::LogLine;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::{PgExecutor, Postgres, QueryBuilder};

use super::{
    level::Level,
    query::{LogQuery, Scope},
};

/// `select <line columns> from log_entry where <scope>`, ready for more conditions.
pub fn select_lines(scope: &Scope) -> QueryBuilder<'static, Postgres> {
    let mut sql = QueryBuilder::new("");
    push_select_lines(&mut sql, scope);
    sql
}

/// [`select_lines`], pushed onto `sql` (after an `explain`, say).
pub fn push_select_lines(sql: &mut QueryBuilder<'static, Postgres>, scope: &Scope) {
    sql.push(
        "select log_id, ts, level, service, host, message, trace_id, span_id, attributes \
         from log_entry where project_id = ",
    )
    .push_bind(scope.project_id)
    .push(" and ts >= ")
    .push_bind(scope.from)
    .push(" and ts < ")
    .push_bind(scope.to);
}

/// The statement of one page of `/logs/search`, pushed onto `sql`: lines of
/// `scope` matching `query`, newest first, older than `cursor` (`ts`, `log_id`)
/// when there is one, at most `rows`. It walks the time index backwards
/// (`tests/integration/indexes.rs` checks its plan).
pub fn push_page(
    sql: &mut QueryBuilder<'static, Postgres>,
    scope: &Scope,
    query: &LogQuery,
    cursor: Option<(DateTime<Utc>, i64)>,
    rows: i64,
) {
    push_select_lines(sql, scope);
    query.push_filter(sql);
    if let Some((ts, id)) = cursor {
        sql.push(" and (ts, log_id) < (")
            .push_bind(ts)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    sql.push(" order by ts desc, log_id desc limit ")
        .push_bind(rows);
}

type LineRow = (
    i64,
    DateTime<Utc>,
    i16,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Value,
);

/// Runs a [`select_lines`] statement.
pub async fn fetch_lines(
    db: impl PgExecutor<'_>,
    mut sql: QueryBuilder<'static, Postgres>,
) -> Result<Vec<LogLine>, sqlx::Error> {
    let rows: Vec<LineRow> = sql.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().map(line_of).collect())
}

/// The newest `rows` lines of a trace in a project, oldest first.
pub async fn trace_lines(
    db: impl PgExecutor<'_>,
    project_id: i64,
    trace_id: &str,
    rows: i64,
) -> Result<Vec<LogLine>, sqlx::Error> {
    let mut sql = QueryBuilder::new(
        "select log_id, ts, level, service, host, message, trace_id, span_id, attributes \
         from log_entry where trace_id = ",
    );
    sql.push_bind(trace_id.to_string())
        .push(" and project_id = ")
        .push_bind(project_id)
        .push(" order by ts desc, log_id desc limit ")
        .push_bind(rows);
    let mut lines = fetch_lines(db, sql).await?;
    lines.reverse();
    Ok(lines)
}

fn line_of(
    (id, ts, level, service, host, message, trace_id, span_id, attributes): LineRow,
) -> LogLine {
    LogLine {
        id,
        ts,
        level: Level::from_i16(level)
            .map_or("unknown", Level::as_str)
            .to_string(),
        service,
        host,
        message,
        trace_id,
        span_id,
        attributes: match attributes {
            Value::Object(map) => map,
            _ => Map::new(),
        },
    }
}
