//! Errors: events as Sentry SDKs send them, normalised into [`event::ErrorEvent`]
//! and grouped into issues by [`fingerprint`], with the message handling both
//! share in [`message`]. Pure functions over JSON: storage and HTTP build on them.

pub mod event;
mod exception;
pub mod fingerprint;
pub mod message;

#[cfg(test)]
mod sdk_payloads;
