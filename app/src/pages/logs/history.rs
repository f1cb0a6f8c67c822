//! The recent queries of the Logs page, kept in the browser's `localStorage` (so
//! they stay on this computer): the last [`MAX`], newest first, without repeats.

/// Queries remembered.
pub const MAX: usize = 20;

/// The `localStorage` key.
#[cfg(feature = "hydrate")]
const KEY: &str = "sightline.logs.history";

/// `history` with `query` moved to (or added at) the front, at most [`MAX`] long.
pub fn remember(mut history: Vec<String>, query: &str) -> Vec<String> {
    let query = query.trim();
    if query.is_empty() {
        return history;
    }
    history.retain(|q| q != query);
    history.insert(0, query.to_owned());
    history.truncate(MAX);
    history
}

/// The stored history; empty when there is none or storage is unavailable.
pub fn load() -> Vec<String> {
    #[cfg(feature = "hydrate")]
    if let Some(text) = storage().and_then(|s| s.get_item(KEY).ok().flatten()) {
        let mut history: Vec<String> = serde_json::from_str(&text).unwrap_or_default();
        history.truncate(MAX);
        return history;
    }
    Vec::new()
}

/// Stores `history`. Storage can be full or disabled (private windows): then the
/// history lasts only as long as the page.
pub fn save(history: &[String]) {
    #[cfg(feature = "hydrate")]
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(history)) {
        let _ = storage.set_item(KEY, &text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = history;
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_query_comes_first_once() {
        let history = remember(vec!["a".into(), "b".into()], " b ");
        assert_eq!(history, vec!["b".to_owned(), "a".to_owned()]);
        assert_eq!(remember(history.clone(), "  "), history);
        let long = (0..30).fold(Vec::new(), |h, i| remember(h, &i.to_string()));
        assert_eq!(long.len(), MAX);
        assert_eq!(long.first().map(String::as_str), Some("29"));
    }
}
