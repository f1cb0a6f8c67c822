//! An expanded log line as a field table — name, value, and actions to show
//! only lines with the value, hide them, or copy it — as Grafana Explore and
//! Kibana Discover show a document. `trace_id` and `span_id` link to the trace,
//! a user id (`user.id`, `user_id`) to that user's errors.
//! Multi-line values (stack traces) are shown as lines, collapsed past
//! [`COLLAPSED_LINES`].

use leptos::prelude::*;
use serde_json::Value;

use super::query_text::filter_term;
use crate::api::LogLine;
use crate::components::copy_button::CopyButton;
use crate::pages::errors::filters::issues_where;

/// Lines of a multi-line value shown before "Show all".
pub const COLLAPSED_LINES: usize = 12;

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// How a query names it (`service`, `http.status`).
    pub name: String,
    pub value: Value,
}

/// The fields of `line` worth a row, built-ins first, then the attributes by
/// their dotted path (nested objects flattened; arrays kept whole).
pub fn fields_of(line: &LogLine) -> Vec<Field> {
    let mut out = Vec::new();
    let mut push = |name: &str, value: Value| {
        if !matches!(&value, Value::Null) && value.as_str() != Some("") {
            out.push(Field {
                name: name.to_owned(),
                value,
            });
        }
    };
    push("level", Value::from(line.level.clone()));
    push("service", Value::from(line.service.clone()));
    push("host", Value::from(line.host.clone()));
    push("message", Value::from(line.message.clone()));
    push(
        "trace_id",
        line.trace_id.clone().map_or(Value::Null, Value::from),
    );
    push(
        "span_id",
        line.span_id.clone().map_or(Value::Null, Value::from),
    );
    flatten("", &line.attributes, &mut out);
    out
}

fn flatten(prefix: &str, map: &serde_json::Map<String, Value>, out: &mut Vec<Field>) {
    for (key, value) in map {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) if !inner.is_empty() => flatten(&name, inner, out),
            Value::Null => {}
            other => out.push(Field {
                name,
                value: other.clone(),
            }),
        }
    }
}

/// A value as a person reads it: strings without quotes, the rest as JSON.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The table of an expanded line.
#[component]
pub fn FieldTable(
    line: LogLine,
    project: StoredValue<String>,
    on_filter: Callback<String>,
) -> impl IntoView {
    let trace_id = line.trace_id.clone();
    let rows = fields_of(&line)
        .into_iter()
        .map(|field| {
            let text = display(&field.value);
            let keep = filter_term(&field.name, &field.value, false);
            let drop = filter_term(&field.name, &field.value, true);
            let link = match field.name.as_str() {
                "trace_id" => Some(format!(
                    "/performance/traces/{text}?project={}",
                    project.get_value()
                )),
                "span_id" => trace_id.as_ref().map(|trace| {
                    format!(
                        "/performance/traces/{trace}?project={}&span={text}",
                        project.get_value()
                    )
                }),
                "user.id" | "user_id" | "usr.id" => Some(issues_where(
                    &project.get_value(),
                    "user.id",
                    &text,
                )),
                _ => None,
            };
            let value = match link {
                Some(href) => view! { <a class="log-field-link" href=href>{text.clone()}</a> }
                    .into_any(),
                None => view! { <ValueLines text=text.clone()/> }.into_any(),
            };
            let actions = match (keep, drop) {
                (Some(keep), Some(drop)) => {
                    let keep_title = format!("Show only lines with {keep}");
                    let drop_title = format!("Hide lines with {drop}");
                    Some(view! {
                        <button type="button" class="field-action" title=keep_title.clone()
                            aria-label=keep_title on:click=move |_| on_filter.run(keep.clone())>"+"</button>
                        <button type="button" class="field-action" title=drop_title.clone()
                            aria-label=drop_title on:click=move |_| on_filter.run(drop.clone())>"−"</button>
                    })
                }
                _ => None,
            };
            view! {
                <tr class="log-field" data-field=field.name.clone()>
                    <th scope="row" class="log-field-name">{field.name.clone()}</th>
                    <td class="log-field-value">{value}</td>
                    <td class="log-field-actions">
                        {actions}
                        <CopyButton text=text label=format!("Copy {}", field.name)/>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="log-fields">
            <tbody>{rows}</tbody>
        </table>
    }
}

/// A value, as lines when it has several: the first [`COLLAPSED_LINES`], then
/// "Show all N lines".
#[component]
pub fn ValueLines(#[prop(into)] text: String) -> impl IntoView {
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.len() <= 1 {
        return view! { <span class="log-field-text">{text}</span> }.into_any();
    }
    let total = lines.len();
    let open = RwSignal::new(total <= COLLAPSED_LINES);
    let lines = StoredValue::new(lines);
    let shown = move || {
        let lines = lines.get_value();
        let take = if open.get() { total } else { COLLAPSED_LINES };
        lines.into_iter().take(take).collect::<Vec<_>>().join("\n")
    };
    view! {
        <pre class="log-field-lines">{shown}</pre>
        <Show when=move || !open.get()>
            <button type="button" class="button secondary small log-show-lines"
                on:click=move |_| open.set(true)>
                {format!("Show all {total} lines")}
            </button>
        </Show>
    }
    .into_any()
}

/// The first line of a message, and how many lines follow it.
pub fn first_line(message: &str) -> (&str, usize) {
    let mut lines = message.lines();
    let first = lines.next().unwrap_or_default();
    (first, lines.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_rows_by_their_dotted_path() {
        let line = LogLine {
            id: 7,
            ts: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
            level: "error".into(),
            service: "api".into(),
            host: String::new(),
            message: "boom\n  at a()\n  at b()".into(),
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            span_id: None,
            attributes: serde_json::json!({"http": {"status": 500}, "tags": ["a"], "gone": null})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        let names: Vec<String> = fields_of(&line).into_iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "level",
                "service",
                "message",
                "trace_id",
                "http.status",
                "tags"
            ],
            "empty host, no span id and nulls have no row"
        );
        assert_eq!(first_line(&line.message), ("boom", 2));
        assert_eq!(first_line(""), ("", 0));
    }
}
