//! The Analytics page (not built yet).

use leptos::prelude::*;

use crate::components::status::NotBuiltYet;

/// `/analytics`: product analytics.
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    view! {
        <NotBuiltYet
            title="Analytics"
            description="Product analytics from PostHog-compatible clients: page views, unique visitors, DAU/WAU/MAU, funnels and retention, broken down by path, referrer, browser and country."
        />
    }
}
