//! SQL generation: the shape of the statements, and that nothing typed by the user
//! (field names or values) appears in the SQL text: it all travels as binds.

use chrono::{TimeZone, Utc};
use sqlx::{Postgres, QueryBuilder};

use super::{parse, tabular_sql, Scope};

fn filter_sql(query: &str) -> String {
    let mut qb = QueryBuilder::<Postgres>::new("select 1 from log_entry where true");
    parse(query).unwrap().push_filter(&mut qb);
    qb.sql().to_owned()
}

fn scope() -> Scope {
    Scope {
        project_id: 7,
        from: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap(),
    }
}

#[test]
fn no_filter_pushes_nothing() {
    assert_eq!(filter_sql(""), "select 1 from log_entry where true");
    assert_eq!(
        filter_sql("| limit 5"),
        "select 1 from log_entry where true"
    );
}

#[test]
fn filters_bind_every_value_and_field_name() {
    let query = "zebra \"quokka phrase\" /walrus[0-9]/i service:narwhal host:!=okapi \
                 trace_id:* span_id:axolotl* message:/tapir/ level:>=warn \
                 gecko.iguana:>=500 lemur.marmot:mongoose -(ocelot.puma:* OR \
                 caracal:/serval/) NOT dingo:dhole* level:e*";
    let sql = filter_sql(query);
    for secret in [
        "zebra", "quokka", "walrus", "narwhal", "okapi", "axolotl", "tapir", "gecko", "iguana",
        "500", "lemur", "marmot", "mongoose", "ocelot", "puma", "caracal", "serval", "dingo",
        "dhole", "warn",
    ] {
        assert!(!sql.contains(secret), "{secret} in {sql}");
    }
    assert!(sql.starts_with("select 1 from log_entry where true and ("));
    assert!(sql.contains("message ilike $1"), "{sql}");
    assert!(sql.contains("message ~* $3"), "{sql}");
    assert!(sql.contains("(service = $4)"), "{sql}");
    assert!(sql.contains("(host is distinct from $5)"), "{sql}");
    assert!(sql.contains("(level >= $9)"), "{sql}");
    assert!(
        sql.contains("coalesce(attributes #> $10, attributes -> $11)"),
        "{sql}"
    );
    assert!(sql.contains("(not "), "{sql}");
    assert!(sql.contains("level = any("), "{sql}");
}

#[test]
fn tabular_lines_default_to_five_columns_newest_first() {
    let tabular = tabular_sql(&parse("boom | limit 10").unwrap(), &scope()).unwrap();
    assert_eq!(
        tabular.columns,
        ["ts", "level", "service", "host", "message"]
    );
    let sql = tabular.sql.sql();
    assert!(sql.starts_with("select jsonb_build_array("), "{sql}");
    assert!(
        sql.contains("from log_entry where project_id = $1 and ts >= $2 and ts < $3 and "),
        "{sql}"
    );
    assert!(
        sql.ends_with("order by ts desc, log_id desc limit $5"),
        "{sql}"
    );
    assert!(!sql.contains("boom"));
}

#[test]
fn tabular_stats_name_columns_as_written() {
    let query = parse(
        "| stats count(), p95(latency.total_ms), count_distinct(customer) by region every 5m \
         | sort -count | limit 3",
    )
    .unwrap();
    let tabular = tabular_sql(&query, &scope()).unwrap();
    assert_eq!(
        tabular.columns,
        [
            "ts",
            "region",
            "count()",
            "p95(latency.total_ms)",
            "count_distinct(customer)"
        ]
    );
    let sql = tabular.sql.sql();
    for secret in ["latency", "total_ms", "customer", "region"] {
        assert!(!sql.contains(secret), "{secret} in {sql}");
    }
    assert!(sql.contains("date_bin("), "{sql}");
    assert!(sql.contains("group by 1, 2"), "{sql}");
    assert!(
        sql.contains("order by c2 desc nulls last, c0 asc nulls last, c1 asc nulls last"),
        "{sql}"
    );
    assert!(sql.contains("percentile_cont(0.95) within group"), "{sql}");
}

#[test]
fn sort_after_limit_sorts_the_limited_rows() {
    let tabular = tabular_sql(&parse("| limit 5 | sort service").unwrap(), &scope()).unwrap();
    let sql = tabular.sql.sql();
    assert!(sql.contains("(select * from log_entry where"), "{sql}");
    assert!(
        sql.contains("limit $4) as t1 order by service asc nulls last"),
        "{sql}"
    );
    // The query had a limit, so no default limit on top.
    assert!(sql.ends_with("ts desc, log_id desc"), "{sql}");
}

#[test]
fn lines_fields_and_sort_use_any_field() {
    let query = parse("| fields ts, http.status, level | sort -http.status").unwrap();
    let tabular = tabular_sql(&query, &scope()).unwrap();
    assert_eq!(tabular.columns, ["ts", "http.status", "level"]);
    assert!(!tabular.sql.sql().contains("status"));
}
