//! The small query grammar of the sources that have no language of their own
//! (errors, performance):
//!
//! ```text
//! query := (word | "by" name ("," name)* | name ":" value)*
//! value := a word, or "a quoted text" (\" and \\ inside)
//! ```
//!
//! Words and groups may be separated by spaces or commas: `p50, p95 by
//! transaction release:"app@1.2" environment:production`. Which words, group
//! names and filter names mean something is the source's business
//! ([`Terms::check`]).

/// A query read into its parts, in the order written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms {
    /// Bare words: what to compute (`count`, `p95`).
    pub words: Vec<String>,
    /// `by` names: what series to split into.
    pub by: Vec<String>,
    /// `name:value` filters.
    pub filters: Vec<(String, String)>,
}

/// Longest query read.
const MAX_QUERY_CHARS: usize = 2000;

impl Terms {
    /// Reads `query`; a 400-worthy message when it cannot.
    pub fn parse(query: &str) -> Result<Terms, String> {
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(format!("query: longer than {MAX_QUERY_CHARS} characters"));
        }
        let mut terms = Terms::default();
        let mut chars = query.char_indices().peekable();
        let mut grouping = false;
        loop {
            while chars
                .next_if(|(_, c)| c.is_whitespace() || *c == ',')
                .is_some()
            {}
            let Some(&(start, _)) = chars.peek() else {
                return Ok(terms);
            };
            let mut name = String::new();
            while let Some((_, c)) =
                chars.next_if(|(_, c)| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
            {
                name.push(c);
            }
            if name.is_empty() {
                let found = query[start..].chars().next().unwrap_or(' ');
                return Err(format!(
                    "query: at {start}: expected a word, `by` or name:value, found `{found}`"
                ));
            }
            if chars.next_if(|(_, c)| *c == ':').is_some() {
                let value = value(&mut chars, query)?;
                terms.filters.push((name, value));
                grouping = false;
            } else if name.eq_ignore_ascii_case("by") {
                grouping = true;
            } else if grouping {
                terms.by.push(name);
                // `by a, b`: a comma keeps the group open, a space closes it.
                grouping = chars.peek().is_some_and(|(_, c)| *c == ',');
            } else {
                terms.words.push(name);
            }
        }
    }

    /// Fails naming the first word, group or filter the source does not know.
    pub fn check(&self, words: &[&str], groups: &[&str], filters: &[&str]) -> Result<(), String> {
        let unknown = |kind: &str, name: &str, known: &[&str]| {
            format!(
                "query: `{name}` is not a {kind} here; use one of {}",
                known.join(", ")
            )
        };
        if let Some(w) = self.words.iter().find(|w| !words.contains(&w.as_str())) {
            return Err(unknown("measure", w, words));
        }
        if let Some(g) = self.by.iter().find(|g| !groups.contains(&g.as_str())) {
            return Err(unknown("`by` field", g, groups));
        }
        if let Some((f, _)) = self
            .filters
            .iter()
            .find(|(f, _)| !filters.contains(&f.as_str()))
        {
            return Err(unknown("filter", f, filters));
        }
        Ok(())
    }
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

fn value(chars: &mut Chars<'_>, query: &str) -> Result<String, String> {
    let mut value = String::new();
    let Some(&(start, first)) = chars.peek() else {
        return Err("query: a value must follow `:`".into());
    };
    if first != '"' {
        while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace() && *c != ',') {
            value.push(c);
        }
        return Ok(value);
    }
    chars.next();
    loop {
        match chars.next() {
            Some((_, '"')) => return Ok(value),
            Some((_, '\\')) => match chars.next() {
                Some((_, c)) => value.push(c),
                None => break,
            },
            Some((_, c)) => value.push(c),
            None => break,
        }
    }
    Err(format!(
        "query: at {start}: the quoted value `{}` is not closed",
        &query[start..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_groups_and_filters() {
        let terms =
            Terms::parse(r#"p50, p95 by transaction, release env:prod t:"GET /a \"b\"""#).unwrap();
        assert_eq!(terms.words, ["p50", "p95"]);
        assert_eq!(terms.by, ["transaction", "release"]);
        assert_eq!(
            terms.filters,
            [
                ("env".to_string(), "prod".to_string()),
                ("t".to_string(), r#"GET /a "b""#.to_string())
            ]
        );
        assert_eq!(Terms::parse("  ").unwrap(), Terms::default());
        let later = Terms::parse("by level count").unwrap();
        assert_eq!(
            (later.by, later.words),
            (vec!["level".into()], vec!["count".into()])
        );
        assert!(Terms::parse("p95 (x)").unwrap_err().contains("found `(`"));
        assert!(Terms::parse(r#"t:"open"#)
            .unwrap_err()
            .contains("not closed"));
        assert!(Terms::parse("t:").is_err(), "a value must follow");
        let checked = Terms::parse("p95 by op")
            .unwrap()
            .check(&["p95"], &["transaction"], &[]);
        assert!(checked.unwrap_err().contains("`op` is not a `by` field"));
    }
}
