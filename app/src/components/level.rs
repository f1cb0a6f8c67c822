//! Log levels as the UI shows them: one colour per level, used by the level badges
//! in tables and by the logs histogram's bars. The colours are `--level-trace` …
//! `--level-fatal` of `style/01-tokens.css`, read at build time (`app/build.rs`).

use leptos::prelude::*;

use super::chart::LEVEL_COLORS;

/// The levels from least to most severe, as the API names them.
pub const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "fatal"];

/// The colour of a level (RGB); grey for a name Sightline does not know.
pub fn level_color(level: &str) -> (u8, u8, u8) {
    // Sentry SDKs say `warning`.
    let level = if level == "warning" { "warn" } else { level };
    let color = |name: &str| {
        LEVEL_COLORS
            .iter()
            .find(|(l, _)| *l == name)
            .map(|(_, rgb)| *rgb)
    };
    color(level)
        .or_else(|| color("trace"))
        .unwrap_or((0x9c, 0xa3, 0xaf))
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
