//! The page for paths no route matches.

use leptos::prelude::*;

/// Any unknown path.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <leptos_meta::Title text="Page not found"/>
        <main class="standalone">
            <div class="card standalone-card">
                <h1>"Page not found"</h1>
                <p>"There is no page at this address."</p>
                <a class="button" href="/">"Go to the overview"</a>
            </div>
        </main>
    }
}
