//! The one query model. Every kind of data implements [`Source`]: "this query,
//! over this range, at this step" answered with labelled series ([`Frame`]s).
//! `POST /api/v1/query` ([`super::api`]) exposes it; dashboard panels and alert
//! rules will call it too, so a panel and an alert on the same query agree.
//!
//! The sources are put together where the instance is ([`crate::state`]); this
//! module knows none of them.

use std::{collections::BTreeMap, sync::Arc};

pub use app::api::Frame;
use chrono::{DateTime, Duration, Utc};
use futures_util::future::BoxFuture;
use sqlx::PgPool;

use super::time_range;
use crate::http::error::ApiError;

/// Most points one answer may hold, over all its series (Prometheus allows
/// 11 000 per series; a chart shows a few hundred).
pub const MAX_POINTS: i64 = 10_000;
/// Points of one series when no step is given.
const DEFAULT_POINTS: i64 = 120;
/// The steps a default step is rounded up to.
const NICE_STEPS_SECS: [i64; 16] = [
    1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400,
];

/// One query of a source, checked and resolved.
#[derive(Debug, Clone)]
pub struct SeriesQuery {
    pub project_id: i64,
    /// The source's own query text.
    pub query: String,
    /// The half-open range `[from, to)`; `from` is a multiple of `step` since
    /// the epoch, so that points of two queries line up.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub step: Duration,
}

impl SeriesQuery {
    /// The step in whole seconds (steps are whole seconds).
    pub fn step_secs(&self) -> i64 {
        self.step.num_seconds()
    }

    /// How many steps the range holds.
    pub fn steps(&self) -> i64 {
        let step = self.step.num_milliseconds().max(1);
        ((self.to - self.from).num_milliseconds() + step - 1) / step
    }
}

/// A kind of data that answers queries with series.
pub trait Source: Send + Sync + 'static {
    /// The name clients choose it by (`"logs"`).
    fn name(&self) -> &'static str;

    /// The series `query` asks for. A query the source cannot read is a
    /// [`ApiError::BadRequest`] saying why; `pool` is the query pool.
    fn series<'a>(
        &'a self,
        pool: &'a PgPool,
        query: &'a SeriesQuery,
    ) -> BoxFuture<'a, Result<Vec<Frame>, ApiError>>;
}

/// Every source of this instance, by name.
#[derive(Clone, Default)]
pub struct Sources {
    by_name: BTreeMap<&'static str, Arc<dyn Source>>,
}

impl Sources {
    /// The sources given, by their names.
    pub fn new(sources: Vec<Arc<dyn Source>>) -> Self {
        Sources {
            by_name: sources.into_iter().map(|s| (s.name(), s)).collect(),
        }
    }

    /// The source called `name`, or a 400 naming the ones there are.
    pub fn get(&self, name: &str) -> Result<&dyn Source, ApiError> {
        self.by_name.get(name).map(|s| s.as_ref()).ok_or_else(|| {
            let names: Vec<&str> = self.by_name.keys().copied().collect();
            ApiError::BadRequest(format!(
                "source: `{name}` is not one of {}",
                names.join(", ")
            ))
        })
    }
}

/// Resolves a request's range and step: `step` as given (`30s`, `5m`, or
/// seconds), else about [`DEFAULT_POINTS`] points rounded up to a whole step;
/// the range starts at a multiple of the step. Too many points is a 400.
pub fn resolve(
    project_id: i64,
    query: &str,
    from: Option<&str>,
    to: Option<&str>,
    step: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SeriesQuery, ApiError> {
    let (from, to) = time_range::resolve(from, to, now)?;
    let range_secs = (to - from).num_seconds().max(1);
    let step = match time_range::given(step) {
        Some(text) => parse_step(text)?,
        None => {
            let wanted = (range_secs + DEFAULT_POINTS - 1) / DEFAULT_POINTS;
            let secs = NICE_STEPS_SECS
                .iter()
                .copied()
                .find(|s| *s >= wanted)
                .unwrap_or_else(|| (wanted + 86_399) / 86_400 * 86_400);
            Duration::seconds(secs)
        }
    };
    let from = time_range::floor(from, step).unwrap_or(from);
    let resolved = SeriesQuery {
        project_id,
        query: query.to_string(),
        from,
        to,
        step,
    };
    if resolved.steps() > MAX_POINTS {
        return Err(ApiError::BadRequest(format!(
            "step: {} steps of {}s over this range; at most {MAX_POINTS}: make the step longer",
            resolved.steps(),
            step.num_seconds()
        )));
    }
    Ok(resolved)
}

fn parse_step(text: &str) -> Result<Duration, ApiError> {
    let step = match text.parse::<i64>() {
        Ok(secs) => Some(Duration::seconds(secs)),
        Err(_) => time_range::duration(text),
    };
    step.filter(|s| s.num_seconds() >= 1 && *s <= Duration::days(366))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "step: `{text}` is not a step; use 30s, 5m, 1h, 1d or whole seconds, from 1s to a year"
            ))
        })
}

/// Series built point by point: each point is added to the series of its name
/// and labels, in the order the rows come.
#[derive(Debug, Default)]
pub struct FrameSet {
    frames: BTreeMap<(String, BTreeMap<String, String>), Frame>,
}

impl FrameSet {
    /// Adds `value` at `ts` to the series `name` with `labels`.
    pub fn push(
        &mut self,
        name: &str,
        labels: BTreeMap<String, String>,
        unit: Option<&str>,
        ts: DateTime<Utc>,
        value: f64,
    ) {
        if !value.is_finite() {
            return;
        }
        self.frames
            .entry((name.to_string(), labels.clone()))
            .or_insert_with(|| Frame {
                name: name.to_string(),
                labels,
                unit: unit.map(str::to_string),
                points: Vec::new(),
            })
            .points
            .push((ts.timestamp_millis(), value));
    }

    /// The series, ordered by name and labels, their points by time.
    pub fn into_frames(self) -> Vec<Frame> {
        self.frames
            .into_values()
            .map(|mut frame| {
                frame.points.sort_by_key(|p| p.0);
                frame
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn steps_are_given_or_about_120_points_aligned_to_the_step() {
        let now = at("2026-12-03T15:42:10Z");
        let hour = resolve(1, "", Some("now-1h"), None, None, now).unwrap();
        assert_eq!(hour.step, Duration::seconds(30));
        assert_eq!(hour.from, at("2026-12-03T14:42:00Z"));
        let day = resolve(1, "", Some("now-1d"), None, None, now).unwrap();
        assert_eq!(day.step, Duration::minutes(15));
        let given = resolve(1, "", Some("now-1h"), None, Some("1m"), now).unwrap();
        assert_eq!((given.step, given.steps()), (Duration::minutes(1), 61));
        assert_eq!(
            resolve(1, "", Some("now-1h"), None, Some("60"), now)
                .unwrap()
                .step,
            Duration::minutes(1)
        );
        for bad in ["0", "-5", "1ms", "soon", "400d"] {
            assert!(resolve(1, "", None, None, Some(bad), now).is_err(), "{bad}");
        }
        let err = resolve(1, "", Some("now-7d"), None, Some("1s"), now).unwrap_err();
        assert!(err.to_string().contains("make the step longer"), "{err}");
    }

    #[test]
    fn frames_group_points_by_name_and_labels() {
        let mut set = FrameSet::default();
        let labels = |l: &str| BTreeMap::from([("level".to_string(), l.to_string())]);
        set.push(
            "count()",
            labels("error"),
            None,
            at("2026-01-01T00:01:00Z"),
            2.0,
        );
        set.push(
            "count()",
            labels("info"),
            None,
            at("2026-01-01T00:00:00Z"),
            5.0,
        );
        set.push(
            "count()",
            labels("error"),
            None,
            at("2026-01-01T00:00:00Z"),
            1.0,
        );
        set.push(
            "count()",
            labels("error"),
            None,
            at("2026-01-01T00:02:00Z"),
            f64::NAN,
        );
        let frames = set.into_frames();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].labels["level"], "error");
        assert_eq!(
            frames[0].points,
            [(1_767_225_600_000, 1.0), (1_767_225_660_000, 2.0)]
        );
    }
}
