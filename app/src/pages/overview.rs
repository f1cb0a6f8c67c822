//! `/`: the Overview of the selected project over the selected time range:
//! errors and log volume by level (stacked bars in the level colours), request
//! rate and p95 latency (lines), each a panel of `POST /api/v1/query` at about
//! [`BUCKETS`] steps, with a link into its page.

use leptos::prelude::*;

use crate::api::{client, Frame, QueryRequest, QueryResult, Series};
use crate::components::chart::bars::{BarAxis, BarStack, Bars};
use crate::components::chart::SeriesColors;
use crate::components::panel::{Panel, PanelBody, PanelLink, PanelState};
use crate::components::project_scoped::ProjectScoped;
use crate::local_time::now;
use crate::url_state::{href_keeping_context, use_query, TimeRange};

/// Steps across the range, about.
pub const BUCKETS: i64 = 60;

/// How a panel draws its answer.
#[derive(Clone, Copy)]
enum Draw {
    /// Counts per step, stacked by series, missing steps as zero.
    Bars,
    /// Values over time.
    Lines,
}

/// One panel of the overview.
struct OverviewPanel {
    id: &'static str,
    title: &'static str,
    detail: &'static str,
    source: &'static str,
    query: &'static str,
    /// The page it links to, and the link's words.
    page: &'static str,
    link: &'static str,
    /// The y axis' unit when the source names none.
    unit: &'static str,
    draw: Draw,
}

const PANELS: [OverviewPanel; 4] = [
    OverviewPanel {
        id: "overview-errors",
        title: "Errors",
        detail: "Error events by level.",
        source: "errors",
        query: "count by level",
        page: "/errors",
        link: "Open Errors →",
        unit: "events",
        draw: Draw::Bars,
    },
    OverviewPanel {
        id: "overview-logs",
        title: "Log volume",
        detail: "Log lines by level.",
        source: "logs",
        query: "| stats count() by level",
        page: "/logs",
        link: "Open Logs →",
        unit: "lines",
        draw: Draw::Bars,
    },
    OverviewPanel {
        id: "overview-throughput",
        title: "Request rate",
        detail: "Transactions per minute.",
        source: "performance",
        query: "throughput",
        page: "/performance",
        link: "Open Performance →",
        unit: "req/min",
        draw: Draw::Lines,
    },
    OverviewPanel {
        id: "overview-latency",
        title: "p95 latency",
        detail: "95th percentile of transaction durations.",
        source: "performance",
        query: "p95",
        page: "/performance",
        link: "Open Performance →",
        unit: "ms",
        draw: Draw::Lines,
    },
];

/// A frame as a chart series: named by its labels (`error`), else by what it
/// measures (`p95`).
pub fn series_of(frame: Frame, fallback_unit: &str) -> Series {
    let name = if frame.labels.is_empty() {
        frame.name
    } else {
        frame.labels.into_values().collect::<Vec<_>>().join(" · ")
    };
    let unit = match frame.unit.as_deref() {
        Some("per_minute") => "req/min".to_owned(),
        Some("ratio") => "%".to_owned(),
        Some(unit) => unit.to_owned(),
        None => fallback_unit.to_owned(),
    };
    let points = if unit == "%" {
        frame
            .points
            .into_iter()
            .map(|(t, v)| (t, v * 100.0))
            .collect()
    } else {
        frame.points
    };
    Series { name, unit, points }
}

/// A step of about a [`BUCKETS`]th of the range, in whole minutes (at least one).
pub fn step_seconds(from_ms: i64, to_ms: i64) -> i64 {
    let per_bucket = (to_ms - from_ms).max(0) / 1000 / BUCKETS;
    ((per_bucket + 59) / 60).max(1) * 60
}

/// The starts of the answer's steps across `[from_ms, to_ms)` (the first
/// holding `from_ms`), and the step.
fn grid(result: &QueryResult, (from_ms, to_ms): (i64, i64)) -> (Vec<i64>, i64) {
    let step = result.step_ms.max(1);
    let anchor = result
        .frames
        .iter()
        .find_map(|f| f.points.first().map(|p| p.0))
        .unwrap_or(from_ms);
    let first = anchor - (anchor - from_ms + step - 1).div_euclid(step) * step;
    let starts = (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t < to_ms)
        .collect();
    (starts, step)
}

/// The time span the panels' axes share: the steps across the range, whole.
pub fn span_of(result: &QueryResult, range: (i64, i64)) -> (i64, i64) {
    let (starts, step) = grid(result, range);
    match (starts.first(), starts.last()) {
        (Some(first), Some(last)) => (*first, last + step),
        _ => range,
    }
}

/// The answer as stacked bars: one slot per step across `[from_ms, to_ms)`,
/// on the grid of the answer's own steps, zero where a series has no point.
pub fn bars_of(
    result: &QueryResult,
    unit: &str,
    (from_ms, to_ms): (i64, i64),
    colors: impl Fn(&str) -> (u8, u8, u8),
) -> Bars {
    let (starts, step) = grid(result, (from_ms, to_ms));
    let stacks = result
        .frames
        .iter()
        .map(|frame| {
            let series = series_of(frame.clone(), unit);
            let values = starts
                .iter()
                .map(|t| {
                    frame
                        .points
                        .iter()
                        .find(|(at, _)| at == t)
                        .map_or(0.0, |(_, v)| *v)
                })
                .collect();
            BarStack {
                color: colors(&series.name),
                name: series.name,
                values,
            }
        })
        .collect();
    Bars {
        axis: BarAxis::Time {
            starts,
            interval_ms: step,
        },
        stacks,
        unit: unit.to_owned(),
        category_label: String::new(),
        compact_axis: false,
    }
}

/// `/`: waits for the project list, then the selected project's overview.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let body = Callback::new(|project: String| view! { <ProjectOverview project/> }.into_any());
    view! {
        <header class="page-header">
            <h1>"Overview"</h1>
        </header>
        <ProjectScoped
            no_projects="Nothing to show yet: create a project in Settings, then send it logs, errors or traces."
            pick="Choose a project in the top bar to see how it is doing."
            body
        />
    }
    .into_any()
}

/// The panels of one project over the page's time range.
#[component]
fn ProjectOverview(
    /// The project's slug.
    project: String,
) -> impl IntoView {
    let query = use_query();
    let range = Memo::new(move |_| query.with(TimeRange::from_query));
    let slug = StoredValue::new(project.clone());
    let colors = SeriesColors::get();
    let panels = PANELS
        .iter()
        .map(|panel| {
            let (source, text, unit, draw) = (panel.source, panel.query, panel.unit, panel.draw);
            let answer = LocalResource::new(move || {
                let (from, to) = range.get().bounds(now());
                let (from_ms, to_ms) = (from.timestamp_millis(), to.timestamp_millis());
                let request = QueryRequest {
                    project: slug.get_value(),
                    source: source.to_owned(),
                    query: text.to_owned(),
                    from: Some(from.to_rfc3339()),
                    to: Some(to.to_rfc3339()),
                    step: Some(step_seconds(from_ms, to_ms).to_string()),
                };
                async move { client::query(&request).await.map(|r| (r, (from_ms, to_ms))) }
            });
            let state = Signal::derive(move || match answer.get() {
                None => PanelState::Loading,
                Some(Ok((result, span))) => PanelState::Ready(match draw {
                    Draw::Bars => {
                        PanelBody::Bars(bars_of(&result, unit, span, |name| colors.of(name)))
                    }
                    Draw::Lines => {
                        let x_range = Some(span_of(&result, span));
                        PanelBody::Lines {
                            series: result
                                .frames
                                .into_iter()
                                .map(|frame| series_of(frame, unit))
                                .collect(),
                            thresholds: Vec::new(),
                            x_range,
                            stacked: false,
                        }
                    }
                }),
                Some(Err(error)) => PanelState::Failed(error),
            });
            let page = panel.page;
            let link = PanelLink {
                href: Signal::derive(move || query.with(|q| href_keeping_context(page, q))),
                label: panel.link,
            };
            view! {
                <Panel
                    id=panel.id
                    title=panel.title
                    detail=panel.detail
                    label=format!("{} of {project}", panel.title)
                    class="overview-panel"
                    link
                    state
                />
            }
        })
        .collect_view();
    view! { <div class="overview-grid">{panels}</div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_named_by_their_labels_and_ratios_read_as_percent() {
        let frame = |labels: &[(&str, &str)], unit: Option<&str>| Frame {
            name: "count()".into(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            unit: unit.map(str::to_owned),
            points: vec![(0, 0.25)],
        };
        let by_level = series_of(frame(&[("level", "error")], None), "lines");
        assert_eq!(
            (by_level.name.as_str(), by_level.unit.as_str()),
            ("error", "lines")
        );
        let rate = series_of(frame(&[], Some("ratio")), "");
        assert_eq!((rate.name.as_str(), rate.unit.as_str()), ("count()", "%"));
        assert_eq!(rate.points, [(0, 25.0)]);
        assert_eq!(
            series_of(frame(&[], Some("per_minute")), "").unit,
            "req/min"
        );
    }

    #[test]
    fn counts_are_bars_on_the_answer_grid_with_zeros_between() {
        assert_eq!(step_seconds(0, 3_600_000), 60);
        assert_eq!(step_seconds(0, 86_400_000), 1440);
        let result = QueryResult {
            frames: vec![Frame {
                name: "events".into(),
                labels: [("level".to_owned(), "error".to_owned())].into(),
                unit: None,
                points: vec![(120_000, 2.0), (240_000, 1.0)],
            }],
            step_ms: 60_000,
        };
        let bars = bars_of(&result, "events", (30_000, 300_000), |_| (0, 0, 0));
        let BarAxis::Time { starts, .. } = &bars.axis else {
            panic!("a time axis");
        };
        assert_eq!(starts, &[0, 60_000, 120_000, 180_000, 240_000]);
        assert_eq!(bars.stacks[0].name, "error");
        assert_eq!(bars.stacks[0].values, [0.0, 0.0, 2.0, 0.0, 1.0]);
    }
}
