//! One clock-drift rule for every kind of record, as Sentry's Relay applies it
//! to events: a record's own time is kept when it lies between `retention`
//! before its arrival and [`MAX_FUTURE`] after it. Outside that window the
//! record takes its arrival time, and keeps the time it was sent with where
//! each kind keeps extra data (an attribute of a log line, the `errors` of an
//! event, the data of a span), so nothing is lost and nothing lands where it
//! would be deleted at once (older than retention) or sit unseen for hours
//! (a clock set to next year).
//!
//! How a protocol's numbers become a time (seconds for Sentry, nanoseconds for
//! Loki and OTLP, by magnitude for Sightline's own format) is each adapter's
//! business, with [`parse_timestamp`] for the common spellings; this rule
//! applies afterwards, in the queue, to all alike.

use chrono::{DateTime, SecondsFormat, TimeDelta, TimeZone, Utc};
use serde_json::Value;

/// How far ahead of its arrival a record's own time may be (clocks drift;
/// more than this is a wrong clock).
pub const MAX_FUTURE: TimeDelta = TimeDelta::hours(1);

/// Which side of the window a time fell on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    /// Older than retention.
    Past,
    /// More than [`MAX_FUTURE`] ahead.
    Future,
}

impl Drift {
    /// The name Sentry's Relay gives it (`past_timestamp`, `future_timestamp`).
    pub fn kind(self) -> &'static str {
        match self {
            Drift::Past => "past_timestamp",
            Drift::Future => "future_timestamp",
        }
    }
}

/// The times records arriving now may keep.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveWindow {
    /// When the records arrived: what a time outside the window becomes.
    pub received: DateTime<Utc>,
    earliest: DateTime<Utc>,
    latest: DateTime<Utc>,
}

impl ReceiveWindow {
    /// The window of records arriving at `received`, kept for `retention`.
    pub fn new(received: DateTime<Utc>, retention: TimeDelta) -> Self {
        ReceiveWindow {
            received,
            earliest: received
                .checked_sub_signed(retention)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            latest: received.checked_add_signed(MAX_FUTURE).unwrap_or(received),
        }
    }

    /// `None` when `ts` may be kept; else the side it fell out on.
    pub fn drift(&self, ts: DateTime<Utc>) -> Option<Drift> {
        if ts < self.earliest {
            Some(Drift::Past)
        } else if ts > self.latest {
            Some(Drift::Future)
        } else {
            None
        }
    }
}

/// `retention_days` as a duration (saturating), for [`ReceiveWindow::new`].
pub fn retention(retention_days: u64) -> TimeDelta {
    i64::try_from(retention_days)
        .ok()
        .and_then(TimeDelta::try_days)
        .unwrap_or(TimeDelta::MAX)
}

/// A time as kept in an attribute: RFC 3339 with microseconds, UTC.
pub fn rfc3339(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// RFC 3339 (or the same with a space, or without a zone: UTC), or an epoch
/// number whose magnitude says its unit.
pub fn parse_timestamp(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        // Integers are compared exactly: past 2^53 a float cannot tell
        // 9000000000000000001 from the limit.
        Value::Number(n) if n.is_u64() || n.is_i64() => n
            .as_i64()
            .filter(|i| *i <= MAX_EPOCH_NUMBER)
            .and_then(|i| from_epoch(i as f64)),
        Value::Number(n) => n.as_f64().and_then(from_epoch),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(t.with_timezone(&Utc));
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(&s.replacen(' ', "T", 1)) {
                return Some(t.with_timezone(&Utc));
            }
            for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
                if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
                    return Some(t.and_utc());
                }
            }
            s.parse::<f64>().ok().and_then(from_epoch)
        }
        _ => None,
    }
}

/// The largest epoch number read as a time (nanoseconds of 2255).
pub const MAX_EPOCH_NUMBER: i64 = 9_000_000_000_000_000_000;

/// Seconds below 10^11, milliseconds below 10^14, microseconds below 10^17,
/// nanoseconds above, up to [`MAX_EPOCH_NUMBER`].
fn from_epoch(n: f64) -> Option<DateTime<Utc>> {
    if !n.is_finite() || n < 0.0 || n > MAX_EPOCH_NUMBER as f64 {
        return None;
    }
    // Microseconds (what PostgreSQL keeps) for every unit but nanoseconds:
    // nanoseconds in an i64 end in 2262, and seconds, milliseconds and
    // microseconds reach years beyond.
    let micros = if n < 1e11 {
        n * 1e6
    } else if n < 1e14 {
        n * 1e3
    } else if n < 1e17 {
        n
    } else {
        return Some(Utc.timestamp_nanos(n as i64));
    };
    DateTime::from_timestamp_micros(micros.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_runs_from_retention_back_to_an_hour_ahead() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let window = ReceiveWindow::new(now, retention(14));
        assert_eq!(window.drift(now), None);
        assert_eq!(window.drift(now - TimeDelta::days(13)), None);
        assert_eq!(window.drift(now + TimeDelta::minutes(59)), None);
        assert_eq!(window.drift(now - TimeDelta::days(15)), Some(Drift::Past));
        assert_eq!(window.drift(now + TimeDelta::hours(2)), Some(Drift::Future));
        assert_eq!(Drift::Past.kind(), "past_timestamp");
        let forever = ReceiveWindow::new(now, retention(u64::MAX));
        assert_eq!(forever.drift(DateTime::<Utc>::MIN_UTC), None);
    }
}
