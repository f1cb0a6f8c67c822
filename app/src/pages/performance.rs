//! The Performance page (not built yet).

use leptos::prelude::*;

use crate::components::status::NotBuiltYet;

/// `/performance`: traces and latency.
#[component]
pub fn PerformancePage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Performance"
            description="Request latency percentiles, throughput and error rate per endpoint from OpenTelemetry traces and Sentry transactions, with a waterfall view of each trace's spans."
        />
    }
}
