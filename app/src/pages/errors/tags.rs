//! An issue's tags: for each key, its most frequent values among the latest
//! events, each with a bar of its share and a link to the project's issues
//! with events of that value.

use leptos::prelude::*;

use super::filters::issues_where;
use crate::api::TagSummary;
use crate::components::share_bar::{share, ShareBar};

/// Every tag with its top values.
#[component]
pub fn TagBars(
    /// The tags, most common first.
    tags: Vec<TagSummary>,
    /// The issue's project (slug), whose issues the values link to.
    project: String,
) -> impl IntoView {
    if tags.is_empty() {
        return view! { <p class="muted">"The latest events carry no tags."</p> }.into_any();
    }
    let items = tags
        .into_iter()
        .map(|tag| {
            let total = tag.total;
            let key = tag.key.clone();
            let project = project.clone();
            let values = tag
                .top
                .into_iter()
                .map(|v| {
                    let pct = share(v.count, total);
                    let title = format!(
                        "{}: {} of {total} events ({pct} %). Show issues with {key}: {}",
                        v.value, v.count, v.value
                    );
                    // Only keys the search can read (letters, digits, `_ . -`)
                    // and values without quotes make a link that finds them.
                    let searchable = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                        && !v.value.contains('"');
                    let name = if searchable {
                        let link = issues_where(&project, &key, &v.value);
                        view! { <a class="tag-value-name" href=link>{v.value}</a> }.into_any()
                    } else {
                        view! { <span class="tag-value-name">{v.value}</span> }.into_any()
                    };
                    view! {
                        <li class="tag-value" title=title>
                            {name}
                            <ShareBar percent=pct/>
                            <span class="tag-value-share">{format!("{pct} %")}</span>
                        </li>
                    }
                })
                .collect_view();
            let key = tag.key.clone();
            view! {
                <div class="tag-summary" data-tag=key>
                    <h3 class="tag-key">{tag.key}</h3>
                    <ul class="tag-values">{values}</ul>
                </div>
            }
        })
        .collect_view();
    view! { <div class="tag-list">{items}</div> }.into_any()
}
