//! [`DeltaToCumulative`]: the running totals that turn OTLP delta sums and
//! histograms into the cumulative counters Prometheus understands.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::super::metrics_proto::{self, ExponentialHistogramDataPoint};
use super::{Labels, DEFAULT_DELTA_SERIES, MAX_BUCKETS_PER_POINT};

/// Running totals of delta series, so that Prometheus sees the cumulative
/// counters it understands: per series (project and labels, `__name__`
/// included), the sum of its deltas so far and the end of the last one. At
/// most `capacity` series are kept; beyond that the least recently updated
/// tenth is forgotten, and a forgotten series starts again from its next
/// delta, which a query sees as a counter reset (`rate` handles it).
///
/// A delta is added when [`translate`] reads it: a request whose series are
/// then not stored, and which the client sends again, has its points refused
/// as overlapping the first time (the totals already hold them).
pub struct DeltaToCumulative {
    state: Mutex<DeltaState>,
    capacity: usize,
}

impl std::fmt::Debug for DeltaToCumulative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltaToCumulative")
            .field("series", &self.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

/// A series of the delta state: the project and the labels.
type DeltaKey = (i64, Labels);

#[derive(Default)]
struct DeltaState {
    entries: HashMap<DeltaKey, Running>,
    /// Counts updates, to tell which entries were updated least recently.
    tick: u64,
}

struct Running {
    last_end: u64,
    used: u64,
    total: Total,
}

/// A running total of one kind.
#[derive(Clone)]
pub(super) enum Total {
    Number(NumberTotal),
    Explicit(ExplicitTotal),
    Exponential(ExponentialTotal),
}

impl Default for DeltaToCumulative {
    fn default() -> Self {
        Self::new(DEFAULT_DELTA_SERIES)
    }
}

impl DeltaToCumulative {
    /// Keeps at most `capacity` series.
    pub fn new(capacity: usize) -> Self {
        DeltaToCumulative {
            state: Mutex::new(DeltaState::default()),
            capacity: capacity.max(1),
        }
    }

    /// Series kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no series is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, DeltaState> {
        // The state stays consistent whatever panicked while holding it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the delta over `start..end` (nanoseconds) to the series' total
    /// and returns the total; `Err(end of the previous delta)` if this one
    /// starts before that, or does not end after it.
    pub(super) fn accumulate<T: RunningTotal>(
        &self,
        key: DeltaKey,
        start: u64,
        end: u64,
        delta: T,
    ) -> Result<T, u64> {
        let mut guard = self.lock();
        let state = &mut *guard;
        state.tick += 1;
        if let Some(entry) = state.entries.get_mut(&key) {
            if end <= entry.last_end || (start != 0 && start < entry.last_end) {
                return Err(entry.last_end);
            }
            entry.last_end = end;
            entry.used = state.tick;
            return Ok(match T::of(&mut entry.total) {
                Some(running) => {
                    running.add(delta);
                    running.clone()
                }
                None => {
                    entry.total = delta.clone().into_total();
                    delta
                }
            });
        }
        if state.entries.len() >= self.capacity {
            state.forget_least_recent(self.capacity / 10 + 1);
        }
        let entry = Running {
            last_end: end,
            used: state.tick,
            total: delta.clone().into_total(),
        };
        state.entries.insert(key, entry);
        Ok(delta)
    }
}

impl DeltaState {
    fn forget_least_recent(&mut self, count: usize) {
        let mut used: Vec<u64> = self.entries.values().map(|e| e.used).collect();
        if used.is_empty() {
            return;
        }
        let nth = count.min(used.len()) - 1;
        let (_, threshold, _) = used.select_nth_unstable(nth);
        let threshold = *threshold;
        self.entries.retain(|_, e| e.used > threshold);
    }
}

/// A kind of running total: how a delta adds to it. A delta that cannot be
/// added (other buckets) replaces the total, which Prometheus sees as a
/// counter reset.
pub(super) trait RunningTotal: Clone {
    fn into_total(self) -> Total;
    fn of(total: &mut Total) -> Option<&mut Self>;
    fn add(&mut self, delta: Self);
}

/// The running value of a sum.
#[derive(Clone, Copy)]
pub(super) struct NumberTotal(pub(super) f64);

impl RunningTotal for NumberTotal {
    fn into_total(self) -> Total {
        Total::Number(self)
    }
    fn of(total: &mut Total) -> Option<&mut Self> {
        match total {
            Total::Number(n) => Some(n),
            _ => None,
        }
    }
    fn add(&mut self, delta: Self) {
        self.0 += delta.0;
    }
}

/// An explicit-bucket histogram: `counts[i]` in `(bounds[i-1], bounds[i]]`.
#[derive(Clone)]
pub(super) struct ExplicitTotal {
    pub(super) bounds: Vec<f64>,
    pub(super) counts: Vec<u64>,
    pub(super) count: u64,
    pub(super) sum: Option<f64>,
}

impl RunningTotal for ExplicitTotal {
    fn into_total(self) -> Total {
        Total::Explicit(self)
    }
    fn of(total: &mut Total) -> Option<&mut Self> {
        match total {
            Total::Explicit(h) => Some(h),
            _ => None,
        }
    }
    fn add(&mut self, delta: Self) {
        let same_bounds = self.bounds.len() == delta.bounds.len()
            && self
                .bounds
                .iter()
                .zip(&delta.bounds)
                .all(|(a, b)| a.to_bits() == b.to_bits())
            && self.counts.len() == delta.counts.len();
        if !same_bounds {
            *self = delta;
            return;
        }
        for (total, d) in self.counts.iter_mut().zip(&delta.counts) {
            *total = total.saturating_add(*d);
        }
        self.count = self.count.saturating_add(delta.count);
        self.sum = self.sum.zip(delta.sum).map(|(a, b)| a + b);
    }
}

/// An exponential histogram, buckets by index.
#[derive(Clone)]
pub(super) struct ExponentialTotal {
    pub(super) scale: i32,
    pub(super) zero_count: u64,
    pub(super) zero_threshold: f64,
    pub(super) positive: BTreeMap<i64, u64>,
    pub(super) negative: BTreeMap<i64, u64>,
    pub(super) count: u64,
    pub(super) sum: Option<f64>,
}

impl ExponentialTotal {
    /// The scales OpenTelemetry defines.
    pub(super) const MIN_SCALE: i32 = -10;
    pub(super) const MAX_SCALE: i32 = 20;

    pub(super) fn of(point: &ExponentialHistogramDataPoint) -> Self {
        let buckets = |b: &Option<metrics_proto::exponential_histogram_data_point::Buckets>| {
            let mut map = BTreeMap::new();
            if let Some(b) = b {
                for (index, count) in (i64::from(b.offset)..).zip(&b.bucket_counts) {
                    if *count > 0 {
                        map.insert(index, *count);
                    }
                }
            }
            map
        };
        ExponentialTotal {
            scale: point.scale,
            zero_count: point.zero_count,
            zero_threshold: point.zero_threshold,
            positive: buckets(&point.positive),
            negative: buckets(&point.negative),
            count: point.count,
            sum: point.sum,
        }
    }

    /// The same histogram at a coarser `scale`: each bucket of index `i`
    /// falls in bucket `i >> (self.scale - scale)`.
    fn downscale(&mut self, scale: i32) {
        let shift = self.scale.saturating_sub(scale).clamp(0, 63) as u32;
        if shift == 0 {
            return;
        }
        let merge = |map: &mut BTreeMap<i64, u64>| {
            let mut merged = BTreeMap::new();
            for (index, count) in std::mem::take(map) {
                let slot: &mut u64 = merged.entry(index >> shift).or_default();
                *slot = slot.saturating_add(count);
            }
            *map = merged;
        };
        merge(&mut self.positive);
        merge(&mut self.negative);
        self.scale = scale;
    }

    /// Classic buckets: `(upper bound, count)` in ascending order. A positive
    /// bucket `i` holds values in `(base^i, base^(i+1)]`, so its bound is
    /// `base^(i+1)` with `base = 2^(2^-scale)`; a negative one holds values in
    /// `[-base^(i+1), -base^i)`, bound `-base^i`; the zero bucket's bound is
    /// the zero threshold. Bounds computed as the same float merge; bounds
    /// beyond the float range only count toward +Inf. Prometheus's quantile
    /// estimation then interpolates within each exponential bucket, as it
    /// does for any classic histogram.
    pub(super) fn classic_buckets(&self) -> Vec<(f64, u64)> {
        let factor = (-f64::from(self.scale)).exp2();
        let bound = |index: i64| (index as f64 * factor).exp2();
        let mut buckets: Vec<(f64, u64)> = self
            .negative
            .iter()
            .map(|(&i, &n)| (-bound(i), n))
            .chain(std::iter::once((self.zero_threshold, self.zero_count)))
            .chain(
                self.positive
                    .iter()
                    .map(|(&i, &n)| (bound(i.saturating_add(1)), n)),
            )
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        buckets.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = kept.1.saturating_add(later.1);
            }
            same
        });
        buckets
    }
}

impl RunningTotal for ExponentialTotal {
    fn into_total(self) -> Total {
        Total::Exponential(self)
    }
    fn of(total: &mut Total) -> Option<&mut Self> {
        match total {
            Total::Exponential(h) => Some(h),
            _ => None,
        }
    }
    fn add(&mut self, mut delta: Self) {
        let scale = self.scale.min(delta.scale);
        self.downscale(scale);
        delta.downscale(scale);
        for (mine, theirs) in [
            (&mut self.positive, delta.positive),
            (&mut self.negative, delta.negative),
        ] {
            for (index, count) in theirs {
                let slot = mine.entry(index).or_default();
                *slot = slot.saturating_add(count);
            }
        }
        self.zero_count = self.zero_count.saturating_add(delta.zero_count);
        self.zero_threshold = self.zero_threshold.max(delta.zero_threshold);
        self.count = self.count.saturating_add(delta.count);
        self.sum = self.sum.zip(delta.sum).map(|(a, b)| a + b);
        // Deltas far apart would otherwise grow the total without bound.
        for _ in 0..64 {
            if self.positive.len() + self.negative.len() <= MAX_BUCKETS_PER_POINT {
                break;
            }
            self.downscale(self.scale.saturating_sub(1));
        }
    }
}
