//! The lines of a search as a table: one row per line (the exact time in the
//! chosen zone, level, service, host, the message's first line), expanding on
//! click into the line's fields ([`super::fields`]) with the raw JSON one click
//! away, and the lines around it ("show context").

use leptos::prelude::*;

use super::fields::{first_line, FieldTable};
use super::json_view::JsonView;
use crate::api::{client, client::ApiError, LogContext, LogLine};
use crate::components::copy_button::CopyButton;
use crate::components::level::LevelBadge;
use crate::components::status::{ErrorBox, Loading};
use crate::local_time::{
    absolute_time, exact_time, format_local, relative_time, zone_label, ZoneChoice,
};

/// Lines of context loaded before and after a line.
const CONTEXT_LINES: u32 = 10;

/// The results table.
#[component]
pub fn LogTableView(
    /// The lines, newest first.
    #[prop(into)]
    lines: Signal<Vec<LogLine>>,
    /// The current time (unix ms), for "3 min ago".
    #[prop(into)]
    now_ms: Signal<i64>,
    /// The project's slug (for context).
    project: StoredValue<String>,
    /// Adds a term to the query and runs it.
    on_filter: Callback<String>,
) -> impl IntoView {
    view! {
        <table class="table log-table">
            <colgroup>
                <col class="log-col-time"/>
                <col class="log-col-level"/>
                <col class="log-col-service"/>
                <col class="log-col-host"/>
                <col/>
            </colgroup>
            <thead>
                <tr>
                    <th scope="col">
                        <ZoneToggle now_ms/>
                    </th>
                    <th scope="col">"Level"</th>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Host"</th>
                    <th scope="col">"Message"</th>
                </tr>
            </thead>
            <For
                each=move || lines.get()
                key=|line| line.id
                children=move |line| view! { <LogEntry line now_ms project on_filter/> }
            />
        </table>
    }
    .into_any()
}

/// The time column's heading: the zone its times are in, a click switching
/// between the browser's zone and UTC.
#[component]
fn ZoneToggle(now_ms: Signal<i64>) -> impl IntoView {
    let zone = ZoneChoice::get();
    let utc = zone.0;
    view! {
        <button
            type="button"
            class="log-zone-toggle"
            title=move || {
                if utc.get() { "Show times in this browser's time zone" } else { "Show times in UTC" }
            }
            on:click=move |_| zone.toggle()
        >
            "Time "
            <span class="log-zone">{move || {
                utc.track();
                zone_label(now_ms.get())
            }}</span>
        </button>
    }
}

/// One line: its row, and its details when expanded.
#[component]
fn LogEntry(
    line: LogLine,
    now_ms: Signal<i64>,
    project: StoredValue<String>,
    on_filter: Callback<String>,
) -> impl IntoView {
    let expanded = RwSignal::new(false);
    let ts_ms = line.ts.timestamp_millis();
    let toggle = move || expanded.update(|e| *e = !*e);
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if matches!(ev.key().as_str(), "Enter" | " ") {
            ev.prevent_default();
            toggle();
        }
    };
    let detail = StoredValue::new(line.clone());
    let utc = ZoneChoice::get().0;
    let (first, more) = first_line(&line.message);
    let first = first.to_owned();
    view! {
        <tbody class="log-entry" class:expanded=move || expanded.get()>
            <tr
                class="log-row"
                tabindex="0"
                aria-expanded=move || expanded.get().to_string()
                on:click=move |_| toggle()
                on:keydown=on_key
            >
                <td class="log-time">
                    <time
                        datetime=line.ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                        title=move || {
                            utc.track();
                            format!("{} — {}", relative_time(now_ms.get() - ts_ms), absolute_time(ts_ms))
                        }
                    >
                        {move || {
                            utc.track();
                            exact_time(ts_ms)
                        }}
                    </time>
                </td>
                <td class="log-level">
                    <LevelBadge level=line.level.clone()/>
                </td>
                <td class="log-service" title=line.service.clone()>{line.service.clone()}</td>
                <td class="log-host" title=line.host.clone()>{line.host.clone()}</td>
                <td class="log-message">
                    <div class="log-message-line">
                        <span class="log-message-text">{first}</span>
                        {(more > 0).then(|| view! {
                            <span class="log-more-lines" title="Expand the line to read them">
                                {format!("+{more} line{}", if more == 1 { "" } else { "s" })}
                            </span>
                        })}
                    </div>
                </td>
            </tr>
            <Show when=move || expanded.get()>
                <tr class="log-detail">
                    <td colspan="5">
                        <LogDetail line=detail.get_value() project on_filter/>
                    </td>
                </tr>
            </Show>
        </tbody>
    }
    .into_any()
}

/// Where the context of a line is.
#[derive(Debug, Clone)]
enum ContextState {
    Hidden,
    Loading,
    Shown(LogContext),
    Failed(ApiError),
}

/// An expanded line: actions, the JSON, and the context when asked for.
#[component]
fn LogDetail(
    line: LogLine,
    project: StoredValue<String>,
    on_filter: Callback<String>,
) -> impl IntoView {
    let context = RwSignal::new(ContextState::Hidden);
    let raw = RwSignal::new(false);
    let shown = StoredValue::new(line.clone());
    let pretty = serde_json::to_string_pretty(&line).unwrap_or_default();
    let target = StoredValue::new(line.clone());
    let show_context = move |_| {
        if matches!(context.get_untracked(), ContextState::Shown(_)) {
            context.set(ContextState::Hidden);
            return;
        }
        context.set(ContextState::Loading);
        leptos::task::spawn_local(async move {
            let answer =
                client::log_context(&project.get_value(), &target.get_value(), CONTEXT_LINES).await;
            context.set(match answer {
                Ok(found) => ContextState::Shown(found),
                Err(e) => ContextState::Failed(e),
            });
        });
    };
    let context_view = move || match context.get() {
        ContextState::Hidden => None,
        ContextState::Loading => {
            Some(view! { <Loading what="Loading the lines around it…"/> }.into_any())
        }
        ContextState::Failed(e) => Some(view! { <ErrorBox error=e/> }.into_any()),
        ContextState::Shown(found) => Some(view! { <ContextLines context=found/> }.into_any()),
    };
    view! {
        <div class="log-detail-body">
            <div class="log-detail-actions">
                <button type="button" class="button secondary small log-context-button" on:click=show_context>
                    {move || if matches!(context.get(), ContextState::Shown(_)) { "Hide context" } else { "Show context" }}
                </button>
                <button type="button" class="button secondary small log-raw-button"
                    aria-pressed=move || raw.get().to_string()
                    on:click=move |_| raw.update(|r| *r = !*r)>
                    {move || if raw.get() { "Fields" } else { "Raw JSON" }}
                </button>
                <CopyButton text=pretty label="Copy the line as JSON"/>
                <span class="muted">"+ shows only lines with a value; − hides them."</span>
            </div>
            {move || if raw.get() {
                view! { <JsonView line=shown.get_value() on_filter/> }.into_any()
            } else {
                view! { <FieldTable line=shown.get_value() project on_filter/> }.into_any()
            }}
            {context_view}
        </div>
    }
    .into_any()
}

/// The lines around a line, oldest first, the line itself marked.
#[component]
fn ContextLines(context: LogContext) -> impl IntoView {
    // The times follow a switch to or from UTC, as the rows' do.
    let utc = ZoneChoice::get().0;
    let lines = |n: usize| format!("{n} line{}", if n == 1 { "" } else { "s" });
    let summary = format!(
        "{} before and {} after, from {} on {}",
        lines(context.before.len()),
        lines(context.after.len()),
        if context.line.service.is_empty() {
            "(no service)"
        } else {
            &context.line.service
        },
        if context.line.host.is_empty() {
            "(no host)"
        } else {
            &context.line.host
        },
    );
    let current = context.line.id;
    let rows = context
        .before
        .into_iter()
        .chain(std::iter::once(context.line))
        .chain(context.after)
        .map(|l| {
            let ts_ms = l.ts.timestamp_millis();
            view! {
                <li class="log-context-line" class:current=l.id == current>
                    <time title=move || {
                        utc.track();
                        absolute_time(ts_ms)
                    }>
                        {move || {
                            utc.track();
                            format_local(ts_ms, "%H:%M:%S%.3f")
                        }}
                    </time>
                    <LevelBadge level=l.level/>
                    <span class="log-context-message">{l.message}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="log-context">
            <p class="muted">{summary}</p>
            <ol>{rows}</ol>
        </div>
    }
    .into_any()
}
