//! The query layer: what every read of stored data shares, whatever its kind.
//!
//! - [`source`]: the one query model — each kind of data is a [`source::Source`]
//!   answering "this query over this range at this step" with labelled series,
//!   exposed as `POST /api/v1/query` ([`api`]);
//! - [`scope`]: the project a read is about and the caller's right to read it;
//! - [`cursor`]: keyset cursors of newest-first pages;
//! - [`time_range`]: the `from`/`to` parameters (RFC 3339, epoch milliseconds,
//!   `now-15m`, `now+1h`, Grafana's rounding `now-7d/d`);
//! - [`terms`] and [`buckets`]: the small query grammar of sources without a
//!   language of their own (`p95 by transaction transaction:"GET /"`) and the
//!   bucketed statement they answer it with;
//! - the query pool ([`pool`]): read-only connections whose statements are
//!   cancelled after [`QUERY_TIMEOUT`], and [`query_error`], which answers a
//!   query's own faults (too slow, a bad regular expression) with a 400.
//!
//! Domains read through it and implement its [`source::Source`]; it names none
//! of them. Besides [`crate::db`] and [`crate::http`] it uses [`crate::auth`] and
//! [`crate::projects`], which every read needs.

pub mod api;
pub mod buckets;
pub mod cursor;
pub mod scope;
pub mod source;
pub mod terms;
pub mod time_range;

use sqlx::{postgres::PgPoolOptions, PgPool};

use crate::http::error::ApiError;

/// How long one user query may run (PostgreSQL's `statement_timeout`).
pub const QUERY_TIMEOUT: &str = "15s";

/// Connections for user queries (log search, ...), opened as `pool` opens its
/// own: read-only, and every statement is cancelled after [`QUERY_TIMEOUT`].
/// The natural place for a read replica later.
pub fn pool(pool: &PgPool) -> PgPool {
    let options = (*pool.connect_options()).clone().options([
        ("statement_timeout", QUERY_TIMEOUT),
        ("default_transaction_read_only", "on"),
        // Searches differ by their literals (a rare phrase wants the trigram
        // index, a common word the time order): a generic plan cached after
        // five runs picked one for all and made rare-phrase searches 2x
        // slower. Planning each query costs a few ms; measured worth it.
        ("plan_cache_mode", "force_custom_plan"),
    ]);
    PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect_lazy_with(options)
}

/// Database errors a query can cause: its own fault (bad regex, too slow) is 400.
pub fn query_error(error: sqlx::Error) -> ApiError {
    if let sqlx::Error::Database(db) = &error {
        match db.code().as_deref() {
            Some("57014") => {
                return ApiError::BadRequest(format!(
                "the query ran longer than {QUERY_TIMEOUT}; narrow the time range or add filters"
            ))
            }
            Some("2201B") => {
                return ApiError::BadRequest(format!(
                    "invalid regular expression: {}",
                    db.message()
                ))
            }
            Some("22P02" | "22003") => {
                return ApiError::BadRequest(format!("a value does not fit: {}", db.message()))
            }
            _ => {}
        }
    }
    error.into()
}

/// Escapes `\`, `%` and `_` so `text` matches itself in a LIKE pattern.
pub fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
