//! The Metrics page (not built yet).

use leptos::prelude::*;

use crate::components::status::NotBuiltYet;

/// `/metrics`: explore metrics.
#[component]
pub fn MetricsPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Metrics"
            description="Browse and chart metrics from Prometheus remote_write, scraping and OpenTelemetry by name and labels, aggregated per minute or hour over the selected time range."
        />
    }
}
