//! The whole application: every domain's routes merged (the API under
//! `/api/v1` with its OpenAPI document, the other products' ingest protocols at
//! their own paths, the UI), behind the HTTP edge's middleware. This and
//! [`crate::state`] are the only modules that name every domain.

use std::sync::Arc;

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

use crate::{
    auth, errors,
    http::{
        error::ApiError, health, nul, observe, ApiDoc, CommonResponses, API_BODY_LIMIT,
        REQUEST_TIMEOUT,
    },
    ingest, logs, metrics, overview, projects, query, traces, ui, AppState,
};

/// The `/api/v1` routes and their OpenAPI document, as served.
pub fn api() -> (Router<AppState>, serde_json::Value) {
    let v1 = auth::router()
        .merge(projects::router())
        .merge(overview::router())
        .merge(ingest::router())
        .merge(logs::router())
        .merge(errors::api::router())
        .merge(traces::api::router())
        .merge(metrics::router())
        .merge(query::api::router())
        .routes(utoipa_axum::routes!(openapi_document));
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", v1)
        .split_for_parts();
    // After the routes: modifiers of `ApiDoc` run before any path is there.
    utoipa::Modify::modify(&CommonResponses, &mut doc);
    let mut doc = serde_json::to_value(&doc).unwrap_or_default();
    ingest::native::describe_batch_body(&mut doc);
    (router, doc)
}

/// The OpenAPI 3.1 document describing every `/api/v1` endpoint.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json")))]
async fn openapi_document(
    axum::Extension(doc): axum::Extension<Arc<serde_json::Value>>,
) -> axum::Json<serde_json::Value> {
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
        .merge(metrics::api::router().layer(DefaultBodyLimit::max(API_BODY_LIMIT)))
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
