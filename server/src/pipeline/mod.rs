//! The ground every kind of data stands on between its protocol adapters and
//! PostgreSQL, whatever the kind:
//!
//! - [`queue`]: the bounded queue with group commit and acknowledgement after
//!   commit, generic over a kind's [`queue::Batch`] (how to write a batch), with
//!   the metrics and the log line of every batch;
//! - [`clock`]: the clock-drift rule applied to every record as it is queued;
//! - [`dedup`]: ids of records already stored, for SDKs that send again, and
//!   [`ids`]: how those ids are spelt;
//! - [`partitions`]: partition upkeep and retention for the tables each domain
//!   declares;
//! - [`workers`]: every background task, started and stopped in one place.
//!
//! It imports only [`crate::db`]: domains use it, it knows none of them.

pub mod clock;
pub mod dedup;
pub mod ids;
pub mod partitions;
pub mod queue;
pub mod workers;
