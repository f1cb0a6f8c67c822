//! The event's surroundings as tables: breadcrumbs (what happened before),
//! contexts (OS, runtime, browser, device, trace, ...), the HTTP request and the
//! user, all read by [`super::payload`].

use leptos::prelude::*;

use super::payload::{Breadcrumb, RequestPart};
use crate::components::level::LevelBadge;
use crate::local_time::{absolute_time, format_local};

/// Rows of `key: value`, in order.
#[component]
pub fn KeyValueTable(
    /// The rows.
    rows: Vec<(String, String)>,
    /// Values in a monospace font (variables, headers).
    #[prop(optional)]
    code: bool,
) -> impl IntoView {
    let rows = rows
        .into_iter()
        .map(|(key, value)| {
            let value = if code {
                view! { <code>{value}</code> }.into_any()
            } else {
                view! { <span>{value}</span> }.into_any()
            };
            view! {
                <tr>
                    <th scope="row">{key}</th>
                    <td>{value}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table kv-table">
            <tbody>{rows}</tbody>
        </table>
    }
}

/// A context's name as a heading: `os` is "OS", `runtime` "Runtime".
pub fn context_title(name: &str) -> String {
    match name {
        "os" => "OS".to_owned(),
        "gpu" => "GPU".to_owned(),
        "app" => "App".to_owned(),
        other => {
            let mut chars = other.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    }
}

/// Breadcrumbs shown before "Show all": the last ones before the error, as
/// Sentry shows them.
pub const COLLAPSED_BREADCRUMBS: usize = 10;

/// The breadcrumbs, oldest first, the last one just before the error: the last
/// [`COLLAPSED_BREADCRUMBS`], with the older ones a click away.
#[component]
pub fn Breadcrumbs(
    /// Oldest first.
    crumbs: Vec<Breadcrumb>,
) -> impl IntoView {
    let total = crumbs.len();
    let older = total.saturating_sub(COLLAPSED_BREADCRUMBS);
    let all = RwSignal::new(older == 0);
    let crumbs = StoredValue::new(crumbs);
    let rows = move || {
        let skip = if all.get() { 0 } else { older };
        crumbs.with_value(|crumbs| {
            crumbs
                .iter()
                .skip(skip)
                .cloned()
                .map(breadcrumb_row)
                .collect_view()
        })
    };
    view! {
        <Show when=move || !all.get()>
            <button type="button" id="breadcrumbs-show-all" class="button secondary small breadcrumbs-more"
                on:click=move |_| all.set(true)>
                {format!("Show all {total} breadcrumbs ({older} older)")}
            </button>
        </Show>
        <table class="table breadcrumbs">
            <thead>
                <tr>
                    <th scope="col">"Time"</th>
                    <th scope="col">"Category"</th>
                    <th scope="col">"Level"</th>
                    <th scope="col">"Message and data"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn breadcrumb_row(crumb: Breadcrumb) -> impl IntoView {
    let time = crumb.timestamp.map(|t| {
        let ms = t.timestamp_millis();
        view! {
            <time title=absolute_time(ms)>{format_local(ms, "%H:%M:%S%.3f")}</time>
        }
    });
    let what = crumb
        .category
        .clone()
        .or(crumb.kind.clone())
        .unwrap_or_else(|| "default".to_owned());
    let data = (!crumb.data.is_empty()).then(|| {
        let text = crumb
            .data
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        view! { <div class="breadcrumb-data">{text}</div> }
    });
    view! {
        <tr class="breadcrumb">
            <td class="breadcrumb-time">{time}</td>
            <td class="breadcrumb-category"><code>{what}</code></td>
            <td class="breadcrumb-level"><LevelBadge level=crumb.level/></td>
            <td class="breadcrumb-message">
                {crumb.message.map(|m| view! { <div>{m}</div> })}
                {data}
            </td>
        </tr>
    }
}

/// Each context as a small titled table.
#[component]
pub fn Contexts(
    /// `(name, rows)` per context.
    contexts: Vec<(String, Vec<(String, String)>)>,
) -> impl IntoView {
    let cards = contexts
        .into_iter()
        .map(|(name, rows)| {
            view! {
                <div class="context-card" data-context=name.clone()>
                    <h3>{context_title(&name)}</h3>
                    <KeyValueTable rows/>
                </div>
            }
        })
        .collect_view();
    view! { <div class="context-grid">{cards}</div> }
}

/// The HTTP request: method and URL, then query and headers.
#[component]
pub fn RequestView(
    /// The request.
    request: RequestPart,
) -> impl IntoView {
    let line = format!(
        "{} {}",
        request.method.clone().unwrap_or_default(),
        request.url.clone().unwrap_or_default()
    );
    let query = (!request.query.is_empty()).then(|| {
        view! {
            <h3>"Query"</h3>
            <KeyValueTable rows=request.query.clone() code=true/>
        }
    });
    let headers = (!request.headers.is_empty()).then(|| {
        view! {
            <h3>"Headers"</h3>
            <KeyValueTable rows=request.headers.clone() code=true/>
        }
    });
    view! {
        <p class="request-line"><code>{line.trim().to_owned()}</code></p>
        {query}
        {headers}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_names_read_as_titles() {
        assert_eq!(context_title("os"), "OS");
        assert_eq!(context_title("runtime"), "Runtime");
        assert_eq!(context_title("trace"), "Trace");
        assert_eq!(context_title(""), "");
    }
}
