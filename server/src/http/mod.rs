//! The HTTP edge: the API's error shape and extractors ([`error`]), health and
//! metrics endpoints, the OpenAPI document's common parts, and the per-request
//! middleware. It knows no domain: [`crate::routes`] puts every domain's routes
//! behind it.

pub mod client_ip;
pub mod error;
pub mod health;
pub mod nul;
pub mod observe;

use std::time::Duration;

use utoipa::OpenApi;

/// Largest request body the configuration API accepts. Ingestion endpoints set
/// their own limits.
pub const API_BODY_LIMIT: usize = 256 * 1024;
/// A request that takes longer than this is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(OpenApi)]
#[openapi(
    modifiers(&SecuritySchemes),
    components(schemas(app::api::ErrorBody, app::api::ErrorDetail)),
    info(title = "Sightline API", description = "Everything the Sightline UI does, scripts can do with an API token (`Authorization: Bearer <token>`) through these endpoints."),
    tags(
        (name = "auth", description = "Sessions, the caller, first-run setup"),
        (name = "users", description = "People who log in (admin)"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "projects", description = "Projects and their ingest keys"),
        (name = "overview", description = "Figures for the Overview page"),
        (name = "ingest", description = "Sending data (authenticated by a project's ingest key)"),
        (name = "logs", description = "Searching logs"),
        (name = "performance", description = "Transactions, their series, and traces"),
        (name = "query", description = "Series of any kind of data, for charts and alerts"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// Declares how callers authenticate: API tokens and ingest keys as bearer tokens.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`sightline token create`), or the browser session cookie",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "ingest_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A project's ingest key"))
                    .build(),
            ),
        );
    }
}

/// Adds to every operation the error answers the edge gives to any request,
/// so that the document lists every status the server can send: 400 (a
/// parameter it cannot read, a NUL character), 401/403 (credentials), 404
/// (an unknown id in the path), 413/415/422 (a request body too large, not
/// JSON, or of the wrong shape) and 503 (the database is away). Each is the
/// one error shape, `ErrorBody`.
pub struct CommonResponses;

/// Operations anyone may call, without credentials.
const PUBLIC_OPERATIONS: [&str; 4] = ["login", "setup_status", "setup", "openapi_document"];

impl utoipa::Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            content::ContentBuilder, path::Operation, Ref, RefOr, ResponseBuilder,
        };
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_path_parameters = path.contains('{');
            let operations: [&mut Option<Operation>; 5] = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let public = operation
                    .operation_id
                    .as_deref()
                    .is_some_and(|id| PUBLIC_OPERATIONS.contains(&id));
                let has_body = operation.request_body.is_some();
                // Everything else takes an API token (or the browser session).
                if !public && operation.security.is_none() {
                    operation.security =
                        Some(vec![utoipa::openapi::security::SecurityRequirement::new(
                            "api_token",
                            Vec::<String>::new(),
                        )]);
                }
                let mut add = |status: &str, description: &str| {
                    let response = operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description));
                    // Listed by the operation without a body: it is the error shape.
                    if let RefOr::T(listed) = response {
                        if listed.content.is_empty() {
                            if let RefOr::T(shaped) = error(&listed.description) {
                                listed.content = shaped.content;
                            }
                        }
                    }
                };
                add(
                    "400",
                    "a parameter or the body is invalid; the message says which and why",
                );
                if !public {
                    add("401", "no valid credentials");
                    add("403", "the credentials may not do this");
                }
                if has_path_parameters {
                    add("404", "nothing has the id in the path");
                }
                if has_body {
                    add("413", "the request body is too large");
                    add("415", "the request body is not `application/json`");
                    add("422", "the request body is JSON of the wrong shape");
                }
                add(
                    "503",
                    "the database is unavailable; retry after `Retry-After` seconds",
                );
            }
        }
    }
}
