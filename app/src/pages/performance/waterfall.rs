//! A trace as a waterfall: one row per span, each followed by its children
//! (in start order), indented by its depth, with a bar placed by its start and sized by its duration on a time
//! axis shared by every row (ticks at round milliseconds from the trace's
//! start). Bars take a colour per kind of operation (`http`, `db`, ...), failed
//! spans are red, and a span with errors says so. A click on a row opens the
//! span's details below it.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use super::figures::{format_ms, is_failure, plural};
use super::span_detail::SpanDetail;
use super::time_axis::{percent, tick_label, ticks};
use crate::api::{TraceError, TraceSpan};
use crate::components::chart::series_color;

/// Ticks the axis aims for.
const TICKS: usize = 6;
/// Indentation per level of depth, in CSS pixels.
const INDENT_PX: u32 = 14;
/// Depths beyond this are drawn at this depth, so deep traces keep their labels.
const MAX_INDENT: u32 = 16;
/// Palette slots the operation colours use (red is kept for failures).
const OP_COLORS: [usize; 4] = [0, 2, 3, 1];

/// The palette slot of an operation, from its kind (the part before the first
/// dot: `db` of `db.query`), so spans of one kind share a colour.
pub fn op_color_index(op: &str) -> usize {
    let kind = op.split('.').next().unwrap_or_default();
    let sum: usize = kind.bytes().map(usize::from).sum();
    OP_COLORS[sum % OP_COLORS.len()]
}

/// The spans (given in start order) in tree order: each span followed by its
/// children, so a child never shows above its parent even when both start at
/// once. A span whose parent is not in the trace starts a tree of its own;
/// spans in a parent cycle (malformed input) come where the cycle is entered.
pub fn tree_order(spans: Vec<TraceSpan>) -> Vec<TraceSpan> {
    let index: HashMap<&str, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id.as_str(), i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match span
            .parent_span_id
            .as_deref()
            .and_then(|p| index.get(p).copied())
        {
            Some(parent) if parent != i => children[parent].push(i),
            _ => roots.push(i),
        }
    }
    let mut order = Vec::with_capacity(spans.len());
    let mut seen = vec![false; spans.len()];
    // Roots first, then whatever only a cycle leads to, each in start order.
    for start in roots.into_iter().chain(0..spans.len()) {
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            order.push(i);
            stack.extend(children[i].iter().rev());
        }
    }
    let mut slots: Vec<Option<TraceSpan>> = spans.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The axis' extent: the trace's duration, or the end of its last span when
/// that is later (clock skew between services), and never zero.
pub fn axis_total(spans: &[TraceSpan], duration_ms: f64) -> f64 {
    spans
        .iter()
        .map(|s| s.offset_ms + s.duration_ms)
        .fold(duration_ms, f64::max)
        .max(0.001)
}

/// Left edge and width of a span's bar, in per cent of the axis.
pub fn bar_geometry(offset_ms: f64, duration_ms: f64, total_ms: f64) -> (f64, f64) {
    let left = percent(offset_ms, total_ms);
    let width = percent(duration_ms, total_ms).min(100.0 - left);
    (left, width)
}

/// The waterfall of a trace.
#[component]
pub fn Waterfall(
    /// The spans, in tree order (see [`tree_order`]).
    spans: StoredValue<Vec<TraceSpan>>,
    /// The trace's duration.
    duration_ms: f64,
    /// The errors of the trace (each span lists its own).
    errors: StoredValue<Vec<TraceError>>,
    /// The page's URL query, kept by the error links.
    #[prop(into)]
    query: Signal<ParamsMap>,
) -> impl IntoView {
    let total = spans.with_value(|all| axis_total(all, duration_ms));
    let (at, step) = ticks(total, TICKS);
    let step_percent = percent(step, total);
    let axis = at
        .into_iter()
        .map(|t| {
            let left = percent(t, total);
            // The last label hangs left of its tick so it stays inside the axis.
            let class = if left > 90.0 {
                "waterfall-tick end"
            } else {
                "waterfall-tick"
            };
            view! {
                <span class=class style=format!("left: {left:.3}%")>{tick_label(t, step)}</span>
            }
        })
        .collect_view();
    // A link to one span (`&span=<id>`, from a log line) opens it.
    let selected = RwSignal::new(
        query
            .with_untracked(|q| q.get("span"))
            .filter(|s| !s.is_empty()),
    );
    let rows = spans.with_value(|all| {
        all.iter()
            .cloned()
            .map(|span| view! { <SpanRow span total selected errors query/> })
            .collect_view()
    });
    let count = spans.with_value(Vec::len);
    view! {
        <div class="waterfall-wrap" style=format!("--tick-step: {step_percent:.4}%")>
            <div class="waterfall-head" aria-hidden="true">
                <span class="waterfall-head-label">{plural(count, "span")}</span>
                <span class="waterfall-axis">{axis}</span>
                <span class="waterfall-head-duration">"Duration"</span>
            </div>
            <ol class="waterfall" aria-label="Spans of the trace, in start order">{rows}</ol>
        </div>
    }
    .into_any()
}

/// One span: its row, and its details when selected.
#[component]
fn SpanRow(
    span: TraceSpan,
    total: f64,
    selected: RwSignal<Option<String>>,
    errors: StoredValue<Vec<TraceError>>,
    query: Signal<ParamsMap>,
) -> impl IntoView {
    let id = StoredValue::new(span.span_id.clone());
    let is_open = move || selected.with(|s| s.as_deref() == Some(id.get_value().as_str()));
    let toggle = move |_| {
        let me = id.get_value();
        selected.update(|s| {
            *s = if s.as_deref() == Some(me.as_str()) {
                None
            } else {
                Some(me)
            };
        });
    };
    let own_errors: Vec<TraceError> = errors.with_value(|all| {
        all.iter()
            .filter(|e| e.span_id.as_deref() == Some(span.span_id.as_str()))
            .cloned()
            .collect()
    });
    let failed = is_failure(&span.status);
    let (left, width) = bar_geometry(span.offset_ms, span.duration_ms, total);
    let color = if failed {
        String::new()
    } else {
        format!("background: {};", series_color(op_color_index(&span.op)))
    };
    let bar_style = format!("left: {left:.3}%; width: {width:.3}%; {color}");
    let indent = span.depth.min(MAX_INDENT) * INDENT_PX;
    let label_style = format!("padding-left: calc(var(--space-2) + {indent}px)");
    let title = format!(
        "{} {} — {} at +{}, status {}",
        span.op,
        span.name,
        format_ms(span.duration_ms),
        format_ms(span.offset_ms),
        span.status
    );
    let error_mark = (!own_errors.is_empty()).then(|| {
        view! { <span class="span-error-mark">{plural(own_errors.len(), "error")}</span> }
    });
    let item_class = if span.is_segment {
        "span-item segment"
    } else {
        "span-item"
    };
    let detail_span = StoredValue::new(span.clone());
    let detail_errors = StoredValue::new(own_errors);
    view! {
        <li
            class=item_class
            class:failed=failed
            class:selected=is_open
            data-span-id=span.span_id.clone()
            data-depth=span.depth.to_string()
        >
            <button
                type="button"
                class="span-row"
                title=title
                aria-expanded=move || is_open().to_string()
                on:click=toggle
            >
                <span class="span-label" style=label_style>
                    <span class="span-op">{span.op.clone()}</span>
                    <span class="span-name">{span.name.clone()}</span>
                    {error_mark}
                </span>
                <span class="span-track">
                    <span class="span-bar" style=bar_style></span>
                </span>
                <span class="span-duration">{format_ms(span.duration_ms)}</span>
            </button>
            <Show when=is_open>
                <SpanDetail
                    span=detail_span.get_value()
                    errors=detail_errors.get_value()
                    query
                />
            </Show>
        </li>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: Option<&str>) -> TraceSpan {
        TraceSpan {
            span_id: id.to_owned(),
            parent_span_id: parent.map(str::to_owned),
            segment_id: None,
            is_segment: parent.is_none(),
            transaction: String::new(),
            op: String::new(),
            name: String::new(),
            status: "ok".to_owned(),
            ts: chrono::DateTime::<chrono::Utc>::default(),
            offset_ms: 0.0,
            duration_ms: 1.0,
            depth: 0,
            service: String::new(),
            environment: String::new(),
            release: String::new(),
            http_status: None,
            tags: serde_json::Map::new(),
            data: serde_json::Map::new(),
        }
    }

    #[test]
    fn children_follow_their_parent() {
        // Start order as the server sends it: the grandchild starts with (and
        // sorts before) its parent.
        let spans = vec![
            span("root", None),
            span("c", Some("b")),
            span("b", Some("root")),
            span("d", Some("root")),
            span("orphan", Some("gone")),
            span("x", Some("y")),
            span("y", Some("x")),
        ];
        let ids: Vec<String> = tree_order(spans).into_iter().map(|s| s.span_id).collect();
        assert_eq!(ids, vec!["root", "b", "c", "d", "orphan", "x", "y"]);
    }

    #[test]
    fn operations_of_one_kind_share_a_colour_and_never_red() {
        assert_eq!(op_color_index("db.query"), op_color_index("db.sql.select"));
        for op in ["http.server", "db", "cache.get", "", "ui.load"] {
            assert_ne!(op_color_index(op), 4, "{op}");
        }
    }

    #[test]
    fn bars_stay_on_the_axis() {
        assert_eq!(bar_geometry(25.0, 50.0, 100.0), (25.0, 50.0));
        assert_eq!(bar_geometry(90.0, 50.0, 100.0), (90.0, 10.0));
        assert_eq!(bar_geometry(0.0, 0.0, 100.0), (0.0, 0.0));
    }
}
