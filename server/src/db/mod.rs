//! The database: connecting (to a configured server or the embedded cluster),
//! migrating, and the text format batch writers feed `COPY` with ([`copy`]).
//! Partitioned tables are kept by [`crate::pipeline::partitions`].

pub mod copy;
pub mod embedded;

use std::time::Duration;

use anyhow::Context;
use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};

use crate::config::Config;

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Where the database is, and the embedded cluster when Sightline runs one.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<embedded::EmbeddedPostgres>,
}

/// Who is opening the database: the server adopts (and at exit stops) an embedded
/// cluster it finds running; a CLI command leaves a running one alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    Server,
    Cli,
}

/// Connects to the configured database, starting the embedded cluster if no URL is
/// configured.
pub async fn open(config: &Config, opener: Opener) -> anyhow::Result<Database> {
    let (options, embedded) = match &config.database_url {
        Some(url) => {
            let options: PgConnectOptions = url
                .parse()
                .context("SIGHTLINE_DATABASE_URL: not a valid PostgreSQL URL")?;
            (options, None)
        }
        None => {
            let pg = embedded::EmbeddedPostgres::start(&config.data_dir, opener == Opener::Server)
                .await?;
            (pg.connect_options(), Some(pg))
        }
    };
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await
        .with_context(|| format!("could not connect to PostgreSQL at {}", describe(&options)))?;
    Ok(Database { pool, embedded })
}

/// Applies every pending migration.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("running migrations")?;
    Ok(())
}

/// Whether every migration this binary knows is applied (for `/readyz`).
pub async fn migrations_applied(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    let applied: Option<i64> =
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
            .fetch_one(pool)
            .await?;
    Ok(applied.unwrap_or(0) >= latest)
}

fn describe(options: &PgConnectOptions) -> String {
    match options.get_socket() {
        Some(dir) => format!("socket {}", dir.display()),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    }
}

/// Whether `error` means the database cannot be reached right now (down,
/// restarting, refusing connections, out of connections), as opposed to a
/// query it refused. Such failures are answered 503 with `Retry-After`: the
/// request was fine and will succeed once PostgreSQL is back.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), 57P01..57P03 (admin or crash
        // shutdown, cannot connect now) and 53300 (too many connections).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// [`is_unavailable`] for an error anywhere in an `anyhow` chain.
pub fn is_unavailable_chain(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .is_some_and(is_unavailable)
    })
}
