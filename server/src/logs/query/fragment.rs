//! SQL text with its bind values, built out of order and written into a
//! [`sqlx::QueryBuilder`] at the end (which numbers the parameters). Values only
//! ever travel as binds, so nothing a user typed becomes SQL text.

use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};

/// A value bound as a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bind {
    Text(String),
    TextArray(Vec<String>),
    SmallInt(i16),
    SmallIntArray(Vec<i16>),
    BigInt(i64),
    Time(DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Sql(String),
    Bind(Bind),
}

/// A piece of SQL with its binds in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fragment {
    parts: Vec<Part>,
}

impl Fragment {
    /// An empty fragment.
    pub(crate) fn new() -> Fragment {
        Fragment::default()
    }

    /// A fragment of fixed SQL text.
    pub(crate) fn sql(text: &str) -> Fragment {
        let mut fragment = Fragment::new();
        fragment.push(text);
        fragment
    }

    /// Appends fixed SQL text (never user input).
    pub(crate) fn push(&mut self, text: &str) -> &mut Fragment {
        self.parts.push(Part::Sql(text.to_owned()));
        self
    }

    /// Appends a bind parameter.
    pub(crate) fn bind(&mut self, value: Bind) -> &mut Fragment {
        self.parts.push(Part::Bind(value));
        self
    }

    /// Appends another fragment.
    pub(crate) fn append(&mut self, other: Fragment) -> &mut Fragment {
        self.parts.extend(other.parts);
        self
    }

    /// Appends fragments separated by `separator`.
    pub(crate) fn join(&mut self, items: Vec<Fragment>, separator: &str) -> &mut Fragment {
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(separator);
            }
            self.append(item);
        }
        self
    }

    /// `prefix`, this fragment, `suffix`.
    pub(crate) fn wrap(self, prefix: &str, suffix: &str) -> Fragment {
        let mut wrapped = Fragment::sql(prefix);
        wrapped.append(self);
        wrapped.push(suffix);
        wrapped
    }

    /// Writes the text and binds into `qb`.
    pub(crate) fn write_to(self, qb: &mut QueryBuilder<'_, Postgres>) {
        for part in self.parts {
            match part {
                Part::Sql(text) => {
                    qb.push(text);
                }
                Part::Bind(Bind::Text(value)) => {
                    qb.push_bind(value);
                }
                Part::Bind(Bind::TextArray(value)) => {
                    qb.push_bind(value);
                }
                Part::Bind(Bind::SmallInt(value)) => {
                    qb.push_bind(value);
                }
                Part::Bind(Bind::SmallIntArray(value)) => {
                    qb.push_bind(value);
                }
                Part::Bind(Bind::BigInt(value)) => {
                    qb.push_bind(value);
                }
                Part::Bind(Bind::Time(value)) => {
                    qb.push_bind(value);
                }
            }
        }
    }
}
