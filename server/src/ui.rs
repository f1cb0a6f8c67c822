//! The server side of the web UI: Leptos renders every page route (the `app`
//! crate), `/pkg` serves the WASM bundle and CSS, and a guard sends visitors to
//! the first-admin page or the login page before any other page renders.

use axum::{
    extract::{Request, State},
    http::StatusCode,
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
        .nest_service("/pkg", ServeDir::new(pkg))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
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
