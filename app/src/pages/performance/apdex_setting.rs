//! The project's Apdex threshold T (satisfied up to T, tolerating up to 4T),
//! shown above the endpoints table; admins can change it
//! (`PUT .../performance/settings`), and a refused change is shown in the
//! server's words.

use leptos::prelude::*;

use crate::api::{client, PerformanceSettings, Role};
use crate::components::status::ErrorText;
use crate::session::use_session;

/// What the threshold means, for its tooltip.
const MEANING: &str = "Apdex counts a transaction as satisfied up to T, tolerating up to 4T, frustrated beyond: (satisfied + tolerating / 2) / count.";

/// Reads the threshold typed by the admin: a whole number of milliseconds
/// (range checks are the server's).
pub fn parse_threshold(text: &str) -> Result<i32, String> {
    let text = text.trim().trim_end_matches("ms").trim();
    text.parse::<i32>()
        .map_err(|_| format!("`{text}` is not a whole number of milliseconds"))
}

/// The threshold with, for admins, a form to change it.
#[component]
pub fn ApdexSetting(
    /// The project's slug.
    project: StoredValue<String>,
    /// Called after a change was saved (the figures depend on T).
    on_saved: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let is_admin = move || matches!(session.me.get(), Some(Ok(me)) if me.role == Role::Admin);
    let settings = LocalResource::new(move || {
        let slug = project.get_value();
        async move { client::performance_settings(&slug).await }
    });
    let editing = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let current = move || {
        settings
            .get()
            .and_then(Result::ok)
            .map(|s| s.apdex_threshold_ms)
    };
    let start = move |_| {
        text.set(current().map(|t| t.to_string()).unwrap_or_default());
        error.set(None);
        editing.set(true);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let threshold = match parse_threshold(&text.get_untracked()) {
            Ok(t) => t,
            Err(why) => {
                error.set(Some(why));
                return;
            }
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let change = PerformanceSettings {
                apdex_threshold_ms: threshold,
            };
            let answer = client::update_performance_settings(&project.get_value(), &change).await;
            busy.set(false);
            match answer {
                Ok(_) => {
                    editing.set(false);
                    settings.refetch();
                    on_saved.run(());
                }
                Err(e) => error.set(Some(format!("The threshold was not changed: {e}"))),
            }
        });
    };

    let shown = move || match settings.get() {
        None => "…".to_owned(),
        Some(Ok(s)) => format!("{} ms", s.apdex_threshold_ms),
        Some(Err(_)) => "unknown".to_owned(),
    };
    let load_error = move || match settings.get() {
        Some(Err(e)) => Some(format!("The Apdex threshold could not be read: {e}")),
        _ => None,
    };
    let edit_button = move || {
        (is_admin() && !editing.get()).then(|| {
            view! {
                <button id="apdex-edit" type="button" class="button secondary small" on:click=start>
                    "Change"
                </button>
            }
        })
    };
    let form = move || {
        editing.get().then(|| {
            view! {
                <form class="apdex-form" on:submit=save>
                    <label class="apdex-field">
                        <input
                            id="apdex-threshold"
                            class="input"
                            aria-label="Apdex threshold in milliseconds"
                            inputmode="numeric"
                            autocomplete="off"
                            bind:value=text
                        />
                        <span class="muted">"ms"</span>
                    </label>
                    <button id="apdex-save" type="submit" class="button small" disabled=move || busy.get()>
                        {move || if busy.get() { "Saving…" } else { "Save" }}
                    </button>
                    <button
                        type="button"
                        class="button secondary small"
                        on:click=move |_| {
                            editing.set(false);
                            error.set(None);
                        }
                    >
                        "Cancel"
                    </button>
                </form>
            }
        })
    };
    view! {
        <div class="apdex-setting">
            <span class="apdex-label" title=MEANING>
                "Apdex threshold T: "
                <strong id="apdex-threshold-value">{shown}</strong>
            </span>
            {edit_button}
            {form}
        </div>
        <ErrorText message=Signal::derive(move || error.get().or_else(load_error))/>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_whole_milliseconds() {
        assert_eq!(parse_threshold(" 300 "), Ok(300));
        assert_eq!(parse_threshold("250ms"), Ok(250));
        assert_eq!(
            parse_threshold("0"),
            Ok(0),
            "the server says what is allowed"
        );
        assert!(parse_threshold("fast").is_err());
        assert!(parse_threshold("1.5").is_err());
    }
}
