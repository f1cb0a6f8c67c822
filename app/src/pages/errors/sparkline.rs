//! A row's sparkline: events per bucket across the range as a small inline SVG
//! line, drawn in the text colour so it reads in light and dark themes.

use leptos::prelude::*;

/// Width of the drawing, in SVG units (the CSS sets its size on screen).
const WIDTH: f64 = 96.0;
/// Height of the drawing.
const HEIGHT: f64 = 24.0;
/// Room kept at the top and bottom so the stroke is not cut.
const PAD: f64 = 2.0;

/// The polyline's `points`: one per bucket, spread across the width, scaled so
/// the busiest bucket touches the top; a flat line at the bottom without events.
pub fn points(values: &[i64]) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        WIDTH / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = i as f64 * step;
            let y = HEIGHT - PAD - (*v).max(0) as f64 / max * (HEIGHT - 2.0 * PAD);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sparkline of one issue.
#[component]
pub fn Sparkline(
    /// Events per bucket, oldest first.
    values: Vec<i64>,
) -> impl IntoView {
    let total: i64 = values.iter().sum();
    let peak = values.iter().copied().max().unwrap_or(0);
    let label = format!(
        "{total} event{} across the range; the busiest of its {} stretches had {peak}",
        if total == 1 { "" } else { "s" },
        values.len()
    );
    let title = label.clone();
    view! {
        <span class="sparkline-peak" aria-hidden="true">{format!("peak {peak}")}</span>
        <svg
            class="sparkline"
            viewBox=format!("0 0 {WIDTH} {HEIGHT}")
            preserveAspectRatio="none"
            role="img"
            aria-label=label
        >
            <title>{title}</title>
            <polyline points=points(&values) fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke"></polyline>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busiest_bucket_reaches_the_top() {
        assert_eq!(points(&[0, 2, 1]), "0.0,22.0 48.0,2.0 96.0,12.0");
        assert_eq!(points(&[0, 0]), "0.0,22.0 96.0,22.0");
        assert_eq!(points(&[]), "");
    }
}
