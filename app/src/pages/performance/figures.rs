//! How the performance pages write their figures: durations in milliseconds
//! (seconds once they pass one), throughput per minute, failure rates in per
//! cent and Apdex scores, and which span statuses count as failures.

use crate::components::chart::format_value;

/// A duration for people: `0.42 ms`, `12.5 ms`, `340 ms`, `1.25 s`.
pub fn format_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "—".to_owned();
    }
    let magnitude = ms.abs();
    if magnitude >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if magnitude >= 100.0 || ms.fract() == 0.0 {
        format!("{ms:.0} ms")
    } else if magnitude >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// Transactions per minute: `3.50/min`, `120/min`.
pub fn format_throughput(per_min: f64) -> String {
    format!("{}/min", format_value(per_min))
}

/// A share (0–1) as a percentage: `0 %`, `1.25 %`, `50 %`.
pub fn format_rate(share: f64) -> String {
    format!("{} %", format_value(share * 100.0))
}

/// An Apdex score with two decimals: `0.94`.
pub fn format_apdex(apdex: f64) -> String {
    format!("{apdex:.2}")
}

/// The CSS class of an Apdex score: good from 0.94, fair from 0.85, else poor
/// (the usual Apdex bands: excellent/good, fair, poor/unacceptable).
pub fn apdex_class(apdex: f64) -> &'static str {
    if apdex >= 0.94 {
        "apdex-good"
    } else if apdex >= 0.85 {
        "apdex-fair"
    } else {
        "apdex-poor"
    }
}

/// The CSS class of a failure rate (0 to 1): good under 1 %, fair under 5 %,
/// else poor — coloured like Apdex, not red for any failure at all.
pub fn failure_rate_class(rate: f64) -> &'static str {
    if rate < 0.01 {
        "rate-good"
    } else if rate < 0.05 {
        "rate-fair"
    } else {
        "rate-poor"
    }
}

/// Whether a span status counts as a failure, as the server counts it for the
/// failure rate: every Sentry status but `ok`, `cancelled` and `unknown` (and an
/// empty one, which the SDK did not set).
pub fn is_failure(status: &str) -> bool {
    !matches!(status, "" | "ok" | "cancelled" | "unknown")
}

/// `n thing(s)`.
pub fn plural(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_rates_are_coloured_by_band() {
        assert_eq!(failure_rate_class(0.0), "rate-good");
        assert_eq!(failure_rate_class(0.009), "rate-good");
        assert_eq!(failure_rate_class(0.01), "rate-fair");
        assert_eq!(failure_rate_class(0.2), "rate-poor");
    }

    #[test]
    fn durations_read_in_milliseconds_then_seconds() {
        assert_eq!(format_ms(0.4242), "0.42 ms");
        assert_eq!(format_ms(5.0), "5 ms");
        assert_eq!(format_ms(12.54), "12.5 ms");
        assert_eq!(format_ms(340.4), "340 ms");
        assert_eq!(format_ms(1250.0), "1.25 s");
        assert_eq!(format_ms(f64::NAN), "—");
    }

    #[test]
    fn rates_and_scores_read_as_people_expect() {
        assert_eq!(format_rate(0.0), "0 %");
        assert_eq!(format_rate(0.5), "50 %");
        assert_eq!(format_rate(0.0125), "1.25 %");
        assert_eq!(format_throughput(3.5), "3.50/min");
        assert_eq!(format_apdex(0.9349), "0.93");
        assert_eq!(apdex_class(0.95), "apdex-good");
        assert_eq!(apdex_class(0.9), "apdex-fair");
        assert_eq!(apdex_class(0.5), "apdex-poor");
    }

    #[test]
    fn only_real_failures_are_failures() {
        for fine in ["ok", "cancelled", "unknown", ""] {
            assert!(!is_failure(fine), "{fine}");
        }
        for failed in ["internal_error", "not_found", "deadline_exceeded"] {
            assert!(is_failure(failed), "{failed}");
        }
    }
}
