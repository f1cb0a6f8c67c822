//! A button that copies a text to the clipboard and says whether it worked.

use leptos::prelude::*;

use crate::browser;

/// "Copy" that turns into "Copied" (or "Copy failed") for a moment.
#[component]
pub fn CopyButton(
    /// The text to copy.
    #[prop(into)]
    text: String,
    /// The button's accessible label, e.g. "Copy DSN".
    #[prop(into, default = "Copy".into())]
    label: String,
) -> impl IntoView {
    let outcome = RwSignal::new(None::<bool>);
    let text = StoredValue::new(text);
    let copy = move |_| {
        let text = text.get_value();
        leptos::task::spawn_local(async move {
            outcome.set(Some(browser::copy_to_clipboard(text).await));
        });
    };
    view! {
        <button
            type="button"
            class="button secondary small"
            aria-label=label
            on:click=copy
            on:mouseleave=move |_| outcome.set(None)
        >
            {move || match outcome.get() {
                None => "Copy",
                Some(true) => "Copied",
                Some(false) => "Copy failed",
            }}
        </button>
    }
}
