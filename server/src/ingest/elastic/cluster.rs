//! The handshake: the cluster endpoints clients and shippers read before they
//! send, answered as a one-node Elasticsearch 8 cluster that is always green.
//!
//! Index management is accepted and ignored: Sightline has no indices to
//! configure (an index name is kept as an attribute of each record) and its own
//! retention. Index templates, ILM policies and data streams are all reported as
//! existing (`HEAD` and `GET` answer 200), so Filebeat's and Logstash's setup
//! skips them; a `PUT` (Filebeat with `setup.template.overwrite`, or
//! `filebeat setup`) is acknowledged.

use axum::{
    extract::Path,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use super::EsKey;

/// The Elasticsearch version announced: 8.x is what the 8.x clients and shippers
/// (and their "too new/too old" checks) expect.
pub const VERSION: &str = "8.17.0";
const LUCENE_VERSION: &str = "9.12.0";
const CLUSTER_NAME: &str = "sightline";
const CLUSTER_UUID: &str = "c2lnaHRsaW5lLWNsdXN0";
const NODE_ID: &str = "c2lnaHRsaW5lLW5vZGU";
const BUILD_HASH: &str = "sightline";
const BUILD_DATE: &str = "2024-12-11T12:08:05.663969764Z";

/// `GET /` and `HEAD /` (see [`root_handshake`](super::root_handshake)); the
/// server leaves out the body of a `HEAD` answer.
pub fn info() -> Response {
    Json(json!({
        "name": CLUSTER_NAME,
        "cluster_name": CLUSTER_NAME,
        "cluster_uuid": CLUSTER_UUID,
        "version": {
            "number": VERSION,
            "build_flavor": "default",
            "build_type": "docker",
            "build_hash": BUILD_HASH,
            "build_date": BUILD_DATE,
            "build_snapshot": false,
            "lucene_version": LUCENE_VERSION,
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    }))
    .into_response()
}

/// `GET /_cluster/health`: Vector's health check, among others.
pub async fn health(_key: EsKey) -> Json<Value> {
    Json(json!({
        "cluster_name": CLUSTER_NAME,
        "status": "green",
        "timed_out": false,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": 0,
        "active_shards": 0,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": 0,
        "unassigned_primary_shards": 0,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": 100.0,
    }))
}

/// `GET /_cat/health`: one line of text, or JSON with `?format=json`.
pub async fn cat_health(_key: EsKey, uri: axum::http::Uri) -> Response {
    let now = chrono::Utc::now();
    let epoch = now.timestamp().to_string();
    let time = now.format("%H:%M:%S").to_string();
    if uri.query().is_some_and(|q| q.contains("format=json")) {
        return Json(json!([{
            "epoch": epoch, "timestamp": time, "cluster": CLUSTER_NAME, "status": "green",
            "node.total": "1", "node.data": "1", "shards": "0", "pri": "0", "relo": "0",
            "init": "0", "unassign": "0", "pending_tasks": "0", "max_task_wait_time": "-",
            "active_shards_percent": "100.0%",
        }]))
        .into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
        format!("{epoch} {time} {CLUSTER_NAME} green 1 1 0 0 0 0 0 0 - 100.0%\n"),
    )
        .into_response()
}

/// `GET /_license`: Beats and Logstash refuse to run without an active license.
pub async fn license(_key: EsKey) -> Json<Value> {
    Json(json!({
        "license": {
            "status": "active",
            "uid": "00000000-0000-4000-8000-000000000000",
            "type": "basic",
            "issue_date": "2024-01-01T00:00:00.000Z",
            "issue_date_in_millis": 1_704_067_200_000_i64,
            "max_nodes": 1000,
            "max_resource_units": null,
            "issued_to": CLUSTER_NAME,
            "issuer": "elasticsearch",
            "start_date_in_millis": -1,
        }
    }))
}

/// `GET /_xpack`: feature discovery of older Beats and Logstash.
pub async fn xpack(_key: EsKey) -> Json<Value> {
    let on = json!({"available": true, "enabled": true});
    Json(json!({
        "build": {"hash": BUILD_HASH, "date": BUILD_DATE},
        "license": {"uid": "00000000-0000-4000-8000-000000000000", "type": "basic", "mode": "basic", "status": "active"},
        "features": {"ilm": on, "security": on, "data_streams": on},
        "tagline": "You know, for X",
    }))
}

/// `GET /_nodes` and `GET /_nodes/{...}`: this one node, reachable at the address
/// the client used (clients that sniff connect there).
pub async fn nodes(_key: EsKey, headers: HeaderMap) -> Json<Value> {
    let address = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1:9200");
    Json(json!({
        "_nodes": {"total": 1, "successful": 1, "failed": 0},
        "cluster_name": CLUSTER_NAME,
        "nodes": {
            NODE_ID: {
                "name": CLUSTER_NAME,
                "transport_address": address,
                "host": address.rsplit_once(':').map_or(address, |(host, _)| host),
                "ip": address.rsplit_once(':').map_or(address, |(host, _)| host),
                "version": VERSION,
                "build_flavor": "default",
                "build_type": "docker",
                "build_hash": BUILD_HASH,
                "roles": ["data", "ingest", "master"],
                "http": {"bound_address": [address], "publish_address": address},
            }
        }
    }))
}

/// `GET /_index_template/{name}` (and so `HEAD`): a template matching the name.
pub async fn get_index_template(_key: EsKey, Path(name): Path<String>) -> Json<Value> {
    Json(json!({
        "index_templates": [{
            "name": name,
            "index_template": {
                "index_patterns": [format!("{name}*")],
                "template": {},
                "composed_of": [],
                "data_stream": {"hidden": false, "allow_custom_routing": false},
            }
        }]
    }))
}

/// `PUT /_ilm/policy/{name}`, `PUT /_index_template/{name}`,
/// `PUT /_data_stream/{name}`: acknowledged, nothing to do.
pub async fn acknowledge(_key: EsKey, Path(_name): Path<String>) -> Json<Value> {
    Json(json!({"acknowledged": true}))
}

/// `GET /_ilm/policy/{name}`: an empty policy (Sightline's retention applies).
pub async fn get_ilm_policy(_key: EsKey, Path(name): Path<String>) -> Json<Value> {
    Json(json!({
        name: {
            "version": 1,
            "modified_date": "2024-01-01T00:00:00.000Z",
            "policy": {"phases": {"hot": {"min_age": "0ms", "actions": {}}}},
            "in_use_by": {"indices": [], "data_streams": [], "composable_templates": []},
        }
    }))
}

/// `GET /_data_stream/{name}`: a data stream of that name.
pub async fn get_data_stream(_key: EsKey, Path(name): Path<String>) -> Json<Value> {
    Json(json!({
        "data_streams": [{
            "name": name,
            "timestamp_field": {"name": "@timestamp"},
            "indices": [],
            "generation": 1,
            "status": "GREEN",
            "template": name,
            "hidden": false,
            "system": false,
        }]
    }))
}
