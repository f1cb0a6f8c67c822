//! The time-series chart every page's graphs build on.
//!
//! It takes `Signal<Vec<Series>>` and draws lines on a `<canvas>` with plotters
//! (in the browser only: the server renders an empty canvas). The x axis is time in
//! the browser's time zone, the y axis is labelled with the series' unit (series
//! in a second unit get a second axis on the right), [`Threshold`]s are dashed
//! lines, series may be stacked (each drawn on top of the ones before it, its
//! band filled), the legend (whose entries hide and show their series) and the hover
//! read-out are HTML, and the canvas follows its container's size and the device
//! pixel ratio. Colours come from [`PALETTE`], read at build time
//! from `--series-1` … in `style/01-tokens.css` (see `app/build.rs`).
//!
//! [`bars::BarChart`] is the same chart drawing bars (stacked over time, or one per
//! name) instead of lines: it shares the canvas handling, axes and read-out.

use leptos::prelude::*;

use crate::api::Series;
use crate::local_time::{format_local, offset_at};
use drag::DragSelect;

pub mod bars;
mod drag;
#[cfg(feature = "hydrate")]
mod render;

include!(concat!(env!("OUT_DIR"), "/palette.rs"));

/// A horizontal line at a value on the left axis: an alert's threshold, an
/// objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub value: f64,
    /// Written at the line's right end.
    pub label: String,
}

/// The colour of the `index`-th series as CSS.
pub fn series_color(index: usize) -> String {
    css_color(PALETTE[index % PALETTE.len()])
}

/// An RGB colour as CSS (`#3b82f6`).
pub fn css_color((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Series colours by name, shared by every chart and legend of the app: a
/// name keeps its colour from chart to chart (the `p95` of the latency chart
/// is the `p95` of the next one; `api` is `api` in the chart and the table),
/// log levels take their level colour, and other names take the palette in
/// the order they are first met.
#[derive(Debug, Clone, Copy)]
pub struct SeriesColors(StoredValue<Vec<String>>);

impl SeriesColors {
    /// Provides the registry (the app layout does, once).
    pub fn provide() {
        provide_context(SeriesColors(StoredValue::new(Vec::new())));
    }

    /// The registry of the page (a fresh one outside the layout).
    pub fn get() -> SeriesColors {
        use_context::<SeriesColors>().unwrap_or_else(|| {
            let colors = SeriesColors(StoredValue::new(Vec::new()));
            provide_context(colors);
            colors
        })
    }

    /// The colour of the series `name`.
    pub fn of(self, name: &str) -> (u8, u8, u8) {
        if name == "other" {
            return OTHER_COLOR;
        }
        if let Some((_, rgb)) = LEVEL_COLORS.iter().find(|(level, _)| *level == name) {
            return *rgb;
        }
        let index = self
            .0
            .try_update_value(|names| match names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    names.push(name.to_owned());
                    names.len() - 1
                }
            })
            .unwrap_or(0);
        PALETTE[index % PALETTE.len()]
    }

    /// The colours of the series `names` drawn together: each its own
    /// [`of`](Self::of), except that a colour already taken in this set (a
    /// name met after the palette wrapped round) gives way to the first one
    /// free, so no two series of a chart look alike.
    pub fn for_names<'a>(self, names: impl IntoIterator<Item = &'a str>) -> Vec<(u8, u8, u8)> {
        let mut taken: Vec<(u8, u8, u8)> = Vec::new();
        for name in names {
            let mut color = self.of(name);
            if taken.contains(&color) {
                if let Some(free) = PALETTE.iter().find(|c| !taken.contains(c)) {
                    color = *free;
                }
            }
            taken.push(color);
        }
        taken
    }
}

/// Where the last drawing put the plot area, to map the mouse back to time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotGeometry {
    /// Left edge of the plot area, in canvas pixels.
    pub left: f64,
    /// Right edge of the plot area, in canvas pixels.
    pub right: f64,
    /// Time at the left edge (unix ms).
    pub x_min: i64,
    /// Time at the right edge (unix ms).
    pub x_max: i64,
    /// Canvas pixels per CSS pixel.
    pub pixel_ratio: f64,
    /// The canvas width in CSS pixels.
    pub css_width: f64,
}

/// What the hover overlay shows, and where (CSS pixels within the canvas).
#[derive(Debug, Clone, PartialEq)]
pub struct Readout {
    /// Left of the overlay box.
    pub left: f64,
    /// Top of the overlay box.
    pub top: f64,
    /// Where the vertical guide line goes (the nearest point's time).
    pub guide: f64,
    /// The nearest point's local time.
    pub time: String,
    /// One line per series: its index (for the colour) and "name: value unit".
    pub lines: Vec<(usize, String)>,
}

/// The hover read-out of every chart: a guide line at the nearest point and a box
/// with its time and one line per series, with the series' colour when it has one.
pub fn readout_view(readout: Readout, color_of: impl Fn(usize) -> Option<String>) -> impl IntoView {
    let lines = readout
        .lines
        .into_iter()
        .map(|(i, text)| {
            let swatch =
                color_of(i).map(|c| view! { <span class="swatch" style:background=c></span> });
            view! { <div>{swatch}{text}</div> }
        })
        .collect_view();
    view! {
        <div class="chart-guide" style:left=format!("{}px", readout.guide)></div>
        <div
            class="chart-readout"
            style:left=format!("{}px", readout.left)
            style:top=format!("{}px", readout.top)
        >
            <div class="chart-readout-time">{readout.time}</div>
            {lines}
        </div>
    }
}

impl Readout {
    /// A read-out for the pointer at `(x, y)` (CSS pixels), with the guide at
    /// `guide_px` (canvas pixels). The box stays inside the chart: it flips to the
    /// left of the pointer on the right half.
    pub fn at(
        geometry: &PlotGeometry,
        (x, y): (f64, f64),
        guide_px: f64,
        time: String,
        lines: Vec<(usize, String)>,
    ) -> Readout {
        let left = if x > geometry.css_width / 2.0 {
            x - 220.0
        } else {
            x + 14.0
        };
        Readout {
            left: left.max(0.0),
            top: (y + 10.0).max(0.0),
            guide: guide_px / geometry.pixel_ratio,
            time,
            lines,
        }
    }
}

/// Where the time axis puts its labels: round local times (every 10 minutes, every
/// 3 hours, every day at midnight, ...), about `target` of them between `x_min`
/// and `x_max` (unix ms), and the chrono format that suits their spacing.
pub fn time_ticks(x_min: i64, x_max: i64, target: usize) -> (Vec<i64>, &'static str) {
    const SECOND: i64 = 1000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    const STEPS: [i64; 20] = [
        SECOND,
        2 * SECOND,
        5 * SECOND,
        10 * SECOND,
        15 * SECOND,
        30 * SECOND,
        MINUTE,
        2 * MINUTE,
        5 * MINUTE,
        10 * MINUTE,
        15 * MINUTE,
        30 * MINUTE,
        HOUR,
        2 * HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
    ];
    let span = (x_max - x_min).max(1);
    let target = target.max(2) as i64;
    let step = STEPS
        .into_iter()
        .find(|step| span / step <= target)
        .unwrap_or_else(|| (span / target / DAY + 1) * DAY);
    // Round in local time, so "every 6 hours" falls on 00:00, 06:00, ... here.
    let offset = i64::from(offset_at(x_min).local_minus_utc()) * SECOND;
    let first = (x_min + offset + step - 1).div_euclid(step) * step - offset;
    let ticks = (0..)
        .map(|i| first + i * step)
        .take_while(|t| *t <= x_max)
        .collect();
    let format = if step < MINUTE {
        "%H:%M:%S"
    } else if step < DAY && span <= DAY {
        "%H:%M"
    } else if step < DAY {
        "%a %H:%M"
    } else {
        "%b %d"
    };
    (ticks, format)
}

/// A number for axis ticks and the read-out: no needless decimals.
pub fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// The read-out for the mouse at (`x`, `y`) CSS pixels over the canvas: each
/// shown series' point nearest in time (`series` pairs each with its index, for
/// its colour). `None` outside the plot area or without points.
pub fn readout(
    geometry: &PlotGeometry,
    series: &[(usize, &Series)],
    x: f64,
    y: f64,
) -> Option<Readout> {
    let px = x * geometry.pixel_ratio;
    if px < geometry.left || px > geometry.right || geometry.right <= geometry.left {
        return None;
    }
    let span = (geometry.x_max - geometry.x_min) as f64;
    let fraction = (px - geometry.left) / (geometry.right - geometry.left);
    let at = geometry.x_min + (fraction * span).round() as i64;

    let nearest = |s: &Series| s.points.iter().copied().min_by_key(|(t, _)| (t - at).abs());
    let closest_time = series
        .iter()
        .filter_map(|(_, s)| nearest(s))
        .map(|(t, _)| t)
        .min_by_key(|t| (t - at).abs())?;
    let lines = series
        .iter()
        .filter_map(|(i, s)| {
            let (_, value) = nearest(s)?;
            Some((
                *i,
                format!("{}: {} {}", s.name, format_value(value), s.unit),
            ))
        })
        .collect();

    let guide_px = geometry.left
        + (closest_time - geometry.x_min) as f64 / span.max(1.0) * (geometry.right - geometry.left);
    Some(Readout::at(
        geometry,
        (x, y),
        guide_px,
        format_local(closest_time, "%Y-%m-%d %H:%M:%S"),
        lines,
    ))
}

/// A stretch of a stacked series' band: its points as `(time, low, high)`,
/// where `low` is the sum of the series before it at that time and `high`
/// adds its own value.
pub type Band = Vec<(i64, f64, f64)>;

/// The bands of stacked series, for each series the stretches where it has a
/// value at every time any of them has one (a time where it has none, or a
/// value that is not finite, ends a stretch: nothing is drawn across the gap,
/// and it adds nothing to the series above).
pub fn stack(series: &[&Series]) -> Vec<Vec<Band>> {
    let times: std::collections::BTreeSet<i64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let mut base: std::collections::HashMap<i64, f64> = times.iter().map(|&t| (t, 0.0)).collect();
    series
        .iter()
        .map(|s| {
            let values: std::collections::HashMap<i64, f64> = s
                .points
                .iter()
                .copied()
                .filter(|(_, v)| v.is_finite())
                .collect();
            let mut bands: Vec<Band> = Vec::new();
            let mut current: Band = Vec::new();
            for t in &times {
                match (values.get(t), base.get_mut(t)) {
                    (Some(&v), Some(low)) => {
                        current.push((*t, *low, *low + v));
                        *low += v;
                    }
                    _ if !current.is_empty() => bands.push(std::mem::take(&mut current)),
                    _ => {}
                }
            }
            if !current.is_empty() {
                bands.push(current);
            }
            bands
        })
        .collect()
}

/// A line chart of `series` over time, with legend and hover read-out.
#[component]
pub fn Chart(
    /// The lines to draw; the chart redraws when they change.
    #[prop(into)]
    series: Signal<Vec<Series>>,
    /// Dashed lines at values of the left axis.
    #[prop(into, default = Signal::stored(Vec::new()))]
    thresholds: Signal<Vec<Threshold>>,
    /// The time axis' span (unix ms), so that the charts of a page line up;
    /// by default the data's.
    #[prop(into, default = Signal::stored(None))]
    x_range: Signal<Option<(i64, i64)>>,
    /// Draws the series of the left axis' unit stacked, each band filled.
    #[prop(into, default = Signal::stored(false))]
    stacked: Signal<bool>,
    /// What the chart shows, for screen readers.
    #[prop(into)]
    label: String,
    /// Called with the time span (unix ms) the reader drags across the
    /// plot; without it a drag does nothing.
    #[prop(into, default = None)]
    on_zoom: Option<Callback<(i64, i64)>>,
) -> impl IntoView {
    let container = NodeRef::<leptos::html::Div>::new();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let geometry = StoredValue::new(None::<PlotGeometry>);
    let hover = RwSignal::new(None::<Readout>);
    // Series the reader switched off in the legend, by index.
    let hidden = RwSignal::new(std::collections::BTreeSet::<usize>::new());
    let has_data = Memo::new(move |_| series.with(|s| s.iter().any(|s| !s.points.is_empty())));
    let registry = SeriesColors::get();
    let colors = Memo::new(move |_| {
        series.with(|all| registry.for_names(all.iter().map(|s| s.name.as_str())))
    });
    let color_of = move |i: usize| colors.with(|c| c.get(i).copied().map(css_color));

    // The server renders no canvas: the span only matters when drawing.
    #[cfg(not(feature = "hydrate"))]
    let _ = (x_range, stacked);
    #[cfg(feature = "hydrate")]
    render::attach(container, canvas, geometry, move |c, w, h, theme| {
        let hidden = hidden.get();
        let colors = colors.get();
        let lines = render::Lines {
            colors: &colors,
            hidden: &hidden,
            x_range: x_range.get(),
            stacked: stacked.get(),
        };
        thresholds.with(|t| series.with(|s| render::draw_lines(c, s, &lines, t, w, h, theme)))
    });

    let drag = DragSelect::new(on_zoom);
    let on_up = move |ev: leptos::ev::MouseEvent| {
        hover.set(None);
        drag.up(geometry.get_value(), f64::from(ev.offset_x()));
    };

    let on_move = move |ev: leptos::ev::MouseEvent| {
        let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        drag.moved(x);
        let found = geometry.get_value().and_then(|g| {
            hidden.with_untracked(|hidden| {
                series.with_untracked(|all| {
                    let shown: Vec<(usize, &Series)> = all
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !hidden.contains(i))
                        .collect();
                    readout(&g, &shown, x, y)
                })
            })
        });
        hover.set(found);
    };

    let legend = move || {
        series.with(|all| {
            all.iter()
                .enumerate()
                .map(|(i, s)| {
                    let shown = move || !hidden.with(|h| h.contains(&i));
                    let toggle = move |_| {
                        hidden.update(|h| {
                            if !h.remove(&i) {
                                h.insert(i);
                            }
                        });
                        hover.set(None);
                    };
                    view! {
                        <li>
                            <button
                                type="button"
                                class="legend-item"
                                class:legend-off=move || !shown()
                                aria-pressed=move || shown().to_string()
                                title="Show or hide this series"
                                on:click=toggle
                            >
                                <span class="swatch" style:background=color_of(i)></span>
                                {if s.unit.is_empty() {
                                    s.name.clone()
                                } else {
                                    format!("{} ({})", s.name, s.unit)
                                }}
                            </button>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let threshold_legend = move || {
        thresholds.with(|all| {
            all.iter()
                .map(|t| {
                    view! {
                        <li class="legend-threshold">
                            <span class="swatch swatch-dashed"></span>
                            {format!("{} ({})", t.label, format_value(t.value))}
                        </li>
                    }
                })
                .collect_view()
        })
    };

    let overlay = move || {
        if drag.dragging() {
            return None;
        }
        hover.get().map(|r| readout_view(r, color_of))
    };

    view! {
        <figure class="chart" class:zoomable=drag.enabled()>
            <Show
                when=move || has_data.get()
                fallback=|| view! { <p class="empty chart-empty">"No data in this range"</p> }
            >
                <ul class="chart-legend">{legend}{threshold_legend}</ul>
                <div class="chart-canvas-wrap" node_ref=container>
                    <canvas
                        node_ref=canvas
                        role="img"
                        aria-label=label.clone()
                        title=drag.enabled().then_some("Drag across the chart to zoom into that time")
                        on:mousedown=move |ev| drag.down(&ev)
                        on:mousemove=on_move
                        on:mouseup=on_up
                        on:mouseleave=move |_| {
                            hover.set(None);
                            drag.cancel();
                        }
                    ></canvas>
                    {drag.view()}
                    {overlay}
                </div>
            </Show>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, points: Vec<(i64, f64)>) -> Series {
        Series {
            name: name.to_owned(),
            unit: "req/min".to_owned(),
            points,
        }
    }

    #[test]
    fn the_readout_shows_each_series_at_the_nearest_time() {
        let geometry = PlotGeometry {
            left: 100.0,
            right: 300.0,
            x_min: 0,
            x_max: 60_000,
            pixel_ratio: 2.0,
            css_width: 200.0,
        };
        let (a, b) = (
            series("a", vec![(0, 1.0), (30_000, 2.5), (60_000, 3.0)]),
            series("b", vec![(29_000, 7.0)]),
        );
        let all = vec![(0, &a), (1, &b)];
        // 100 CSS px = 200 canvas px = the middle of the plot = 30 s.
        let found = readout(&geometry, &all, 100.0, 10.0);
        let lines = found.map(|r| r.lines).unwrap_or_default();
        assert_eq!(
            lines,
            vec![
                (0, "a: 2.50 req/min".to_owned()),
                (1, "b: 7 req/min".to_owned())
            ]
        );
        // Left of the plot area there is nothing to read.
        assert_eq!(readout(&geometry, &all, 10.0, 10.0), None);
        // A hidden series is left out, and the other keeps its colour (index).
        let lines = readout(&geometry, &[(1, &b)], 100.0, 10.0).map(|r| r.lines);
        assert_eq!(lines, Some(vec![(1, "b: 7 req/min".to_owned())]));
    }

    #[test]
    fn stacked_series_sit_on_the_ones_before_them() {
        let a = series("a", vec![(0, 1.0), (60_000, 2.0), (120_000, 1.0)]);
        let b = series("b", vec![(0, 3.0), (60_000, f64::NAN), (120_000, 4.0)]);
        let c = series("c", vec![(60_000, 0.5), (120_000, 0.5)]);
        assert_eq!(
            stack(&[&a, &b, &c]),
            vec![
                vec![vec![(0, 0.0, 1.0), (60_000, 0.0, 2.0), (120_000, 0.0, 1.0)]],
                // NaN adds nothing and breaks the band: nothing drawn across it.
                vec![vec![(0, 1.0, 4.0)], vec![(120_000, 1.0, 5.0)]],
                // Where `c` has no point (0) its band starts later.
                vec![vec![(60_000, 2.0, 2.5), (120_000, 5.0, 5.5)]],
            ]
        );
    }

    #[test]
    fn time_ticks_fall_on_round_times() {
        let minute = 60_000;
        // 21:31:10 to 22:31:10 UTC (the server build formats in UTC).
        let start = 1_764_192_670_000;
        let (ticks, format) = time_ticks(start, start + 60 * minute, 6);
        assert_eq!(format, "%H:%M");
        let labels: Vec<String> = ticks.iter().map(|t| format_local(*t, format)).collect();
        assert_eq!(
            labels,
            vec!["21:40", "21:50", "22:00", "22:10", "22:20", "22:30"]
        );
        let (ticks, format) = time_ticks(start, start + 7 * 24 * 60 * minute, 8);
        assert_eq!(format, "%b %d");
        assert!(ticks.iter().all(|t| format_local(*t, "%H:%M") == "00:00"));
        assert_eq!(ticks.len(), 7);
    }

    #[test]
    fn values_lose_needless_decimals() {
        assert_eq!(format_value(120.4), "120");
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(2.346), "2.35");
        assert_eq!(format_value(0.1234), "0.123");
    }
}
