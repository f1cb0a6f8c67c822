//! The Dashboards page (not built yet).

use leptos::prelude::*;

use crate::components::status::NotBuiltYet;

/// `/dashboards`: custom dashboards.
#[component]
pub fn DashboardsPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Dashboards"
            description="Dashboards of charts and KPI panels built from logs, errors, metrics and events, editable by editors and shareable through read-only links."
        />
    }
}
