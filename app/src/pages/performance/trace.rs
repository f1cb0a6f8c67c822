//! `/performance/traces/{trace_id}`: one trace — where it started, how long it
//! took and which services it crossed, its spans as a waterfall, the errors
//! raised in it (linking to the Errors page) and its log lines (linking to the
//! Logs page), from `GET /projects/{project}/traces/{trace_id}`.

use std::collections::BTreeSet;

use chrono::Duration;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::figures::{format_ms, plural};
use super::links::{performance_href, trace_logs_href, transaction_href, NAME_KEY};
use super::trace_errors::TraceErrors;
use super::trace_logs::TraceLogs;
use super::waterfall::{tree_order, Waterfall};
use super::PerformanceScoped;
use crate::api::{client, TraceDetail};
use crate::components::status::{EmptyState, ErrorBox, Loading};
use crate::local_time::absolute_time;
use crate::url_state::use_query;

/// `/performance/traces/{trace_id}`.
#[component]
pub fn TracePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query();
    let trace_id = Memo::new(move |_| params.with(|p| p.get("trace_id").unwrap_or_default()));
    // Back to the transaction the trace was opened from, else to the table.
    let back = move || {
        query.with(|q| match q.get(NAME_KEY).filter(|n| !n.is_empty()) {
            Some(name) => (transaction_href(&name, q), format!("← {name}")),
            None => (performance_href(q), "← Performance".to_owned()),
        })
    };
    let body = Callback::new(move |project: String| {
        let trace_id = trace_id.get();
        view! { <TraceView project trace_id/> }.into_any()
    });
    view! {
        <a class="perf-back" href=move || back().0>{move || back().1}</a>
        <header class="page-header perf-header">
            <h1>
                "Trace "
                <code class="trace-id" id="trace-id">{trace_id}</code>
            </h1>
        </header>
        <PerformanceScoped what="traces" body/>
    }
    .into_any()
}

/// The trace of a project.
#[component]
fn TraceView(project: String, trace_id: String) -> impl IntoView {
    let project = StoredValue::new(project);
    let trace_id = StoredValue::new(trace_id);
    let detail = LocalResource::new(move || {
        let (slug, id) = (project.get_value(), trace_id.get_value());
        async move { client::trace(&slug, &id).await }
    });
    let body = move || {
        detail.get().map(|answer| match answer {
            Err(e) if e.status() == Some(404) => view! {
                <div class="card">
                    <EmptyState
                        title="Nothing of this trace was received"
                        detail=format!("{e}. Spans, errors and log lines past retention are gone; spans may also still be on their way.")
                    />
                </div>
            }
            .into_any(),
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(trace) => view! { <Loaded trace project=project.get_value()/> }.into_any(),
        })
    };
    view! {
        <Transition fallback=|| view! { <Loading what="Loading the trace…"/> }>{body}</Transition>
    }
    .into_any()
}

/// A loaded trace.
#[component]
fn Loaded(trace: TraceDetail, project: String) -> impl IntoView {
    let query = use_query();
    let root = trace
        .spans
        .iter()
        .find(|s| s.is_segment)
        .or_else(|| trace.spans.first())
        .map(|s| s.transaction.clone())
        .filter(|t| !t.is_empty());
    let services: BTreeSet<&str> = trace
        .spans
        .iter()
        .map(|s| s.service.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    let services = services.into_iter().collect::<Vec<_>>().join(", ");
    // The logs link covers the trace, or whatever else of it was received.
    let start = trace
        .start
        .or_else(|| trace.errors.first().map(|e| e.ts))
        .or_else(|| trace.logs.first().map(|l| l.ts));
    let end = start.map(|s| {
        let spans_end = s + Duration::microseconds((trace.duration_ms * 1000.0) as i64);
        [
            trace.errors.last().map(|e| e.ts),
            trace.logs.last().map(|l| l.ts),
        ]
        .into_iter()
        .flatten()
        .fold(spans_end, |a, b| a.max(b))
    });
    let logs_href = match (start, end) {
        (Some(start), Some(end)) => trace_logs_href(&trace.trace_id, &project, start, end),
        _ => String::new(),
    };

    let fact = |label: &'static str, id: &'static str, value: String| {
        view! {
            <div class="issue-fact">
                <dt>{label}</dt>
                <dd id=id>{value}</dd>
            </div>
        }
    };
    let root_fact = root.map(|name| {
        let href = query.with_untracked(|q| transaction_href(&name, q));
        view! {
            <div class="issue-fact">
                <dt>"Transaction"</dt>
                <dd id="trace-transaction"><a href=href>{name}</a></dd>
            </div>
        }
    });
    let started = trace.start.map(|s| {
        fact(
            "Started",
            "trace-start",
            absolute_time(s.timestamp_millis()),
        )
    });
    let service_fact = (!services.is_empty()).then(|| fact("Services", "trace-services", services));

    let span_count = trace.spans.len();
    let error_count = trace.errors.len();
    let log_count = trace.logs.len();
    let duration_ms = trace.duration_ms;
    let trace_start = trace.start;
    let spans = StoredValue::new(tree_order(trace.spans));
    let errors = StoredValue::new(trace.errors);
    let waterfall = if span_count == 0 {
        view! {
            <EmptyState
                title="No spans of this trace were received"
                detail="Its errors and log lines are below."
            />
        }
        .into_any()
    } else {
        view! { <Waterfall spans duration_ms errors query/> }.into_any()
    };
    view! {
        <section class="card trace-summary">
            <dl class="issue-facts">
                {root_fact}
                {started}
                {fact("Duration", "trace-duration", format_ms(duration_ms))}
                {fact("Spans", "trace-span-count", span_count.to_string())}
                {fact("Errors", "trace-error-count", error_count.to_string())}
                {service_fact}
            </dl>
        </section>
        <section class="card trace-waterfall" aria-labelledby="waterfall-title">
            <h2 id="waterfall-title">"Spans"</h2>
            {waterfall}
        </section>
        <section class="card trace-errors" id="trace-errors" aria-labelledby="trace-errors-title">
            <h2 id="trace-errors-title">{format!("Errors ({error_count})")}</h2>
            <TraceErrors errors=errors.get_value() spans query/>
        </section>
        <section class="card trace-logs" id="trace-logs" aria-labelledby="trace-logs-title">
            <div class="trace-logs-head">
                <h2 id="trace-logs-title">{format!("Logs ({})", plural(log_count, "line"))}</h2>
                <a id="trace-open-logs" class="button secondary small" href=logs_href>
                    "Open in Logs"
                </a>
            </div>
            <TraceLogs lines=trace.logs start=trace_start/>
        </section>
    }
    .into_any()
}
