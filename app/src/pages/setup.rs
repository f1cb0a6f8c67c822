//! `/setup`: the one-time page that creates the first admin.

use leptos::prelude::*;

use crate::api::{client, LoginRequest};
use crate::browser::assign_location;
use crate::components::status::ErrorText;

/// The setup form (`#setup-email`, `#setup-password`, `#setup-confirm`,
/// `#setup-submit`), with a notice when Sightline already has users.
#[component]
pub fn SetupPage() -> impl IntoView {
    let status = LocalResource::new(client::setup_status);
    let email = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let confirm = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (Some(email), Some(password), Some(confirm)) = (
            email.get_untracked(),
            password.get_untracked(),
            confirm.get_untracked(),
        ) else {
            return;
        };
        let request = LoginRequest {
            email: email.value().trim().to_owned(),
            password: password.value(),
        };
        if request.email.is_empty() || request.password.is_empty() {
            error.set(Some("Enter an email and a password.".to_owned()));
            return;
        }
        if request.password != confirm.value() {
            error.set(Some("The two passwords differ.".to_owned()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match client::setup(&request).await {
                Ok(_) => assign_location("/"),
                Err(e) => {
                    error.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };

    // The form is always rendered (not behind the status request) so it is usable as
    // soon as the page is; the status only adds a notice.
    let notice = move || {
        status.get().and_then(|answer| match answer {
            Ok(s) if !s.needs_setup => Some(
                view! {
                    <div class="notice">
                        "Sightline is already set up. "
                        <a href="/login">"Log in"</a>
                        " instead."
                    </div>
                }
                .into_any(),
            ),
            Ok(_) => None,
            Err(e) => Some(view! { <div class="error">{e.to_string()}</div> }.into_any()),
        })
    };

    view! {
        <leptos_meta::Title text="Set up"/>
        <main class="standalone">
            <form class="card standalone-card" method="post" on:submit=submit>
                <div class="brand standalone-brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "Sightline"
                </div>
                <h1>"Create the first admin"</h1>
                <p class="muted">
                    "This account manages projects, keys, users and tokens. The page works once: afterwards, admins add users from Settings."
                </p>
                <Suspense fallback=|| ()>{notice}</Suspense>
                <label class="field">
                    <span>"Email"</span>
                    <input
                        id="setup-email"
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
                        id="setup-password"
                        class="input"
                        type="password"
                        name="password"
                        autocomplete="new-password"
                        required
                        node_ref=password
                    />
                </label>
                <label class="field">
                    <span>"Confirm password"</span>
                    <input
                        id="setup-confirm"
                        class="input"
                        type="password"
                        name="confirm"
                        autocomplete="new-password"
                        required
                        node_ref=confirm
                    />
                </label>
                <ErrorText message=error/>
                <button id="setup-submit" class="button" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Creating…" } else { "Create admin" }}
                </button>
            </form>
        </main>
    }
    .into_any()
}
