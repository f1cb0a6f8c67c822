//! `from`/`to` query parameters: RFC 3339, epoch milliseconds, `now`, or `now`
//! plus or minus a duration (`now-15m`, `now-1h`, `now-7d`, `now+1h`), rounded
//! as in Grafana when a unit follows a slash: `now/d` (today), `now-7d/d`,
//! `now-1w/w`, `now/M`. A rounded `from` is the start of its unit, a rounded
//! `to` the end of it (the start of the next), so `from=now-1d/d&to=now-1d/d` is
//! all of yesterday.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};

use crate::http::error::ApiError;

/// Longest range one query may cover.
pub const MAX_RANGE_DAYS: i64 = 400;

/// Epoch milliseconds accepted, either way of 1970 (about ±316 years).
pub const MAX_EPOCH_MS: i64 = 9_999_999_999_999;

/// The OpenAPI schema of `from`/`to`: RFC 3339, `now`, `now-<n><unit>` or
/// `now+<n><unit>` (`s`, `m`, `h`, `d`, `w`; n at most 100000), either followed
/// by `/<unit>` to round (`s`, `m`, `h`, `d`, `w`, `M`, `y`), epoch
/// milliseconds, or empty (the default, as when absent).
pub struct TimeParam;

/// The OpenAPI schema of a required point in time (`ts`): as [`TimeParam`],
/// but not empty.
pub struct InstantParam;

fn time_schema(empty: bool) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let relative = if empty {
        r"^(now([+-](100000|[0-9]{1,5})[smhdw])?(/[smhdwMy])?)?$"
    } else {
        r"^now([+-](100000|[0-9]{1,5})[smhdw])?(/[smhdwMy])?$"
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
            "RFC 3339, `now`, `now-15m` or `now+1h` (s, m, h, d, w), rounded with `/d` (s, m, h, d, w, M, y) as in `now-7d/d`, or epoch milliseconds",
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
    resolve_or_last(from, to, now, Duration::hours(1))
}

/// As [`resolve`], but without `from` the range is the `default` before `to`
/// (the errors and performance pages show the last 24 hours).
pub fn resolve_or_last(
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
    default: Duration,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let (from, to) = (given(from), given(to));
    let to = match to {
        Some(t) => parse_bound("to", t, now, Round::Up)?,
        None => now,
    };
    let from = match from {
        Some(f) => parse("from", f, now)?,
        None => to - default,
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

/// The range of the errors and performance pages: as [`resolve`], but the
/// last 24 hours when `from` is not given.
pub fn resolve_or_last_day(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    resolve_or_last(from, to, Utc::now(), Duration::hours(24))
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

/// Which way `now/<unit>` rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Round {
    /// To the start of the unit (a `from`, or one point in time).
    Down,
    /// To the end of the unit, the start of the next (a `to`).
    Up,
}

/// One point in time; `now/d` is the start of today.
pub fn parse(name: &str, text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    parse_bound(name, text, now, Round::Down)
}

fn parse_bound(
    name: &str,
    text: &str,
    now: DateTime<Utc>,
    round: Round,
) -> Result<DateTime<Utc>, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "{name}: `{text}` is not a time; use RFC 3339 (2026-11-26T10:00:00Z), epoch milliseconds, or now-15m / now+1h / now-7d/d"
        ))
    };
    if let Some(rest) = text.strip_prefix("now") {
        let (offset, unit) = match rest.split_once('/') {
            Some((offset, unit)) => (offset, Some(unit)),
            None => (rest, None),
        };
        let t = if offset.is_empty() {
            now
        } else if let Some(ago) = offset.strip_prefix('-') {
            now.checked_sub_signed(duration(ago).ok_or_else(bad)?)
                .ok_or_else(bad)?
        } else if let Some(ahead) = offset.strip_prefix('+') {
            now.checked_add_signed(duration(ahead).ok_or_else(bad)?)
                .ok_or_else(bad)?
        } else {
            return Err(bad());
        };
        return match unit {
            None => Ok(t),
            Some(unit) => round_to(t, unit, round).ok_or_else(bad),
        };
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

/// `t` rounded to its `unit` (`s`, `m`, `h`, `d`, `w` from Monday, `M`, `y`).
fn round_to(t: DateTime<Utc>, unit: &str, round: Round) -> Option<DateTime<Utc>> {
    let fixed = |length: Duration| {
        let start = floor(t, length)?;
        match round {
            Round::Down => Some(start),
            Round::Up => start.checked_add_signed(length),
        }
    };
    let day = t.date_naive();
    let (start, next): (NaiveDate, fn(NaiveDate) -> Option<NaiveDate>) = match unit {
        "s" => return fixed(Duration::seconds(1)),
        "m" => return fixed(Duration::minutes(1)),
        "h" => return fixed(Duration::hours(1)),
        "d" => return fixed(Duration::days(1)),
        "w" => (
            day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            |d| d.checked_add_signed(Duration::weeks(1)),
        ),
        "M" => (day.with_day(1)?, |d| d.checked_add_months(Months::new(1))),
        "y" => (day.with_ordinal(1)?, |d| {
            d.checked_add_months(Months::new(12))
        }),
        _ => return None,
    };
    let date = match round {
        Round::Down => start,
        Round::Up => next(start)?,
    };
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// The start of the `step` (whole microseconds) holding `t`, counted from
/// the epoch. Unlike chrono's `duration_trunc`, which counts nanoseconds, it
/// holds for any year a range may reach.
pub fn floor(t: DateTime<Utc>, step: Duration) -> Option<DateTime<Utc>> {
    let step = step.num_microseconds().filter(|s| *s > 0)?;
    DateTime::from_timestamp_micros(t.timestamp_micros().div_euclid(step) * step)
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
        assert_eq!(
            parse("from", "now+1h", now).unwrap(),
            now + Duration::hours(1)
        );
        assert!(parse("from", "now*1h", now).is_err());
        assert!(parse("from", "now/q", now).is_err());
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

    #[test]
    fn rounding_as_in_grafana() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        // A Thursday afternoon.
        let now = at("2026-12-03T15:42:10.5Z");
        let range = |from: &str, to: &str| resolve(Some(from), Some(to), now).unwrap();
        assert_eq!(
            range("now/d", "now/d"),
            (at("2026-12-03T00:00:00Z"), at("2026-12-04T00:00:00Z")),
            "today"
        );
        assert_eq!(
            range("now-1d/d", "now-1d/d"),
            (at("2026-12-02T00:00:00Z"), at("2026-12-03T00:00:00Z")),
            "yesterday"
        );
        assert_eq!(
            range("now-7d/d", "now"),
            (
                at("2026-11-26T00:00:00Z"),
                floor(now, Duration::microseconds(1)).unwrap()
            )
        );
        assert_eq!(
            range("now/w", "now/w"),
            (at("2026-11-30T00:00:00Z"), at("2026-12-07T00:00:00Z")),
            "weeks start on Monday"
        );
        assert_eq!(
            range("now/M", "now/y"),
            (at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"))
        );
        assert_eq!(
            range("now/h", "now+1h/h"),
            (at("2026-12-03T15:00:00Z"), at("2026-12-03T17:00:00Z"))
        );
        assert_eq!(
            parse("ts", "now/m", now).unwrap(),
            at("2026-12-03T15:42:00Z")
        );
    }
}
