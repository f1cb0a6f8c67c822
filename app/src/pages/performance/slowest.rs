//! A transaction's slowest segments in the range, slowest first: when each
//! started, how long it took (with a bar against the slowest), its status, and
//! a link to its trace's waterfall.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use super::figures::{format_ms, is_failure};
use super::links::trace_href;
use super::time_axis::percent;
use crate::api::SlowTransaction;
use crate::components::status::EmptyState;
use crate::pages::errors::issue_table::Ago;

/// The slowest traces of a transaction.
#[component]
pub fn SlowestTraces(
    /// Slowest first.
    slowest: Vec<SlowTransaction>,
    /// The page's URL query, kept by the links.
    #[prop(into)]
    query: Signal<ParamsMap>,
    /// The current time (unix ms), for "3 min ago".
    #[prop(into)]
    now_ms: Signal<i64>,
) -> impl IntoView {
    if slowest.is_empty() {
        return view! {
            <EmptyState
                title="No traces in this range"
                detail="Pick a longer time range in the top bar."
            />
        }
        .into_any();
    }
    let longest = slowest
        .iter()
        .map(|s| s.duration_ms)
        .fold(0.0_f64, f64::max);
    let rows = slowest
        .into_iter()
        .map(|slow| {
            let trace_id = StoredValue::new(slow.trace_id.clone());
            let href = move || query.with(|q| trace_href(&trace_id.get_value(), q));
            let width = format!("width: {:.2}%", percent(slow.duration_ms, longest).max(0.5));
            let status_class = if is_failure(&slow.status) {
                "badge span-status failed"
            } else {
                "badge success span-status"
            };
            let short: String = slow.trace_id.chars().take(8).collect();
            view! {
                <tr class="slow-row" data-trace-id=slow.trace_id.clone()>
                    <td>
                        <a class="slow-trace-link" href=href title=format!("Trace {}", slow.trace_id)>
                            <code>{short}</code>
                        </a>
                    </td>
                    <td class="slow-when"><Ago at=slow.ts now_ms/></td>
                    <td>
                        <div class="slow-duration">
                            <span class="slow-bar" aria-hidden="true">
                                <span class="slow-bar-fill" style=width></span>
                            </span>
                            <span class="numeric">{format_ms(slow.duration_ms)}</span>
                        </div>
                    </td>
                    <td><span class=status_class>{slow.status.clone()}</span></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table slow-table">
            <thead>
                <tr>
                    <th scope="col">"Trace"</th>
                    <th scope="col">"Started"</th>
                    <th scope="col">"Duration"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
