//! `/metrics/explore`: the Metrics explorer of the selected project. A PromQL query
//! (kept in the URL as `q=`, with the project and time range) is charted over
//! the range through `POST /api/v1/query` (source `metrics`), with each
//! series' value now in a table below (an instant query); metric names autocomplete with
//! their TYPE and HELP; the scrape targets are listed with their state.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::api::{client, MetricName, QueryRequest, ScrapeTarget};
use crate::components::chart::format_value;
use crate::components::panel::{Panel, PanelBody, PanelState};
use crate::components::project_scoped::ProjectScoped;
use crate::components::status::{ErrorBox, Loading};
use crate::local_time::now;
use crate::pages::overview::{series_of, span_of, step_seconds};
use crate::url_state::{use_query, use_set_query, TimeRange};

/// What the explorer shows before a query is written.
const EXAMPLE: &str = "up";

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

/// The query bar, the chart, the latest values and the scrape targets.
#[component]
fn MetricsExplorer(project: String) -> impl IntoView {
    let slug = StoredValue::new(project.clone());
    let query = use_query();
    let navigate = StoredValue::new_local(use_set_query());
    let url_q =
        Memo::new(move |_| query.with(|q| q.get_str("q").unwrap_or(EXAMPLE).trim().to_owned()));
    let range = Memo::new(move |_| query.with(TimeRange::from_query));
    let runs = RwSignal::new(0_u64);
    let text = RwSignal::new(url_q.get_untracked());
    Effect::new(move |_| text.set(url_q.get()));

    let run = move |q: String| {
        let q = q.trim().to_owned();
        if q == url_q.get_untracked() {
            runs.update(|r| *r += 1);
            return;
        }
        let mut params: ParamsMap = query.get_untracked();
        params.replace("q", q);
        navigate.with_value(|go| go(params));
    };

    let answer = LocalResource::new(move || {
        runs.track();
        let (from, to) = range.get().bounds(now());
        let (from_ms, to_ms) = (from.timestamp_millis(), to.timestamp_millis());
        let request = QueryRequest {
            project: slug.get_value(),
            source: "metrics".to_owned(),
            query: url_q.get(),
            from: Some(from.to_rfc3339()),
            to: Some(to.to_rfc3339()),
            step: Some(step_seconds(from_ms, to_ms).to_string()),
        };
        async move { client::query(&request).await.map(|r| (r, (from_ms, to_ms))) }
    });
    let chart = Signal::derive(move || match answer.get() {
        None => PanelState::Loading,
        Some(Err(error)) => PanelState::Failed(error),
        Some(Ok((result, span))) => {
            let x_range = Some(span_of(&result, span));
            PanelState::Ready(PanelBody::Lines {
                series: result
                    .frames
                    .into_iter()
                    .map(|frame| series_of(frame, ""))
                    .collect(),
                thresholds: Vec::new(),
                x_range,
            })
        }
    });
    // The value of each series now, in a table (an instant query: a series
    // younger than the chart's last step is there too).
    let instant = LocalResource::new(move || {
        runs.track();
        let (slug, q) = (slug.get_value(), url_q.get());
        async move { client::metrics_instant(&slug, &q).await }
    });
    let latest = Signal::derive(move || match instant.get() {
        None => PanelState::Loading,
        Some(Err(error)) => PanelState::Failed(error),
        Some(Ok(values)) => PanelState::Ready(PanelBody::Table {
            columns: vec!["Series".into(), "Value now".into()],
            rows: values
                .into_iter()
                .map(|mut v| {
                    let name = v.labels.remove("__name__").unwrap_or_default();
                    // Read as a chart's axis reads (`2`, `0.200`); NaN and ±Inf as written.
                    let shown = match v.value.parse::<f64>() {
                        Ok(number) if number.is_finite() => format_value(number),
                        _ => v.value,
                    };
                    vec![series_label(&name, &v.labels), shown]
                })
                .collect(),
        }),
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

    view! {
        <form
            class="card query-bar metrics-query"
            on:submit=move |ev| {
                ev.prevent_default();
                run(text.get_untracked());
            }
        >
            <label class="field grow">
                <span>"PromQL"</span>
                <input
                    id="metrics-query"
                    class="input"
                    type="text"
                    list="metric-names"
                    spellcheck="false"
                    autocomplete="off"
                    placeholder="rate(http_requests_total[5m])"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
            </label>
            <datalist id="metric-names">{options}</datalist>
            <button class="button" type="submit" id="metrics-run">"Run"</button>
        </form>
        <Panel
            id="metrics-chart"
            title="Series"
            detail="The query evaluated as Prometheus's query_range over the selected time range."
            label=format!("Metrics of {project}")
            empty="No series in this range"
            state=chart
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

/// The project's scrape targets and the state of their last scrape.
#[component]
fn Targets(project: String) -> impl IntoView {
    let project = StoredValue::new(project);
    let targets = LocalResource::new(move || {
        let slug = project.get_value();
        async move { client::scrape_targets(&slug).await }
    });
    let body = move || match targets.get() {
        None => view! { <Loading/> }.into_any(),
        Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <p class="empty">
                "No scrape targets. Add one with POST /api/v1/projects/"{project.get_value()}
                "/metrics/targets, or send metrics by remote write, OTLP or the native API."
            </p>
        }
        .into_any(),
        Some(Ok(list)) => view! {
            <div class="metrics-scroll">
                <table class="table" id="metrics-targets-table">
                    <thead>
                        <tr>
                            <th>"Job"</th>
                            <th>"Instance"</th>
                            <th>"State"</th>
                            <th>"Last scrape"</th>
                            <th class="num">"Duration"</th>
                            <th class="num">"Samples"</th>
                            <th>"Error"</th>
                        </tr>
                    </thead>
                    <tbody>{list.into_iter().map(target_row).collect_view()}</tbody>
                </table>
            </div>
        }
        .into_any(),
    };
    view! {
        <section class="card" id="metrics-targets">
            <div class="panel-head">
                <h2>"Scrape targets"</h2>
            </div>
            {body}
        </section>
    }
}

fn target_row(target: ScrapeTarget) -> impl IntoView {
    let state_class = match target.health.as_str() {
        "up" => "badge success",
        "down" => "badge bad",
        _ => "badge",
    };
    let last = target
        .last_scrape
        .map(|t| crate::local_time::exact_time(t.timestamp_millis()))
        .unwrap_or_else(|| "never".into());
    let duration = target
        .last_duration_seconds
        .map(|s| format!("{:.0} ms", s * 1000.0))
        .unwrap_or_default();
    view! {
        <tr>
            <td>{target.job}</td>
            <td title=target.url.clone()>{target.instance}</td>
            <td><span class=state_class>{target.health}</span></td>
            <td>{last}</td>
            <td class="num">{duration}</td>
            <td class="num">{target.last_samples.map(|n| n.to_string()).unwrap_or_default()}</td>
            <td class="muted">{target.last_error.unwrap_or_default()}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_read_as_prometheus_writes_them() {
        let labels = [
            ("job".to_string(), "api".to_string()),
            ("code".to_string(), "200".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(series_label("up", &labels), r#"up{code="200", job="api"}"#);
        assert_eq!(series_label("up", &Default::default()), "up");
        assert_eq!(series_label("", &labels), r#"{code="200", job="api"}"#);
        let metric = MetricName {
            name: "up".into(),
            kind: Some("gauge".into()),
            help: "1 if up".into(),
            unit: String::new(),
        };
        assert_eq!(describe(&metric), "gauge — 1 if up");
    }
}
