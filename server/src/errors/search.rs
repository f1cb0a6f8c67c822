//! The issue list's search box, read as Sentry reads it: `key:value` (or
//! `key:"a value"`) keeps the issues with events tagged so and counts only
//! those events, `-key:value` leaves such events out, and any other word must
//! appear in the issue's title or culprit.
//!
//! Keys are the events' tags (`browser.name`, `release`, `server_name`, the
//! SDK's own); `browser`, `os` and `runtime` match the SDK's tag of that name
//! or the name read from the event's context (`browser.name`); `user.id` (or
//! `user`) is the user an event counts towards, and `user.email`,
//! `user.username` and `user.ip_address` read the event's `user`.

/// Words, and tag terms, read at most.
const MAX_TERMS: usize = 10;
/// Longest value of a tag term (tag values are cut at 200 bytes on ingest).
const MAX_VALUE_CHARS: usize = 200;

/// A search read into its parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueSearch {
    /// Words of the title or culprit.
    pub words: Vec<String>,
    /// Conditions on the events counted.
    pub terms: Vec<EventTerm>,
}

/// A condition on an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTerm {
    pub field: EventField,
    pub value: String,
    /// `-key:value`: events without it.
    pub negated: bool,
}

/// What an [`EventTerm`] looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventField {
    /// Any of these keys of the events' tags.
    Tag(Vec<String>),
    /// The user the event counts towards (`error_event.user_key`).
    User,
    /// A field of the event's `user` object (`email`, `username`, `ip_address`).
    UserField(&'static str),
}

impl IssueSearch {
    /// Reads the search box; a 400-worthy message for more terms than are read.
    pub fn parse(text: &str) -> Result<IssueSearch, String> {
        let mut search = IssueSearch::default();
        for token in tokens(text) {
            match term(&token) {
                Some(term) => search.terms.push(term),
                None => search.words.push(token.replace('"', "")),
            }
        }
        search.words.retain(|w| !w.is_empty());
        if search.words.len() > MAX_TERMS || search.terms.len() > MAX_TERMS {
            return Err(format!(
                "q: at most {MAX_TERMS} words and {MAX_TERMS} key:value terms"
            ));
        }
        Ok(search)
    }
}

/// The text split at spaces outside double quotes.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// `key:value`, `key:"a value"` or `-key:value` as a term; `None` for a word
/// (including `TypeError:` with nothing after the colon).
fn term(token: &str) -> Option<EventTerm> {
    let (negated, rest) = match token.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let (key, value) = rest.split_once(':')?;
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if key.is_empty() || !key.chars().all(is_key_char) {
        return None;
    }
    let value = match value.strip_prefix('"') {
        Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
        None => value,
    };
    if value.is_empty() {
        return None;
    }
    let field = match key {
        "user" | "user.id" => EventField::User,
        "user.email" => EventField::UserField("email"),
        "user.username" => EventField::UserField("username"),
        "user.ip" | "user.ip_address" => EventField::UserField("ip_address"),
        "browser" | "os" | "runtime" => EventField::Tag(vec![key.into(), format!("{key}.name")]),
        other => EventField::Tag(vec![other.into()]),
    };
    Some(EventTerm {
        field,
        value: value.chars().take(MAX_VALUE_CHARS).collect(),
        negated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(keys: &[&str], value: &str, negated: bool) -> EventTerm {
        EventTerm {
            field: EventField::Tag(keys.iter().map(|k| (*k).to_owned()).collect()),
            value: value.into(),
            negated,
        }
    }

    #[test]
    fn tags_words_and_quotes() {
        let search =
            IssueSearch::parse(r#"checkout browser:Firefox -os:"Mac OS X" user.id:42 TypeError:"#)
                .unwrap_or_default();
        assert_eq!(search.words, ["checkout", "TypeError:"]);
        assert_eq!(
            search.terms,
            [
                tag(&["browser", "browser.name"], "Firefox", false),
                tag(&["os", "os.name"], "Mac OS X", true),
                EventTerm {
                    field: EventField::User,
                    value: "42".into(),
                    negated: false
                },
            ]
        );
        let email = IssueSearch::parse("user.email:ann@example.com").unwrap_or_default();
        assert_eq!(email.terms[0].field, EventField::UserField("email"));
        // Words in quotes are one phrase; a lone dash is a word.
        let phrase =
            IssueSearch::parse(r#""payment failed" - release:shop@2.1.0"#).unwrap_or_default();
        assert_eq!(phrase.words, ["payment failed", "-"]);
        assert_eq!(phrase.terms, [tag(&["release"], "shop@2.1.0", false)]);
    }

    #[test]
    fn too_many_terms_are_refused() {
        let many = (0..11)
            .map(|i| format!("k:{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(IssueSearch::parse(&many).is_err());
        assert!(IssueSearch::parse("").is_ok_and(|s| s == IssueSearch::default()));
    }
}
