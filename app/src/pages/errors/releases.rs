//! Release health on the Errors page: for each release seen in the range, its
//! sessions and users and how many of them did not crash, and the issues it
//! brought (a link to the issue list filtered by that release).

use leptos::prelude::*;
use leptos_router::params::ParamsMap;

use crate::api::{client, ReleaseHealth};
use crate::components::status::{EmptyState, ErrorBox, Loading};
use crate::local_time::now;
use crate::url_state::{href_keeping_query, TimeRange};

/// A share (0–1) as a percentage with two decimals, or "—" without data.
pub fn percent(share: Option<f64>) -> String {
    match share {
        Some(share) => format!("{:.2} %", share * 100.0),
        None => "—".to_owned(),
    }
}

/// The release health table of `project` over the range.
#[component]
pub fn ReleaseHealthPanel(
    /// The project's slug.
    project: StoredValue<String>,
    /// The page's time range.
    #[prop(into)]
    range: Signal<TimeRange>,
    /// The page's URL query, kept by the links.
    #[prop(into)]
    query: Signal<ParamsMap>,
) -> impl IntoView {
    let releases = LocalResource::new(move || {
        let (from, to) = range.get().bounds(now());
        let slug = project.get_value();
        async move { client::releases(&slug, from, to).await }
    });
    let body = move || {
        releases.get().map(|answer| match answer {
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(list) if list.releases.is_empty() => view! {
                <EmptyState
                    title="No releases in this range"
                    detail="Set `release` in the SDK's options (e.g. shop@1.4.2) to see sessions, crash-free rates and new issues per release."
                />
            }
            .into_any(),
            Ok(list) => {
                let rows = list
                    .releases
                    .into_iter()
                    .map(|r| view! { <ReleaseRow release=r query/> })
                    .collect_view();
                view! {
                    <div class="release-table-wrap">
                        <table class="table release-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Release"</th>
                                    <th scope="col" class="numeric">"Sessions"</th>
                                    <th scope="col" class="numeric">"Crash-free sessions"</th>
                                    <th scope="col" class="numeric">"Users"</th>
                                    <th scope="col" class="numeric">"Crash-free users"</th>
                                    <th scope="col" class="numeric">"New issues"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="card release-health" aria-labelledby="release-health-title">
            <h2 id="release-health-title">"Release health"</h2>
            <Transition fallback=|| view! { <Loading what="Loading releases…"/> }>{body}</Transition>
        </section>
    }
    .into_any()
}

/// One release.
#[component]
fn ReleaseRow(release: ReleaseHealth, query: Signal<ParamsMap>) -> impl IntoView {
    let version = release.version.clone();
    let href = move || {
        let mut q = query.get();
        q.replace("release", version.clone());
        href_keeping_query("/errors", &q)
    };
    let crashed = format!(
        "{} crashed, {} errored",
        release.crashed_sessions, release.errored_sessions
    );
    let crashed_users = format!("{} crashed", release.crashed_users);
    view! {
        <tr class="release-row">
            <td class="release-version"><code>{release.version.clone()}</code></td>
            <td class="numeric">{release.sessions}</td>
            <td class="numeric" title=crashed>{percent(release.crash_free_sessions)}</td>
            <td class="numeric">{release.users}</td>
            <td class="numeric" title=crashed_users>{percent(release.crash_free_users)}</td>
            <td class="numeric">
                <a class="release-issues" href=href>{release.new_issues}</a>
            </td>
        </tr>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_read_as_percentages() {
        assert_eq!(percent(Some(0.99516)), "99.52 %");
        assert_eq!(percent(Some(1.0)), "100.00 %");
        assert_eq!(percent(None), "—");
    }
}
