//! The server side of the web UI: Leptos renders every page route (the `app`
//! crate), `/pkg` serves the WASM bundle and CSS, and a guard sends visitors to
//! the first-admin page or the login page before any other page renders.
//!
//! The release bundle's files are named after their content
//! (`sightline.<16 hex>.wasm`, listed in `pkg/hash.txt`) and come with `.br`
//! and `.gz` copies made at build time: `/pkg` sends the copy the browser
//! accepts, as it is, and lets browsers keep hashed files for a year. An
//! upgrade changes the names, so no browser runs a stale bundle.

use axum::{
    extract::{Request, State},
    http::{
        header::{CACHE_CONTROL, VARY},
        HeaderValue, StatusCode,
    },
    middleware::{self, Next},
    response::{IntoResponse, Redirect, Response},
    Router,
};
use axum_extra::extract::CookieJar;
use leptos_axum::LeptosRoutes;
use tower_http::services::ServeDir;

use crate::{
    auth::{session, SESSION_COOKIE},
    AppState,
};

/// Page routes (rendered by Leptos) and the static site assets.
pub fn router(state: &AppState) -> Router<AppState> {
    let options = state.leptos.clone();
    let routes = leptos_axum::generate_route_list(app::App);
    let pkg = state.config.site_root.join("pkg");
    Router::<AppState>::new()
        .leptos_routes(state, routes, {
            let options = options.clone();
            move || app::shell(options.clone())
        })
        .route_layer(middleware::from_fn_with_state(state.clone(), page_guard))
        .nest_service(
            "/pkg",
            tower::ServiceBuilder::new()
                .layer(middleware::from_fn(cache_headers))
                .service(ServeDir::new(pkg).precompressed_br().precompressed_gzip()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
}

/// Hashed names never change: browsers keep them a year without asking again.
/// Anything else (a debug build's `sightline.wasm`) is checked on each use.
async fn cache_headers(request: Request, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let policy = if hashed {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(policy));
        headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// Whether `path` names a file by its content: `<name>.<16 hex>.<ext>`.
fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() == 3 && parts[1].len() == 16 && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where a page request must go first: `/setup` while no user exists, `/login`
/// without a session, and away from both once they no longer apply.
async fn page_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let jar = CookieJar::from_headers(request.headers());
    let logged_in = match jar.get(SESSION_COOKIE) {
        Some(cookie) => matches!(
            session::lookup(&state.pool, cookie.value()).await,
            Ok(Some(_))
        ),
        None => false,
    };
    let has_users = if logged_in {
        true
    } else {
        match session::any_user(&state.pool).await {
            Ok(any) => any,
            Err(e) => {
                tracing::warn!(error = %e, "page guard cannot reach the database");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Sightline cannot reach its database right now; try again in a moment.",
                )
                    .into_response();
            }
        }
    };
    let target = match path.as_str() {
        "/setup" if has_users => Some(if logged_in {
            "/".to_string()
        } else {
            "/login".to_string()
        }),
        "/setup" => None,
        "/login" if !has_users => Some("/setup".to_string()),
        "/login" if logged_in => Some("/".to_string()),
        "/login" => None,
        _ if !has_users => Some("/setup".to_string()),
        _ if !logged_in => {
            let next: String = request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str().to_owned())
                .unwrap_or_else(|| "/".into());
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            Some(format!("/login?next={next}"))
        }
        _ => None,
    };
    match target {
        Some(target) => Redirect::to(&target).into_response(),
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    #[test]
    fn only_content_named_files_are_immutable() {
        assert!(is_hashed("/sightline.0123456789abcdef.wasm"));
        assert!(!is_hashed("/sightline.wasm"));
        assert!(!is_hashed("/hash.txt"));
        assert!(!is_hashed("/sightline.0123456789abcdeg.js"));
    }
}
