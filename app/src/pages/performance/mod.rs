//! The Performance pages: `/performance` (the endpoints of the selected
//! project), `/performance/transaction?name=<name>` (one transaction over time)
//! and `/performance/traces/{trace_id}` (one trace as a waterfall, with its
//! errors and logs).
//!
//! - [`endpoints`]: the search box, the Apdex threshold ([`apdex_setting`]), the
//!   p95 chart ([`latency_chart`]) and the sortable table ([`endpoint_table`]),
//!   whose search and order live in the URL ([`list_state`]).
//! - [`transaction`]: throughput, duration percentiles, failure rate and Apdex
//!   over time ([`transaction_charts`]) and the slowest traces ([`slowest`]).
//! - [`trace`]: the [`waterfall`] on a shared [`time_axis`], each span's
//!   details ([`span_detail`]), the trace's errors ([`trace_errors`]) and log
//!   lines ([`trace_logs`]).
//! - [`figures`] writes durations, rates and scores; [`links`] builds the links
//!   between these pages and to the Errors and Logs pages.

mod apdex_setting;
mod endpoint_table;
mod endpoints;
mod figures;
mod latency_chart;
mod links;
mod list_state;
mod slowest;
mod span_detail;
mod time_axis;
mod trace;
mod trace_errors;
mod trace_logs;
mod transaction;
mod transaction_charts;
mod waterfall;

use leptos::prelude::*;

use crate::components::project_scoped::ProjectScoped;
use endpoints::EndpointsExplorer;

pub use trace::TracePage;
pub use transaction::TransactionPage;

/// `/performance`: waits for the project list, then shows the selected
/// project's endpoints.
#[component]
pub fn PerformancePage() -> impl IntoView {
    let body = Callback::new(|project: String| view! { <EndpointsExplorer project/> }.into_any());
    view! {
        <header class="page-header">
            <h1>"Performance"</h1>
        </header>
        <PerformanceScoped what="transactions" body/>
    }
    .into_any()
}

/// The empty states of the Performance pages, which list `what`
/// ("transactions", "traces").
#[component]
fn PerformanceScoped(what: &'static str, body: Callback<String, AnyView>) -> impl IntoView {
    let no_projects = format!(
        "Traces belong to a project: create one in Settings, then send {what} with a Sentry SDK (traces_sample_rate) or OpenTelemetry."
    );
    let pick = format!("Choose a project in the top bar to see its {what}.");
    view! { <ProjectScoped no_projects pick body/> }
}
