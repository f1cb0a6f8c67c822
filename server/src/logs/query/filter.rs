//! The filter grammar, by recursive descent. Precedence, loosest first:
//!
//! ```text
//! or    := and ("OR" and)*
//! and   := unary (["AND"] unary)*          -- juxtaposition is AND
//! unary := ("NOT" | "-") unary | "(" or ")" | term
//! term  := word | "phrase" | /regex/[i] | field ":" value
//! value := "*" | ["!=" | ">" | ">=" | "<" | "<="] (word | "phrase") | word"*" | /regex/[i]
//! ```

use super::{
    ast::{Comparison, Field, Filter, Level, Match, Term},
    cursor::{is_boundary, Cursor},
    QueryError, MAX_TERMS,
};

/// Parses the filter up to the first `|` outside quotes (or the end); `None` when
/// there is no filter.
pub(crate) fn parse_filter(cursor: &mut Cursor) -> Result<Option<Filter>, QueryError> {
    cursor.skip_space();
    if cursor.at_end() || cursor.peek() == Some('|') {
        return Ok(None);
    }
    let mut parser = FilterParser { cursor, terms: 0 };
    let filter = parser.or()?;
    parser.cursor.skip_space();
    match parser.cursor.peek() {
        None | Some('|') => Ok(Some(filter)),
        Some(')') => Err(QueryError::new(
            parser.cursor.position(),
            "unbalanced parentheses: this \")\" closes nothing",
        )),
        Some(_) => Err(parser.cursor.expected("a term, \"|\" or end of query")),
    }
}

struct FilterParser<'c> {
    cursor: &'c mut Cursor,
    terms: usize,
}

impl FilterParser<'_> {
    fn or(&mut self) -> Result<Filter, QueryError> {
        let mut parts = vec![self.and()?];
        loop {
            self.cursor.skip_space();
            if !self.cursor.at_keyword("OR") {
                break;
            }
            self.cursor.bump_keyword("OR");
            self.require_term_after("OR")?;
            parts.push(self.and()?);
        }
        Ok(combine(parts, Filter::Or))
    }

    fn and(&mut self) -> Result<Filter, QueryError> {
        let mut parts = vec![self.unary()?];
        loop {
            self.cursor.skip_space();
            match self.cursor.peek() {
                None | Some(')' | '|') => break,
                _ if self.cursor.at_keyword("OR") => break,
                _ => {}
            }
            if self.cursor.at_keyword("AND") {
                self.cursor.bump_keyword("AND");
                self.require_term_after("AND")?;
            }
            parts.push(self.unary()?);
        }
        Ok(combine(parts, Filter::And))
    }

    fn unary(&mut self) -> Result<Filter, QueryError> {
        self.cursor.skip_space();
        if self.cursor.at_keyword("OR") || self.cursor.at_keyword("AND") {
            return Err(self.cursor.expected("a term"));
        }
        if self.cursor.at_keyword("NOT") {
            self.cursor.bump_keyword("NOT");
            self.require_term_after("NOT")?;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.cursor.peek() == Some('-') {
            self.cursor.bump();
            if self.cursor.peek().is_none_or(|c| c.is_whitespace()) {
                return Err(self.cursor.expected("a term right after \"-\""));
            }
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.cursor.peek() == Some('(') {
            let open = self.cursor.position();
            self.cursor.bump();
            self.cursor.skip_space();
            if self.cursor.peek() == Some(')') {
                return Err(self.cursor.expected("a term inside the parentheses"));
            }
            let inner = self.or()?;
            self.cursor.skip_space();
            if self.cursor.peek() != Some(')') {
                return Err(self.cursor.expected(&format!(
                    "\")\" to close the \"(\" at {open} (unbalanced parentheses)"
                )));
            }
            self.cursor.bump();
            return Ok(inner);
        }
        self.term().map(Filter::Term)
    }

    /// After a keyword: skips spaces and requires that a term follows.
    fn require_term_after(&mut self, keyword: &str) -> Result<(), QueryError> {
        self.cursor.skip_space();
        match self.cursor.peek() {
            None | Some(')' | '|') => {
                Err(self.cursor.expected(&format!("a term after \"{keyword}\"")))
            }
            _ if self.cursor.at_keyword("OR") || self.cursor.at_keyword("AND") => {
                Err(self.cursor.expected(&format!("a term after \"{keyword}\"")))
            }
            _ => Ok(()),
        }
    }

    fn term(&mut self) -> Result<Term, QueryError> {
        let start = self.cursor.position();
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(QueryError::new(
                start,
                format!("too many terms: a query has at most {MAX_TERMS}"),
            ));
        }
        match self.cursor.peek() {
            None | Some(')' | '|') => Err(self.cursor.expected("a term")),
            Some('"') => {
                let phrase = self.cursor.read_phrase()?;
                self.cursor.expect_term_end("the phrase")?;
                Ok(Term::Text(phrase))
            }
            Some('/') => {
                let regex = self.cursor.read_regex()?;
                self.cursor.expect_term_end("the regex")?;
                Ok(Term::Regex(regex))
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let name = self.cursor.read_name();
                if self.cursor.peek() == Some(':') {
                    self.cursor.bump();
                    return self.field_term(&name, start);
                }
                self.cursor.rewind(start);
                Ok(Term::Text(self.cursor.read_word()))
            }
            _ => Ok(Term::Text(self.cursor.read_word())),
        }
    }

    /// The value part of `name:...`; the cursor is just after the colon.
    fn field_term(&mut self, name: &str, start: usize) -> Result<Term, QueryError> {
        let field = Field::parse(name).map_err(|message| QueryError::new(start, message))?;
        let value = self.value(name)?;
        match field {
            Field::Ts => Err(QueryError::new(
                start,
                "\"ts\" can't be filtered in the query: pick the time range instead",
            )),
            Field::Level => level_match(value).map(Term::Level),
            Field::Column(column) => Ok(Term::Column(column, value.matcher)),
            Field::Attribute(path) => {
                if let Match::Compare(_, number) = &value.matcher {
                    if !is_number(number) {
                        return Err(QueryError::new(
                            value.position,
                            format!(
                                "expected a number after \"{name}:{}\", found \"{number}\"",
                                value.operator
                            ),
                        ));
                    }
                }
                Ok(Term::Attribute(path, value.matcher))
            }
        }
    }

    fn value(&mut self, name: &str) -> Result<Value, QueryError> {
        let missing = |cursor: &Cursor, operator: &str| {
            cursor.expected(&format!("a value after \"{name}:{operator}\""))
        };
        match self.cursor.peek() {
            None => return Err(missing(self.cursor, "")),
            Some(c) if is_boundary(c) && c != '"' => return Err(missing(self.cursor, "")),
            _ => {}
        }
        if self.cursor.peek() == Some('*') && self.cursor.peek_at(1).is_none_or(is_boundary) {
            self.cursor.bump();
            self.cursor.expect_term_end("\"*\"")?;
            return Ok(Value::new(Match::Exists, self.cursor.position(), ""));
        }
        if self.cursor.peek() == Some('/') {
            let position = self.cursor.position();
            let regex = self.cursor.read_regex()?;
            self.cursor.expect_term_end("the regex")?;
            return Ok(Value::new(Match::Regex(regex), position, ""));
        }
        let operator = match (self.cursor.peek(), self.cursor.peek_at(1)) {
            (Some('!'), Some('=')) => "!=",
            (Some('>'), Some('=')) => ">=",
            (Some('<'), Some('=')) => "<=",
            (Some('>'), _) => ">",
            (Some('<'), _) => "<",
            _ => "",
        };
        for _ in operator.chars() {
            self.cursor.bump();
        }
        let position = self.cursor.position();
        let (text, quoted) = match self.cursor.peek() {
            Some('"') => {
                let phrase = self.cursor.read_phrase()?;
                self.cursor.expect_term_end("the phrase")?;
                (phrase, true)
            }
            Some(c) if !is_boundary(c) => (self.cursor.read_word(), false),
            _ => return Err(missing(self.cursor, operator)),
        };
        let matcher = match operator {
            "!=" => Match::NotEquals(text),
            ">" => Match::Compare(Comparison::Greater, text),
            ">=" => Match::Compare(Comparison::GreaterOrEqual, text),
            "<" => Match::Compare(Comparison::Less, text),
            "<=" => Match::Compare(Comparison::LessOrEqual, text),
            _ if !quoted && text.len() > 1 && text.ends_with('*') => {
                Match::Prefix(text[..text.len() - 1].to_owned())
            }
            _ => Match::Equals(text),
        };
        Ok(Value::new(matcher, position, operator))
    }
}

/// A parsed `field:` value, with where it starts and the operator written before it.
struct Value {
    matcher: Match<String>,
    position: usize,
    operator: &'static str,
}

impl Value {
    fn new(matcher: Match<String>, position: usize, operator: &'static str) -> Value {
        Value {
            matcher,
            position,
            operator,
        }
    }
}

/// Turns a `level:` value into levels, refusing unknown names.
fn level_match(value: Value) -> Result<Match<Level>, QueryError> {
    let level = |text: &str| {
        Level::from_name(text)
            .or_else(|| text.trim().parse::<i16>().ok().and_then(Level::from_i16))
            .ok_or_else(|| {
                QueryError::new(
                    value.position,
                    format!(
                        "unknown level \"{text}\": expected trace, debug, info, warn, error or \
                     fatal (or 1 to 6)"
                    ),
                )
            })
    };
    Ok(match &value.matcher {
        Match::Equals(text) => Match::Equals(level(text)?),
        Match::NotEquals(text) => Match::NotEquals(level(text)?),
        Match::Compare(comparison, text) => Match::Compare(*comparison, level(text)?),
        Match::Exists => Match::Exists,
        Match::Prefix(prefix) => Match::Prefix(prefix.to_ascii_lowercase()),
        Match::Regex(regex) => Match::Regex(regex.clone()),
    })
}

/// Whether `text` is a decimal number PostgreSQL's `numeric` accepts: an optional
/// sign, digits with an optional fraction, an optional exponent of up to 3 digits.
/// The same shape as `NUMERIC_TEXT` in the SQL, so both sides agree.
pub(crate) fn is_number(text: &str) -> bool {
    let text = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = digits(whole)
        && fraction.is_none_or(digits)
        && (!whole.is_empty() || fraction.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        (1..=3).contains(&e.len()) && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// One part stays itself; several become an AND or an OR.
fn combine(mut parts: Vec<Filter>, make: fn(Vec<Filter>) -> Filter) -> Filter {
    if parts.len() == 1 {
        if let Some(only) = parts.pop() {
            return only;
        }
    }
    make(parts)
}
