//! The newest-first pages read an index in their order: no query plan sorts.
//!
//! The time indexes are ascending, because rows arrive in time order (see
//! `migrations/20261127000003_ascending_time_indexes.sql`); the pages ask for
//! `ts desc`. These tests pin that PostgreSQL reads those indexes backwards for
//! them. With sorting disabled, a plan that still has a Sort node is one no
//! index could serve.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use sqlx::{PgPool, Row};

/// The text of `explain` for `sql`, with sorts and sequential scans disabled.
async fn plan(pool: &PgPool, sql: &str) -> String {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("set enable_sort = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("set enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    let rows = sqlx::query(&format!("explain {sql}"))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.get::<String, _>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `/logs/search`: first and later (keyset) pages.
#[sqlx::test(migrations = "../migrations")]
async fn log_pages_walk_the_time_index_backwards(pool: PgPool) {
    for sql in [
        "select * from log_entry
         where project_id = 1 and ts >= now() - interval '1 day' and ts < now()
         order by ts desc, log_id desc limit 101",
        "select * from log_entry
         where project_id = 1 and ts >= now() - interval '1 day' and ts < now()
           and (ts, log_id) < (now() - interval '1 hour', 12345)
         order by ts desc, log_id desc limit 101",
    ] {
        let plan = plan(&pool, sql).await;
        assert!(!plan.contains("Sort"), "{plan}");
        assert!(plan.contains("Index Scan Backward"), "{plan}");
    }
}

/// An issue's events, newest first, and its latest event.
#[sqlx::test(migrations = "../migrations")]
async fn issue_events_walk_the_time_index_backwards(pool: PgPool) {
    for sql in [
        "select * from error_event where issue_id = 1
         order by ts desc, event_id desc limit 51",
        "select * from error_event where issue_id = 1
           and (ts, event_id) < (now(), '00000000-0000-0000-0000-000000000000'::uuid)
         order by ts desc, event_id desc limit 51",
    ] {
        let plan = plan(&pool, sql).await;
        assert!(!plan.contains("Sort"), "{plan}");
        assert!(plan.contains("Index Scan Backward"), "{plan}");
    }
}
