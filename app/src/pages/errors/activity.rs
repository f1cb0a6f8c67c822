//! What happened to an issue, newest first: first seen, regressions, resolves,
//! ignores and reopens, who did them, and the event that caused them.

use leptos::prelude::*;
use serde_json::Value;

use super::issue_table::Ago;
use crate::api::IssueActivity;
use crate::local_time::absolute_time;

/// A field of the activity's detail as text.
fn detail<'a>(activity: &'a IssueActivity, key: &str) -> Option<&'a str> {
    activity
        .detail
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The activity in words, e.g. "Resolved in release shop@1.4.2".
pub fn activity_text(activity: &IssueActivity) -> String {
    let number = |key: &str| activity.detail.get(key).and_then(Value::as_i64);
    match activity.kind.as_str() {
        "first_seen" => "First seen".to_owned(),
        "regression" => match detail(activity, "release") {
            Some(release) => format!("Regressed in release {release}"),
            None => "Regressed: a new event arrived after it was resolved".to_owned(),
        },
        "resolved" => "Resolved".to_owned(),
        "resolved_in_release" => match detail(activity, "release") {
            Some(release) => format!("Resolved in release {release}"),
            None => "Resolved in the next release".to_owned(),
        },
        "ignored" => {
            let until = detail(activity, "until")
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| absolute_time(t.timestamp_millis()));
            match (until, number("count")) {
                (Some(until), _) => format!("Ignored until {until}"),
                (None, Some(n)) => format!("Ignored until {n} more events arrive"),
                (None, None) => "Ignored".to_owned(),
            }
        }
        "unresolved" => "Reopened".to_owned(),
        "unignored" => match detail(activity, "reason") {
            Some("ignore_until_count") => "No longer ignored: the event count was reached",
            Some("ignore_until") => "No longer ignored: the time ran out",
            _ => "No longer ignored",
        }
        .to_owned(),
        other => other.replace('_', " "),
    }
}

/// The activity list.
#[component]
pub fn ActivityList(
    /// Newest first.
    activity: Vec<IssueActivity>,
    /// The current time (unix ms).
    #[prop(into)]
    now_ms: Signal<i64>,
    /// Where an event id links to (`?event=<id>` on this page).
    event_href: Callback<String, String>,
) -> impl IntoView {
    if activity.is_empty() {
        return view! { <p class="muted">"Nothing has happened to this issue yet."</p> }.into_any();
    }
    let items = activity
        .into_iter()
        .map(|a| {
            let text = activity_text(&a);
            let by = a
                .user
                .clone()
                .map(|u| view! { <span class="muted">{format!(" by {u}")}</span> });
            let event = detail(&a, "event_id").map(|id| {
                let href = event_href.run(id.to_owned());
                view! { <a class="activity-event" href=href>"event"</a> }
            });
            view! {
                <li class="activity-item">
                    <span class="activity-text">{text}</span>
                    {by}
                    <span class="activity-when muted">
                        <Ago at=a.at now_ms/>
                        {event.map(|link| view! { " · " {link} })}
                    </span>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="activity-list">{items}</ol> }.into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn activity(kind: &str, detail: Value) -> IssueActivity {
        IssueActivity {
            kind: kind.into(),
            detail,
            user: None,
            at: chrono::DateTime::default(),
        }
    }

    #[test]
    fn activities_read_as_sentences() {
        assert_eq!(
            activity_text(&activity(
                "resolved_in_release",
                json!({"release": "shop@2"})
            )),
            "Resolved in release shop@2"
        );
        assert_eq!(
            activity_text(&activity("ignored", json!({"until": null, "count": 10}))),
            "Ignored until 10 more events arrive"
        );
        assert_eq!(
            activity_text(&activity(
                "unignored",
                json!({"reason": "ignore_until_count"})
            )),
            "No longer ignored: the event count was reached"
        );
        assert_eq!(
            activity_text(&activity("unresolved", json!({}))),
            "Reopened"
        );
        assert_eq!(
            activity_text(&activity("something_new", json!({}))),
            "something new"
        );
    }
}
