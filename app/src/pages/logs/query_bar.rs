//! The query bar of the Logs page: the input with field and value completion, Run,
//! the recent-queries menu, the syntax help, and the server's syntax error with the
//! character at fault highlighted.

use leptos::prelude::*;

use super::query_text::{apply_suggestion, suggestions, QueryError, Suggestion};
use crate::api::LogField;

/// Which popover is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Menu {
    Closed,
    History,
    Help,
}

/// The syntax at a glance, from docs/logs-query.md: (what you write, what it does).
const SYNTAX: [(&str, &str); 14] = [
    ("timeout", "message contains the word, in any case"),
    ("\"connection reset\"", "message contains the exact phrase"),
    (
        "/took [0-9]+ ms/",
        "message matches a regular expression (/…/i ignores case)",
    ),
    ("service:checkout", "a field is exactly this value"),
    ("service:!=checkout", "a field is anything but this value"),
    ("host:web-*", "a field starts with web-"),
    ("trace_id:*", "the field is present"),
    ("level:>=warn", "warn, error or fatal (also >, <, <=)"),
    (
        "http.status:>=500",
        "an attribute, by dotted path, compared as a number",
    ),
    ("a b  ·  a OR b", "both (AND is implied)  ·  either"),
    ("-level:debug  ·  NOT x", "lines that don't match"),
    ("(a OR b) c", "parentheses group terms"),
    (
        "| stats count() by service every 5m",
        "count, sum, avg, min, max, p50…p99 per group and time bucket",
    ),
    (
        "| fields ts, message | sort -ts | limit 50",
        "pick columns, sort, keep the first rows",
    ),
];

/// Queries the help offers to run.
const EXAMPLES: [&str; 4] = [
    "service:checkout level:>=warn \"payment failed\"",
    "level:>=error | stats count() by service | sort -count | limit 10",
    "| stats count() by level every 5m",
    "http.status:>=500 | stats count() by http.route every 1h",
];

/// Characters before UTF-16 offset `units` of `text` (the browser counts the cursor
/// in UTF-16 code units, the query functions in characters).
#[cfg_attr(
    all(not(feature = "hydrate"), not(test)),
    expect(dead_code, reason = "the cursor is read in the browser")
)]
fn chars_before(text: &str, units: u32) -> usize {
    let mut seen = 0;
    text.chars()
        .take_while(|c| {
            seen += c.len_utf16() as u32;
            seen <= units
        })
        .count()
}

/// The UTF-16 offset of character `chars` of `text`.
#[cfg_attr(
    all(not(feature = "hydrate"), not(test)),
    expect(dead_code, reason = "the cursor is set in the browser")
)]
fn utf16_offset(text: &str, chars: usize) -> u32 {
    text.chars().take(chars).map(|c| c.len_utf16() as u32).sum()
}

/// The query input with Run, history and help; errors below it.
#[component]
pub fn QueryBar(
    /// The text being edited.
    text: RwSignal<String>,
    /// Field names and frequent values, for completion.
    #[prop(into)]
    fields: Signal<Vec<LogField>>,
    /// Recent queries, newest first.
    #[prop(into)]
    history: Signal<Vec<String>>,
    /// The server's complaint about the last query run, if any.
    #[prop(into)]
    error: Signal<Option<QueryError>>,
    /// The query the error is about.
    #[prop(into)]
    ran: Signal<String>,
    /// Runs a query.
    on_run: Callback<String>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let cursor = RwSignal::new(0_usize);
    let suggesting = RwSignal::new(false);
    let active = RwSignal::new(None::<usize>);
    let menu = RwSignal::new(Menu::Closed);

    let found = Memo::new(move |_| {
        if !suggesting.get() {
            return Vec::new();
        }
        let at = cursor.get();
        text.with(|t| fields.with(|f| suggestions(t, at, f)))
    });

    // Where the cursor is, in characters; the end of the text outside the browser.
    let read_cursor = move || {
        let end = text.with_untracked(|t| t.chars().count());
        #[cfg(feature = "hydrate")]
        if let Some(Ok(Some(units))) = input.get_untracked().map(|i| i.selection_start()) {
            return text.with_untracked(|t| chars_before(t, units));
        }
        end
    };

    let accept = move |suggestion: &Suggestion| {
        let (next, at) =
            text.with_untracked(|t| apply_suggestion(t, cursor.get_untracked(), suggestion));
        #[cfg(feature = "hydrate")]
        if let Some(element) = input.get_untracked() {
            // Set the value now, so the cursor can be placed in it right away.
            element.set_value(&next);
            let offset = utf16_offset(&next, at);
            let _ = element.set_selection_range(offset, offset);
            let _ = element.focus();
        }
        text.set(next);
        cursor.set(at);
        active.set(None);
        // After a field name, go on to suggest its values.
        suggesting.set(suggestion.kind == "field");
    };

    let run = move |query: String| {
        suggesting.set(false);
        menu.set(Menu::Closed);
        on_run.run(query);
    };

    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = found.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" | "ArrowUp" if count > 0 => {
                ev.prevent_default();
                let down = ev.key() == "ArrowDown";
                active.update(|a| {
                    *a = Some(match (*a, down) {
                        (None, true) => 0,
                        (None, false) => count - 1,
                        (Some(i), true) => (i + 1) % count,
                        (Some(i), false) => (i + count - 1) % count,
                    });
                });
            }
            "Enter" | "Tab" if count > 0 => {
                let choice = match (ev.key().as_str(), active.get_untracked()) {
                    (_, Some(i)) => Some(i),
                    ("Tab", None) => Some(0),
                    _ => None,
                };
                if let Some(suggestion) =
                    choice.and_then(|i| found.with_untracked(|f| f.get(i).cloned()))
                {
                    ev.prevent_default();
                    accept(&suggestion);
                }
            }
            "Escape" => {
                suggesting.set(false);
                menu.set(Menu::Closed);
            }
            _ => {}
        }
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run(text.get_untracked());
    };

    let toggle = move |which: Menu| {
        move |_| menu.update(|m| *m = if *m == which { Menu::Closed } else { which })
    };

    let suggestion_list = move || {
        let items = found.get();
        (!items.is_empty()).then(|| {
            let rows = items
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    let chosen = s.clone();
                    view! {
                        <li
                            id=format!("logs-suggestion-{i}")
                            role="option"
                            class="logs-suggestion"
                            class:active=move || active.get() == Some(i)
                            aria-selected=move || (active.get() == Some(i)).to_string()
                            // mousedown, not click: it comes before the input loses focus.
                            on:mousedown=move |ev| {
                                ev.prevent_default();
                                accept(&chosen);
                            }
                        >
                            <span class="logs-suggestion-label">{s.label}</span>
                            <span class="muted">{s.kind}</span>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <ul id="logs-suggestions" class="logs-popover logs-suggestions" role="listbox">
                    {rows}
                </ul>
            }
        })
    };

    let history_menu = move || {
        (menu.get() == Menu::History).then(|| {
            let entries = history.get();
            let body = if entries.is_empty() {
                view! { <p class="muted logs-menu-empty">"Queries you run appear here."</p> }
                    .into_any()
            } else {
                entries
                    .into_iter()
                    .map(|q| {
                        let chosen = q.clone();
                        view! {
                            <li>
                                <button
                                    type="button"
                                    class="logs-menu-item"
                                    on:click=move |_| {
                                        text.set(chosen.clone());
                                        run(chosen.clone());
                                    }
                                >
                                    {q}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any()
            };
            view! {
                <div class="logs-popover logs-menu" role="menu" aria-label="Recent queries">
                    <ul>{body}</ul>
                </div>
            }
            .into_any()
        })
    };

    let help = move || {
        (menu.get() == Menu::Help).then(|| {
            let rows = SYNTAX
                .iter()
                .map(|(syntax, meaning)| {
                    view! {
                        <tr>
                            <td><code>{*syntax}</code></td>
                            <td>{*meaning}</td>
                        </tr>
                    }
                })
                .collect_view();
            let examples = EXAMPLES
                .iter()
                .map(|example| {
                    view! {
                        <li>
                            <button
                                type="button"
                                class="logs-menu-item"
                                on:click=move |_| {
                                    text.set((*example).to_owned());
                                    run((*example).to_owned());
                                }
                            >
                                <code>{*example}</code>
                            </button>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div id="logs-help" class="logs-popover logs-help" role="dialog" aria-label="Query syntax">
                    <table class="logs-help-table">
                        <tbody>{rows}</tbody>
                    </table>
                    <p class="muted">"Examples (click to run):"</p>
                    <ul class="logs-examples">{examples}</ul>
                </div>
            }
            .into_any()
        })
    };

    let error_view = move || {
        error.get().map(|e| {
            let query = ran.get();
            let echo = e.split(&query).map(|(before, at, after)| {
                view! {
                    <code class="query-echo">
                        {before}<mark class="query-error-mark">{at}</mark>{after}
                    </code>
                }
            });
            let place = e
                .position
                .map(|p| format!("At character {}: ", p + 1))
                .unwrap_or_default();
            view! {
                <div class="query-error" role="alert">
                    {echo}
                    <span class="query-error-message">{place}{e.message}</span>
                </div>
            }
        })
    };

    let input_view = view! {
                <input
            id="logs-query"
            class="input logs-query-input"
            type="text"
            node_ref=input
            autocomplete="off"
            spellcheck="false"
            aria-label="Query"
            placeholder="service:checkout level:>=warn \"payment failed\" | stats count() by host"
            role="combobox"
            aria-autocomplete="list"
            aria-controls="logs-suggestions"
            aria-expanded=move || (!found.with(Vec::is_empty)).to_string()
            aria-activedescendant=move || active.get().map(|i| format!("logs-suggestion-{i}"))
            aria-invalid=move || error.with(Option::is_some).to_string()
            prop:value=move || text.get()
            on:input=move |ev| {
                text.set(event_target_value(&ev));
                cursor.set(read_cursor());
                active.set(None);
                suggesting.set(true);
            }
            on:keydown=on_keydown
            on:keyup=move |ev: leptos::ev::KeyboardEvent| {
                if matches!(ev.key().as_str(), "ArrowLeft" | "ArrowRight" | "Home" | "End") {
                    cursor.set(read_cursor());
                }
            }
            on:click=move |_| cursor.set(read_cursor())
            on:blur=move |_| suggesting.set(false)
        />
    }
    .into_any();

    view! {
        <form class="logs-query-form" on:submit=on_submit>
            <div class="logs-query-field">
                {input_view}
                {suggestion_list}
            </div>
            <button id="logs-run" class="button" type="submit">"Run"</button>
            <div class="logs-menu-anchor">
                <button
                    id="logs-history"
                    class="button secondary"
                    type="button"
                    aria-haspopup="menu"
                    aria-expanded=move || (menu.get() == Menu::History).to_string()
                    on:click=toggle(Menu::History)
                >
                    "History ▾"
                </button>
                {history_menu}
            </div>
            <div class="logs-menu-anchor">
                <button
                    id="logs-help-toggle"
                    class="button secondary"
                    type="button"
                    aria-expanded=move || (menu.get() == Menu::Help).to_string()
                    aria-controls="logs-help"
                    on:click=toggle(Menu::Help)
                >
                    "Syntax ?"
                </button>
                {help}
            </div>
        </form>
        {error_view}
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_offsets_convert_between_utf16_and_characters() {
        let text = "é😀a";
        assert_eq!(chars_before(text, 0), 0);
        assert_eq!(chars_before(text, 1), 1);
        assert_eq!(chars_before(text, 3), 2);
        assert_eq!(chars_before(text, 4), 3);
        assert_eq!(utf16_offset(text, 2), 3);
    }
}
