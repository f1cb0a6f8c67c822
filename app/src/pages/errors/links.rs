//! Where an event leads: the logs of its trace (or of the minutes around it), the
//! trace itself, and the affected user's events. Each link keeps the issue's
//! project and is written the way the target page reads its URL (the Logs page
//! reads `q`, `from` and `to`, see `crate::url_state`).

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;

use crate::api::EventDetail;
use crate::browser::percent_encode;
use crate::pages::logs::query_text::filter_term;
use crate::url_state::href;
use crate::url_state::PROJECT_KEY;

use super::payload::tag;

/// One correlation link.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The `id` of the `<a>`, for tests and styling.
    pub id: &'static str,
    /// What the link says.
    pub label: &'static str,
    /// Where it goes.
    pub href: String,
}

/// A time as the URL holds it: whole seconds, `Z` (as `TimeRange::write_query`).
fn url_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The links of `event` of an issue of project `project` (its slug).
pub fn links(event: &EventDetail, project: &str) -> Vec<Link> {
    let project = || (PROJECT_KEY, project.to_owned());
    let mut links = Vec::new();
    match event.trace_id.as_deref().filter(|t| !t.is_empty()) {
        Some(trace) => {
            let q = filter_term("trace_id", &Value::String(trace.to_owned()), false)
                .unwrap_or_default();
            links.push(Link {
                id: "event-trace-logs",
                label: "Logs of this trace",
                href: href(
                    "/logs",
                    &[
                        project(),
                        ("q", q),
                        ("from", url_time(event.ts - Duration::hours(1))),
                        // Whole seconds round down: one more keeps the event inside.
                        (
                            "to",
                            url_time(event.ts + Duration::hours(1) + Duration::seconds(1)),
                        ),
                    ],
                ),
            });
            links.push(Link {
                id: "event-trace",
                label: "Trace",
                href: href(
                    &format!("/performance/traces/{}", percent_encode(trace)),
                    &[project()],
                ),
            });
        }
        None => {
            let mut pairs = vec![project()];
            if let Some(q) = tag(&event.tags, "server_name")
                .and_then(|s| filter_term("service", &Value::String(s.to_owned()), false))
            {
                pairs.push(("q", q));
            }
            pairs.push(("from", url_time(event.ts - Duration::minutes(1))));
            pairs.push((
                "to",
                url_time(event.ts + Duration::minutes(1) + Duration::seconds(1)),
            ));
            links.push(Link {
                id: "event-nearby-logs",
                label: "Logs around this event",
                href: href("/logs", &pairs),
            });
        }
    }
    if let Some(user) = event.user.as_deref().filter(|u| !u.is_empty()) {
        links.push(Link {
            id: "event-user-events",
            label: "This user's events",
            href: href("/analytics", &[project(), ("user", user.to_owned())]),
        });
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(trace_id: Option<&str>, user: Option<&str>) -> EventDetail {
        let ts = DateTime::parse_from_rfc3339("2026-03-04T10:20:30.250Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        EventDetail {
            event_id: "0".repeat(32),
            issue_id: 1,
            project_id: 1,
            ts,
            level: "error".into(),
            release: None,
            environment: None,
            transaction: None,
            trace_id: trace_id.map(str::to_owned),
            user: user.map(str::to_owned),
            tags: json!({"server_name": "web 1"}),
            payload: json!({}),
            oldest_event_id: None,
            previous_event_id: None,
            next_event_id: None,
            latest_event_id: None,
        }
    }

    #[test]
    fn a_traced_event_links_to_its_trace_and_the_logs_of_it() {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        let found = links(&event(Some(trace), Some("u-1")), "web");
        let hrefs: Vec<_> = found.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(
            hrefs,
            vec![
                "/logs?project=web&q=trace_id%3A4bf92f3577b34da6a3ce929d0e0e4736&from=2026-03-04T09%3A20%3A30Z&to=2026-03-04T11%3A20%3A31Z",
                "/performance/traces/4bf92f3577b34da6a3ce929d0e0e4736?project=web",
                "/analytics?project=web&user=u-1",
            ]
        );
    }

    #[test]
    fn an_untraced_event_links_to_the_minutes_around_it_on_its_server() {
        let found = links(&event(None, None), "web");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].label, "Logs around this event");
        assert_eq!(
            found[0].href,
            "/logs?project=web&q=service%3A%22web%201%22&from=2026-03-04T10%3A19%3A30Z&to=2026-03-04T10%3A21%3A31Z"
        );
    }
}
