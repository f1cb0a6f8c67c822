//! The scrape targets of the Metrics explorer: each target's state, a form to
//! add one and a button to remove it.

use leptos::prelude::*;

use crate::api::{client, NewScrapeTarget, ScrapeAuth, ScrapeTarget};
use crate::components::status::{ErrorBox, ErrorText, Loading};

/// The project's scrape targets and the state of their last scrape.
#[component]
pub(super) fn Targets(project: String) -> impl IntoView {
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
    .into_any()
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
    fn extra_labels_are_name_value_pairs() {
        let labels = parse_labels(" env=prod, team = \"infra\" ,").unwrap();
        assert_eq!(labels.get("env").map(String::as_str), Some("prod"));
        assert_eq!(labels.get("team").map(String::as_str), Some("infra"));
        assert!(parse_labels("").unwrap().is_empty());
        assert_eq!(parse_labels("env").unwrap_err(), "`env` is not name=value");
    }
}
