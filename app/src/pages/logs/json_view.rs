//! A log line as pretty-printed JSON in which every value that a query can name is
//! a button: click it to keep only lines with that value, or its "−" to drop them.

use leptos::prelude::*;
use serde_json::Value;

use super::query_text::{filter_term, is_field_name};
use crate::api::LogLine;

/// What one printed line holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// `{` or `[`.
    Open(char),
    /// `}` or `]`.
    Close(char),
    /// A value; `field` is how a query names it, when it can.
    Scalar {
        /// The value as JSON text.
        text: String,
        /// The value itself.
        value: Value,
        /// The field name (`service`, `http.status`) that filters on it.
        field: Option<String>,
    },
}

/// One printed line: indentation depth, `"key": ` if inside an object, and the
/// token, followed by a comma unless it is the last of its object or array.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonLine {
    /// Nesting depth.
    pub depth: usize,
    /// The key, inside objects.
    pub key: Option<String>,
    /// What the line shows.
    pub token: Token,
    /// Whether a comma follows.
    pub comma: bool,
}

/// `line` as printed lines: the built-in fields first, then the attributes, whose
/// values filter by their dotted path.
pub fn json_lines(line: &LogLine) -> Vec<JsonLine> {
    let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
    let fields: [(&str, Value, Option<String>); 9] = [
        ("id", Value::from(line.id), None),
        (
            "ts",
            Value::from(line.ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            None,
        ),
        (
            "level",
            Value::from(line.level.clone()),
            Some("level".into()),
        ),
        (
            "service",
            Value::from(line.service.clone()),
            Some("service".into()),
        ),
        ("host", Value::from(line.host.clone()), Some("host".into())),
        (
            "message",
            Value::from(line.message.clone()),
            Some("message".into()),
        ),
        ("trace_id", text(&line.trace_id), Some("trace_id".into())),
        ("span_id", text(&line.span_id), Some("span_id".into())),
        // Attributes are named by their path below `attributes`.
        (
            "attributes",
            Value::Object(line.attributes.clone()),
            Some(String::new()),
        ),
    ];
    let mut out = vec![JsonLine {
        depth: 0,
        key: None,
        token: Token::Open('{'),
        comma: false,
    }];
    let count = fields.len();
    for (i, (key, value, field)) in fields.into_iter().enumerate() {
        walk(
            &mut out,
            1,
            Some(key.to_owned()),
            &value,
            field,
            i + 1 < count,
        );
    }
    out.push(JsonLine {
        depth: 0,
        key: None,
        token: Token::Close('}'),
        comma: false,
    });
    out
}

/// A child of an object or array: its key, value and field name.
type Child<'a> = (Option<String>, &'a Value, Option<String>);

/// Prints `value` at `depth`. `field` names it for filtering; for an object it is
/// the prefix of its children's paths.
fn walk(
    out: &mut Vec<JsonLine>,
    depth: usize,
    key: Option<String>,
    value: &Value,
    field: Option<String>,
    comma: bool,
) {
    let (open, close, children): (char, char, Vec<Child<'_>>) = match value {
        Value::Object(map) if !map.is_empty() => (
            '{',
            '}',
            map.iter()
                .map(|(k, v)| {
                    let path = field.as_ref().map(|prefix| {
                        if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        }
                    });
                    (Some(k.clone()), v, path)
                })
                .collect(),
        ),
        // Array elements have no field name of their own.
        Value::Array(items) if !items.is_empty() => {
            ('[', ']', items.iter().map(|v| (None, v, None)).collect())
        }
        scalar => {
            let field = field.filter(|f| is_field_name(f) && !scalar.is_null());
            out.push(JsonLine {
                depth,
                key,
                token: Token::Scalar {
                    text: scalar.to_string(),
                    value: scalar.clone(),
                    field,
                },
                comma,
            });
            return;
        }
    };
    out.push(JsonLine {
        depth,
        key,
        token: Token::Open(open),
        comma: false,
    });
    let count = children.len();
    for (i, (child_key, child, path)) in children.into_iter().enumerate() {
        walk(out, depth + 1, child_key, child, path, i + 1 < count);
    }
    out.push(JsonLine {
        depth,
        key: None,
        token: Token::Close(close),
        comma,
    });
}

/// The printed line with its filter buttons.
#[component]
pub fn JsonView(
    /// The line to show.
    line: LogLine,
    /// Adds a term (`field:value` or `-field:value`) to the query and runs it.
    on_filter: Callback<String>,
) -> impl IntoView {
    let rows = json_lines(&line)
        .into_iter()
        .map(|l| {
            let key = l.key.map(|k| {
                view! { <span class="json-key">{Value::String(k).to_string()}</span>": " }
            });
            let comma = l.comma.then_some(",");
            let token = match l.token {
                Token::Open(c) | Token::Close(c) => {
                    view! { <span>{c.to_string()}</span> }.into_any()
                }
                Token::Scalar { text, value, field } => {
                    let kind = match &value {
                        Value::String(_) => "json-string",
                        Value::Number(_) => "json-number",
                        _ => "json-literal",
                    };
                    let keep = field.as_deref().and_then(|f| filter_term(f, &value, false));
                    let drop = field.as_deref().and_then(|f| filter_term(f, &value, true));
                    match (keep, drop) {
                        (Some(keep), Some(drop)) => {
                            let add = {
                                let keep = keep.clone();
                                move || on_filter.run(keep.clone())
                            };
                            let add_by_key = add.clone();
                            // A span, not a button, so that long values wrap like text.
                            view! {
                                <span
                                    class=format!("json-value {kind}")
                                    role="button"
                                    tabindex="0"
                                    title=format!("Show only lines with {keep}")
                                    on:click=move |_| add()
                                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                        if matches!(ev.key().as_str(), "Enter" | " ") {
                                            ev.prevent_default();
                                            add_by_key();
                                        }
                                    }
                                >
                                    {text}
                                </span>
                                {comma}
                                <button
                                    type="button"
                                    class="json-exclude"
                                    title=format!("Hide lines with this value ({drop})")
                                    aria-label=format!("Exclude {drop}")
                                    on:click=move |_| on_filter.run(drop.clone())
                                >
                                    "−"
                                </button>
                            }
                            .into_any()
                        }
                        _ => view! { <span class=kind>{text}</span>{comma} }.into_any(),
                    }
                }
            };
            view! {
                <div class="json-line" style:padding-left=format!("{}ch", l.depth * 2)>
                    {key}{token}
                </div>
            }
        })
        .collect_view();
    view! { <div class="json-view">{rows}</div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_filter_by_their_dotted_path() {
        let line = LogLine {
            id: 7,
            ts: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
            level: "error".into(),
            service: "api".into(),
            host: "web-1".into(),
            message: "boom".into(),
            trace_id: None,
            span_id: None,
            attributes: serde_json::json!({"http": {"status": 500}, "tags": ["a"]})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        let lines = json_lines(&line);
        let named: Vec<(String, Option<String>)> = lines
            .iter()
            .filter_map(|l| match &l.token {
                Token::Scalar { text, field, .. } => Some((text.clone(), field.clone())),
                _ => None,
            })
            .collect();
        assert!(named.contains(&("500".into(), Some("http.status".into()))));
        assert!(named.contains(&("\"web-1\"".into(), Some("host".into()))));
        assert!(named.contains(&("7".into(), None)), "the id is no field");
        assert!(named.contains(&("null".into(), None)), "null names nothing");
        assert!(
            named.contains(&("\"a\"".into(), None)),
            "array items name nothing"
        );
        // Braces balance, and the last entry of an object has no comma.
        let opens = lines
            .iter()
            .filter(|l| matches!(l.token, Token::Open(_)))
            .count();
        let closes = lines
            .iter()
            .filter(|l| matches!(l.token, Token::Close(_)))
            .count();
        assert_eq!(opens, closes);
        assert!(lines.iter().rev().nth(1).is_some_and(|l| !l.comma));
    }
}
