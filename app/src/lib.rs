//! Sightline's web UI, written with Leptos, and `app::api`, the wire types of
//! `/api/v1` that the server and the UI share.
//!
//! A tour:
//! - [`shell`] is the HTML document the server renders for every page request; the
//!   server adds auth redirects (`/login`, `/setup`) before it gets here.
//! - [`App`] holds the router. `/setup` and `/login` stand alone; every other page
//!   sits inside [`components::layout::AppLayout`] (sidebar, project selector, time
//!   range, user menu).
//! - Pages never fetch on the server: each one loads its data in the browser through
//!   [`api::client`] inside a `LocalResource`, wrapped in `<Suspense>`, and shows a
//!   loading state, the error in words, or an empty state.
//! - UI state that should survive a reload or a shared link (selected project, time
//!   range) lives in the URL query, see [`url_state`]; choices of this browser (UTC
//!   or local times, recent queries) in `localStorage` ([`browser`]).
//! - [`session`] is what every page shares: who is logged in, the projects, the
//!   selected one, and `use_denied`, which controls use to say what a role may
//!   not do instead of failing after a click.

pub mod api;
pub mod browser;
pub mod components;
pub mod local_time;
pub mod pages;
pub mod session;
pub mod url_state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};

use components::layout::AppLayout;
use pages::{
    alerts::AlertsPage,
    analytics::AnalyticsPage,
    dashboards::DashboardsPage,
    errors::{ErrorsPage, IssuePage},
    login::LoginPage,
    logs::LogsPage,
    metrics::MetricsPage,
    not_found::NotFoundPage,
    overview::OverviewPage,
    performance::{PerformancePage, TracePage, TransactionPage},
    settings::SettingsPage,
    setup::SetupPage,
};

/// The brand mark as an inline SVG icon, so browsers do not ask for `/favicon.ico`.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='5.5' fill='none' stroke='%232563eb' stroke-width='3'/%3E%3C/svg%3E";

/// The stylesheet's URL: `/pkg/sightline.<hash>.css` when the bundle's files
/// are named after their content (Leptos reads only the `js` and `wasm` lines
/// of `hash.txt`; the `css` line is read here).
fn stylesheet_href(options: &leptos::config::LeptosOptions) -> String {
    let mut name = options.output_name.to_string();
    if options.hash_files {
        let hash = std::fs::read_to_string(&*options.hash_file)
            .ok()
            .and_then(|lines| {
                lines
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("css:").map(|h| h.trim().to_string()))
            });
        if let Some(hash) = hash {
            name = format!("{name}.{hash}");
        }
    }
    format!("/{}/{name}.css", options.site_pkg_dir)
}

/// The full HTML document the server renders around [`App`].
pub fn shell(options: leptos::config::LeptosOptions) -> impl IntoView {
    let stylesheet = stylesheet_href(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href=FAVICON/>
                <link rel="stylesheet" href=stylesheet/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The root component: the router and its routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    local_time::ZoneChoice::provide();

    // Browser tests wait for this marker before they click anything: effects only run
    // once hydration has attached the event handlers.
    Effect::new(move |_| browser::mark_hydrated());

    view! {
        // Each page names itself (`Errors · Shop`); the product name follows.
        <Title formatter=|page: String| format!("{page} · Sightline")/>
        <Router>
            <Routes fallback=|| view! { <NotFoundPage/> }>
                <Route path=path!("/setup") view=SetupPage/>
                <Route path=path!("/login") view=LoginPage/>
                <ParentRoute path=path!("") view=AppLayout>
                    <Route path=path!("") view=OverviewPage/>
                    <Route path=path!("/logs") view=LogsPage/>
                    <Route path=path!("/errors") view=ErrorsPage/>
                    <Route path=path!("/errors/:issue_id") view=IssuePage/>
                    <Route path=path!("/performance") view=PerformancePage/>
                    <Route path=path!("/performance/transaction") view=TransactionPage/>
                    <Route path=path!("/performance/traces/:trace_id") view=TracePage/>
                    <Route path=path!("/metrics/explore") view=MetricsPage/>
                    <Route path=path!("/analytics") view=AnalyticsPage/>
                    <Route path=path!("/dashboards") view=DashboardsPage/>
                    <Route path=path!("/alerts") view=AlertsPage/>
                    <Route path=path!("/settings") view=SettingsPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
