//! A structural check of regex patterns before they reach PostgreSQL, whose
//! regexes are POSIX AREs. It refuses what is certainly broken (unbalanced
//! parentheses or brackets, a trailing backslash, a quantifier with nothing to
//! repeat); PostgreSQL still has the last word on subtler mistakes.

/// Checks `pattern`, saying what is wrong with it.
pub(crate) fn check(pattern: &str) -> Result<(), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut depth = 0usize;
    let mut i = 0;
    // Whether the previous item can be repeated by a quantifier.
    let mut repeatable = false;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if i + 1 == chars.len() {
                    return Err("it ends with a lone \"\\\"".to_owned());
                }
                i += 2;
                repeatable = true;
                continue;
            }
            '[' => {
                i = bracket_end(&chars, i)?;
                repeatable = true;
            }
            '(' => {
                depth += 1;
                repeatable = false;
                // `(?:`, `(?=`, `(?!`: the `?` is part of the group, not a quantifier.
                if chars.get(i + 1) == Some(&'?') {
                    i += 1;
                }
            }
            ')' => {
                if depth == 0 {
                    return Err("unbalanced parentheses: a \")\" closes nothing".to_owned());
                }
                depth -= 1;
                repeatable = true;
            }
            '|' => repeatable = false,
            '*' | '+' | '?' | '{' => {
                if !repeatable {
                    return Err(format!("\"{}\" has nothing to repeat", chars[i]));
                }
                if chars[i] == '{' {
                    i = brace_end(&chars, i)?;
                }
                // A quantifier may be followed by `?` (non-greedy), not by another.
                if chars.get(i + 1) == Some(&'?') {
                    i += 1;
                }
                repeatable = false;
            }
            '^' | '$' => repeatable = false,
            _ => repeatable = true,
        }
        i += 1;
    }
    if depth > 0 {
        return Err("unbalanced parentheses: a \"(\" is never closed".to_owned());
    }
    Ok(())
}

/// The index of the `]` closing the bracket expression opened at `start`.
fn bracket_end(chars: &[char], start: usize) -> Result<usize, String> {
    let mut i = start + 1;
    if chars.get(i) == Some(&'^') {
        i += 1;
    }
    // A `]` first in the list is a literal.
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    while i < chars.len() {
        match chars[i] {
            ']' => return Ok(i),
            // `[:alpha:]`, `[.space.]`, `[=a=]` end at their own `:]`, `.]`, `=]`.
            '[' if matches!(chars.get(i + 1), Some(':' | '.' | '=')) => {
                let kind = chars[i + 1];
                let mut j = i + 2;
                while j + 1 < chars.len() && !(chars[j] == kind && chars[j + 1] == ']') {
                    j += 1;
                }
                if j + 1 >= chars.len() {
                    return Err(format!("a \"[{kind}\" is never closed"));
                }
                i = j + 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Err("unbalanced brackets: a \"[\" is never closed".to_owned())
}

/// The index of the `}` closing the bound `{m}`, `{m,}` or `{m,n}` opened at `start`.
fn brace_end(chars: &[char], start: usize) -> Result<usize, String> {
    let mut i = start + 1;
    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',') {
        i += 1;
    }
    if chars.get(i) != Some(&'}') || i == start + 1 {
        return Err("a \"{\" must hold a repeat count like {2} or {1,3}".to_owned());
    }
    Ok(i)
}
