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
//! - [`live`]: the tail's `EventSource`; [`export`]: NDJSON and CSV downloads.

mod export;
mod histogram;
mod history;
mod json_view;
mod live;
mod query_bar;
pub mod query_text;
mod results;
mod stats;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::api::client::{self, ApiError, LogScope};
use crate::api::LogLine;
use crate::components::project_scoped::ProjectScoped;
use crate::components::status::{EmptyState, ErrorBox, Loading};
use crate::local_time::now;
use crate::url_state::{use_query, use_set_query, TimeRange};
use export::Format;
use histogram::LogHistogramChart;
use live::{Skipped, TailHandlers, TailState};
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

/// Where the first page of a search is.
#[derive(Debug, Clone, PartialEq)]
enum Search {
    Loading,
    Ready,
    Failed(ApiError),
}

/// Where "Load older" is.
#[derive(Debug, Clone, PartialEq)]
enum Older {
    Idle,
    Loading,
    Failed(ApiError),
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
    let lines = RwSignal::new(Vec::<LogLine>::new());
    let cursor = RwSignal::new(None::<String>);
    let search = RwSignal::new(Search::Loading);
    let phase = Memo::new(move |_| search.get());
    let older = RwSignal::new(Older::Idle);
    let trimmed = RwSignal::new(false);
    let generation = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let scope = scope.get();
        if has_stages(&scope.q) {
            return;
        }
        let current = generation.get_value() + 1;
        generation.set_value(current);
        search.set(Search::Loading);
        older.set(Older::Idle);
        trimmed.set(false);
        let slug = project.get_value();
        leptos::task::spawn_local(async move {
            let answer = client::log_search(&slug, &scope, PAGE, None).await;
            // A newer search (or leaving the page) makes this answer stale.
            if generation.try_get_value() != Some(current) {
                return;
            }
            match answer {
                Ok(page) => {
                    lines.set(page.rows);
                    cursor.set(page.next_cursor);
                    search.set(Search::Ready);
                }
                Err(e) => {
                    lines.set(Vec::new());
                    cursor.set(None);
                    search.set(Search::Failed(e));
                }
            }
        });
    });
    let load_older = move |_| {
        let Some(after) = cursor.get_untracked() else {
            return;
        };
        let (scope, slug, current) = (
            scope.get_untracked(),
            project.get_value(),
            generation.get_value(),
        );
        older.set(Older::Loading);
        leptos::task::spawn_local(async move {
            let answer = client::log_search(&slug, &scope, PAGE, Some(&after)).await;
            if generation.try_get_value() != Some(current) {
                return;
            }
            match answer {
                Ok(page) => {
                    lines.update(|all| {
                        for line in page.rows {
                            if !all.iter().any(|l| l.id == line.id) {
                                all.push(line);
                            }
                        }
                    });
                    cursor.set(page.next_cursor);
                    older.set(Older::Idle);
                }
                Err(e) => older.set(Older::Failed(e)),
            }
        });
    };

    // Live tail.
    let live = RwSignal::new(false);
    let paused = RwSignal::new(false);
    let tail_state = RwSignal::new(TailState::Connecting);
    let skipped = RwSignal::new(Skipped::default());
    let tail = StoredValue::new_local(None::<live::Tail>);
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
    Effect::new(move |_| {
        let wanted = live.get() && !paused.get() && !is_table.get();
        let q = url_q.get();
        // Dropping the old tail closes its connection.
        tail.update_value(|t| *t = None);
        if wanted {
            let handlers = TailHandlers {
                line: Box::new(add_live),
                skipped: Box::new(move |s: Skipped| {
                    skipped.update(|total| {
                        total.batches += s.batches;
                        if s.reason.is_some() {
                            total.reason = s.reason;
                        }
                    });
                }),
                state: Box::new(move |state| tail_state.set(state)),
            };
            let url = client::log_tail_url(&project.get_value(), &q);
            tail.set_value(live::open(&url, handlers));
        }
    });
    on_cleanup(move || {
        tail.try_update_value(|t| *t = None);
    });
    let toggle_live = move |_| {
        skipped.set(Skipped::default());
        paused.set(false);
        live.update(|on| *on = !*on);
    };

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
                Search::Failed(e) => Some(e),
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
            Ok(h) => view! { <LogHistogramChart histogram=h on_zoom=zoom/> }.into_any(),
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
        Search::Loading => view! { <Loading what="Searching…"/> }.into_any(),
        Search::Failed(e) if QueryError::from_api(&e).is_some() => {
            view! { <p class="muted">"The query has an error: see above."</p> }.into_any()
        }
        Search::Failed(e) => view! { <ErrorBox error=e/> }.into_any(),
        Search::Ready if !has_lines.get() => {
            if live.get() {
                view! { <EmptyState title="No lines yet" detail="Live tail is on: new lines appear here as they arrive."/> }.into_any()
            } else {
                view! { <EmptyState title="No lines match in this range" detail=empty_hint()/> }.into_any()
            }
        }
        Search::Ready => view! {
            <LogTableView lines project now_ms on_filter=add_filter/>
            <div class="logs-more">
                <Show when=move || cursor.with(Option::is_some)>
                    <button
                        id="logs-older"
                        type="button"
                        class="button secondary"
                        disabled=move || older.get() == Older::Loading
                        on:click=load_older
                    >
                        {move || if older.get() == Older::Loading { "Loading…" } else { "Load older" }}
                    </button>
                </Show>
                {move || match older.get() {
                    Older::Failed(e) => Some(view! { <ErrorBox error=e/> }),
                    _ => None,
                }}
                <Show when=move || trimmed.get()>
                    <p class="muted">
                        {format!("Showing the newest {MAX_LINES} lines; older ones were let go. Run the query again to page through them.")}
                    </p>
                </Show>
            </div>
        }
        .into_any(),
    }
    };
    let table_view = move || {
        table.get().flatten().map(|answer| match answer {
            Ok(t) if t.rows.is_empty() => view! {
                <EmptyState title="No lines match in this range" detail=empty_hint()/>
            }
            .into_any(),
            Ok(t) => view! { <StatsView table=t/> }.into_any(),
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
        } else if phase.get() != Search::Ready {
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
    let live_status = move || {
        live.get().then(|| {
            let (class, text) = match (paused.get(), tail_state.get()) {
                (true, _) => ("logs-live-status muted", "Paused".to_owned()),
                (false, TailState::Connecting) => {
                    ("logs-live-status muted", "Connecting…".to_owned())
                }
                (false, TailState::Open) => (
                    "logs-live-status live",
                    "Live: new lines appear at the top".to_owned(),
                ),
                (false, TailState::Closed) => (
                    "logs-live-status error inline",
                    "The server ended live tail".to_owned(),
                ),
            };
            view! {
                <button
                    id="logs-live-pause"
                    type="button"
                    class="button secondary small"
                    on:click=move |_| paused.update(|p| *p = !*p)
                >
                    {move || if paused.get() { "Resume" } else { "Pause" }}
                </button>
                <span class=class role="status">{text}</span>
            }
        })
    };
    let skipped_note = move || {
        let s = skipped.get();
        let text = match (s.batches, s.reason) {
            (0, None) => return None,
            (0, Some(reason)) => format!("Lines skipped: {reason}"),
            (n, _) => format!(
                "Lines skipped: {n} batch{} arrived faster than live tail could show",
                if n == 1 { "" } else { "es" }
            ),
        };
        Some(view! { <span class="badge logs-skipped">{text}</span> })
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
                <button
                    id="logs-live"
                    type="button"
                    class="button secondary small"
                    class:active=move || live.get()
                    aria-pressed=move || live.get().to_string()
                    disabled=move || is_table.get()
                    title=move || if is_table.get() { "Live tail shows lines: remove the stages to use it" } else { "Stream new lines as they arrive" }
                    on:click=toggle_live
                >
                    {move || if live.get() { "Stop live tail" } else { "Live tail" }}
                </button>
                {live_status}
                {skipped_note}
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
