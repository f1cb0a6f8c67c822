//! [`KeyRateLimits`]: the per-key limit an admin may set on an ingest key
//! (`project_key.rate_limit_per_minute`), counted in fixed one-minute windows.
//!
//! Counts live in this instance's memory, so behind a load balancer each
//! instance allows the limit (a noisy client is slowed, not metered exactly).
//! A key's limit is read from the database at most once a minute; a changed
//! limit applies within that minute.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use sqlx::PgPool;

/// How long a key's limit is used before it is read again.
const LIMIT_TTL: Duration = Duration::from_secs(60);
/// Keys remembered before entries not used for a while are dropped.
const MAX_KEYS: usize = 10_000;

/// Per-key counters of this instance; shared by all requests.
#[derive(Debug, Default)]
pub struct KeyRateLimits {
    keys: Mutex<HashMap<String, KeyWindow>>,
}

#[derive(Debug, Clone, Copy)]
struct KeyWindow {
    limit: Option<u32>,
    read_at: Instant,
    /// The minute (Unix seconds / 60) `used` counts.
    minute: i64,
    used: u32,
}

/// A key is over its limit until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverLimit {
    /// Seconds until the next window (1 to 60).
    pub retry_after_secs: u64,
}

impl KeyRateLimits {
    /// Counts `units` (events) for `key` at `now_secs` (Unix seconds); refuses them
    /// all when they would take the key past its limit in this minute.
    pub async fn check(
        &self,
        pool: &PgPool,
        key: &str,
        units: u32,
        now_secs: i64,
    ) -> Result<Result<(), OverLimit>, sqlx::Error> {
        if units == 0 {
            return Ok(Ok(()));
        }
        let cached = self
            .lock()
            .get(key)
            .filter(|w| w.read_at.elapsed() < LIMIT_TTL)
            .map(|w| w.limit);
        let limit = match cached {
            Some(limit) => limit,
            None => {
                let limit = read_limit(pool, key).await?;
                let mut keys = self.lock();
                if keys.len() >= MAX_KEYS {
                    keys.retain(|_, w| w.read_at.elapsed() < LIMIT_TTL);
                }
                keys.entry(key.to_string())
                    .and_modify(|w| {
                        w.limit = limit;
                        w.read_at = Instant::now();
                    })
                    .or_insert(KeyWindow {
                        limit,
                        read_at: Instant::now(),
                        minute: now_secs.div_euclid(60),
                        used: 0,
                    });
                limit
            }
        };
        let Some(limit) = limit else {
            return Ok(Ok(()));
        };
        let mut keys = self.lock();
        let Some(window) = keys.get_mut(key) else {
            return Ok(Ok(()));
        };
        Ok(take(window, limit, units, now_secs))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, KeyWindow>> {
        // A panic while holding the lock leaves only counters behind: keep going.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Takes `units` from the key's current window, or says when it has room again.
fn take(window: &mut KeyWindow, limit: u32, units: u32, now_secs: i64) -> Result<(), OverLimit> {
    let minute = now_secs.div_euclid(60);
    if window.minute != minute {
        window.minute = minute;
        window.used = 0;
    }
    if window.used.saturating_add(units) > limit {
        let left = 60 - now_secs.rem_euclid(60);
        return Err(OverLimit {
            retry_after_secs: left as u64,
        });
    }
    window.used += units;
    Ok(())
}

async fn read_limit(pool: &PgPool, key: &str) -> Result<Option<u32>, sqlx::Error> {
    let limit: Option<Option<i32>> = sqlx::query_scalar(
        "select rate_limit_per_minute from project_key where public_key = $1 and revoked_at is null",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(limit.flatten().and_then(|l| u32::try_from(l).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_refuses_past_its_limit_until_the_next_minute() {
        let start = 1_700_000_080; // 40 s into a minute
        let mut window = KeyWindow {
            limit: Some(3),
            read_at: Instant::now(),
            minute: start / 60,
            used: 0,
        };
        assert_eq!(take(&mut window, 3, 2, start), Ok(()));
        assert_eq!(take(&mut window, 3, 1, start + 1), Ok(()));
        assert_eq!(
            take(&mut window, 3, 1, start + 5),
            Err(OverLimit {
                retry_after_secs: 15
            })
        );
        // A refused request takes nothing; the next minute starts afresh.
        assert_eq!(window.used, 3);
        assert_eq!(take(&mut window, 3, 3, start + 20), Ok(()));
        assert_eq!(
            take(&mut window, 3, 1, start + 70),
            Err(OverLimit {
                retry_after_secs: 10
            })
        );
    }
}
