//! Ingest keys of a project: list, create, rotate, revoke. A key authenticates
//! ingestion into its own project only, and is the public key of the Sentry DSN.

use app::api::{NewKey, ProjectKey, Role};
use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::{secret, Caller},
    config::Config,
    http::error::{ApiError, ApiResult, Json, Path},
    AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(rotate_key))
        .routes(routes!(revoke_key))
}

/// Lists the project's keys, revoked ones included, with their DSNs.
#[utoipa::path(get, path = "/projects/{project}/keys", tag = "projects",
    params(("project" = String, Path, description = "id or slug")),
    responses((status = 200, body = Vec<ProjectKey>), (status = 401), (status = 403), (status = 404)))]
async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<Vec<ProjectKey>>> {
    caller.require(Role::Viewer)?;
    let project = super::find(&state.pool, &project).await?;
    let rows: Vec<KeyRow> = sqlx::query_as(
        "select project_key_id, project_id, label, public_key, created_at, revoked_at
         from project_key where project_id = $1 order by revoked_at nulls first, project_key_id",
    )
    .bind(project.project_id)
    .fetch_all(&state.pool)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| r.into_key(&state.config))
            .collect(),
    ))
}

/// Creates another key (admin).
#[utoipa::path(post, path = "/projects/{project}/keys", tag = "projects",
    params(("project" = String, Path, description = "id or slug")),
    request_body = NewKey,
    responses((status = 201, body = ProjectKey), (status = 400), (status = 401), (status = 403), (status = 404)))]
async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(new): Json<NewKey>,
) -> ApiResult<(StatusCode, Json<ProjectKey>)> {
    caller.require(Role::Admin)?;
    let project = super::find(&state.pool, &project).await?;
    let label = new.label.as_deref().unwrap_or("Default");
    let key = insert_key(&state.pool, &state.config, project.project_id, label).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

/// Replaces a key: a new key with the same label, the old one revoked (admin).
#[utoipa::path(post, path = "/projects/{project}/keys/{key_id}/rotate", tag = "projects",
    params(("project" = String, Path, description = "id or slug"), ("key_id" = i64, Path, description = "the key's id")),
    responses((status = 200, body = ProjectKey), (status = 401), (status = 403), (status = 404)))]
async fn rotate_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, key_id)): Path<(String, i64)>,
) -> ApiResult<Json<ProjectKey>> {
    caller.require(Role::Admin)?;
    let project = super::find(&state.pool, &project).await?;
    let mut tx = state.pool.begin().await?;
    let label: Option<String> = sqlx::query_scalar(
        "update project_key set revoked_at = now()
         where project_key_id = $1 and project_id = $2 and revoked_at is null returning label",
    )
    .bind(key_id)
    .bind(project.project_id)
    .fetch_optional(&mut *tx)
    .await?;
    let label = label
        .ok_or_else(|| ApiError::NotFound(format!("no active key {key_id} in this project")))?;
    let key = insert_key(&mut *tx, &state.config, project.project_id, &label).await?;
    tx.commit().await?;
    state.ingest_keys.clear();
    tracing::info!(
        project.id = project.project_id,
        key.id = key.key_id,
        "ingest key rotated"
    );
    Ok(Json(key))
}

/// Revokes a key (admin): it stops authenticating at once on this instance,
/// and within [`crate::ingest::auth::KEY_TTL`] on others.
#[utoipa::path(delete, path = "/projects/{project}/keys/{key_id}", tag = "projects",
    params(("project" = String, Path, description = "id or slug"), ("key_id" = i64, Path, description = "the key's id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    Path((project, key_id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    let project = super::find(&state.pool, &project).await?;
    let done = sqlx::query(
        "update project_key set revoked_at = coalesce(revoked_at, now())
         where project_key_id = $1 and project_id = $2",
    )
    .bind(key_id)
    .bind(project.project_id)
    .execute(&state.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound(format!(
            "no key {key_id} in this project"
        )));
    }
    state.ingest_keys.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a key for a project.
pub async fn insert_key(
    db: impl PgExecutor<'_>,
    config: &Config,
    project_id: i64,
    label: &str,
) -> ApiResult<ProjectKey> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(ApiError::BadRequest(
            "label: use 1 to 100 characters".into(),
        ));
    }
    let row: KeyRow = sqlx::query_as(
        "insert into project_key (project_id, label, public_key) values ($1, $2, $3)
         returning project_key_id, project_id, label, public_key, created_at, revoked_at",
    )
    .bind(project_id)
    .bind(label)
    .bind(secret::random_hex(16))
    .fetch_one(db)
    .await?;
    Ok(row.into_key(config))
}

#[derive(Debug, sqlx::FromRow)]
struct KeyRow {
    project_key_id: i64,
    project_id: i64,
    label: String,
    public_key: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl KeyRow {
    fn into_key(self, config: &Config) -> ProjectKey {
        ProjectKey {
            dsn: config.dsn(&self.public_key, self.project_id),
            key_id: self.project_key_id,
            project_id: self.project_id,
            label: self.label,
            public_key: self.public_key,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        }
    }
}
