//! Errors: events as Sentry SDKs send them, normalised into [`event::ErrorEvent`]
//! and grouped into issues by [`fingerprint`], with the message handling both
//! share in [`message`]; stored by one batch writer ([`writer`], with its SQL in
//! [`store`] and the issue workflow in [`workflow`]); release health from
//! session updates ([`sessions`]); read and triaged through [`api`].

pub mod api;
pub mod event;
mod exception;
pub mod fingerprint;
pub mod message;
pub mod search;
pub mod sessions;
pub mod source;
pub mod store;
pub mod workflow;
pub mod writer;

use crate::pipeline::partitions::{PartitionedTable, Period};

/// `error_event`, as [`crate::pipeline::partitions`] keeps it: day partitions
/// kept `retention_days`, with the hourly issue counts and the ids seen for
/// deduplication ([`crate::pipeline::dedup`]). Issues outlive their events.
pub fn partitions(retention_days: u64) -> PartitionedTable {
    PartitionedTable {
        table: "error_event",
        period: Period::Day,
        retention_days,
        cleanups: &[
            "delete from error_event_seen where ts < $1",
            "delete from issue_hour where hour < $1",
        ],
        closed_index: None,
    }
}

#[cfg(test)]
mod sdk_payloads;
