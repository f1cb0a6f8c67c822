//! Counting lines without reading them: the batch writer keeps per-minute line
//! counts by project, level and service (`log_count_minute`). A count whose
//! filter only looks at level and service reads those counts for the whole
//! minutes of the range and the lines themselves only for the partial minutes at
//! its two ends — the same answer as counting every line, in milliseconds
//! instead of a scan of millions of rows.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use super::{
    ast::{Column, Field, Filter, Function, Stage, Term},
    fragment::{Bind, Fragment},
    predicate::filter_sql,
    LogQuery, Scope,
};

/// Whether `filter` only involves level and service (so the counts can answer it).
pub fn countable(filter: Option<&Filter>) -> bool {
    match filter {
        None => true,
        Some(Filter::And(parts) | Filter::Or(parts)) => parts.iter().all(|p| countable(Some(p))),
        Some(Filter::Not(inner)) => countable(Some(inner)),
        Some(Filter::Term(Term::Level(_) | Term::Column(Column::Service, _))) => true,
        Some(Filter::Term(_)) => false,
    }
}

/// Whether a query's first stage is a `stats` of `count()`s by level and/or
/// service (per whole minutes, if `every`), over a countable filter.
pub(crate) fn stats_countable(query: &LogQuery) -> bool {
    let Some(Stage::Stats(stats)) = query.stages.first() else {
        return false;
    };
    countable(query.filter.as_ref())
        && stats
            .aggregations
            .iter()
            .all(|a| a.function == Function::Count && a.field.is_none())
        && stats
            .by
            .iter()
            .all(|f| matches!(f, Field::Level | Field::Column(Column::Service)))
        && stats.every.is_none_or(|seconds| seconds % 60 == 0)
}

/// `(select ts, level, service, lines ...) as counted`: one row per minute and
/// group from the counts, one row per line for the partial minutes, each with
/// the number of lines it stands for. Sum `lines` to count.
pub(crate) fn counted_source(scope: &Scope, filter: Option<&Filter>) -> Fragment {
    let (whole_from, whole_to) = whole_minutes(scope);
    let filtered = |sql: &mut Fragment| {
        if let Some(filter) = filter {
            sql.push(" and ").append(filter_sql(filter));
        }
    };
    let mut sql = Fragment::sql(
        "(select minute as ts, level, service, lines from log_count_minute where project_id = ",
    );
    sql.bind(Bind::BigInt(scope.project_id))
        .push(" and minute >= ")
        .bind(Bind::Time(whole_from))
        .push(" and minute < ")
        .bind(Bind::Time(whole_to));
    filtered(&mut sql);
    sql.push(" union all select ts, level, service, 1::bigint as lines from log_entry where project_id = ")
        .bind(Bind::BigInt(scope.project_id))
        .push(" and ts >= ")
        .bind(Bind::Time(scope.from))
        .push(" and ts < ")
        .bind(Bind::Time(scope.to))
        .push(" and (ts < ")
        .bind(Bind::Time(whole_from))
        .push(" or ts >= ")
        .bind(Bind::Time(whole_to))
        .push(")");
    filtered(&mut sql);
    sql.push(") as counted");
    sql
}

/// The first and last minute boundaries inside the range.
fn whole_minutes(scope: &Scope) -> (DateTime<Utc>, DateTime<Utc>) {
    let minute = TimeDelta::minutes(1);
    let floor = |t: DateTime<Utc>| t.duration_trunc(minute).unwrap_or(t);
    let from = floor(scope.from);
    let whole_from = if from == scope.from {
        from
    } else {
        from + minute
    };
    (whole_from, floor(scope.to))
}

/// Pushes [`counted_source`] for a query's filter onto `qb` (for the histogram).
pub fn push_counted_source(
    query: &LogQuery,
    scope: &Scope,
    qb: &mut sqlx::QueryBuilder<'_, sqlx::Postgres>,
) {
    counted_source(scope, query.filter.as_ref()).write_to(qb);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::query::parse;

    #[test]
    fn only_level_and_service_counts_qualify() {
        let q = |text: &str| parse(text).unwrap();
        assert!(stats_countable(&q("| stats count() by level")));
        assert!(stats_countable(&q(
            "service:api level:>=warn | stats count() by service every 5m"
        )));
        assert!(stats_countable(&q("-service:a* | stats count()")));
        assert!(!stats_countable(&q("timeout | stats count() by level")));
        assert!(!stats_countable(&q("| stats count() by host")));
        assert!(!stats_countable(&q("| stats count() every 30s")));
        assert!(!stats_countable(&q("| stats count_distinct(host)")));
        assert!(!stats_countable(&q("| limit 5 | stats count()")));
        assert!(countable(q("level:error OR service:x").filter.as_ref()));
    }

    #[test]
    fn whole_minutes_are_inside_the_range() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let scope = |from, to| Scope {
            project_id: 1,
            from: t(from),
            to: t(to),
        };
        assert_eq!(
            whole_minutes(&scope("2026-11-26T10:00:30Z", "2026-11-26T11:15:10Z")),
            (t("2026-11-26T10:01:00Z"), t("2026-11-26T11:15:00Z"))
        );
        assert_eq!(
            whole_minutes(&scope("2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z")),
            (t("2026-11-26T10:00:00Z"), t("2026-11-26T11:00:00Z"))
        );
    }
}
