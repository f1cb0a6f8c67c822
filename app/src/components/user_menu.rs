//! The top bar's user menu: who is logged in, their role, and Log out.

use leptos::prelude::*;

use crate::api::{client, Me};
use crate::browser;
use crate::session::use_session;

/// The caller's name for the menu: the user's email, or the API token's name.
fn display_name(me: &Me) -> String {
    match (&me.user, &me.token_name) {
        (Some(user), _) => user.email.clone(),
        (None, Some(token)) => format!("token {token}"),
        (None, None) => "unknown".to_owned(),
    }
}

/// Email, role badge and the `#logout` button.
#[component]
pub fn UserMenu() -> impl IntoView {
    let session = use_session();
    let error = RwSignal::new(None::<String>);

    let logout = move |_| {
        leptos::task::spawn_local(async move {
            match client::logout().await {
                Ok(()) => browser::assign_location("/login"),
                Err(e) => error.set(Some(format!("Log out failed: {e}"))),
            }
        });
    };

    view! {
        <div class="user-menu">
            <Suspense fallback=|| view! { <span class="muted">"…"</span> }>
                {move || Suspend::new(async move {
                    match session.me.await {
                        Ok(me) => {
                            view! {
                                <span class="user-email">{display_name(&me)}</span>
                                <span class="badge">{me.role.as_str()}</span>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <span class="error inline">{e.to_string()}</span> }.into_any(),
                    }
                })}
            </Suspense>
            <button id="logout" type="button" class="button secondary small" on:click=logout>
                "Log out"
            </button>
            {move || error.get().map(|e| view! { <span class="error inline">{e}</span> })}
        </div>
    }
    .into_any()
}
