//! The transactions (endpoints) as a table: one row per transaction name with
//! its count, throughput, p50/p95/p99 durations, failure rate and Apdex. A click
//! on a heading sorts by that column (again: the other way round); a click on a
//! row opens the transaction.

use leptos::prelude::*;
use leptos_router::{hooks::use_navigate, params::ParamsMap, NavigateOptions};

use super::figures::{
    apdex_class, failure_rate_class, format_apdex, format_ms, format_rate, format_throughput,
};
use super::links::transaction_href;
use super::list_state::{Column, ListState, Order};
use crate::api::TransactionSummary;

/// The table of transactions.
#[component]
pub fn EndpointTable(
    /// The rows, in the order the server sorted them.
    rows: Vec<TransactionSummary>,
    /// The search and order in the URL.
    #[prop(into)]
    state: Signal<ListState>,
    /// Called with the column whose heading was clicked.
    on_sort: Callback<Column>,
    /// The page's URL query, kept by the links to the transactions.
    #[prop(into)]
    query: Signal<ParamsMap>,
) -> impl IntoView {
    let headings = Column::ALL
        .into_iter()
        .map(|column| {
            let arrow = move || {
                state.with(|s| match (s.sort == column, s.order) {
                    (false, _) => "",
                    (true, Order::Asc) => "▲",
                    (true, Order::Desc) => "▼",
                })
            };
            let class = if column == Column::Name {
                "sortable"
            } else {
                "sortable numeric"
            };
            view! {
                <th scope="col" class=class aria-sort=move || state.with(|s| s.aria_sort(column))>
                    <button
                        type="button"
                        class="sort-button"
                        data-sort=column.as_str()
                        title=column.description()
                        on:click=move |_| on_sort.run(column)
                    >
                        {column.label()}
                        <span class="sort-arrow" aria-hidden="true">{arrow}</span>
                    </button>
                </th>
            }
        })
        .collect_view();
    let rows = rows
        .into_iter()
        .map(|row| view! { <EndpointRow row query/> })
        .collect_view();
    view! {
        <div class="endpoint-table-wrap">
            <table class="table endpoint-table">
                <colgroup>
                    <col/>
                    <col class="endpoint-col-count"/>
                    <col class="endpoint-col-throughput"/>
                    <col class="endpoint-col-ms"/>
                    <col class="endpoint-col-ms"/>
                    <col class="endpoint-col-ms"/>
                    <col class="endpoint-col-rate"/>
                    <col class="endpoint-col-apdex"/>
                </colgroup>
                <thead>
                    <tr>{headings}</tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Whether a click landed on a link inside the row (which navigates by itself).
fn on_link(ev: &leptos::ev::MouseEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a").ok().flatten())
            .is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// One transaction.
#[component]
fn EndpointRow(row: TransactionSummary, query: Signal<ParamsMap>) -> impl IntoView {
    let name = StoredValue::new(row.name.clone());
    let href = move || query.with(|q| transaction_href(&name.get_value(), q));
    // Navigation closures are not `Send`; the handler only runs in the browser.
    let navigate = StoredValue::new_local(use_navigate());
    let open = move |ev: leptos::ev::MouseEvent| {
        if on_link(&ev) {
            return;
        }
        let target = href();
        navigate.with_value(|go| go(&target, NavigateOptions::default()));
    };
    let failure_class = format!(
        "numeric transaction-failures {}",
        failure_rate_class(row.error_rate)
    );
    view! {
        <tr class="transaction-row" data-name=row.name.clone() on:click=open>
            <td class="transaction-main">
                <a class="transaction-name" href=href title=row.name.clone()>{row.name.clone()}</a>
            </td>
            <td class="numeric transaction-count">{row.count}</td>
            <td class="numeric transaction-throughput">{format_throughput(row.throughput_per_min)}</td>
            <td class="numeric transaction-p50">{format_ms(row.p50_ms)}</td>
            <td class="numeric transaction-p95">{format_ms(row.p95_ms)}</td>
            <td class="numeric transaction-p99">{format_ms(row.p99_ms)}</td>
            <td class=failure_class>{format_rate(row.error_rate)}</td>
            <td class="numeric transaction-apdex">
                <span class=format!("apdex {}", apdex_class(row.apdex))>{format_apdex(row.apdex)}</span>
            </td>
        </tr>
    }
    .into_any()
}
