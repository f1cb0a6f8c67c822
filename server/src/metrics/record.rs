//! What every metrics protocol produces: samples of one series
//! ([`SeriesSamples`]: a metric name, its labels, its points) and the HELP,
//! TYPE and UNIT of a metric family ([`Metadata`]). [`SeriesSamples::new`]
//! applies Prometheus's rules for names and labels once, for every adapter.

use sha2::{Digest, Sha256};

/// The bits of Prometheus's stale marker: a NaN written when a series ends
/// (its target disappeared), after which a query finds no value for it.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `value` is Prometheus's stale marker (an ordinary NaN is a value).
pub fn is_stale(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

/// Most labels one series may carry, `__name__` included.
pub const MAX_LABELS: usize = 64;
/// Longest label name, metric name included, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Longest label value, in bytes.
pub const MAX_VALUE_BYTES: usize = 4096;

/// A series' identity: 16 bytes of the SHA-256 of its name and sorted labels.
pub type SeriesHash = [u8; 16];

/// Points of one series, checked: a valid metric name, valid and unique label
/// names sorted by name (no `__name__`, no empty values: an empty value means
/// the label is absent, as in Prometheus), and points in time order, one per
/// millisecond.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSamples {
    pub metric: String,
    pub labels: Vec<(String, String)>,
    /// `(milliseconds since the epoch, value)`.
    pub samples: Vec<(i64, f64)>,
    pub hash: SeriesHash,
}

/// HELP, TYPE and UNIT of a metric family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Metadata {
    pub metric: String,
    /// `counter`, `gauge`, `histogram`, `gaugehistogram`, `summary`, `info`,
    /// `stateset` or `unknown`.
    pub kind: String,
    pub help: String,
    pub unit: String,
}

/// One record of a metrics batch.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricRecord {
    Series(SeriesSamples),
    Metadata(Metadata),
}

impl MetricRecord {
    /// Points this record holds (what rate limits and tallies count).
    pub fn points(&self) -> usize {
        match self {
            MetricRecord::Series(series) => series.samples.len(),
            MetricRecord::Metadata(_) => 0,
        }
    }
}

/// Why a series was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeriesError {
    #[error("a series has no metric name (label `__name__`)")]
    NoName,
    #[error("`{0}` is not a valid metric name")]
    BadMetricName(String),
    #[error("`{0}` is not a valid label name")]
    BadLabelName(String),
    #[error("label `{0}` appears twice")]
    DuplicateLabel(String),
    #[error("more than {MAX_LABELS} labels")]
    TooManyLabels,
    #[error("label `{0}` has a value longer than {MAX_VALUE_BYTES} bytes")]
    ValueTooLong(String),
}

/// Whether `name` is a metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn valid_metric_name(name: &str) -> bool {
    valid_name(name, true)
}

/// Whether `name` is a label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn valid_label_name(name: &str) -> bool {
    valid_name(name, false)
}

fn valid_name(name: &str, colons: bool) -> bool {
    let ok = |c: u8, first: bool| {
        c == b'_'
            || c.is_ascii_alphabetic()
            || (!first && c.is_ascii_digit())
            || (colons && c == b':')
    };
    !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name.bytes().enumerate().all(|(i, c)| ok(c, i == 0))
}

impl SeriesSamples {
    /// A series from its labels (`__name__` among them, in any order) and its
    /// points (in any order; of two points at one millisecond the first sent
    /// is kept, as Prometheus keeps the sample it already has).
    pub fn new(
        labels: impl IntoIterator<Item = (String, String)>,
        mut samples: Vec<(i64, f64)>,
    ) -> Result<Self, SeriesError> {
        let mut metric = None;
        let mut pairs = Vec::new();
        for (name, value) in labels {
            if name == "__name__" {
                if metric.is_some() {
                    return Err(SeriesError::DuplicateLabel(name));
                }
                metric = Some(value);
            } else if !value.is_empty() {
                pairs.push((name, value));
            }
        }
        let metric = metric
            .filter(|m| !m.is_empty())
            .ok_or(SeriesError::NoName)?;
        if !valid_metric_name(&metric) {
            return Err(SeriesError::BadMetricName(metric));
        }
        if pairs.len() >= MAX_LABELS {
            return Err(SeriesError::TooManyLabels);
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, (name, value)) in pairs.iter().enumerate() {
            if !valid_label_name(name) {
                return Err(SeriesError::BadLabelName(name.clone()));
            }
            if i > 0 && pairs[i - 1].0 == *name {
                return Err(SeriesError::DuplicateLabel(name.clone()));
            }
            if value.len() > MAX_VALUE_BYTES {
                return Err(SeriesError::ValueTooLong(name.clone()));
            }
        }
        // A stable sort keeps the first of two points at one time first.
        samples.sort_by_key(|&(ts, _)| ts);
        samples.dedup_by_key(|&mut (ts, _)| ts);
        let hash = series_hash(&metric, &pairs);
        Ok(SeriesSamples {
            metric,
            labels: pairs,
            samples,
            hash,
        })
    }

    /// The labels as Prometheus shows them: `__name__` first, then the rest.
    pub fn all_labels(&self) -> impl Iterator<Item = (&str, &str)> {
        std::iter::once(("__name__", self.metric.as_str()))
            .chain(self.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }
}

/// The identity of a series: the name and the sorted pairs, separated by
/// bytes that cannot occur in UTF-8 text, hashed.
pub fn series_hash(metric: &str, labels: &[(String, String)]) -> SeriesHash {
    let mut hasher = Sha256::new();
    hasher.update(metric.as_bytes());
    for (name, value) in labels {
        hasher.update([0xff]);
        hasher.update(name.as_bytes());
        hasher.update([0xfe]);
        hasher.update(value.as_bytes());
    }
    let digest = hasher.finalize();
    let mut hash = [0u8; 16];
    hash.copy_from_slice(&digest[..16]);
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn labels_are_sorted_checked_and_hashed_whatever_their_order() {
        let a = SeriesSamples::new(
            pairs(&[
                ("job", "api"),
                ("__name__", "up"),
                ("instance", "h:1"),
                ("empty", ""),
            ]),
            vec![(2, 1.0), (1, 0.0), (2, 5.0)],
        )
        .unwrap();
        assert_eq!(a.metric, "up");
        assert_eq!(a.labels, pairs(&[("instance", "h:1"), ("job", "api")]));
        // Time order, and the first point sent at a time is kept.
        assert_eq!(a.samples, vec![(1, 0.0), (2, 1.0)]);
        let b = SeriesSamples::new(
            pairs(&[("instance", "h:1"), ("job", "api"), ("__name__", "up")]),
            vec![],
        )
        .unwrap();
        assert_eq!(a.hash, b.hash);
        let other =
            SeriesSamples::new(pairs(&[("__name__", "up"), ("job", "apI")]), vec![]).unwrap();
        assert_ne!(a.hash, other.hash);
        // Moving a byte between a name and a value changes the identity.
        assert_ne!(
            series_hash("m", &pairs(&[("ab", "c")])),
            series_hash("m", &pairs(&[("a", "bc")]))
        );
    }

    #[test]
    fn bad_series_say_what_is_wrong() {
        let new = |list: &[(&str, &str)]| SeriesSamples::new(pairs(list), vec![]);
        assert_eq!(new(&[("job", "x")]), Err(SeriesError::NoName));
        assert_eq!(
            new(&[("__name__", "1up")]),
            Err(SeriesError::BadMetricName("1up".into()))
        );
        assert_eq!(
            new(&[("__name__", "up"), ("a-b", "x")]),
            Err(SeriesError::BadLabelName("a-b".into()))
        );
        assert_eq!(
            new(&[("__name__", "up"), ("a", "x"), ("a", "y")]),
            Err(SeriesError::DuplicateLabel("a".into()))
        );
        assert!(valid_metric_name("http:requests_total"));
        assert!(!valid_label_name("a:b"));
        let stale = f64::from_bits(STALE_NAN_BITS);
        assert!(is_stale(stale) && !is_stale(f64::NAN));
    }
}
