//! `histogram_quantile` over classic histograms (one series per `le`
//! bucket), following Prometheus 2.42's `bucketQuantile`.

use std::collections::HashMap;

use super::value::{remove, Labels, Sample, METRIC_NAME};

/// Label holding a bucket's upper bound.
const BUCKET_LABEL: &str = "le";

/// Groups buckets by their labels without `le` and estimates quantile `q`
/// in each group. Groups come out in first-seen order.
pub(super) fn histogram_quantile(q: f64, v: Vec<Sample>, t: i64) -> Vec<Sample> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut groups: Vec<(Labels, Vec<(f64, f64)>)> = Vec::new();
    for s in v {
        // Go's ParseFloat; a missing or malformed `le` skips the series.
        let le = super::value::get(&s.labels, BUCKET_LABEL);
        let Ok(bound) = le.parse::<f64>() else {
            continue;
        };
        // The grouping key keeps the metric name, like Prometheus does.
        let key = remove(&s.labels, &[BUCKET_LABEL.to_string()]);
        let i = *index.entry(key).or_insert_with(|| {
            let out_labels = remove(
                &s.labels,
                &[BUCKET_LABEL.to_string(), METRIC_NAME.to_string()],
            );
            groups.push((out_labels, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push((bound, s.v));
    }
    groups
        .into_iter()
        .map(|(labels, mut buckets)| Sample {
            labels,
            t,
            v: bucket_quantile(q, &mut buckets),
        })
        .collect()
}

/// Linear interpolation inside the bucket where the rank falls; the lowest
/// bucket starts at 0 unless its bound is not positive, and a rank in the
/// +Inf bucket answers the largest finite bound.
pub(super) fn bucket_quantile(q: f64, buckets: &mut [(f64, f64)]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    match buckets.last() {
        Some(b) if b.0 == f64::INFINITY => {}
        _ => return f64::NAN,
    }
    // Merge duplicate bounds (e.g. "1" and "1.0") by adding their counts.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for &b in buckets.iter() {
        match merged.last_mut() {
            Some(last) if last.0 == b.0 => last.1 += b.1,
            _ => merged.push(b),
        }
    }
    // Counts must not decrease with the bound; fix up as Prometheus does.
    let mut max = f64::NEG_INFINITY;
    for b in merged.iter_mut() {
        if b.1 > max {
            max = b.1;
        } else if b.1 < max {
            b.1 = max;
        }
    }
    if merged.len() < 2 {
        return f64::NAN;
    }
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let n = merged.len() - 1;
    let b = merged[..n].partition_point(|x| x.1 < rank);
    if b == n {
        return merged[n - 1].0;
    }
    if b == 0 && merged[0].0 <= 0.0 {
        return merged[0].0;
    }
    let (mut start, end, mut count) = (0.0, merged[b].0, merged[b].1);
    if b > 0 {
        start = merged[b - 1].0;
        count -= merged[b - 1].1;
        rank -= merged[b - 1].1;
    }
    start + (end - start) * (rank / count)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_inside_bucket() {
        // 10 obs <= 0.1, 20 <= 0.5, 30 total. q=0.5 → rank 15 → in (0.1, 0.5].
        let mut b = vec![(0.1, 10.0), (0.5, 20.0), (f64::INFINITY, 30.0)];
        let v = bucket_quantile(0.5, &mut b);
        assert!((v - (0.1 + 0.4 * 0.5)).abs() < 1e-12);
        // q=0.9 → rank 27 → +Inf bucket → largest finite bound.
        assert_eq!(bucket_quantile(0.9, &mut b), 0.5);
        // First bucket interpolates from 0.
        assert!((bucket_quantile(0.1, &mut b) - 0.03).abs() < 1e-12);
    }

    #[test]
    fn needs_inf_bucket() {
        let mut b = vec![(0.1, 10.0), (0.5, 20.0)];
        assert!(bucket_quantile(0.5, &mut b).is_nan());
    }
}
