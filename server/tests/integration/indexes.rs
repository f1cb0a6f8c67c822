//! The newest-first pages read an index in their order: no query plan sorts.
//!
//! The time indexes are ascending, because rows arrive in time order (see
//! `migrations/20261127000003_ascending_time_indexes.sql`); the pages ask for
//! `ts desc`. These tests pin that PostgreSQL reads those indexes backwards for
//! the statements the handlers run (built by the same functions). With sorting
//! disabled, a plan that still has a Sort node is one no index could serve.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use chrono::{Duration, Utc};
use server::logs::{
    query::{parse, Scope},
    store::push_page,
};
use sqlx::{pool::PoolConnection, PgPool, Postgres, QueryBuilder, Row};

/// A connection with sorts and sequential scans disabled.
async fn planner(pool: &PgPool) -> PoolConnection<Postgres> {
    let mut conn = pool.acquire().await.unwrap();
    for setting in ["set enable_sort = off", "set enable_seqscan = off"] {
        sqlx::query(setting).execute(&mut *conn).await.unwrap();
    }
    conn
}

fn text(rows: &[sqlx::postgres::PgRow]) -> String {
    rows.iter()
        .map(|row| row.get::<String, _>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `/logs/search`: first and later (keyset) pages, with and without a filter.
#[sqlx::test(migrations = "../migrations")]
async fn log_pages_walk_the_time_index_backwards(pool: PgPool) {
    let mut conn = planner(&pool).await;
    let now = Utc::now();
    let scope = Scope {
        project_id: 1,
        from: now - Duration::days(1),
        to: now,
    };
    for (q, cursor) in [
        ("", None),
        ("", Some((now - Duration::hours(1), 12345))),
        (
            "level:error service:api",
            Some((now - Duration::hours(1), 12345)),
        ),
    ] {
        let mut sql = QueryBuilder::new("explain ");
        push_page(&mut sql, &scope, &parse(q).unwrap(), cursor, 101);
        let plan = text(&sql.build().fetch_all(&mut *conn).await.unwrap());
        assert!(!plan.contains("Sort"), "{q} {cursor:?}: {plan}");
        assert!(
            plan.contains("Index Scan Backward"),
            "{q} {cursor:?}: {plan}"
        );
    }
}

/// An issue's events, newest first: the first page and a later one.
#[sqlx::test(migrations = "../migrations")]
async fn issue_events_walk_the_time_index_backwards(pool: PgPool) {
    let mut conn = planner(&pool).await;
    let sql = format!("explain {}", server::errors::store::events::page_sql());
    for cursor in [None, Some((Utc::now(), uuid::Uuid::nil()))] {
        let rows = sqlx::query(&sql)
            .bind(1_i64)
            .bind(cursor.map(|c| c.0))
            .bind(cursor.map(|c| c.1))
            .bind(51_i64)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        let plan = text(&rows);
        assert!(!plan.contains("Sort"), "{cursor:?}: {plan}");
        assert!(plan.contains("Index Scan Backward"), "{cursor:?}: {plan}");
    }
}
