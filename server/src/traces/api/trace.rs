//! `GET /projects/{project}/traces/{trace_id}`: every span of a trace, placed
//! for a waterfall (ordered by start, with each span's depth), and what else
//! carries the trace id: error events (with their issue's title) and log lines.

use std::collections::HashMap;

use app::api::{TraceDetail, TraceSpan};
use axum::extract::State;
use serde_json::{Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    errors::store::events,
    http::error::{ApiError, ApiResult, Json, Path},
    logs::store::trace_lines,
    query::{query_error, scope::ReadScope},
    traces::{
        span::{duration_ms, hex_id, nearest_segments, SpanLink},
        store::{trace_spans, SpanRow},
    },
    AppState,
};

/// Most spans returned for one trace.
const MAX_SPANS: i64 = 10_000;
/// Most error events returned for one trace.
const MAX_ERRORS: i64 = 100;
/// Log lines returned for one trace (the newest).
const MAX_LOGS: i64 = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(trace))
}

/// A span's segment, when it was stored before its segment arrived (OTLP
/// exporters send a span when it ends, so children often come in an earlier
/// request than their root): found now through the trace's parent links.
fn fill_segments(rows: &mut [SpanRow], trace_id: &str) {
    let links: Vec<SpanLink<'_>> = rows
        .iter()
        .map(|r| SpanLink {
            trace_id,
            span_id: &r.span_id,
            parent_span_id: r.parent_span_id.as_deref(),
            is_segment: r.is_segment,
        })
        .collect();
    let segments: Vec<Option<(String, String)>> = nearest_segments(&links)
        .into_iter()
        .map(|s| s.map(|s| (rows[s].span_id.clone(), rows[s].transaction.clone())))
        .collect();
    for (row, segment) in rows.iter_mut().zip(segments) {
        if let (None, Some((segment_id, transaction))) = (&row.segment_id, segment) {
            row.segment_id = Some(segment_id);
            row.transaction = transaction;
        }
    }
}

/// One trace: its spans, its error events and its log lines.
#[utoipa::path(get, path = "/projects/{project}/traces/{trace_id}", tag = "performance",
    params(("project" = String, Path, description = "id or slug"),
           ("trace_id" = String, Path, description = "32 hex digits, not all zero",
            pattern = r"^(?!0{32}$)[0-9a-fA-F]{32}$")),
    responses((status = 200, body = TraceDetail), (status = 400), (status = 401), (status = 404)))]
async fn trace(
    State(state): State<AppState>,
    ReadScope { project, .. }: ReadScope,
    Path((_project, trace_id)): Path<(String, String)>,
) -> ApiResult<Json<TraceDetail>> {
    let trace_id = hex_id(&trace_id, 32).ok_or_else(|| {
        ApiError::BadRequest("trace_id: expected 32 hex digits, not all zero".into())
    })?;
    let reads = &state.queries;
    let (rows, errors, logs) = async {
        Ok::<_, sqlx::Error>((
            trace_spans(reads, project.project_id, &trace_id, MAX_SPANS).await?,
            events::of_trace(reads, project.project_id, &trace_id, MAX_ERRORS).await?,
            trace_lines(reads, project.project_id, &trace_id, MAX_LOGS).await?,
        ))
    }
    .await
    .map_err(query_error)?;
    if rows.is_empty() && errors.is_empty() && logs.is_empty() {
        return Err(ApiError::NotFound(format!(
            "nothing of trace {trace_id} in project `{}`",
            project.slug
        )));
    }
    let start = rows.iter().map(|r| r.ts).min();
    let end = rows
        .iter()
        .map(|r| r.ts + chrono::Duration::microseconds((r.duration_ms * 1000.0) as i64))
        .max();
    let mut rows = rows;
    fill_segments(&mut rows, &trace_id);
    let depths = depths(&rows);
    let spans = rows
        .into_iter()
        .zip(depths)
        .map(|(r, depth)| TraceSpan {
            offset_ms: start.map_or(0.0, |s| duration_ms(s, r.ts)),
            depth,
            span_id: r.span_id,
            parent_span_id: r.parent_span_id,
            segment_id: r.segment_id,
            is_segment: r.is_segment,
            transaction: r.transaction,
            op: r.op,
            name: r.name,
            status: r.status,
            ts: r.ts,
            duration_ms: r.duration_ms,
            service: r.service,
            environment: r.environment,
            release: r.release,
            http_status: r.http_status,
            tags: object(r.tags),
            data: object(r.data),
        })
        .collect();
    Ok(Json(TraceDetail {
        trace_id,
        duration_ms: match (start, end) {
            (Some(start), Some(end)) => duration_ms(start, end),
            _ => 0.0,
        },
        start,
        spans,
        errors,
        logs,
    }))
}

/// Each span's number of ancestors among `rows` (a span whose parent is
/// missing counts as a root).
fn depths(rows: &[SpanRow]) -> Vec<u32> {
    let index: HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.span_id.as_str(), i))
        .collect();
    let mut depths: Vec<Option<u32>> = vec![None; rows.len()];
    for i in 0..rows.len() {
        // Walk up to a span whose depth is known or a root, then fill in the path.
        let mut path = vec![i];
        let mut base = 0;
        while let Some(&at) = path.last() {
            if let Some(known) = depths[at] {
                path.pop();
                base = known + 1;
                break;
            }
            let parent = rows[at]
                .parent_span_id
                .as_deref()
                .and_then(|p| index.get(p).copied());
            match parent {
                // A cycle (malformed input) ends the walk like a root.
                Some(p) if !path.contains(&p) => path.push(p),
                _ => break,
            }
        }
        for (steps, at) in path.into_iter().rev().enumerate() {
            depths[at] = Some(base + steps as u32);
        }
    }
    depths.into_iter().map(Option::unwrap_or_default).collect()
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn row(span_id: &str, parent: Option<&str>) -> SpanRow {
        SpanRow {
            span_id: span_id.into(),
            parent_span_id: parent.map(Into::into),
            segment_id: None,
            is_segment: false,
            transaction: String::new(),
            op: String::new(),
            name: String::new(),
            status: "ok".into(),
            ts: Utc::now(),
            duration_ms: 0.0,
            service: String::new(),
            environment: String::new(),
            release: String::new(),
            http_status: None,
            tags: Value::Null,
            data: Value::Null,
        }
    }

    #[test]
    fn depth_counts_ancestors_present_in_the_trace() {
        let rows = [
            row("c", Some("b")),
            row("a", None),
            row("b", Some("a")),
            row("d", Some("missing")),
            row("x", Some("y")),
            row("y", Some("x")),
        ];
        assert_eq!(depths(&rows), vec![2, 0, 1, 0, 1, 0]);
    }
}
