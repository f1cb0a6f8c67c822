//! `POST /_bulk` and `POST /{index}/_bulk` (also `PUT`): NDJSON pairs of an
//! action line and a document line. `create` and `index` store the document as a
//! log record (see [`document`](super::document)); Sightline only appends, so
//! `delete` and `update` are refused item by item, as are malformed lines, while
//! the other items are stored. The answer lists every item in order, with
//! `errors: true` when any failed, in the shape shippers parse.
//!
//! The whole request fails (and nothing is stored) only when it cannot be read,
//! holds more than [`MAX_ITEMS`] items, or the ingest queue refuses it: 429
//! `es_rejected_execution_exception` with `Retry-After`, which every shipper
//! retries.

use std::time::Instant;

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{
    answer::{BulkItem, BulkResponse, IdSource, ItemOutcome, Op},
    document,
    error::EsError,
    EsKey,
};
use crate::{
    ingest::body::{self, BodyLimits},
    logs::{record::LogRecord, writer::MAX_RECORDS_PER_JOB},
    AppState,
};

/// Body limits: Filebeat's bulk requests reach ~50 MiB uncompressed.
pub const LIMITS: BodyLimits = BodyLimits {
    wire: 32 * 1024 * 1024,
    decoded: 128 * 1024 * 1024,
};
/// Most items (action lines) in one request.
pub const MAX_ITEMS: usize = MAX_RECORDS_PER_JOB;
/// Longest line (document or action); a longer document is refused on its own.
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// `POST /_bulk`: every action names its index.
pub async fn bulk(
    State(state): State<AppState>,
    key: EsKey,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, EsError> {
    ingest(state, key, None, headers, body).await
}

/// `POST /{index}/_bulk`: actions without `_index` go to `index`.
pub async fn bulk_into(
    State(state): State<AppState>,
    key: EsKey,
    Path(index): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, EsError> {
    ingest(state, key, Some(index), headers, body).await
}

async fn ingest(
    state: AppState,
    key: EsKey,
    index: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, EsError> {
    let started = Instant::now();
    check_content_type(&headers)?;
    let bytes = body::read(&state.decode, &headers, body, LIMITS).await?;
    let received = Utc::now();
    let batch = body::parse(bytes.len(), move || {
        parse(&bytes, index.as_deref(), received)
    })
    .await
    .map_err(EsError::from)??;
    let stored = batch.records.len();
    key.0.deliver(&state, &state.logs, batch.records).await?;
    let errors = batch.items.iter().any(|item| item.outcome.error.is_some());
    tracing::debug!(
        project_id = key.0.project_id,
        bulk.items = batch.items.len(),
        bulk.stored = stored,
        "elasticsearch bulk stored"
    );
    let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(axum::Json(BulkResponse {
        took,
        errors,
        items: batch.items,
    })
    .into_response())
}

/// Elasticsearch takes JSON, NDJSON and their `vnd.elasticsearch+` forms, and
/// answers 406 to anything else (`curl -d` sends a form type by default).
fn check_content_type(headers: &HeaderMap) -> Result<(), EsError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or_default().to_ascii_lowercase();
    if text.contains("json") {
        return Ok(());
    }
    Err(EsError::new(
        StatusCode::NOT_ACCEPTABLE,
        "media_type_header_exception",
        format!("Content-Type header [{text}] is not supported; send application/x-ndjson"),
    ))
}

/// A bulk body split into the records to store and the answer for each item.
#[derive(Debug)]
pub struct BulkBatch {
    pub records: Vec<LogRecord>,
    pub items: Vec<BulkItem>,
}

/// A readable action line.
struct Action {
    op: Op,
    index: Option<String>,
    id: Option<String>,
}

/// Reads a bulk body. `default_index` is the `{index}` of the path.
pub fn parse(
    body: &[u8],
    default_index: Option<&str>,
    received: DateTime<Utc>,
) -> Result<BulkBatch, EsError> {
    let mut lines = body
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim_ascii()))
        .filter(|(_, line)| !line.is_empty())
        .peekable();
    let mut ids = IdSource::new(received);
    let mut batch = BulkBatch {
        records: Vec::new(),
        items: Vec::new(),
    };
    while let Some((line_no, line)) = lines.next() {
        if batch.items.len() == MAX_ITEMS {
            return Err(EsError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "illegal_argument_exception",
                format!("more than {MAX_ITEMS} items in one bulk request; send smaller batches"),
            ));
        }
        let action = match read_action(line, line_no) {
            Ok(action) => action,
            Err(reason) => {
                // A bad action line's document is skipped with it, unless the
                // next line is itself an action.
                if lines.peek().is_some_and(|(_, next)| !is_action(next)) {
                    lines.next();
                }
                let index = default_index.unwrap_or_default();
                batch.items.push(BulkItem {
                    op: Op::Index,
                    outcome: ItemOutcome::refused(index, None, "parse_exception", reason),
                });
                continue;
            }
        };
        let index = action.index.as_deref().or(default_index);
        let id = action.id.clone();
        let document = match action.op {
            Op::Delete => None,
            Op::Create | Op::Index | Op::Update => Some(lines.next()),
        };
        let outcome = match (action.op, index, document) {
            (Op::Delete | Op::Update, _, _) => ItemOutcome::refused(
                index.unwrap_or_default(),
                id,
                "illegal_argument_exception",
                format!(
                    "[{}] is not supported: Sightline stores logs append-only, so documents cannot be updated or deleted; use `create` or `index`",
                    action.op.name()
                ),
            ),
            (_, None, _) => ItemOutcome::refused(
                "",
                id,
                "action_request_validation_exception",
                "Validation Failed: 1: index is missing; name it in the action's `_index` or post to /{index}/_bulk".into(),
            ),
            (_, Some(index), None | Some(None)) => ItemOutcome::refused(
                index,
                id,
                "parse_exception",
                format!("the action on line {line_no} has no document line after it"),
            ),
            (_, Some(index), Some(Some((doc_line_no, line)))) => {
                let id = id.unwrap_or_else(|| ids.next());
                match read_document(line, doc_line_no, index, received) {
                    Ok(record) => {
                        let seq_no = batch.records.len() as u64;
                        batch.records.push(record);
                        ItemOutcome::created(index, id, seq_no)
                    }
                    Err(reason) => ItemOutcome::refused(
                        index,
                        Some(id),
                        "mapper_parsing_exception",
                        reason,
                    ),
                }
            }
        };
        batch.items.push(BulkItem {
            op: action.op,
            outcome,
        });
    }
    if batch.items.is_empty() {
        return Err(EsError::new(
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
            "Validation Failed: 1: no requests added;",
        ));
    }
    Ok(batch)
}

fn read_action(line: &[u8], line_no: usize) -> Result<Action, String> {
    if line.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "Malformed action/metadata line [{line_no}]: longer than 1 MiB"
        ));
    }
    let value: Value = serde_json::from_slice(line)
        .map_err(|e| format!("Malformed action/metadata line [{line_no}]: {e}"))?;
    let Value::Object(object) = value else {
        return Err(format!(
            "Malformed action/metadata line [{line_no}], expected START_OBJECT"
        ));
    };
    let mut entries = object.into_iter();
    let (Some((name, meta)), None) = (entries.next(), entries.next()) else {
        return Err(format!(
            "Malformed action/metadata line [{line_no}], expected exactly one action"
        ));
    };
    let op = Op::from_name(&name).ok_or_else(|| {
        format!("Malformed action/metadata line [{line_no}], expected one of [create, delete, index, update] but found [{name}]")
    })?;
    let Value::Object(meta) = meta else {
        return Err(format!(
            "Malformed action/metadata line [{line_no}], expected an object after [{name}]"
        ));
    };
    let text = |field: &str| match meta.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Ok(Action {
        op,
        index: text("_index"),
        id: text("_id"),
    })
}

/// Whether `line` reads as an action line (to resynchronise after a bad one).
fn is_action(line: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<Value>(line),
        Ok(Value::Object(object)) if object.len() == 1
            && object.iter().all(|(name, meta)| Op::from_name(name).is_some() && meta.is_object())
    )
}

fn read_document(
    line: &[u8],
    line_no: usize,
    index: &str,
    received: DateTime<Utc>,
) -> Result<LogRecord, String> {
    if line.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "the document on line {line_no} is larger than {} KiB",
            MAX_DOCUMENT_BYTES / 1024
        ));
    }
    let value: Value = serde_json::from_slice(line)
        .map_err(|e| format!("failed to parse the document on line {line_no}: {e}"))?;
    document::to_record(value, index, received)
        .map_err(|e| format!("failed to parse the document on line {line_no}: {e}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn statuses(batch: &BulkBatch) -> Vec<(Op, u16, Option<&'static str>)> {
        batch
            .items
            .iter()
            .map(|i| {
                (
                    i.op,
                    i.outcome.status,
                    i.outcome.error.as_ref().map(|e| e.kind),
                )
            })
            .collect()
    }

    #[test]
    fn mixed_actions_answer_in_order() {
        let body = concat!(
            "{\"create\":{\"_index\":\"a\"}}\n{\"message\":\"one\"}\n",
            "{\"delete\":{\"_index\":\"a\",\"_id\":\"1\"}}\n",
            "{\"index\":{\"_id\":\"x-7\"}}\n{\"message\":\"two\"}\r\n",
            "{\"update\":{\"_id\":\"1\"}}\n{\"doc\":{\"a\":1}}\n",
            "not json\n{\"message\":\"skipped with its action\"}\n",
            "{\"index\":{}}\n{\"message\":\n",
            "{\"upsert\":{}}\n",
            "{\"create\":{}}\n[1,2]\n",
            "\n{\"index\":{\"_index\":\"b\"}}\n{\"message\":\"three\"}",
        );
        let batch = parse(body.as_bytes(), Some("dflt"), Utc::now()).unwrap();
        assert_eq!(
            statuses(&batch),
            vec![
                (Op::Create, 201, None),
                (Op::Delete, 400, Some("illegal_argument_exception")),
                (Op::Index, 201, None),
                (Op::Update, 400, Some("illegal_argument_exception")),
                (Op::Index, 400, Some("parse_exception")),
                (Op::Index, 400, Some("mapper_parsing_exception")),
                (Op::Index, 400, Some("parse_exception")),
                (Op::Create, 400, Some("mapper_parsing_exception")),
                (Op::Index, 201, None),
            ]
        );
        let messages: Vec<_> = batch.records.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, ["one", "two", "three"]);
        let indexes: Vec<_> = batch
            .records
            .iter()
            .map(|r| r.attributes.to_value()["index"].clone())
            .collect();
        assert_eq!(indexes, [json!("a"), json!("dflt"), json!("b")]);
        assert_eq!(batch.items[2].outcome.id.as_deref(), Some("x-7"));
        assert_eq!(batch.items[1].outcome.id.as_deref(), Some("1"));
        assert_eq!(batch.items[4].outcome.id, None);
    }

    #[test]
    fn answer_has_the_shape_clients_parse() {
        let batch = parse(
            b"{\"create\":{\"_index\":\"i\"}}\n{}\n{\"delete\":{\"_index\":\"i\",\"_id\":\"9\"}}\n",
            None,
            Utc::now(),
        )
        .unwrap();
        let answer = serde_json::to_value(BulkResponse {
            took: 3,
            errors: true,
            items: batch.items,
        })
        .unwrap();
        let created = &answer["items"][0]["create"];
        let id = created["_id"].as_str().unwrap();
        assert_eq!(id.len(), 20);
        assert_eq!(
            created,
            &json!({"_index": "i", "_id": id, "_version": 1, "result": "created",
                "_shards": {"total": 1, "successful": 1, "failed": 0}, "_seq_no": 0, "_primary_term": 1, "status": 201})
        );
        let deleted = &answer["items"][1]["delete"];
        assert_eq!(deleted["status"], 400);
        assert_eq!(deleted["_id"], "9");
        assert_eq!(deleted["error"]["type"], "illegal_argument_exception");
        assert!(deleted["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("append-only"));
    }

    #[test]
    fn generated_ids_are_unique() {
        let mut ids = IdSource::new(Utc::now());
        let a = ids.next();
        assert_ne!(a, ids.next());
        assert_ne!(a, IdSource::new(Utc::now()).next());
    }

    #[test]
    fn missing_index_large_documents_and_empty_bodies() {
        let big = format!(
            "{{\"index\":{{}}}}\n{{\"message\":\"{}\"}}\n",
            "x".repeat(MAX_DOCUMENT_BYTES)
        );
        let batch = parse(big.as_bytes(), Some("i"), Utc::now()).unwrap();
        assert!(batch.items[0]
            .outcome
            .error
            .as_ref()
            .unwrap()
            .reason
            .contains("larger than 1024 KiB"));
        let batch = parse(b"{\"index\":{}}\n{}\n", None, Utc::now()).unwrap();
        assert_eq!(
            batch.items[0].outcome.error.as_ref().unwrap().kind,
            "action_request_validation_exception"
        );
        assert_eq!(batch.items[0].outcome.status, 400);
        assert_eq!(
            parse(b"\n \n", None, Utc::now()).unwrap_err().status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn too_many_items_fail_the_request() {
        let body = "{\"delete\":{\"_index\":\"i\",\"_id\":\"1\"}}\n".repeat(MAX_ITEMS + 1);
        let error = parse(body.as_bytes(), None, Utc::now()).unwrap_err();
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
