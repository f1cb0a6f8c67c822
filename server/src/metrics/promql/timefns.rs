//! Calendar functions (`hour()`, `day_of_month()`, ...). They read sample
//! values as Unix seconds in UTC, like Prometheus' `dateWrapper`; with no
//! argument they use the evaluation time.

/// The calendar function named `name`, if it is one.
pub(super) fn date_fn(name: &str) -> Option<fn(i64) -> f64> {
    Some(match name {
        "minute" => |s| (s.rem_euclid(86_400) / 60 % 60) as f64,
        "hour" => |s| (s.rem_euclid(86_400) / 3600) as f64,
        "day_of_week" => |s| (s.div_euclid(86_400) + 4).rem_euclid(7) as f64,
        "day_of_month" => |s| civil(s).2 as f64,
        "day_of_year" => |s| {
            let (y, m, d) = civil(s);
            (days_before_month(y, m) + d) as f64
        },
        "days_in_month" => |s| {
            let (y, m, _) = civil(s);
            days_in_month(y, m) as f64
        },
        "month" => |s| civil(s).1 as f64,
        "year" => |s| civil(s).0 as f64,
        _ => return None,
    })
}

/// Seconds from a sample value, truncated like Go's `int64(v)`. Values
/// outside the range Go's time package handles sanely give `None`.
pub(super) fn secs(v: f64) -> Option<i64> {
    if v.is_finite() && v.abs() < 1e15 {
        Some(v.trunc() as i64)
    } else {
        None
    }
}

/// (year, month 1-12, day 1-31) of a Unix time in UTC (Hinnant's algorithm).
fn civil(secs: i64) -> (i64, i64, i64) {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_before_month(y: i64, m: i64) -> i64 {
    (1..m).map(|k| days_in_month(y, k)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_fields() {
        // 2024-02-29T13:45:00Z
        let t = 1_709_214_300;
        let f = |n: &str| date_fn(n).map(|f| f(t));
        assert_eq!(f("year"), Some(2024.0));
        assert_eq!(f("month"), Some(2.0));
        assert_eq!(f("day_of_month"), Some(29.0));
        assert_eq!(f("day_of_year"), Some(60.0));
        assert_eq!(f("days_in_month"), Some(29.0));
        assert_eq!(f("hour"), Some(13.0));
        assert_eq!(f("minute"), Some(45.0));
        assert_eq!(f("day_of_week"), Some(4.0));
        assert_eq!(date_fn("day_of_week").map(|f| f(-86_400)), Some(3.0));
    }
}
