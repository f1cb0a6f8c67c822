//! `/metrics/explore`: the Metrics explorer of the selected project. Up to five
//! PromQL queries (kept in the URL as `q=`, once per query, with the project, the
//! time range and the `rate=1` / `stack=1` toggles) are charted together over the
//! range through `POST /api/v1/query` (source `metrics`), each series named by
//! its query's letter when there are several; each series' value now is in a
//! table below (an instant query). Metric names autocomplete with their TYPE and
//! HELP, a plain selector gets label filters ([`filters`]), and the scrape
//! targets are listed with their state ([`targets`]).

mod filters;
mod targets;

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::api::client::{self, ApiError};
use crate::api::{MetricName, QueryRequest, QueryResult};
use crate::components::chart::format_value;
use crate::components::panel::{Panel, PanelBody, PanelState};
use crate::components::project_scoped::ProjectScoped;
use crate::local_time::now;
use crate::pages::overview::{series_of, span_of, step_seconds};
use crate::url_state::{use_query, use_set_query, TimeRange};
use filters::LabelFilters;
use targets::Targets;

/// What the explorer shows before a query is written.
const EXAMPLE: &str = "up";

/// The most queries the explorer overlays (`A` to `E`).
const MAX_QUERIES: usize = 5;

/// `/metrics/explore` (`/metrics` is the Prometheus scrape endpoint): waits for the project list, then the selected project's explorer.
#[component]
pub fn MetricsPage() -> impl IntoView {
    let body = Callback::new(|project: String| view! { <MetricsExplorer project/> }.into_any());
    view! {
        <header class="page-header">
            <h1>"Metrics"</h1>
        </header>
        <ProjectScoped
            no_projects="Metrics belong to a project: create one in Settings, then point Prometheus remote_write, an OpenTelemetry exporter or a scrape target at it."
            pick="Choose a project in the top bar to explore its metrics."
            body
        />
    }
    .into_any()
}

/// What the explorer shows, as the URL keeps it.
#[derive(Debug, Clone, PartialEq)]
struct Explore {
    /// The queries, in order; never empty.
    queries: Vec<String>,
    /// Chart each query's per-second rate instead of its values.
    rate: bool,
    /// Stack the series.
    stacked: bool,
}

impl Explore {
    /// Reads `q=` (each, blank ones left out, [`EXAMPLE`] when none), `rate=1` and `stack=1`.
    fn from_query(params: &ParamsMap) -> Explore {
        let mut queries: Vec<String> = params
            .get_all("q")
            .unwrap_or_default()
            .into_iter()
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty())
            .take(MAX_QUERIES)
            .collect();
        if queries.is_empty() {
            queries.push(EXAMPLE.to_owned());
        }
        Explore {
            queries,
            rate: params.get_str("rate") == Some("1"),
            stacked: params.get_str("stack") == Some("1"),
        }
    }

    /// Writes the state into `params`, keeping the rest (project, range).
    fn write_query(&self, params: &mut ParamsMap) {
        for key in ["q", "rate", "stack"] {
            params.remove(key);
        }
        for q in &self.queries {
            params.insert("q", q.clone());
        }
        if self.rate {
            params.insert("rate", "1".to_owned());
        }
        if self.stacked {
            params.insert("stack", "1".to_owned());
        }
    }

    /// What is evaluated for `query` at a step of `step_seconds`: the query
    /// itself, or with the rate toggle, when it is a plain selector, its
    /// per-second rate over [`rate_window`] (anything else is evaluated as
    /// written: the rate of a sum or of a rate would not be what it says).
    fn evaluated(&self, query: &str, step_seconds: i64) -> String {
        if self.rate && is_selector(query) {
            format!("rate({query}[{}m])", rate_window(step_seconds) / 60)
        } else {
            query.to_owned()
        }
    }

    /// The letter of the `i`-th query when there are several.
    fn letter(&self, i: usize) -> Option<char> {
        (self.queries.len() > 1).then(|| letter(i))
    }
}

/// `A` for the first query, `B` for the second, …
fn letter(i: usize) -> char {
    char::from(b'A' + (i % 26) as u8)
}

/// The window of the rate toggle: twice the step, at least five minutes (so
/// that each step's window holds several scrapes and the windows overlap), in
/// whole minutes as the steps are.
fn rate_window(step_seconds: i64) -> i64 {
    ((2 * step_seconds).max(300) + 59) / 60 * 60
}

/// Whether `query` is a plain instant-vector selector: a metric name,
/// `name{…}` or `{…}` with any matchers, and nothing after it.
fn is_selector(query: &str) -> bool {
    let query = query.trim();
    let name_end = query
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(query.len());
    let (name, rest) = query.split_at(name_end);
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    if rest.is_empty() {
        return !name.is_empty();
    }
    let Some(inner) = rest.strip_prefix('{') else {
        return false;
    };
    // The matchers run to the first `}` outside a quoted value.
    let (mut quote, mut escaped) = (None, false);
    for (i, c) in inner.char_indices() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' | '`' => quote = Some(c),
                '}' => return inner[i + 1..].trim().is_empty(),
                '{' | '(' | '[' => return false,
                _ => {}
            },
        }
    }
    false
}

/// `error` saying which query it is about when there are several.
fn about_query(letter: Option<char>, error: ApiError) -> ApiError {
    match (letter, error) {
        (
            Some(l),
            ApiError::Server {
                status,
                code,
                message,
            },
        ) => ApiError::Server {
            status,
            code,
            message: format!("Query {l}: {message}"),
        },
        (_, error) => error,
    }
}

/// The query bar, the chart, the latest values and the scrape targets.
#[component]
fn MetricsExplorer(project: String) -> impl IntoView {
    let slug = StoredValue::new(project.clone());
    let query = use_query();
    let navigate = StoredValue::new_local(use_set_query());
    let explore = Memo::new(move |_| query.with(Explore::from_query));
    let range = Memo::new(move |_| query.with(TimeRange::from_query));
    let runs = RwSignal::new(0_u64);
    // The query boxes as typed; the URL's queries until the next run.
    // (Only a change of the URL's queries resets them: a toggle keeps a query
    // added or edited but not run yet.)
    let url_queries = Memo::new(move |_| explore.with(|e| e.queries.clone()));
    let texts = RwSignal::new(url_queries.get_untracked());
    Effect::new(move |_| texts.set(url_queries.get()));
    // The inputs are redrawn only when their number changes, so typing keeps
    // the focus.
    let count = Memo::new(move |_| texts.with(Vec::len));

    // Puts `next` into the URL (which runs it), or runs again when it is there.
    let show = move |next: Explore| {
        if next == explore.get_untracked() {
            runs.update(|r| *r += 1);
            return;
        }
        let mut params: ParamsMap = query.get_untracked();
        next.write_query(&mut params);
        navigate.with_value(|go| go(params));
    };
    let run = move || {
        let mut next = explore.get_untracked();
        next.queries = texts.get_untracked();
        show(Explore::from_query(&{
            let mut params = ParamsMap::new();
            next.write_query(&mut params);
            params
        }));
    };
    let replace_query = move |i: usize, q: String| {
        let mut next = explore.get_untracked();
        if let Some(slot) = next.queries.get_mut(i) {
            *slot = q;
        }
        show(next);
    };

    // Dragging across the chart zooms into that span: a fixed range in
    // the URL, as the time range picker writes one.
    let zoom = move |(from_ms, to_ms): (i64, i64)| {
        let (Some(from), Some(to)) = (
            chrono::DateTime::from_timestamp_millis(from_ms),
            chrono::DateTime::from_timestamp_millis(to_ms),
        ) else {
            return;
        };
        let mut params: ParamsMap = query.get_untracked();
        TimeRange::Between { from, to }.write_query(&mut params);
        navigate.with_value(|go| go(params));
    };

    // The step of the chart, which the rate toggle's window follows.
    let span = move || {
        let (from, to) = range.get().bounds(now());
        let (from_ms, to_ms) = (from.timestamp_millis(), to.timestamp_millis());
        (from, to, step_seconds(from_ms, to_ms))
    };
    let answer = LocalResource::new(move || {
        runs.track();
        let state = explore.get();
        let (from, to, step) = span();
        let slug = slug.get_value();
        async move {
            let mut answers: Vec<QueryResult> = Vec::new();
            for (i, q) in state.queries.iter().enumerate() {
                let request = QueryRequest {
                    project: slug.clone(),
                    source: "metrics".to_owned(),
                    query: state.evaluated(q, step),
                    from: Some(from.to_rfc3339()),
                    to: Some(to.to_rfc3339()),
                    step: Some(step.to_string()),
                };
                let result = client::query(&request).await;
                answers.push(result.map_err(|e| about_query(state.letter(i), e))?);
            }
            Ok::<_, ApiError>((
                state,
                answers,
                (from.timestamp_millis(), to.timestamp_millis()),
            ))
        }
    });
    let chart = Signal::derive(move || match answer.get() {
        None => PanelState::Loading,
        Some(Err(error)) => PanelState::Failed(error),
        Some(Ok((state, answers, span))) => {
            let x_range = answers
                .iter()
                .find(|a| !a.frames.is_empty())
                .or(answers.first())
                .map(|a| span_of(a, span));
            let series = answers
                .into_iter()
                .enumerate()
                .flat_map(|(i, answer)| {
                    let letter = state.letter(i);
                    answer.frames.into_iter().map(move |frame| {
                        let mut series = series_of(frame, "");
                        if let Some(l) = letter {
                            series.name = if series.name.is_empty() {
                                l.to_string()
                            } else {
                                format!("{l}: {}", series.name)
                            };
                        }
                        series
                    })
                })
                .collect();
            PanelState::Ready(PanelBody::Lines {
                series,
                thresholds: Vec::new(),
                x_range,
                stacked: state.stacked,
            })
        }
    });
    // The value of each series now, in a table (an instant query: a series
    // younger than the chart's last step is there too).
    let instant = LocalResource::new(move || {
        runs.track();
        let state = explore.get();
        let (_, _, step) = span();
        let slug = slug.get_value();
        async move {
            let mut rows = Vec::new();
            for (i, q) in state.queries.iter().enumerate() {
                let letter = state.letter(i);
                let values = client::metrics_instant(&slug, &state.evaluated(q, step))
                    .await
                    .map_err(|e| about_query(letter, e))?;
                for mut v in values {
                    let name = v.labels.remove("__name__").unwrap_or_default();
                    // Read as a chart's axis reads (`2`, `0.200`); NaN and ±Inf as written.
                    let shown = match v.value.parse::<f64>() {
                        Ok(number) if number.is_finite() => format_value(number),
                        _ => v.value,
                    };
                    let series = series_label(&name, &v.labels);
                    rows.push(match letter {
                        Some(l) => vec![l.to_string(), series, shown],
                        None => vec![series, shown],
                    });
                }
            }
            Ok::<_, ApiError>((state.queries.len() > 1, rows))
        }
    });
    let latest = Signal::derive(move || match instant.get() {
        None => PanelState::Loading,
        Some(Err(error)) => PanelState::Failed(error),
        Some(Ok((several, rows))) => {
            let mut columns = vec!["Series".to_owned(), "Value now".to_owned()];
            if several {
                columns.insert(0, "Query".to_owned());
            }
            PanelState::Ready(PanelBody::Table { columns, rows })
        }
    });

    let names = LocalResource::new(move || {
        let slug = slug.get_value();
        async move { client::metric_names(&slug).await.unwrap_or_default() }
    });
    let options = move || {
        names
            .get()
            .unwrap_or_default()
            .into_iter()
            .map(|m: MetricName| {
                let about = describe(&m);
                view! { <option value=m.name>{about}</option> }
            })
            .collect_view()
    };

    let inputs = move || {
        let several = count.get() > 1;
        (0..count.get())
            .map(|i| {
                let l = letter(i);
                let id = if i == 0 {
                    "metrics-query".to_owned()
                } else {
                    format!("metrics-query-{}", l.to_ascii_lowercase())
                };
                let remove = move |_| {
                    texts.update(|t| {
                        if t.len() > 1 && i < t.len() {
                            t.remove(i);
                        }
                    });
                    run();
                };
                view! {
                    <div class="query-row">
                        <label class="field grow">
                            <span>{if several { format!("PromQL {l}") } else { "PromQL".to_owned() }}</span>
                            <input
                                id=id
                                class="input"
                                type="text"
                                list="metric-names"
                                spellcheck="false"
                                autocomplete="off"
                                placeholder="rate(http_requests_total[5m])"
                                prop:value=move || texts.with(|t| t.get(i).cloned().unwrap_or_default())
                                on:input=move |ev| {
                                    let typed = event_target_value(&ev);
                                    texts.update(|t| {
                                        if let Some(slot) = t.get_mut(i) {
                                            *slot = typed;
                                        }
                                    });
                                }
                            />
                        </label>
                        {several.then(|| view! {
                            <button
                                type="button"
                                class="button secondary"
                                aria-label=format!("Remove query {l}")
                                on:click=remove
                            >
                                "Remove"
                            </button>
                        })}
                    </div>
                }
            })
            .collect_view()
    };
    let toggle = move |change: fn(&mut Explore, bool)| {
        move |ev: leptos::ev::Event| {
            let mut next = explore.get_untracked();
            change(&mut next, event_target_checked(&ev));
            show(next);
        }
    };
    // What the rate toggle charts, said under the bar.
    let rate_hint = move || {
        let state = explore.get();
        state.rate.then(|| {
            let (_, _, step) = span();
            let said: Vec<String> = state
                .queries
                .iter()
                .map(|q| {
                    if is_selector(q) {
                        state.evaluated(q, step)
                    } else {
                        format!("{q} (as written: only a selector is rated)")
                    }
                })
                .collect();
            view! { <p class="muted rate-hint">"Charted as " <code>{said.join(", ")}</code></p> }
        })
    };
    // Rebuilt only when the number of queries changes: a choice in one keeps
    // its focus, and a toggle refetches nothing.
    let query_count = Memo::new(move |_| explore.with(|e| e.queries.len()));
    let filters = move || {
        (0..query_count.get())
            .map(|i| {
                let q = Memo::new(move |_| {
                    explore.with(|e| e.queries.get(i).cloned().unwrap_or_default())
                });
                let letter = explore.with_untracked(|e| e.letter(i));
                view! {
                    <LabelFilters
                        project=slug.get_value()
                        letter
                        query=q
                        run=Callback::new(move |text| replace_query(i, text))
                    />
                }
                .into_any()
            })
            .collect_view()
    };

    // Its own erased view: the page's type is otherwise too deep for the
    // compiler's layout of the hydrating build.
    let bar = view! {
        <form
            class="card query-bar metrics-query"
            on:submit=move |ev| {
                ev.prevent_default();
                run();
            }
        >
            {inputs}
            <datalist id="metric-names">{options}</datalist>
            <div class="query-actions">
                <button
                    type="button"
                    class="button secondary"
                    id="metrics-add-query"
                    disabled=move || { count.get() >= MAX_QUERIES }
                    on:click=move |_| texts.update(|t| t.push(String::new()))
                >
                    "Add query"
                </button>
                <label class="check">
                    <input
                        type="checkbox"
                        id="metrics-rate"
                        prop:checked=move || explore.with(|e| e.rate)
                        on:change=toggle(|e, on| e.rate = on)
                    />
                    "Rate per second"
                </label>
                <label class="check">
                    <input
                        type="checkbox"
                        id="metrics-stacked"
                        prop:checked=move || explore.with(|e| e.stacked)
                        on:change=toggle(|e, on| e.stacked = on)
                    />
                    "Stacked"
                </label>
                <button class="button run" type="submit" id="metrics-run">"Run"</button>
            </div>
            {rate_hint}
        </form>
    }
    .into_any();

    view! {
        {bar}
        {filters}
        <Panel
            id="metrics-chart"
            title="Series"
            detail="The queries evaluated as Prometheus's query_range over the selected time range."
            label=format!("Metrics of {project}")
            empty="No series in this range"
            state=chart
            on_zoom=Callback::new(zoom)
        />
        <Panel
            id="metrics-latest"
            title="Values now"
            label="The value of each series now"
            empty="No series in this range"
            state=latest
        />
        <Targets project=slug.get_value()/>
    }
    .into_any()
}

/// `name{a="1", b="2"}`, as Prometheus writes a series (an expression's
/// result has no name: `{a="1"}`).
fn series_label(name: &str, labels: &std::collections::BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return name.to_owned();
    }
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", pairs.join(", "))
}

/// What an autocompletion entry says beside the name: TYPE and HELP.
fn describe(metric: &MetricName) -> String {
    match (&metric.kind, metric.help.is_empty()) {
        (Some(kind), false) => format!("{kind} — {}", metric.help),
        (Some(kind), true) => kind.clone(),
        (None, false) => metric.help.clone(),
        (None, true) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_keeps_each_query_and_the_toggles() {
        let params: ParamsMap = [
            ("q", "up"),
            ("q", " "),
            ("q", "rate(x[5m])"),
            ("stack", "1"),
        ]
        .into_iter()
        .collect();
        let state = Explore::from_query(&params);
        assert_eq!(state.queries, vec!["up", "rate(x[5m])"]);
        assert!(state.stacked && !state.rate);
        assert_eq!((state.letter(0), state.letter(1)), (Some('A'), Some('B')));
        let mut written = ParamsMap::new();
        written.insert("project", "shop".to_owned());
        state.write_query(&mut written);
        assert_eq!(Explore::from_query(&written), state);
        assert_eq!(written.get_str("project"), Some("shop"));
        // Nothing asked: the example, one query without a letter.
        let empty = Explore::from_query(&ParamsMap::new());
        assert_eq!(
            (empty.queries.clone(), empty.letter(0)),
            (vec![EXAMPLE.to_owned()], None)
        );
    }

    #[test]
    fn the_rate_toggle_charts_a_per_second_rate_of_selectors() {
        assert_eq!(rate_window(60), 300);
        assert_eq!(rate_window(1440), 2880);
        let state = Explore {
            queries: vec!["x".into()],
            rate: true,
            stacked: false,
        };
        assert_eq!(state.evaluated("x", 60), "rate(x[5m])");
        assert_eq!(
            state.evaluated(r#"x{code=~"5..", path!="/a}b"}"#, 1440),
            r#"rate(x{code=~"5..", path!="/a}b"}[48m])"#
        );
        assert_eq!(
            state.evaluated(r#"{__name__="x"}"#, 60),
            r#"rate({__name__="x"}[5m])"#
        );
        // Anything else as written: a rate of a sum or of a rate is wrong.
        for written in [
            "sum by (job) (x)",
            "rate(x[5m])",
            "x[5m]",
            "x offset 5m",
            "x + 1",
            "1",
        ] {
            assert_eq!(state.evaluated(written, 60), written);
        }
        assert_eq!(
            Explore {
                rate: false,
                ..state
            }
            .evaluated("x", 60),
            "x"
        );
    }
}
