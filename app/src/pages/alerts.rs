//! The Alerts page (not built yet).

use leptos::prelude::*;

use crate::components::status::NotBuiltYet;

/// `/alerts`: alert rules and notifications.
#[component]
pub fn AlertsPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Alerts"
            description="Alert rules on metrics, error rates and log queries, evaluated continuously, with silences and notifications to Slack, e-mail, PagerDuty or any webhook."
        />
    }
}
