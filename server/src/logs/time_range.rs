//! `from`/`to` query parameters: RFC 3339, epoch milliseconds, `now`, or `now`
//! minus a duration (`now-15m`, `now-1h`, `now-7d`).

use chrono::{DateTime, Duration, Utc};

use crate::http::error::ApiError;

/// Longest range one query may cover.
pub const MAX_RANGE_DAYS: i64 = 400;

/// Resolves `from` and `to` (defaults: the last hour) into a half-open range.
pub fn resolve(
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to = match to {
        Some(t) => parse("to", t, now)?,
        None => now,
    };
    let from = match from {
        Some(f) => parse("from", f, now)?,
        None => to - Duration::hours(1),
    };
    // PostgreSQL keeps microseconds: truncate so that bounds echoed back (e.g.
    // histogram buckets) equal the ones computed here.
    let (from, to) = (micros(from), micros(to));
    if from >= to {
        return Err(ApiError::BadRequest("from: must be earlier than to".into()));
    }
    if to - from > Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::BadRequest(format!(
            "the time range is longer than {MAX_RANGE_DAYS} days"
        )));
    }
    Ok((from, to))
}

fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// One point in time.
pub fn parse(name: &str, text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let text = text.trim();
    let bad = || {
        ApiError::BadRequest(format!(
            "{name}: `{text}` is not a time; use RFC 3339 (2026-11-26T10:00:00Z), epoch milliseconds, or now-15m / now-1h / now-7d"
        ))
    };
    if let Some(rest) = text.strip_prefix("now") {
        if rest.is_empty() {
            return Ok(now);
        }
        let ago = rest.strip_prefix('-').ok_or_else(bad)?;
        return Ok(now - duration(ago).ok_or_else(bad)?);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    text.parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(bad)
}

/// `30s`, `15m`, `1h`, `7d`, `2w`.
pub fn duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok()?;
    if n > 100_000 {
        return None;
    }
    match unit {
        "s" => Some(Duration::seconds(n)),
        "m" => Some(Duration::minutes(n)),
        "h" => Some(Duration::hours(n)),
        "d" => Some(Duration::days(n)),
        "w" => Some(Duration::weeks(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute_times() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse("from", "now-15m", now).unwrap(),
            now - Duration::minutes(15)
        );
        assert_eq!(parse("from", "now", now).unwrap(), now);
        assert_eq!(
            parse("from", "2026-11-26T11:00:00+01:00", now).unwrap(),
            now - Duration::hours(2)
        );
        assert_eq!(parse("from", "1795694400000", now).unwrap(), now);
        assert!(parse("from", "yesterday", now).is_err());
        assert!(parse("from", "now+1h", now).is_err());
        assert_eq!(
            resolve(None, None, now).unwrap(),
            (now - Duration::hours(1), now)
        );
        assert!(resolve(Some("now"), Some("now-1h"), now).is_err());
    }
}
