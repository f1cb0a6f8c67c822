//! `/performance/transaction?name=<name>`: one transaction over the page's time
//! range — its throughput, durations, failure rate and Apdex as charts, and its
//! slowest traces. The name is in the query string because names hold slashes.

use leptos::prelude::*;

use super::figures::{format_rate, plural};
use super::links::{performance_href, ENVIRONMENT_KEY, NAME_KEY};
use super::slowest::SlowestTraces;
use super::transaction_charts::TransactionCharts;
use super::PerformanceScoped;
use crate::api::{client, TransactionSeries};
use crate::components::status::{EmptyState, ErrorBox, Loading};
use crate::local_time::now;
use crate::url_state::{use_query, TimeRange};

/// Buckets of the charts.
const BUCKETS: u32 = 60;

/// `/performance/transaction`.
#[component]
pub fn TransactionPage() -> impl IntoView {
    let query = use_query();
    let name = Memo::new(move |_| {
        query
            .with(|q| q.get(NAME_KEY))
            .filter(|n| !n.trim().is_empty())
    });
    let back = move || query.with(performance_href);
    let title = move || name.get().unwrap_or_else(|| "Transaction".to_owned());
    let body = Callback::new(move |project: String| match name.get() {
        Some(name) => view! { <TransactionView project name/> }.into_any(),
        None => view! {
            <div class="card">
                <EmptyState
                    title="No transaction named"
                    detail="The address names no transaction: open one from the Performance page."
                />
            </div>
        }
        .into_any(),
    });
    view! {
        <a class="perf-back" href=back>"← Performance"</a>
        <header class="page-header perf-header">
            <h1 class="transaction-title">{title}</h1>
        </header>
        <PerformanceScoped what="transactions" body/>
    }
    .into_any()
}

/// A transaction of a project.
#[component]
fn TransactionView(project: String, name: String) -> impl IntoView {
    let project = StoredValue::new(project);
    let name = StoredValue::new(name);
    let query = use_query();
    let range = Memo::new(move |_| query.with(TimeRange::from_query));
    let environment =
        Memo::new(move |_| query.with(|q| q.get(ENVIRONMENT_KEY)).unwrap_or_default());
    let series = LocalResource::new(move || {
        let (from, to) = range.get().bounds(now());
        let (slug, name, environment) = (project.get_value(), name.get_value(), environment.get());
        async move { client::transaction_series(&slug, &name, &environment, from, to, BUCKETS).await }
    });
    let body = move || {
        series.get().map(|answer| match answer {
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(series) => view! { <Loaded series/> }.into_any(),
        })
    };
    view! {
        <Transition fallback=|| view! { <Loading what="Loading the transaction…"/> }>{body}</Transition>
    }
    .into_any()
}

/// The charts and slowest traces of a loaded series.
#[component]
fn Loaded(series: TransactionSeries) -> impl IntoView {
    let query = use_query();
    let now_ms = Signal::stored(now().timestamp_millis());
    let count: i64 = series.buckets.iter().map(|b| b.count).sum();
    let failed: f64 = series
        .buckets
        .iter()
        .map(|b| b.count as f64 * b.error_rate.unwrap_or(0.0))
        .sum();
    let summary = if count == 0 {
        "No transaction of this name in this range.".to_owned()
    } else {
        format!(
            "{} in this range · failure rate {}",
            plural(usize::try_from(count).unwrap_or_default(), "transaction"),
            format_rate(failed / count as f64)
        )
    };
    view! {
        <p class="perf-subtitle muted" id="transaction-summary">{summary}</p>
        <TransactionCharts buckets=series.buckets apdex_threshold_ms=series.apdex_threshold_ms/>
        <section class="card slow-list" aria-labelledby="slowest-title">
            <h2 id="slowest-title">"Slowest traces"</h2>
            <SlowestTraces slowest=series.slowest query now_ms/>
        </section>
    }
    .into_any()
}
