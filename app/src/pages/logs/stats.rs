//! The answer to a query with stages: the table (class `log-stats`) and, when its
//! shape allows, a chart of it: lines over time per group for `stats ... every`,
//! bars per group for `stats ... by field`.

use leptos::prelude::*;
use serde_json::Value;

use crate::api::{LogTable, Series};
use crate::components::chart::bars::{BarAxis, BarChart, BarStack, Bars};
use crate::components::chart::{format_value, Chart, PALETTE};
use crate::local_time::format_local;

/// Lines drawn at most (the first groups in the table's order).
const MAX_SERIES: usize = 12;
/// Bars drawn at most.
const MAX_BARS: usize = 40;

/// The chart a table can be drawn as.
#[derive(Debug, Clone, PartialEq)]
pub enum StatsChart {
    /// `every`: one line per group (and aggregation) over time.
    Lines(Vec<Series>),
    /// One group column and a number: a bar per group.
    Bars(Bars),
    /// Nothing sensible to draw.
    None,
}

/// Whether column `i` holds aggregations: named like `count()`, or numbers only.
fn is_value_column(table: &LogTable, i: usize) -> bool {
    let name = &table.columns[i];
    if name == "ts" {
        return false;
    }
    if name.contains('(') {
        return true;
    }
    let mut cells = table
        .rows
        .iter()
        .filter_map(|r| r.get(i))
        .filter(|v| !v.is_null());
    let mut any = false;
    let all_numbers = cells.all(|v| {
        any = true;
        v.is_number()
    });
    any && all_numbers
}

/// A cell as text for group names: strings bare, null as "—".
fn cell_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

/// How `table` is best drawn.
pub fn chart_of(table: &LogTable) -> StatsChart {
    let ts = table.columns.iter().position(|c| c == "ts");
    let values: Vec<usize> = (0..table.columns.len())
        .filter(|i| is_value_column(table, *i))
        .collect();
    let groups: Vec<usize> = (0..table.columns.len())
        .filter(|i| Some(*i) != ts && !values.contains(i))
        .collect();
    if values.is_empty() || table.rows.is_empty() {
        return StatsChart::None;
    }

    if let Some(ts) = ts {
        let mut series: Vec<Series> = Vec::new();
        for row in &table.rows {
            let Some(time) = row
                .get(ts)
                .and_then(Value::as_str)
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            else {
                continue;
            };
            let group = groups
                .iter()
                .map(|g| row.get(*g).map(cell_text).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" / ");
            for v in &values {
                let Some(number) = row.get(*v).and_then(Value::as_f64) else {
                    continue;
                };
                let column = &table.columns[*v];
                let name = match (group.is_empty(), values.len()) {
                    (true, _) => column.clone(),
                    (false, 1) => group.clone(),
                    (false, _) => format!("{group} {column}"),
                };
                let index = match series.iter().position(|s| s.name == name) {
                    Some(i) => i,
                    None if series.len() < MAX_SERIES => {
                        series.push(Series {
                            name,
                            unit: if values.len() == 1 {
                                column.clone()
                            } else {
                                String::new()
                            },
                            points: Vec::new(),
                        });
                        series.len() - 1
                    }
                    None => continue,
                };
                series[index].points.push((time.timestamp_millis(), number));
            }
        }
        for s in &mut series {
            s.points.sort_by_key(|(t, _)| *t);
        }
        return if series.is_empty() {
            StatsChart::None
        } else {
            StatsChart::Lines(series)
        };
    }

    match groups.as_slice() {
        [group] => {
            let value = values[0];
            let rows = table.rows.iter().take(MAX_BARS);
            let names = rows
                .clone()
                .map(|r| r.get(*group).map(cell_text).unwrap_or_default())
                .collect();
            let numbers = rows
                .map(|r| r.get(value).and_then(Value::as_f64).unwrap_or(0.0))
                .collect();
            StatsChart::Bars(Bars {
                axis: BarAxis::Category(names),
                stacks: vec![BarStack {
                    name: table.columns[value].clone(),
                    color: PALETTE[0],
                    values: numbers,
                }],
                unit: table.columns[value].clone(),
                category_label: table.columns[*group].clone(),
                compact_axis: false,
            })
        }
        _ => StatsChart::None,
    }
}

/// A cell as the table shows it: times in local time, numbers without needless
/// decimals, null as a dash.
fn display_cell(column: &str, value: &Value) -> String {
    match value {
        Value::String(s) if column == "ts" => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| format_local(t.timestamp_millis(), "%Y-%m-%d %H:%M:%S"))
            .unwrap_or_else(|_| s.clone()),
        Value::String(s) => s.clone(),
        Value::Number(n) => n
            .as_f64()
            .map(format_value)
            .unwrap_or_else(|| n.to_string()),
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

/// The table and its chart.
#[component]
pub fn StatsView(
    /// The answer of `/logs/query`.
    table: LogTable,
) -> impl IntoView {
    let chart = match chart_of(&table) {
        StatsChart::Lines(series) => Some(
            view! { <Chart series=Signal::stored(series) label="The query's results over time"/> }
                .into_any(),
        ),
        StatsChart::Bars(bars) => Some(
            view! { <BarChart bars=Signal::stored(bars) label="The query's results per group"/> }
                .into_any(),
        ),
        StatsChart::None => None,
    };
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| is_value_column(&table, i))
        .collect();
    let head = table
        .columns
        .iter()
        .zip(&numeric)
        .map(|(c, n)| view! { <th scope="col" class:numeric=*n>{c.clone()}</th> })
        .collect_view();
    let count = table.rows.len();
    let body = table
        .rows
        .iter()
        .map(|row| {
            let cells = row
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let column = table.columns.get(i).map(String::as_str).unwrap_or_default();
                    view! {
                        <td class:numeric=numeric.get(i).copied().unwrap_or(false) class:muted=v.is_null()>
                            {display_cell(column, v)}
                        </td>
                    }
                })
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    view! {
        {chart}
        <p class="muted log-stats-count">{format!("{count} row{}", if count == 1 { "" } else { "s" })}</p>
        <div class="log-stats-wrap">
            <table class="table log-stats">
                <thead><tr>{head}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(columns: &[&str], rows: Vec<Vec<Value>>) -> LogTable {
        LogTable {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        }
    }

    #[test]
    fn every_draws_a_line_per_group() {
        let t = table(
            &["ts", "service", "count()"],
            vec![
                vec![json!("2026-11-20T09:05:00Z"), json!("api"), json!(2)],
                vec![json!("2026-11-20T09:00:00Z"), json!("api"), json!(1)],
                vec![json!("2026-11-20T09:00:00Z"), json!("web"), json!(4)],
            ],
        );
        let StatsChart::Lines(series) = chart_of(&t) else {
            panic!("expected lines");
        };
        let names: Vec<_> = series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["api", "web"]);
        assert_eq!(series[0].unit, "count()");
        let values: Vec<f64> = series[0].points.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, vec![1.0, 2.0], "points are in time order");
    }

    #[test]
    fn one_group_and_a_count_draw_bars() {
        let t = table(
            &["level", "count()"],
            vec![
                vec![json!("error"), json!(3)],
                vec![json!("info"), json!(9)],
            ],
        );
        let StatsChart::Bars(bars) = chart_of(&t) else {
            panic!("expected bars");
        };
        assert_eq!(
            bars.axis,
            BarAxis::Category(vec!["error".into(), "info".into()])
        );
        assert_eq!(bars.stacks[0].values, vec![3.0, 9.0]);
    }

    #[test]
    fn plain_rows_draw_nothing() {
        let t = table(
            &["ts", "level", "message"],
            vec![vec![
                json!("2026-11-20T09:05:00Z"),
                json!("info"),
                json!("hi"),
            ]],
        );
        assert_eq!(chart_of(&t), StatsChart::None);
        let t = table(
            &["service", "host", "count()"],
            vec![vec![json!("a"), json!("b"), json!(1)]],
        );
        assert_eq!(chart_of(&t), StatsChart::None);
    }

    #[test]
    fn cells_read_well() {
        assert_eq!(display_cell("avg(x)", &json!(2.3456)), "2.35");
        assert_eq!(display_cell("service", &json!("api")), "api");
        assert_eq!(display_cell("http.status", &Value::Null), "—");
    }
}
