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
pub mod sessions;
pub mod store;
pub mod workflow;
pub mod writer;

#[cfg(test)]
mod sdk_payloads;
