//! [`ProjectScoped`]: what every page of one project's data (Logs, Errors,
//! Performance) shows before that data: the project list loading, its failure,
//! no project yet, or no project picked.

use leptos::prelude::*;

use crate::components::status::{EmptyState, ErrorBox, Loading};
use crate::session::{use_selected_project, use_session};

/// Waits for the project list, then renders `body` for the selected project's
/// slug (again only when the selection really changes), or says why there is
/// nothing to show.
#[component]
pub fn ProjectScoped(
    /// Shown when there is no project at all: how to get data into one.
    #[prop(into)]
    no_projects: String,
    /// Shown when no project is selected: "Choose a project in the top bar to …".
    #[prop(into)]
    pick: String,
    /// The page for a project.
    body: Callback<String, AnyView>,
) -> impl IntoView {
    let session = use_session();
    let selected = use_selected_project();
    let slug = Memo::new(move |_| selected.get().map(|p| p.slug));
    let content = move || {
        session.projects.get().map(|answer| match answer {
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(projects) if projects.is_empty() => view! {
                <div class="card">
                    <EmptyState title="No projects yet" detail=no_projects.clone()/>
                </div>
            }
            .into_any(),
            Ok(_) => match slug.get() {
                Some(project) => body.run(project),
                None => view! {
                    <div class="card">
                        <EmptyState title="Pick a project" detail=pick.clone()/>
                    </div>
                }
                .into_any(),
            },
        })
    };
    view! { <Suspense fallback=|| view! { <Loading what="Loading projects…"/> }>{content}</Suspense> }
        .into_any()
}
