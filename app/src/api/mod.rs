//! `app::api`: the wire types of Sightline's `/api/v1`, shared by the server (which
//! serialises them and documents them in the OpenAPI document) and the UI (which
//! deserialises them), plus the UI's typed client for the API.

mod errors;
mod logs;
mod metrics;
mod performance;
mod query;
mod types;
pub use errors::*;
pub use logs::*;
pub use metrics::*;
pub use performance::*;
pub use query::*;
pub use types::*;

pub mod client;
