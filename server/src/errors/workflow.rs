//! What new events do to an issue's status: a resolved issue that happens again
//! has regressed, and an ignored issue whose time or count is up is unignored.
//! Pure decisions over the issue's stored state; [`super::writer`] applies them
//! inside the transaction that stores the events.
//!
//! "Resolved in release R" is kept only while events come from R or older
//! releases: an event reopens the issue when its release was first seen after R
//! was (releases are ordered by when each was first seen, not by their names,
//! which follow no common scheme). An event without a release cannot be placed
//! and leaves such an issue resolved.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// The triage state of an issue, as stored in `issue.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueStatus {
    Unresolved,
    Resolved,
    Ignored,
}

impl IssueStatus {
    /// The status stored as `name`; an unknown name counts as unresolved (the
    /// table's check constraint allows no other).
    pub fn from_name(name: &str) -> IssueStatus {
        match name {
            "resolved" => IssueStatus::Resolved,
            "ignored" => IssueStatus::Ignored,
            _ => IssueStatus::Unresolved,
        }
    }

    /// The name stored in `issue.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueStatus::Unresolved => "unresolved",
            IssueStatus::Resolved => "resolved",
            IssueStatus::Ignored => "ignored",
        }
    }
}

/// An existing issue as the writer finds it (locked) before adding events.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueState {
    pub issue_id: i64,
    pub status: IssueStatus,
    pub event_count: i64,
    /// `resolved_in_release`, when the issue was resolved "in a release".
    pub resolved_in_release: Option<String>,
    /// When that release was first seen; `None` when it never was (or is unset).
    pub resolved_release_first_seen: Option<DateTime<Utc>>,
    /// Whether `ignore_until` has passed (by the database's clock).
    pub ignore_expired: bool,
    /// `ignore_until_count`: the event count that ends the ignoring.
    pub ignore_until_count: Option<i64>,
}

/// What one batch brings to an issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrivals<'a> {
    /// Events added.
    pub events: i64,
    /// Of the events' releases, the one first seen last, with when it was.
    pub newest_release: Option<(&'a str, DateTime<Utc>)>,
    /// The newest event's id, for the activity's detail.
    pub event_id: &'a str,
}

/// A status change caused by new events, recorded as an `issue_activity` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// A resolved issue happened again.
    Regression,
    /// An ignored issue's time or count ran out.
    Unignored,
}

impl Transition {
    /// The `issue_activity.kind` of the change.
    pub fn kind(self) -> &'static str {
        match self {
            Transition::Regression => "regression",
            Transition::Unignored => "unignored",
        }
    }
}

/// The status change the arrivals cause, if any. The new status is always
/// unresolved.
pub fn transition(state: &IssueState, arrivals: &Arrivals<'_>) -> Option<Transition> {
    match state.status {
        IssueStatus::Unresolved => None,
        IssueStatus::Resolved => {
            if state.resolved_in_release.is_none() {
                return Some(Transition::Regression);
            }
            let (_, seen) = arrivals.newest_release?;
            // A release never seen before the one resolved in cannot be older.
            let newer = state
                .resolved_release_first_seen
                .is_none_or(|resolved| seen > resolved);
            newer.then_some(Transition::Regression)
        }
        IssueStatus::Ignored => {
            let count_reached = state
                .ignore_until_count
                .is_some_and(|until| state.event_count + arrivals.events >= until);
            (state.ignore_expired || count_reached).then_some(Transition::Unignored)
        }
    }
}

/// The `issue_activity.detail` of a transition.
pub fn detail(state: &IssueState, arrivals: &Arrivals<'_>, transition: Transition) -> Value {
    match transition {
        Transition::Regression => json!({
            "event_id": arrivals.event_id,
            "release": arrivals.newest_release.map(|(release, _)| release),
            "resolved_in_release": state.resolved_in_release,
        }),
        Transition::Unignored => json!({
            "event_id": arrivals.event_id,
            "reason": if state.ignore_expired { "ignore_until" } else { "ignore_until_count" },
            "event_count": state.event_count + arrivals.events,
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).single().unwrap()
    }

    fn state(status: IssueStatus) -> IssueState {
        IssueState {
            issue_id: 1,
            status,
            event_count: 10,
            resolved_in_release: None,
            resolved_release_first_seen: None,
            ignore_expired: false,
            ignore_until_count: None,
        }
    }

    fn arrivals(release: Option<(&str, DateTime<Utc>)>) -> Arrivals<'_> {
        Arrivals {
            events: 2,
            newest_release: release,
            event_id: "e1",
        }
    }

    #[test]
    fn unresolved_issues_stay_unresolved() {
        let s = state(IssueStatus::Unresolved);
        assert_eq!(transition(&s, &arrivals(Some(("1.0", at(0))))), None);
    }

    #[test]
    fn a_resolved_issue_that_happens_again_regresses() {
        let s = state(IssueStatus::Resolved);
        assert_eq!(
            transition(&s, &arrivals(None)),
            Some(Transition::Regression)
        );
        let detail = detail(&s, &arrivals(None), Transition::Regression);
        assert_eq!(detail["event_id"], "e1");
    }

    #[test]
    fn resolved_in_a_release_reopens_only_for_a_later_release() {
        let mut s = state(IssueStatus::Resolved);
        s.resolved_in_release = Some("1.0".into());
        s.resolved_release_first_seen = Some(at(100));
        // The same release, an older one, or no release: still resolved.
        assert_eq!(transition(&s, &arrivals(Some(("1.0", at(100))))), None);
        assert_eq!(transition(&s, &arrivals(Some(("0.9", at(50))))), None);
        assert_eq!(transition(&s, &arrivals(None)), None);
        // A release first seen later.
        let later = arrivals(Some(("1.1", at(101))));
        assert_eq!(transition(&s, &later), Some(Transition::Regression));
        assert_eq!(detail(&s, &later, Transition::Regression)["release"], "1.1");
        // Resolved in a release never seen: any release is taken as newer.
        s.resolved_release_first_seen = None;
        assert_eq!(
            transition(&s, &arrivals(Some(("0.1", at(0))))),
            Some(Transition::Regression)
        );
    }

    #[test]
    fn ignored_issues_wake_up_when_their_time_or_count_is_up() {
        let mut s = state(IssueStatus::Ignored);
        // Ignored for good.
        assert_eq!(transition(&s, &arrivals(None)), None);
        s.ignore_until_count = Some(13);
        assert_eq!(transition(&s, &arrivals(None)), None, "10 + 2 < 13");
        s.ignore_until_count = Some(12);
        assert_eq!(transition(&s, &arrivals(None)), Some(Transition::Unignored));
        assert_eq!(
            detail(&s, &arrivals(None), Transition::Unignored)["reason"],
            "ignore_until_count"
        );
        s.ignore_until_count = None;
        s.ignore_expired = true;
        assert_eq!(transition(&s, &arrivals(None)), Some(Transition::Unignored));
    }

    #[test]
    fn statuses_round_trip_their_names() {
        for status in [
            IssueStatus::Unresolved,
            IssueStatus::Resolved,
            IssueStatus::Ignored,
        ] {
            assert_eq!(IssueStatus::from_name(status.as_str()), status);
        }
    }
}
