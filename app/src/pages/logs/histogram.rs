//! The histogram above the results: matching lines per time bucket, stacked by
//! level in the level colours; dragging across it zooms the page into that range.

use leptos::prelude::*;

use crate::api::LogHistogram;
use crate::components::chart::bars::{BarAxis, BarChart, BarStack, Bars};
use crate::components::level::{level_color, LEVELS};

/// The histogram as bars: one layer per level that has lines, least severe at
/// the bottom; unknown level names after the known ones.
pub fn bars_of(histogram: &LogHistogram) -> Bars {
    let starts = histogram
        .buckets
        .iter()
        .map(|b| b.ts.timestamp_millis())
        .collect();
    let mut levels: Vec<String> = LEVELS.iter().map(|l| (*l).to_owned()).collect();
    for bucket in &histogram.buckets {
        for name in bucket.counts.keys() {
            if !levels.contains(name) {
                levels.push(name.clone());
            }
        }
    }
    let stacks = levels
        .into_iter()
        .map(|level| BarStack {
            values: histogram
                .buckets
                .iter()
                .map(|b| b.counts.get(&level).copied().unwrap_or(0) as f64)
                .collect(),
            color: level_color(&level),
            name: level,
        })
        .filter(|s| s.values.iter().any(|v| *v > 0.0))
        .collect();
    Bars {
        axis: BarAxis::Time {
            starts,
            interval_ms: histogram.interval_ms,
        },
        stacks,
        unit: "Lines".to_owned(),
        category_label: String::new(),
        compact_axis: true,
    }
}

/// The histogram chart.
#[component]
pub fn LogHistogramChart(
    /// The answer of `/logs/histogram`.
    histogram: LogHistogram,
    /// Called with the range (unix ms) dragged across.
    on_zoom: Callback<(i64, i64)>,
    /// The searched range (unix ms), which the stats chart spans too.
    x_range: Signal<Option<(i64, i64)>>,
) -> impl IntoView {
    let bars = Signal::stored(bars_of(&histogram));
    view! {
        <BarChart
            bars
            x_range
            label="Matching lines over time, by level"
            on_select=on_zoom
            empty="No lines match in this range"
            compact=true
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::HistogramBucket;

    #[test]
    fn levels_stack_in_severity_order_and_empty_levels_are_left_out() {
        let bucket = |ts: i64, counts: &[(&str, i64)]| HistogramBucket {
            ts: chrono::DateTime::from_timestamp(ts, 0).unwrap_or_default(),
            counts: counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        };
        let histogram = LogHistogram {
            interval_ms: 60_000,
            buckets: vec![
                bucket(0, &[("error", 2), ("info", 5)]),
                bucket(60, &[("info", 1)]),
            ],
        };
        let bars = bars_of(&histogram);
        let names: Vec<_> = bars.stacks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["info", "error"]);
        assert_eq!(bars.stacks[0].values, vec![5.0, 1.0]);
        assert_eq!(bars.x_range(), (0, 120_000));
    }
}
