//! `/errors`: the issues of the selected project, and `/errors/{issue_id}`: one
//! issue with its events.
//!
//! The list reads its filters and order from the URL ([`filters`]) next to the
//! project and time range, so a link shows the same list; it loads a page at a
//! time from `GET /projects/{project}/issues`, and ticked rows can be resolved,
//! ignored or reopened together ([`issue_table`], [`sparkline`]). Below it,
//! [`releases`] shows release health.
//!
//! The issue page ([`issue`]) shows counts, an events-per-hour chart, triage
//! ([`triage`]), top tag values ([`tags`]) and activity ([`activity`]), then one
//! event ([`event`]): its exception chain and stack ([`stack_trace`]), breadcrumbs
//! and context tables ([`event_data`]), read from the Sentry payload by
//! [`exception`] and [`payload`], and links to the logs, trace and user around it
//! ([`links`]).

mod activity;
mod event;
pub(crate) mod event_data;
mod exception;
pub mod filters;
mod issue;
pub(crate) mod issue_table;
mod links;
mod payload;
mod releases;
mod sparkline;
mod stack_trace;
mod tags;
mod triage;

use std::collections::BTreeSet;

use leptos::prelude::*;

use crate::api::client;
use crate::api::{BulkIssueUpdate, IssueStatus, IssueSummary, IssueUpdate, Role};
use crate::components::paged_list::{FirstPage, MoreButton, Page, Pages};
use crate::components::project_scoped::ProjectScoped;
use crate::components::status::{EmptyState, ErrorBox, ErrorText, Loading};
use crate::local_time::now;
use crate::session::use_denied;
use crate::url_state::{use_query, use_set_query, TimeRange};
use filters::{FilterBar, IssueFilters};
use issue_table::IssueTable;
use releases::ReleaseHealthPanel;

pub use issue::IssuePage;

/// Issues a page of the list asks for.
const PAGE: u32 = 25;

/// `/errors`: waits for the project list, then lists the selected project's issues.
#[component]
pub fn ErrorsPage() -> impl IntoView {
    let body = Callback::new(|project: String| view! { <IssuesExplorer project/> }.into_any());
    view! {
        <header class="page-header">
            <h1>"Errors"</h1>
        </header>
        <ProjectScoped
            no_projects="Errors belong to a project: create one in Settings, then point a Sentry SDK at its DSN."
            pick="Choose a project in the top bar to see its issues."
            body
        />
    }
    .into_any()
}

/// The words of a bulk change: the button, and the notice after it.
fn bulk_words(status: IssueStatus) -> (&'static str, &'static str) {
    match status {
        IssueStatus::Resolved => ("Resolve", "Resolved"),
        IssueStatus::Ignored => ("Ignore", "Ignored"),
        IssueStatus::Unresolved => ("Unresolve", "Reopened"),
    }
}

/// `n issue(s)`.
fn issues_text(n: usize) -> String {
    format!("{n} issue{}", if n == 1 { "" } else { "s" })
}

/// The issues of one project: filters, bulk actions, the table, release health.
#[component]
fn IssuesExplorer(project: String) -> impl IntoView {
    let project = StoredValue::new(project);
    let query = use_query();
    // Navigation closures are not `Send`; the callbacks below only run in the browser.
    let navigate = StoredValue::new_local(use_set_query());
    let filters = Memo::new(move |_| query.with(IssueFilters::from_query));
    let range = Memo::new(move |_| query.with(TimeRange::from_query));
    // Bumped after a bulk change, so the list is read again.
    let reloads = RwSignal::new(0_u64);
    let scope = Memo::new(move |_| {
        reloads.track();
        let (from, to) = range.get().bounds(now());
        filters.get().scope(from, to)
    });
    let on_filters = Callback::new(move |f: IssueFilters| {
        let mut params = query.get_untracked();
        f.write_query(&mut params);
        navigate.with_value(|go| go(params));
    });

    let pages = Pages::<IssueSummary>::default();
    let (issues, cursor, listing) = (pages.items, pages.cursor, pages.first);
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    let issue_page = move |slug: String, scope, after: Option<String>| async move {
        client::issues(&slug, &scope, PAGE, after.as_deref())
            .await
            .map(|page| Page {
                items: page.issues,
                next_cursor: page.next_cursor,
            })
    };
    Effect::new(move |_| {
        pages.load_first(issue_page(project.get_value(), scope.get(), None));
    });
    // Selected issues that the list no longer shows are no longer selected.
    Effect::new(move |_| {
        let shown: BTreeSet<i64> = issues.with(|all| all.iter().map(|i| i.issue_id).collect());
        selected.update(|s| s.retain(|id| shown.contains(id)));
    });
    let load_more = Callback::new(move |()| {
        let (scope, slug) = (scope.get_untracked(), project.get_value());
        pages.load_next(
            move |after| issue_page(slug, scope, Some(after)),
            |issue: &IssueSummary| issue.issue_id,
        );
    });

    // Bulk changes.
    let bulk_error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let bulk = move |status: IssueStatus| {
        let ids: Vec<i64> = selected.get_untracked().into_iter().collect();
        if ids.is_empty() {
            return;
        }
        let change = BulkIssueUpdate {
            issue_ids: ids,
            update: IssueUpdate {
                status: Some(status),
                ..IssueUpdate::default()
            },
        };
        busy.set(true);
        bulk_error.set(None);
        notice.set(None);
        leptos::task::spawn_local(async move {
            let answer = client::update_issues(&project.get_value(), &change).await;
            busy.set(false);
            match answer {
                Ok(done) => {
                    let count = usize::try_from(done.updated).unwrap_or_default();
                    notice.set(Some(format!(
                        "{} {}.",
                        bulk_words(status).1,
                        issues_text(count)
                    )));
                    selected.set(BTreeSet::new());
                    reloads.update(|r| *r += 1);
                }
                Err(e) => bulk_error.set(Some(format!("{} failed: {e}", bulk_words(status).0))),
            }
        });
    };
    let denied = use_denied(Role::Editor, "Changing issues");
    let bulk_button = move |id: &'static str, status: IssueStatus| {
        view! {
            <button
                id=id
                type="button"
                class="button secondary small"
                title=denied
                disabled=move || busy.get() || denied.with(Option::is_some) || selected.with(BTreeSet::is_empty)
                on:click=move |_| bulk(status)
            >
                {bulk_words(status).0}
            </button>
        }
    };

    // "3 min ago" moves on.
    let now_ms = RwSignal::new(now().timestamp_millis());
    Effect::new(move |_| {
        issues.track();
        now_ms.set(now().timestamp_millis());
    });
    #[cfg(feature = "hydrate")]
    if let Ok(ticker) = set_interval_with_handle(
        move || now_ms.set(now().timestamp_millis()),
        std::time::Duration::from_secs(30),
    ) {
        on_cleanup(move || ticker.clear());
    }

    let summary = move || {
        if listing.get() != FirstPage::Ready {
            return String::new();
        }
        let shown = issues.with(Vec::len);
        let more = if cursor.with(Option::is_some) {
            ", more below"
        } else {
            ""
        };
        format!("{}{more}", issues_text(shown))
    };
    let selection = move || {
        let n = selected.with(BTreeSet::len);
        (n > 0).then(
            || view! { <span class="muted" id="issues-selected">{format!("{n} selected")}</span> },
        )
    };
    let list_view = move || {
        match listing.get() {
        FirstPage::Loading => view! { <Loading what="Loading issues…"/> }.into_any(),
        FirstPage::Failed(e) => view! { <ErrorBox error=e/> }.into_any(),
        FirstPage::Ready if issues.with(Vec::is_empty) => {
            if filters.with(IssueFilters::narrows) {
                view! {
                    <EmptyState
                        title="No issues match these filters in this range"
                        detail="Pick a longer time range in the top bar, or clear some filters."
                    />
                }
                .into_any()
            } else {
                view! {
                    <EmptyState
                        title="No issues in this range"
                        detail="Send an error with a Sentry SDK and the project's DSN (Settings → Ingest keys)."
                    />
                }
                .into_any()
            }
        }
        FirstPage::Ready => view! {
            <IssueTable issues selected now_ms query status_filter=Signal::derive(move || filters.with(|f| f.status))/>
            <div class="issue-more">
                <MoreButton
                    id="issues-more"
                    label="Load more"
                    has_next=Signal::derive(move || pages.has_next())
                    next=pages.next
                    on_click=load_more
                />
            </div>
        }
        .into_any(),
    }
    };

    view! {
        <section class="card issue-filters-card">
            <FilterBar filters on_change=on_filters/>
        </section>
        <section class="card issue-list">
            <div class="issue-toolbar">
                <span class="issue-summary" id="issues-summary">{summary}</span>
                {bulk_button("issues-bulk-resolve", IssueStatus::Resolved)}
                {bulk_button("issues-bulk-ignore", IssueStatus::Ignored)}
                {bulk_button("issues-bulk-unresolve", IssueStatus::Unresolved)}
                {selection}
            </div>
            <ErrorText message=bulk_error/>
            {move || notice.get().map(|text| view! { <div class="notice" role="status">{text}</div> })}
            {list_view}
        </section>
        <ReleaseHealthPanel project range query/>
    }
    .into_any()
}
