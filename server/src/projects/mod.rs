//! Projects (integer id, slug, name) and their ingest keys ([`keys`]).
//!
//! `{project}` in a path is the project's id or its slug.

mod default;
pub mod keys;

use app::api::{NewProject, Project, ProjectCreated, ProjectPatch, Role};
use axum::{extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    auth::Caller,
    http::error::{ApiError, ApiResult, Json, Path},
    AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
        .merge(keys::router())
        .merge(default::router())
}

/// Lists projects.
#[utoipa::path(get, path = "/projects", tag = "projects",
    responses((status = 200, body = Vec<Project>), (status = 401), (status = 403)))]
async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Project>>> {
    caller.require(Role::Viewer)?;
    let rows: Vec<ProjectRow> =
        sqlx::query_as("select project_id, slug, name, created_at from project order by slug")
            .fetch_all(&state.pool)
            .await?;
    Ok(Json(rows.into_iter().map(Project::from).collect()))
}

/// Creates a project with a first ingest key (admin).
#[utoipa::path(post, path = "/projects", tag = "projects", request_body = NewProject,
    responses((status = 201, body = ProjectCreated), (status = 400), (status = 401), (status = 403), (status = 409)))]
async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    Json(new): Json<NewProject>,
) -> ApiResult<(StatusCode, Json<ProjectCreated>)> {
    caller.require(Role::Admin)?;
    let created = insert_project(&state, &new.slug, &new.name).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// One project.
#[utoipa::path(get, path = "/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "id or slug")),
    responses((status = 200, body = Project), (status = 401), (status = 403), (status = 404)))]
async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<Json<Project>> {
    caller.require(Role::Viewer)?;
    Ok(Json(find(&state.pool, &project).await?))
}

/// Renames a project or changes its slug (admin).
#[utoipa::path(patch, path = "/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "id or slug")),
    request_body = ProjectPatch,
    responses((status = 200, body = Project), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409)))]
async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
    Json(patch): Json<ProjectPatch>,
) -> ApiResult<Json<Project>> {
    caller.require(Role::Admin)?;
    let current = find(&state.pool, &project).await?;
    let row: ProjectRow = sqlx::query_as(
        "update project set name = coalesce($2, name), slug = coalesce($3, slug), updated_at = now()
         where project_id = $1 returning project_id, slug, name, created_at",
    )
    .bind(current.project_id)
    .bind(patch.name.as_deref().map(str::trim))
    .bind(patch.slug.as_deref().map(str::trim))
    .fetch_one(&state.pool)
    .await?;
    Ok(Json(row.into()))
}

/// Deletes a project and everything it holds (admin).
#[utoipa::path(delete, path = "/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "id or slug")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)))]
async fn delete_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(project): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    let current = find(&state.pool, &project).await?;
    sqlx::query("delete from project where project_id = $1")
        .bind(current.project_id)
        .execute(&state.pool)
        .await?;
    tracing::info!(project.id = current.project_id, "project deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Creates a project and its first key in one transaction (also `sightline project create`).
pub async fn insert_project(state: &AppState, slug: &str, name: &str) -> ApiResult<ProjectCreated> {
    let mut tx = state.pool.begin().await?;
    let row: ProjectRow = sqlx::query_as(
        "insert into project (slug, name) values ($1, $2)
         returning project_id, slug, name, created_at",
    )
    .bind(slug.trim())
    .bind(name.trim())
    .fetch_one(&mut *tx)
    .await?;
    let key = keys::insert_key(&mut *tx, &state.config, row.project_id, "Default").await?;
    tx.commit().await?;
    tracing::info!(project.id = row.project_id, "project created");
    Ok(ProjectCreated {
        project: row.into(),
        key,
    })
}

/// The project named by `id_or_slug`, or 404.
pub async fn find(db: impl PgExecutor<'_>, id_or_slug: &str) -> ApiResult<Project> {
    let row: Option<ProjectRow> = match id_or_slug.parse::<i64>() {
        Ok(id) => {
            sqlx::query_as(
                "select project_id, slug, name, created_at from project where project_id = $1",
            )
            .bind(id)
            .fetch_optional(db)
            .await?
        }
        Err(_) => {
            sqlx::query_as("select project_id, slug, name, created_at from project where slug = $1")
                .bind(id_or_slug)
                .fetch_optional(db)
                .await?
        }
    };
    row.map(Project::from)
        .ok_or_else(|| ApiError::NotFound(format!("no project `{id_or_slug}`")))
}

#[derive(Debug, sqlx::FromRow)]
struct ProjectRow {
    project_id: i64,
    slug: String,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        Project {
            project_id: row.project_id,
            slug: row.slug,
            name: row.name,
            created_at: row.created_at,
        }
    }
}
