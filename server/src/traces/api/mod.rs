//! The performance read API: the transactions table and one transaction's
//! series ([`transactions`]), one trace with its errors and logs ([`trace`]),
//! and the project's Apdex threshold ([`settings`]). The SQL is
//! [`super::store`].

mod settings;
mod trace;
mod transactions;

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    transactions::router()
        .merge(trace::router())
        .merge(settings::router())
}
