//! The Errors page (not built yet).

use leptos::prelude::*;

use crate::components::status::NotBuiltYet;

/// `/errors`: triage error issues.
#[component]
pub fn ErrorsPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Errors"
            description="Errors from Sentry SDKs and OpenTelemetry grouped into issues by fingerprint, with counts, first and last seen, status, stack traces, and links to the logs and session of each occurrence."
        />
    }
}
