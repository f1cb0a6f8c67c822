//! CPU time spent by this process (Sightline and the benchmark's clients) and by
//! the embedded PostgreSQL's processes, read from `/proc`. On a shared machine a
//! benchmark's rate moves with its neighbours; the CPU time a line or an event
//! costs moves much less, and says which side the time goes to.

use std::{path::Path, time::Duration};

/// Clock ticks a second in `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: u64 = 100;

/// Measures CPU time from the moment it is started.
pub struct CpuMeter {
    postmaster: Option<u32>,
    start: Sample,
}

/// CPU time used since [`CpuMeter::start`].
#[derive(Debug, Clone, Copy)]
pub struct CpuUsed {
    pub sightline: Duration,
    /// `None` when PostgreSQL is not the embedded cluster (or not on Linux).
    pub postgres: Option<Duration>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    sightline: u64,
    postgres: Option<u64>,
}

impl CpuMeter {
    /// Starts measuring; `postmaster` is the PostgreSQL server's process id.
    pub fn start(postmaster: Option<u32>) -> Self {
        CpuMeter {
            postmaster,
            start: sample(postmaster),
        }
    }

    pub fn used(&self) -> CpuUsed {
        let now = sample(self.postmaster);
        CpuUsed {
            sightline: ticks(now.sightline.saturating_sub(self.start.sightline)),
            postgres: now
                .postgres
                .zip(self.start.postgres)
                .map(|(now, start)| ticks(now.saturating_sub(start))),
        }
    }
}

impl CpuUsed {
    /// `Sightline X µs, PostgreSQL Y µs` per one of `units`.
    pub fn per(&self, units: usize) -> String {
        let each = |d: Duration| d.as_secs_f64() * 1e6 / units.max(1) as f64;
        match self.postgres {
            Some(pg) => format!(
                "Sightline {:.1} µs, PostgreSQL {:.1} µs",
                each(self.sightline),
                each(pg)
            ),
            None => format!(
                "Sightline {:.1} µs, PostgreSQL not measured (not the embedded cluster)",
                each(self.sightline)
            ),
        }
    }
}

/// The process id in a cluster's `postmaster.pid`.
pub fn postmaster_pid(cluster_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(cluster_dir.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

fn ticks(n: u64) -> Duration {
    Duration::from_micros(n * 1_000_000 / TICKS_PER_SECOND)
}

fn sample(postmaster: Option<u32>) -> Sample {
    let sightline = stat("self").map_or(0, |s| s.utime + s.stime);
    let postgres = postmaster.and_then(|pid| {
        // Exited backends are counted in the postmaster's children's times.
        let own = stat(&pid.to_string())?;
        let mut total = own.utime + own.stime + own.cutime + own.cstime;
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Some(child) = stat(name).filter(|s| s.ppid == pid) {
                total += child.utime + child.stime;
            }
        }
        Some(total)
    });
    Sample {
        sightline,
        postgres,
    }
}

struct Stat {
    ppid: u32,
    utime: u64,
    stime: u64,
    cutime: u64,
    cstime: u64,
}

/// Fields of `/proc/<pid>/stat` (see proc(5)); the command name may hold spaces,
/// so fields are counted from the last `)`.
fn stat(pid: &str) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (3), ppid (4), ..., utime (14), stime, cutime, cstime (17).
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        ppid: u32::try_from(field(4)?).ok()?,
        utime: field(14)?,
        stime: field(15)?,
        cutime: field(16)?,
        cstime: field(17)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = "4242 (postgres: a) b) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 30 7 9 20 0 1 0";
        let stat = parse_stat(line).unwrap();
        assert_eq!(
            (stat.ppid, stat.utime, stat.stime, stat.cutime, stat.cstime),
            (17, 250, 30, 7, 9)
        );
        assert_eq!(ticks(250), Duration::from_millis(2500));
    }

    #[test]
    fn this_process_uses_some_cpu() {
        let meter = CpuMeter::start(None);
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let used = meter.used();
        assert!(used.postgres.is_none());
        assert!(used.per(1).contains("not measured"));
    }
}
