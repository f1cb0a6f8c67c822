//! Sightline's server: one binary that takes in logs, errors, metrics, traces and
//! user events, stores them in PostgreSQL and serves the web UI and `/api/v1`.
//!
//! A tour, in the order a request meets the code:
//!
//! - [`cli`] parses the command line (`serve`, `migrate`, `user create`, ...) and
//!   [`config`] reads the `SIGHTLINE_*` environment.
//! - [`db`] opens the pool, either to `SIGHTLINE_DATABASE_URL` or to a private
//!   PostgreSQL cluster it starts under the data directory ([`db::embedded`]), and
//!   runs the migrations in `migrations/`.
//! - [`http`] builds the router: every domain module ([`auth`], [`projects`],
//!   [`overview`], [`ingest`], [`logs`], [`ui`]) contributes its own routes; [`http::error::ApiError`] is
//!   the one error shape of the API; the request middleware gives every request an
//!   id, a log line and its metrics ([`telemetry`]).
//! - [`ingest`] decodes each ingestion protocol into domain records; [`logs`]
//!   stores log lines through one batch writer (bounded queue, COPY, group
//!   commit, answer after commit) into day partitions, and searches them;
//!   [`errors`] and [`traces`] do the same for Sentry events and for spans.
//! - [`serve`] binds the listener and shuts down in order: stop accepting, finish
//!   in-flight requests, stop the embedded PostgreSQL.

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
