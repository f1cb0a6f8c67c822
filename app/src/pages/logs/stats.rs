//! The answer to a query with stages: the table (class `log-stats`) and, when its
//! shape allows, a chart of it: lines over time per group for `stats ... every`,
//! bars per group for `stats ... by field`.
//!
//! A `stats <one aggregation> by X every N` answer is shown pivoted, as Grafana
//! and Kibana show a split series: a row per time bucket, a column per X (the
//! [`TOP_GROUPS`] largest, the rest summed into "other" when the aggregation
//! adds up), the same groups as the chart's lines in the same colours; the
//! long form is one toggle away. Tables are shown [`PAGE_ROWS`] rows a page.

use leptos::prelude::*;
use serde_json::Value;

use crate::api::{LogTable, Series};
use crate::components::chart::bars::{BarAxis, BarChart, BarStack, Bars};
use crate::components::chart::{css_color, format_value, Chart, SeriesColors, PALETTE};
use crate::local_time::format_local;

/// Lines drawn at most (the first groups in the table's order).
const MAX_SERIES: usize = 12;
/// Groups a pivot shows as their own column and line.
pub const TOP_GROUPS: usize = 10;
/// Rows of a table page.
pub const PAGE_ROWS: usize = 50;
/// The name of the column and line of the groups past [`TOP_GROUPS`].
pub const OTHER: &str = "other";
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

/// Whether column `i` holds aggregations: named like `count()`; where no
/// column is, numbers only. (A `by http.status` column of numbers is a group
/// when the aggregations are named.)
fn is_value_column(table: &LogTable, i: usize) -> bool {
    let name = &table.columns[i];
    if name == "ts" {
        return false;
    }
    if table.columns.iter().any(|c| c.contains('(')) {
        return name.contains('(');
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

/// The row's bucket time (unix ms), from its `ts` column at `ts`.
fn row_time(row: &[Value], ts: usize) -> Option<i64> {
    row.get(ts)
        .and_then(Value::as_str)
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
}

/// The row's group: its group columns' cells joined (`api / web-1`).
fn group_key(row: &[Value], groups: &[usize]) -> String {
    groups
        .iter()
        .map(|g| row.get(*g).map(cell_text).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" / ")
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
            let Some(time) = row_time(row, ts) else {
                continue;
            };
            let group = group_key(row, &groups);
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
                series[index].points.push((time, number));
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

/// A `stats … by X every N` answer turned so each group is a column.
#[derive(Debug, Clone, PartialEq)]
pub struct Pivot {
    /// The aggregation (`count()`).
    pub value: String,
    /// The grouping columns' names joined (`service` or `service / host`).
    pub by: String,
    /// The largest groups by their total, then [`OTHER`] when there are more
    /// and the aggregation adds up.
    pub groups: Vec<String>,
    /// Groups past [`TOP_GROUPS`] left out (when they cannot be summed).
    pub hidden: usize,
    /// Per time bucket (oldest first): its start (unix ms) and a value per group.
    pub rows: Vec<(i64, Vec<Option<f64>>)>,
}

impl Pivot {
    /// The groups' lines for the chart, in the pivot's order and colours.
    pub fn series(&self) -> Vec<Series> {
        self.groups
            .iter()
            .enumerate()
            .map(|(i, group)| Series {
                name: group.clone(),
                unit: self.value.clone(),
                points: self
                    .rows
                    .iter()
                    .filter_map(|(t, values)| values.get(i).copied().flatten().map(|v| (*t, v)))
                    .collect(),
            })
            .collect()
    }
}

/// Whether values of the aggregation `name` may be added up into "other".
fn adds_up(name: &str) -> bool {
    name.starts_with("count(") || name.starts_with("sum(")
}

/// The pivot of `table` when it has a time column, group columns and exactly
/// one aggregation; `None` for any other shape.
pub fn pivot_of(table: &LogTable) -> Option<Pivot> {
    let ts = table.columns.iter().position(|c| c == "ts")?;
    let values: Vec<usize> = (0..table.columns.len())
        .filter(|i| is_value_column(table, *i))
        .collect();
    let [value] = values.as_slice() else {
        return None;
    };
    let groups: Vec<usize> = (0..table.columns.len())
        .filter(|i| *i != ts && i != value)
        .collect();
    if groups.is_empty() || table.rows.is_empty() {
        return None;
    }
    let mut cells: Vec<(i64, String, f64)> = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let Some(time) = row_time(row, ts) else {
            continue;
        };
        if let Some(number) = row.get(*value).and_then(Value::as_f64) {
            cells.push((time, group_key(row, &groups), number));
        }
    }
    // The groups by their total, largest first (ties by name).
    let mut totals: Vec<(String, f64)> = Vec::new();
    for (_, group, number) in &cells {
        match totals.iter_mut().find(|(g, _)| g == group) {
            Some((_, total)) => *total += number.abs(),
            None => totals.push((group.clone(), number.abs())),
        }
    }
    totals.sort_by(|(a, x), (b, y)| y.total_cmp(x).then_with(|| a.cmp(b)));
    let rest = totals.len().saturating_sub(TOP_GROUPS);
    let name = table.columns[*value].clone();
    let other = rest > 0 && adds_up(&name);
    let mut columns: Vec<String> = totals
        .into_iter()
        .take(TOP_GROUPS)
        .map(|(g, _)| g)
        .collect();
    if other {
        columns.push(OTHER.to_owned());
    }
    let mut times: Vec<i64> = cells.iter().map(|(t, _, _)| *t).collect();
    times.sort_unstable();
    times.dedup();
    let mut rows: Vec<(i64, Vec<Option<f64>>)> = times
        .iter()
        .map(|t| (*t, vec![None; columns.len()]))
        .collect();
    for (time, group, number) in cells {
        let Ok(row) = times.binary_search(&time) else {
            continue;
        };
        let column = match columns.iter().position(|c| *c == group) {
            Some(i) if !(other && i == columns.len() - 1) => i,
            _ if other => columns.len() - 1,
            _ => continue,
        };
        let cell = &mut rows[row].1[column];
        *cell = Some(cell.unwrap_or(0.0) + number);
    }
    // A count or sum with no row for a group in a bucket is zero there.
    if adds_up(&name) {
        for (_, values) in &mut rows {
            for value in values.iter_mut().filter(|v| v.is_none()) {
                *value = Some(0.0);
            }
        }
    }
    Some(Pivot {
        value: name,
        by: groups
            .iter()
            .map(|g| table.columns[*g].clone())
            .collect::<Vec<_>>()
            .join(" / "),
        groups: columns,
        hidden: if other { 0 } else { rest },
        rows,
    })
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

/// The table and its chart: pivoted when the answer is split by a group over
/// time, with the long form a toggle away.
#[component]
pub fn StatsView(
    /// The answer of `/logs/query`.
    table: LogTable,
    /// The searched range (unix ms): the time axis spans it, as the
    /// histogram's does.
    x_range: Signal<Option<(i64, i64)>>,
) -> impl IntoView {
    let pivot = pivot_of(&table);
    let chart = match &pivot {
        Some(pivot) => Some(
            view! { <Chart series=Signal::stored(pivot.series()) x_range label="The query's results over time"/> }
                .into_any(),
        ),
        None => match chart_of(&table) {
            StatsChart::Lines(series) => Some(
                view! { <Chart series=Signal::stored(series) x_range label="The query's results over time"/> }
                    .into_any(),
            ),
            StatsChart::Bars(bars) => Some(
                view! { <BarChart bars=Signal::stored(bars) label="The query's results per group"/> }
                    .into_any(),
            ),
            StatsChart::None => None,
        },
    };
    let long = RwSignal::new(pivot.is_none());
    let toggle = pivot.as_ref().map(|p| {
        let note = (p.hidden > 0).then(|| {
            format!(
                "The {} largest of {} groups; the long form has them all.",
                TOP_GROUPS,
                TOP_GROUPS + p.hidden
            )
        });
        view! {
            <button id="stats-long-form" type="button" class="button secondary small"
                aria-pressed=move || long.get().to_string() on:click=move |_| long.update(|l| *l = !*l)>
                {move || if long.get() { "Pivot by group" } else { "Long form" }}
            </button>
            {note.map(|n| view! { <span class="muted">{n}</span> })}
        }
    });
    let table = StoredValue::new(table);
    let pivot = StoredValue::new(pivot);
    let shown = move || match pivot.get_value() {
        Some(p) if !long.get() => view! { <PivotTable pivot=p/> }.into_any(),
        _ => view! { <LongTable table=table.get_value()/> }.into_any(),
    };
    view! {
        {chart}
        <div class="log-stats-toolbar">{toggle}</div>
        {shown}
    }
    .into_any()
}

/// "Rows 51–100 of 230" with Previous and Next, for a table of `total` rows.
fn pager(page: RwSignal<usize>, total: usize) -> impl IntoView {
    let pages = total.div_ceil(PAGE_ROWS).max(1);
    let range = move || {
        let first = page.get() * PAGE_ROWS;
        let last = (first + PAGE_ROWS).min(total);
        format!("Rows {}–{last} of {total}", (first + 1).min(total))
    };
    view! {
        <div class="log-stats-pager">
            <span class="muted log-stats-count">{range}</span>
            {(pages > 1).then(|| view! {
                <button type="button" class="button secondary small stats-previous"
                    disabled=move || page.get() == 0 on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>
                    "Previous"
                </button>
                <button type="button" class="button secondary small stats-next"
                    disabled=move || page.get() + 1 >= pages on:click=move |_| page.update(|p| *p += 1)>
                    "Next"
                </button>
            })}
        </div>
    }
}

/// The rows as the server answered them, a page at a time.
#[component]
fn LongTable(table: LogTable) -> impl IntoView {
    let numeric: Vec<bool> = (0..table.columns.len())
        .map(|i| is_value_column(&table, i))
        .collect();
    let head = table
        .columns
        .iter()
        .zip(&numeric)
        .map(|(c, n)| view! { <th scope="col" class:numeric=*n>{c.clone()}</th> })
        .collect_view();
    let total = table.rows.len();
    let page = RwSignal::new(0_usize);
    let table = StoredValue::new(table);
    let numeric = StoredValue::new(numeric);
    let body = move || {
        let first = page.get() * PAGE_ROWS;
        table.with_value(|table| {
            table
                .rows
                .iter()
                .skip(first)
                .take(PAGE_ROWS)
                .map(|row| {
                    let cells = row
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let column =
                                table.columns.get(i).map(String::as_str).unwrap_or_default();
                            let numeric = numeric.with_value(|n| n.get(i).copied().unwrap_or(false));
                            view! {
                                <td class:numeric=numeric class:muted=v.is_null()>{display_cell(column, v)}</td>
                            }
                        })
                        .collect_view();
                    view! { <tr>{cells}</tr> }
                })
                .collect_view()
        })
    };
    view! {
        {pager(page, total)}
        <div class="log-stats-wrap">
            <table class="table log-stats">
                <thead><tr>{head}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

/// A row per time bucket, a column per group (a swatch of its line's colour).
#[component]
fn PivotTable(pivot: Pivot) -> impl IntoView {
    let colors = SeriesColors::get().for_names(pivot.groups.iter().map(String::as_str));
    let head = pivot
        .groups
        .iter()
        .zip(colors)
        .map(|(group, color)| {
            let color = css_color(color);
            view! {
                <th scope="col" class="numeric" title=format!("{}: {group}", pivot.by)>
                    <span class="swatch" style:background=color></span>
                    {group.clone()}
                </th>
            }
        })
        .collect_view();
    let total = pivot.rows.len();
    let page = RwSignal::new(0_usize);
    let rows = StoredValue::new(pivot.rows);
    let body = move || {
        let first = page.get() * PAGE_ROWS;
        rows.with_value(|rows| {
            rows.iter()
                .skip(first)
                .take(PAGE_ROWS)
                .map(|(time, values)| {
                    let cells = values
                        .iter()
                        .map(|v| match v {
                            Some(v) => view! { <td class="numeric">{format_value(*v)}</td> }.into_any(),
                            None => view! { <td class="numeric muted">"—"</td> }.into_any(),
                        })
                        .collect_view();
                    view! {
                        <tr>
                            <th scope="row" class="log-stats-time">{format_local(*time, "%Y-%m-%d %H:%M:%S")}</th>
                            {cells}
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        {pager(page, total)}
        <div class="log-stats-wrap">
            <table class="table log-stats log-stats-pivot" aria-label=format!("{} by {} over time", pivot.value, pivot.by)>
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        {head}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
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
    fn split_series_pivot_to_a_column_per_group_with_the_rest_as_other() {
        let mut rows = Vec::new();
        // 12 services; s0 the largest. Two buckets.
        for (t, time) in ["2026-11-20T09:00:00Z", "2026-11-20T09:05:00Z"]
            .iter()
            .enumerate()
        {
            for s in 0..12_i64 {
                rows.push(vec![
                    json!(time),
                    json!(format!("s{s}")),
                    json!(100 - s + t as i64),
                ]);
            }
        }
        let t = table(&["ts", "service", "count()"], rows);
        let pivot = pivot_of(&t).unwrap_or_else(|| panic!("a pivot"));
        assert_eq!(pivot.groups.len(), TOP_GROUPS + 1);
        assert_eq!(pivot.groups[0], "s0");
        assert_eq!(pivot.groups[TOP_GROUPS], OTHER);
        assert_eq!(pivot.rows.len(), 2);
        // s10 and s11 in the first bucket: 90 + 89.
        assert_eq!(pivot.rows[0].1[TOP_GROUPS], Some(179.0));
        assert_eq!(pivot.hidden, 0);
        assert_eq!(pivot.series()[0].points.len(), 2);

        // Percentiles do not add up: the rest is left out and counted.
        let p95 = table(
            &["ts", "service", "p95(duration)"],
            (0..12_i64)
                .map(|s| {
                    vec![
                        json!("2026-11-20T09:00:00Z"),
                        json!(format!("s{s}")),
                        json!(s),
                    ]
                })
                .collect(),
        );
        let pivot = pivot_of(&p95).unwrap_or_else(|| panic!("a pivot"));
        assert_eq!((pivot.groups.len(), pivot.hidden), (TOP_GROUPS, 2));
        assert!(!pivot.groups.iter().any(|g| g == OTHER));

        // A numeric group column stays a group.
        let by_status = table(
            &["ts", "http.status", "count()"],
            vec![
                vec![json!("2026-11-20T09:00:00Z"), json!(200), json!(5)],
                vec![json!("2026-11-20T09:00:00Z"), json!(500), json!(1)],
            ],
        );
        let pivot = pivot_of(&by_status).unwrap_or_else(|| panic!("a pivot by status"));
        assert_eq!(pivot.groups, ["200", "500"]);

        // No group, or two aggregations: no pivot.
        let plain = table(
            &["ts", "count()"],
            vec![vec![json!("2026-11-20T09:00:00Z"), json!(1)]],
        );
        assert_eq!(pivot_of(&plain), None);
    }

    #[test]
    fn cells_read_well() {
        assert_eq!(display_cell("avg(x)", &json!(2.3456)), "2.35");
        assert_eq!(display_cell("service", &json!("api")), "api");
        assert_eq!(display_cell("http.status", &Value::Null), "—");
    }
}
