//! The frame around every page after login: the sidebar on the left, the top bar
//! (project, time range, user) and the page itself.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Outlet, hooks::use_location};

use super::{
    project_selector::ProjectSelector,
    sidebar::{section_of, Sidebar},
    time_range_picker::TimeRangePicker,
    user_menu::UserMenu,
};
use crate::session::{use_selected_project, Session};

/// The parent route's view; the matched page renders in its `<Outlet/>`.
#[component]
pub fn AppLayout() -> impl IntoView {
    Session::provide();
    crate::components::chart::SeriesColors::provide();
    let pathname = use_location().pathname;
    let project = use_selected_project();
    // The tab says where: `Errors · Shop` (Settings belong to no project).
    let title = move || {
        let section = pathname.with(|p| section_of(p)).unwrap_or("Page");
        match project.get() {
            Some(project) if section != "Settings" => format!("{section} · {}", project.name),
            _ => section.to_owned(),
        }
    };
    view! {
        <Title text=title/>
        <div class="app">
            <Sidebar/>
            <div class="app-main">
                <header class="topbar">
                    <ProjectSelector/>
                    <TimeRangePicker/>
                    <div class="topbar-spacer"></div>
                    <UserMenu/>
                </header>
                <main class="content">
                    <Outlet/>
                </main>
            </div>
        </div>
    }
    .into_any()
}
