//! UI state kept in the URL query so that a reload or a shared link shows the same
//! view: the selected project (`project=<slug>`) and the time range (`range=1h`, or
//! `from=<RFC 3339>&to=<RFC 3339>` for a custom range).

use chrono::{DateTime, SecondsFormat, Utc};
use leptos::prelude::*;
use leptos_router::{
    hooks::{use_location, use_navigate},
    params::ParamsMap,
    NavigateOptions,
};

/// Query key of the selected project's slug.
pub const PROJECT_KEY: &str = "project";

/// A preset "last N" range of the time-range picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Last 15 minutes.
    Minutes15,
    /// Last hour.
    Hour1,
    /// Last 24 hours.
    Hours24,
    /// Last 7 days.
    Days7,
    /// Last 30 days.
    Days30,
}

impl Preset {
    /// All presets, shortest first.
    pub const ALL: [Preset; 5] = [
        Preset::Minutes15,
        Preset::Hour1,
        Preset::Hours24,
        Preset::Days7,
        Preset::Days30,
    ];

    /// The value of `range=` in the URL.
    pub fn as_query(self) -> &'static str {
        match self {
            Preset::Minutes15 => "15m",
            Preset::Hour1 => "1h",
            Preset::Hours24 => "24h",
            Preset::Days7 => "7d",
            Preset::Days30 => "30d",
        }
    }

    /// The label in the picker.
    pub fn label(self) -> &'static str {
        match self {
            Preset::Minutes15 => "Last 15 minutes",
            Preset::Hour1 => "Last 1 hour",
            Preset::Hours24 => "Last 24 hours",
            Preset::Days7 => "Last 7 days",
            Preset::Days30 => "Last 30 days",
        }
    }

    /// Reads a `range=` value.
    pub fn from_query(value: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.as_query() == value)
    }

    /// How far back the range reaches.
    pub fn duration(self) -> chrono::Duration {
        match self {
            Preset::Minutes15 => chrono::Duration::minutes(15),
            Preset::Hour1 => chrono::Duration::hours(1),
            Preset::Hours24 => chrono::Duration::hours(24),
            Preset::Days7 => chrono::Duration::days(7),
            Preset::Days30 => chrono::Duration::days(30),
        }
    }
}

/// The global time range of the pages that query data over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeRange {
    /// Up to now, reaching back by the preset.
    Last(Preset),
    /// A fixed interval.
    Between {
        /// Start, inclusive.
        from: DateTime<Utc>,
        /// End, exclusive.
        to: DateTime<Utc>,
    },
}

impl Default for TimeRange {
    fn default() -> Self {
        TimeRange::Last(Preset::Hour1)
    }
}

impl TimeRange {
    /// Reads the range from a URL query; a missing or malformed one is the default.
    pub fn from_query(query: &ParamsMap) -> TimeRange {
        let parse = |key: &str| {
            query
                .get_str(key)
                .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        if let (Some(from), Some(to)) = (parse("from"), parse("to")) {
            if from < to {
                return TimeRange::Between { from, to };
            }
        }
        query
            .get_str("range")
            .and_then(Preset::from_query)
            .map(TimeRange::Last)
            .unwrap_or_default()
    }

    /// Writes the range into a URL query, replacing any range already there.
    pub fn write_query(self, query: &mut ParamsMap) {
        query.remove("range");
        query.remove("from");
        query.remove("to");
        match self {
            TimeRange::Last(preset) => query.insert("range", preset.as_query().to_owned()),
            TimeRange::Between { from, to } => {
                // `Z` rather than `+00:00`: a `+` in a query string reads as a space.
                query.insert("from", from.to_rfc3339_opts(SecondsFormat::Secs, true));
                query.insert("to", to.to_rfc3339_opts(SecondsFormat::Secs, true));
            }
        }
    }

    /// The interval the range covers, evaluated at `now`.
    pub fn bounds(self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        match self {
            TimeRange::Last(preset) => (now - preset.duration(), now),
            TimeRange::Between { from, to } => (from, to),
        }
    }
}

/// `path?key=value&...`, every value percent-encoded.
pub fn href(path: &str, pairs: &[(&str, String)]) -> String {
    let query = pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", crate::browser::percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    format!("{path}?{query}")
}

/// `path` followed by the current query string (`?project=web&range=1h`), so that
/// links keep the selected project and time range.
pub fn href_keeping_query(path: &str, query: &ParamsMap) -> String {
    format!("{path}{}", query.to_query_string())
}

/// `path` with only the parts of the current query every page shares: the
/// project and the time range. Links from one page to another use it, so that a
/// page's own state (a search `q`, filters, sort) does not leak into the next.
pub fn href_keeping_context(path: &str, query: &ParamsMap) -> String {
    let mut shared = ParamsMap::new();
    for key in [PROJECT_KEY, "range", "from", "to"] {
        if let Some(value) = query.get(key) {
            shared.insert(key, value);
        }
    }
    href_keeping_query(path, &shared)
}

/// The reactive URL query of the current page.
pub fn use_query() -> Memo<ParamsMap> {
    use_location().query
}

/// A function that moves to the current path with a new query (a client-side
/// navigation that adds a history entry, so Back restores the previous view).
pub fn use_set_query() -> impl Fn(ParamsMap) + Clone + 'static {
    let navigate = use_navigate();
    let pathname = use_location().pathname;
    move |query: ParamsMap| {
        let target = href_keeping_query(&pathname.get_untracked(), &query);
        navigate(&target, NavigateOptions::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&'static str, &str)]) -> ParamsMap {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn page_links_keep_the_project_and_range_only() {
        let q = query(&[
            ("project", "web"),
            ("range", "24h"),
            ("q", "trace_id:abc"),
            ("sort", "events"),
        ]);
        assert_eq!(
            href_keeping_context("/errors", &q),
            "/errors?project=web&range=24h"
        );
    }

    #[test]
    fn a_missing_or_unknown_range_is_the_last_hour() {
        assert_eq!(
            TimeRange::from_query(&query(&[])),
            TimeRange::Last(Preset::Hour1)
        );
        assert_eq!(
            TimeRange::from_query(&query(&[("range", "3w")])),
            TimeRange::Last(Preset::Hour1)
        );
    }

    #[test]
    fn presets_and_custom_ranges_survive_the_url() {
        for preset in Preset::ALL {
            let mut q = query(&[("project", "web")]);
            TimeRange::Last(preset).write_query(&mut q);
            assert_eq!(TimeRange::from_query(&q), TimeRange::Last(preset));
            assert_eq!(q.get("project").as_deref(), Some("web"));
        }
        let from = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let custom = TimeRange::Between {
            from,
            to: from + chrono::Duration::hours(2),
        };
        let mut q = query(&[("range", "7d")]);
        custom.write_query(&mut q);
        assert_eq!(q.get("range"), None);
        assert_eq!(q.get("from").as_deref(), Some("2026-01-02T03:04:05Z"));
        assert_eq!(TimeRange::from_query(&q), custom);
    }

    #[test]
    fn a_custom_range_that_ends_before_it_starts_is_ignored() {
        let q = query(&[
            ("from", "2026-01-02T05:00:00Z"),
            ("to", "2026-01-02T04:00:00Z"),
            ("range", "24h"),
        ]);
        assert_eq!(TimeRange::from_query(&q), TimeRange::Last(Preset::Hours24));
    }
}
