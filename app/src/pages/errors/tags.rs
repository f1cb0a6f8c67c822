//! An issue's tags: for each key, its most frequent values among the latest
//! events, each with a bar of its share and a link to the project's issues
//! with events of that value.

use leptos::prelude::*;

use super::filters::issues_where;
use crate::api::TagSummary;

/// `count` of `total` as a whole percentage (at least 1 % when not zero, so a
/// bar never vanishes).
pub fn share(count: i64, total: i64) -> i64 {
    if total <= 0 || count <= 0 {
        return 0;
    }
    ((count * 100 + total / 2) / total).clamp(1, 100)
}

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
                    let link = issues_where(&project, &key, &v.value);
                    view! {
                        <li class="tag-value" title=title>
                            <a class="tag-value-name" href=link>{v.value}</a>
                            <span class="tag-bar" aria-hidden="true">
                                <span class="tag-bar-fill" style=format!("width: {pct}%")></span>
                            </span>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_and_never_hide_a_value() {
        assert_eq!(share(1, 3), 33);
        assert_eq!(share(2, 3), 67);
        assert_eq!(share(1, 1000), 1);
        assert_eq!(share(0, 10), 0);
        assert_eq!(share(5, 0), 0);
    }
}
