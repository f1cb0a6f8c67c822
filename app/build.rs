//! Reads the chart palette (`--series-N`, `--series-other`) and the level colours (`--level-*`)
//! from `style/01-tokens.css`, the one place they are defined, into Rust
//! constants for the canvas charts (`$OUT_DIR/palette.rs`).

use std::{env, fmt::Write as _, fs, path::PathBuf};

fn main() {
    let tokens = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../style/01-tokens.css");
    println!("cargo::rerun-if-changed={}", tokens.display());
    let css =
        fs::read_to_string(&tokens).unwrap_or_else(|e| panic!("reading {}: {e}", tokens.display()));
    // Only the light theme's tokens (the first block) name the palette.
    let mut series = Vec::new();
    let mut levels = Vec::new();
    let mut other = None;
    for line in css.lines() {
        let Some((name, value)) = line.trim().split_once(':') else {
            continue;
        };
        let Some(rgb) = hex(value.trim().trim_end_matches(';')) else {
            continue;
        };
        if name == "--series-other" {
            other = other.or(Some(rgb));
        } else if let Some(n) = name.strip_prefix("--series-") {
            if series.len() + 1 == n.parse::<usize>().unwrap_or(0) {
                series.push(rgb);
            }
        } else if let Some(level) = name.strip_prefix("--level-") {
            if !levels.iter().any(|(l, _)| l == level) {
                levels.push((level.to_string(), rgb));
            }
        }
    }
    assert!(
        series.len() >= 2,
        "no --series-1, --series-2, ... in {}",
        tokens.display()
    );
    let mut out = String::from(
        "/// Series colours in order (RGB), from `--series-N` in `style/01-tokens.css`.\n",
    );
    let _ = writeln!(
        out,
        "pub const PALETTE: [(u8, u8, u8); {}] = [",
        series.len()
    );
    for (r, g, b) in &series {
        let _ = writeln!(out, "    ({r:#04x}, {g:#04x}, {b:#04x}),");
    }
    out.push_str(
        "];\n\n/// Level colours (RGB) by name, from `--level-*` in `style/01-tokens.css`.\n",
    );
    let _ = writeln!(
        out,
        "pub const LEVEL_COLORS: [(&str, (u8, u8, u8)); {}] = [",
        levels.len()
    );
    for (level, (r, g, b)) in &levels {
        let _ = writeln!(out, "    ({level:?}, ({r:#04x}, {g:#04x}, {b:#04x})),");
    }
    out.push_str("];\n");
    let (r, g, b) = other.unwrap_or_else(|| panic!("no --series-other in {}", tokens.display()));
    let _ = writeln!(
        out,
        "\n/// The colour of the groups summed into \"other\", from `--series-other`.\npub const OTHER_COLOR: (u8, u8, u8) = ({r:#04x}, {g:#04x}, {b:#04x});"
    );
    let path = PathBuf::from(env::var("OUT_DIR").unwrap_or_default()).join("palette.rs");
    fs::write(&path, out).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// `#rrggbb` as RGB.
fn hex(value: &str) -> Option<(u8, u8, u8)> {
    let digits = value.strip_prefix('#')?;
    if digits.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}
