//! The fields of the lines shown, as Kibana Discover's field list: each field
//! with the share of the lines that have it; opened, its most frequent values
//! with their share, each one click from a filter (+) or an exclusion (−).
//! Counted in the browser over the lines loaded, as Discover and Grafana
//! Explore count theirs.

use std::collections::{BTreeSet, HashMap};

use leptos::prelude::*;
use serde_json::Value;

use super::fields::{display, fields_of};
use super::query_text::filter_term;
use crate::api::LogLine;
use crate::components::share_bar::{share, ShareBar};

/// Values listed per field.
pub const TOP_VALUES: usize = 5;
/// Fields listed, the most common first.
pub const MAX_FIELDS: usize = 60;

/// One field of the lines shown.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldStats {
    pub name: String,
    /// Lines that have it.
    pub lines: usize,
    /// Its most frequent values and how many lines have each, most first.
    pub top: Vec<(Value, usize)>,
}

/// Lines with a field, and per value (by its text) the value and its lines.
type Counts = (usize, HashMap<String, (Value, usize)>);

/// The fields of `lines` (the message aside: every line has its own), the most
/// common first, then by name.
pub fn field_stats(lines: &[LogLine]) -> Vec<FieldStats> {
    let mut fields: HashMap<String, Counts> = HashMap::new();
    for line in lines {
        for field in fields_of(line) {
            if field.name == "message" {
                continue;
            }
            let (count, values) = fields.entry(field.name).or_default();
            *count += 1;
            values
                .entry(display(&field.value))
                .or_insert_with(|| (field.value, 0))
                .1 += 1;
        }
    }
    let mut stats: Vec<FieldStats> = fields
        .into_iter()
        .map(|(name, (lines, values))| {
            let mut top: Vec<(String, (Value, usize))> = values.into_iter().collect();
            top.sort_by(|(a, (_, x)), (b, (_, y))| y.cmp(x).then_with(|| a.cmp(b)));
            FieldStats {
                name,
                lines,
                top: top
                    .into_iter()
                    .take(TOP_VALUES)
                    .map(|(_, value)| value)
                    .collect(),
            }
        })
        .collect();
    stats.sort_by(|a, b| b.lines.cmp(&a.lines).then_with(|| a.name.cmp(&b.name)));
    stats.truncate(MAX_FIELDS);
    stats
}

/// The list beside the lines.
#[component]
pub fn FieldList(
    /// The lines shown.
    #[prop(into)]
    lines: Signal<Vec<LogLine>>,
    /// Adds a term to the query and runs it.
    on_filter: Callback<String>,
) -> impl IntoView {
    let stats = Memo::new(move |_| lines.with(|l| (l.len(), field_stats(l))));
    // Which fields are open, kept while the lines change (live tail, paging).
    let open = RwSignal::new(BTreeSet::<String>::new());
    let items = move || {
        let (total, stats) = stats.get();
        stats
            .into_iter()
            .map(|field| field_item(field, total, open, on_filter))
            .collect_view()
    };
    view! {
        <aside class="log-field-list" aria-label="Fields of the lines shown">
            <h2 class="log-field-list-title">"Fields"</h2>
            <p class="muted log-field-list-note">
                {move || format!("In the {} lines shown", stats.with(|(total, _)| *total))}
            </p>
            <ul class="log-field-items">{items}</ul>
        </aside>
    }
    .into_any()
}

fn field_item(
    field: FieldStats,
    total: usize,
    open: RwSignal<BTreeSet<String>>,
    on_filter: Callback<String>,
) -> impl IntoView {
    let name = StoredValue::new(field.name.clone());
    let top = StoredValue::new(field.top);
    let is_open = move || open.with(|o| name.with_value(|n| o.contains(n)));
    let toggle = move |_| {
        let name = name.get_value();
        open.update(|o| {
            if !o.remove(&name) {
                o.insert(name);
            }
        });
    };
    let present = share(count(field.lines), count(total));
    let values = move || {
        top.get_value()
            .into_iter()
            .map(|(value, n)| value_row(&name.get_value(), value, n, total, on_filter))
            .collect_view()
    };
    view! {
        <li class="log-field-item" data-field=field.name.clone()>
            <button type="button" class="log-field-toggle"
                aria-expanded=move || is_open().to_string() on:click=toggle>
                <span class="log-field-toggle-name">{field.name.clone()}</span>
                <span class="log-field-share">{format!("{present} %")}</span>
            </button>
            <Show when=is_open>
                <ul class="log-field-values">{values}</ul>
            </Show>
        </li>
    }
    .into_any()
}

/// One value of an open field: its share of the lines, + and −.
fn value_row(
    name: &str,
    value: Value,
    lines: usize,
    total: usize,
    on_filter: Callback<String>,
) -> impl IntoView {
    let pct = share(count(lines), count(total));
    let text = display(&value);
    let buttons = filter_term(name, &value, false)
        .zip(filter_term(name, &value, true))
        .map(|(keep, drop)| {
            let keep_title = format!("Show only lines with {keep}");
            let drop_title = format!("Hide lines with {drop}");
            view! {
                <button type="button" class="field-action" title=keep_title.clone()
                    aria-label=keep_title on:click=move |_| on_filter.run(keep.clone())>"+"</button>
                <button type="button" class="field-action" title=drop_title.clone()
                    aria-label=drop_title on:click=move |_| on_filter.run(drop.clone())>"−"</button>
            }
        });
    view! {
        <li class="log-field-value-row" title=format!("{text}: {lines} of {total} lines ({pct} %)")>
            <span class="log-field-value-name">{text.clone()}</span>
            <ShareBar percent=pct/>
            <span class="log-field-value-share">{format!("{pct} %")}</span>
            <span class="log-field-value-actions">{buttons}</span>
        </li>
    }
    .into_any()
}

/// A count as the `i64` [`share`] takes.
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(level: &str, status: Option<i64>) -> LogLine {
        let attributes = status
            .map(|s| serde_json::json!({"http": {"status": s}}))
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        LogLine {
            id: 1,
            ts: chrono::DateTime::from_timestamp(0, 0).unwrap_or_default(),
            level: level.into(),
            service: "api".into(),
            host: String::new(),
            message: "hello".into(),
            trace_id: None,
            span_id: None,
            attributes,
        }
    }

    #[test]
    fn fields_count_lines_and_their_top_values() {
        let lines = [
            line("info", Some(200)),
            line("info", Some(500)),
            line("error", Some(500)),
            line("info", None),
        ];
        let stats = field_stats(&lines);
        let names: Vec<&str> = stats.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["level", "service", "http.status"],
            "no message, no empty host"
        );
        assert_eq!(
            stats[0].top,
            [(Value::from("info"), 3), (Value::from("error"), 1)]
        );
        assert_eq!(stats[2].lines, 3);
        assert_eq!(
            stats[2].top[0],
            (Value::from(500), 2),
            "numbers stay numbers"
        );
    }
}
