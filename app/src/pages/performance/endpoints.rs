//! The endpoints of one project: a search box and the Apdex threshold, the p95
//! chart of the busiest transactions and the sortable table, read from
//! `GET /projects/{project}/performance/transactions` with the search, order and
//! time range of the URL.

use leptos::prelude::*;

use super::apdex_setting::ApdexSetting;
use super::endpoint_table::EndpointTable;
use super::figures::plural;
use super::latency_chart::LatencyBars;
use super::list_state::{Column, ListState};
use crate::api::{client, TransactionList};
use crate::components::status::{EmptyState, ErrorBox, Loading};
use crate::local_time::now;
use crate::url_state::{use_query, use_set_query, TimeRange};

/// Rows the table asks for.
const LIMIT: u32 = 200;

/// What the page says when the project has no transaction in the range.
const NO_TRANSACTIONS: &str = "Enable tracing in your Sentry SDK (traces_sample_rate) or send OTLP traces to /v1/traces. Older transactions may be outside the time range picked in the top bar.";

/// The endpoints of `project`.
#[component]
pub fn EndpointsExplorer(
    /// The project's slug.
    project: String,
) -> impl IntoView {
    let project = StoredValue::new(project);
    let query = use_query();
    // Navigation closures are not `Send`; the callbacks below only run in the browser.
    let navigate = StoredValue::new_local(use_set_query());
    let state = Memo::new(move |_| query.with(ListState::from_query));
    let range = Memo::new(move |_| query.with(TimeRange::from_query));
    // Bumped when the Apdex threshold changes, so the figures are read again.
    let reloads = RwSignal::new(0_u64);
    let list = LocalResource::new(move || {
        reloads.track();
        let (from, to) = range.get().bounds(now());
        let scope = state.get().scope(from, to);
        let slug = project.get_value();
        async move { client::transactions(&slug, &scope, LIMIT).await }
    });

    let write = move |next: ListState| {
        let mut params = query.get_untracked();
        next.write_query(&mut params);
        navigate.with_value(|go| go(params));
    };
    let on_sort = Callback::new(move |column: Column| write(state.get_untracked().clicked(column)));
    let on_saved = Callback::new(move |()| reloads.update(|r| *r += 1));

    // The search box and the environment follow the URL (Back, links).
    let search = RwSignal::new(String::new());
    let environment = RwSignal::new(String::new());
    Effect::new(move |_| {
        state.with(|s| {
            search.set(s.q.clone());
            environment.set(s.environment.clone());
        });
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut next = state.get_untracked();
        next.q = search.get_untracked().trim().to_owned();
        next.environment = environment.get_untracked().trim().to_owned();
        write(next);
    };

    let body = move || {
        list.get().map(|answer| match answer {
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(list) => view! { <Listing list state query on_sort/> }.into_any(),
        })
    };
    view! {
        <section class="card perf-toolbar">
            <form class="perf-search" role="search" on:submit=submit>
                <input
                    id="transactions-search"
                    class="input"
                    type="search"
                    placeholder="Search transaction names"
                    aria-label="Search transactions"
                    bind:value=search
                />
                <input
                    id="transactions-environment"
                    class="input perf-environment"
                    placeholder="any environment"
                    aria-label="Environment"
                    title="Only transactions of this environment (e.g. production)"
                    bind:value=environment
                />
                <button id="transactions-apply" class="button" type="submit">"Search"</button>
            </form>
            <ApdexSetting project on_saved/>
        </section>
        <Transition fallback=|| view! { <Loading what="Loading transactions…"/> }>{body}</Transition>
    }
    .into_any()
}

/// A loaded list: the empty state, or the chart and the table.
#[component]
fn Listing(
    list: TransactionList,
    state: Memo<ListState>,
    query: Memo<leptos_router::params::ParamsMap>,
    on_sort: Callback<Column>,
) -> impl IntoView {
    let rows = list.transactions;
    if rows.is_empty() {
        let (searched, environment) =
            state.with_untracked(|s| (s.q.clone(), s.environment.clone()));
        let empty = if !environment.is_empty() && searched.is_empty() {
            view! {
                <EmptyState
                    title=format!("No transactions in environment “{environment}” in this range")
                    detail="Environments are what the SDK reports (Sentry's environment option, OpenTelemetry's deployment.environment). Clear the field to see all."
                />
            }
            .into_any()
        } else if searched.is_empty() {
            view! { <EmptyState title="No transactions yet" detail=NO_TRANSACTIONS/> }.into_any()
        } else {
            view! {
                <EmptyState
                    title=format!("No transaction name contains “{searched}” in this range")
                    detail="Clear the search, or pick a longer time range in the top bar."
                />
            }
            .into_any()
        };
        return view! { <section class="card endpoint-list">{empty}</section> }.into_any();
    }
    let summary = format!(
        "{} · Apdex with T = {} ms",
        plural(rows.len(), "transaction"),
        list.apdex_threshold_ms
    );
    let more = (rows.len() >= LIMIT as usize).then(|| {
        view! {
            <p class="muted endpoint-more">
                {format!("Showing the first {LIMIT}: search to narrow the list.")}
            </p>
        }
    });
    view! {
        <LatencyBars rows=rows.clone()/>
        <section class="card endpoint-list">
            <p class="endpoint-summary muted" id="transactions-summary">{summary}</p>
            <EndpointTable rows state query on_sort/>
            {more}
        </section>
    }
    .into_any()
}
