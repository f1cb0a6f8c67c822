//! The browser half of the chart: sizing the canvas from its container (with a
//! `ResizeObserver` and the device pixel ratio) and drawing with plotters.

use leptos::prelude::*;
use plotters::coord::types::{RangedCoordf64, RangedCoordi64};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{HtmlCanvasElement, ResizeObserver};

use super::bars::{BarAxis, Bars};
use super::{format_value, stack, time_ticks, Band, PlotGeometry, Threshold, PALETTE};
use crate::api::Series;
use crate::browser::prefers_dark;
use crate::local_time::{format_local, zone_label};

/// The observer and its callback, kept together so the callback lives as long as
/// the observer that calls it.
type Observer = (ResizeObserver, Closure<dyn FnMut(js_sys::Array)>);

/// Watches the container's size and redraws whenever it, the colour scheme or
/// anything `draw` reads changes. `draw` gets the canvas, its CSS size and the
/// theme, and returns where it put the plot area.
pub(super) fn attach<F>(
    container: NodeRef<leptos::html::Div>,
    canvas: NodeRef<leptos::html::Canvas>,
    geometry: StoredValue<Option<PlotGeometry>>,
    draw: F,
) where
    F: Fn(&HtmlCanvasElement, f64, f64, &Theme) -> Option<PlotGeometry> + 'static,
{
    let size = RwSignal::new((0.0_f64, 0.0_f64));
    let observer = StoredValue::new_local(None::<Observer>);

    // The container is re-created when the chart goes from empty to non-empty, so
    // observe whichever element is current.
    Effect::new(move |_| {
        observer.update_value(|current| {
            if let Some((old, _)) = current.take() {
                old.disconnect();
            }
        });
        let Some(element) = container.get() else {
            return;
        };
        let measured = element.clone();
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |_entries| {
            size.set((
                f64::from(measured.client_width()),
                f64::from(measured.client_height()),
            ));
        });
        match ResizeObserver::new(callback.as_ref().unchecked_ref()) {
            Ok(resize) => {
                // Observing fires the callback once at once, which does the first draw.
                resize.observe(&element);
                observer.set_value(Some((resize, callback)));
            }
            Err(_) => size.set((
                f64::from(element.client_width()),
                f64::from(element.client_height()),
            )),
        }
    });
    on_cleanup(move || {
        observer.try_update_value(|current| {
            if let Some((old, _)) = current.take() {
                old.disconnect();
            }
        });
    });

    // Redraw in the other palette when the system switches light/dark mode.
    let dark = RwSignal::new(prefers_dark());
    let scheme_listener = Closure::<dyn FnMut()>::new(move || dark.set(prefers_dark()));
    let scheme_query = web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten());
    if let Some(query) = &scheme_query {
        query.set_onchange(Some(scheme_listener.as_ref().unchecked_ref()));
    }
    let scheme = StoredValue::new_local(Some((scheme_query, scheme_listener)));
    on_cleanup(move || {
        // Detach before the callback is dropped, so the browser never calls it after.
        if let Some(Some((Some(query), _))) = scheme.try_update_value(Option::take) {
            query.set_onchange(None);
        }
    });

    // And in the other time zone when the user switches to or from UTC.
    let zone = crate::local_time::ZoneChoice::get().0;
    Effect::new(move |_| {
        let (width, height) = size.get();
        let theme = Theme::for_scheme(dark.get());
        zone.track();
        let Some(canvas) = canvas.get() else {
            return;
        };
        geometry.set_value(draw(&canvas, width, height, &theme));
    });
}

/// Axis, grid and threshold colours for the current colour scheme:
/// `--text-muted`, `--border` and `--danger` of style/01-tokens.css.
pub(super) struct Theme {
    text: RGBColor,
    axis: RGBColor,
    grid: RGBColor,
    threshold: RGBColor,
}

impl Theme {
    fn for_scheme(dark: bool) -> Theme {
        if dark {
            Theme {
                text: RGBColor(0x8b, 0x94, 0x9e),
                axis: RGBColor(0x6e, 0x76, 0x81),
                grid: RGBColor(0x30, 0x36, 0x3d),
                threshold: RGBColor(0xf8, 0x51, 0x49),
            }
        } else {
            Theme {
                text: RGBColor(0x6b, 0x72, 0x80),
                axis: RGBColor(0x9c, 0xa3, 0xaf),
                grid: RGBColor(0xe5, 0xe7, 0xeb),
                threshold: RGBColor(0xdc, 0x26, 0x26),
            }
        }
    }
}

/// Draws the time axis' labels, tick marks and vertical grid lines at round local
/// times (see [`time_ticks`]); plotters' own ticks fall on round milliseconds.
fn draw_time_axis(
    root: &DrawingArea<CanvasBackend, Shift>,
    plot: (std::ops::Range<i32>, std::ops::Range<i32>),
    (x_min, x_max): (i64, i64),
    theme: &Theme,
    ratio: f64,
) -> Option<()> {
    let (x_pixels, y_pixels) = plot;
    let width = f64::from(x_pixels.end - x_pixels.start);
    // About one label per 110 CSS pixels.
    let (ticks, format) = time_ticks(x_min, x_max, (width / ratio / 110.0) as usize);
    let span = (x_max - x_min).max(1) as f64;
    let scaled = |css: f64| (css * ratio).round() as i32;
    let style = ("sans-serif", 12.0 * ratio)
        .into_font()
        .color(&theme.text)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for t in ticks {
        let x = x_pixels.start + ((t - x_min) as f64 / span * width).round() as i32;
        root.draw(&PathElement::new(
            vec![(x, y_pixels.start), (x, y_pixels.end)],
            theme.grid,
        ))
        .ok()?;
        root.draw(&PathElement::new(
            vec![(x, y_pixels.end), (x, y_pixels.end + scaled(5.0))],
            theme.axis,
        ))
        .ok()?;
        // A label that would stick out of the canvas is left out (its tick stays).
        let label = format_local(t, format);
        let (label_width, _) = root.estimate_text_size(&label, &style).ok()?;
        let half = i32::try_from(label_width / 2).unwrap_or(0);
        if x - half >= 0 && x + half <= i32::try_from(root.dim_in_pixel().0).unwrap_or(i32::MAX) {
            root.draw(&Text::new(
                label,
                (x, y_pixels.end + scaled(8.0)),
                style.clone(),
            ))
            .ok()?;
        }
    }
    Some(())
}

/// Sizes the canvas to `css_width` × `css_height` CSS pixels at the device pixel
/// ratio, which it returns; `None` when the canvas is too small to draw on.
pub(super) fn size_canvas(
    canvas: &HtmlCanvasElement,
    css_width: f64,
    css_height: f64,
) -> Option<f64> {
    if css_width < 50.0 || css_height < 50.0 {
        return None;
    }
    let ratio = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0)
        .max(1.0);
    canvas.set_width((css_width * ratio).round() as u32);
    canvas.set_height((css_height * ratio).round() as u32);
    Some(ratio)
}

/// The lowest and highest of `values`, widened so that lines do not touch the
/// frame; `0` is always inside, as a reader expects of counts and durations.
fn value_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut low, mut high) = (0.0_f64, 0.0_f64);
    for v in values {
        low = low.min(v);
        high = high.max(v);
    }
    let high = if high <= low {
        low + 1.0
    } else {
        high + (high - low) * 0.1
    };
    (low, high)
}

/// Draws the visible series as lines over time: those in the first visible
/// series' unit against the left axis, the others against a second axis on the
/// right, labelled with their unit; `thresholds` as dashed lines on the left
/// axis. A series keeps its colour (its index) when others are hidden. Returns
/// where the plot area ended up.
/// How [`draw_lines`] draws the series: their colours (by index), which are
/// switched off, and the time axis' span when the page sets it.
pub(super) struct Lines<'a> {
    pub colors: &'a [(u8, u8, u8)],
    pub hidden: &'a std::collections::BTreeSet<usize>,
    pub x_range: Option<(i64, i64)>,
    /// Stack the series of the left axis' unit (see [`super::stack`]).
    pub stacked: bool,
}

pub(super) fn draw_lines(
    canvas: &HtmlCanvasElement,
    series: &[Series],
    lines: &Lines<'_>,
    thresholds: &[Threshold],
    css_width: f64,
    css_height: f64,
    theme: &Theme,
) -> Option<PlotGeometry> {
    let ratio = size_canvas(canvas, css_width, css_height)?;
    let visible: Vec<(usize, &Series)> = series
        .iter()
        .enumerate()
        .filter(|(i, _)| !lines.hidden.contains(i))
        .collect();
    let unit = visible
        .first()
        .map(|(_, s)| s.unit.clone())
        .unwrap_or_default();
    let (left, right): (Vec<_>, Vec<_>) = visible.iter().partition(|(_, s)| s.unit == unit);
    let second_unit = right.first().map(|(_, s)| s.unit.clone());

    let (mut x_min, mut x_max) = (i64::MAX, i64::MIN);
    for (t, _) in visible.iter().flat_map(|(_, s)| s.points.iter()) {
        x_min = x_min.min(*t);
        x_max = x_max.max(*t);
    }
    if x_min > x_max {
        // Every series hidden (or empty): keep the frame of the last drawing.
        return None;
    }
    if x_min == x_max {
        x_min -= 30_000;
        x_max += 30_000;
    }
    if let Some((from, to)) = lines.x_range.filter(|(from, to)| from < to) {
        (x_min, x_max) = (from, to);
    }
    // Stacked, each left-axis series is drawn as its band (by index).
    let bands: std::collections::HashMap<usize, Vec<Band>> = if lines.stacked {
        let left_series: Vec<&Series> = left.iter().map(|(_, s)| *s).collect();
        left.iter()
            .map(|(i, _)| *i)
            .zip(stack(&left_series))
            .collect()
    } else {
        std::collections::HashMap::new()
    };
    let (y_min, y_max) = value_range(
        left.iter()
            .flat_map(|(_, s)| s.points.iter().map(|p| p.1))
            .chain(bands.values().flatten().flatten().map(|b| b.2))
            .chain(thresholds.iter().map(|t| t.value)),
    );
    let (y2_min, y2_max) =
        value_range(right.iter().flat_map(|(_, s)| s.points.iter().map(|p| p.1)));

    let px = |css: f64| (css * ratio).round() as u32;
    let font = |size: f64| ("sans-serif", size * ratio).into_font().color(&theme.text);

    let root = CanvasBackend::with_canvas_object(canvas.clone())?.into_drawing_area();
    let mut chart = ChartBuilder::on(&root)
        .margin(px(10.0))
        .x_label_area_size(px(52.0))
        .y_label_area_size(px(64.0))
        .right_y_label_area_size(if second_unit.is_some() { px(64.0) } else { 0 })
        .build_cartesian_2d(x_min..x_max, y_min..y_max)
        .ok()?
        .set_secondary_coord(x_min..x_max, y2_min..y2_max);
    chart
        .configure_mesh()
        // Time labels and vertical grid lines come from draw_time_axis (plotters
        // cannot place zero ticks on an integer axis).
        .x_labels(2)
        .x_label_formatter(&|_| String::new())
        .set_tick_mark_size(LabelAreaPosition::Bottom, 0)
        .disable_x_mesh()
        .y_labels(5)
        .y_label_formatter(&|v| format_value(*v))
        .x_desc(format!("Time ({})", zone_label(x_max)))
        .y_desc(unit.as_str())
        .label_style(font(12.0))
        .axis_desc_style(font(12.0))
        .axis_style(theme.axis)
        .bold_line_style(theme.grid)
        // Minor grid lines only add noise at this size.
        .light_line_style(TRANSPARENT)
        .draw()
        .ok()?;
    if let Some(second_unit) = &second_unit {
        chart
            .configure_secondary_axes()
            .y_labels(5)
            .y_label_formatter(&|v| format_value(*v))
            .y_desc(second_unit.as_str())
            .label_style(font(12.0))
            .axis_desc_style(font(12.0))
            .axis_style(theme.axis)
            .draw()
            .ok()?;
    }
    let plot = chart.plotting_area().get_pixel_range();
    draw_time_axis(&root, plot, (x_min, x_max), theme, ratio)?;

    for threshold in thresholds {
        let line = [(x_min, threshold.value), (x_max, threshold.value)];
        chart
            .draw_series(DashedLineSeries::new(
                line,
                px(6.0),
                px(4.0),
                theme.threshold.stroke_width(px(1.5)),
            ))
            .ok()?;
        let label_style = ("sans-serif", 11.0 * ratio)
            .into_font()
            .color(&theme.threshold)
            .pos(Pos::new(HPos::Right, VPos::Bottom));
        chart
            .draw_series(std::iter::once(Text::new(
                threshold.label.clone(),
                (x_max, threshold.value),
                label_style,
            )))
            .ok()?;
    }
    for (i, s) in &visible {
        let (r, g, b) = lines
            .colors
            .get(*i)
            .copied()
            .unwrap_or(PALETTE[i % PALETTE.len()]);
        let color = RGBColor(r, g, b);
        let on_right = s.unit != unit;
        if let Some(stretches) = bands.get(i) {
            for band in stretches {
                draw_band(&mut chart, band, (x_min, x_max), color, px(2.0))?;
            }
            continue;
        }
        // Points outside a span the page set (a bucket starting before it)
        // would be drawn over the axis: plotters does not clip.
        let inside: Vec<(i64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(t, _)| (x_min..=x_max).contains(t))
            .collect();
        let points = inside.iter().copied();
        if inside.len() == 1 {
            // A lone point makes no line; show it as a dot.
            let dots = points.map(|p| Circle::new(p, px(3.0), color.filled()));
            if on_right {
                chart.draw_secondary_series(dots).ok()?;
            } else {
                chart.draw_series(dots).ok()?;
            }
        } else {
            let line = LineSeries::new(points, color.stroke_width(px(2.0)));
            if on_right {
                chart.draw_secondary_series(line).ok()?;
            } else {
                chart.draw_series(line).ok()?;
            }
        }
    }
    root.present().ok()?;

    let (x_pixels, _) = chart.plotting_area().get_pixel_range();
    Some(PlotGeometry {
        left: f64::from(x_pixels.start),
        right: f64::from(x_pixels.end),
        x_min,
        x_max,
        pixel_ratio: ratio,
        css_width,
    })
}

/// Draws a stretch of one series of a stack: its band filled (between the
/// series below and its own top), and its top as a line (a dot when it has
/// one point).
fn draw_band<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordi64, RangedCoordf64>>,
    band: &[(i64, f64, f64)],
    (x_min, x_max): (i64, i64),
    color: RGBColor,
    stroke: u32,
) -> Option<()> {
    let inside: Vec<(i64, f64, f64)> = band
        .iter()
        .copied()
        .filter(|(t, _, _)| (x_min..=x_max).contains(t))
        .collect();
    let tops = inside.iter().map(|&(t, _, high)| (t, high));
    if inside.len() == 1 {
        let dots = tops.map(|p| Circle::new(p, stroke + 1, color.filled()));
        chart.draw_series(dots).ok()?;
        return Some(());
    }
    let outline: Vec<(i64, f64)> = tops
        .clone()
        .chain(inside.iter().rev().map(|&(t, low, _)| (t, low)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(
            outline,
            color.mix(0.3).filled(),
        )))
        .ok()?;
    chart
        .draw_series(LineSeries::new(tops, color.stroke_width(stroke)))
        .ok()?;
    Some(())
}

/// Characters of a category's label under its bar (the read-out has the rest).
const AXIS_LABEL_CHARS: usize = 18;

/// Draws stacked bars: over time for [`BarAxis::Time`], one bar per name for
/// [`BarAxis::Category`]. Returns where the plot area ended up.
pub(super) fn draw_bars(
    canvas: &HtmlCanvasElement,
    bars: &Bars,
    x_range: Option<(i64, i64)>,
    css_width: f64,
    css_height: f64,
    theme: &Theme,
) -> Option<PlotGeometry> {
    let ratio = size_canvas(canvas, css_width, css_height)?;
    if bars.is_empty() {
        return None;
    }
    let y_max = (0..bars.len())
        .map(|i| bars.total(i))
        .fold(0.0_f64, f64::max);
    // Headroom above the highest bar, and at least 1 so an empty range has an axis.
    let y_max = if y_max <= 0.0 { 1.0 } else { y_max * 1.1 };
    let (x_min, x_max) = match (&bars.axis, x_range) {
        (BarAxis::Time { .. }, Some((from, to))) if from < to => (from, to),
        _ => bars.x_range(),
    };

    let px = |css: f64| (css * ratio).round() as u32;
    let font = |size: f64| ("sans-serif", size * ratio).into_font().color(&theme.text);
    let root = CanvasBackend::with_canvas_object(canvas.clone())?.into_drawing_area();
    let mut chart = ChartBuilder::on(&root)
        .margin(px(10.0))
        .x_label_area_size(px(if bars.compact_axis { 36.0 } else { 52.0 }))
        .y_label_area_size(px(64.0))
        .build_cartesian_2d(x_min..x_max, 0.0..y_max)
        .ok()?;

    let names = match &bars.axis {
        BarAxis::Category(names) => Some(names),
        BarAxis::Time { .. } => None,
    };
    let x_desc = match names {
        Some(_) => bars.category_label.clone(),
        None => format!("Time ({})", zone_label(x_max)),
    };
    let x_label = |_: &i64| String::new();
    // Counts are whole numbers: no "0.5 lines" ticks on a small axis.
    let integral = (0..bars.len()).all(|i| bars.total(i).fract() == 0.0);
    let y_label = |v: &f64| {
        if integral && v.fract() != 0.0 {
            String::new()
        } else {
            format_value(*v)
        }
    };
    let y_ticks = if bars.compact_axis { 3 } else { 5 };
    let y_ticks = if integral {
        (y_max.floor() as usize + 1).clamp(2, y_ticks)
    } else {
        y_ticks
    };
    let mut mesh = chart.configure_mesh();
    mesh.y_labels(y_ticks)
        // Category names and times are drawn below, not at plotters' ticks (and
        // plotters cannot place zero ticks on an integer axis).
        .x_labels(2)
        .x_label_formatter(&x_label)
        .set_tick_mark_size(LabelAreaPosition::Bottom, 0)
        .y_label_formatter(&y_label)
        .y_desc(bars.unit.clone())
        .label_style(font(12.0))
        .axis_desc_style(font(12.0))
        .axis_style(theme.axis)
        .bold_line_style(theme.grid)
        .light_line_style(TRANSPARENT)
        .disable_x_mesh();
    if !bars.compact_axis {
        mesh.x_desc(x_desc);
    }
    mesh.draw().ok()?;

    let (x_pixels, y_pixels) = chart.plotting_area().get_pixel_range();
    if names.is_none() {
        let plot = (x_pixels.clone(), y_pixels.clone());
        draw_time_axis(&root, plot, (x_min, x_max), theme, ratio)?;
    }
    if let Some(names) = names {
        let width = f64::from(x_pixels.end - x_pixels.start);
        let style = font(12.0).pos(Pos::new(HPos::Center, VPos::Top));
        let labels = super::bars::axis_labels(names, AXIS_LABEL_CHARS);
        for (i, label) in labels.into_iter().enumerate() {
            let centre = f64::from(x_pixels.start) + (i as f64 + 0.5) / names.len() as f64 * width;
            let at = (centre.round() as i32, y_pixels.end + px(6.0) as i32);
            root.draw(&Text::new(label, at, style.clone())).ok()?;
        }
    }

    // A category bar is centred on its tick; a time bar covers its bucket.
    let slot_px = f64::from(px(css_width)) / bars.len() as f64;
    let gap = if slot_px > 6.0 { px(1.0) } else { 0 };
    let mut rects = Vec::new();
    for i in 0..bars.len() {
        let (left, right) = bars.slot_bounds(i);
        // Bars are cut to a span the page set, as plotters does not clip.
        let (left, right) = (left.max(x_min), right.min(x_max));
        if left >= right {
            continue;
        }
        let mut base = 0.0;
        for stack in &bars.stacks {
            let value = stack.values.get(i).copied().unwrap_or(0.0);
            if value <= 0.0 {
                continue;
            }
            let (r, g, b) = stack.color;
            let mut rect = Rectangle::new(
                [(left, base), (right, base + value)],
                RGBColor(r, g, b).filled(),
            );
            rect.set_margin(0, 0, gap, gap);
            rects.push(rect);
            base += value;
        }
    }
    chart.draw_series(rects).ok()?;
    root.present().ok()?;

    Some(PlotGeometry {
        left: f64::from(x_pixels.start),
        right: f64::from(x_pixels.end),
        x_min,
        x_max,
        pixel_ratio: ratio,
        css_width,
    })
}
