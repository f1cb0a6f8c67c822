//! [`ReadScope`]: the project a read is about and the right to read it, as one
//! extractor. Every read endpoint under `/projects/{project}/...` takes it
//! instead of checking the caller's role and looking the project up itself.

use std::collections::HashMap;

use app::api::{Project, Role};
use axum::{extract::FromRequestParts, http::request::Parts};

use crate::{
    auth::Caller,
    http::error::{ApiError, Path},
    projects, AppState,
};

/// A project the caller may read: the `{project}` path parameter (id or slug)
/// resolved, for a caller with at least the viewer role. Answers 401 without
/// credentials, 403 for an ingest key, 404 for an unknown project, in that order.
#[derive(Debug, Clone)]
pub struct ReadScope {
    pub project: Project,
    pub caller: Caller,
}

impl ReadScope {
    /// The project's id.
    pub fn project_id(&self) -> i64 {
        self.project.project_id
    }

    /// The scope of a project named in a request body (`POST /api/v1/query`).
    pub async fn of(state: &AppState, caller: Caller, project: &str) -> Result<Self, ApiError> {
        caller.require(Role::Viewer)?;
        let project = projects::find(&state.pool, project).await?;
        Ok(ReadScope { project, caller })
    }
}

impl FromRequestParts<AppState> for ReadScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(Role::Viewer)?;
        let Path(params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let project = params.get("project").ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("ReadScope on a route without {{project}}"))
        })?;
        let project = projects::find(&state.pool, project).await?;
        Ok(ReadScope { project, caller })
    }
}
