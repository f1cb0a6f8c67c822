//! `/login`: email and password; afterwards a full navigation to `?next=` (or `/`).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{client, LoginRequest};
use crate::browser::{assign_location, is_local_path};
use crate::components::status::ErrorText;

/// The login form (`#login-email`, `#login-password`, `#login-submit`).
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let email = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (Some(email), Some(password)) = (email.get_untracked(), password.get_untracked())
        else {
            return;
        };
        let request = LoginRequest {
            email: email.value().trim().to_owned(),
            password: password.value(),
        };
        if request.email.is_empty() || request.password.is_empty() {
            error.set(Some("Enter your email and password.".to_owned()));
            return;
        }
        // Only follow `next` within this site, never to another origin.
        let next = query
            .with_untracked(|q| q.get("next"))
            .filter(|next| is_local_path(next))
            .unwrap_or_else(|| "/".to_owned());
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match client::login(&request).await {
                Ok(_) => assign_location(&next),
                Err(e) => {
                    error.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };

    view! {
        <leptos_meta::Title text="Log in"/>
        <main class="standalone">
            <form class="card standalone-card" method="post" on:submit=submit>
                <div class="brand standalone-brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Sightline"
                </div>
                <h1>"Log in"</h1>
                <label class="field">
                    <span>"Email"</span>
                    <input
                        id="login-email"
                        class="input"
                        type="email"
                        name="email"
                        autocomplete="username"
                        required
                        node_ref=email
                    />
                </label>
                <label class="field">
                    <span>"Password"</span>
                    <input
                        id="login-password"
                        class="input"
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        node_ref=password
                    />
                </label>
                <ErrorText message=error/>
                <button id="login-submit" class="button" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Logging in…" } else { "Log in" }}
                </button>
            </form>
        </main>
    }
    .into_any()
}
