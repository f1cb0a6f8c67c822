//! A character cursor over the query text: positions are character offsets, and
//! errors describe what was found where something else was expected.

use super::{ast::Regex, pattern, QueryError, MAX_REGEX_CHARS};

/// The query's characters and how far parsing has got.
pub(crate) struct Cursor {
    chars: Vec<char>,
    position: usize,
}

impl Cursor {
    /// A cursor at the start of `input`.
    pub(crate) fn new(input: &str) -> Cursor {
        Cursor {
            chars: input.chars().collect(),
            position: 0,
        }
    }

    /// The current character offset.
    pub(crate) fn position(&self) -> usize {
        self.position
    }

    /// Moves back to an earlier offset (to re-read a word that was not a field).
    pub(crate) fn rewind(&mut self, position: usize) {
        self.position = position;
    }

    /// The current character.
    pub(crate) fn peek(&self) -> Option<char> {
        self.chars.get(self.position).copied()
    }

    /// The character `n` places after the current one.
    pub(crate) fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.position + n).copied()
    }

    /// Steps over one character.
    pub(crate) fn bump(&mut self) {
        if self.position < self.chars.len() {
            self.position += 1;
        }
    }

    /// Steps over whitespace.
    pub(crate) fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.position += 1;
        }
    }

    /// Whether the query ends here.
    pub(crate) fn at_end(&self) -> bool {
        self.position >= self.chars.len()
    }

    /// Whether `keyword` starts here and ends at a boundary (exact case).
    pub(crate) fn at_keyword(&self, keyword: &str) -> bool {
        let mut n = 0;
        for expected in keyword.chars() {
            if self.peek_at(n) != Some(expected) {
                return false;
            }
            n += 1;
        }
        self.peek_at(n).is_none_or(is_boundary)
    }

    /// Steps over `keyword`, which [`Cursor::at_keyword`] found.
    pub(crate) fn bump_keyword(&mut self, keyword: &str) {
        self.position += keyword.chars().count();
    }

    /// An error at the current position: "expected {what}, found {what is here}".
    pub(crate) fn expected(&self, what: &str) -> QueryError {
        QueryError::new(
            self.position,
            format!("expected {what}, found {}", self.found()),
        )
    }

    /// Describes what is at the current position, for error messages.
    pub(crate) fn found(&self) -> String {
        match self.peek() {
            None => "end of query".to_owned(),
            Some(c) if c.is_whitespace() => "a space".to_owned(),
            Some(c) if is_boundary(c) || c == ',' => format!("\"{c}\""),
            Some(_) => {
                let word: String = self.chars[self.position..]
                    .iter()
                    .take_while(|c| !is_boundary(**c) && **c != ',')
                    .take(24)
                    .collect();
                format!("\"{word}\"")
            }
        }
    }

    /// Reads a bare word: everything up to whitespace, a parenthesis, `|` or `"`.
    pub(crate) fn read_word(&mut self) -> String {
        let mut word = String::new();
        while let Some(c) = self.peek().filter(|c| !is_boundary(*c)) {
            word.push(c);
            self.position += 1;
        }
        word
    }

    /// Reads characters allowed in a field name (`[A-Za-z0-9_.-]`).
    pub(crate) fn read_name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| super::ast::is_name_char(*c)) {
            name.push(c);
            self.position += 1;
        }
        name
    }

    /// Reads a `"phrase"` starting at the opening quote; `\"` is a quote and `\\` a
    /// backslash inside it.
    pub(crate) fn read_phrase(&mut self) -> Result<String, QueryError> {
        let start = self.position;
        self.bump();
        let mut phrase = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(QueryError::new(
                        start,
                        "unbalanced quotes: this \" is never closed",
                    ))
                }
                Some('"') => {
                    self.bump();
                    return Ok(phrase);
                }
                Some('\\') if matches!(self.peek_at(1), Some('"' | '\\')) => {
                    self.bump();
                    phrase.extend(self.peek());
                    self.bump();
                }
                Some(c) => {
                    phrase.push(c);
                    self.bump();
                }
            }
        }
    }

    /// Reads a `/regex/` (and an `i` flag) starting at the opening slash; `\/` is a
    /// slash inside it. Checks the limits and that the pattern is well formed.
    pub(crate) fn read_regex(&mut self) -> Result<Regex, QueryError> {
        let start = self.position;
        self.bump();
        let mut pattern = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(QueryError::new(
                        start,
                        "unterminated regex: expected a closing \"/\"",
                    ))
                }
                Some('/') => {
                    self.bump();
                    break;
                }
                Some('\\') if self.peek_at(1) == Some('/') => {
                    self.bump();
                    self.bump();
                    pattern.push('/');
                }
                Some('\\') if self.peek_at(1).is_some() => {
                    pattern.push('\\');
                    self.bump();
                    pattern.extend(self.peek());
                    self.bump();
                }
                Some(c) => {
                    pattern.push(c);
                    self.bump();
                }
            }
        }
        let case_insensitive = self.peek() == Some('i') && self.peek_at(1).is_none_or(is_boundary);
        if case_insensitive {
            self.bump();
        }
        if pattern.is_empty() {
            return Err(QueryError::new(
                start,
                "empty regex: write a pattern between the slashes",
            ));
        }
        let length = pattern.chars().count();
        if length > MAX_REGEX_CHARS {
            return Err(QueryError::new(
                start,
                format!("the regex is {length} characters long: the limit is {MAX_REGEX_CHARS}"),
            ));
        }
        if let Err(problem) = pattern::check(&pattern) {
            return Err(QueryError::new(start, format!("invalid regex: {problem}")));
        }
        Ok(Regex {
            pattern,
            case_insensitive,
        })
    }

    /// Requires the end of a term: whitespace, a parenthesis, `|` or the end.
    pub(crate) fn expect_term_end(&self, after: &str) -> Result<(), QueryError> {
        match self.peek() {
            None => Ok(()),
            Some(c) if is_boundary(c) && c != '"' => Ok(()),
            Some(_) => Err(self.expected(&format!("a space after {after}"))),
        }
    }
}

/// Characters that end a bare word.
pub(crate) fn is_boundary(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '|' | '"')
}
