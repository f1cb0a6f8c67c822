//! Following new lines as they are stored: [`LiveTail`] keeps a tail
//! ([`super::live`]) open while the reader wants one (on, not paused, and the
//! query lists lines rather than making a table) and hands each new line to
//! the list; [`LiveControls`] are its toggle, pause button, connection state
//! and skipped-lines notice in the results toolbar.

use leptos::prelude::*;

use super::live::{self, Skipped, TailHandlers, TailState};
use crate::api::{client, LogLine};

/// The live tail of the explorer. Cheap to copy: every field is a handle.
#[derive(Clone, Copy)]
pub struct LiveTail {
    /// Whether the reader turned live tail on.
    pub on: RwSignal<bool>,
    paused: RwSignal<bool>,
    state: RwSignal<TailState>,
    skipped: RwSignal<Skipped>,
}

impl LiveTail {
    /// Follows the lines of `project` matching `query` while wanted, calling
    /// `add_line` for each; a new query opens a new tail.
    pub fn follow(
        project: StoredValue<String>,
        query: Memo<String>,
        is_table: Memo<bool>,
        add_line: impl Fn(LogLine) + Clone + 'static,
    ) -> LiveTail {
        let live = LiveTail {
            on: RwSignal::new(false),
            paused: RwSignal::new(false),
            state: RwSignal::new(TailState::Connecting),
            skipped: RwSignal::new(Skipped::default()),
        };
        let tail = StoredValue::new_local(None::<live::Tail>);
        Effect::new(move |_| {
            let wanted = live.on.get() && !live.paused.get() && !is_table.get();
            let q = query.get();
            // Dropping the old tail closes its connection.
            tail.update_value(|t| *t = None);
            if wanted {
                let handlers = TailHandlers {
                    line: Box::new(add_line.clone()),
                    skipped: Box::new(move |s: Skipped| {
                        live.skipped.update(|total| {
                            total.batches += s.batches;
                            if s.reason.is_some() {
                                total.reason = s.reason;
                            }
                        });
                    }),
                    state: Box::new(move |state| live.state.set(state)),
                };
                let url = client::log_tail_url(&project.get_value(), &q);
                tail.set_value(live::open(&url, handlers));
            }
        });
        on_cleanup(move || {
            tail.try_update_value(|t| *t = None);
        });
        live
    }

    /// Turns live tail on or off, starting afresh.
    fn toggle(self) {
        self.skipped.set(Skipped::default());
        self.paused.set(false);
        self.on.update(|on| *on = !*on);
    }
}

/// The toggle, and while on: pause/resume, the connection's state, and how
/// many batches were skipped.
#[component]
pub fn LiveControls(
    live: LiveTail,
    /// Whether the query makes a table (live tail shows lines only).
    is_table: Memo<bool>,
) -> impl IntoView {
    let status = move || {
        live.on.get().then(|| {
            let (class, text) = match (live.paused.get(), live.state.get()) {
                (true, _) => ("logs-live-status muted", "Paused"),
                (false, TailState::Connecting) => ("logs-live-status muted", "Connecting…"),
                (false, TailState::Open) => {
                    ("logs-live-status live", "Live: new lines appear at the top")
                }
                (false, TailState::Closed) => (
                    "logs-live-status error inline",
                    "The server ended live tail",
                ),
            };
            view! {
                <button
                    id="logs-live-pause"
                    type="button"
                    class="button secondary small"
                    on:click=move |_| live.paused.update(|p| *p = !*p)
                >
                    {move || if live.paused.get() { "Resume" } else { "Pause" }}
                </button>
                <span class=class role="status">{text}</span>
            }
        })
    };
    let skipped_note = move || {
        let s = live.skipped.get();
        let text = match (s.batches, s.reason) {
            (0, None) => return None,
            (0, Some(reason)) => format!("Lines skipped: {reason}"),
            (n, _) => format!(
                "Lines skipped: {n} batch{} arrived faster than live tail could show",
                if n == 1 { "" } else { "es" }
            ),
        };
        Some(view! { <span class="badge logs-skipped">{text}</span> })
    };
    view! {
        <button
            id="logs-live"
            type="button"
            class="button secondary small"
            class:active=move || live.on.get()
            aria-pressed=move || live.on.get().to_string()
            disabled=move || is_table.get()
            title=move || {
                if is_table.get() {
                    "Live tail shows lines: remove the stages to use it"
                } else {
                    "Stream new lines as they arrive"
                }
            }
            on:click=move |_| live.toggle()
        >
            {move || if live.on.get() { "Stop live tail" } else { "Live tail" }}
        </button>
        {status}
        {skipped_note}
    }
}
