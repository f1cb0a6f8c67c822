//! The frame around every page after login: the sidebar on the left, the top bar
//! (project, time range, user) and the page itself.

use leptos::prelude::*;
use leptos_router::components::Outlet;

use super::{
    project_selector::ProjectSelector, sidebar::Sidebar, time_range_picker::TimeRangePicker,
    user_menu::UserMenu,
};
use crate::session::Session;

/// The parent route's view; the matched page renders in its `<Outlet/>`.
#[component]
pub fn AppLayout() -> impl IntoView {
    Session::provide();
    view! {
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
