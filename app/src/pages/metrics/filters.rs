//! The label filters of the Metrics explorer: when a query is a plain selector,
//! one drop-down per label of its metric rewrites the selector.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::api::{client, MetricLabel};

/// A selector the label filters can edit: a metric name, optionally with
/// `label="value"` matchers. `None` for any other expression.
fn selector_parts(query: &str) -> Option<(String, BTreeMap<String, String>)> {
    let query = query.trim();
    let (name, rest) = match query.find('{') {
        Some(i) => (&query[..i], Some(&query[i..])),
        None => (query, None),
    };
    let valid_name = |n: &str| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    if !valid_name(name) {
        return None;
    }
    let mut matchers = BTreeMap::new();
    if let Some(rest) = rest {
        let mut inner = rest.strip_prefix('{')?.strip_suffix('}')?.trim();
        while !inner.is_empty() {
            let eq = inner.find('=')?;
            let label = inner[..eq].trim();
            let value_text = inner[eq + 1..].trim_start().strip_prefix('"')?;
            // The value runs to the first quote not escaped.
            let mut value = String::new();
            let mut chars = value_text.char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => value.push(chars.next()?.1),
                    (i, '"') => break i,
                    (_, c) => value.push(c),
                }
            };
            if !valid_name(label) {
                return None;
            }
            matchers.insert(label.to_owned(), value);
            inner = value_text[end + 1..].trim_start();
            inner = inner.strip_prefix(',').unwrap_or(inner).trim_start();
            if !inner.is_empty()
                && inner.starts_with(|c: char| !c.is_ascii_alphabetic() && c != '_')
            {
                return None;
            }
        }
    }
    Some((name.to_owned(), matchers))
}

/// The selector of `name` with `label="value"` matchers.
fn selector_text(name: &str, matchers: &BTreeMap<String, String>) -> String {
    if matchers.is_empty() {
        return name.to_owned();
    }
    let inner: Vec<String> = matchers
        .iter()
        .map(|(l, v)| format!("{l}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{name}{{{}}}", inner.join(", "))
}

/// When the query is a plain selector, one drop-down per label of its
/// metric: choosing a value (or "any") rewrites the selector and runs it.
#[component]
pub(super) fn LabelFilters(
    project: String,
    /// The query's letter when the explorer overlays several (`B`), else `None`.
    letter: Option<char>,
    query: Memo<String>,
    run: Callback<String>,
) -> impl IntoView {
    let project = StoredValue::new(project);
    let parts = Memo::new(move |_| selector_parts(&query.get()));
    let metric = Memo::new(move |_| parts.get().map(|(name, _)| name));
    let labels = LocalResource::new(move || {
        let (slug, metric) = (project.get_value(), metric.get());
        async move {
            match metric {
                Some(metric) => client::metric_labels(&slug, &metric)
                    .await
                    .unwrap_or_default(),
                None => Vec::new(),
            }
        }
    });
    let choose = move |label: String, value: String| {
        let Some((name, mut matchers)) = parts.get_untracked() else {
            return;
        };
        if value.is_empty() {
            matchers.remove(&label);
        } else {
            matchers.insert(label, value);
        }
        run.run(selector_text(&name, &matchers));
    };
    move || {
        let list = labels.get().unwrap_or_default();
        let chosen = parts.get().map(|(_, m)| m).unwrap_or_default();
        (!list.is_empty()).then(|| {
            let selects = list
                .into_iter()
                .map(|label: MetricLabel| {
                    let current = chosen.get(&label.name).cloned().unwrap_or_default();
                    let name = label.name.clone();
                    let options = label
                        .values
                        .into_iter()
                        .map(|v| {
                            let selected = v == current;
                            let text = v.clone();
                            view! { <option value=v selected=selected>{text}</option> }
                        })
                        .collect_view();
                    let more = label
                        .truncated
                        .then(|| view! { <option disabled>"… more (type them)"</option> });
                    view! {
                        <label class="field">
                            <span>{label.name.clone()}</span>
                            <select
                                class="input"
                                data-label=label.name
                                on:change=move |ev| choose(name.clone(), event_target_value(&ev))
                            >
                                <option value="" selected=current.is_empty()>"any"</option>
                                {options}
                                {more}
                            </select>
                        </label>
                    }
                })
                .collect_view();
            let (id, about) = match letter {
                None | Some('A') => ("metrics-filters".to_owned(), "Label filters".to_owned()),
                Some(l) => (
                    format!("metrics-filters-{}", l.to_ascii_lowercase()),
                    format!("Label filters of query {l}"),
                ),
            };
            view! {
                <div class="card label-filters" id=id role="group" aria-label=about>
                    {letter.map(|l| view! { <span class="query-letter">{l.to_string()}</span> })}
                    {selects}
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_selectors_are_read_and_written_back() {
        let (name, m) = selector_parts(r#"http_requests_total{code="500", job = "a\"b"}"#).unwrap();
        assert_eq!(name, "http_requests_total");
        assert_eq!(m.get("code").map(String::as_str), Some("500"));
        assert_eq!(m.get("job").map(String::as_str), Some("a\"b"));
        assert_eq!(
            selector_text(&name, &m),
            r#"http_requests_total{code="500", job="a\"b"}"#
        );
        assert_eq!(
            selector_parts("up").unwrap(),
            ("up".to_owned(), BTreeMap::new())
        );
        assert_eq!(selector_text("up", &BTreeMap::new()), "up");
        assert_eq!(selector_parts("rate(x[5m])"), None);
        assert_eq!(selector_parts(r#"x{a=~"b"}"#), None);
        assert_eq!(selector_parts(r#"x{a="b"} + 1"#), None);
        assert_eq!(selector_parts(""), None);
    }
}
