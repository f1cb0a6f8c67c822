//! What every page inside the app layout shares: who is logged in, the list of
//! projects, and which project is selected. [`AppLayout`](crate::components::layout::AppLayout)
//! provides it; pages read it with [`use_session`].

use leptos::prelude::*;

use crate::api::{client, client::ApiError, Me, Project};
use crate::url_state::{use_query, PROJECT_KEY};

/// The resources loaded once per visit and shared by the layout and the pages.
#[derive(Clone, Copy)]
pub struct Session {
    /// `GET /me`.
    pub me: LocalResource<Result<Me, ApiError>>,
    /// `GET /projects`; refetch it after creating, renaming or deleting a project.
    pub projects: LocalResource<Result<Vec<Project>, ApiError>>,
}

impl Session {
    /// Starts loading the shared resources and puts them in context.
    pub fn provide() -> Session {
        let session = Session {
            me: LocalResource::new(client::me),
            projects: LocalResource::new(client::projects),
        };
        provide_context(session);
        session
    }
}

/// The session provided by the app layout.
///
/// Outside the layout (which only a programming mistake can cause) this starts a
/// fresh session rather than panicking.
pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(Session::provide)
}

/// The selected project: the one named by `?project=<slug>`, or else the first
/// project. `None` while loading, on error, or when there are no projects.
pub fn use_selected_project() -> Signal<Option<Project>> {
    let session = use_session();
    let query = use_query();
    Signal::derive(move || {
        let wanted = query.with(|q| q.get(PROJECT_KEY));
        let projects = session.projects.get()?.ok()?;
        wanted
            .and_then(|slug| projects.iter().find(|p| p.slug == slug).cloned())
            .or_else(|| projects.first().cloned())
    })
}
