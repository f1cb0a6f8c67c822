//! A share of a whole as a thin bar (a tag value among an issue's events, a
//! field value among the log lines shown), with [`share`] rounding it.

use leptos::prelude::*;

/// `count` of `total` as a whole percentage (at least 1 % when not zero, so a
/// bar never vanishes).
pub fn share(count: i64, total: i64) -> i64 {
    if total <= 0 || count <= 0 {
        return 0;
    }
    ((count * 100 + total / 2) / total).clamp(1, 100)
}

/// The bar of `percent` (0 to 100); decorative, the number goes beside it.
#[component]
pub fn ShareBar(percent: i64) -> impl IntoView {
    view! {
        <span class="share-bar" aria-hidden="true">
            <span class="share-bar-fill" style=format!("width: {}%", percent.clamp(0, 100))></span>
        </span>
    }
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
