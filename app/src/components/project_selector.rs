//! The top bar's project selector. The choice lives in the URL (`?project=<slug>`).

use leptos::prelude::*;

use crate::session::{use_selected_project, use_session};
use crate::url_state::{href_keeping_query, use_query, use_set_query, PROJECT_KEY};

/// A `<select>` of all projects; choosing one rewrites `?project=`.
#[component]
pub fn ProjectSelector() -> impl IntoView {
    let session = use_session();
    let selected = use_selected_project();
    let query = use_query();
    let set_query = use_set_query();

    let on_change = move |ev: leptos::ev::Event| {
        let mut q = query.get_untracked();
        q.replace(PROJECT_KEY, event_target_value(&ev));
        set_query(q);
    };

    view! {
        <div class="project-selector">
            <label for="project-select" class="topbar-label">"Project"</label>
            <Suspense fallback=|| view! { <span class="muted">"Loading projects…"</span> }>
                {move || Suspend::new({
                    let on_change = on_change.clone();
                    async move {
                        match session.projects.await {
                            Ok(projects) if projects.is_empty() => {
                                let href = query.with_untracked(|q| href_keeping_query("/settings", q));
                                view! {
                                    <a href=href class="muted">"No projects yet — create one"</a>
                                }
                                    .into_any()
                            }
                            Ok(projects) => {
                                let options = projects
                                    .into_iter()
                                    .map(|p| {
                                        let slug = p.slug.clone();
                                        let is_selected = move || {
                                            selected.with(|s| s.as_ref().is_some_and(|s| s.slug == slug))
                                        };
                                        view! {
                                            <option value=p.slug.clone() prop:selected=is_selected>
                                                {p.name}
                                            </option>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <select id="project-select" class="input" on:change=on_change>
                                        {options}
                                    </select>
                                }
                                    .into_any()
                            }
                            Err(error) => {
                                view! {
                                    <span class="error inline" title=error.to_string()>
                                        "Projects unavailable"
                                    </span>
                                }
                                    .into_any()
                            }
                        }
                    }
                })}
            </Suspense>
        </div>
    }
    .into_any()
}
