//! `/`: the Overview page: what Sightline holds now and how busy it is.

use leptos::prelude::*;

use crate::api::{client, Overview};
use crate::components::panel::{Panel, PanelBody, PanelState};
use crate::components::status::{ErrorBox, Loading};

/// One figure card.
#[component]
fn StatCard(
    /// What is counted.
    label: &'static str,
    /// The count.
    value: i64,
) -> impl IntoView {
    view! {
        <div class="card stat">
            <div class="stat-value">{value}</div>
            <div class="stat-label">{label}</div>
        </div>
    }
    .into_any()
}

/// The loaded overview: four counts and the requests-per-minute chart.
#[component]
fn OverviewBody(overview: Overview) -> impl IntoView {
    let requests = PanelState::Ready(PanelBody::lines(vec![overview.requests_per_minute]));
    view! {
        <div class="stats">
            <StatCard label="Projects" value=overview.projects/>
            <StatCard label="Users" value=overview.users/>
            <StatCard label="Active ingest keys" value=overview.active_keys/>
            <StatCard label="Active API tokens" value=overview.active_tokens/>
        </div>
        <Panel
            title="Requests per minute"
            detail="HTTP requests served by this Sightline instance over the last 60 minutes."
            label="Requests per minute, last 60 minutes"
            state=Signal::stored(requests)
        />
    }
    .into_any()
}

/// `/`: counts and requests per minute, from `GET /api/v1/overview`.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = LocalResource::new(client::overview);
    view! {
        <header class="page-header">
            <h1>"Overview"</h1>
        </header>
        <Suspense fallback=|| view! { <Loading what="Loading the overview…"/> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! { <OverviewBody overview=o/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}
