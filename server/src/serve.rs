//! `sightline serve`: bind, serve, and shut down in order — stop accepting, let
//! in-flight requests finish (at most [`DRAIN_DEADLINE`]), close the pool, stop the
//! embedded PostgreSQL.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    db::{self, Opener},
    routes, AppState,
};

/// How long in-flight requests get after SIGINT/SIGTERM before they are cut off;
/// with the PostgreSQL stop this keeps the whole exit well under 10 s.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(5);
/// How long the log writers get to flush their queue after requests are done.
pub const WORKER_DEADLINE: Duration = Duration::from_secs(2);

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let database = db::open(&config, Opener::Server).await?;
    let result = run(config, &database.pool).await;
    database.pool.close().await;
    if let Some(pg) = &database.embedded {
        if let Err(e) = pg.stop().await {
            tracing::error!(error = %format!("{e:#}"), "stopping the embedded PostgreSQL failed");
        }
    }
    result
}

async fn run(config: Config, pool: &sqlx::PgPool) -> anyhow::Result<()> {
    db::migrate(pool).await?;
    let listen = config.listen;
    let public_url = config.public_url.to_string();
    let state = AppState::new(pool.clone(), config)?;
    state.start_upkeep();
    if state.config.self_scrape {
        // The address this instance answers at on this machine.
        let host = if listen.ip().is_unspecified() {
            std::net::IpAddr::from([127, 0, 0, 1])
        } else {
            listen.ip()
        };
        let url = format!("http://{}/metrics", SocketAddr::new(host, listen.port()));
        if let Err(error) = crate::metrics::targets::ensure_self_scrape(&state, &url).await {
            tracing::warn!(error = %error, "self-monitoring could not be set up");
        }
    }
    state.start_scraper();
    let workers = state.workers.clone();
    let app = routes::router(state);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("SIGHTLINE_LISTEN: cannot listen on {listen}"))?;
    tracing::info!(address = %listen, public_url, "Sightline is listening");

    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            tracing::info!("shutting down: no new connections, finishing in-flight requests");
            shutdown.cancel();
        }
    });
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    tokio::select! {
        result = server => result.context("serving HTTP")?,
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(DRAIN_DEADLINE).await;
        } => tracing::warn!("in-flight requests did not finish in time; closing them"),
    }
    // Requests are done: let the writers flush what is queued, then stop workers.
    if !workers.stop(WORKER_DEADLINE).await {
        tracing::warn!("background workers did not stop in time");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
