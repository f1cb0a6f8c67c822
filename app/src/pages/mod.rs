//! One module per page. `/setup` and `/login` stand alone; the others render inside
//! the app layout and assume a session (the server redirects otherwise).

pub mod alerts;
pub mod analytics;
pub mod dashboards;
pub mod errors;
pub mod login;
pub mod logs;
pub mod metrics;
pub mod not_found;
pub mod overview;
pub mod performance;
pub mod settings;
pub mod setup;
