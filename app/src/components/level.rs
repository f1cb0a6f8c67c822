//! Log levels as the UI shows them: one colour per level, used by the level badges
//! in tables and by the logs histogram's bars. `style/main.css` repeats the colours
//! as `--level-trace` … `--level-fatal`.

use leptos::prelude::*;

/// The levels from least to most severe, as the API names them.
pub const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "fatal"];

/// The colour of a level (RGB); grey for a name Sightline does not know.
pub fn level_color(level: &str) -> (u8, u8, u8) {
    match level {
        "debug" => (0x8b, 0x5c, 0xf6),
        "info" => (0x3b, 0x82, 0xf6),
        // Sentry SDKs say `warning`.
        "warn" | "warning" => (0xf5, 0x9e, 0x0b),
        "error" => (0xef, 0x44, 0x44),
        "fatal" => (0xbe, 0x18, 0x5d),
        _ => (0x9c, 0xa3, 0xaf),
    }
}

/// The CSS class of a level's colour: `level-error`, or `level-other`.
fn level_class(level: &str) -> &'static str {
    match level {
        "trace" => "level-trace",
        "debug" => "level-debug",
        "info" => "level-info",
        "warn" | "warning" => "level-warn",
        "error" => "level-error",
        "fatal" => "level-fatal",
        _ => "level-other",
    }
}

/// A level name in its colour.
#[component]
pub fn LevelBadge(
    /// The level's name.
    #[prop(into)]
    level: String,
) -> impl IntoView {
    let class = format!("level-badge {}", level_class(&level));
    view! { <span class=class>{level}</span> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_has_its_own_colour() {
        let mut colours: Vec<_> = LEVELS.iter().map(|l| level_color(l)).collect();
        colours.sort_unstable();
        colours.dedup();
        assert_eq!(colours.len(), LEVELS.len());
    }
}
