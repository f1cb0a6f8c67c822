//! The recent queries of the Logs page, kept in the browser's `localStorage` (so
//! they stay on this computer): the last [`MAX`], newest first, without repeats.

/// Queries remembered.
pub const MAX: usize = 20;

/// The `localStorage` key.
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
    let mut history: Vec<String> = crate::browser::stored(KEY)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    history.truncate(MAX);
    history
}

/// Stores `history` (for as long as the page lasts when storage is full or
/// disabled).
pub fn save(history: &[String]) {
    if let Ok(text) = serde_json::to_string(history) {
        crate::browser::store(KEY, &text);
    }
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
