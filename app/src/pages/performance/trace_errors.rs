//! The error events of a trace: level, the issue's title linking to the event
//! on the Errors page (`/errors/{issue_id}?event=<event_id>`), when it happened
//! and the span it was raised in.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use super::links::issue_event_href;
use crate::api::{TraceError, TraceSpan};
use crate::components::level::LevelBadge;
use crate::components::status::EmptyState;
use crate::local_time::{absolute_time, format_local};

/// One error as a link to its event.
#[component]
pub fn ErrorLink(
    /// The error.
    error: TraceError,
    /// The page's URL query, kept by the link.
    #[prop(into)]
    query: Signal<ParamsMap>,
) -> impl IntoView {
    let (issue_id, event_id) = (error.issue_id, StoredValue::new(error.event_id.clone()));
    let href = move || query.with(|q| issue_event_href(issue_id, &event_id.get_value(), q));
    let ts_ms = error.ts.timestamp_millis();
    view! {
        <span class="trace-error">
            <LevelBadge level=error.level.clone()/>
            <a class="trace-error-link" href=href title=error.title.clone()>{error.title.clone()}</a>
            <time class="muted" datetime=error.ts.to_rfc3339() title=absolute_time(ts_ms)>
                {format_local(ts_ms, "%H:%M:%S%.3f")}
            </time>
        </span>
    }
    .into_any()
}

/// The errors of a trace, with the span each was raised in.
#[component]
pub fn TraceErrors(
    /// Oldest first.
    errors: Vec<TraceError>,
    /// The spans of the trace, to name the span of each error.
    spans: StoredValue<Vec<TraceSpan>>,
    /// The page's URL query, kept by the links.
    #[prop(into)]
    query: Signal<ParamsMap>,
) -> impl IntoView {
    if errors.is_empty() {
        return view! { <EmptyState title="No errors in this trace"/> }.into_any();
    }
    let items = errors
        .into_iter()
        .map(|error| {
            let span = error.span_id.as_deref().and_then(|id| {
                spans.with_value(|all| {
                    all.iter()
                        .find(|s| s.span_id == id)
                        .map(|s| format!("in {} {}", s.op, s.name).trim_end().to_owned())
                })
            });
            let span =
                span.map(|text| view! { <span class="muted trace-error-span">{text}</span> });
            let event_id = error.event_id.clone();
            view! {
                <li class="trace-error-item" data-event-id=event_id>
                    <ErrorLink error query/>
                    {span}
                </li>
            }
        })
        .collect_view();
    view! { <ul class="trace-error-list">{items}</ul> }.into_any()
}
