//! Scrape targets of a project: `GET|POST /projects/{project}/metrics/targets`
//! and `DELETE .../targets/{target_id}`, and the SQL the scraper (an
//! adapter that pulls) claims due targets and records their state with. Listing needs the viewer role; adding and removing a
//! target, the admin role (a target holds credentials and makes Sightline
//! fetch a URL). Credentials are never returned.

use std::collections::{BTreeMap, HashSet};

use app::api::{
    CreatedScrapeTarget, InstantValue, MetricLabel, MetricName, NewScrapeTarget, Role, ScrapeAuth,
    ScrapeTarget,
};
use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use sqlx::{types::Json as Jsonb, PgExecutor};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::record::{valid_label_name, MAX_VALUE_BYTES};
use crate::{
    auth::Caller,
    http::error::{ApiError, ApiResult, Json, Path, Query},
    projects, AppState,
};

/// Most targets one project may have.
const MAX_TARGETS: i64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_targets, create_target))
        .routes(routes!(delete_target))
        .routes(routes!(metric_names))
        .routes(routes!(metric_labels))
        .routes(routes!(instant_query))
}

/// Parameters of an instant query.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
struct InstantParams {
    /// PromQL (format `promql`).
    #[param(format = "promql")]
    query: String,
}

/// The value of each series of a PromQL query now (the explorer's table of
/// latest values; Prometheus's own `/api/v1/query` answers the same).
#[utoipa::path(get, path = "/projects/{project}/metrics/instant", tag = "metrics",
    params(("project" = String, Path, description = "id or slug"), InstantParams),
    responses((status = 200, body = Vec<InstantValue>), (status = 400), (status = 401), (status = 403), (status = 404), (status = 422)))]
async fn instant_query(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(params): Query<InstantParams>,
) -> ApiResult<Json<Vec<InstantValue>>> {
    caller.require(Role::Viewer)?;
    let project = projects::find(&state.pool, &project).await?;
    let expr = super::api::parse(Some(&params.query))?;
    let now = Utc::now().timestamp_millis();
    let values = super::api::instant(&state.queries, project.project_id, expr, now).await?;
    Ok(Json(
        values
            .into_iter()
            .map(|(labels, value)| InstantValue {
                labels: labels.into_vec().into_iter().collect(),
                value: super::promql::format_value(value),
            })
            .collect(),
    ))
}

/// The project's metric names, with HELP, TYPE and UNIT where a client sent
/// them (the explorer's autocompletion).
#[utoipa::path(get, path = "/projects/{project}/metrics/names", tag = "metrics",
    params(("project" = String, Path, description = "id or slug")),
    responses((status = 200, body = Vec<MetricName>), (status = 401), (status = 403), (status = 404)))]
async fn metric_names(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<MetricName>>> {
    caller.require(Role::Viewer)?;
    let project = projects::find(&state.pool, &project).await?;
    let rows = super::store::metric_names(&state.queries, project.project_id)
        .await
        .map_err(|e| match e {
            super::store::StoreError::Database(e) => crate::query::query_error(e),
            super::store::StoreError::TooMuch(m) => ApiError::BadRequest(m),
        })?;
    Ok(Json(
        rows.into_iter()
            .map(|(name, kind, help, unit)| MetricName {
                name,
                kind,
                help: help.unwrap_or_default(),
                unit: unit.unwrap_or_default(),
            })
            .collect(),
    ))
}

/// Values listed per label by [`metric_labels`].
const MAX_LABEL_VALUES: i64 = 200;

/// Parameters of a label listing.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
struct LabelParams {
    /// The metric whose series' labels are listed.
    metric: String,
}

/// The labels of a metric's series with their values, `__name__` aside (the
/// explorer's label filters): at most 200 values a label, by value.
#[utoipa::path(get, path = "/projects/{project}/metrics/labels", tag = "metrics",
    params(("project" = String, Path, description = "id or slug"), LabelParams),
    responses((status = 200, body = Vec<MetricLabel>), (status = 400), (status = 401), (status = 403), (status = 404)))]
async fn metric_labels(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Query(params): Query<LabelParams>,
) -> ApiResult<Json<Vec<MetricLabel>>> {
    caller.require(Role::Viewer)?;
    let project = projects::find(&state.pool, &project).await?;
    let rows = super::store::metric_labels(
        &state.queries,
        project.project_id,
        &params.metric,
        MAX_LABEL_VALUES,
    )
    .await
    .map_err(super::api::PromError::from)?;
    let mut labels: Vec<MetricLabel> = Vec::new();
    for (name, value) in rows {
        let label = match labels.last_mut() {
            Some(last) if last.name == name => last,
            _ => {
                labels.push(MetricLabel {
                    name,
                    values: Vec::new(),
                    truncated: false,
                });
                let last = labels.len() - 1;
                &mut labels[last]
            }
        };
        if label.values.len() as i64 == MAX_LABEL_VALUES {
            label.truncated = true;
        } else {
            label.values.push(value);
        }
    }
    Ok(Json(labels))
}

/// A target as the scraper needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueTarget {
    pub target_id: i64,
    pub project_id: i64,
    pub job: String,
    pub url: String,
    pub interval_seconds: i32,
    pub timeout_seconds: i32,
    pub labels: Jsonb<BTreeMap<String, String>>,
    pub auth: Option<Jsonb<ScrapeAuth>>,
    pub tls_verify: bool,
    pub honor_labels: bool,
}

/// Claims the targets due now (at most `limit`): each is moved to its next
/// time in the same statement, and rows another instance is claiming are
/// skipped, so every scrape is done by one instance.
pub async fn claim_due(
    executor: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<DueTarget>, sqlx::Error> {
    sqlx::query_as(
        "with due as (
             select target_id from scrape_target where next_scrape_at <= now()
             order by next_scrape_at limit $1 for update skip locked)
         update scrape_target t set next_scrape_at =
             case when t.next_scrape_at + make_interval(secs => t.interval_seconds) > now()
                  then t.next_scrape_at + make_interval(secs => t.interval_seconds)
                  else now() + make_interval(secs => t.interval_seconds) end
         from due where t.target_id = due.target_id
         returning t.target_id, t.project_id, t.job, t.url, t.interval_seconds, t.timeout_seconds,
                   t.labels, t.auth, t.tls_verify, t.honor_labels",
    )
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Which of `target_ids` still exist (the scraper forgets the others).
pub async fn existing(
    executor: impl PgExecutor<'_>,
    target_ids: &[i64],
) -> Result<HashSet<i64>, sqlx::Error> {
    let kept: Vec<i64> =
        sqlx::query_scalar("select target_id from scrape_target where target_id = any($1)")
            .bind(target_ids)
            .fetch_all(executor)
            .await?;
    Ok(kept.into_iter().collect())
}

/// What one scrape came to.
#[derive(Debug, Clone)]
pub struct ScrapeState {
    pub at: DateTime<Utc>,
    /// Whether the target answered with metrics (`up`).
    pub up: bool,
    pub duration_seconds: f64,
    pub samples: i32,
    /// What went wrong, also when some lines could not be read of a body
    /// that was otherwise stored.
    pub error: Option<String>,
}

/// Records the outcome of a target's last scrape.
pub async fn record(
    executor: impl PgExecutor<'_>,
    target_id: i64,
    state: &ScrapeState,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update scrape_target set last_scrape_at = $2, last_duration_s = $3, last_samples = $4,
             last_error = $5, health = case when $6 then 'up' else 'down' end
         where target_id = $1",
    )
    .bind(target_id)
    .bind(state.at)
    .bind(state.duration_seconds)
    .bind(state.samples)
    .bind(&state.error)
    .bind(state.up)
    .execute(executor)
    .await?;
    Ok(())
}

/// The `instance` label of a URL: its host and port (the scheme's default
/// port when none is written), as Prometheus names a target.
pub fn instance_of(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    Some(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

/// The project Sightline's own metrics go to.
pub const SELF_PROJECT: &str = "sightline";

/// Makes sure Sightline scrapes its own `/metrics` at `url` every 15 s into
/// the project [`SELF_PROJECT`] (created, with an ingest key, if missing).
pub async fn ensure_self_scrape(state: &AppState, url: &str) -> Result<(), ApiError> {
    let project_id = match projects::find(&state.pool, SELF_PROJECT).await {
        Ok(project) => project.project_id,
        Err(ApiError::NotFound(_)) => {
            projects::insert_project(state, SELF_PROJECT, "Sightline (self-monitoring)")
                .await?
                .project
                .project_id
        }
        Err(other) => return Err(other),
    };
    sqlx::query(
        "insert into scrape_target (project_id, job, url, interval_seconds, timeout_seconds)
         values ($1, 'sightline', $2, 15, 10)
         on conflict (project_id, job, url) do nothing",
    )
    .bind(project_id)
    .bind(url)
    .execute(&state.pool)
    .await?;
    Ok(())
}

/// A new target checked: the URL parsed, the timeout resolved.
fn check(new: &NewScrapeTarget) -> Result<(url::Url, i32), ApiError> {
    let bad = |m: String| ApiError::BadRequest(m);
    if new.job.trim().is_empty() || new.job.len() > MAX_VALUE_BYTES {
        return Err(bad("job: give the job a name".into()));
    }
    let url = url::Url::parse(&new.url).map_err(|e| bad(format!("url: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || instance_of(&url).is_none() {
        return Err(bad("url: use an http:// or https:// URL with a host".into()));
    }
    // The URL is shown to every viewer; a user name or password in it would be too.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "url: leave the user name and password out of the URL; credentials go in `auth`".into(),
        ));
    }
    if !(1..=3600).contains(&new.interval_seconds) {
        return Err(bad("interval_seconds: use 1 to 3600".into()));
    }
    let timeout = new.timeout_seconds.unwrap_or(new.interval_seconds.min(10));
    if !(1..=new.interval_seconds).contains(&timeout) {
        return Err(bad("timeout_seconds: use 1 up to the interval".into()));
    }
    for (name, value) in &new.labels {
        if !valid_label_name(name) || name.starts_with("__") {
            return Err(bad(format!("labels: `{name}` is not a label name")));
        }
        if value.len() > MAX_VALUE_BYTES {
            return Err(bad(format!("labels: the value of `{name}` is too long")));
        }
    }
    Ok((url, timeout))
}

/// Adds a target (admin); its first scrape is due at once.
#[utoipa::path(post, path = "/projects/{project}/metrics/targets", tag = "metrics",
    params(("project" = String, Path, description = "id or slug")),
    request_body = NewScrapeTarget,
    responses((status = 201, body = CreatedScrapeTarget), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)))]
async fn create_target(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(new): Json<NewScrapeTarget>,
) -> ApiResult<(StatusCode, Json<CreatedScrapeTarget>)> {
    caller.require(Role::Admin)?;
    let project = projects::find(&state.pool, &project).await?;
    let (url, timeout) = check(&new)?;
    let count: i64 = sqlx::query_scalar("select count(*) from scrape_target where project_id = $1")
        .bind(project.project_id)
        .fetch_one(&state.pool)
        .await?;
    if count >= MAX_TARGETS {
        return Err(ApiError::Conflict(format!(
            "a project has at most {MAX_TARGETS} scrape targets"
        )));
    }
    let target_id: Option<i64> = sqlx::query_scalar(
        "insert into scrape_target (project_id, job, url, interval_seconds, timeout_seconds,
             labels, auth, tls_verify, honor_labels)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (project_id, job, url) do nothing
         returning target_id",
    )
    .bind(project.project_id)
    .bind(new.job.trim())
    .bind(url.as_str())
    .bind(new.interval_seconds)
    .bind(timeout)
    .bind(Jsonb(&new.labels))
    .bind(new.auth.as_ref().map(Jsonb))
    .bind(new.tls_verify.unwrap_or(true))
    .bind(new.honor_labels.unwrap_or(false))
    .fetch_optional(&state.pool)
    .await?;
    let target_id = target_id.ok_or_else(|| {
        ApiError::Conflict("this project already scrapes that URL for that job".into())
    })?;
    tracing::info!(
        project.id = project.project_id,
        target.id = target_id,
        "scrape target added"
    );
    Ok((StatusCode::CREATED, Json(CreatedScrapeTarget { target_id })))
}

/// The project's targets with the state of their last scrape.
#[utoipa::path(get, path = "/projects/{project}/metrics/targets", tag = "metrics",
    params(("project" = String, Path, description = "id or slug")),
    responses((status = 200, body = Vec<ScrapeTarget>), (status = 401), (status = 403), (status = 404)))]
async fn list_targets(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<ScrapeTarget>>> {
    caller.require(Role::Viewer)?;
    let project = projects::find(&state.pool, &project).await?;
    let rows: Vec<TargetRow> = sqlx::query_as(
        "select target_id, job, url, interval_seconds, timeout_seconds, labels, auth, tls_verify,
                honor_labels, health, last_scrape_at, last_duration_s, last_samples, last_error
         from scrape_target where project_id = $1 order by job, url",
    )
    .bind(project.project_id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(rows.into_iter().map(TargetRow::into_target).collect()))
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    target_id: i64,
    job: String,
    url: String,
    interval_seconds: i32,
    timeout_seconds: i32,
    labels: Jsonb<BTreeMap<String, String>>,
    auth: Option<Jsonb<ScrapeAuth>>,
    tls_verify: bool,
    honor_labels: bool,
    health: String,
    last_scrape_at: Option<DateTime<Utc>>,
    last_duration_s: Option<f64>,
    last_samples: Option<i32>,
    last_error: Option<String>,
}

impl TargetRow {
    fn into_target(self) -> ScrapeTarget {
        let instance = url::Url::parse(&self.url)
            .ok()
            .and_then(|u| instance_of(&u))
            .unwrap_or_default();
        ScrapeTarget {
            target_id: self.target_id,
            job: self.job,
            url: self.url,
            instance,
            interval_seconds: self.interval_seconds,
            timeout_seconds: self.timeout_seconds,
            labels: self.labels.0,
            auth: self.auth.map(|a| {
                match a.0 {
                    ScrapeAuth::Basic { .. } => "basic",
                    ScrapeAuth::Bearer { .. } => "bearer",
                }
                .to_string()
            }),
            tls_verify: self.tls_verify,
            honor_labels: self.honor_labels,
            health: self.health,
            last_scrape: self.last_scrape_at,
            last_duration_seconds: self.last_duration_s,
            last_samples: self.last_samples,
            last_error: self.last_error,
        }
    }
}

/// Removes a target (admin); its series stay until retention.
#[utoipa::path(delete, path = "/projects/{project}/metrics/targets/{target_id}", tag = "metrics",
    params(("project" = String, Path, description = "id or slug"), ("target_id" = i64, Path, description = "the target's id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
async fn delete_target(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, target_id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    let project = projects::find(&state.pool, &project).await?;
    let done = sqlx::query("delete from scrape_target where target_id = $1 and project_id = $2")
        .bind(target_id)
        .bind(project.project_id)
        .execute(&state.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound(format!(
            "no scrape target {target_id} in this project"
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}
