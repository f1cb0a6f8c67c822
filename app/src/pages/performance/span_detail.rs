//! What a span of the waterfall holds, shown when it is clicked: its ids,
//! operation, status, timing, service and release, the errors raised inside it,
//! and its tags and data.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use serde_json::{Map, Value};

use super::figures::format_ms;
use super::trace_errors::ErrorLink;
use crate::api::{TraceError, TraceSpan};
use crate::local_time::absolute_time;
use crate::pages::errors::event_data::KeyValueTable;

/// A JSON value as text: strings without their quotes.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An object's fields as `(key, text)` rows, in key order.
fn rows_of(map: &Map<String, Value>) -> Vec<(String, String)> {
    let mut rows: Vec<_> = map
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), value_text(v)))
        .collect();
    rows.sort();
    rows
}

/// The span's own fields that are set, as rows.
pub fn span_facts(span: &TraceSpan) -> Vec<(String, String)> {
    let mut rows = vec![
        ("Span ID", span.span_id.clone()),
        (
            "Parent span ID",
            span.parent_span_id.clone().unwrap_or_default(),
        ),
        ("Operation", span.op.clone()),
        ("Description", span.name.clone()),
        ("Status", span.status.clone()),
        ("Started", absolute_time(span.ts.timestamp_millis())),
        (
            "Start in the trace",
            format!("+{}", format_ms(span.offset_ms)),
        ),
        ("Duration", format_ms(span.duration_ms)),
        ("Transaction", span.transaction.clone()),
        ("Service", span.service.clone()),
        ("Environment", span.environment.clone()),
        ("Release", span.release.clone()),
    ];
    if let Some(status) = span.http_status {
        rows.push(("HTTP status", status.to_string()));
    }
    rows.into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

/// The details of one span.
#[component]
pub fn SpanDetail(
    /// The span.
    span: TraceSpan,
    /// The errors raised in it.
    errors: Vec<TraceError>,
    /// The page's URL query, kept by the error links.
    #[prop(into)]
    query: Signal<ParamsMap>,
) -> impl IntoView {
    let tags = rows_of(&span.tags);
    let data = rows_of(&span.data);
    let errors_part = (!errors.is_empty()).then(|| {
        let items = errors
            .into_iter()
            .map(|error| view! { <li><ErrorLink error query/></li> })
            .collect_view();
        view! {
            <div class="span-detail-part">
                <h3>"Errors in this span"</h3>
                <ul class="trace-error-list">{items}</ul>
            </div>
        }
    });
    let tags_part = (!tags.is_empty()).then(|| {
        view! {
            <div class="span-detail-part span-tags">
                <h3>"Tags"</h3>
                <KeyValueTable rows=tags code=true/>
            </div>
        }
    });
    let data_part = (!data.is_empty()).then(|| {
        view! {
            <div class="span-detail-part span-data">
                <h3>"Data"</h3>
                <KeyValueTable rows=data code=true/>
            </div>
        }
    });
    let empty = (tags_part.is_none() && data_part.is_none())
        .then(|| view! { <p class="muted">"This span carries no tags or data."</p> });
    view! {
        <div class="span-detail" data-span-id=span.span_id.clone()>
            <div class="span-detail-part">
                <h3>"Span"</h3>
                <KeyValueTable rows=span_facts(&span)/>
            </div>
            {errors_part}
            {tags_part}
            {data_part}
            {empty}
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tags_and_data_read_as_text_rows() {
        let map = json!({"b": 2, "a": "x", "gone": null, "obj": {"k": true}});
        let Value::Object(map) = map else {
            panic!("an object");
        };
        assert_eq!(
            rows_of(&map),
            vec![
                ("a".to_owned(), "x".to_owned()),
                ("b".to_owned(), "2".to_owned()),
                ("obj".to_owned(), r#"{"k":true}"#.to_owned()),
            ]
        );
    }
}
