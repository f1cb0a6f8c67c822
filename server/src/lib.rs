//! Sightline's server: one binary that takes in logs, errors, traces and
//! metrics (product events are next), stores them in PostgreSQL and serves the
//! web UI, `/api/v1` and Prometheus's query API. `docs/ARCHITECTURE.md` draws the paths and the layers.
//!
//! A tour, in the order a request meets the code:
//!
//! - [`cli`] parses the command line (`serve`, `migrate`, `user create`, ...) and
//!   [`config`] reads the `SIGHTLINE_*` environment.
//! - [`db`] opens the pool, either to `SIGHTLINE_DATABASE_URL` or to a private
//!   PostgreSQL cluster it starts under the data directory ([`db::embedded`]), and
//!   runs the migrations in `migrations/`.
//! - [`state`] puts an instance together: one batch writer per kind of data, the
//!   query sources, the partitioned tables, the background workers. [`routes`]
//!   merges every domain's routes behind the edge's middleware ([`http`]: the one
//!   error shape [`http::error::ApiError`], request ids, logs and metrics with
//!   [`telemetry`]).
//! - Ingest: [`ingest`] holds one adapter per protocol (Loki, Elasticsearch
//!   `_bulk`, OTLP, Sentry, Prometheus remote write and scraping, Sightline's
//!   own JSON), which decode into domain
//!   records and hand them to the domain's writer; [`pipeline`] is the ground
//!   under every writer: the bounded queue with group commit and acknowledgement
//!   after commit, the clock-drift rule, deduplication, partition upkeep and
//!   retention, the workers.
//! - Domains: [`logs`] (records, writer, the search language, search and live
//!   tail), [`errors`] (Sentry events grouped into issues, the issue workflow,
//!   release health), [`traces`] (spans and transactions, the performance
//!   pages), [`metrics`] (series and samples, the PromQL engine, Prometheus's
//!   query API, scrape targets), with [`auth`] (users and their management, sessions, tokens) and
//!   [`projects`] (projects, ingest keys, each user's default project) at the edge, and [`overview`] and [`ui`] (the Leptos shell).
//! - Reads: [`query`] is what every read shares — time ranges, the caller's scope,
//!   the query pool and timeout — and the one query model, `POST /api/v1/query`,
//!   which each domain answers as a [`query::source::Source`].
//! - [`serve`] binds the listener and shuts down in order: stop accepting, finish
//!   in-flight requests, stop the workers (writers drain their queues), stop the
//!   embedded PostgreSQL.

// Leptos view types nest deeply; rendering them needs a higher limit.
#![recursion_limit = "256"]

pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod errors;
pub mod http;
pub mod ingest;
pub mod logs;
pub mod metrics;
pub mod overview;
pub mod pipeline;
pub mod projects;
pub mod query;
pub mod routes;
pub mod serve;
pub mod state;
pub mod telemetry;
pub mod traces;
pub mod ui;

pub use state::AppState;
