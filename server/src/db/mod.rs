//! The database: connecting (to a configured server or the embedded cluster),
//! migrating, keeping the time-partitioned tables ([`partitions`]), and the text
//! format batch writers feed `COPY` with ([`copy`]).

pub mod copy;
pub mod embedded;
pub mod partitions;

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
