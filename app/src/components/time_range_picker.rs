//! The global time-range picker: presets (`?range=1h`) or a custom interval of two
//! local date-times (`?from=...&to=...`, stored as UTC RFC 3339).

use leptos::prelude::*;

use crate::local_time::{from_input_value, now, to_input_value};
use crate::url_state::{use_query, use_set_query, Preset, TimeRange};

/// The `<select>` value standing for a custom range.
const CUSTOM: &str = "custom";

/// Preset select plus, for a custom range, two `datetime-local` inputs and Apply.
#[component]
pub fn TimeRangePicker() -> impl IntoView {
    let query = use_query();
    let set_query = use_set_query();
    let range = Memo::new(move |_| query.with(TimeRange::from_query));

    // The custom inputs are open when the URL holds a custom range, or when the user
    // picked "Custom…" and has not applied it yet.
    let editing_custom = RwSignal::new(false);
    let from_text = RwSignal::new(String::new());
    let to_text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let custom_open =
        move || editing_custom.get() || matches!(range.get(), TimeRange::Between { .. });

    // Fill the inputs from the URL in the browser only: they show local time, which
    // the server cannot know.
    Effect::new(move |_| {
        if let TimeRange::Between { from, to } = range.get() {
            from_text.set(to_input_value(from));
            to_text.set(to_input_value(to));
        }
    });

    let on_select = {
        let set_query = set_query.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            error.set(None);
            if value == CUSTOM {
                let (from, to) = range.get_untracked().bounds(now());
                from_text.set(to_input_value(from));
                to_text.set(to_input_value(to));
                editing_custom.set(true);
            } else if let Some(preset) = Preset::from_query(&value) {
                editing_custom.set(false);
                let mut q = query.get_untracked();
                TimeRange::Last(preset).write_query(&mut q);
                set_query(q);
            }
        }
    };

    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let from = from_input_value(&from_text.get_untracked());
        let to = from_input_value(&to_text.get_untracked());
        match (from, to) {
            (Some(from), Some(to)) if from < to => {
                error.set(None);
                editing_custom.set(false);
                let mut q = query.get_untracked();
                TimeRange::Between { from, to }.write_query(&mut q);
                set_query(q);
            }
            (Some(_), Some(_)) => error.set(Some("The start must be before the end.".into())),
            _ => error.set(Some("Enter both a start and an end.".into())),
        }
    };

    let is_selected = move |value: &'static str| {
        move || match range.get() {
            _ if editing_custom.get() => value == CUSTOM,
            TimeRange::Between { .. } => value == CUSTOM,
            TimeRange::Last(preset) => preset.as_query() == value,
        }
    };
    let options = Preset::ALL
        .into_iter()
        .map(|p| view! { <option value=p.as_query() selected=is_selected(p.as_query()) prop:selected=is_selected(p.as_query())>{p.label()}</option> })
        .collect_view();

    view! {
        <div class="time-range">
            <label for="time-range-select" class="topbar-label">"Time range"</label>
            <select id="time-range-select" class="input" on:change=on_select>
                {options}
                <option value=CUSTOM selected=is_selected(CUSTOM) prop:selected=is_selected(CUSTOM)>"Custom…"</option>
            </select>
            <Show when=custom_open>
                <form class="time-range-custom" on:submit=apply.clone()>
                    <input
                        type="datetime-local"
                        class="input"
                        aria-label="From"
                        id="time-range-from"
                        bind:value=from_text
                    />
                    <span class="muted">"to"</span>
                    <input
                        type="datetime-local"
                        class="input"
                        aria-label="To"
                        id="time-range-to"
                        bind:value=to_text
                    />
                    <button type="submit" class="button small">"Apply"</button>
                </form>
            </Show>
            {move || error.get().map(|e| view! { <span class="error inline">{e}</span> })}
        </div>
    }
    .into_any()
}
