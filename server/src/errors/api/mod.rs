//! The errors read and triage API: issues of a project with counts in a time
//! range ([`issues`]), status changes ([`triage`]), the events of an issue and one
//! event in full ([`events`]), and release health ([`releases`]); their SQL is
//! [`super::store`].

mod events;
mod issues;
mod releases;
mod triage;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    issues::router()
        .merge(triage::router())
        .merge(events::router())
        .merge(releases::router())
}

/// An event id in the API's form (32 lowercase hex digits) as a UUID.
fn parse_event_id(id: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::try_parse(id.trim()).ok()
}
