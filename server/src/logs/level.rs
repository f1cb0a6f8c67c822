//! Log levels: six ordered names, and the many ways shippers spell them (names,
//! syslog severities, pino/bunyan numbers, OTLP severity numbers).

use serde::{Serialize, Serializer};

/// A normalised log level. The discriminant is what `log_entry.level` stores, so
/// `level:>=warn` is a range query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(i16)]
pub enum Level {
    Trace = 1,
    Debug = 2,
    Info = 3,
    Warn = 4,
    Error = 5,
    Fatal = 6,
}

impl Level {
    /// All levels, lowest first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The lowercase name shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// The stored number (1–6).
    pub fn as_i16(self) -> i16 {
        self as i16
    }

    /// The level stored as `n`, if valid.
    pub fn from_i16(n: i16) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_i16() == n)
    }

    /// A level name as loggers write it (case-insensitive): `warning`, `ERR`,
    /// `critical`, `notice`, ...
    pub fn from_name(name: &str) -> Option<Level> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "trace" | "trc" | "verbose" | "finest" | "finer" => Level::Trace,
            "debug" | "dbg" | "fine" | "config" => Level::Debug,
            "info" | "inf" | "information" | "informational" | "notice" | "log" => Level::Info,
            "warn" | "warning" | "wrn" => Level::Warn,
            "error" | "err" | "eror" | "severe" => Level::Error,
            "fatal" | "critical" | "crit" | "alert" | "emerg" | "emergency" | "panic" => {
                Level::Fatal
            }
            _ => return None,
        })
    }

    /// A numeric level in a JSON log line: syslog severities 0–7, pino/bunyan
    /// levels 10–60 in steps of ten, otherwise an OTLP severity number 1–24.
    pub fn from_number(n: i64) -> Option<Level> {
        match n {
            0..=7 => Some(Self::from_syslog(n)),
            10 | 20 | 30 | 40 | 50 | 60 => Some(match n {
                10 => Level::Trace,
                20 => Level::Debug,
                30 => Level::Info,
                40 => Level::Warn,
                50 => Level::Error,
                _ => Level::Fatal,
            }),
            _ => Self::from_otlp(n),
        }
    }

    /// A syslog severity (0 emergency … 7 debug).
    pub fn from_syslog(n: i64) -> Level {
        match n {
            i64::MIN..=2 => Level::Fatal,
            3 => Level::Error,
            4 => Level::Warn,
            5 | 6 => Level::Info,
            _ => Level::Debug,
        }
    }

    /// An OTLP `SeverityNumber` (1–4 trace, 5–8 debug, 9–12 info, 13–16 warn,
    /// 17–20 error, 21–24 fatal); 0 is "unspecified".
    pub fn from_otlp(n: i64) -> Option<Level> {
        Some(match n {
            1..=4 => Level::Trace,
            5..=8 => Level::Debug,
            9..=12 => Level::Info,
            13..=16 => Level::Warn,
            17..=20 => Level::Error,
            21..=24 => Level::Fatal,
            _ => return None,
        })
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_normalise() {
        assert_eq!(Level::from_name("WARNING"), Some(Level::Warn));
        assert_eq!(Level::from_name("crit"), Some(Level::Fatal));
        assert_eq!(Level::from_name("nonsense"), None);
        assert_eq!(Level::from_number(3), Some(Level::Error)); // syslog
        assert_eq!(Level::from_number(30), Some(Level::Info)); // pino
        assert_eq!(Level::from_number(17), Some(Level::Error)); // OTLP
        assert_eq!(Level::from_number(99), None);
        assert!(Level::Warn < Level::Error);
        for level in Level::ALL {
            assert_eq!(Level::from_i16(level.as_i16()), Some(level));
            assert_eq!(Level::from_name(level.as_str()), Some(level));
        }
    }
}
