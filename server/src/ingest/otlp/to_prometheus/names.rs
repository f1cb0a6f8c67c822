//! Prometheus names of OTLP metrics and attributes (the Collector's
//! `translator/prometheus` rules), and floats written as Prometheus writes them.

use serde_json::Value;

use super::super::proto::{any_value, AnyValue, KeyValue};
use super::Labels;

/// The Prometheus name of an OTLP metric: the name's words joined by `_`,
/// then the unit's words (unless the name already has them), then `total`
/// for counters or `ratio` for gauges of unit `1`.
pub fn prometheus_name(name: &str, unit: &str, total: bool, ratio: bool) -> String {
    let mut tokens = words(name, true);
    let (main, per) = match unit.split_once('/') {
        Some((main, per)) => (main.trim(), per.trim()),
        None => (unit.trim(), ""),
    };
    let usable = |u: &str| !u.is_empty() && !u.contains(['{', '}']);
    if usable(main) {
        let main = words(unit_word(main), false).join("_");
        if !main.is_empty() && !tokens.contains(&main) {
            tokens.push(main);
        }
    }
    if usable(per) {
        let per = words(per_unit_word(per), false).join("_");
        if !per.is_empty() && !tokens.contains(&per) {
            tokens.push("per".to_string());
            tokens.push(per);
        }
    }
    for (wanted, suffix) in [(total, "total"), (ratio, "ratio")] {
        if wanted {
            tokens.retain(|w| w != suffix);
            tokens.push(suffix.to_string());
        }
    }
    let name = tokens.join("_");
    match name.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("_{name}"),
        _ => name,
    }
}

/// The runs of characters of `text` that a name may hold (`:` for metric
/// names), split at every other character.
fn words(text: &str, colons: bool) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || colons && c == ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// UCUM units as Prometheus words (the Collector's table).
fn unit_word(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" | "B" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" | "KB" => "kilobytes",
        "MBy" | "MB" => "megabytes",
        "GBy" | "GB" => "gigabytes",
        "TBy" | "TB" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        "$" => "dollars",
        other => other,
    }
}

/// The unit after `/`, as a singular word.
fn per_unit_word(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// A Prometheus label name for an attribute key, or `None` for an empty key.
pub fn label_name(key: &str) -> Option<String> {
    let mut name = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if !(c == '_' && name.ends_with('_')) {
            name.push(c);
        }
    }
    match name.chars().next() {
        None => None,
        Some(c) if c.is_ascii_digit() => Some(format!("key_{name}")),
        Some('_') => Some(format!("key{name}")),
        Some(_) => Some(name),
    }
}

/// Attributes as labels, sorted by name; attributes that meet under one name
/// have their values joined by `;` in the order of their keys (as the
/// specification says).
pub(super) fn attribute_labels<'a>(attributes: impl IntoIterator<Item = &'a KeyValue>) -> Labels {
    let mut named: Vec<(String, &str, String)> = attributes
        .into_iter()
        .filter_map(|kv| {
            let value = attribute_text(kv.value.as_ref());
            let name = label_name(&kv.key)?;
            (!value.is_empty()).then_some((name, kv.key.as_str(), value))
        })
        .collect();
    named.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut labels: Labels = Vec::with_capacity(named.len());
    for (name, _, value) in named {
        match labels.last_mut() {
            Some((last, joined)) if *last == name => {
                joined.push(';');
                joined.push_str(&value);
            }
            _ => labels.push((name, value)),
        }
    }
    labels
}

/// Sets (or, for an empty value, removes) a label of a sorted label set.
pub(super) fn set(labels: &mut Labels, name: &str, value: &str) {
    match labels.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
        Ok(i) if value.is_empty() => {
            labels.remove(i);
        }
        Ok(i) => {
            if let Some(label) = labels.get_mut(i) {
                label.1 = value.to_string();
            }
        }
        Err(_) if value.is_empty() => {}
        Err(i) => labels.insert(i, (name.to_string(), value.to_string())),
    }
}

/// An attribute value as label text: strings as themselves, other scalars
/// as text, arrays and maps as JSON, bytes as base64.
pub(super) fn attribute_text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => json_of(other).to_string(),
    }
}

fn json_of(value: &any_value::Value) -> Value {
    use base64::Engine;
    match value {
        any_value::Value::StringValue(s) => Value::String(s.clone()),
        any_value::Value::BoolValue(b) => Value::Bool(*b),
        any_value::Value::IntValue(i) => Value::from(*i),
        any_value::Value::DoubleValue(d) => Value::from(*d),
        any_value::Value::ArrayValue(a) => Value::Array(
            a.values
                .iter()
                .map(|v| v.value.as_ref().map_or(Value::Null, json_of))
                .collect(),
        ),
        any_value::Value::KvlistValue(list) => Value::Object(
            list.values
                .iter()
                .map(|kv| {
                    let v = kv.value.as_ref().and_then(|v| v.value.as_ref());
                    (kv.key.clone(), v.map_or(Value::Null, json_of))
                })
                .collect(),
        ),
        any_value::Value::BytesValue(b) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
    }
}

/// A float as Prometheus writes `le` and `quantile` (Go's `%g` with the
/// shortest digits that read back the same): `0.5`, `1`, `1e+06`, `+Inf`.
pub fn prometheus_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    // Rust's `{:e}` gives the same shortest digits: `-1.25e-7`, `1e6`.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // Go's `%g` switches to an exponent below 1e-4 and from 1e6 on.
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let point = if rest.is_empty() { "" } else { "." };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}{point}{rest}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        );
    }
    if exponent < 0 {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        return format!("{sign}0.{zeros}{digits}");
    }
    let whole = exponent as usize + 1;
    if digits.len() <= whole {
        format!("{sign}{digits}{}", "0".repeat(whole - digits.len()))
    } else {
        let (int, frac) = digits.split_at(whole);
        format!("{sign}{int}.{frac}")
    }
}
