//! [`AppState`]: the one value every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

use crate::{config::Config, telemetry::RequestRate};

/// Shared by every request: cheap to clone (everything inside is a handle).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub leptos: LeptosOptions,
    /// Requests served per minute by this instance, for the Overview page.
    pub request_rate: Arc<RequestRate>,
}

impl AppState {
    /// Builds the state from an open pool and the configuration.
    pub fn new(pool: PgPool, config: Config) -> Self {
        // Install the metrics recorder before the first request records anything.
        crate::telemetry::prometheus();
        let leptos = LeptosOptions::builder()
            .output_name(env!("LEPTOS_OUTPUT_NAME"))
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(config.listen)
            .build();
        AppState {
            pool,
            config: Arc::new(config),
            leptos,
            request_rate: Arc::new(RequestRate::default()),
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
