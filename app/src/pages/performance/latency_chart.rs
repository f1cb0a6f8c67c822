//! The chart above the endpoints table: the p95 duration of the ten busiest
//! transactions of the range as bars, slowest first, so a slow endpoint that
//! many requests hit stands out.

use leptos::prelude::*;

use crate::api::TransactionSummary;
use crate::components::chart::bars::{BarAxis, BarStack, Bars};
use crate::components::chart::PALETTE;
use crate::components::panel::{Panel, PanelBody, PanelState};

/// Transactions the chart shows at most.
pub const TOP: usize = 10;

/// The p95 bars of the `TOP` transactions with the most segments, slowest first.
pub fn p95_bars(rows: &[TransactionSummary]) -> Bars {
    let mut busiest: Vec<&TransactionSummary> = rows.iter().collect();
    busiest.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    busiest.truncate(TOP);
    busiest.sort_by(|a, b| b.p95_ms.total_cmp(&a.p95_ms));
    Bars {
        axis: BarAxis::Category(busiest.iter().map(|r| r.name.clone()).collect()),
        stacks: vec![BarStack {
            name: "p95 (ms)".to_owned(),
            color: PALETTE[0],
            values: busiest.iter().map(|r| r.p95_ms).collect(),
        }],
        unit: "p95 duration (ms)".to_owned(),
        category_label: "Transaction".to_owned(),
        compact_axis: false,
    }
}

/// The p95 chart of `rows`.
#[component]
pub fn LatencyBars(
    /// The transactions of the table.
    rows: Vec<TransactionSummary>,
) -> impl IntoView {
    let state = PanelState::Ready(PanelBody::Bars(p95_bars(&rows)));
    let shown = rows.len().min(TOP);
    let title = if shown == 1 {
        "p95 duration".to_owned()
    } else {
        format!("p95 duration of the {shown} busiest transactions")
    };
    view! {
        <Panel
            title
            class="perf-chart"
            label="p95 duration of the busiest transactions, in milliseconds"
            empty="No transactions in this range"
            state=Signal::stored(state)
        />
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, count: i64, p95_ms: f64) -> TransactionSummary {
        TransactionSummary {
            name: name.to_owned(),
            count,
            throughput_per_min: 0.0,
            p50_ms: 0.0,
            p95_ms,
            p99_ms: 0.0,
            error_rate: 0.0,
            apdex: 1.0,
        }
    }

    #[test]
    fn the_busiest_transactions_are_drawn_slowest_first() {
        let mut rows: Vec<_> = (0..12)
            .map(|i| row(&format!("GET /{i}"), 100 - i, f64::from(i as i32)))
            .collect();
        rows.push(row("GET /rare", 1, 5000.0));
        let bars = p95_bars(&rows);
        let BarAxis::Category(names) = &bars.axis else {
            panic!("category bars");
        };
        assert_eq!(names.len(), TOP);
        assert_eq!(names.first().map(String::as_str), Some("GET /9"));
        assert!(!names.iter().any(|n| n == "GET /rare"));
        assert_eq!(bars.stacks[0].values[0], 9.0);
    }
}
