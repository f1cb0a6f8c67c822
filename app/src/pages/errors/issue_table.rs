//! The issue list as a table: one row per issue with a checkbox (for bulk
//! changes), its level colour, title (a link to the issue) with the culprit
//! below, its status where the list's filter does not already say it, a
//! sparkline of the range with its peak, events and users in the range, and
//! when it was last and first seen.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use super::sparkline::Sparkline;
use crate::api::{IssueStatus, IssueSummary};
use crate::components::level::{level_color, LevelBadge};
use crate::local_time::{absolute_time, relative_time};
use crate::url_state::href_keeping_query;

/// An issue's status as a badge: blue while unresolved, green once resolved,
/// grey when ignored.
#[component]
pub fn StatusBadge(
    /// The status.
    status: IssueStatus,
) -> impl IntoView {
    let class = match status {
        IssueStatus::Unresolved => "badge issue-status",
        IssueStatus::Resolved => "badge success issue-status",
        IssueStatus::Ignored => "badge muted issue-status",
    };
    view! { <span class=class>{status.as_str()}</span> }
}

/// "3 min ago", with the local date and time as its tooltip.
#[component]
pub fn Ago(
    /// When it happened.
    at: chrono::DateTime<chrono::Utc>,
    /// The current time (unix ms), so the text moves on.
    #[prop(into)]
    now_ms: Signal<i64>,
) -> impl IntoView {
    let ts_ms = at.timestamp_millis();
    view! {
        <time
            datetime=at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            title=absolute_time(ts_ms)
        >
            {move || relative_time(now_ms.get() - ts_ms)}
        </time>
    }
}

/// The table of issues.
#[component]
pub fn IssueTable(
    /// The issues shown.
    #[prop(into)]
    issues: Signal<Vec<IssueSummary>>,
    /// The ids ticked for a bulk change.
    selected: RwSignal<BTreeSet<i64>>,
    /// The current time (unix ms).
    #[prop(into)]
    now_ms: Signal<i64>,
    /// The page's URL query, kept by the links to the issues.
    #[prop(into)]
    query: Signal<ParamsMap>,
    /// The status the list is filtered to (`None`: every status); a row shows
    /// its status only when it differs (after a bulk change, or with all).
    #[prop(into)]
    status_filter: Signal<Option<IssueStatus>>,
) -> impl IntoView {
    let all_selected = move || {
        issues.with(|all| {
            !all.is_empty() && selected.with(|s| all.iter().all(|i| s.contains(&i.issue_id)))
        })
    };
    let toggle_all = move |_| {
        if all_selected() {
            selected.set(BTreeSet::new());
        } else {
            selected.set(issues.with_untracked(|all| all.iter().map(|i| i.issue_id).collect()));
        }
    };
    view! {
        <table class="table issue-table">
            <colgroup>
                <col class="issue-col-check"/>
                <col/>
                <col class="issue-col-trend"/>
                <col class="issue-col-count"/>
                <col class="issue-col-count"/>
                <col class="issue-col-seen"/>
            </colgroup>
            <thead>
                <tr>
                    <th scope="col">
                        <input
                            id="issues-select-all"
                            type="checkbox"
                            aria-label="Select every issue shown"
                            prop:checked=all_selected
                            on:change=toggle_all
                        />
                    </th>
                    <th scope="col">"Issue"</th>
                    <th scope="col">"Trend"</th>
                    <th scope="col" class="numeric">"Events"</th>
                    <th scope="col" class="numeric">"Users"</th>
                    <th scope="col">"Last / first seen"</th>
                </tr>
            </thead>
            <tbody>
                <For
                    each=move || issues.get()
                    key=|issue| (issue.issue_id, issue.count, issue.status.as_str(), issue.last_seen)
                    children=move |issue| view! { <IssueRow issue selected now_ms query status_filter/> }
                />
            </tbody>
        </table>
    }
    .into_any()
}

/// One issue.
#[component]
fn IssueRow(
    issue: IssueSummary,
    selected: RwSignal<BTreeSet<i64>>,
    now_ms: Signal<i64>,
    query: Signal<ParamsMap>,
    status_filter: Signal<Option<IssueStatus>>,
) -> impl IntoView {
    let id = issue.issue_id;
    let status = issue.status;
    let status_badge =
        move || (status_filter.get() != Some(status)).then(|| view! { <StatusBadge status/> });
    let path = format!("/errors/{id}");
    let href = move || query.with(|q| href_keeping_query(&path, q));
    let (r, g, b) = level_color(&issue.level);
    let stripe = format!("--issue-level: #{r:02x}{g:02x}{b:02x}");
    let checked = move || selected.with(|s| s.contains(&id));
    let toggle = move |_| {
        selected.update(|s| {
            if !s.remove(&id) {
                s.insert(id);
            }
        });
    };
    let culprit = (!issue.culprit.is_empty()).then(|| {
        view! { <span class="issue-culprit" title=issue.culprit.clone()>{issue.culprit.clone()}</span> }
    });
    view! {
        <tr class="issue-row" style=stripe data-issue-id=id.to_string()>
            <td class="issue-check">
                <input
                    type="checkbox"
                    class="issue-select"
                    aria-label=format!("Select {}", issue.title)
                    prop:checked=checked
                    on:change=toggle
                />
            </td>
            <td class="issue-main">
                <a class="issue-title" href=href title=issue.title.clone()>{issue.title.clone()}</a>
                <div class="issue-meta">
                    <LevelBadge level=issue.level.clone()/>
                    {status_badge}
                    {culprit}
                </div>
            </td>
            <td class="issue-trend">
                <Sparkline values=issue.sparkline.clone()/>
            </td>
            <td class="numeric issue-count">{issue.count}</td>
            <td class="numeric issue-users">{issue.user_count}</td>
            <td>
                <div class="issue-seen">
                    <Ago at=issue.last_seen now_ms/>
                    <span class="muted">
                        "first seen "
                        <Ago at=issue.first_seen now_ms/>
                    </span>
                </div>
            </td>
        </tr>
    }
    .into_any()
}
