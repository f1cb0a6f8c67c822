//! The SQL of errors, over any executor. [`batch`] stores a batch of events
//! (the writer's one transaction); [`issues`], [`events`] and [`releases`] read
//! what the API and the pages show, and [`issues`] also changes an issue's
//! status for triage.

pub mod batch;
pub mod events;
pub mod issues;
pub mod releases;

/// SQL turning a `uuid` column into the API's 32-hex form.
const EVENT_ID_HEX: &str = "replace(event_id::text, '-', '')";
