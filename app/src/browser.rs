//! The few browser facilities the UI uses directly (location, cookies, clipboard,
//! the hydration marker). Each function does its work under `hydrate`; in the server
//! build it is a harmless no-op, because server-side rendering never calls into the
//! browser.

#[cfg(feature = "hydrate")]
use wasm_bindgen::JsCast;

/// Marks `<body data-hydrated="true">` so browser tests know the page is interactive.
pub fn mark_hydrated() {
    #[cfg(feature = "hydrate")]
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        // Failing to set a data attribute only slows tests down; nothing to report.
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

/// The current path and query string, e.g. `/settings?project=web`.
pub fn current_path_and_query() -> String {
    #[cfg(feature = "hydrate")]
    if let Some(location) = web_sys::window().map(|w| w.location()) {
        let path = location.pathname().unwrap_or_else(|_| "/".to_owned());
        let search = location.search().unwrap_or_default();
        return format!("{path}{search}");
    }
    "/".to_owned()
}

/// A full page navigation (not a client-side route change), so that the server
/// renders the target with the new session cookies in place.
pub fn assign_location(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        // If the browser refuses, the user stays where they are and can click again.
        let _ = window.location().assign(url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// Sends the browser to the login page, remembering where it was, unless it is on
/// the login or setup page already (those handle a 401 themselves).
pub fn redirect_to_login() {
    let here = current_path_and_query();
    if here.starts_with("/login") || here.starts_with("/setup") {
        return;
    }
    assign_location(&format!("/login?next={}", percent_encode(&here)));
}

/// The value of a cookie readable from script (not HttpOnly ones), if set.
pub fn cookie(name: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let document = web_sys::window()?
            .document()?
            .dyn_into::<web_sys::HtmlDocument>()
            .ok()?;
        let cookies = document.cookie().ok()?;
        cookies.split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = name;
        None
    }
}

/// Copies `text` to the clipboard. Resolves to whether the browser accepted it
/// (it refuses on insecure origins or without a user gesture).
pub async fn copy_to_clipboard(text: String) -> bool {
    #[cfg(feature = "hydrate")]
    {
        let Some(window) = web_sys::window() else {
            return false;
        };
        let promise = window.navigator().clipboard().write_text(&text);
        wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = text;
        false
    }
}

/// Whether the browser prefers a dark colour scheme (the CSS follows the same query).
pub fn prefers_dark() -> bool {
    #[cfg(feature = "hydrate")]
    if let Some(Ok(Some(query))) =
        web_sys::window().map(|w| w.match_media("(prefers-color-scheme: dark)"))
    {
        return query.matches();
    }
    false
}

/// Percent-encodes everything except unreserved URL characters, for query values
/// and path segments.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether `next` is a safe place to go after logging in: a path on this site, not
/// another origin (`//evil.example` or `https://...`).
pub fn is_local_path(next: &str) -> bool {
    next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\")
}

/// The value kept under `key` in this browser's `localStorage`, if any.
pub fn stored(key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()?
            .local_storage()
            .ok()
            .flatten()?
            .get_item(key)
            .ok()
            .flatten()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

/// Keeps `value` under `key` in `localStorage`. Storage can be full or disabled
/// (private windows): then the choice lasts as long as the page.
pub fn store(key: &str, value: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(key, value);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (key, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_unreserved_characters_only() {
        assert_eq!(
            percent_encode("/settings?project=web&x=a b"),
            "%2Fsettings%3Fproject%3Dweb%26x%3Da%20b"
        );
        assert_eq!(percent_encode("web-shop_1.~"), "web-shop_1.~");
    }

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert!(is_local_path("/settings?project=web"));
        assert!(!is_local_path("//evil.example/"));
        assert!(!is_local_path("https://evil.example/"));
        assert!(!is_local_path("/\\evil.example"));
    }
}
