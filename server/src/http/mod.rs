//! The HTTP edge: the router every domain contributes to, health and metrics
//! endpoints, the OpenAPI document, and the per-request middleware.

pub mod client_ip;
pub mod error;
mod health;
pub mod nul;
mod observe;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::DefaultBodyLimit,
    http::{HeaderName, StatusCode},
    middleware,
    routing::any,
    Router,
};
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{auth, errors, ingest, logs, overview, projects, traces, ui, AppState};
use error::ApiError;

/// Largest request body the configuration API accepts. Ingestion endpoints set
/// their own limits.
const API_BODY_LIMIT: usize = 256 * 1024;
/// A request that takes longer than this is answered 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

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
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

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
struct CommonResponses;

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

/// The `/api/v1` routes and their OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let v1 = auth::router()
        .merge(projects::router())
        .merge(overview::router())
        .merge(ingest::router())
        .merge(logs::router())
        .merge(errors::api::router())
        .merge(traces::api::router())
        .routes(utoipa_axum::routes!(openapi_document));
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", v1)
        .split_for_parts();
    // After the routes: modifiers of `ApiDoc` run before any path is there.
    utoipa::Modify::modify(&CommonResponses, &mut doc);
    (router, doc)
}

/// The OpenAPI 3.1 document describing every `/api/v1` endpoint.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
async fn openapi_document(
    axum::Extension(doc): axum::Extension<Arc<utoipa::openapi::OpenApi>>,
) -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json((*doc).clone())
}

/// The whole application: API, health, metrics, UI, and the middleware around them.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api();
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .route("/api/v1/{*rest}", any(api_not_found))
        .layer(middleware::from_fn(nul::refuse_in_uri))
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
        .layer(axum::Extension(Arc::new(doc)))
        .merge(health::router())
        .merge(ingest::protocol_router())
        .merge(ui::router(&state))
        // `GET /` is the UI's Overview for browsers and the cluster info for
        // Elasticsearch clients; this tells them apart.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ingest::elastic::root_handshake,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // Each request gets its own Sentry hub carrying the request's details, so
        // an error reported while handling it says which request it was.
        .layer(sentry::integrations::tower::SentryHttpLayer::new().enable_transaction())
        .layer(sentry::integrations::tower::NewSentryLayer::<
            axum::extract::Request,
        >::new_from_top())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such API endpoint; see /api/v1/openapi.json".into())
}
