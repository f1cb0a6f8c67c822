//! The Sentry protocol, decoded: envelopes ([`envelope`]) and the legacy store
//! body ([`store`]) as Sentry SDKs send them, where those SDKs put their key
//! ([`auth`]), and the non-event items inside envelopes ([`items`]). Nothing
//! here touches the database or HTTP; the handlers build on these functions.

pub mod auth;
pub mod envelope;
pub mod items;
pub mod store;
