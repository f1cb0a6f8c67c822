//! `/logs`: the Logs explorer of the selected project.
//!
//! The URL holds the query (`q=`) next to the project and time range, so a link
//! shows the same view. A query without stages lists matching lines
//! (`/logs/search`, newest first, a page at a time) under a histogram by level
//! (`/logs/histogram`); a query with stages (`| stats ...`) shows a table and, when
//! it has the shape for one, a chart (`/logs/query`). Live tail streams new lines
//! over Server-Sent Events (`/logs/tail`).
//!
//! - [`query_bar`] and [`query_text`]: editing, completing and running queries;
//!   [`history`] remembers recent ones.
//! - [`histogram`], [`results`] (with [`json_view`]) and [`stats`]: the answers.
//! - [`field_list`]: the fields of the lines shown, their top values as filters;
//! - [`live_tail`]: following new lines and its controls, over [`live`], the
//!   tail's `EventSource`; [`export`]: NDJSON and CSV downloads.

mod export;
mod field_list;
mod fields;
mod histogram;
mod history;
mod json_view;
mod live;
mod live_tail;
mod query_bar;
pub mod query_text;
mod results;
mod stats;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::api::client::{self, LogScope};
use crate::api::LogLine;
use crate::components::paged_list::{FirstPage, MoreButton, Page, Pages};
use crate::components::project_scoped::ProjectScoped;
use crate::components::status::{EmptyState, ErrorBox, Loading};
use crate::local_time::now;
use crate::url_state::{use_query, use_set_query, TimeRange};
use export::Format;
use field_list::FieldList;
use histogram::LogHistogramChart;
use live_tail::{LiveControls, LiveTail};
use query_bar::QueryBar;
use query_text::{has_stages, QueryError};
use results::LogTableView;
use stats::StatsView;

/// Lines a search page asks for.
const PAGE: u32 = 100;
/// Lines kept in memory while live tail adds to the top.
const MAX_LINES: usize = 1000;
/// Bars of the histogram.
const HISTOGRAM_BUCKETS: u32 = 60;

/// `/logs`: waits for the project list, then explores the selected project's logs.
#[component]
pub fn LogsPage() -> impl IntoView {
    let body = Callback::new(|project: String| view! { <LogsExplorer project/> }.into_any());
    view! {
        <header class="page-header">
            <h1>"Logs"</h1>
        </header>
        <ProjectScoped
            no_projects="Logs belong to a project: create one in Settings, then send logs with its ingest key."
            pick="Choose a project in the top bar to search its logs."
            body
        />
    }
    .into_any()
}

/// The explorer of one project: query bar, histogram, results.
#[component]
fn LogsExplorer(project: String) -> impl IntoView {
    let project = StoredValue::new(project);
    let query = use_query();
    // Navigation closures are not `Send`; the callbacks below only run in the browser.
    let navigate = StoredValue::new_local(use_set_query());
    let url_q = Memo::new(move |_| query.with(|q| q.get_str("q").unwrap_or_default().to_owned()));
    let range = Memo::new(move |_| query.with(TimeRange::from_query));
    // Bumped by Run, so running the same query again re-reads "the last hour".
    let runs = RwSignal::new(0_u64);
    let scope = Memo::new(move |_| {
        runs.track();
        let (from, to) = range.get().bounds(now());
        LogScope {
            q: url_q.get(),
            from,
            to,
        }
    });
    let is_table = Memo::new(move |_| has_stages(&url_q.get()));
    // The histogram and the stats chart span the searched range, so they line up.
    let x_range = Signal::derive(move || {
        scope.with(|s| Some((s.from.timestamp_millis(), s.to.timestamp_millis())))
    });

    let text = RwSignal::new(url_q.get_untracked());
    Effect::new(move |_| text.set(url_q.get()));
    let history = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| history.set(history::load()));

    let set_params = move |params: ParamsMap| navigate.with_value(|go| go(params));
    let run = Callback::new(move |q: String| {
        let q = q.trim().to_owned();
        history.update(|h| {
            *h = history::remember(std::mem::take(h), &q);
            history::save(h);
        });
        text.set(q.clone());
        if q == url_q.get_untracked() {
            runs.update(|r| *r += 1);
        } else {
            let mut params = query.get_untracked();
            if q.is_empty() {
                params.remove("q");
            } else {
                params.replace("q", q);
            }
            set_params(params);
        }
    });
    let add_filter = Callback::new(move |term: String| {
        run.run(query_text::add_filter(&url_q.get_untracked(), &term));
    });
    let zoom = Callback::new(move |(from_ms, to_ms): (i64, i64)| {
        // The URL holds whole seconds: widen outwards so the range stays non-empty.
        let from = DateTime::<Utc>::from_timestamp(from_ms.div_euclid(1000), 0);
        let to = DateTime::<Utc>::from_timestamp((to_ms + 999).div_euclid(1000), 0);
        if let (Some(from), Some(to)) = (from, to) {
            let to = to.max(from + chrono::Duration::seconds(1));
            let mut params = query.get_untracked();
            TimeRange::Between { from, to }.write_query(&mut params);
            set_params(params);
        }
    });

    // The lines: the first page of the search, older pages, live lines on top.
    let pages = Pages::<LogLine>::default();
    let (lines, cursor) = (pages.items, pages.cursor);
    let phase = Memo::new(move |_| pages.first.get());
    let trimmed = RwSignal::new(false);
    let search_page = move |slug: String, scope: LogScope, after: Option<String>| async move {
        client::log_search(&slug, &scope, PAGE, after.as_deref())
            .await
            .map(|page| Page {
                items: page.rows,
                next_cursor: page.next_cursor,
            })
    };
    Effect::new(move |_| {
        let scope = scope.get();
        if has_stages(&scope.q) {
            return;
        }
        trimmed.set(false);
        pages.load_first(search_page(project.get_value(), scope, None));
    });
    let load_older = Callback::new(move |()| {
        let (scope, slug) = (scope.get_untracked(), project.get_value());
        pages.load_next(
            move |after| search_page(slug, scope, Some(after)),
            |line: &LogLine| line.id,
        );
    });

    // Live tail: new lines on top of the list.
    let add_live = move |line: LogLine| {
        let mut dropped = false;
        lines.update(|all| {
            // The search may already have found it.
            if all.iter().take(PAGE as usize).any(|l| l.id == line.id) {
                return;
            }
            all.insert(0, line);
            if all.len() > MAX_LINES {
                all.truncate(MAX_LINES);
                dropped = true;
            }
        });
        if dropped {
            // "Load older" would continue after lines no longer shown.
            cursor.set(None);
            trimmed.set(true);
        }
    };
    let live = LiveTail::follow(project, url_q, is_table, add_live);

    // "3 min ago" moves on.
    let now_ms = RwSignal::new(now().timestamp_millis());
    Effect::new(move |_| {
        lines.track();
        now_ms.set(now().timestamp_millis());
    });
    #[cfg(feature = "hydrate")]
    if let Ok(ticker) = set_interval_with_handle(
        move || now_ms.set(now().timestamp_millis()),
        std::time::Duration::from_secs(10),
    ) {
        on_cleanup(move || ticker.clear());
    }

    // Field names for completion depend on the range only.
    let fields = LocalResource::new(move || {
        let (from, to) = range.get().bounds(now());
        let slug = project.get_value();
        async move {
            let scope = LogScope {
                q: String::new(),
                from,
                to,
            };
            client::log_fields(&slug, &scope).await
        }
    });
    let field_list = Signal::derive(move || {
        fields
            .get()
            .and_then(Result::ok)
            .map(|f| f.fields)
            .unwrap_or_default()
    });
    let histogram = LocalResource::new(move || {
        let scope = scope.get();
        let slug = project.get_value();
        async move { client::log_histogram(&slug, &scope, HISTOGRAM_BUCKETS).await }
    });
    let table = LocalResource::new(move || {
        let scope = scope.get();
        let slug = project.get_value();
        async move {
            if has_stages(&scope.q) {
                Some(client::log_query(&slug, &scope).await)
            } else {
                None
            }
        }
    });

    let query_error = Signal::derive(move || {
        let error = if is_table.get() {
            table.get().flatten().and_then(Result::err)
        } else {
            match phase.get() {
                FirstPage::Failed(e) => Some(e),
                _ => None,
            }
        };
        error.as_ref().and_then(QueryError::from_api)
    });

    let export = move |format: Format| {
        let content = if is_table.get_untracked() {
            table
                .get_untracked()
                .flatten()
                .and_then(Result::ok)
                .map(|t| export::table(format, &t))
        } else {
            Some(lines.with_untracked(|l| export::lines(format, l)))
        };
        if let Some(content) = content {
            export::download(format, &content);
        }
    };

    let histogram_view = move || {
        histogram.get().map(|answer| match answer {
            Ok(h) => view! { <LogHistogramChart histogram=h on_zoom=zoom x_range/> }.into_any(),
            Err(e) if QueryError::from_api(&e).is_some() => {
                view! { <p class="muted">"Fix the query to see the histogram."</p> }.into_any()
            }
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
        })
    };

    let empty_hint = move || {
        if url_q.with(String::is_empty) {
            "Pick a longer time range in the top bar, or send logs to this project with its ingest key (Settings → Ingest keys)."
        } else {
            "Pick a longer time range in the top bar, or remove terms from the query."
        }
    };
    let has_lines = Memo::new(move |_| lines.with(|l| !l.is_empty()));
    let lines_view = move || {
        match phase.get() {
            FirstPage::Loading => view! { <Loading what="Searching…"/> }.into_any(),
            FirstPage::Failed(e) if QueryError::from_api(&e).is_some() => {
                view! { <p class="muted">"The query has an error: see above."</p> }.into_any()
            }
            FirstPage::Failed(e) => view! { <ErrorBox error=e/> }.into_any(),
            FirstPage::Ready if !has_lines.get() => {
                if live.on.get() {
                    view! { <EmptyState title="No lines yet" detail="Live tail is on: new lines appear here as they arrive."/> }.into_any()
                } else {
                    view! { <EmptyState title="No lines match in this range" detail=empty_hint()/> }
                        .into_any()
                }
            }
            FirstPage::Ready => {
                // Type-erased in two parts: one view type for all of it would be
                // too deep for the compiler.
                let shown = view! {
            <LogTableView lines project now_ms on_filter=add_filter/>
            <div class="logs-more">
                <MoreButton
                    id="logs-older"
                    label="Load older"
                    has_next=Signal::derive(move || pages.has_next())
                    next=pages.next
                    on_click=load_older
                />
                <Show when=move || trimmed.get()>
                    <p class="muted">
                        {format!("Showing the newest {MAX_LINES} lines; older ones were let go. Run the query again to page through them.")}
                    </p>
                </Show>
            </div>
            }
            .into_any();
                view! {
                    <div class="logs-body">
                        <div class="logs-lines">{shown}</div>
                        <FieldList lines on_filter=add_filter/>
                    </div>
                }
                .into_any()
            }
        }
    };
    let table_view = move || {
        table.get().flatten().map(|answer| match answer {
            Ok(t) if t.rows.is_empty() => view! {
                <EmptyState title="No lines match in this range" detail=empty_hint()/>
            }
            .into_any(),
            Ok(t) => view! { <StatsView table=t x_range/> }.into_any(),
            Err(e) if QueryError::from_api(&e).is_some() => {
                view! { <p class="muted">"The query has an error: see above."</p> }.into_any()
            }
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
        })
    };
    let results_view = move || {
        if is_table.get() {
            view! {
                <Transition fallback=|| view! { <Loading what="Running the query…"/> }>{table_view}</Transition>
            }
            .into_any()
        } else {
            lines_view.into_any()
        }
    };

    let summary = move || {
        if is_table.get() {
            "Table".to_owned()
        } else if phase.get() != FirstPage::Ready {
            String::new()
        } else {
            let count = lines.with(Vec::len);
            let more = if cursor.with(Option::is_some) {
                ", older ones below"
            } else {
                ""
            };
            format!(
                "{count} line{}, newest first{more}",
                if count == 1 { "" } else { "s" }
            )
        }
    };
    view! {
        <section class="card logs-query-card">
            <QueryBar text fields=field_list history error=query_error ran=url_q on_run=run/>
        </section>
        <section class="card logs-histogram" aria-label="Matching lines over time">
            <Transition fallback=|| view! { <Loading what="Loading the histogram…"/> }>{histogram_view}</Transition>
        </section>
        <section class="card logs-results">
            <div class="logs-toolbar">
                <span class="logs-summary">{summary}</span>
                <LiveControls live is_table/>
                <span class="topbar-spacer"></span>
                <button id="logs-export-ndjson" type="button" class="button secondary small" on:click=move |_| export(Format::Ndjson)>
                    "Export NDJSON"
                </button>
                <button id="logs-export-csv" type="button" class="button secondary small" on:click=move |_| export(Format::Csv)>
                    "Export CSV"
                </button>
            </div>
            {results_view}
        </section>
    }
    .into_any()
}
