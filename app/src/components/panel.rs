//! [`Panel`]: one titled card that shows a piece of data the way every page
//! (and, next, every dashboard) does: a spinner while it loads, the error in
//! words inside the panel when it fails, an empty state when there is nothing
//! in the range, and otherwise a line chart, bars, a table or one figure.

use leptos::prelude::*;

use crate::api::{client::ApiError, Series};
use crate::components::chart::bars::{BarChart, Bars};
use crate::components::chart::{format_value, Chart, Threshold};
use crate::components::status::{ErrorBox, Loading};

/// What a panel shows once its data is there.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelBody {
    /// Lines over time, with optional threshold lines, over the page's time
    /// range when it is given (so that a page's charts line up).
    Lines {
        series: Vec<Series>,
        thresholds: Vec<Threshold>,
        x_range: Option<(i64, i64)>,
        /// Stack the series (each band filled on top of the ones before it).
        stacked: bool,
    },
    /// Stacked bars over time or one bar per name.
    Bars(Bars),
    /// Rows of text under column headings.
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// One figure with its unit.
    Stat { value: f64, unit: String },
}

impl PanelBody {
    /// Lines without thresholds.
    pub fn lines(series: Vec<Series>) -> PanelBody {
        PanelBody::Lines {
            series,
            thresholds: Vec::new(),
            x_range: None,
            stacked: false,
        }
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        match self {
            PanelBody::Lines { series, .. } => series.iter().all(|s| s.points.is_empty()),
            PanelBody::Bars(bars) => !bars.has_data(),
            PanelBody::Table { rows, .. } => rows.is_empty(),
            PanelBody::Stat { value, .. } => !value.is_finite(),
        }
    }
}

/// Where a panel's data is.
#[derive(Debug, Clone, PartialEq)]
pub enum PanelState {
    Loading,
    Failed(ApiError),
    Ready(PanelBody),
}

impl From<Result<PanelBody, ApiError>> for PanelState {
    fn from(result: Result<PanelBody, ApiError>) -> Self {
        match result {
            Ok(body) => PanelState::Ready(body),
            Err(error) => PanelState::Failed(error),
        }
    }
}

/// A link in a panel's heading to the page with more (`Open Errors →`).
#[derive(Debug, Clone, Copy)]
pub struct PanelLink {
    pub href: Signal<String>,
    pub label: &'static str,
}

/// A titled card showing `state`.
#[component]
pub fn Panel(
    /// The heading.
    #[prop(into)]
    title: String,
    /// A line under the heading saying what is shown.
    #[prop(optional, into)]
    detail: Option<String>,
    /// The card's `id`, for links and tests.
    #[prop(optional)]
    id: Option<&'static str>,
    /// More classes for the card (the page's own layout).
    #[prop(optional)]
    class: &'static str,
    /// A link beside the heading to where the data comes from.
    #[prop(optional, into)]
    link: Option<PanelLink>,
    /// What the chart shows, for screen readers.
    #[prop(into)]
    label: String,
    /// The empty state's text.
    #[prop(into, default = "No data in this range".into())]
    empty: String,
    /// The data.
    #[prop(into)]
    state: Signal<PanelState>,
    /// For a line chart: called with the time span the reader drags across.
    #[prop(optional)]
    on_zoom: Option<Callback<(i64, i64)>>,
) -> impl IntoView {
    let body = move || match state.get() {
        PanelState::Loading => view! { <Loading/> }.into_any(),
        PanelState::Failed(error) => view! { <ErrorBox error/> }.into_any(),
        PanelState::Ready(body) if body.is_empty() => {
            view! { <p class="empty chart-empty">{empty.clone()}</p> }.into_any()
        }
        PanelState::Ready(body) => render(body, label.clone(), empty.clone(), on_zoom),
    };
    view! {
        <section class=format!("card panel {class}") id=id>
            <div class="panel-head">
                <h2>{title}</h2>
                {link.map(|link| view! { <a class="panel-link" href=link.href>{link.label}</a> })}
            </div>
            {detail.map(|text| view! { <p class="muted panel-detail">{text}</p> })}
            <div class="panel-body">{body}</div>
        </section>
    }
    .into_any()
}

fn render(
    body: PanelBody,
    label: String,
    empty: String,
    on_zoom: Option<Callback<(i64, i64)>>,
) -> AnyView {
    match body {
        PanelBody::Lines {
            series,
            thresholds,
            x_range,
            stacked,
        } => view! {
            <Chart series=Signal::stored(series) thresholds=Signal::stored(thresholds)
                x_range=Signal::stored(x_range) stacked=Signal::stored(stacked) label on_zoom/>
        }
        .into_any(),
        PanelBody::Bars(bars) => {
            view! { <BarChart bars=Signal::stored(bars) label empty/> }.into_any()
        }
        PanelBody::Table { columns, rows } => view! {
            <div class="table-wrap">
                <table class="table" aria-label=label>
                    <thead>
                        <tr>{columns.into_iter().map(|c| view! { <th>{c}</th> }).collect_view()}</tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|row| {
                                view! {
                                    <tr>{row.into_iter().map(|cell| view! { <td>{cell}</td> }).collect_view()}</tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
        PanelBody::Stat { value, unit } => view! {
            <div class="stat" role="img" aria-label=label>
                <span class="stat-value">{format_value(value)}</span>
                <span class="stat-label">{unit}</span>
            </div>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::chart::bars::{BarAxis, BarStack};

    #[test]
    fn empty_means_nothing_to_draw() {
        let series = |points: Vec<(i64, f64)>| Series {
            name: "a".into(),
            unit: "ms".into(),
            points,
        };
        assert!(PanelBody::lines(vec![series(vec![])]).is_empty());
        assert!(!PanelBody::lines(vec![series(vec![(0, 0.0)])]).is_empty());
        let bars = |value: f64| Bars {
            axis: BarAxis::Category(vec!["x".into()]),
            stacks: vec![BarStack {
                name: "n".into(),
                color: (0, 0, 0),
                values: vec![value],
            }],
            unit: String::new(),
            category_label: String::new(),
            compact_axis: false,
        };
        assert!(PanelBody::Bars(bars(0.0)).is_empty());
        assert!(!PanelBody::Bars(bars(2.0)).is_empty());
        assert!(PanelBody::Table {
            columns: vec!["a".into()],
            rows: vec![]
        }
        .is_empty());
        assert!(!PanelBody::Stat {
            value: 0.0,
            unit: "ms".into()
        }
        .is_empty());
    }
}
