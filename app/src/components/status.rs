//! The states a piece of loaded data can be in besides "here it is": loading, failed,
//! empty, and "this page is not built yet".

use leptos::prelude::*;

use crate::api::client::ApiError;

/// A spinner with a short text, the fallback of every `<Suspense>`.
#[component]
pub fn Loading(
    /// What is loading, e.g. "Loading projects…".
    #[prop(into, default = "Loading…".into())]
    what: String,
) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{what}</span>
        </div>
    }
}

/// An API error in words: the server's message, or why Sightline could not be reached.
#[component]
pub fn ErrorBox(
    /// The error to show.
    error: ApiError,
) -> impl IntoView {
    view! {
        <div class="error" role="alert">
            {error.to_string()}
        </div>
    }
}

/// A message for an optional error signal (form submissions): nothing when `None`.
#[component]
pub fn ErrorText(
    /// The current error message, if any.
    #[prop(into)]
    message: Signal<Option<String>>,
) -> impl IntoView {
    move || {
        message
            .get()
            .map(|text| view! { <div class="error" role="alert">{text}</div> })
    }
}

/// What an empty list means and, where there is one, what to do about it.
#[component]
pub fn EmptyState(
    /// The headline, e.g. "No projects yet".
    #[prop(into)]
    title: String,
    /// Optional guidance below it.
    #[prop(optional, into)]
    detail: Option<String>,
) -> impl IntoView {
    view! {
        <div class="empty">
            <p class="empty-title">{title}</p>
            {detail.map(|text| view! { <p>{text}</p> })}
        </div>
    }
}

/// The honest placeholder of a page whose feature has not been built yet.
#[component]
pub fn NotBuiltYet(
    /// The page's name, used as its `<h1>`.
    title: &'static str,
    /// One or two sentences on what the page will do.
    description: &'static str,
) -> impl IntoView {
    view! {
        <header class="page-header">
            <h1>{title}</h1>
        </header>
        <div class="card empty not-built">
            <p>{description}</p>
            <p class="badge">"Not built yet"</p>
        </div>
    }
}
