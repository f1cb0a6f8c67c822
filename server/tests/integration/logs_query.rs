//! The log search language against a real PostgreSQL: a deterministic data set of
//! a few thousand lines (two days, two projects, every level, nested and flat
//! attributes), with every expected answer computed in Rust from the same rows.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use serde_json::{json, Value};
use server::logs::{
    query::{parse, tabular_sql, Scope},
    store::push_page,
};
use sqlx::{PgPool, Postgres, QueryBuilder};

const ROWS: usize = 3000;
const SERVICES: [&str; 4] = ["api", "web", "worker", "billing"];
const HOSTS: [&str; 4] = ["web-1", "web-2", "db-1", "db_2"];
const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "fatal"];
const STATUSES: [i64; 5] = [200, 201, 404, 500, 503];

/// One generated line, with its attributes in the typed form the expectations use.
#[derive(Debug, Clone)]
struct Line {
    project_id: i64,
    ts: DateTime<Utc>,
    level: i16,
    service: &'static str,
    host: &'static str,
    message: String,
    trace_id: Option<String>,
    span_id: Option<String>,
    /// http.status as stored: nested number, flat number, nested string, or absent.
    status: Option<i64>,
    /// user.id: a number, a numeric string or a name.
    user: Option<Value>,
    /// duration_ms: a number, or the string "n/a".
    duration: Option<Value>,
    attributes: Value,
}

impl Line {
    fn level_name(&self) -> &'static str {
        LEVELS[usize::try_from(self.level - 1).expect("level 1 to 6")]
    }

    fn duration_ms(&self) -> Option<f64> {
        self.duration.as_ref().and_then(Value::as_f64)
    }

    fn user_text(&self) -> Option<String> {
        self.user.as_ref().map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// The data set: the same every run.
fn generate() -> Vec<Line> {
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    (0..ROWS)
        .map(|i| {
            let pick = |n: u64| usize::try_from(n).expect("small");
            let level = i16::try_from(1 + next(6)).expect("small");
            let service = SERVICES[pick(next(4))];
            let host = HOSTS[pick(next(4))];
            let n = next(1500);
            let message = match next(6) {
                0 => format!("GET /api/users took {n} ms"),
                1 => "connection reset by peer".to_owned(),
                2 => format!("Timeout waiting for lock {n}"),
                3 => format!("user {n} logged in"),
                4 => "disk 100% full".to_owned(),
                _ => format!("progress 1000 items, batch {n}"),
            };
            let status = STATUSES[pick(next(5))];
            let mut attributes = json!({"region": if i % 2 == 0 { "eu" } else { "us" }});
            let object = attributes.as_object_mut().expect("an object");
            let status = match i % 4 {
                0 => {
                    object.insert("http".into(), json!({"status": status}));
                    Some(status)
                }
                1 => {
                    object.insert("http.status".into(), json!(status));
                    Some(status)
                }
                2 => {
                    object.insert("http".into(), json!({"status": status.to_string()}));
                    Some(status)
                }
                _ => None,
            };
            let user = match i % 5 {
                0 => Some(json!(40 + next(5))),
                1 => Some(json!((40 + next(5)).to_string())),
                2 => Some(json!("alice")),
                _ => None,
            };
            match (i % 5, &user) {
                (0 | 2, Some(user)) => {
                    object.insert("user".into(), json!({"id": user}));
                }
                (1, Some(user)) => {
                    object.insert("user.id".into(), user.clone());
                }
                _ => {}
            }
            let duration = match i % 10 {
                1 => Some(json!("n/a")),
                0 | 2 | 4 | 6 | 8 => Some(json!(next(4000) as f64 / 4.0)),
                _ => None,
            };
            if let Some(duration) = &duration {
                object.insert("duration_ms".into(), duration.clone());
            }
            let offset = i64::try_from(i).expect("small") * 57;
            Line {
                project_id: if i % 5 == 3 { 2 } else { 1 },
                ts: start() + Duration::seconds(offset),
                level,
                service,
                host,
                message,
                trace_id: match i % 3 {
                    0 => Some(format!("t{i:05}")),
                    1 if i % 7 == 0 => Some(String::new()),
                    _ => None,
                },
                span_id: (i % 2 == 0).then(|| format!("s{i:05}")),
                status,
                user,
                duration,
                attributes,
            }
        })
        .collect()
}

async fn load(pool: &PgPool) -> Vec<Line> {
    for (day, from, to) in [
        ("20261120", "2026-11-20", "2026-11-21"),
        ("20261121", "2026-11-21", "2026-11-22"),
    ] {
        sqlx::query(&format!(
            "create table log_entry_p{day} partition of log_entry \
             for values from ('{from} 00:00:00+00') to ('{to} 00:00:00+00')"
        ))
        .execute(pool)
        .await
        .expect("partition");
    }
    let lines = generate();
    for chunk in lines.chunks(500) {
        let mut insert = QueryBuilder::<Postgres>::new(
            "insert into log_entry (project_id, ts, level, service, host, message, trace_id, \
             span_id, attributes) ",
        );
        insert.push_values(chunk, |mut row, line| {
            row.push_bind(line.project_id)
                .push_bind(line.ts)
                .push_bind(line.level)
                .push_bind(line.service)
                .push_bind(line.host)
                .push_bind(line.message.clone())
                .push_bind(line.trace_id.clone())
                .push_bind(line.span_id.clone())
                .push_bind(line.attributes.clone());
        });
        insert.build().execute(pool).await.expect("insert");
    }
    // The batch writer keeps per-minute counts along with the lines (counts by
    // level and service are answered from them); lines inserted directly need them too.
    sqlx::query(
        "insert into log_count_minute (project_id, minute, level, service, lines) \
         select project_id, date_trunc('minute', ts), level, service, count(*) \
         from log_entry group by 1, 2, 3, 4",
    )
    .execute(pool)
    .await
    .expect("counts");
    lines
}

fn whole_range(project_id: i64) -> Scope {
    Scope {
        project_id,
        from: start(),
        to: start() + Duration::days(2),
    }
}

/// How many lines `query` finds in `scope`, with the statement `/logs/search`
/// runs (one page as large as the data set).
async fn count(pool: &PgPool, scope: &Scope, query: &str) -> i64 {
    let parsed = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut sql = QueryBuilder::<Postgres>::new("");
    push_page(&mut sql, scope, &parsed, None, ROWS as i64 + 1);
    let rows = sql
        .build()
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    i64::try_from(rows.len()).expect("small")
}

/// The rows of a tabular query, and its column names.
async fn table(pool: &PgPool, scope: &Scope, query: &str) -> (Vec<String>, Vec<Vec<Value>>) {
    let parsed = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut tabular = tabular_sql(&parsed, scope).unwrap_or_else(|e| panic!("{query}: {e}"));
    let rows: Vec<Value> = tabular
        .sql
        .build_query_scalar()
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let rows = rows
        .into_iter()
        .map(|row| match row {
            Value::Array(cells) => cells,
            other => panic!("{query}: row is not an array: {other}"),
        })
        .collect();
    (tabular.columns, rows)
}

fn expected(lines: &[Line], project_id: i64, matches: impl Fn(&Line) -> bool) -> i64 {
    let n = lines
        .iter()
        .filter(|l| l.project_id == project_id && matches(l))
        .count();
    i64::try_from(n).expect("small")
}

fn rfc3339(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

#[sqlx::test(migrations = "../migrations")]
async fn terms_and_field_operators_match_what_rust_expects(pool: PgPool) {
    let lines = load(&pool).await;
    let scope = whole_range(1);
    let contains = |l: &Line, s: &str| l.message.to_lowercase().contains(&s.to_lowercase());
    type Expectation = Box<dyn Fn(&Line) -> bool>;
    let cases: Vec<(&str, Expectation)> = vec![
        // Terms on the message.
        ("timeout", Box::new(move |l| contains(l, "timeout"))),
        (
            "TIMEOUT waiting",
            Box::new(move |l| contains(l, "timeout") && contains(l, "waiting")),
        ),
        (
            "\"connection reset\"",
            Box::new(move |l| contains(l, "connection reset")),
        ),
        ("\"reset connection\"", Box::new(|_| false)),
        ("100%", Box::new(move |l| contains(l, "100%"))),
        ("/^GET /", Box::new(|l| l.message.starts_with("GET "))),
        ("/^get /", Box::new(|_| false)),
        ("/^get /i", Box::new(|l| l.message.starts_with("GET "))),
        (
            "/took [0-9]{3} ms$/",
            Box::new(|l| {
                l.message.starts_with("GET ")
                    && l.message.split(' ').nth(3).is_some_and(|n| n.len() == 3)
            }),
        ),
        ("message:Reset", Box::new(move |l| contains(l, "reset"))),
        ("message:disk*", Box::new(|l| l.message.starts_with("disk"))),
        // Text columns.
        ("service:api", Box::new(|l| l.service == "api")),
        ("service:API", Box::new(|_| false)),
        ("service:!=api", Box::new(|l| l.service != "api")),
        ("service:\"api\"", Box::new(|l| l.service == "api")),
        ("host:web-*", Box::new(|l| l.host.starts_with("web-"))),
        ("host:db_*", Box::new(|l| l.host == "db_2")),
        (
            "host:/^web-[12]$/",
            Box::new(|l| l.host.starts_with("web-")),
        ),
        ("service:>v", Box::new(|l| l.service > "v")),
        (
            "trace_id:*",
            Box::new(|l| l.trace_id.as_ref().is_some_and(|t| !t.is_empty())),
        ),
        (
            "-trace_id:*",
            Box::new(|l| l.trace_id.as_ref().is_none_or(String::is_empty)),
        ),
        (
            "trace_id:t00003",
            Box::new(|l| l.trace_id.as_deref() == Some("t00003")),
        ),
        (
            "trace_id:!=t00003",
            Box::new(|l| l.trace_id.as_deref() != Some("t00003")),
        ),
        (
            "NOT trace_id:t00003",
            Box::new(|l| l.trace_id.as_deref() != Some("t00003")),
        ),
        (
            "span_id:s001*",
            Box::new(|l| l.span_id.as_ref().is_some_and(|s| s.starts_with("s001"))),
        ),
        // Levels, ordered.
        ("level:error", Box::new(|l| l.level == 5)),
        ("level:ERR", Box::new(|l| l.level == 5)),
        ("level:critical", Box::new(|l| l.level == 6)),
        ("level:>=warn", Box::new(|l| l.level >= 4)),
        ("level:>warning", Box::new(|l| l.level > 4)),
        ("level:<info", Box::new(|l| l.level < 3)),
        ("level:<=3", Box::new(|l| l.level <= 3)),
        ("level:!=info", Box::new(|l| l.level != 3)),
        ("level:*", Box::new(|_| true)),
        ("level:d*", Box::new(|l| l.level == 2)),
        (
            "level:/^(warn|fatal)$/",
            Box::new(|l| l.level == 4 || l.level == 6),
        ),
        // Attributes: nested, flat, numeric strings.
        ("http.status:*", Box::new(|l| l.status.is_some())),
        ("http.status:500", Box::new(|l| l.status == Some(500))),
        ("http.status:!=500", Box::new(|l| l.status != Some(500))),
        (
            "http.status:>=500",
            Box::new(|l| l.status.is_some_and(|s| s >= 500)),
        ),
        (
            "http.status:<300",
            Box::new(|l| l.status.is_some_and(|s| s < 300)),
        ),
        (
            "http.status:>404.5",
            Box::new(|l| l.status.is_some_and(|s| s > 404)),
        ),
        (
            "http.status:5*",
            Box::new(|l| l.status.is_some_and(|s| s >= 500)),
        ),
        (
            "http.status:/^20[01]$/",
            Box::new(|l| l.status.is_some_and(|s| s < 300)),
        ),
        (
            "user.id:42",
            Box::new(|l| l.user_text().as_deref() == Some("42")),
        ),
        (
            "user.id:alice",
            Box::new(|l| l.user_text().as_deref() == Some("alice")),
        ),
        (
            "user.id:>42",
            Box::new(|l| {
                l.user_text()
                    .and_then(|u| u.parse::<i64>().ok())
                    .is_some_and(|u| u > 42)
            }),
        ),
        (
            "duration_ms:>500",
            Box::new(|l| l.duration_ms().is_some_and(|d| d > 500.0)),
        ),
        (
            "duration_ms:<=10.25",
            Box::new(|l| l.duration_ms().is_some_and(|d| d <= 10.25)),
        ),
        (
            "duration_ms:n/a",
            Box::new(|l| l.duration == Some(json!("n/a"))),
        ),
        ("region:eu", Box::new(|l| l.attributes["region"] == "eu")),
        ("service:\"api' or 'a'='a\"", Box::new(|_| false)),
        ("missing.path:*", Box::new(|_| false)),
        // Boolean structure.
        (
            "service:api OR service:web",
            Box::new(|l| l.service == "api" || l.service == "web"),
        ),
        (
            "NOT (service:api OR level:error)",
            Box::new(|l| !(l.service == "api" || l.level == 5)),
        ),
        (
            "-service:api timeout",
            Box::new(move |l| l.service != "api" && contains(l, "timeout")),
        ),
        (
            "(service:api OR service:web) level:>=warn",
            Box::new(|l| (l.service == "api" || l.service == "web") && l.level >= 4),
        ),
        (
            "service:api OR service:web AND level:fatal",
            Box::new(|l| l.service == "api" || (l.service == "web" && l.level == 6)),
        ),
        (
            "NOT service:api AND NOT host:web-1",
            Box::new(|l| l.service != "api" && l.host != "web-1"),
        ),
    ];
    for (query, matches) in &cases {
        let want = expected(&lines, 1, matches);
        assert_eq!(count(&pool, &scope, query).await, want, "query: {query}");
    }
    // The data set exercises what it claims to.
    assert!(expected(&lines, 1, |l| l.status == Some(500)) > 20);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_time_range_and_the_project_bound_every_query(pool: PgPool) {
    let lines = load(&pool).await;
    let first_day = Scope {
        project_id: 1,
        from: start(),
        to: start() + Duration::days(1),
    };
    let in_day = |l: &Line| l.ts < first_day.to;
    assert_eq!(
        count(&pool, &first_day, "").await,
        expected(&lines, 1, in_day)
    );
    assert_eq!(
        count(&pool, &first_day, "level:error").await,
        expected(&lines, 1, |l| in_day(l) && l.level == 5)
    );
    let noon = Scope {
        project_id: 2,
        from: start() + Duration::hours(12),
        to: start() + Duration::hours(13),
    };
    assert_eq!(
        count(&pool, &noon, "service:api").await,
        expected(&lines, 2, |l| {
            l.ts >= noon.from && l.ts < noon.to && l.service == "api"
        })
    );
    assert_eq!(
        count(&pool, &whole_range(3), "").await,
        0,
        "no other project's lines"
    );
    let (_, rows) = table(&pool, &whole_range(2), "| stats count()").await;
    assert_eq!(rows, vec![vec![json!(expected(&lines, 2, |_| true))]]);
}

#[sqlx::test(migrations = "../migrations")]
async fn stats_count_by_level_and_by_service_every_hour(pool: PgPool) {
    let lines = load(&pool).await;
    let scope = whole_range(1);

    let (columns, rows) = table(&pool, &scope, "| stats count() by level").await;
    assert_eq!(columns, ["level", "count()"]);
    let want: Vec<Vec<Value>> = (1..=6)
        .map(|level| {
            vec![
                json!(LEVELS[level - 1]),
                json!(expected(&lines, 1, |l| l.level
                    == i16::try_from(level).expect("small"))),
            ]
        })
        .collect();
    assert_eq!(rows, want);

    let (columns, rows) = table(
        &pool,
        &scope,
        "level:>=warn | stats count() by service every 1h | limit 10000",
    )
    .await;
    assert_eq!(columns, ["ts", "service", "count()"]);
    let mut buckets: BTreeMap<(String, &str), i64> = BTreeMap::new();
    for line in lines.iter().filter(|l| l.project_id == 1 && l.level >= 4) {
        let hour = line
            .ts
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .expect("an hour");
        *buckets.entry((rfc3339(hour), line.service)).or_default() += 1;
    }
    let want: Vec<Vec<Value>> = buckets
        .into_iter()
        .map(|((hour, service), n)| vec![json!(hour), json!(service), json!(n)])
        .collect();
    assert_eq!(rows, want);
}

#[sqlx::test(migrations = "../migrations")]
async fn stats_aggregate_numeric_attributes(pool: PgPool) {
    let lines = load(&pool).await;
    let scope = whole_range(1);
    let (columns, rows) = table(
        &pool,
        &scope,
        "| stats count(), avg(duration_ms), min(duration_ms), max(duration_ms), \
         sum(duration_ms), p50(duration_ms), p99(duration_ms), count_distinct(user.id), \
         max(level), min(ts)",
    )
    .await;
    assert_eq!(
        columns,
        [
            "count()",
            "avg(duration_ms)",
            "min(duration_ms)",
            "max(duration_ms)",
            "sum(duration_ms)",
            "p50(duration_ms)",
            "p99(duration_ms)",
            "count_distinct(user.id)",
            "max(level)",
            "min(ts)"
        ]
    );
    let mine: Vec<&Line> = lines.iter().filter(|l| l.project_id == 1).collect();
    let mut durations: Vec<f64> = mine.iter().filter_map(|l| l.duration_ms()).collect();
    durations.sort_by(f64::total_cmp);
    let sum: f64 = durations.iter().sum();
    let n = durations.len() as f64;
    let percentile = |p: f64| {
        // percentile_cont: linear interpolation between the closest ranks.
        let rank = p * (n - 1.0);
        let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
        durations[low] + (durations[high] - durations[low]) * (rank - rank.floor())
    };
    let distinct_users: std::collections::BTreeSet<String> =
        mine.iter().filter_map(|l| l.user_text()).collect();
    let row = &rows[0];
    assert_eq!(rows.len(), 1);
    assert_eq!(row[0], json!(mine.len()));
    assert!((number(&row[1]) - sum / n).abs() < 1e-9, "avg {}", row[1]);
    assert!((number(&row[2]) - durations[0]).abs() < 1e-9);
    assert!((number(&row[3]) - durations[durations.len() - 1]).abs() < 1e-9);
    assert!((number(&row[4]) - sum).abs() < 1e-6);
    assert!(
        (number(&row[5]) - percentile(0.5)).abs() < 1e-9,
        "p50 {}",
        row[5]
    );
    assert!(
        (number(&row[6]) - percentile(0.99)).abs() < 1e-9,
        "p99 {}",
        row[6]
    );
    assert_eq!(row[7], json!(distinct_users.len()));
    assert_eq!(row[8], json!("fatal"));
    assert_eq!(row[9], json!(rfc3339(mine[0].ts)));

    // Grouped by an attribute: nested, flat and string forms of a status group together.
    let (columns, rows) = table(
        &pool,
        &scope,
        "http.status:* | stats count() by http.status",
    )
    .await;
    assert_eq!(columns, ["http.status", "count()"]);
    let want: Vec<Vec<Value>> = STATUSES
        .iter()
        .map(|s| {
            vec![
                json!(s.to_string()),
                json!(expected(&lines, 1, |l| l.status == Some(*s))),
            ]
        })
        .collect();
    assert_eq!(rows, want);
}

#[sqlx::test(migrations = "../migrations")]
async fn sort_limit_and_fields_shape_the_table(pool: PgPool) {
    let lines = load(&pool).await;
    let scope = whole_range(1);

    let mut by_service: Vec<(i64, &str)> = SERVICES
        .iter()
        .map(|s| (expected(&lines, 1, |l| l.service == *s), *s))
        .collect();
    by_service.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    for query in [
        "| stats count() by service | sort -count | limit 2",
        "| stats count() by service | sort -count() | limit 2",
    ] {
        let (columns, rows) = table(&pool, &scope, query).await;
        assert_eq!(columns, ["service", "count()"]);
        let want: Vec<Vec<Value>> = by_service[..2]
            .iter()
            .map(|(n, s)| vec![json!(s), json!(n)])
            .collect();
        assert_eq!(rows, want, "{query}");
    }

    let (columns, rows) = table(
        &pool,
        &scope,
        "| stats count() by service | sort -count | limit 3 | sort service | fields service",
    )
    .await;
    assert_eq!(columns, ["service"]);
    let mut top3: Vec<&str> = by_service[..3].iter().map(|(_, s)| *s).collect();
    top3.sort_unstable();
    assert_eq!(
        rows,
        top3.iter().map(|s| vec![json!(s)]).collect::<Vec<_>>()
    );

    let mine: Vec<&Line> = lines.iter().filter(|l| l.project_id == 1).collect();
    let (columns, rows) = table(&pool, &scope, "| fields ts, service, http.status | limit 3").await;
    assert_eq!(columns, ["ts", "service", "http.status"]);
    let newest: Vec<Vec<Value>> = mine
        .iter()
        .rev()
        .take(3)
        .map(|l| {
            let status = l
                .attributes
                .pointer("/http/status")
                .or_else(|| l.attributes.get("http.status"))
                .cloned()
                .unwrap_or(Value::Null);
            vec![json!(rfc3339(l.ts)), json!(l.service), status]
        })
        .collect();
    assert_eq!(rows, newest);

    let (columns, rows) = table(&pool, &scope, "level:fatal | sort ts | limit 1").await;
    assert_eq!(columns, ["ts", "level", "service", "host", "message"]);
    let oldest = mine.iter().find(|l| l.level == 6).expect("a fatal line");
    assert_eq!(
        rows,
        vec![vec![
            json!(rfc3339(oldest.ts)),
            json!(oldest.level_name()),
            json!(oldest.service),
            json!(oldest.host),
            json!(oldest.message),
        ]]
    );

    // Without a limit stage, at most 1000 rows.
    let (_, rows) = table(&pool, &scope, "| fields message").await;
    assert_eq!(rows.len(), 1000);
    // A limit before stats counts only the lines it kept.
    let (_, rows) = table(&pool, &scope, "| limit 10 | stats count()").await;
    assert_eq!(rows, vec![vec![json!(10)]]);
    // Sorting by an attribute: numbers by value (numeric strings too), then the rest.
    let mut durations: Vec<f64> = mine.iter().filter_map(|l| l.duration_ms()).collect();
    durations.sort_by(f64::total_cmp);
    let (_, rows) = table(
        &pool,
        &scope,
        "| sort -duration_ms | fields duration_ms | limit 1",
    )
    .await;
    assert_eq!(rows, vec![vec![json!(durations[durations.len() - 1])]]);
    let (_, rows) = table(
        &pool,
        &scope,
        "| sort duration_ms | fields duration_ms | limit 1",
    )
    .await;
    assert_eq!(rows, vec![vec![json!(durations[0])]]);
    let numbers = durations.len();
    let (_, rows) = table(
        &pool,
        &scope,
        &format!(
            "duration_ms:* | sort duration_ms | fields duration_ms | limit {}",
            numbers + 1
        ),
    )
    .await;
    assert_eq!(
        rows[numbers],
        vec![json!("n/a")],
        "non-numbers after numbers"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn unusual_queries_run_without_database_errors(pool: PgPool) {
    let lines = load(&pool).await;
    let scope = whole_range(1);
    let contains = |l: &Line, word: &str| l.message.to_lowercase().contains(word);
    type Matches<'a> = &'a dyn Fn(&Line) -> bool;
    let cases: [(&str, Matches<'_>); 7] = [
        ("/[[:digit:]]+ ms$/", &|l| {
            l.message.starts_with("GET /api/users took")
        }),
        // `message` is matched like a word: `!=` is "does not contain".
        ("level:/^e/ message:!=timeout", &|l| {
            l.level_name() == "error" && !contains(l, "timeout")
        }),
        ("(a OR -b) NOT c", &|l| {
            (contains(l, "a") || !contains(l, "b")) && !contains(l, "c")
        }),
        ("trace_id:>t001 span_id:<=s002", &|l| {
            l.trace_id.as_deref().is_some_and(|t| t > "t001")
                && l.span_id.as_deref().is_some_and(|s| s <= "s002")
        }),
        // No line has `x.y`: a condition on a missing field is false.
        ("x.y:<=-1e3 OR x.y:>.5", &|_| false),
        ("http.status:!=\"200\" -user.id:*", &|l| {
            l.status != Some(200) && l.user.is_none()
        }),
        // The phrase is taken literally (no LIKE wildcards), as is `_` in a prefix.
        ("\"50%_\\\\\" OR message:_*", &|_| false),
    ];
    for (query, matches) in cases {
        assert_eq!(
            count(&pool, &scope, query).await,
            expected(&lines, 1, matches),
            "{query}"
        );
    }
    for query in [
        "| stats min(service), max(ts), count_distinct(level), avg(level) by level, user.id \
         | sort -max(ts)",
        "| limit 5 | sort -ts | limit 2 | fields level",
        "| stats count() by ts | limit 3",
        "| stats count() every 1d | sort -ts",
        "| stats p90(http.status), sum(user.id) by region every 30s | limit 5 | sort region",
        "| sort -level, host | fields level, host, user.id | limit 4",
    ] {
        let (columns, rows) = table(&pool, &scope, query).await;
        assert!(rows.iter().all(|r| r.len() == columns.len()), "{query}");
    }
}
