//! The left navigation: one link per area, the current one highlighted, each link
//! keeping the project and time range of the query string so they follow the
//! user around (and nothing else: one page's search is not another's). Below
//! 900 px wide (phones) it folds into a bar with a menu button.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::url_state::{href_keeping_context, use_query};

/// The sidebar's entries: path and label (also each page's `<h1>`).
pub const SECTIONS: [(&str, &str); 9] = [
    ("/", "Overview"),
    ("/logs", "Logs"),
    ("/errors", "Errors"),
    ("/performance", "Performance"),
    // `/metrics` itself is the Prometheus scrape endpoint.
    ("/metrics/explore", "Metrics"),
    ("/analytics", "Analytics"),
    ("/dashboards", "Dashboards"),
    ("/alerts", "Alerts"),
    ("/settings", "Settings"),
];

/// The label of the section the page at `current` belongs to.
pub fn section_of(current: &str) -> Option<&'static str> {
    SECTIONS
        .into_iter()
        .find(|(path, _)| is_current(path, current))
        .map(|(_, label)| label)
}

/// Whether the sidebar entry for `path` is the page at `current`.
fn is_current(path: &str, current: &str) -> bool {
    if path == "/" {
        current == "/" || current.is_empty()
    } else {
        current == path || current.starts_with(&format!("{path}/"))
    }
}

/// The product name and `<nav class="sidebar">` with exactly the section links.
#[component]
pub fn Sidebar() -> impl IntoView {
    let pathname = use_location().pathname;
    let query = use_query();
    // The menu (narrow screens only) closes when a link is followed.
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        pathname.track();
        open.set(false);
    });
    let links = SECTIONS
        .into_iter()
        .map(|(path, label)| {
            let href = move || query.with(|q| href_keeping_context(path, q));
            let current = move || is_current(path, &pathname.get());
            view! {
                <a
                    href=href
                    class:active=current
                    aria-current=move || current().then_some("page")
                >
                    {label}
                </a>
            }
        })
        .collect_view();
    view! {
        <aside class="sidebar-column" class:menu-open=move || open.get()>
            <div class="sidebar-head">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Sightline"
                </div>
                <button
                    type="button"
                    id="menu-button"
                    class="button secondary menu-button"
                    aria-controls="main-nav"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    <span class="menu-icon" aria-hidden="true"></span>
                    "Menu"
                </button>
            </div>
            <nav class="sidebar" id="main-nav" aria-label="Main">{links}</nav>
        </aside>
    }
}
