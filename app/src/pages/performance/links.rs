//! Where the performance pages lead: a transaction's page, a trace's waterfall,
//! an error event on the Errors page and the logs of a trace on the Logs page.
//! Each link keeps the selected project (and, where the target reads one, the
//! time range) and is written the way the target page reads its URL: the
//! transaction's name in `name=` (names hold slashes), the issue page's event in
//! `event=`, the Logs page's query and range in `q`, `from` and `to` (see
//! `crate::url_state`).

use chrono::{DateTime, Duration, Utc};
use leptos_router::params::ParamsMap;
use serde_json::Value;

use crate::browser::percent_encode;
use crate::pages::logs::query_text::filter_term;
use crate::url_state::{TimeRange, PROJECT_KEY};

/// Query key of the transaction's name on its page.
pub const NAME_KEY: &str = "name";
/// Query key of the environment the performance pages are narrowed to.
pub const ENVIRONMENT_KEY: &str = "environment";
/// Query key of the event the issue page shows.
const EVENT_KEY: &str = "event";

/// `path?key=value&...`, every key and value percent-encoded alike in the
/// browser and the server build (leptos' own encoding differs between them).
fn href(path: &str, query: &ParamsMap) -> String {
    let pairs: Vec<String> = query
        .into_iter()
        .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
        .collect();
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", pairs.join("&"))
    }
}

/// The keys of `query` every performance link keeps: the project, the range and
/// the environment.
fn kept(query: &ParamsMap) -> ParamsMap {
    let mut kept = ParamsMap::new();
    for key in [PROJECT_KEY, "range", "from", "to", ENVIRONMENT_KEY] {
        if let Some(value) = query.get(key) {
            kept.replace(key, value);
        }
    }
    kept
}

/// The endpoints table, with the project and range of `query`.
pub fn performance_href(query: &ParamsMap) -> String {
    href("/performance", &kept(query))
}

/// The page of transaction `name`.
pub fn transaction_href(name: &str, query: &ParamsMap) -> String {
    let mut q = kept(query);
    q.replace(NAME_KEY, name.to_owned());
    href("/performance/transaction", &q)
}

/// The waterfall of `trace_id`; the transaction's name, when there is one in
/// `query`, comes along so the trace page can lead back to it.
pub fn trace_href(trace_id: &str, query: &ParamsMap) -> String {
    let mut q = kept(query);
    if let Some(name) = query.get(NAME_KEY).filter(|n| !n.is_empty()) {
        q.replace(NAME_KEY, name);
    }
    href(
        &format!("/performance/traces/{}", percent_encode(trace_id)),
        &q,
    )
}

/// Event `event_id` of issue `issue_id` on the Errors page.
pub fn issue_event_href(issue_id: i64, event_id: &str, query: &ParamsMap) -> String {
    let mut q = kept(query);
    q.replace(EVENT_KEY, event_id.to_owned());
    href(&format!("/errors/{issue_id}"), &q)
}

/// The Logs page searching for `trace_id` from an hour before `start` to an
/// hour after `end` (as the Errors UI links an event's trace).
pub fn trace_logs_href(
    trace_id: &str,
    project: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> String {
    let mut q = ParamsMap::new();
    q.replace(PROJECT_KEY, project.to_owned());
    let term =
        filter_term("trace_id", &Value::String(trace_id.to_owned()), false).unwrap_or_default();
    q.replace("q", term);
    TimeRange::Between {
        from: start - Duration::hours(1),
        // The URL holds whole seconds, which round down: one more keeps the end in.
        to: end + Duration::hours(1) + Duration::seconds(1),
    }
    .write_query(&mut q);
    href("/logs", &q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&'static str, &str)]) -> ParamsMap {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn a_transaction_name_with_slashes_and_spaces_fits_in_the_query() {
        let q = query(&[
            ("project", "shop"),
            ("range", "24h"),
            ("sort", "p95_ms"),
            ("q", "check"),
        ]);
        assert_eq!(
            transaction_href("GET /checkout/{id}", &q),
            "/performance/transaction?project=shop&range=24h&name=GET%20%2Fcheckout%2F%7Bid%7D"
        );
        assert_eq!(performance_href(&q), "/performance?project=shop&range=24h");
    }

    #[test]
    fn a_trace_link_keeps_the_transaction_to_go_back_to() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let q = query(&[("project", "shop"), ("name", "GET /")]);
        assert_eq!(
            trace_href(trace, &q),
            format!("/performance/traces/{trace}?project=shop&name=GET%20%2F")
        );
        assert_eq!(
            issue_event_href(7, "ab12", &q),
            "/errors/7?project=shop&event=ab12"
        );
    }

    #[test]
    fn the_logs_of_a_trace_cover_an_hour_either_side() {
        let start = DateTime::parse_from_rfc3339("2026-03-04T10:20:30.250Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let href = trace_logs_href(
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "shop",
            start,
            start + Duration::milliseconds(1500),
        );
        assert_eq!(
            href,
            "/logs?project=shop&q=trace_id%3A4bf92f3577b34da6a3ce929d0e0e4736&from=2026-03-04T09%3A20%3A30Z&to=2026-03-04T11%3A20%3A32Z"
        );
    }
}
