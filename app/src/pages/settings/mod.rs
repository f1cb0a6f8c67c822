//! `/settings`: projects, the selected project's ingest keys, users and API tokens,
//! one section each.

mod keys;
mod projects;
mod snippets;
mod tokens;
mod users;

use leptos::prelude::*;

use keys::KeysSection;
use projects::ProjectsSection;
use tokens::TokensSection;
use users::UsersSection;

/// A date for tables, in the browser's time zone.
fn short_date(time: chrono::DateTime<chrono::Utc>) -> String {
    crate::local_time::format_local(time.timestamp_millis(), "%Y-%m-%d %H:%M")
}

/// The settings page: a jump list, then the four sections.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <header class="page-header">
            <h1>"Settings"</h1>
        </header>
        <nav class="tabs" aria-label="Settings sections">
            <a href="#projects">"Projects"</a>
            <a href="#keys">"Ingest keys"</a>
            <a href="#users">"Users"</a>
            <a href="#tokens">"API tokens"</a>
        </nav>
        <ProjectsSection/>
        <KeysSection/>
        <UsersSection/>
        <TokensSection/>
    }
}
