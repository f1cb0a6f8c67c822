//! The waterfall's time axis: ticks at round milliseconds from the start of the
//! trace (0, 50, 100 ms, ... or 0, 0.5, 1 s, ...) and their labels.

/// About `target` ticks from 0 to `total_ms`, `step` apart, where `step` is 1, 2
/// or 5 times a power of ten; the first is always 0. Returns the ticks and the
/// step.
pub fn ticks(total_ms: f64, target: usize) -> (Vec<f64>, f64) {
    let total = if total_ms.is_finite() && total_ms > 0.0 {
        total_ms
    } else {
        1.0
    };
    let rough = total / target.max(1) as f64;
    let power = 10_f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    let count = (total / step + 1e-9).floor() as usize;
    let ticks = (0..=count).map(|i| i as f64 * step).collect();
    (ticks, step)
}

/// A tick's label: milliseconds below a second, seconds from there, with as
/// many decimals as the step needs (`0.5 ms`, `250 ms`, `1.5 s`).
pub fn tick_label(ms: f64, step: f64) -> String {
    if ms == 0.0 {
        return "0".to_owned();
    }
    let (value, unit, step) = if ms >= 1000.0 {
        (ms / 1000.0, "s", step / 1000.0)
    } else {
        (ms, "ms", step)
    };
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    format!("{value:.decimals$} {unit}")
}

/// Where `ms` sits on an axis of `total_ms`, in per cent of its width.
pub fn percent(ms: f64, total_ms: f64) -> f64 {
    if total_ms <= 0.0 {
        return 0.0;
    }
    (ms / total_ms * 100.0).clamp(0.0, 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_on_round_milliseconds() {
        let (at, step) = ticks(230.0, 5);
        assert_eq!(step, 50.0);
        assert_eq!(at, vec![0.0, 50.0, 100.0, 150.0, 200.0]);
        let (at, step) = ticks(1.0, 4);
        assert_eq!(step, 0.5);
        assert_eq!(at, vec![0.0, 0.5, 1.0]);
        let (at, step) = ticks(0.0, 5);
        assert!((step - 0.2).abs() < 1e-12, "{step}");
        assert_eq!(at.len(), 6);
    }

    #[test]
    fn labels_switch_to_seconds_past_one() {
        assert_eq!(tick_label(0.0, 50.0), "0");
        assert_eq!(tick_label(150.0, 50.0), "150 ms");
        assert_eq!(tick_label(0.5, 0.5), "0.5 ms");
        assert_eq!(tick_label(1500.0, 500.0), "1.5 s");
        assert_eq!(tick_label(2000.0, 1000.0), "2 s");
    }

    #[test]
    fn positions_stay_on_the_axis() {
        assert_eq!(percent(50.0, 200.0), 25.0);
        assert_eq!(percent(300.0, 200.0), 100.0);
        assert_eq!(percent(1.0, 0.0), 0.0);
    }
}
