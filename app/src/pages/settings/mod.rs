//! `/settings`: projects, the selected project's ingest keys, users and API tokens,
//! one tab each, the tab in the URL (`?tab=keys`) so a link opens it. What the
//! caller's role may not change is not offered: viewers and editors read
//! projects and keys; users and tokens are for admins.

mod keys;
mod projects;
mod snippets;
mod tokens;
mod users;

use leptos::prelude::*;

use crate::api::Role;
use crate::components::status::Loading;
use crate::session::{use_denied, use_session};
use crate::url_state::{href_keeping_query, use_query};
use keys::KeysSection;
use projects::ProjectsSection;
use tokens::TokensSection;
use users::UsersSection;

/// A date for tables, in the browser's time zone.
fn short_date(time: chrono::DateTime<chrono::Utc>) -> String {
    crate::local_time::format_local(time.timestamp_millis(), "%Y-%m-%d %H:%M")
}

/// The URL key of the tab.
pub const TAB_KEY: &str = "tab";

/// A section of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Projects,
    Keys,
    Users,
    Tokens,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Projects, Tab::Keys, Tab::Users, Tab::Tokens];

    /// Its value in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Projects => "projects",
            Tab::Keys => "keys",
            Tab::Users => "users",
            Tab::Tokens => "tokens",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Projects => "Projects",
            Tab::Keys => "Ingest keys",
            Tab::Users => "Users",
            Tab::Tokens => "API tokens",
        }
    }

    /// Whether only admins see it.
    fn admin_only(self) -> bool {
        matches!(self, Tab::Users | Tab::Tokens)
    }

    /// The tab named by the URL; Projects when it names none (or another).
    pub fn from_name(name: Option<&str>) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| Some(t.as_str()) == name)
            .unwrap_or(Tab::Projects)
    }
}

/// The settings page: the tabs, and the chosen one's section.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let query = use_query();
    let tab = Memo::new(move |_| query.with(|q| Tab::from_name(q.get_str(TAB_KEY))));
    let not_admin = use_denied(Role::Admin, "Managing users and API tokens");
    // Admin tabs wait for `/me`: a viewer's browser never asks for users.
    let session = use_session();
    let is_admin =
        Signal::derive(move || matches!(session.me.get(), Some(Ok(me)) if me.role == Role::Admin));
    let tabs = move || {
        Tab::ALL
            .into_iter()
            .filter(|t| !t.admin_only() || is_admin.get())
            .map(|t| {
                let href = move || {
                    query.with(|q| {
                        let mut q = q.clone();
                        q.replace(TAB_KEY, t.as_str().to_owned());
                        href_keeping_query("/settings", &q)
                    })
                };
                let current = move || tab.get() == t;
                view! {
                    <a href=href id=format!("tab-{}", t.as_str()) role="tab"
                        class:active=current aria-selected=move || current().to_string()>
                        {t.label()}
                    </a>
                }
            })
            .collect_view()
    };
    let section = move || match tab.get() {
        Tab::Projects => view! { <ProjectsSection/> }.into_any(),
        Tab::Keys => view! { <KeysSection/> }.into_any(),
        Tab::Users | Tab::Tokens if !is_admin.get() => view! {
            <section class="card section">
                // The reason is in the note above the tabs.
                {move || match not_admin.get() {
                    Some(_) => view! { <p class="muted">"This tab is for admins."</p> }.into_any(),
                    None => view! { <Loading/> }.into_any(),
                }}
            </section>
        }
        .into_any(),
        Tab::Users => view! { <UsersSection/> }.into_any(),
        Tab::Tokens => view! { <TokensSection/> }.into_any(),
    };
    view! {
        <header class="page-header">
            <h1>"Settings"</h1>
        </header>
        <nav class="tabs" role="tablist" aria-label="Settings sections">{tabs}</nav>
        {move || not_admin.get().map(|why| view! {
            <p class="muted settings-role-note">{format!("{why}; you can read projects and their keys.")}</p>
        })}
        {section}
    }
}
