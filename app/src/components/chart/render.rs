//! The browser half of the chart: sizing the canvas from its container (with a
//! `ResizeObserver` and the device pixel ratio) and drawing with plotters.

use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{HtmlCanvasElement, ResizeObserver};

use super::{format_value, PlotGeometry, PALETTE};
use crate::api::Series;
use crate::browser::prefers_dark;
use crate::local_time::{format_local, zone_label};

/// The observer and its callback, kept together so the callback lives as long as
/// the observer that calls it.
type Observer = (ResizeObserver, Closure<dyn FnMut(js_sys::Array)>);

/// Watches the container's size and redraws whenever it or the series change.
pub(super) fn attach(
    container: NodeRef<leptos::html::Div>,
    canvas: NodeRef<leptos::html::Canvas>,
    series: Signal<Vec<Series>>,
    geometry: StoredValue<Option<PlotGeometry>>,
) {
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

    Effect::new(move |_| {
        let (width, height) = size.get();
        let theme = Theme::for_scheme(dark.get());
        let Some(canvas) = canvas.get() else {
            return;
        };
        let drawn = series.with(|s| draw(&canvas, s, width, height, &theme));
        geometry.set_value(drawn);
    });
}

/// Axis and grid colours for the current colour scheme: `--text-muted`,
/// `--border` of style/main.css.
struct Theme {
    text: RGBColor,
    axis: RGBColor,
    grid: RGBColor,
}

impl Theme {
    fn for_scheme(dark: bool) -> Theme {
        if dark {
            Theme {
                text: RGBColor(0x8b, 0x94, 0x9e),
                axis: RGBColor(0x6e, 0x76, 0x81),
                grid: RGBColor(0x30, 0x36, 0x3d),
            }
        } else {
            Theme {
                text: RGBColor(0x6b, 0x72, 0x80),
                axis: RGBColor(0x9c, 0xa3, 0xaf),
                grid: RGBColor(0xe5, 0xe7, 0xeb),
            }
        }
    }
}

/// The x tick format for a time span: clock time for a day or less, then dates.
fn time_format(span_ms: i64) -> &'static str {
    const DAY: i64 = 24 * 60 * 60 * 1000;
    if span_ms <= DAY {
        "%H:%M"
    } else if span_ms <= 7 * DAY {
        "%a %H:%M"
    } else {
        "%b %d"
    }
}

/// Sizes the canvas to `css_width` × `css_height` CSS pixels at the device pixel
/// ratio and draws the series. Returns where the plot area ended up.
fn draw(
    canvas: &HtmlCanvasElement,
    series: &[Series],
    css_width: f64,
    css_height: f64,
    theme: &Theme,
) -> Option<PlotGeometry> {
    if css_width < 50.0 || css_height < 50.0 {
        return None;
    }
    let ratio = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0)
        .max(1.0);
    canvas.set_width((css_width * ratio).round() as u32);
    canvas.set_height((css_height * ratio).round() as u32);

    let points = series.iter().flat_map(|s| s.points.iter().copied());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (i64::MAX, i64::MIN, 0.0_f64, 0.0_f64);
    for (t, v) in points {
        x_min = x_min.min(t);
        x_max = x_max.max(t);
        y_min = y_min.min(v);
        y_max = y_max.max(v);
    }
    if x_min > x_max {
        return None;
    }
    if x_min == x_max {
        x_min -= 30_000;
        x_max += 30_000;
    }
    y_max = if y_max <= y_min {
        y_min + 1.0
    } else {
        y_max + (y_max - y_min) * 0.1
    };

    let px = |css: f64| (css * ratio).round() as u32;
    let font = |size: f64| ("sans-serif", size * ratio).into_font().color(&theme.text);
    let unit = series.first().map(|s| s.unit.clone()).unwrap_or_default();
    let format = time_format(x_max - x_min);

    let root = CanvasBackend::with_canvas_object(canvas.clone())?.into_drawing_area();
    let mut chart = ChartBuilder::on(&root)
        .margin(px(10.0))
        .x_label_area_size(px(52.0))
        .y_label_area_size(px(64.0))
        .build_cartesian_2d(x_min..x_max, y_min..y_max)
        .ok()?;
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|t| format_local(*t, format))
        .y_label_formatter(&|v| format_value(*v))
        .x_desc(format!("Time ({})", zone_label(x_max)))
        .y_desc(unit)
        .label_style(font(12.0))
        .axis_desc_style(font(12.0))
        .axis_style(theme.axis)
        .bold_line_style(theme.grid)
        // Minor grid lines only add noise at this size.
        .light_line_style(TRANSPARENT)
        .draw()
        .ok()?;

    for (i, s) in series.iter().enumerate() {
        let (r, g, b) = PALETTE[i % PALETTE.len()];
        let color = RGBColor(r, g, b);
        if s.points.len() == 1 {
            // A lone point makes no line; show it as a dot.
            chart
                .draw_series(
                    s.points
                        .iter()
                        .map(|&p| Circle::new(p, px(3.0), color.filled())),
                )
                .ok()?;
        } else {
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    color.stroke_width(px(2.0)),
                ))
                .ok()?;
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
