//! Times shown in the browser's own time zone, or in UTC where the user chose
//! it ([`ZoneChoice`]): every formatter here, and so every chart axis, log row
//! and tooltip, follows the one choice.
//!
//! The offset comes from JavaScript's `Date.getTimezoneOffset` for each instant, so
//! daylight-saving changes inside a chart's range are honoured. In the server build
//! (which never formats times for display) the offset is UTC.

use std::cell::Cell;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, Utc};
use leptos::prelude::*;

use crate::browser;

thread_local! {
    /// The choice as [`offset_at`] reads it (the WASM build has one thread; the
    /// server never sets it).
    static IN_UTC: Cell<bool> = const { Cell::new(false) };
}

/// Whether times are shown in UTC rather than the browser's zone: one choice
/// for the whole UI, kept in this browser's `localStorage`. Reading the signal
/// (`ZoneChoice::get().0.get()`) in a view or effect redraws it on a switch.
#[derive(Debug, Clone, Copy)]
pub struct ZoneChoice(pub RwSignal<bool>);

impl ZoneChoice {
    /// The `localStorage` key.
    const KEY: &'static str = "sightline.time_zone";

    /// The choice of the page: provided once by the app, read by any component.
    pub fn get() -> ZoneChoice {
        use_context::<ZoneChoice>().unwrap_or_else(|| {
            let choice = ZoneChoice(RwSignal::new(false));
            provide_context(choice);
            choice
        })
    }

    /// Provides the choice to the app, as stored (read once hydrated, since the
    /// server cannot know it).
    pub fn provide() {
        let choice = ZoneChoice(RwSignal::new(false));
        provide_context(choice);
        Effect::new(move |_| {
            if browser::stored(Self::KEY).as_deref() == Some("utc") {
                choice.set(true);
            }
        });
    }

    fn set(self, utc: bool) {
        IN_UTC.with(|cell| cell.set(utc));
        self.0.set(utc);
    }

    /// Switches between UTC and the browser's zone, and remembers it.
    pub fn toggle(self) {
        let utc = !self.0.get_untracked();
        self.set(utc);
        browser::store(Self::KEY, if utc { "utc" } else { "local" });
    }
}

/// `ts_ms` to the millisecond in the chosen zone: `Dec 04 05:03:12.345`.
pub fn exact_time(ts_ms: i64) -> String {
    format_local(ts_ms, "%b %d %H:%M:%S%.3f")
}

/// The offset from UTC at the instant `unix_ms` of the chosen zone: the
/// browser's, or UTC's.
pub fn offset_at(unix_ms: i64) -> FixedOffset {
    #[cfg(feature = "hydrate")]
    if !IN_UTC.with(Cell::get) {
        // JavaScript numbers hold milliseconds exactly up to 2^53; our times fit.
        #[expect(clippy::cast_precision_loss, reason = "unix ms fit in an f64 mantissa")]
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(unix_ms as f64));
        // getTimezoneOffset is UTC minus local, in minutes; chrono wants local minus UTC.
        #[expect(clippy::cast_possible_truncation, reason = "offsets are whole minutes")]
        let minutes = -(date.get_timezone_offset() as i32);
        if let Some(offset) = FixedOffset::east_opt(minutes * 60) {
            return offset;
        }
    }
    let _ = unix_ms;
    Utc.fix()
}

/// The current instant. In the browser it comes from JavaScript's clock:
/// `std::time::SystemTime` is not available on `wasm32-unknown-unknown`.
pub fn now() -> DateTime<Utc> {
    #[cfg(feature = "hydrate")]
    {
        #[expect(clippy::cast_possible_truncation, reason = "Date.now() is whole ms")]
        let ms = js_sys::Date::now() as i64;
        DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    Utc::now()
}

/// `unix_ms` as a local date-time.
pub fn to_local(unix_ms: i64) -> Option<DateTime<FixedOffset>> {
    let utc = DateTime::<Utc>::from_timestamp_millis(unix_ms)?;
    Some(utc.with_timezone(&offset_at(unix_ms)))
}

/// Formats `unix_ms` in local time with a chrono format string (`%H:%M`, ...).
pub fn format_local(unix_ms: i64, format: &str) -> String {
    to_local(unix_ms)
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

/// The chosen zone as `UTC+01:00` (or `UTC`), for axis labels.
pub fn zone_label(unix_ms: i64) -> String {
    if IN_UTC.with(Cell::get) {
        return "UTC".to_owned();
    }
    let seconds = offset_at(unix_ms).local_minus_utc();
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The value for an `<input type="datetime-local">` showing `time` in local time.
pub fn to_input_value(time: DateTime<Utc>) -> String {
    format_local(time.timestamp_millis(), "%Y-%m-%dT%H:%M")
}

/// Reads an `<input type="datetime-local">` value (local time) as an instant.
pub fn from_input_value(value: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    // First guess the offset at the same wall-clock time read as UTC, then correct
    // with the offset at the resulting instant (right except inside a DST gap).
    let guess = naive.and_utc().timestamp_millis();
    let first =
        naive.and_utc() - chrono::Duration::seconds(offset_at(guess).local_minus_utc().into());
    let offset = offset_at(first.timestamp_millis());
    Some(naive.and_utc() - chrono::Duration::seconds(offset.local_minus_utc().into()))
}

/// How long ago something happened, in words: "just now", "42 s ago", "3 min ago",
/// "5 h ago", "2 d ago".
pub fn relative_time(ago_ms: i64) -> String {
    let seconds = ago_ms / 1000;
    match seconds {
        ..=4 => "just now".to_owned(),
        5..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// The absolute local time of `ts_ms` with the zone, for titles:
/// `2026-01-02 03:04:05.678 (UTC+01:00)`.
pub fn absolute_time(ts_ms: i64) -> String {
    format!(
        "{} ({})",
        format_local(ts_ms, "%Y-%m-%d %H:%M:%S%.3f"),
        zone_label(ts_ms)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_times_keep_the_milliseconds() {
        let ts = 1_796_360_592_345; // 2026-12-04 05:03:12.345 UTC
        assert_eq!(exact_time(ts), "Dec 04 05:03:12.345");
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(relative_time(-2000), "just now");
        assert_eq!(relative_time(42_000), "42 s ago");
        assert_eq!(relative_time(3 * 60_000 + 5), "3 min ago");
        assert_eq!(relative_time(5 * 3_600_000), "5 h ago");
        assert_eq!(relative_time(2 * 86_400_000), "2 d ago");
    }
}
