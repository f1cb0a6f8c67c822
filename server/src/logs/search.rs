//! The logs read API: search (newest first, keyset pages), tabular queries with
//! stages, the level histogram, field names for autocompletion, and the context
//! around a line. Live tail is in [`super::tail`].

use std::collections::{BTreeMap, HashMap};

use app::api::{
    HistogramBucket, LogContext, LogField, LogFields, LogHistogram, LogSearchResult, LogTable,
};
use axum::extract::State;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use sqlx::{Postgres, QueryBuilder};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    level::Level,
    query::{self, counted, LogQuery, Scope},
    store::{fetch_lines, push_page, select_lines},
};
use crate::{
    http::error::{ApiError, ApiResult, Json, Query},
    query::{cursor, query_error, scope::ReadScope, time_range},
    AppState,
};

/// Largest page of `/logs/search`.
pub const MAX_PAGE: i64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(table))
        .routes(routes!(histogram))
        .routes(routes!(fields))
        .routes(routes!(context))
}

/// Parameters shared by the read endpoints.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// The query, in the log query language (format `log-query`, see
    /// docs/logs-query.md); empty matches everything. A query that does not
    /// parse is answered 400 with the position of the mistake.
    #[param(format = "log-query")]
    pub q: Option<String>,
    /// Start of the range: RFC 3339, epoch ms, or `now-1h`. Default: an hour before `to`.
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub from: Option<String>,
    /// End of the range (exclusive). Default: now.
    #[param(value_type = Option<crate::query::time_range::TimeParam>, inline)]
    pub to: Option<String>,
    /// Lines a page (search, default 100, at most 1000).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,16}_[0-9]{1,18}$")]
    pub cursor: Option<String>,
    /// Histogram buckets (default 60, at most 500).
    pub buckets: Option<i64>,
}

/// A resolved request: the project, range and parsed query.
pub struct Resolved {
    pub scope: Scope,
    pub query: LogQuery,
}

/// Parses the time range and the query of a read of `scope`.
pub fn resolve(scope: &ReadScope, params: &SearchParams) -> ApiResult<Resolved> {
    let project = &scope.project;
    let (from, to) = time_range::resolve(params.from.as_deref(), params.to.as_deref(), Utc::now())?;
    let query = query::parse(params.q.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(format!("q: {e}")))?;
    // Only a page of search reads the cursor, but every endpoint refuses one
    // that is not a cursor, as the document says.
    if let Some(given) = &params.cursor {
        cursor::decode::<i64>(given)?;
    }
    Ok(Resolved {
        scope: Scope {
            project_id: project.project_id,
            from,
            to,
        },
        query,
    })
}

/// Lines matching `q`, newest first, a page at a time.
#[utoipa::path(get, path = "/projects/{project}/logs/search", tag = "logs",
    params(("project" = String, Path, description = "id or slug"), SearchParams),
    responses((status = 200, body = LogSearchResult), (status = 400, description = "bad query, time or cursor"), (status = 401), (status = 404)))]
async fn search(
    State(state): State<AppState>,
    read: ReadScope,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<LogSearchResult>> {
    let Resolved { scope, query } = resolve(&read, &params)?;
    let limit = params.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let after = params
        .cursor
        .as_deref()
        .map(cursor::decode::<i64>)
        .transpose()?;

    let mut sql = QueryBuilder::new("");
    push_page(&mut sql, &scope, &query, after, limit + 1);
    let mut rows = fetch_lines(&state.queries, sql)
        .await
        .map_err(query_error)?;
    let next_cursor = cursor::page(&mut rows, limit, |l| cursor::encode(l.ts, l.id));
    Ok(Json(LogSearchResult { rows, next_cursor }))
}

/// A query with stages (`| stats ...`, `| fields ...`) as a table.
#[utoipa::path(get, path = "/projects/{project}/logs/query", tag = "logs",
    params(("project" = String, Path, description = "id or slug"), SearchParams),
    responses((status = 200, body = LogTable), (status = 400), (status = 401), (status = 404)))]
async fn table(
    State(state): State<AppState>,
    read: ReadScope,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<LogTable>> {
    let Resolved { scope, query } = resolve(&read, &params)?;
    let mut tabular =
        query::tabular_sql(&query, &scope).map_err(|e| ApiError::BadRequest(format!("q: {e}")))?;
    let rows: Vec<Value> = tabular
        .sql
        .build_query_scalar()
        .fetch_all(&state.queries)
        .await
        .map_err(query_error)?;
    let rows = rows
        .into_iter()
        .map(|row| match row {
            Value::Array(cells) => cells,
            other => vec![other],
        })
        .collect();
    Ok(Json(LogTable {
        columns: tabular.columns,
        rows,
    }))
}

/// Lines per level in equal time buckets (for the histogram above the results).
#[utoipa::path(get, path = "/projects/{project}/logs/histogram", tag = "logs",
    params(("project" = String, Path, description = "id or slug"), SearchParams),
    responses((status = 200, body = LogHistogram), (status = 400), (status = 401), (status = 404)))]
async fn histogram(
    State(state): State<AppState>,
    read: ReadScope,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<LogHistogram>> {
    let Resolved { scope, query } = resolve(&read, &params)?;
    let buckets = params.buckets.unwrap_or(60).clamp(1, 500);
    let span_ms = (scope.to - scope.from).num_milliseconds();
    let mut interval_ms = ((span_ms + buckets - 1) / buckets).max(1);
    // With minute-wide buckets starting on a minute, whole minutes never straddle
    // two buckets, so the per-minute counts can answer (see `query::counted`).
    let counted = interval_ms >= 60_000 && counted::countable(query.filter.as_ref());
    let mut origin = scope.from;
    if counted {
        interval_ms = (interval_ms + 59_999) / 60_000 * 60_000;
        origin = scope
            .from
            .duration_trunc(Duration::minutes(1))
            .unwrap_or(scope.from);
    }
    let interval = Duration::milliseconds(interval_ms);

    let mut sql = QueryBuilder::<Postgres>::new("select date_bin(");
    sql.push_bind(interval).push(", ts, ").push_bind(origin);
    if counted {
        sql.push(") as bucket, level, sum(lines)::bigint from ");
        counted::push_counted_source(&query, &scope, &mut sql);
    } else {
        sql.push(") as bucket, level, count(*) from log_entry where project_id = ")
            .push_bind(scope.project_id)
            .push(" and ts >= ")
            .push_bind(scope.from)
            .push(" and ts < ")
            .push_bind(scope.to);
        query.push_filter(&mut sql);
    }
    sql.push(" group by 1, 2");
    let counts: Vec<(DateTime<Utc>, i16, i64)> = sql
        .build_query_as()
        .fetch_all(&state.queries)
        .await
        .map_err(query_error)?;

    let mut by_bucket: BTreeMap<DateTime<Utc>, BTreeMap<String, i64>> = BTreeMap::new();
    let mut t = origin;
    while t < scope.to {
        by_bucket.insert(t, BTreeMap::new());
        t += interval;
    }
    for (bucket, level, count) in counts {
        let name = Level::from_i16(level)
            .map_or("unknown", Level::as_str)
            .to_string();
        by_bucket.entry(bucket).or_default().insert(name, count);
    }
    Ok(Json(LogHistogram {
        interval_ms: interval.num_milliseconds(),
        buckets: by_bucket
            .into_iter()
            .map(|(ts, counts)| HistogramBucket { ts, counts })
            .collect(),
    }))
}

/// Field names seen in recent lines, with their most frequent values.
#[utoipa::path(get, path = "/projects/{project}/logs/fields", tag = "logs",
    params(("project" = String, Path, description = "id or slug"), SearchParams),
    responses((status = 200, body = LogFields), (status = 400), (status = 401), (status = 404)))]
async fn fields(
    State(state): State<AppState>,
    read: ReadScope,
    Query(params): Query<SearchParams>,
) -> ApiResult<Json<LogFields>> {
    const SAMPLE: i64 = 2000;
    const VALUES: usize = 10;
    let Resolved { scope, .. } = resolve(&read, &params)?;
    let sample: Vec<(i16, String, String, Value)> = sqlx::query_as(
        "select level, service, host, attributes from log_entry
         where project_id = $1 and ts >= $2 and ts < $3 order by ts desc limit $4",
    )
    .bind(scope.project_id)
    .bind(scope.from)
    .bind(scope.to)
    .bind(SAMPLE)
    .fetch_all(&state.queries)
    .await
    .map_err(query_error)?;

    let mut counts: BTreeMap<String, HashMap<String, usize>> = BTreeMap::new();
    for (level, service, host, attributes) in sample {
        let mut add = |name: &str, value: String| {
            *counts
                .entry(name.to_string())
                .or_default()
                .entry(value)
                .or_default() += 1;
        };
        add(
            "level",
            Level::from_i16(level)
                .map_or("unknown", Level::as_str)
                .to_string(),
        );
        if !service.is_empty() {
            add("service", service);
        }
        if !host.is_empty() {
            add("host", host);
        }
        if let Value::Object(map) = attributes {
            flatten("", &map, &mut add);
        }
    }
    let fields = counts
        .into_iter()
        .map(|(name, values)| {
            let mut values: Vec<(String, usize)> = values.into_iter().collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            LogField {
                name,
                values: values.into_iter().take(VALUES).map(|(v, _)| v).collect(),
            }
        })
        .collect();
    Ok(Json(LogFields { fields }))
}

/// Dotted paths of every leaf, e.g. `http.status`.
fn flatten(prefix: &str, map: &Map<String, Value>, add: &mut impl FnMut(&str, String)) {
    for (key, value) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) => flatten(&path, inner, add),
            Value::String(s) => add(&path, s.chars().take(200).collect()),
            Value::Null => {}
            other => add(&path, other.to_string().chars().take(200).collect()),
        }
    }
}

/// Parameters of `/logs/context`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ContextParams {
    /// The line's `ts` (RFC 3339, as search returned it).
    #[param(value_type = crate::query::time_range::InstantParam, inline)]
    pub ts: String,
    /// The line's `id`.
    pub id: i64,
    /// Lines before (default 20, at most 200).
    pub before: Option<i64>,
    /// Lines after (default 20, at most 200).
    pub after: Option<i64>,
}

/// The lines just before and after one line, from the same service and host.
#[utoipa::path(get, path = "/projects/{project}/logs/context", tag = "logs",
    params(("project" = String, Path, description = "id or slug"), ContextParams),
    responses((status = 200, body = LogContext), (status = 400), (status = 401), (status = 404)))]
async fn context(
    State(state): State<AppState>,
    read: ReadScope,
    Query(params): Query<ContextParams>,
) -> ApiResult<Json<LogContext>> {
    let project = read.project;
    let ts = time_range::parse("ts", &params.ts, Utc::now())?;
    let scope = Scope {
        project_id: project.project_id,
        from: ts,
        to: ts + Duration::microseconds(1),
    };
    let mut sql = select_lines(&scope);
    sql.push(" and log_id = ").push_bind(params.id);
    let line = fetch_lines(&state.queries, sql)
        .await
        .map_err(query_error)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("no such log line".into()))?;

    let around = |newer: bool, n: i64| {
        let window = Scope {
            project_id: project.project_id,
            from: if newer { ts } else { ts - Duration::days(1) },
            to: if newer {
                ts + Duration::days(1)
            } else {
                ts + Duration::microseconds(1)
            },
        };
        let mut sql = select_lines(&window);
        sql.push(" and service = ")
            .push_bind(line.service.clone())
            .push(" and host = ")
            .push_bind(line.host.clone())
            .push(if newer {
                " and (ts, log_id) > ("
            } else {
                " and (ts, log_id) < ("
            })
            .push_bind(ts)
            .push(", ")
            .push_bind(params.id)
            .push(if newer {
                ") order by ts, log_id limit "
            } else {
                ") order by ts desc, log_id desc limit "
            })
            .push_bind(n.clamp(0, 200));
        sql
    };
    let mut before = fetch_lines(&state.queries, around(false, params.before.unwrap_or(20)))
        .await
        .map_err(query_error)?;
    before.reverse();
    let after = fetch_lines(&state.queries, around(true, params.after.unwrap_or(20)))
        .await
        .map_err(query_error)?;
    Ok(Json(LogContext {
        before,
        line,
        after,
    }))
}
