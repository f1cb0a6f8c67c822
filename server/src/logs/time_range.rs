//! `from`/`to` query parameters: RFC 3339, epoch milliseconds, `now`, or `now`
//! minus a duration (`now-15m`, `now-1h`, `now-7d`).

use chrono::{DateTime, Duration, Utc};

use crate::http::error::ApiError;

/// Longest range one query may cover.
pub const MAX_RANGE_DAYS: i64 = 400;

/// Epoch milliseconds accepted, either way of 1970 (about ±316 years).
pub const MAX_EPOCH_MS: i64 = 9_999_999_999_999;

/// The OpenAPI schema of `from`/`to`: RFC 3339, `now` or `now-<n><unit>`
/// (`s`, `m`, `h`, `d`, `w`; n at most 100000), epoch milliseconds, or empty
/// (the default, as when absent).
pub struct TimeParam;

/// The OpenAPI schema of a required point in time (`ts`): as [`TimeParam`],
/// but not empty.
pub struct InstantParam;

fn time_schema(empty: bool) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let relative = if empty {
        r"^(now(-(100000|[0-9]{1,5})[smhdw])?)?$"
    } else {
        r"^now(-(100000|[0-9]{1,5})[smhdw])?$"
    };
    AnyOfBuilder::new()
        .item(string().pattern(Some(app::api::RFC3339_PATTERN)))
        .item(string().pattern(Some(relative)))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(-MAX_EPOCH_MS))
                .maximum(Some(MAX_EPOCH_MS)),
        )
        .description(Some(
            "RFC 3339, `now`, `now-15m` (s, m, h, d, w), or epoch milliseconds",
        ))
        .into()
}

impl utoipa::PartialSchema for TimeParam {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        time_schema(true)
    }
}

impl utoipa::ToSchema for TimeParam {}

impl utoipa::PartialSchema for InstantParam {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        time_schema(false)
    }
}

impl utoipa::ToSchema for InstantParam {}

/// Resolves `from` and `to` (defaults: the last hour) into a half-open range.
/// Every pair of times the OpenAPI document allows is a range: an empty
/// parameter is an absent one, the two bounds may come in either order, an
/// instant is the millisecond from it, and a range longer than
/// [`MAX_RANGE_DAYS`] is the last [`MAX_RANGE_DAYS`] before `to`.
pub fn resolve(
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let (from, to) = (given(from), given(to));
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
    let (from, to) = (
        micros(within_bounds(from.min(to))),
        micros(within_bounds(from.max(to))),
    );
    let to = if from == to {
        to + Duration::milliseconds(1)
    } else {
        to
    };
    Ok((from.max(to - Duration::days(MAX_RANGE_DAYS)), to))
}

/// Times before 1970 (when no record can be) are 1970, times after 9000 are
/// 9000, so that every range, and every bucket of it, has dates that read as
/// RFC 3339.
fn within_bounds(t: DateTime<Utc>) -> DateTime<Utc> {
    let earliest = DateTime::UNIX_EPOCH;
    let latest = DateTime::from_timestamp(221_845_392_000, 0).unwrap_or(t);
    t.clamp(earliest, latest)
}

/// A parameter as given: an empty one (`from=`) is an absent one. Only empty:
/// white space is no time, as the document's patterns say.
pub fn given(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.is_empty())
}

fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// One point in time.
pub fn parse(name: &str, text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
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
        .filter(|ms| ms.abs() <= MAX_EPOCH_MS)
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
        let hour = (now - Duration::hours(1), now);
        assert_eq!(resolve(Some("now"), Some("now-1h"), now).unwrap(), hour);
        assert_eq!(resolve(Some(""), Some(""), now).unwrap(), hour);
        assert!(
            resolve(Some("\u{c}"), None, now).is_err(),
            "white space is no time"
        );
        assert_eq!(
            resolve(Some("now"), Some("now"), now).unwrap(),
            (now, now + Duration::milliseconds(1))
        );
        assert_eq!(
            resolve(Some("0"), None, now).unwrap(),
            (now - Duration::days(MAX_RANGE_DAYS), now)
        );
        let (from, to) = resolve(Some("-5000"), Some("0001-01-01T00:00:00Z"), now).unwrap();
        assert_eq!(
            (from, to),
            (
                DateTime::UNIX_EPOCH,
                DateTime::UNIX_EPOCH + Duration::milliseconds(1)
            )
        );
    }
}
