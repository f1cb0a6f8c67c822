//! The Logs page (not built yet).

use leptos::prelude::*;

use crate::components::status::NotBuiltYet;

/// `/logs`: search and tail logs.
#[component]
pub fn LogsPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Logs"
            description="Search, filter and live-tail the logs your services send (native JSON, Loki, Elasticsearch bulk, OpenTelemetry), by project, service, level and time range, with a link from each line to its trace."
        />
    }
}
