//! The answer to a bulk request: one outcome per action, in order, in the shape
//! the Python client's `helpers.bulk`, Filebeat, Logstash, Vector and Fluent Bit
//! parse (`{"took", "errors", "items": [{"create": {"_index", "_id", "status",
//! ...}}]}`), and the document ids generated for actions that bring none.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::http::StatusCode;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{ser::SerializeMap, Serialize, Serializer};

/// A bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Create,
    Index,
    Delete,
    Update,
}

impl Op {
    /// The action's name in a bulk body.
    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Index => "index",
            Op::Delete => "delete",
            Op::Update => "update",
        }
    }

    pub(super) fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "create" => Op::Create,
            "index" => Op::Index,
            "delete" => Op::Delete,
            "update" => Op::Update,
            _ => return None,
        })
    }
}

/// The answer to a bulk request.
#[derive(Debug, Serialize)]
pub struct BulkResponse {
    /// Milliseconds spent.
    pub took: u64,
    /// Whether any item failed.
    pub errors: bool,
    pub items: Vec<BulkItem>,
}

/// The answer for one action: `{"<op>": {...}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkItem {
    pub op: Op,
    pub outcome: ItemOutcome,
}

impl Serialize for BulkItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(&self.op, &self.outcome)?;
        map.end()
    }
}

/// What happened to one item: stored (201, `result: created`) or refused (400
/// with an `error`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemOutcome {
    #[serde(rename = "_index")]
    pub index: String,
    /// The client's `_id`, or a generated one; `null` when the action line could
    /// not be read.
    #[serde(rename = "_id")]
    pub id: Option<String>,
    #[serde(rename = "_version", skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'static str>,
    #[serde(rename = "_shards", skip_serializing_if = "Option::is_none")]
    pub shards: Option<Shards>,
    #[serde(rename = "_seq_no", skip_serializing_if = "Option::is_none")]
    pub seq_no: Option<u64>,
    #[serde(rename = "_primary_term", skip_serializing_if = "Option::is_none")]
    pub primary_term: Option<u64>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemError>,
}

/// The shard counts of a stored item (one copy, written).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shards {
    pub total: u32,
    pub successful: u32,
    pub failed: u32,
}

/// Why an item was refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemError {
    /// Elasticsearch's exception name.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub reason: String,
}

impl ItemOutcome {
    pub(super) fn created(index: &str, id: String, seq_no: u64) -> Self {
        ItemOutcome {
            index: index.to_owned(),
            id: Some(id),
            version: Some(1),
            result: Some("created"),
            shards: Some(Shards {
                total: 1,
                successful: 1,
                failed: 0,
            }),
            seq_no: Some(seq_no),
            primary_term: Some(1),
            status: StatusCode::CREATED.as_u16(),
            error: None,
        }
    }

    pub(super) fn refused(
        index: &str,
        id: Option<String>,
        kind: &'static str,
        reason: String,
    ) -> Self {
        ItemOutcome {
            index: index.to_owned(),
            id,
            version: None,
            result: None,
            shards: None,
            seq_no: None,
            primary_term: None,
            status: StatusCode::BAD_REQUEST.as_u16(),
            error: Some(ItemError { kind, reason }),
        }
    }
}

/// Document ids for items that bring none: 20 URL-safe base64 characters, like
/// Elasticsearch's, from the time, a random part per request and a counter.
pub(super) struct IdSource {
    prefix: [u8; 12],
    next: u32,
}

impl IdSource {
    pub(super) fn new(now: DateTime<Utc>) -> Self {
        let mut prefix = [0u8; 12];
        let millis = now.timestamp_millis().to_be_bytes();
        prefix[..6].copy_from_slice(&millis[2..]);
        OsRng.fill_bytes(&mut prefix[6..]);
        IdSource { prefix, next: 0 }
    }

    pub(super) fn next(&mut self) -> String {
        let mut bytes = [0u8; 15];
        bytes[..12].copy_from_slice(&self.prefix);
        bytes[12..].copy_from_slice(&self.next.to_be_bytes()[1..]);
        self.next += 1;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}
