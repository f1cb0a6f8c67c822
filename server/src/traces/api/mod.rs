//! The performance read API: the transactions table and one transaction's
//! series ([`transactions`]), one trace with its errors and logs ([`trace`]),
//! and the project's Apdex threshold ([`settings`]).

mod settings;
mod trace;
mod transactions;

use utoipa_axum::router::OpenApiRouter;

use super::span::SpanStatus;
use crate::{http::error::ApiResult, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    transactions::router()
        .merge(trace::router())
        .merge(settings::router())
}

/// The select list of the figures of a group of segments: `count`, `p50_ms`,
/// `p95_ms`, `p99_ms`, `error_rate` and `apdex` for threshold `apdex_ms`.
fn figures(apdex_ms: i32) -> String {
    // Statuses Sentry does not count as failures, from the one definition.
    let fine: Vec<String> = SpanStatus::ALL
        .iter()
        .filter(|s| !s.is_failure())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let fine = fine.join(", ");
    let tolerated = i64::from(apdex_ms) * 4;
    format!(
        "count(*) as count,
         percentile_cont(0.5) within group (order by duration_ms) as p50_ms,
         percentile_cont(0.95) within group (order by duration_ms) as p95_ms,
         percentile_cont(0.99) within group (order by duration_ms) as p99_ms,
         (count(*) filter (where status not in ({fine})))::float8 / count(*) as error_rate,
         (count(*) filter (where duration_ms <= {apdex_ms})
          + count(*) filter (where duration_ms > {apdex_ms} and duration_ms <= {tolerated}) / 2.0
         )::float8 / count(*) as apdex"
    )
}

/// The project's Apdex threshold in milliseconds.
async fn apdex_threshold(state: &AppState, project_id: i64) -> ApiResult<i32> {
    Ok(
        sqlx::query_scalar("select apdex_threshold_ms from project where project_id = $1")
            .bind(project_id)
            .fetch_one(&state.pool)
            .await?,
    )
}
