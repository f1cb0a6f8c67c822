//! Keyset cursors: a newest-first page ends at its last row's `(ts, id)`, and
//! the next page starts after it (`(ts, id) < (cursor)`), so paging stays
//! right while rows arrive and costs the same on page 1 and page 1000. On the
//! wire a cursor is `<epoch microseconds>_<id>`, to be passed back as it came.

use std::{fmt::Display, str::FromStr};

use chrono::{DateTime, Utc};

use crate::http::error::ApiError;

/// The cursor after a row at `ts` with `id`.
pub fn encode(ts: DateTime<Utc>, id: impl Display) -> String {
    format!("{}_{id}", ts.timestamp_micros())
}

/// The `(ts, id)` a cursor of [`encode`] names; a 400 for anything else.
pub fn decode<Id: FromStr>(cursor: &str) -> Result<(DateTime<Utc>, Id), ApiError> {
    let bad = || ApiError::BadRequest("cursor: not a cursor this list returned".into());
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let ts = micros
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((ts, id.parse().map_err(|_| bad())?))
}

/// Cuts `rows`, fetched `limit + 1` at a time, to the page, and returns the
/// cursor of the next page: `None` when there is none.
pub fn page<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Option<String> {
    let limit = usize::try_from(limit).unwrap_or(0);
    if rows.len() <= limit {
        return None;
    }
    rows.truncate(limit);
    rows.last().map(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let ts = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        let cursor = encode(ts, 42);
        assert_eq!(cursor, "1764000000123456_42");
        assert_eq!(decode::<i64>(&cursor).unwrap(), (ts, 42));
        let uuid = "9ec79c33ec9942ab8353589fcb2e04dc";
        let (_, id) = decode::<uuid::Uuid>(&encode(ts, uuid)).unwrap();
        assert_eq!(id.simple().to_string(), uuid);
        for bad in ["", "12", "x_1", "1_x", "99999999999999999999_1"] {
            assert!(decode::<i64>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_page_is_cut_at_its_limit() {
        let mut rows = vec![5, 4, 3];
        assert_eq!(page(&mut rows, 2, |r| r.to_string()), Some("4".into()));
        assert_eq!(rows, [5, 4]);
        let mut rows = vec![5, 4];
        assert_eq!(page(&mut rows, 2, |r| r.to_string()), None);
    }
}
