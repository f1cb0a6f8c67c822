//! Settings → Projects: list, create, rename, delete (after a confirmation);
//! the changes for admins only.

use leptos::prelude::*;

use super::short_date;
use crate::api::{client, NewProject, Project, ProjectPatch, Role};
use crate::components::status::{EmptyState, ErrorBox, ErrorText, Loading};
use crate::session::{use_denied, use_session};
use crate::url_state::{use_query, use_set_query, PROJECT_KEY};

/// The create form and the project table.
#[component]
pub fn ProjectsSection() -> impl IntoView {
    let session = use_session();
    let query = use_query();
    let set_query = use_set_query();
    let slug = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let request = NewProject {
            slug: slug.get_untracked().trim().to_owned(),
            name: name.get_untracked().trim().to_owned(),
        };
        if request.slug.is_empty() || request.name.is_empty() {
            error.set(Some("Enter a slug and a name.".to_owned()));
            return;
        }
        busy.set(true);
        error.set(None);
        let set_query = set_query.clone();
        leptos::task::spawn_local(async move {
            match client::create_project(&request).await {
                Ok(done) => {
                    created.set(Some(done.project.name.clone()));
                    slug.set(String::new());
                    name.set(String::new());
                    session.projects.refetch();
                    // Select the new project and show its key and DSN.
                    let mut q = query.get_untracked();
                    q.replace(PROJECT_KEY, done.project.slug);
                    q.replace(super::TAB_KEY, super::Tab::Keys.as_str().to_owned());
                    set_query(q);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    let list = move || {
        session.projects.get().map(|answer| match answer {
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(projects) if projects.is_empty() => view! {
                <EmptyState title="No projects yet" detail="A project groups what one service or product sends. Create one above to get its DSN and ingest key."/>
            }
            .into_any(),
            Ok(projects) => {
                let rows = projects
                    .into_iter()
                    .map(|p| view! { <ProjectRow project=p/> })
                    .collect_view();
                view! {
                    <table class="table">
                        <thead>
                            <tr>
                                <th>"Name"</th>
                                <th>"Slug"</th>
                                <th>"Created"</th>
                                <th class="actions">"Actions"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
                .into_any()
            }
        })
    };

    let denied = use_denied(Role::Admin, "Creating and changing projects");
    view! {
        <section id="projects" class="card section">
            <h2>"Projects"</h2>
            <Show when=move || denied.with(Option::is_none)>
            <form class="inline-form" on:submit=create.clone()>
                <label class="field">
                    <span>"Slug"</span>
                    <input
                        id="project-slug"
                        class="input"
                        placeholder="web-shop"
                        pattern="[a-z0-9][a-z0-9\\-]*"
                        title="lowercase letters, digits and -"
                        bind:value=slug
                    />
                </label>
                <label class="field">
                    <span>"Name"</span>
                    <input id="project-name" class="input" placeholder="Web shop" bind:value=name/>
                </label>
                <button id="project-create" class="button" type="submit" disabled=move || busy.get()>
                    "Create project"
                </button>
            </form>
            </Show>
            <ErrorText message=error/>
            {move || {
                created
                    .get()
                    .map(|name| {
                        view! {
                            <div class="notice">
                                {format!("Created {name}. Its ingest key and DSN are under Ingest keys below.")}
                            </div>
                        }
                    })
            }}
            <Suspense fallback=|| view! { <Loading what="Loading projects…"/> }>{list}</Suspense>
        </section>
    }
    .into_any()
}

/// What a project row is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowMode {
    View,
    Renaming,
    ConfirmingDelete,
}

/// One project: name, slug, created, and rename / delete.
#[component]
fn ProjectRow(project: Project) -> impl IntoView {
    let session = use_session();
    let query = use_query();
    let set_query = use_set_query();
    let mode = RwSignal::new(RowMode::View);
    let new_name = RwSignal::new(project.name.clone());
    let error = RwSignal::new(None::<String>);
    let slug = StoredValue::new(project.slug.clone());

    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let patch = ProjectPatch {
            name: Some(new_name.get_untracked().trim().to_owned()),
            slug: None,
        };
        leptos::task::spawn_local(async move {
            match client::update_project(&slug.get_value(), &patch).await {
                Ok(_) => {
                    error.set(None);
                    mode.set(RowMode::View);
                    session.projects.refetch();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let delete = move |_| {
        let set_query = set_query.clone();
        leptos::task::spawn_local(async move {
            let slug = slug.get_value();
            match client::delete_project(&slug).await {
                Ok(()) => {
                    let mut q = query.get_untracked();
                    if q.get_str(PROJECT_KEY) == Some(slug.as_str()) {
                        q.remove(PROJECT_KEY);
                        set_query(q);
                    }
                    session.projects.refetch();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let name = project.name.clone();
    let denied = use_denied(Role::Admin, "Changing a project");
    let actions = move || {
        if denied.with(Option::is_some) {
            return ().into_any();
        }
        match mode.get() {
        RowMode::View => view! {
            <button type="button" class="button secondary small" on:click=move |_| mode.set(RowMode::Renaming)>
                "Rename"
            </button>
            <button type="button" class="button danger small" on:click=move |_| mode.set(RowMode::ConfirmingDelete)>
                "Delete"
            </button>
        }
        .into_any(),
        RowMode::Renaming => view! {
            <form class="inline-form compact" on:submit=rename>
                <input class="input" aria-label="New name" bind:value=new_name/>
                <button type="submit" class="button small">"Save"</button>
                <button type="button" class="button secondary small" on:click=move |_| mode.set(RowMode::View)>
                    "Cancel"
                </button>
            </form>
        }
        .into_any(),
        RowMode::ConfirmingDelete => view! {
            <span class="confirm">
                {format!("Delete {} and all its data?", name)}
                <button type="button" class="button danger small" on:click=delete.clone()>
                    "Yes, delete"
                </button>
                <button type="button" class="button secondary small" on:click=move |_| mode.set(RowMode::View)>
                    "Cancel"
                </button>
            </span>
        }
        .into_any(),
    }
    };

    view! {
        <tr>
            <td>{project.name.clone()}</td>
            <td>
                <code>{project.slug.clone()}</code>
            </td>
            <td>{short_date(project.created_at)}</td>
            <td class="actions">
                {actions}
                <ErrorText message=error/>
            </td>
        </tr>
    }
    .into_any()
}
