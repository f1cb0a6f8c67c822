//! Prometheus's HTTP query API, answered by Sightline per project, so that
//! Grafana's Prometheus data source and `promtool query` work against it:
//! `/prometheus/{project}/api/v1/{query, query_range, series, labels,
//! label/{name}/values, metadata, status/buildinfo}` (the project by slug or
//! id), and the same under `/prometheus/api/v1/` with the project in the
//! `X-Sightline-Project` header. GET and form POST alike; an API token as
//! bearer or basic-auth password. Answers and errors have Prometheus's JSON
//! shapes (`{"status":"error","errorType":"bad_data","error":...}`).
//!
//! A query is evaluated in three steps: the selectors it holds and the spans
//! they read ([`promql::selections`]), read from PostgreSQL ([`super::store`]),
//! then the expression evaluated over them in memory ([`promql`]), off the
//! async runtime.

use std::{collections::HashMap, time::Duration};

use app::api::Role;
use axum::{
    body::Bytes,
    extract::{FromRequestParts, Path, State},
    http::{HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use sqlx::PgPool;

use super::{
    promql::{self, EvalError, Limits, MemStorage, RawSeries, RolledSeries},
    rollup::Tier,
    store::{self, StoreError},
};
use crate::{auth::Caller, http::error::ApiError, projects, AppState};

/// Prometheus's default lookback: how far back an instant selector looks.
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;
/// Most points of one series a range query may return, as Prometheus.
const MAX_POINTS_PER_SERIES: i64 = 11_000;
/// Longest a query may take, reading and evaluating.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The header naming the project on the routes without it in the path.
pub const PROJECT_HEADER: &str = "x-sightline-project";
/// The Prometheus version whose answers Sightline's are matched to (Grafana
/// reads it to choose the features it uses).
const PROMETHEUS_VERSION: &str = "2.42.0";

/// The query API, with the project in the path and in a header.
pub fn router() -> Router<AppState> {
    let api = || {
        Router::new()
            .route("/query", get(query).post(query))
            .route("/query_range", get(query_range).post(query_range))
            .route("/series", get(series).post(series))
            .route("/labels", get(labels).post(labels))
            .route("/label/{name}/values", get(label_values))
            .route("/metadata", get(metadata))
            .route("/status/buildinfo", get(buildinfo))
    };
    Router::new()
        .nest("/prometheus/{project}/api/v1", api())
        .nest("/prometheus/api/v1", api())
}

/// An error in Prometheus's shape.
#[derive(Debug)]
pub struct PromError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl PromError {
    fn bad_data(message: impl Into<String>) -> Self {
        PromError {
            status: StatusCode::BAD_REQUEST,
            kind: "bad_data",
            message: message.into(),
        }
    }
}

impl From<ApiError> for PromError {
    fn from(error: ApiError) -> Self {
        let status = error.status();
        let kind = match status {
            StatusCode::BAD_REQUEST => "bad_data",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            _ => "internal",
        };
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(error = %format!("{error:#}"), "a Prometheus API request failed");
        }
        PromError {
            status,
            kind,
            message: error.public_message(),
        }
    }
}

impl From<StoreError> for PromError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::TooMuch(message) => PromError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                kind: "execution",
                message,
            },
            StoreError::Database(e) => crate::query::query_error(e).into(),
        }
    }
}

impl From<EvalError> for PromError {
    fn from(error: EvalError) -> Self {
        match error {
            EvalError::BadData(message) => PromError::bad_data(message),
            EvalError::Execution(message) => PromError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                kind: "execution",
                message,
            },
        }
    }
}

impl From<PromError> for ApiError {
    /// The same refusal in `/api/v1`'s shape (for `POST /api/v1/query`).
    fn from(error: PromError) -> Self {
        match error.status {
            StatusCode::BAD_REQUEST => ApiError::BadRequest(error.message),
            StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable {
                message: error.message,
                retry_after_secs: 5,
            },
            StatusCode::INTERNAL_SERVER_ERROR => ApiError::Internal(anyhow::anyhow!(error.message)),
            status => ApiError::Rejected(status, error.message),
        }
    }
}

impl IntoResponse for PromError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"status": "error", "errorType": self.kind, "error": self.message})),
        )
            .into_response()
    }
}

fn success(data: Value) -> Response {
    Json(json!({"status": "success", "data": data})).into_response()
}

/// The request's parameters: the query string and, for a form POST, the body
/// (repeated names such as `match[]` keep every value).
struct Params(Vec<(String, String)>);

impl Params {
    fn read(method: &Method, query: Option<String>, body: &Bytes) -> Self {
        let mut pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        if method == Method::POST {
            pairs.extend(url::form_urlencoded::parse(body).into_owned());
        }
        Params(pairs)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn time(&self, name: &str) -> Result<Option<i64>, PromError> {
        self.get(name)
            .map(|text| {
                parse_time(text).ok_or_else(|| {
                    PromError::bad_data(format!(
                        "invalid parameter \"{name}\": cannot parse \"{text}\" to a valid timestamp"
                    ))
                })
            })
            .transpose()
    }
}

/// A time as Prometheus takes it: RFC 3339, or Unix seconds with a fraction.
fn parse_time(text: &str) -> Option<i64> {
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds
            .is_finite()
            .then(|| (seconds * 1000.0).round() as i64);
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A duration as Prometheus takes it: `15s`, `1m30s`, or seconds.
fn parse_duration(text: &str) -> Option<i64> {
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds > 0.0).then(|| (seconds * 1000.0).round() as i64);
    }
    let (mut total, mut number) = (0i64, String::new());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push('s');
            chars.next();
        }
        let n: i64 = number.parse().ok()?;
        number.clear();
        let ms = match unit.as_str() {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(ms)?)?;
    }
    (number.is_empty() && total > 0).then_some(total)
}

/// The project a request reads: the path's, else the header's; for a caller
/// with at least the viewer role.
async fn project_of(
    state: &AppState,
    caller: Caller,
    path: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<i64, PromError> {
    caller.require(Role::Viewer)?;
    let named = path
        .get("project")
        .cloned()
        .or_else(|| {
            headers
                .get(PROJECT_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .ok_or_else(|| {
            PromError::bad_data(format!(
                "name the project in the URL (/prometheus/<project>/api/v1/...) or the {PROJECT_HEADER} header"
            ))
        })?;
    Ok(projects::find(&state.pool, &named).await?.project_id)
}

/// What every handler starts from: the project the caller may read and the
/// parameters of the query string and, for a form POST, of the body. The
/// largest form accepted is the API's body limit (set on the router).
struct Request {
    project_id: i64,
    /// The path's `{name}` (label values), when the route has one.
    name: Option<String>,
    params: Params,
}

impl axum::extract::FromRequest<AppState> for Request {
    type Rejection = PromError;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, PromError> {
        let (mut parts, body) = request.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state).await?;
        // The routes without a project in the path have no parameters at all.
        let path: HashMap<String, String> =
            Path::<HashMap<String, String>>::from_request_parts(&mut parts, state)
                .await
                .map(|Path(p)| p)
                .unwrap_or_default();
        let project_id = project_of(state, caller, &path, &parts.headers).await?;
        let method = parts.method.clone();
        let query = parts.uri.query().map(str::to_string);
        let body = Bytes::from_request(axum::extract::Request::from_parts(parts, body), state)
            .await
            .map_err(|e| PromError::bad_data(format!("the request body could not be read: {e}")))?;
        Ok(Request {
            project_id,
            name: path.get("name").cloned(),
            params: Params::read(&method, query, &body),
        })
    }
}

/// The expression of a `query` parameter, or Prometheus's 400.
pub fn parse(text: Option<&str>) -> Result<promql_parser::parser::Expr, PromError> {
    let text = text.ok_or_else(|| PromError::bad_data("invalid parameter \"query\": missing"))?;
    promql_parser::parser::parse(text)
        .map_err(|e| PromError::bad_data(format!("invalid parameter \"query\": {e}")))
}

/// Reads what `expr` needs over `[start, end]` at `step` into memory: the
/// buckets of a rollup when [`promql::plan`] finds one that gives the same
/// answer (a step and ranges in whole minutes or hours), else the samples.
async fn fetch(
    pool: &PgPool,
    project_id: i64,
    expr: &promql_parser::parser::Expr,
    (start, end, step): (i64, i64, i64),
    read: Read,
) -> Result<MemStorage, PromError> {
    let mut series: HashMap<i64, store::Labels> = HashMap::new();
    let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
    for selection in promql::selections(expr, start, end, step, LOOKBACK_MS) {
        let rows = store::select_series(
            pool,
            project_id,
            &selection.matchers,
            selection.mint,
            selection.maxt,
        )
        .await?;
        if rows.is_empty() {
            continue;
        }
        mint = mint.min(selection.mint);
        maxt = maxt.max(selection.maxt);
        for row in rows {
            series.insert(row.id, row.labels);
        }
        if series.len() > store::MAX_SERIES {
            return Err(StoreError::TooMuch(format!(
                "the query reads more than {} series; add label matchers",
                store::MAX_SERIES
            ))
            .into());
        }
    }
    let ids: Vec<i64> = series.keys().copied().collect();
    let widths = Tier::ALL.map(Tier::width);
    let planned = match read {
        Read::Auto | Read::Rollups => {
            promql::plan(expr, start, end, step, &widths).and_then(Tier::of_width)
        }
        Read::Samples => None,
    };
    let planned = match planned {
        Some(Tier::Minute)
            if read == Read::Auto
                && store::samples_are_cheaper(pool, &ids, (mint, maxt), store::MAX_SAMPLES)
                    .await? =>
        {
            None
        }
        other => other,
    };
    let buckets = match planned {
        Some(tier) => store::buckets(pool, &ids, mint, maxt, tier, store::MAX_SAMPLES)
            .await?
            .map(|b| (tier, b)),
        None => None,
    };
    if let Some((tier, buckets)) = buckets {
        let rolled = buckets
            .into_iter()
            .filter_map(|(id, buckets)| {
                Some(RolledSeries {
                    labels: series.remove(&id)?.into(),
                    buckets,
                })
            })
            .collect();
        return Ok(MemStorage::rolled(tier.width(), rolled));
    }
    let samples = store::samples(pool, &ids, mint, maxt, store::MAX_SAMPLES).await?;
    let raw = samples
        .into_iter()
        .filter_map(|(id, samples)| {
            Some(RawSeries {
                labels: series.remove(&id)?.into(),
                samples,
            })
        })
        .collect();
    Ok(MemStorage::new(raw))
}

/// Where a query reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Rollups when they give the same answer, unless the samples are
    /// cheaper to read ([`store::samples_are_cheaper`]), else samples.
    Auto,
    /// Rollups whenever they give the same answer (for comparisons).
    Rollups,
    /// Samples only (for comparisons: tests and the benchmark).
    Samples,
}

/// The series of a range query: what the dashboards and `query_range` ask.
pub async fn range(
    pool: &PgPool,
    project_id: i64,
    expr: promql_parser::parser::Expr,
    start: i64,
    end: i64,
    step: i64,
) -> Result<Vec<promql::Series>, PromError> {
    range_read(pool, project_id, expr, (start, end, step), Read::Auto).await
}

/// [`range`], reading as `read` says.
pub async fn range_read(
    pool: &PgPool,
    project_id: i64,
    expr: promql_parser::parser::Expr,
    (start, end, step): (i64, i64, i64),
    read: Read,
) -> Result<Vec<promql::Series>, PromError> {
    let storage = fetch(pool, project_id, &expr, (start, end, step), read).await?;
    evaluate(move || promql::eval_range(&expr, &storage, start, end, step, &limits())).await
}

/// The value of each series of `expr` at `t` (ms): an instant query. A
/// scalar is one value without labels.
pub async fn instant(
    pool: &PgPool,
    project_id: i64,
    expr: promql_parser::parser::Expr,
    t: i64,
) -> Result<Vec<(promql::Labels, f64)>, PromError> {
    let storage = fetch(pool, project_id, &expr, (t, t, 0), Read::Auto).await?;
    let value = evaluate(move || promql::eval_instant(&expr, &storage, t, &limits())).await?;
    Ok(match value {
        promql::Value::Scalar { v, .. } => vec![(promql::Labels::new(), v)],
        promql::Value::Vector(samples) => samples.into_iter().map(|s| (s.labels, s.v)).collect(),
        promql::Value::Matrix(series) => series
            .into_iter()
            .filter_map(|s| Some((s.labels, s.points.last()?.1)))
            .collect(),
        promql::Value::String { .. } => Vec::new(),
    })
}

/// Evaluation off the async runtime, within [`TIMEOUT`].
async fn evaluate<T: Send + 'static>(
    run: impl FnOnce() -> Result<T, EvalError> + Send + 'static,
) -> Result<T, PromError> {
    let task = tokio::task::spawn_blocking(run);
    match tokio::time::timeout(TIMEOUT, task).await {
        Ok(Ok(result)) => result.map_err(PromError::from),
        Ok(Err(error)) => Err(ApiError::Internal(anyhow::Error::new(error)).into()),
        Err(_) => Err(PromError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "timeout",
            message: format!("query timed out after {}s", TIMEOUT.as_secs()),
        }),
    }
}

fn limits() -> Limits {
    Limits {
        lookback_ms: LOOKBACK_MS,
        max_samples: store::MAX_SAMPLES,
    }
}

/// A time (ms) in seconds as Prometheus writes it: a whole second without a
/// fraction (`1700000000`), else with one (`1700000000.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seconds(i64);

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, out: S) -> Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            out.serialize_i64(self.0 / 1000)
        } else {
            out.serialize_f64(self.0 as f64 / 1000.0)
        }
    }
}

fn seconds(ms: i64) -> Value {
    json!(Seconds(ms))
}

fn metric(labels: &[(String, String)]) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|(n, v)| (n.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// `GET|POST /api/v1/query`: an instant query.
async fn query(State(state): State<AppState>, request: Request) -> Result<Response, PromError> {
    let expr = parse(request.params.get("query"))?;
    let t = request
        .params
        .time("time")?
        .unwrap_or_else(|| Utc::now().timestamp_millis());
    let storage = fetch(
        &state.queries,
        request.project_id,
        &expr,
        (t, t, 0),
        Read::Auto,
    )
    .await?;
    let value = evaluate(move || promql::eval_instant(&expr, &storage, t, &limits())).await?;
    let (kind, result) = match value {
        promql::Value::Scalar { t, v } => ("scalar", json!([seconds(t), promql::format_value(v)])),
        promql::Value::String { t, v } => ("string", json!([seconds(t), v])),
        promql::Value::Vector(samples) => (
            "vector",
            Value::Array(
                samples
                    .iter()
                    .map(|s| {
                        json!({"metric": metric(&s.labels), "value": [seconds(s.t), promql::format_value(s.v)]})
                    })
                    .collect(),
            ),
        ),
        promql::Value::Matrix(series) => ("matrix", matrix(&series)),
    };
    Ok(success(json!({"resultType": kind, "result": result})))
}

fn matrix(series: &[promql::Series]) -> Value {
    json!(series.iter().map(SeriesJson::of).collect::<Vec<_>>())
}

/// A range query's answer, written straight from the series: building a
/// `serde_json::Value` of every point took longer than the evaluation on
/// wide answers (550 series of 241 points: 74 ms against 28).
#[derive(Serialize)]
struct RangeAnswer<'a> {
    status: &'static str,
    data: RangeData<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RangeData<'a> {
    result_type: &'static str,
    result: Vec<SeriesJson<'a>>,
}

/// One series of a matrix: `{"metric": {...}, "values": [[t, "v"], ...]}`.
#[derive(Serialize)]
struct SeriesJson<'a> {
    #[serde(serialize_with = "labels_json")]
    metric: &'a [(String, String)],
    #[serde(serialize_with = "points_json")]
    values: &'a [(i64, f64)],
}

impl<'a> SeriesJson<'a> {
    fn of(series: &'a promql::Series) -> Self {
        SeriesJson {
            metric: &series.labels,
            values: &series.points,
        }
    }
}

fn labels_json<S: Serializer>(labels: &&[(String, String)], out: S) -> Result<S::Ok, S::Error> {
    out.collect_map(labels.iter().map(|(n, v)| (n, v)))
}

/// Points as Prometheus writes them: seconds as a number, the value as text.
fn points_json<S: Serializer>(points: &&[(i64, f64)], out: S) -> Result<S::Ok, S::Error> {
    out.collect_seq(
        points
            .iter()
            .map(|&(t, v)| (Seconds(t), promql::format_value(v))),
    )
}

/// `GET|POST /api/v1/query_range`: a range query.
async fn query_range(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, PromError> {
    let expr = parse(request.params.get("query"))?;
    let missing =
        |name: &str| PromError::bad_data(format!("invalid parameter \"{name}\": missing"));
    let start = request
        .params
        .time("start")?
        .ok_or_else(|| missing("start"))?;
    let end = request.params.time("end")?.ok_or_else(|| missing("end"))?;
    let step_text = request.params.get("step").ok_or_else(|| missing("step"))?;
    let step = parse_duration(step_text).ok_or_else(|| {
        PromError::bad_data(format!(
            "invalid parameter \"step\": cannot parse \"{step_text}\" to a valid duration"
        ))
    })?;
    if end < start {
        return Err(PromError::bad_data(
            "end timestamp must not be before start time",
        ));
    }
    if (end - start) / step > MAX_POINTS_PER_SERIES {
        return Err(PromError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let series = range(&state.queries, request.project_id, expr, start, end, step).await?;
    Ok(Json(RangeAnswer {
        status: "success",
        data: RangeData {
            result_type: "matrix",
            result: series.iter().map(SeriesJson::of).collect(),
        },
    })
    .into_response())
}

/// The series the `match[]` selectors select, alive in the request's range
/// (`start`, `end`; by default all time, as in Prometheus); `None` without
/// `match[]`.
async fn matched_series(
    state: &AppState,
    request: &Request,
) -> Result<Option<Vec<store::Labels>>, PromError> {
    let selectors = request.params.all("match[]");
    if selectors.is_empty() {
        return Ok(None);
    }
    let end = request
        .params
        .time("end")?
        .unwrap_or_else(|| Utc::now().timestamp_millis());
    let start = request.params.time("start")?.unwrap_or(i64::MIN / 2);
    let mut found: HashMap<i64, store::Labels> = HashMap::new();
    for text in selectors {
        let expr = parse(Some(text))?;
        let promql_parser::parser::Expr::VectorSelector(selector) = expr else {
            return Err(PromError::bad_data(format!(
                "invalid parameter \"match[]\": `{text}` is not a series selector"
            )));
        };
        let mut matchers = selector.matchers.matchers.clone();
        if let Some(name) = &selector.name {
            matchers.push(promql_parser::label::Matcher::new(
                promql_parser::label::MatchOp::Equal,
                "__name__",
                name,
            ));
        }
        for row in
            store::select_series(&state.queries, request.project_id, &matchers, start, end).await?
        {
            found.insert(row.id, row.labels);
        }
    }
    let mut all: Vec<store::Labels> = found.into_values().collect();
    all.sort();
    Ok(Some(all))
}

/// `GET|POST /api/v1/series`.
async fn series(State(state): State<AppState>, request: Request) -> Result<Response, PromError> {
    let series = matched_series(&state, &request)
        .await?
        .ok_or_else(|| PromError::bad_data("no match[] parameter provided"))?;
    Ok(success(Value::Array(
        series.iter().map(|labels| metric(labels)).collect(),
    )))
}

/// `GET|POST /api/v1/labels`.
async fn labels(State(state): State<AppState>, request: Request) -> Result<Response, PromError> {
    let names = match matched_series(&state, &request).await? {
        Some(series) => {
            let mut names: Vec<String> = series.into_iter().flatten().map(|(n, _)| n).collect();
            names.sort();
            names.dedup();
            names
        }
        None => store::label_names(&state.queries, request.project_id).await?,
    };
    Ok(success(json!(names)))
}

/// `GET /api/v1/label/{name}/values`.
async fn label_values(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, PromError> {
    let name = request.name.clone().unwrap_or_default();
    let values = match matched_series(&state, &request).await? {
        Some(series) => {
            let mut values: Vec<String> = series
                .into_iter()
                .flatten()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| v)
                .collect();
            values.sort();
            values.dedup();
            values
        }
        None => store::label_values(&state.queries, request.project_id, &name).await?,
    };
    Ok(success(json!(values)))
}

/// `GET /api/v1/metadata`.
async fn metadata(State(state): State<AppState>, request: Request) -> Result<Response, PromError> {
    let limit = request
        .params
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(10_000)
        .min(10_000);
    let rows = store::metadata(
        &state.queries,
        request.project_id,
        request.params.get("metric"),
        limit,
    )
    .await?;
    let mut data = serde_json::Map::new();
    for (metric, kind, help, unit) in rows {
        data.insert(metric, json!([{"type": kind, "help": help, "unit": unit}]));
    }
    Ok(success(Value::Object(data)))
}

/// `GET /api/v1/status/buildinfo`.
async fn buildinfo(_: Request) -> Result<Response, PromError> {
    Ok(success(json!({
        "version": PROMETHEUS_VERSION,
        "revision": format!("sightline-{}", env!("CARGO_PKG_VERSION")),
        "branch": "",
        "buildUser": "sightline",
        "buildDate": "",
        "goVersion": "",
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_read_as_prometheus_reads_them() {
        assert_eq!(parse_time("1700000000.5"), Some(1_700_000_000_500));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_duration("15s"), Some(15_000));
        assert_eq!(parse_duration("1m30s"), Some(90_000));
        assert_eq!(parse_duration("250ms"), Some(250));
        assert_eq!(parse_duration("0.5"), Some(500));
        assert_eq!(parse_duration("0"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("5"), Some(5000));
    }

    #[test]
    fn times_are_written_as_prometheus_writes_them() {
        let text = |ms| serde_json::to_string(&Seconds(ms)).unwrap_or_default();
        assert_eq!(text(1_700_000_000_000), "1700000000");
        assert_eq!(text(1_700_000_000_500), "1700000000.5");
        assert_eq!(text(1_700_000_000_001), "1700000000.001");
        assert_eq!(text(-1_500), "-1.5");
    }
}
