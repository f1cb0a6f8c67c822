//! `/errors/{issue_id}`: one issue — its title, culprit, level and status, counts
//! and releases, triage, events per hour over the page's time range (at least the
//! last 24 hours), top tag values and activity, then one of its events (the
//! latest unless `?event=` names another).

use chrono::{DateTime, Duration, Utc};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};

use super::activity::ActivityList;
use super::event::EventPanel;
use super::issue_table::{Ago, StatusBadge};
use super::tags::TagBars;
use super::triage::IssueActions;
use crate::api::{client, EventBucket, IssueDetail};
use crate::components::chart::bars::{BarAxis, BarStack, Bars};
use crate::components::level::{level_color, LevelBadge};
use crate::components::panel::{Panel, PanelBody, PanelState};
use crate::components::status::{EmptyState, ErrorBox, Loading};
use crate::local_time::now;
use crate::url_state::{href_keeping_query, use_query, use_set_query, TimeRange, PROJECT_KEY};

/// Query key of the event shown.
const EVENT_KEY: &str = "event";
/// One bar of the events chart.
const HOUR_MS: i64 = 3_600_000;

/// The window of the events chart: the page's range, widened to the last 24
/// hours of it when shorter (hourly bars over a quarter of an hour say nothing).
pub fn chart_window(range: TimeRange, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let (from, to) = range.bounds(now);
    (from.min(to - Duration::hours(24)), to)
}

/// The hourly series as bars in the level's colour.
pub fn bars_of(series: &[EventBucket], level: &str) -> Bars {
    Bars {
        axis: BarAxis::Time {
            starts: series.iter().map(|b| b.ts.timestamp_millis()).collect(),
            interval_ms: HOUR_MS,
        },
        stacks: vec![BarStack {
            name: "events".to_owned(),
            color: level_color(level),
            values: series.iter().map(|b| b.events as f64).collect(),
        }],
        unit: "Events".to_owned(),
        category_label: String::new(),
        compact_axis: false,
    }
}

/// `/errors/{issue_id}`.
#[component]
pub fn IssuePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query();
    let issue_id = Memo::new(move |_| {
        params.with(|p| p.get_str("issue_id").and_then(|id| id.parse::<i64>().ok()))
    });
    let range = Memo::new(move |_| query.with(TimeRange::from_query));
    let detail = LocalResource::new(move || {
        let id = issue_id.get();
        let (from, to) = chart_window(range.get(), now());
        async move {
            match id {
                Some(id) => Some(client::issue(id, from, to).await),
                None => None,
            }
        }
    });
    let back = move || {
        query.with(|q| {
            let mut q = q.clone();
            q.remove(EVENT_KEY);
            href_keeping_query("/errors", &q)
        })
    };
    let body = move || {
        detail.get().map(|answer| match answer {
            None => view! {
                <header class="page-header"><h1>"Issue"</h1></header>
                <div class="card">
                    <EmptyState title="Not an issue" detail="The address names no issue: open one from the Errors page."/>
                </div>
            }
            .into_any(),
            Some(Err(e)) => view! {
                <header class="page-header"><h1>"Issue"</h1></header>
                <ErrorBox error=e/>
            }
            .into_any(),
            Some(Ok(issue)) => view! { <IssueView issue/> }.into_any(),
        })
    };
    view! {
        <a class="issue-back" href=back>"← Issues"</a>
        <Transition fallback=|| view! { <Loading what="Loading the issue…"/> }>{body}</Transition>
    }
    .into_any()
}

/// A loaded issue.
#[component]
fn IssueView(issue: IssueDetail) -> impl IntoView {
    let query = use_query();
    let navigate = StoredValue::new_local(use_set_query());
    let project = StoredValue::new(issue.project_slug.clone());
    let latest = issue.latest_event_id.clone();
    let issue = RwSignal::new(issue);
    let now_ms = Signal::stored(now().timestamp_millis());

    // The event shown: `?event=`, else the latest.
    let event_id = Signal::derive(move || {
        query
            .with(|q| q.get(EVENT_KEY))
            .filter(|id| !id.is_empty())
            .or_else(|| latest.clone())
    });
    let with_event = move |id: &str| {
        let mut q = query.get_untracked();
        q.replace(EVENT_KEY, id.to_owned());
        // Opened from another project's list: follow the issue's project.
        q.replace(PROJECT_KEY, project.get_value());
        q
    };
    let on_pick = Callback::new(move |id: String| {
        let q = with_event(&id);
        navigate.with_value(|go| go(q));
    });
    let pathname = use_location().pathname;
    let event_href = Callback::new(move |id: String| {
        href_keeping_query(&pathname.get_untracked(), &with_event(&id))
    });

    let events = Signal::derive(move || {
        issue.with(|i| PanelState::Ready(PanelBody::Bars(bars_of(&i.series, &i.level))))
    });
    let header = move || {
        issue.with(|i| {
            let culprit = (!i.culprit.is_empty())
                .then(|| view! { <code class="issue-culprit">{i.culprit.clone()}</code> });
            view! {
                <header class="page-header issue-header">
                    <h1>{i.title.clone()}</h1>
                </header>
                <div class="issue-subtitle">
                    <LevelBadge level=i.level.clone()/>
                    <StatusBadge status=i.status/>
                    {culprit}
                    <span class="muted">{format!("{} · {}", i.project_slug, i.platform)}</span>
                </div>
            }
        })
    };
    let facts = move || {
        issue.with(|i| {
            let release = |r: &Option<String>| {
                r.clone()
                    .map(|r| view! { <code>{r}</code> }.into_any())
                    .unwrap_or_else(|| view! { <span class="muted">"—"</span> }.into_any())
            };
            let fact = |label: &'static str, id: &'static str, value: AnyView| {
                view! {
                    <div class="issue-fact">
                        <dt>{label}</dt>
                        <dd id=id>{value}</dd>
                    </div>
                }
            };
            let resolved_in = i.resolved_in_release.clone().map(|r| {
                fact(
                    "Resolved in",
                    "issue-resolved-in",
                    view! { <code>{r}</code> }.into_any(),
                )
            });
            view! {
                <dl class="issue-facts">
                    {fact("Events", "issue-count", view! { {i.count} }.into_any())}
                    {fact("Users", "issue-users", view! { {i.user_count} }.into_any())}
                    {fact(
                        "First seen",
                        "issue-first-seen",
                        view! { <Ago at=i.first_seen now_ms/> }.into_any(),
                    )}
                    {fact(
                        "Last seen",
                        "issue-last-seen",
                        view! { <Ago at=i.last_seen now_ms/> }.into_any(),
                    )}
                    {fact("First release", "issue-first-release", release(&i.first_release))}
                    {fact("Last release", "issue-last-release", release(&i.last_release))}
                    {resolved_in}
                </dl>
            }
            .into_any()
        })
    };
    let tags = move || {
        issue.with(|i| view! { <TagBars tags=i.tags.clone() project=i.project_slug.clone()/> })
    };
    let activity = move || {
        issue.with(|i| view! { <ActivityList activity=i.activity.clone() now_ms event_href/> })
    };

    view! {
        {header}
        <section class="card issue-summary-card">
            <IssueActions issue/>
            {facts}
        </section>
        <Panel
            title="Events per hour"
            class="issue-chart"
            label="Events of this issue per hour"
            empty="No events in this time range"
            state=events
        />
        <div class="issue-columns">
            <section class="card issue-tags">
                <h2>"Tags"</h2>
                {tags}
            </section>
            <section class="card issue-activity">
                <h2>"Activity"</h2>
                {activity}
            </section>
        </div>
        <EventPanel event_id project on_pick/>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url_state::Preset;

    #[test]
    fn the_chart_covers_at_least_a_day() {
        let now = DateTime::<Utc>::default() + Duration::days(100);
        assert_eq!(
            chart_window(TimeRange::Last(Preset::Hour1), now),
            (now - Duration::hours(24), now)
        );
        assert_eq!(
            chart_window(TimeRange::Last(Preset::Days7), now),
            (now - Duration::days(7), now)
        );
    }
}
