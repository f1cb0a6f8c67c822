//! Sightline's integration tests, in one test binary: the real server over real HTTP
//! against a real PostgreSQL (each `#[sqlx::test]` its own database), the real
//! `sightline` binary, and real client libraries (Python packages, the `sentry` crate).
//!
//! One binary rather than one per file: every test binary links the whole server,
//! so fifteen of them cost fifteen links and gigabytes of disk for no gain.
//! Run one area with `cargo test -p server --test integration logs_query::`.

mod common;

mod api;
mod auth;
mod cli;
mod dogfood;
mod embedded;
mod errors_api;
mod indexes;
mod ingest_elastic;
mod ingest_loki;
mod ingest_otlp;
mod logs_ingest;
mod logs_query;
mod metrics_compaction;
mod metrics_promql_peer;
mod metrics_query_api;
mod metrics_remote_write;
mod metrics_rollups;
mod metrics_scrape;
mod performance;
mod query_api;
mod robustness;
mod self_monitoring;
mod sentry_ingest;
mod shipper_rsyslog;
