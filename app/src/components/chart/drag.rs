//! Dragging across a chart's time axis to pick a range (to zoom into it),
//! shared by the line and the bar chart: the pointer's travel, the shaded
//! span while it lasts, and the range reported when the button comes up.

use leptos::prelude::*;

use super::PlotGeometry;

/// How far the pointer must travel for a drag to mean a range (CSS pixels).
const MIN_DRAG_PX: f64 = 5.0;

/// A chart's drag state: where a drag started and where the pointer is now
/// (CSS pixels over the canvas), and whom to tell the range.
#[derive(Clone, Copy)]
pub struct DragSelect {
    drag: RwSignal<Option<(f64, f64)>>,
    on_select: Option<Callback<(i64, i64)>>,
}

impl DragSelect {
    /// Dragging does nothing without `on_select`.
    pub fn new(on_select: Option<Callback<(i64, i64)>>) -> Self {
        DragSelect {
            drag: RwSignal::new(None),
            on_select,
        }
    }

    /// Whether dragging picks a range here.
    pub fn enabled(self) -> bool {
        self.on_select.is_some()
    }

    /// Whether a drag is under way (tracked: views follow it).
    pub fn dragging(self) -> bool {
        self.drag.with(Option::is_some)
    }

    pub fn down(self, ev: &leptos::ev::MouseEvent) {
        if self.enabled() && ev.button() == 0 {
            ev.prevent_default();
            let x = f64::from(ev.offset_x());
            self.drag.set(Some((x, x)));
        }
    }

    pub fn moved(self, x: f64) {
        if let Some((start, _)) = self.drag.get_untracked() {
            self.drag.set(Some((start, x)));
        }
    }

    /// Ends the drag at `x`; a long enough one reports its range.
    pub fn up(self, geometry: Option<PlotGeometry>, x: f64) {
        let started = self.drag.get_untracked();
        self.drag.set(None);
        let span = started
            .zip(geometry)
            .and_then(|((start, _), g)| g.span_between(start, x));
        if let (Some(span), Some(select)) = (span, self.on_select) {
            select.run(span);
        }
    }

    pub fn cancel(self) {
        self.drag.set(None);
    }

    /// The shaded span being dragged across.
    pub fn view(self) -> impl IntoView {
        move || {
            self.drag.get().map(|(start, end)| {
                view! {
                    <div
                        class="chart-selection"
                        style:left=format!("{}px", start.min(end))
                        style:width=format!("{}px", (end - start).abs())
                    ></div>
                }
            })
        }
    }
}

impl PlotGeometry {
    /// The time under `x` (CSS pixels from the canvas' left), held to the
    /// plot area.
    pub fn time_at(&self, x: f64) -> i64 {
        let width = (self.right - self.left).max(1.0);
        let fraction = ((x * self.pixel_ratio - self.left) / width).clamp(0.0, 1.0);
        self.x_min + (fraction * (self.x_max - self.x_min) as f64).round() as i64
    }

    /// The times between two pointer positions (CSS pixels), in order;
    /// `None` for a click or a drag too short to mean a range.
    pub fn span_between(&self, a: f64, b: f64) -> Option<(i64, i64)> {
        let (from, to) = (self.time_at(a.min(b)), self.time_at(a.max(b)));
        ((a - b).abs() >= MIN_DRAG_PX && to > from).then_some((from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drag_across_the_plot_is_the_span_of_times_under_it() {
        let geometry = PlotGeometry {
            left: 100.0,
            right: 300.0,
            x_min: 0,
            x_max: 60_000,
            pixel_ratio: 2.0,
            css_width: 200.0,
        };
        // CSS 75 px is canvas 150 px, a quarter into the plot.
        assert_eq!(geometry.span_between(125.0, 75.0), Some((15_000, 45_000)));
        // Past the plot's edges the span stops at them.
        assert_eq!(geometry.span_between(0.0, 500.0), Some((0, 60_000)));
        // A click or a twitch is not a drag.
        assert_eq!(geometry.span_between(80.0, 83.0), None);
        assert_eq!(
            geometry.span_between(10.0, 40.0),
            None,
            "both left of the plot"
        );
    }
}
