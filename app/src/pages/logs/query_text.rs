//! The query text as the Logs page edits it (the language itself is parsed by the
//! server, see docs/logs-query.md): where the stages start, adding `field:value`
//! filters, reading the position out of a syntax error, and completing field names
//! and values while typing.

use serde_json::Value;

use crate::api::client::ApiError;
use crate::api::LogField;
use crate::components::level::LEVELS;

/// Fields every line has, offered before the attributes the server reports.
pub const BUILT_IN_FIELDS: [&str; 6] =
    ["level", "service", "host", "message", "trace_id", "span_id"];

/// Suggestions shown at most.
const MAX_SUGGESTIONS: usize = 10;

/// Byte index of the `|` that starts the first stage, if the query has stages:
/// the first `|` outside quotes and regular expressions.
pub fn stage_start(query: &str) -> Option<usize> {
    let mut in_quote = false;
    let mut in_regex = false;
    let mut escaped = false;
    let mut previous: Option<char> = None;
    for (i, c) in query.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quote || in_regex {
            match c {
                '\\' => escaped = true,
                '"' if in_quote => in_quote = false,
                '/' if in_regex => in_regex = false,
                _ => {}
            }
        } else {
            match c {
                '"' => in_quote = true,
                // A slash opens a regular expression only where a term or a value starts.
                '/' if previous.is_none_or(|p| " \t\n(-:=<>!".contains(p)) => in_regex = true,
                '|' => return Some(i),
                _ => {}
            }
        }
        previous = Some(c);
    }
    None
}

/// Whether the query has stages (and so answers with a table).
pub fn has_stages(query: &str) -> bool {
    stage_start(query).is_some()
}

/// The query with `term` added to its filter (before any stages). A filter with a
/// top-level `OR` is parenthesised first, so the new term applies to all of it.
pub fn add_filter(query: &str, term: &str) -> String {
    let (filter, stages) = match stage_start(query) {
        Some(i) => (&query[..i], &query[i..]),
        None => (query, ""),
    };
    let filter = filter.trim();
    let filter = if filter.split_whitespace().any(|word| word == "OR") {
        format!("({filter}) {term}")
    } else if filter.is_empty() {
        term.to_owned()
    } else {
        format!("{filter} {term}")
    };
    if stages.is_empty() {
        filter
    } else {
        format!("{filter} {}", stages.trim())
    }
}

/// `value` as the query language reads it: bare when it is a plain word, quoted
/// (with `"` and `\` escaped) otherwise.
pub fn quote_value(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.ends_with('*')
        && !value.starts_with(['-', '/', '>', '<', '!', '='])
        && !matches!(value, "AND" | "OR" | "NOT")
        && !value
            .chars()
            .any(|c| c.is_whitespace() || "()|\"\\:".contains(c));
    if plain {
        value.to_owned()
    } else {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }
}

/// Whether `name` can be written as a field (a letter or `_`, then letters, digits,
/// `_`, `.` and `-`).
pub fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The term that keeps (or, with `exclude`, drops) lines whose `field` is `value`;
/// `None` for values a term cannot name (null, arrays, objects) and odd field names.
pub fn filter_term(field: &str, value: &Value, exclude: bool) -> Option<String> {
    if !is_field_name(field) {
        return None;
    }
    let text = match value {
        Value::String(s) => quote_value(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => return None,
    };
    let sign = if exclude { "-" } else { "" };
    Some(format!("{sign}{field}:{text}"))
}

/// A query the server refused, in words, with where the problem is.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    /// The character (counted from 0) the server points at, if it said.
    pub position: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl QueryError {
    /// Reads a 400 answer about `q` (`q: at 14: expected ...`); `None` for any
    /// other error.
    pub fn from_api(error: &ApiError) -> Option<QueryError> {
        let ApiError::Server {
            status: 400,
            message,
            ..
        } = error
        else {
            return None;
        };
        let rest = message.strip_prefix("q: ")?;
        let located = rest.strip_prefix("at ").and_then(|after| {
            let (number, text) = after.split_once(": ")?;
            Some((number.parse().ok()?, text))
        });
        Some(match located {
            Some((position, text)) => QueryError {
                position: Some(position),
                message: text.to_owned(),
            },
            None => QueryError {
                position: None,
                message: rest.to_owned(),
            },
        })
    }

    /// The query split around the character at fault: before, the character (a
    /// space when the fault is at the end), after.
    pub fn split(&self, query: &str) -> Option<(String, String, String)> {
        let position = self.position?;
        let chars: Vec<char> = query.chars().collect();
        if position > chars.len() {
            return None;
        }
        let before = chars[..position].iter().collect();
        let at = chars.get(position).map_or(" ".to_owned(), char::to_string);
        let after = chars
            .get(position + 1..)
            .unwrap_or_default()
            .iter()
            .collect();
        Some((before, at, after))
    }
}

/// One completion offered under the query input.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// What the list shows.
    pub label: String,
    /// "field" or "value".
    pub kind: &'static str,
    /// The text that replaces the word being typed.
    pub insert: String,
    /// Where that word starts (characters).
    pub from: usize,
}

/// Completions for the word that ends at `cursor` (characters): field names while
/// typing a word, values after `field:` (with `-`, `!=`, `>=` ... kept), field names
/// only inside stages; nothing inside quotes.
pub fn suggestions(query: &str, cursor: usize, fields: &[LogField]) -> Vec<Suggestion> {
    let chars: Vec<char> = query.chars().collect();
    let cursor = cursor.min(chars.len());
    let before: String = chars[..cursor].iter().collect();
    let quotes = before.matches('"').count() - before.matches("\\\"").count();
    if quotes % 2 == 1 {
        return Vec::new();
    }
    let from = chars[..cursor]
        .iter()
        .rposition(|c| c.is_whitespace() || matches!(c, '(' | ')' | ','))
        .map_or(0, |i| i + 1);
    let word: String = chars[from..cursor].iter().collect();
    let in_stages = has_stages(&before);
    let (sign, bare) = match word.strip_prefix('-') {
        Some(rest) if !in_stages => ("-", rest),
        _ => ("", word.as_str()),
    };

    let field_names = || {
        let mut names: Vec<&str> = BUILT_IN_FIELDS.to_vec();
        for field in fields {
            if !names.contains(&field.name.as_str()) {
                names.push(&field.name);
            }
        }
        names
    };

    match bare.split_once(':') {
        Some((field, rest)) if !in_stages && is_field_name(field) => {
            let op = ["!=", ">=", "<=", ">", "<"]
                .into_iter()
                .find(|op| rest.starts_with(op))
                .unwrap_or("");
            let prefix = rest[op.len()..].to_lowercase();
            let mut values: Vec<String> = fields
                .iter()
                .find(|f| f.name == field)
                .map(|f| f.values.clone())
                .unwrap_or_default();
            if field == "level" {
                values = LEVELS.iter().map(|l| (*l).to_owned()).collect();
            }
            values
                .into_iter()
                .filter(|v| {
                    let lower = v.to_lowercase();
                    lower.starts_with(&prefix) && lower != prefix
                })
                .take(MAX_SUGGESTIONS)
                .map(|v| Suggestion {
                    insert: format!("{sign}{field}:{op}{} ", quote_value(&v)),
                    label: v,
                    kind: "value",
                    from,
                })
                .collect()
        }
        Some(_) => Vec::new(),
        None if bare.is_empty() || bare.starts_with(['"', '/']) => Vec::new(),
        None => {
            let lower = bare.to_lowercase();
            field_names()
                .into_iter()
                .filter(|name| name.to_lowercase().starts_with(&lower) && *name != bare)
                .take(MAX_SUGGESTIONS)
                .map(|name| Suggestion {
                    label: name.to_owned(),
                    kind: "field",
                    insert: if in_stages {
                        name.to_owned()
                    } else {
                        format!("{sign}{name}:")
                    },
                    from,
                })
                .collect()
        }
    }
}

/// The query after taking `suggestion` at `cursor`, and the new cursor position.
pub fn apply_suggestion(query: &str, cursor: usize, suggestion: &Suggestion) -> (String, usize) {
    let chars: Vec<char> = query.chars().collect();
    let cursor = cursor.min(chars.len());
    let from = suggestion.from.min(cursor);
    let rest: String = chars[cursor..].iter().collect();
    let mut insert = suggestion.insert.as_str();
    if rest.starts_with(char::is_whitespace) {
        insert = insert.trim_end();
    }
    let head: String = chars[..from].iter().collect();
    let text = format!("{head}{insert}{rest}");
    (text, from + insert.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_start_at_the_first_pipe_outside_quotes_and_regexes() {
        assert_eq!(stage_start("level:error | stats count()"), Some(12));
        assert_eq!(stage_start("\"a|b\" /x|y/ host:/a|b/i"), None);
        assert_eq!(stage_start("\"say \\\"|\\\"\" | limit 5"), Some(12));
        assert_eq!(stage_start("| stats count()"), Some(0));
        // A slash inside a word opens no regex that would hide the pipe.
        assert!(has_stages("a/b | limit 1"));
    }

    #[test]
    fn filters_go_before_the_stages() {
        assert_eq!(add_filter("", "service:api"), "service:api");
        assert_eq!(add_filter("timeout ", "service:api"), "timeout service:api");
        assert_eq!(
            add_filter("timeout | stats count() by host", "-level:debug"),
            "timeout -level:debug | stats count() by host"
        );
        assert_eq!(add_filter("| limit 5", "host:a"), "host:a | limit 5");
        assert_eq!(add_filter("a OR b", "host:x"), "(a OR b) host:x");
    }

    #[test]
    fn values_are_quoted_when_the_language_needs_it() {
        assert_eq!(quote_value("checkout"), "checkout");
        assert_eq!(quote_value("billing api"), "\"billing api\"");
        assert_eq!(quote_value("web-*"), "\"web-*\"");
        assert_eq!(quote_value("-x"), "\"-x\"");
        assert_eq!(quote_value("OR"), "\"OR\"");
        assert_eq!(quote_value("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote_value(""), "\"\"");
    }

    #[test]
    fn terms_name_scalar_values_only() {
        assert_eq!(
            filter_term("http.status", &serde_json::json!(500), false).as_deref(),
            Some("http.status:500")
        );
        assert_eq!(
            filter_term("service", &serde_json::json!("billing api"), true).as_deref(),
            Some("-service:\"billing api\"")
        );
        assert_eq!(filter_term("tags", &serde_json::json!(["a"]), false), None);
        assert_eq!(filter_term("odd key", &serde_json::json!("x"), false), None);
    }

    fn bad_query(message: &str) -> ApiError {
        ApiError::Server {
            status: 400,
            code: "bad_request".into(),
            message: message.into(),
        }
    }

    #[test]
    fn syntax_errors_point_at_a_character() {
        let error = QueryError::from_api(&bad_query(
            "q: at 8: expected a value after \"service:\", found end of query",
        ));
        let error = error.unwrap_or_else(|| panic!("a query error"));
        assert_eq!(error.position, Some(8));
        assert_eq!(
            error.message,
            "expected a value after \"service:\", found end of query"
        );
        assert_eq!(
            error.split("service:"),
            Some(("service:".into(), " ".into(), String::new()))
        );
        assert_eq!(
            error.split("service: api"),
            Some(("service:".into(), " ".into(), "api".into()))
        );
        assert_eq!(error.split("short"), None, "a position past the end");
        assert_eq!(QueryError::from_api(&bad_query("from: not a time")), None);
        assert_eq!(
            QueryError::from_api(&ApiError::Unreachable("down".into())),
            None
        );
    }

    fn fields() -> Vec<LogField> {
        vec![
            LogField {
                name: "service".into(),
                values: vec!["checkout".into(), "cart".into(), "billing api".into()],
            },
            LogField {
                name: "http.status".into(),
                values: vec!["500".into()],
            },
        ]
    }

    #[test]
    fn field_names_are_suggested_while_typing_a_word() {
        let found = suggestions("timeout se", 10, &fields());
        let labels: Vec<_> = found.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, vec!["service"]);
        let (text, cursor) = apply_suggestion("timeout se", 10, &found[0]);
        assert_eq!((text.as_str(), cursor), ("timeout service:", 16));

        let found = suggestions("-ht", 3, &fields());
        assert_eq!(
            found.first().map(|s| s.insert.as_str()),
            Some("-http.status:")
        );
        assert!(
            suggestions("\"se", 3, &fields()).is_empty(),
            "not inside quotes"
        );
    }

    #[test]
    fn values_are_suggested_after_a_field() {
        let found = suggestions("service:c", 9, &fields());
        let labels: Vec<_> = found.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, vec!["checkout", "cart"]);
        let found = suggestions("service:!=b", 11, &fields());
        assert_eq!(
            found.first().map(|s| s.insert.as_str()),
            Some("service:!=\"billing api\" ")
        );
        let found = suggestions("level:>=w", 9, &[]);
        assert_eq!(
            found.first().map(|s| s.insert.as_str()),
            Some("level:>=warn ")
        );
        // Replacing a word in the middle keeps what follows.
        let found = suggestions("service:ch timeout", 10, &fields());
        let (text, _) = apply_suggestion("service:ch timeout", 10, &found[0]);
        assert_eq!(text, "service:checkout timeout");
    }

    #[test]
    fn stages_offer_field_names_only() {
        let found = suggestions("| stats count() by ser", 22, &fields());
        assert_eq!(found.first().map(|s| s.insert.as_str()), Some("service"));
    }
}
