//! The bar mode of the chart: stacked bars over time (the logs histogram) or one
//! bar per name (a `stats ... by field` table). It shares the line chart's canvas
//! sizing, colour scheme, axes, time zone label and hover read-out, and can report
//! a range the user drags across (to zoom in).

use leptos::prelude::*;

use super::drag::DragSelect;
use super::{format_value, readout_view, PlotGeometry, Readout};
use crate::local_time::format_local;

/// Category slots are this many x units wide, so bars can be inset within them on
/// the chart's integer x axis.
const CATEGORY_WIDTH: i64 = 1000;

/// What the bars stand on.
#[derive(Debug, Clone, PartialEq)]
pub enum BarAxis {
    /// Equal time buckets.
    Time {
        /// Start of each bucket (unix ms), oldest first.
        starts: Vec<i64>,
        /// Width of every bucket.
        interval_ms: i64,
    },
    /// One bar per name, in this order.
    Category(Vec<String>),
}

/// One layer of the stacked bars, e.g. the `error` lines of every bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct BarStack {
    /// The legend entry.
    pub name: String,
    /// Fill colour (RGB).
    pub color: (u8, u8, u8),
    /// One value per slot of the axis.
    pub values: Vec<f64>,
}

/// Everything a bar chart draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    /// The slots.
    pub axis: BarAxis,
    /// Layers, bottom first.
    pub stacks: Vec<BarStack>,
    /// The y axis' label, e.g. "Lines".
    pub unit: String,
    /// The x axis' label for categories (times get "Time (zone)").
    pub category_label: String,
    /// A low chart: fewer y ticks and no x axis title.
    pub compact_axis: bool,
}

impl Bars {
    /// The number of slots.
    pub fn len(&self) -> usize {
        match &self.axis {
            BarAxis::Time { starts, .. } => starts.len(),
            BarAxis::Category(names) => names.len(),
        }
    }

    /// Whether there are no slots at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether any bar has a height.
    pub fn has_data(&self) -> bool {
        self.stacks
            .iter()
            .any(|s| s.values.iter().any(|v| *v > 0.0))
    }

    /// The height of slot `i`, all layers together.
    pub fn total(&self, i: usize) -> f64 {
        self.stacks
            .iter()
            .filter_map(|s| s.values.get(i))
            .filter(|v| **v > 0.0)
            .sum()
    }

    /// The x axis' extent: times in unix ms, or category slots.
    pub fn x_range(&self) -> (i64, i64) {
        match &self.axis {
            BarAxis::Time {
                starts,
                interval_ms,
            } => match (starts.first(), starts.last()) {
                (Some(first), Some(last)) => (*first, last + interval_ms.max(&1)),
                _ => (0, 1),
            },
            BarAxis::Category(names) => (0, CATEGORY_WIDTH * names.len().max(1) as i64),
        }
    }

    /// Where slot `i`'s bar goes on the x axis.
    pub fn slot_bounds(&self, i: usize) -> (i64, i64) {
        match &self.axis {
            BarAxis::Time {
                starts,
                interval_ms,
            } => {
                let start = starts.get(i).copied().unwrap_or_default();
                (start, start + interval_ms)
            }
            BarAxis::Category(_) => {
                let start = CATEGORY_WIDTH * i as i64;
                (start + CATEGORY_WIDTH / 6, start + CATEGORY_WIDTH * 5 / 6)
            }
        }
    }

    /// The slot under x (an x axis value), if any.
    pub fn slot_at(&self, x: i64) -> Option<usize> {
        match &self.axis {
            BarAxis::Time {
                starts,
                interval_ms,
            } => starts
                .iter()
                .position(|start| x >= *start && x < start + interval_ms),
            BarAxis::Category(names) => {
                let i = usize::try_from(x.div_euclid(CATEGORY_WIDTH)).ok()?;
                (i < names.len()).then_some(i)
            }
        }
    }

    /// The slot's name in the read-out: its time span, or the category.
    fn slot_label(&self, i: usize) -> String {
        match &self.axis {
            BarAxis::Time {
                starts,
                interval_ms,
            } => {
                let start = starts.get(i).copied().unwrap_or_default();
                format!(
                    "{} – {}",
                    format_local(start, "%Y-%m-%d %H:%M:%S"),
                    format_local(start + interval_ms, "%H:%M:%S")
                )
            }
            BarAxis::Category(names) => names.get(i).cloned().unwrap_or_default(),
        }
    }
}

/// The read-out for the mouse at (`x`, `y`): the slot's layers and total. The line
/// indexes point into `bars.stacks`.
pub fn bar_readout(geometry: &PlotGeometry, bars: &Bars, x: f64, y: f64) -> Option<Readout> {
    let px = x * geometry.pixel_ratio;
    if px < geometry.left || px > geometry.right {
        return None;
    }
    let slot = bars.slot_at(geometry.time_at(x))?;
    let mut lines: Vec<(usize, String)> = bars
        .stacks
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let value = s.values.get(slot).copied().unwrap_or(0.0);
            (value > 0.0).then(|| (i, format!("{}: {}", s.name, format_value(value))))
        })
        .collect();
    if bars.stacks.len() > 1 {
        lines.push((
            usize::MAX,
            format!("total: {}", format_value(bars.total(slot))),
        ));
    }
    let (start, end) = bars.slot_bounds(slot);
    let span = (geometry.x_max - geometry.x_min).max(1) as f64;
    let centre = (start + end) as f64 / 2.0;
    let guide =
        geometry.left + (centre - geometry.x_min as f64) / span * (geometry.right - geometry.left);
    Some(Readout::at(
        geometry,
        (x, y),
        guide,
        bars.slot_label(slot),
        lines,
    ))
}

/// CSS colour of an RGB triple.
fn css_color((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// `name` cut to `max` characters in the middle, where paths and names repeat
/// least telling parts: `GET /api/v1/…/items`.
pub fn middle_ellipsis(name: &str, max: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= max || max < 3 {
        return name.to_owned();
    }
    let tail = (max - 1) / 2;
    let head = max - 1 - tail;
    let mut short: String = chars[..head].iter().collect();
    short.push('…');
    short.extend(&chars[chars.len() - tail..]);
    short
}

/// Axis labels of category `names`, each at most `max` characters cut in the
/// middle, longer where two would read the same: no two bars share a label.
pub fn axis_labels(names: &[String], max: usize) -> Vec<String> {
    let mut labels: Vec<String> = names.iter().map(|n| middle_ellipsis(n, max)).collect();
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let mut width = max;
    while width < longest {
        let clashing: Vec<usize> = (0..labels.len())
            .filter(|&i| (0..labels.len()).any(|j| j != i && labels[j] == labels[i]))
            .collect();
        if clashing.is_empty() {
            break;
        }
        width += 4;
        for i in clashing {
            labels[i] = middle_ellipsis(&names[i], width);
        }
    }
    labels
}

/// A bar chart with legend and hover read-out; with `on_select`, dragging across a
/// time axis reports the range (unix ms, start and end).
#[component]
pub fn BarChart(
    /// The bars; the chart redraws when they change.
    #[prop(into)]
    bars: Signal<Bars>,
    /// What the chart shows, for screen readers.
    #[prop(into)]
    label: String,
    /// Called with the time range dragged across.
    #[prop(optional, into)]
    on_select: Option<Callback<(i64, i64)>>,
    /// What to say when every bar is empty.
    #[prop(into, default = "No data in this range".into())]
    empty: String,
    /// A low chart (the histogram above a table).
    #[prop(optional)]
    compact: bool,
    /// The time axis' span (unix ms), so that the charts of a page line up;
    /// by default the bars'.
    #[prop(into, default = Signal::stored(None))]
    x_range: Signal<Option<(i64, i64)>>,
) -> impl IntoView {
    let container = NodeRef::<leptos::html::Div>::new();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let geometry = StoredValue::new(None::<PlotGeometry>);
    let hover = RwSignal::new(None::<Readout>);
    let drag = DragSelect::new(on_select);
    let has_data = Memo::new(move |_| bars.with(Bars::has_data));

    // The server renders no canvas: the span only matters when drawing.
    #[cfg(not(feature = "hydrate"))]
    let _ = x_range;
    #[cfg(feature = "hydrate")]
    super::render::attach(container, canvas, geometry, move |c, w, h, theme| {
        let x_range = x_range.get();
        bars.with(|b| super::render::draw_bars(c, b, x_range, w, h, theme))
    });

    let on_move = move |ev: leptos::ev::MouseEvent| {
        let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        drag.moved(x);
        let found = geometry
            .get_value()
            .and_then(|g| bars.with_untracked(|b| bar_readout(&g, b, x, y)));
        hover.set(found);
    };
    let on_up = move |ev: leptos::ev::MouseEvent| {
        drag.up(geometry.get_value(), f64::from(ev.offset_x()));
    };

    let legend = move || {
        bars.with(|b| {
            b.stacks
                .iter()
                .map(|s| {
                    view! {
                        <li>
                            <span class="swatch" style:background=css_color(s.color)></span>
                            {s.name.clone()}
                        </li>
                    }
                })
                .collect_view()
        })
    };

    let color_of =
        move |i: usize| bars.with_untracked(|b| b.stacks.get(i).map(|s| css_color(s.color)));
    let overlay = move || {
        if drag.dragging() {
            return None;
        }
        hover.get().map(|r| readout_view(r, color_of))
    };

    // Its own view (type-erased) keeps the component's view type small enough for
    // the compiler.
    let canvas_view = move || {
        view! {
            <canvas
                node_ref=canvas
                role="img"
                aria-label=label.clone()
                on:mousedown=move |ev| drag.down(&ev)
                on:mousemove=on_move
                on:mouseup=on_up
                on:mouseleave=move |_| {
                    hover.set(None);
                    drag.cancel();
                }
            ></canvas>
        }
        .into_any()
    };
    let wrap_class = if compact {
        "chart-canvas-wrap compact"
    } else {
        "chart-canvas-wrap"
    };
    let empty_class = if compact {
        "empty chart-empty compact"
    } else {
        "empty chart-empty"
    };
    let chart_body = move || {
        view! {
            <ul class="chart-legend">{legend}</ul>
            <div class=wrap_class node_ref=container>
                {canvas_view()}
                {drag.view()}
                {overlay}
            </div>
        }
        .into_any()
    };
    view! {
        <figure class="chart" class:zoomable=drag.enabled()>
            <Show
                when=move || has_data.get()
                fallback=move || view! { <p class=empty_class>{empty.clone()}</p> }
            >
                {chart_body()}
            </Show>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_in_the_middle_and_stay_distinct() {
        assert_eq!(
            middle_ellipsis("GET /api/v1/users/items", 16),
            "GET /api…s/items"
        );
        assert_eq!(middle_ellipsis("short", 16), "short");
        let names: Vec<String> = [
            "GET /api/v1/shops/{id}/orders/items",
            "GET /api/v1/carts/{id}/orders/items",
            "POST /login",
        ]
        .map(str::to_owned)
        .to_vec();
        let labels = axis_labels(&names, 16);
        assert_eq!(labels[2], "POST /login");
        assert_ne!(labels[0], labels[1], "{labels:?}");
        assert!(labels[0].contains('…'));
    }

    fn histogram() -> Bars {
        Bars {
            axis: BarAxis::Time {
                starts: vec![0, 60_000, 120_000],
                interval_ms: 60_000,
            },
            stacks: vec![
                BarStack {
                    name: "info".into(),
                    color: (0, 0, 255),
                    values: vec![1.0, 0.0, 4.0],
                },
                BarStack {
                    name: "error".into(),
                    color: (255, 0, 0),
                    values: vec![2.0, 0.0, 0.0],
                },
            ],
            unit: "Lines".into(),
            category_label: String::new(),
            compact_axis: true,
        }
    }

    #[test]
    fn time_slots_cover_their_buckets() {
        let bars = histogram();
        assert_eq!(bars.x_range(), (0, 180_000));
        assert_eq!(bars.slot_at(59_999), Some(0));
        assert_eq!(bars.slot_at(60_000), Some(1));
        assert_eq!(bars.slot_at(180_000), None);
        assert_eq!(bars.total(0), 3.0);
        assert!(bars.has_data());
    }

    #[test]
    fn the_readout_lists_the_layers_of_the_bar_under_the_mouse() {
        let bars = histogram();
        let geometry = PlotGeometry {
            left: 0.0,
            right: 300.0,
            x_min: 0,
            x_max: 180_000,
            pixel_ratio: 1.0,
            css_width: 300.0,
        };
        let lines = bar_readout(&geometry, &bars, 50.0, 0.0).map(|r| r.lines);
        assert_eq!(
            lines,
            Some(vec![
                (0, "info: 1".to_owned()),
                (1, "error: 2".to_owned()),
                (usize::MAX, "total: 3".to_owned()),
            ])
        );
    }

    #[test]
    fn category_slots_are_found_by_position() {
        let bars = Bars {
            axis: BarAxis::Category(vec!["api".into(), "web".into()]),
            ..histogram()
        };
        assert_eq!(bars.x_range(), (0, 2000));
        assert_eq!(bars.slot_at(1500), Some(1));
        assert_eq!(bars.slot_at(2500), None);
    }
}
