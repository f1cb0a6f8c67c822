//! What every page inside the app layout shares: who is logged in, the list of
//! projects, and which project is selected (the URL's, else the user's default,
//! which follows the project they last looked at). [`AppLayout`](crate::components::layout::AppLayout)
//! provides it; pages read it with [`use_session`].

use leptos::prelude::*;

use crate::api::{client, client::ApiError, DefaultProject, Me, Project, Role};
use crate::url_state::{use_query, PROJECT_KEY};

/// The resources loaded once per visit and shared by the layout and the pages.
#[derive(Clone, Copy)]
pub struct Session {
    /// `GET /me`.
    pub me: LocalResource<Result<Me, ApiError>>,
    /// `GET /projects`; refetch it after creating, renaming or deleting a project.
    pub projects: LocalResource<Result<Vec<Project>, ApiError>>,
    /// `GET /me/project`: the project to open when the URL names none.
    pub default_project: LocalResource<Result<DefaultProject, ApiError>>,
}

impl Session {
    /// Starts loading the shared resources and puts them in context.
    pub fn provide() -> Session {
        let session = Session {
            me: LocalResource::new(client::me),
            projects: LocalResource::new(client::projects),
            default_project: LocalResource::new(client::default_project),
        };
        provide_context(session);
        session.remember_selected_project();
        session
    }

    /// Remembers the project named in the URL as the user's default, once per
    /// change (a failure only means the next visit opens another project).
    fn remember_selected_project(self) {
        let query = use_query();
        let remembered = StoredValue::new(None::<String>);
        Effect::new(move |_| {
            let Some(slug) = query.with(|q| q.get(PROJECT_KEY)) else {
                return;
            };
            let known = self
                .projects
                .get()
                .and_then(Result::ok)
                .is_some_and(|projects| projects.iter().any(|p| p.slug == slug));
            let default = self
                .default_project
                .get()
                .and_then(Result::ok)
                .and_then(|d| d.project);
            let current = remembered.get_value().or(default);
            if !known || current.as_deref() == Some(slug.as_str()) {
                return;
            }
            remembered.set_value(Some(slug.clone()));
            leptos::task::spawn_local(async move {
                let _ = client::remember_project(&slug).await;
            });
        });
    }
}

/// The session provided by the app layout.
///
/// Outside the layout (which only a programming mistake can cause) this starts a
/// fresh session rather than panicking.
pub fn use_session() -> Session {
    use_context::<Session>().unwrap_or_else(Session::provide)
}

/// Why the caller may not do `what`, which needs `role` ("Changing an issue
/// needs the editor role; you are viewer"), or `None` when they may. Controls
/// are disabled with this as their reason, rather than failing after a click;
/// `None` too while `/me` loads (the server checks either way).
pub fn use_denied(role: Role, what: &'static str) -> Signal<Option<String>> {
    let session = use_session();
    Signal::derive(move || match session.me.get() {
        Some(Ok(me)) if me.role < role => {
            Some(format!("{what} needs the {role} role; you are {}", me.role))
        }
        _ => None,
    })
}

/// The selected project: the one named by `?project=<slug>`, else the user's
/// default, else the first project. `None` while loading, on error, or when
/// there are no projects.
pub fn use_selected_project() -> Signal<Option<Project>> {
    let session = use_session();
    let query = use_query();
    Signal::derive(move || {
        let wanted = query.with(|q| q.get(PROJECT_KEY));
        let projects = session.projects.get()?.ok()?;
        let find = |slug: String| projects.iter().find(|p| p.slug == slug).cloned();
        if let Some(project) = wanted.and_then(find) {
            return Some(project);
        }
        // Waits for the default rather than showing the first project a moment.
        let default = session.default_project.get()?;
        default
            .ok()
            .and_then(|d| d.project)
            .and_then(find)
            .or_else(|| projects.first().cloned())
    })
}
