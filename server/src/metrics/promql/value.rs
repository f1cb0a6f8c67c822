//! Data types shared by the evaluator and its callers, plus the small label
//! helpers that several operators need (Prometheus drops or rewrites labels in
//! many places, so the rules live in one spot).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A series' identity: (name, value) pairs sorted by name. The metric name is
/// stored like any label under `__name__`, as Prometheus does.
///
/// Shared: a range query hands the same series' labels to every step, so a
/// clone only counts a reference; changing a shared copy copies it first
/// (`DerefMut` is [`Arc::make_mut`]), so read before you write.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Arc<Vec<(String, String)>>);

impl Labels {
    pub fn new() -> Self {
        Labels::default()
    }

    /// The pairs, copied only when shared.
    pub fn into_vec(self) -> Vec<(String, String)> {
        Arc::unwrap_or_clone(self.0)
    }

    /// Identifies this copy's allocation: clones share it. Caches keyed by
    /// it must keep a clone alive, or the address may be reused.
    pub(super) fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl Deref for Labels {
    type Target = Vec<(String, String)>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Labels {
    fn deref_mut(&mut self) -> &mut Self::Target {
        Arc::make_mut(&mut self.0)
    }
}

impl From<Vec<(String, String)>> for Labels {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Labels(Arc::new(pairs))
    }
}

impl FromIterator<(String, String)> for Labels {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Labels(Arc::new(pairs.into_iter().collect()))
    }
}

impl PartialEq<Vec<(String, String)>> for Labels {
    fn eq(&self, other: &Vec<(String, String)>) -> bool {
        *self.0 == *other
    }
}

/// The label that carries the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Bit pattern Prometheus writes when a series disappears (a "stale marker").
/// It is a NaN, so it must be recognised by its bits, not by value.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// True when `v` is exactly a stale marker (not any other NaN).
pub fn is_stale(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One stored series as the storage returns it; stale markers included so
/// that the evaluator can end a series where Prometheus would.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeries {
    pub labels: Labels,
    /// Millisecond timestamps, ascending and unique.
    pub samples: Vec<(i64, f64)>,
}

/// One element of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

/// One element of a range vector or of a range query's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<(i64, f64)>,
}

/// The result of an instant query, typed like Prometheus' `resultType`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, v: String },
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
}

/// Prometheus' text for a sample value in API answers. 2.42's JSON encoder
/// (`marshalValue`) uses Go's shortest round-trip digits with an exponent
/// (`1.5e-07`, `1e+21`) when `|v| < 1e-6` or `|v| >= 1e21`, and plain
/// decimals otherwise; checked against a real 2.42.
pub fn format_value(v: f64) -> String {
    let a = v.abs();
    if a.is_finite() && a != 0.0 && !(1e-6..1e21).contains(&a) {
        go_exp_format(v)
    } else {
        format_plain(v)
    }
}

/// Go's `FormatFloat(v, 'f', -1, 64)`, which Rust's `Display` for `f64`
/// matches (shortest round trip, no exponent). Used for label values, e.g.
/// by `count_values`.
pub(super) fn format_plain(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

/// Go's `FormatFloat(v, 'e', -1, 64)`: Rust's shortest `{:e}` digits with
/// the exponent signed and at least two digits long.
fn go_exp_format(v: f64) -> String {
    let s = format!("{v:e}");
    match s.split_once('e') {
        Some((mant, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mant}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

/// Value of label `name`, or "" when absent (Prometheus treats both alike).
pub(super) fn get<'a>(labels: &'a Labels, name: &str) -> &'a str {
    labels
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Sets a label keeping the order; an empty value removes the label because
/// Prometheus never stores empty label values.
pub(super) fn set(labels: &mut Labels, name: &str, value: &str) {
    match labels.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
        Ok(i) if value.is_empty() => {
            labels.remove(i);
        }
        Ok(i) => labels[i].1 = value.to_string(),
        Err(_) if value.is_empty() => {}
        Err(i) => labels.insert(i, (name.to_string(), value.to_string())),
    }
}

/// Drops the metric name: done whenever an operation changes what a value means.
/// Copies the labels only when they have a name to drop.
pub(super) fn drop_name(mut labels: Labels) -> Labels {
    if labels.iter().any(|(n, _)| n == METRIC_NAME) {
        labels.retain(|(n, _)| n != METRIC_NAME);
    }
    labels
}

/// Keeps only the listed labels (`by`, `on`).
pub(super) fn keep_only(labels: &Labels, names: &[String]) -> Labels {
    labels
        .iter()
        .filter(|(n, _)| names.iter().any(|k| k == n))
        .cloned()
        .collect()
}

/// Removes the listed labels (`without`, `ignoring`).
pub(super) fn remove(labels: &Labels, names: &[String]) -> Labels {
    labels
        .iter()
        .filter(|(n, _)| !names.iter().any(|k| k == n))
        .cloned()
        .collect()
}

/// Go's `labels.Labels.String()`, used verbatim in some error messages.
pub(super) fn labels_to_string(labels: &Labels) -> String {
    let parts: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", parts.join(", "))
}

/// Go's `math.Max`: NaN wins, unlike Rust's `f64::max`.
pub(super) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() {
            b
        } else {
            a
        }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: NaN wins, unlike Rust's `f64::min`.
pub(super) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else if a < b {
        a
    } else {
        b
    }
}

/// True when a vector holds two elements with identical labels, which
/// Prometheus rejects after functions, operators and aggregations.
pub(super) fn has_duplicate_labels(v: &[Sample]) -> bool {
    let mut seen: Vec<&Labels> = v.iter().map(|s| &s.labels).collect();
    seen.sort();
    seen.windows(2).any(|w| w[0] == w[1])
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.1), "0.1");
        assert_eq!(format_value(1e21), "1e+21");
        assert_eq!(format_value(1.651179156435637e-07), "1.651179156435637e-07");
        assert_eq!(format_value(-1.5e-300), "-1.5e-300");
        assert_eq!(format_value(1e-6), "0.000001");
        assert_eq!(format_plain(1e21), "1000000000000000000000");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(-2.5), "-2.5");
    }

    #[test]
    fn stale_is_bit_exact() {
        assert!(is_stale(f64::from_bits(STALE_NAN_BITS)));
        assert!(!is_stale(f64::NAN));
    }

    #[test]
    fn go_min_max_propagate_nan() {
        assert!(go_max(f64::NAN, 1.0).is_nan());
        assert!(go_min(1.0, f64::NAN).is_nan());
        assert_eq!(go_max(1.0, 2.0), 2.0);
    }
}
