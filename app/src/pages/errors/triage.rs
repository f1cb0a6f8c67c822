//! Triage on the issue page: Resolve, Resolve in next release, Ignore (for a
//! while, or until more events arrive) and Reopen, through
//! `PATCH /issues/{issue_id}`. Only editors may: for viewers the buttons are
//! disabled with the reason; when the server refuses anyway, its reason is
//! shown.

use chrono::Duration;
use leptos::prelude::*;

use crate::api::{client, IssueDetail, IssueStatus, IssueUpdate, Role};
use crate::components::status::ErrorText;
use crate::local_time::{absolute_time, now};
use crate::session::use_denied;

/// One way to ignore an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreFor {
    /// Until someone reopens it.
    Forever,
    /// For this many hours.
    Hours(i64),
    /// Until this many more events arrive.
    Events(i64),
}

impl IgnoreFor {
    /// The choices of the Ignore menu.
    pub const ALL: [IgnoreFor; 5] = [
        IgnoreFor::Forever,
        IgnoreFor::Hours(1),
        IgnoreFor::Hours(24),
        IgnoreFor::Events(10),
        IgnoreFor::Events(100),
    ];

    /// The menu item's words.
    pub fn label(self) -> String {
        match self {
            IgnoreFor::Forever => "Until reopened".to_owned(),
            IgnoreFor::Hours(1) => "For 1 hour".to_owned(),
            IgnoreFor::Hours(h) => format!("For {h} hours"),
            IgnoreFor::Events(n) => format!("Until {n} more events"),
        }
    }

    /// The change to send, at time `now`.
    pub fn update(self, now: chrono::DateTime<chrono::Utc>) -> IssueUpdate {
        let mut change = IssueUpdate {
            status: Some(IssueStatus::Ignored),
            ..IssueUpdate::default()
        };
        match self {
            IgnoreFor::Forever => {}
            IgnoreFor::Hours(h) => change.ignore_until = Some(now + Duration::hours(h)),
            IgnoreFor::Events(n) => change.ignore_count = Some(n),
        }
        change
    }
}

/// The issue's state in words, beyond its badge: what it is resolved in or
/// ignored until.
pub fn state_text(issue: &IssueDetail) -> Option<String> {
    match issue.status {
        IssueStatus::Resolved => Some(match &issue.resolved_in_release {
            Some(release) => {
                format!("Resolved in release {release}: events from newer releases reopen it.")
            }
            None => "Resolved: the next event reopens it.".to_owned(),
        }),
        IssueStatus::Ignored => Some(match (issue.ignore_until, issue.ignore_until_count) {
            (Some(until), _) => {
                format!("Ignored until {}.", absolute_time(until.timestamp_millis()))
            }
            (None, Some(count)) => format!("Ignored until it reaches {count} events."),
            (None, None) => "Ignored until someone reopens it.".to_owned(),
        }),
        IssueStatus::Unresolved => None,
    }
}

/// The triage buttons of an issue; a successful change updates `issue`.
#[component]
pub fn IssueActions(
    /// The issue shown.
    issue: RwSignal<IssueDetail>,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let menu_open = RwSignal::new(false);
    let status = Memo::new(move |_| issue.with(|i| i.status));
    let denied = use_denied(Role::Editor, "Changing an issue");
    let off = move || busy.get() || denied.with(Option::is_some);

    let send = move |what: &'static str, change: IssueUpdate| {
        let id = issue.with_untracked(|i| i.issue_id);
        busy.set(true);
        error.set(None);
        menu_open.set(false);
        leptos::task::spawn_local(async move {
            let answer = client::update_issue(id, &change).await;
            busy.set(false);
            match answer {
                Ok(updated) => issue.update(|shown| {
                    // The answer's series covers the default range, not the page's.
                    let series = std::mem::take(&mut shown.series);
                    *shown = IssueDetail { series, ..updated };
                }),
                Err(e) => error.set(Some(format!("{what} failed: {e}"))),
            }
        });
    };
    let resolve = move |_| {
        send(
            "Resolve",
            IssueUpdate {
                status: Some(IssueStatus::Resolved),
                ..IssueUpdate::default()
            },
        );
    };
    let resolve_next = move |_| {
        send(
            "Resolve in next release",
            IssueUpdate {
                status: Some(IssueStatus::Resolved),
                resolved_in_release: Some("next".to_owned()),
                ..IssueUpdate::default()
            },
        );
    };
    let reopen = move |_| {
        send(
            "Reopen",
            IssueUpdate {
                status: Some(IssueStatus::Unresolved),
                ..IssueUpdate::default()
            },
        );
    };
    let ignore_items = move || {
        IgnoreFor::ALL
            .into_iter()
            .map(|choice| {
                view! {
                    <li>
                        <button
                            type="button"
                            role="menuitem"
                            class="issue-menu-item"
                            on:click=move |_| send("Ignore", choice.update(now()))
                        >
                            {choice.label()}
                        </button>
                    </li>
                }
            })
            .collect_view()
    };

    // Each part type-erased: keeps the component's view type small enough for
    // the compiler.
    let resolve_buttons = move || {
        view! {
            <button id="issue-resolve" type="button" class="button small" disabled=off title=denied on:click=resolve>
                "Resolve"
            </button>
            <button
                id="issue-resolve-next"
                type="button"
                class="button secondary small"
                disabled=off
                title=move || denied.get().unwrap_or_else(|| {
                    "Resolved until an event arrives from a release newer than the latest one seen".to_owned()
                })
                on:click=resolve_next
            >
                "Resolve in next release"
            </button>
        }
        .into_any()
    };
    let ignore_menu = move || {
        view! {
            <div class="issue-menu-anchor">
                <button
                    id="issue-ignore"
                    type="button"
                    class="button secondary small"
                    aria-haspopup="menu"
                    aria-expanded=move || menu_open.get().to_string()
                    disabled=off
                    title=denied
                    on:click=move |_| menu_open.update(|o| *o = !*o)
                >
                    "Ignore ▾"
                </button>
                <Show when=move || menu_open.get()>
                    <ul id="issue-ignore-menu" class="issue-menu" role="menu">{ignore_items}</ul>
                </Show>
            </div>
        }
        .into_any()
    };
    let reopen_button = move || {
        view! {
            <button id="issue-reopen" type="button" class="button secondary small" disabled=off title=denied on:click=reopen>
                "Reopen"
            </button>
        }
        .into_any()
    };
    let state = move || {
        issue
            .with(state_text)
            .map(|text| view! { <span class="muted issue-state">{text}</span> })
    };

    view! {
        <div class="issue-actions">
            <Show when=move || status.get() != IssueStatus::Resolved>{resolve_buttons()}</Show>
            <Show when=move || status.get() != IssueStatus::Ignored>{ignore_menu()}</Show>
            <Show when=move || status.get() != IssueStatus::Unresolved>{reopen_button()}</Show>
            {state}
        </div>
        {move || denied.get().map(|why| view! { <p class="muted issue-permission">{why}"."</p> })}
        <ErrorText message=error/>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignoring_for_a_while_or_a_count_sends_the_matching_field() {
        let at = chrono::DateTime::<chrono::Utc>::default();
        let hour = IgnoreFor::Hours(1).update(at);
        assert_eq!(hour.status, Some(IssueStatus::Ignored));
        assert_eq!(hour.ignore_until, Some(at + Duration::hours(1)));
        assert_eq!(hour.ignore_count, None);
        let events = IgnoreFor::Events(100).update(at);
        assert_eq!(events.ignore_count, Some(100));
        assert_eq!(events.ignore_until, None);
        assert_eq!(IgnoreFor::Forever.update(at).ignore_until, None);
        assert_eq!(IgnoreFor::Hours(24).label(), "For 24 hours");
    }
}
