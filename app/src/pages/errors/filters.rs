//! The issue list's filters and order, kept in the URL so a link shows the same
//! list: `status` (absent means `unresolved`, `all` means every status), `q`,
//! `level`, `environment`, `release` and `sort` (absent means `last_seen`); and
//! the bar that edits them.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::api::client::IssueScope;
use crate::api::IssueStatus;
use crate::url_state::{href, PROJECT_KEY};

/// A `key:value` term of the issue search (`browser:Firefox`), the value in
/// quotes when it has spaces.
pub fn search_term(key: &str, value: &str) -> String {
    if value.chars().any(char::is_whitespace) {
        format!("{key}:\"{}\"", value.replace('"', ""))
    } else {
        format!("{key}:{value}")
    }
}

/// The issue list of `project`, every status, of the events where tag `key`
/// (or `user.id`) is `value`.
pub fn issues_where(project: &str, key: &str, value: &str) -> String {
    href(
        "/errors",
        &[
            (PROJECT_KEY, project.to_owned()),
            ("status", "all".to_owned()),
            ("q", search_term(key, value)),
        ],
    )
}

/// The `status=` value that lists issues in every state.
const ALL_STATUSES: &str = "all";

/// The levels Sentry SDKs send, most severe first.
pub const ISSUE_LEVELS: [&str; 5] = ["fatal", "error", "warning", "info", "debug"];

/// The order of the issue list (always newest or largest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IssueSort {
    /// Most recently seen first.
    #[default]
    LastSeen,
    /// Newest issues first.
    FirstSeen,
    /// Most events in the range first.
    Events,
    /// Most users affected in the range first.
    Users,
}

impl IssueSort {
    /// Every order, as the select lists them.
    pub const ALL: [IssueSort; 4] = [
        IssueSort::LastSeen,
        IssueSort::FirstSeen,
        IssueSort::Events,
        IssueSort::Users,
    ];

    /// The name in the URL and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueSort::LastSeen => "last_seen",
            IssueSort::FirstSeen => "first_seen",
            IssueSort::Events => "events",
            IssueSort::Users => "users",
        }
    }

    /// The label in the select.
    pub fn label(self) -> &'static str {
        match self {
            IssueSort::LastSeen => "Last seen",
            IssueSort::FirstSeen => "First seen",
            IssueSort::Events => "Events",
            IssueSort::Users => "Users",
        }
    }

    /// Reads a name; unknown ones are the default.
    pub fn from_name(name: &str) -> IssueSort {
        IssueSort::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .unwrap_or_default()
    }
}

/// What the issue list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueFilters {
    /// Only issues in this state; `None` for all.
    pub status: Option<IssueStatus>,
    /// Words of the title or culprit.
    pub q: String,
    /// One level, or empty for all.
    pub level: String,
    /// One environment, or empty for all.
    pub environment: String,
    /// One release, or empty for all.
    pub release: String,
    /// The order.
    pub sort: IssueSort,
}

impl Default for IssueFilters {
    fn default() -> Self {
        IssueFilters {
            status: Some(IssueStatus::Unresolved),
            q: String::new(),
            level: String::new(),
            environment: String::new(),
            release: String::new(),
            sort: IssueSort::default(),
        }
    }
}

impl IssueFilters {
    /// Reads the filters from a URL query.
    pub fn from_query(query: &ParamsMap) -> IssueFilters {
        let text = |key: &str| query.get_str(key).unwrap_or_default().trim().to_owned();
        let status = match query.get_str("status") {
            Some(ALL_STATUSES) => None,
            Some(name) => Some(IssueStatus::from_name(name).unwrap_or(IssueStatus::Unresolved)),
            None => Some(IssueStatus::Unresolved),
        };
        IssueFilters {
            status,
            q: text("q"),
            level: text("level"),
            environment: text("environment"),
            release: text("release"),
            sort: IssueSort::from_name(query.get_str("sort").unwrap_or_default()),
        }
    }

    /// Writes the filters into a URL query, leaving defaults out.
    pub fn write_query(&self, query: &mut ParamsMap) {
        match self.status {
            Some(IssueStatus::Unresolved) => {
                query.remove("status");
            }
            Some(status) => query.replace("status", status.as_str().to_owned()),
            None => query.replace("status", ALL_STATUSES.to_owned()),
        }
        for (key, value) in [
            ("q", &self.q),
            ("level", &self.level),
            ("environment", &self.environment),
            ("release", &self.release),
        ] {
            if value.is_empty() {
                query.remove(key);
            } else {
                query.replace(key, value.clone());
            }
        }
        if self.sort == IssueSort::default() {
            query.remove("sort");
        } else {
            query.replace("sort", self.sort.as_str().to_owned());
        }
    }

    /// Whether anything beyond the default narrows the list.
    pub fn narrows(&self) -> bool {
        let default = IssueFilters::default();
        self.status != default.status
            || !self.q.is_empty()
            || !self.level.is_empty()
            || !self.environment.is_empty()
            || !self.release.is_empty()
    }

    /// The API request for these filters over `from`..`to`.
    pub fn scope(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> IssueScope {
        IssueScope {
            status: self.status,
            q: self.q.clone(),
            level: self.level.clone(),
            environment: self.environment.clone(),
            release: self.release.clone(),
            sort: self.sort.as_str(),
            from,
            to,
        }
    }
}

/// The `status` select's value for a filter.
fn status_value(status: Option<IssueStatus>) -> &'static str {
    status.map_or(ALL_STATUSES, IssueStatus::as_str)
}

/// Search box, status, level, environment, release and order. The selects apply
/// at once; the text fields when the form is submitted (Enter or Search).
#[component]
pub fn FilterBar(
    /// The filters in the URL.
    #[prop(into)]
    filters: Signal<IssueFilters>,
    /// Called with the filters to show.
    on_change: Callback<IssueFilters>,
) -> impl IntoView {
    let q = RwSignal::new(String::new());
    let environment = RwSignal::new(String::new());
    let release = RwSignal::new(String::new());
    // The text fields follow the URL (Back, links, the release panel).
    Effect::new(move |_| {
        filters.with(|f| {
            q.set(f.q.clone());
            environment.set(f.environment.clone());
            release.set(f.release.clone());
        });
    });
    let with_texts = move |mut f: IssueFilters| {
        f.q = q.get_untracked().trim().to_owned();
        f.environment = environment.get_untracked().trim().to_owned();
        f.release = release.get_untracked().trim().to_owned();
        f
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_change.run(with_texts(filters.get_untracked()));
    };
    let on_status = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let mut f = with_texts(filters.get_untracked());
        f.status = IssueStatus::from_name(&value);
        on_change.run(f);
    };
    let on_level = move |ev: leptos::ev::Event| {
        let mut f = with_texts(filters.get_untracked());
        f.level = event_target_value(&ev);
        on_change.run(f);
    };
    let on_sort = move |ev: leptos::ev::Event| {
        let mut f = with_texts(filters.get_untracked());
        f.sort = IssueSort::from_name(&event_target_value(&ev));
        on_change.run(f);
    };

    let status_options = [
        (IssueStatus::Unresolved.as_str(), "Unresolved"),
        (IssueStatus::Resolved.as_str(), "Resolved"),
        (IssueStatus::Ignored.as_str(), "Ignored"),
        (ALL_STATUSES, "All"),
    ]
    .into_iter()
    .map(|(value, label)| {
        let selected = move || filters.with(|f| status_value(f.status) == value);
        view! { <option value=value selected=selected prop:selected=selected>{label}</option> }
    })
    .collect_view();
    let level_options = std::iter::once(("", "All levels"))
        .chain(ISSUE_LEVELS.into_iter().map(|l| (l, l)))
        .map(|(value, label)| {
            let selected = move || filters.with(|f| f.level == value);
            view! { <option value=value selected=selected prop:selected=selected>{label}</option> }
        })
        .collect_view();
    let sort_options = IssueSort::ALL
        .into_iter()
        .map(|s| {
            let selected = move || filters.with(|f| f.sort == s);
            view! { <option value=s.as_str() selected=selected prop:selected=selected>{s.label()}</option> }
        })
        .collect_view();

    view! {
        <form class="issue-filters" role="search" on:submit=submit>
            <div class="issue-search-row">
                <input
                    id="issues-search"
                    class="input issue-search"
                    type="search"
                    placeholder="Search titles, or browser:Firefox user.id:42 -release:1.0"
                    aria-label="Search issues"
                    bind:value=q
                />
                <button id="issues-apply" class="button" type="submit">"Search"</button>
            </div>
            <label class="field">
                <span>"Status"</span>
                <select id="issues-status" class="input" on:change=on_status>{status_options}</select>
            </label>
            <label class="field">
                <span>"Level"</span>
                <select id="issues-level" class="input" on:change=on_level>{level_options}</select>
            </label>
            <label class="field">
                <span>"Environment"</span>
                <input id="issues-environment" class="input" placeholder="any" bind:value=environment/>
            </label>
            <label class="field">
                <span>"Release"</span>
                <input id="issues-release" class="input" placeholder="any" bind:value=release/>
            </label>
            <label class="field">
                <span>"Sort by"</span>
                <select id="issues-sort" class="input" on:change=on_sort>{sort_options}</select>
            </label>
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&'static str, &str)]) -> ParamsMap {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn a_bare_url_lists_unresolved_issues_by_last_seen() {
        let f = IssueFilters::from_query(&query(&[("project", "web")]));
        assert_eq!(f, IssueFilters::default());
        assert!(!f.narrows());
    }

    #[test]
    fn filters_survive_the_url_and_leave_defaults_out() {
        let f = IssueFilters {
            status: None,
            q: "KeyError cart".into(),
            level: "error".into(),
            environment: "production".into(),
            release: "shop@1.2".into(),
            sort: IssueSort::Users,
        };
        let mut q = query(&[("project", "web"), ("range", "24h")]);
        f.write_query(&mut q);
        assert_eq!(q.get_str("status"), Some("all"));
        assert_eq!(IssueFilters::from_query(&q), f);
        assert!(f.narrows());

        IssueFilters::default().write_query(&mut q);
        assert_eq!(q.get_str("status"), None);
        assert_eq!(q.get_str("sort"), None);
        assert_eq!(q.get_str("q"), None);
        assert_eq!(q.get_str("project"), Some("web"));
        assert_eq!(q.get_str("range"), Some("24h"));
    }

    #[test]
    fn links_search_a_tag_value() {
        assert_eq!(
            issues_where("web", "browser", "Mobile Safari"),
            "/errors?project=web&status=all&q=browser%3A%22Mobile%20Safari%22"
        );
        assert_eq!(search_term("user.id", "42"), "user.id:42");
    }

    #[test]
    fn unknown_values_fall_back_to_the_defaults() {
        let f = IssueFilters::from_query(&query(&[("status", "gone"), ("sort", "size")]));
        assert_eq!(f.status, Some(IssueStatus::Unresolved));
        assert_eq!(f.sort, IssueSort::LastSeen);
    }
}
