//! `/metrics/explore`: the Metrics explorer of the selected project. A PromQL query
//! (kept in the URL as `q=`, with the project and time range) is charted over
//! the range through `POST /api/v1/query` (source `metrics`), with each
//! series' value now in a table below (an instant query); metric names autocomplete with
//! their TYPE and HELP; the scrape targets are listed with their state.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use std::collections::BTreeMap;

use crate::api::{
    client, MetricLabel, MetricName, NewScrapeTarget, QueryRequest, ScrapeAuth, ScrapeTarget,
};
use crate::components::chart::format_value;
use crate::components::panel::{Panel, PanelBody, PanelState};
use crate::components::project_scoped::ProjectScoped;
use crate::components::status::{ErrorBox, ErrorText, Loading};
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
        <LabelFilters project=slug.get_value() query=url_q run=Callback::new(run)/>
        <Panel
            id="metrics-chart"
            title="Series"
            detail="The query evaluated as Prometheus's query_range over the selected time range."
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

/// A selector the label filters can edit: a metric name, optionally with
/// `label="value"` matchers. `None` for any other expression.
fn selector_parts(query: &str) -> Option<(String, BTreeMap<String, String>)> {
    let query = query.trim();
    let (name, rest) = match query.find('{') {
        Some(i) => (&query[..i], Some(&query[i..])),
        None => (query, None),
    };
    let valid_name = |n: &str| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    if !valid_name(name) {
        return None;
    }
    let mut matchers = BTreeMap::new();
    if let Some(rest) = rest {
        let mut inner = rest.strip_prefix('{')?.strip_suffix('}')?.trim();
        while !inner.is_empty() {
            let eq = inner.find('=')?;
            let label = inner[..eq].trim();
            let value_text = inner[eq + 1..].trim_start().strip_prefix('"')?;
            // The value runs to the first quote not escaped.
            let mut value = String::new();
            let mut chars = value_text.char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => value.push(chars.next()?.1),
                    (i, '"') => break i,
                    (_, c) => value.push(c),
                }
            };
            if !valid_name(label) {
                return None;
            }
            matchers.insert(label.to_owned(), value);
            inner = value_text[end + 1..].trim_start();
            inner = inner.strip_prefix(',').unwrap_or(inner).trim_start();
            if !inner.is_empty()
                && inner.starts_with(|c: char| !c.is_ascii_alphabetic() && c != '_')
            {
                return None;
            }
        }
    }
    Some((name.to_owned(), matchers))
}

/// The selector of `name` with `label="value"` matchers.
fn selector_text(name: &str, matchers: &BTreeMap<String, String>) -> String {
    if matchers.is_empty() {
        return name.to_owned();
    }
    let inner: Vec<String> = matchers
        .iter()
        .map(|(l, v)| format!("{l}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{name}{{{}}}", inner.join(", "))
}

/// When the query is a plain selector, one drop-down per label of its
/// metric: choosing a value (or "any") rewrites the selector and runs it.
#[component]
fn LabelFilters(project: String, query: Memo<String>, run: Callback<String>) -> impl IntoView {
    let project = StoredValue::new(project);
    let parts = Memo::new(move |_| selector_parts(&query.get()));
    let metric = Memo::new(move |_| parts.get().map(|(name, _)| name));
    let labels = LocalResource::new(move || {
        let (slug, metric) = (project.get_value(), metric.get());
        async move {
            match metric {
                Some(metric) => client::metric_labels(&slug, &metric)
                    .await
                    .unwrap_or_default(),
                None => Vec::new(),
            }
        }
    });
    let choose = move |label: String, value: String| {
        let Some((name, mut matchers)) = parts.get_untracked() else {
            return;
        };
        if value.is_empty() {
            matchers.remove(&label);
        } else {
            matchers.insert(label, value);
        }
        run.run(selector_text(&name, &matchers));
    };
    move || {
        let list = labels.get().unwrap_or_default();
        let chosen = parts.get().map(|(_, m)| m).unwrap_or_default();
        (!list.is_empty()).then(|| {
            let selects = list
                .into_iter()
                .map(|label: MetricLabel| {
                    let current = chosen.get(&label.name).cloned().unwrap_or_default();
                    let name = label.name.clone();
                    let options = label
                        .values
                        .into_iter()
                        .map(|v| {
                            let selected = v == current;
                            let text = v.clone();
                            view! { <option value=v selected=selected>{text}</option> }
                        })
                        .collect_view();
                    let more = label.truncated.then(|| view! { <option disabled>"… more (type them)"</option> });
                    view! {
                        <label class="field">
                            <span>{label.name.clone()}</span>
                            <select
                                class="input"
                                data-label=label.name
                                on:change=move |ev| choose(name.clone(), event_target_value(&ev))
                            >
                                <option value="" selected=current.is_empty()>"any"</option>
                                {options}
                                {more}
                            </select>
                        </label>
                    }
                })
                .collect_view();
            view! {
                <div class="card label-filters" id="metrics-filters" role="group" aria-label="Label filters">
                    {selects}
                </div>
            }
        })
    }
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
    let body = move || {
        match targets.get() {
        None => view! { <Loading/> }.into_any(),
        Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <p class="empty">
                "No scrape targets yet. Add an exporter above (a node_exporter is http://host:9100/metrics), or send metrics by remote write, OTLP or the native API."
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
                            <th class="actions"></th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .into_iter()
                            .map(|target| view! { <TargetRow target project=project.get_value() targets/> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    }
    };
    view! {
        <section class="card" id="metrics-targets">
            <div class="panel-head">
                <h2>"Scrape targets"</h2>
            </div>
            <AddTarget project=project.get_value() targets/>
            {body}
        </section>
    }
}

/// The scrape targets' resource, refetched when one is added or removed.
type TargetsResource = LocalResource<Result<Vec<ScrapeTarget>, client::ApiError>>;

/// Extra labels typed as `name=value` pairs separated by commas.
fn parse_labels(text: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut labels = std::collections::BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(format!("`{pair}` is not name=value"));
        };
        labels.insert(
            name.trim().to_owned(),
            value.trim().trim_matches('"').to_owned(),
        );
    }
    Ok(labels)
}

/// The form that adds a scrape target: job, URL, interval, extra labels,
/// credentials and TLS verification.
#[component]
fn AddTarget(project: String, targets: TargetsResource) -> impl IntoView {
    let project = StoredValue::new(project);
    let job = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let interval = RwSignal::new("15".to_owned());
    let labels = RwSignal::new(String::new());
    let auth = RwSignal::new("none".to_owned());
    let user = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let tls_verify = RwSignal::new(true);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = (|| {
            let job = job.get_untracked().trim().to_owned();
            let url = url.get_untracked().trim().to_owned();
            if job.is_empty() || url.is_empty() {
                return Err("Enter a job name and the URL of the metrics.".to_owned());
            }
            let interval_seconds = interval
                .get_untracked()
                .trim()
                .parse::<i32>()
                .map_err(|_| "The interval is a whole number of seconds.".to_owned())?;
            let auth = match auth.get_untracked().as_str() {
                "basic" => Some(ScrapeAuth::Basic {
                    username: user.get_untracked(),
                    password: secret.get_untracked(),
                }),
                "bearer" => Some(ScrapeAuth::Bearer {
                    token: secret.get_untracked(),
                }),
                _ => None,
            };
            Ok(NewScrapeTarget {
                job,
                url,
                interval_seconds,
                timeout_seconds: None,
                labels: parse_labels(&labels.get_untracked())
                    .map_err(|e| format!("Extra labels: {e}."))?,
                auth,
                tls_verify: Some(tls_verify.get_untracked()),
                honor_labels: None,
            })
        })();
        let request = match request {
            Ok(request) => request,
            Err(message) => {
                error.set(Some(message));
                return;
            }
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match client::create_scrape_target(&project.get_value(), &request).await {
                Ok(_) => {
                    error.set(None);
                    for field in [job, url, labels, user, secret] {
                        field.set(String::new());
                    }
                    targets.refetch();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let needs = move |kinds: &'static [&'static str]| {
        let kind = auth.get();
        !kinds.contains(&kind.as_str())
    };

    view! {
        <form class="inline-form targets-form" id="target-form" on:submit=submit>
            <label class="field">
                <span>"Job"</span>
                <input id="target-job" class="input" placeholder="node" bind:value=job/>
            </label>
            <label class="field target-url">
                <span>"URL"</span>
                <input
                    id="target-url"
                    class="input"
                    type="url"
                    placeholder="http://host:9100/metrics"
                    bind:value=url
                />
            </label>
            <label class="field target-interval">
                <span>"Every (s)"</span>
                <input id="target-interval" class="input" inputmode="numeric" bind:value=interval/>
            </label>
            <label class="field">
                <span>"Extra labels"</span>
                <input id="target-labels" class="input" placeholder="env=prod, team=infra" bind:value=labels/>
            </label>
            <label class="field">
                <span>"Auth"</span>
                <select id="target-auth" class="input" on:change=move |ev| auth.set(event_target_value(&ev))>
                    <option value="none" selected>"None"</option>
                    <option value="basic">"Basic"</option>
                    <option value="bearer">"Bearer token"</option>
                </select>
            </label>
            <label class="field" hidden=move || needs(&["basic"])>
                <span>"User"</span>
                <input id="target-user" class="input" autocomplete="off" bind:value=user/>
            </label>
            <label class="field" hidden=move || needs(&["basic", "bearer"])>
                <span>{move || if auth.get() == "bearer" { "Token" } else { "Password" }}</span>
                <input id="target-secret" class="input" type="password" autocomplete="new-password" bind:value=secret/>
            </label>
            <label class="check">
                <input type="checkbox" bind:checked=tls_verify/>
                <span>"Verify TLS"</span>
            </label>
            <button id="target-add" class="button" type="submit" disabled=move || busy.get()>
                "Add target"
            </button>
        </form>
        <ErrorText message=error/>
    }
}

/// One target with its state, and a button that removes it.
#[component]
fn TargetRow(target: ScrapeTarget, project: String, targets: TargetsResource) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let target_id = target.target_id;
    let project = StoredValue::new(project);
    let remove = move |_| {
        leptos::task::spawn_local(async move {
            match client::delete_scrape_target(&project.get_value(), target_id).await {
                Ok(()) => targets.refetch(),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let action = view! {
        <button class="button secondary small" type="button" title="Stop scraping this target" on:click=remove>
            "Remove"
        </button>
        <ErrorText message=error/>
    }
    .into_any();
    target_row(target, action)
}

fn target_row(target: ScrapeTarget, action: AnyView) -> impl IntoView {
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
            <td class="actions">{action}</td>
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

    #[test]
    fn plain_selectors_are_read_and_written_back() {
        let (name, m) = selector_parts(r#"http_requests_total{code="500", job = "a\"b"}"#).unwrap();
        assert_eq!(name, "http_requests_total");
        assert_eq!(m.get("code").map(String::as_str), Some("500"));
        assert_eq!(m.get("job").map(String::as_str), Some("a\"b"));
        assert_eq!(
            selector_text(&name, &m),
            r#"http_requests_total{code="500", job="a\"b"}"#
        );
        assert_eq!(
            selector_parts("up").unwrap(),
            ("up".to_owned(), BTreeMap::new())
        );
        assert_eq!(selector_text("up", &BTreeMap::new()), "up");
        assert_eq!(selector_parts("rate(x[5m])"), None);
        assert_eq!(selector_parts(r#"x{a=~"b"}"#), None);
        assert_eq!(selector_parts(r#"x{a="b"} + 1"#), None);
        assert_eq!(selector_parts(""), None);
    }

    #[test]
    fn extra_labels_are_name_value_pairs() {
        let labels = parse_labels(" env=prod, team = \"infra\" ,").unwrap();
        assert_eq!(labels.get("env").map(String::as_str), Some("prod"));
        assert_eq!(labels.get("team").map(String::as_str), Some("infra"));
        assert!(parse_labels("").unwrap().is_empty());
        assert_eq!(parse_labels("env").unwrap_err(), "`env` is not name=value");
    }
}
