//! Parser for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0
//! text format, as scraped from `/metrics` endpoints or pushed to us.
//!
//! Hand-written rather than a dependency: the existing crates either parse
//! only 0.0.4 (`prometheus-parse`, regex-based, drops bad lines silently) or
//! fail a whole document on one bad line and panic-prone `unwrap`s on
//! malformed input (`openmetrics-parser`, which is also LGPL-3.0).
//!
//! The parser works line by line and never panics: a bad line becomes one
//! `"line N: ..."` entry in [`Parsed::errors`] and every good line is kept,
//! so one broken exporter line does not lose a whole scrape.
//!
//! Family names differ between the formats: a 0.0.4 `# TYPE x_total
//! counter` names the series itself, an OpenMetrics `# TYPE x counter` names
//! the family whose series are `x_total` and `x_created`. OpenMetrics
//! `_created` lines (creation time in seconds) are returned as ordinary
//! samples, as Prometheus did before its created-timestamp feature; callers
//! that do not want those series can drop them by name.
//!
//! Deliberate leniencies (both formats): blank lines, `\r\n` line ends,
//! leading/trailing/repeated blanks between tokens, a trailing comma in a
//! label set, and plain `# comment` lines are accepted. Things that change the
//! meaning of data (bad names, duplicate labels, unparsable numbers, a
//! histogram bucket without `le`) are errors.

use std::collections::HashMap;

/// Which text format a body is in; decides timestamp units, `# UNIT`,
/// exemplars and the `# EOF` terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`: timestamps are integer milliseconds.
    Text004,
    /// `application/openmetrics-text`: timestamps are float seconds, body
    /// must end with `# EOF`, samples may carry exemplars.
    OpenMetrics,
}

impl Format {
    /// Picks the format from a `Content-Type` header. Anything that is not
    /// OpenMetrics (including a missing header) is read as 0.0.4, which is
    /// what Prometheus does for unknown types too.
    pub fn from_content_type(content_type: Option<&str>) -> Self {
        let media = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("application/openmetrics-text") => Self::OpenMetrics,
            _ => Self::Text004,
        }
    }
}

/// A metric family's type from its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    /// OpenMetrics `unknown`, 0.0.4 `untyped`, or no `# TYPE` line yet.
    Unknown,
}

impl Kind {
    /// The type's name as Prometheus's metadata API spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::GaugeHistogram => "gaugehistogram",
            Self::Summary => "summary",
            Self::Info => "info",
            Self::StateSet => "stateset",
            Self::Unknown => "unknown",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "counter" => Self::Counter,
            "gauge" => Self::Gauge,
            "histogram" => Self::Histogram,
            "gaugehistogram" => Self::GaugeHistogram,
            "summary" => Self::Summary,
            "info" => Self::Info,
            "stateset" => Self::StateSet,
            "unknown" | "untyped" => Self::Unknown,
            _ => return None,
        })
    }
}

/// Metadata of one metric family, from its `# HELP`, `# TYPE` and
/// `# UNIT` lines (families without any such line are not listed).
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family name as written in the metadata, e.g. `foo` for an
    /// OpenMetrics counter whose samples are `foo_total`.
    pub name: String,
    pub kind: Kind,
    /// Unescaped help text; empty when there was no `# HELP`.
    pub help: String,
    /// OpenMetrics unit; empty when absent (always in 0.0.4).
    pub unit: String,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedSample {
    /// Full series name, e.g. `foo_bucket`.
    pub name: String,
    /// Sorted by name, without `__name__`. Labels with an empty value are
    /// dropped: Prometheus treats `a=""` as "no label a", so keeping them
    /// would split one series into two.
    pub labels: Vec<(String, String)>,
    pub value: f64,
    /// Milliseconds since the epoch, converted from seconds for OpenMetrics.
    pub timestamp_ms: Option<i64>,
}

/// Everything read from one body. Good lines are kept even when others fail.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub families: Vec<Family>,
    pub samples: Vec<ParsedSample>,
    /// One `"line N: message"` per rejected line (1-based).
    pub errors: Vec<String>,
}

/// Parses a whole exposition body.
pub fn parse(text: &str, format: Format) -> Parsed {
    let mut p = Parser {
        format,
        out: Parsed::default(),
        by_name: HashMap::new(),
        seen: Vec::new(),
        eof: false,
    };
    let mut last = 0;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if !line.trim().is_empty() {
            last = i + 1;
        }
        if let Err(msg) = p.line(line) {
            p.out.errors.push(format!("line {}: {msg}", i + 1));
        }
    }
    if format == Format::OpenMetrics && !p.eof {
        p.out.errors.push(format!(
            "line {}: missing \"# EOF\" at end of OpenMetrics body",
            last.max(1)
        ));
    }
    p.out
}

/// Which metadata lines a family already had, to reject duplicates.
#[derive(Default, Clone, Copy)]
struct Seen {
    help: bool,
    kind: bool,
    unit: bool,
}

struct Parser {
    format: Format,
    out: Parsed,
    /// Family name → index in `out.families`.
    by_name: HashMap<String, usize>,
    seen: Vec<Seen>,
    eof: bool,
}

const BLANKS: [char; 2] = [' ', '\t'];

type Labels = Vec<(String, String)>;

impl Parser {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let line = line.trim_matches(BLANKS);
        if self.eof {
            return if line.is_empty() {
                Ok(())
            } else {
                Err("content after \"# EOF\"".into())
            };
        }
        if line.is_empty() {
            return Ok(());
        }
        match line.strip_prefix('#') {
            Some(rest) => self.comment(rest),
            None => self.sample(line),
        }
    }

    /// A `#` line: metadata, `# EOF`, or a plain comment (ignored).
    fn comment(&mut self, rest: &str) -> Result<(), String> {
        if !rest.starts_with(BLANKS) {
            return Ok(());
        }
        let rest = rest.trim_start_matches(BLANKS);
        let (keyword, rest) = split_token(rest);
        let om = self.format == Format::OpenMetrics;
        match keyword {
            "EOF" if om => {
                if !rest.is_empty() {
                    return Err("unexpected text after \"# EOF\"".into());
                }
                self.eof = true;
                return Ok(());
            }
            "HELP" | "TYPE" => {}
            "UNIT" if om => {}
            // Any other comment, including `# UNIT` in 0.0.4, which
            // Prometheus also treats as a comment there.
            _ => return Ok(()),
        }
        let (name, rest) = split_token(rest);
        if name.is_empty() {
            return Err(format!("{keyword} without a metric name"));
        }
        check_metric_name(name)?;
        let idx = self.family(name);
        let seen = &mut self.seen[idx];
        let fam = &mut self.out.families[idx];
        match keyword {
            "HELP" => {
                if std::mem::replace(&mut seen.help, true) {
                    return Err(format!("second HELP for {name}"));
                }
                fam.help = unescape_help(rest, om);
            }
            "TYPE" => {
                if std::mem::replace(&mut seen.kind, true) {
                    return Err(format!("second TYPE for {name}"));
                }
                let (kind, extra) = split_token(rest);
                if !extra.is_empty() {
                    return Err(format!("unexpected text after TYPE {kind}"));
                }
                fam.kind =
                    Kind::parse(kind).ok_or_else(|| format!("unknown metric type {kind:?}"))?;
            }
            _ => {
                if std::mem::replace(&mut seen.unit, true) {
                    return Err(format!("second UNIT for {name}"));
                }
                let (unit, extra) = split_token(rest);
                if !extra.is_empty() {
                    return Err("unexpected text after UNIT".into());
                }
                // OpenMetrics requires the unit to be the name's suffix.
                if !unit.is_empty() && !name.strip_suffix(unit).is_some_and(|s| s.ends_with('_')) {
                    return Err(format!("unit {unit:?} is not a suffix of {name}"));
                }
                fam.unit = unit.to_string();
            }
        }
        Ok(())
    }

    /// Index of the family `name`, created (as Unknown) on first mention.
    fn family(&mut self, name: &str) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let i = self.out.families.len();
        self.out.families.push(Family {
            name: name.to_string(),
            kind: Kind::Unknown,
            help: String::new(),
            unit: String::new(),
        });
        self.seen.push(Seen::default());
        self.by_name.insert(name.to_string(), i);
        i
    }

    fn sample(&mut self, line: &str) -> Result<(), String> {
        let name_len = line
            .find(|c: char| !is_metric_name_char(c))
            .unwrap_or(line.len());
        let (name, rest) = line.split_at(name_len);
        if name.is_empty() {
            return Err(if line.starts_with('{') {
                "quoted (UTF-8) metric names are not supported".into()
            } else {
                format!("invalid metric name at {}", describe(line))
            });
        }
        check_metric_name(name)?;

        let (mut labels, rest) = match rest.strip_prefix('{') {
            Some(inner) => parse_labels(inner)?,
            None => (Vec::new(), rest),
        };
        if !rest.is_empty() && !rest.starts_with(BLANKS) {
            return Err(format!("unexpected {} after metric name", describe(rest)));
        }

        let mut rest = rest;
        if self.format == Format::OpenMetrics {
            // ` # {labels} value [ts]`: exemplars are not stored. Value and
            // timestamp never contain '#', and label values are already
            // consumed, so the first '#' starts the exemplar.
            if let Some(i) = rest.find('#') {
                if !rest[..i].ends_with(' ') {
                    return Err("exemplar must be preceded by a space".into());
                }
                rest = &rest[..i];
            }
        }
        let mut tokens = rest.split(BLANKS).filter(|t| !t.is_empty());
        let value = tokens.next().ok_or("missing value")?;
        let value = parse_float(value).ok_or_else(|| format!("invalid value {value:?}"))?;
        let timestamp_ms = match tokens.next() {
            None => None,
            Some(ts) => Some(match self.format {
                Format::Text004 => ts
                    .parse::<i64>()
                    .map_err(|_| format!("invalid timestamp {ts:?} (want integer ms)"))?,
                Format::OpenMetrics => seconds_to_ms(ts)
                    .ok_or_else(|| format!("invalid timestamp {ts:?} (want seconds)"))?,
            }),
        };
        if let Some(extra) = tokens.next() {
            return Err(format!("unexpected {extra:?} after value and timestamp"));
        }

        self.check_against_family(name, &labels)?;
        labels.retain(|(_, v)| !v.is_empty());
        self.out.samples.push(ParsedSample {
            name: name.to_string(),
            labels,
            value,
            timestamp_ms,
        });
        Ok(())
    }

    /// The family-specific label rules that would otherwise silently
    /// produce wrong series: buckets need `le`, quantiles need `quantile`.
    fn check_against_family(&self, name: &str, labels: &[(String, String)]) -> Result<(), String> {
        let find = |n: &str| self.by_name.get(n).map(|&i| self.out.families[i].kind);
        let label = |l: &str| labels.iter().find(|(k, _)| k == l).map(|(_, v)| v.as_str());
        if let Some(base) = name.strip_suffix("_bucket") {
            if matches!(find(base), Some(Kind::Histogram | Kind::GaugeHistogram)) {
                let le = label("le").ok_or("histogram bucket without \"le\" label")?;
                parse_float(le).ok_or_else(|| format!("invalid \"le\" value {le:?}"))?;
            }
        }
        if find(name) == Some(Kind::Summary) {
            let q = label("quantile").ok_or("summary quantile without \"quantile\" label")?;
            parse_float(q).ok_or_else(|| format!("invalid \"quantile\" value {q:?}"))?;
        }
        Ok(())
    }
}

/// Parses `name="value",...}` (the opening brace already consumed) and
/// returns the sorted labels and the text after `}`.
fn parse_labels(mut s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Labels::new();
    loop {
        s = s.trim_start_matches(BLANKS);
        if let Some(rest) = s.strip_prefix('}') {
            s = rest;
            break;
        }
        let len = s.find(|c: char| !is_label_name_char(c)).unwrap_or(s.len());
        let (name, rest) = s.split_at(len);
        if name.is_empty() {
            return Err(match first_char(s) {
                None => "unterminated label set".into(),
                Some('"') => "quoted (UTF-8) label names are not supported".into(),
                Some(c) => format!("expected label name, found {c:?}"),
            });
        }
        check_label_name(name)?;
        let rest = rest.trim_start_matches(BLANKS);
        let rest = rest
            .strip_prefix('=')
            .ok_or_else(|| format!("expected '=' after label {name}"))?;
        let rest = rest.trim_start_matches(BLANKS);
        let rest = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("label {name}: value must be double-quoted"))?;
        let (value, rest) =
            parse_label_value(rest).ok_or_else(|| format!("label {name}: unterminated value"))?;
        if name == "__name__" {
            return Err("label __name__ is not allowed in exposition".into());
        }
        labels.push((name.to_string(), value));
        s = rest.trim_start_matches(BLANKS);
        if let Some(rest) = s.strip_prefix(',') {
            s = rest;
        } else if !s.starts_with('}') {
            return Err(match first_char(s) {
                None => "unterminated label set".into(),
                Some(c) => format!("expected ',' or '}}' after label {name}, found {c:?}"),
            });
        }
    }
    // Duplicates are found after sorting so that a line with very many
    // labels costs O(n log n), not O(n²).
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = labels.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!("duplicate label {}", pair[0].0));
    }
    Ok((labels, s))
}

/// Reads a label value up to its closing quote, resolving `\\`, `\"` and
/// `\n`. Other escapes are kept verbatim, as Prometheus does. `None` when
/// the closing quote is missing.
fn parse_label_value(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            c => out.push(c),
        }
    }
    None
}

/// HELP escapes: `\\` and `\n` in 0.0.4; OpenMetrics adds `\"`.
fn unescape_help(s: &str, om: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') if om => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits off the first blank-separated token; the rest has its leading
/// blanks removed.
fn split_token(s: &str) -> (&str, &str) {
    match s.find(BLANKS) {
        Some(i) => (&s[..i], s[i..].trim_start_matches(BLANKS)),
        None => (s, ""),
    }
}

fn first_char(s: &str) -> Option<char> {
    s.chars().next()
}

/// The next character, quoted, for error messages.
fn describe(s: &str) -> String {
    first_char(s).map_or_else(|| "end of line".into(), |c| format!("{c:?}"))
}

fn is_metric_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

fn is_label_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
fn check_metric_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {}
        _ => return Err(format!("invalid metric name {name:?}")),
    }
    if chars.all(is_metric_name_char) {
        Ok(())
    } else {
        Err(format!("invalid metric name {name:?}"))
    }
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return Err(format!("invalid label name {name:?}")),
    }
    if chars.all(is_label_name_char) {
        Ok(())
    } else {
        Err(format!("invalid label name {name:?}"))
    }
}

/// A sample value: decimal/exponent floats plus `NaN`, `+Inf`, `-Inf`
/// (any case, as Go's `ParseFloat` allows; also `Infinity`). A parsed NaN
/// is always the canonical quiet NaN, never the staleness-marker bits.
fn parse_float(s: &str) -> Option<f64> {
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let v = s.parse::<f64>().ok()?;
    // `1e400` overflows to Inf in Rust but is a range error in Go, where
    // Prometheus rejects the line; only a spelled-out Inf may be infinite.
    if v.is_infinite() && !s.bytes().any(|b| b == b'i' || b == b'I') {
        return None;
    }
    Some(v)
}

/// OpenMetrics timestamps are seconds, possibly fractional. Plain decimals
/// are converted exactly (rounding to the nearest ms, half away from zero);
/// a float round-trip would turn `1520879607.789` into `…788`.
fn seconds_to_ms(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !plain {
        // Exponent forms like `1.5e9`.
        let secs = parse_float(s)?;
        let ms = (secs * 1000.0).round();
        // i64::MAX as f64 rounds up to 2^63, so compare with `<`.
        return (ms.is_finite() && ms >= i64::MIN as f64 && ms < i64::MAX as f64)
            .then_some(ms as i64);
    }
    let mut ms = int.parse::<i64>().ok()?.checked_mul(1000)?;
    let f = frac.as_bytes();
    for k in 0..3 {
        let d = f.get(k).map_or(0, |b| i64::from(b - b'0'));
        ms = ms.checked_add(d * 10i64.pow(2 - k as u32))?;
    }
    if f.get(3).is_some_and(|&b| b >= b'5') {
        ms = ms.checked_add(1)?;
    }
    Some(if neg { -ms } else { ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lbl(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn find<'a>(p: &'a Parsed, name: &str, labels: &[(&str, &str)]) -> &'a ParsedSample {
        let want = lbl(labels);
        p.samples
            .iter()
            .find(|s| s.name == name && s.labels == want)
            .unwrap_or_else(|| panic!("no sample {name} {labels:?} in {:#?}", p.samples))
    }

    #[test]
    fn content_type() {
        use Format::*;
        assert_eq!(Format::from_content_type(None), Text004);
        assert_eq!(
            Format::from_content_type(Some("text/plain; version=0.0.4; charset=utf-8")),
            Text004
        );
        assert_eq!(
            Format::from_content_type(Some(
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            )),
            OpenMetrics
        );
        assert_eq!(
            Format::from_content_type(Some(" Application/OpenMetrics-Text ")),
            OpenMetrics
        );
        assert_eq!(Format::from_content_type(Some("application/json")), Text004);
    }

    const NODE: &str = r#"# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.1e-05
go_gc_duration_seconds{quantile="0.5"} 3.6e-05
go_gc_duration_seconds{quantile="1"} 0.000623
go_gc_duration_seconds_sum 0.018
go_gc_duration_seconds_count 412
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 123456.78
node_cpu_seconds_total{mode="user",cpu="0"} 2345.6
# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1.2345e+10
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# A plain comment is ignored.
# HELP node_scrape_collector_success node_exporter: Whether a collector succeeded.\nSecond line \\ done
# TYPE node_scrape_collector_success gauge
node_scrape_collector_success{collector="arp"} 1 1395066363000
node_load1 NaN
weird_values{kind="pinf"} +Inf
weird_values{kind="ninf"} -Inf
"#;

    #[test]
    fn node_exporter_text_004() {
        let p = parse(NODE, Format::Text004);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.samples.len(), 17);
        assert_eq!(p.families.len(), 5);
        let f = &p.families[0];
        assert_eq!(
            (f.name.as_str(), f.kind),
            ("go_gc_duration_seconds", Kind::Summary)
        );
        assert_eq!(p.families[3].kind, Kind::Histogram);
        assert_eq!(
            p.families[4].help,
            "node_exporter: Whether a collector succeeded.\nSecond line \\ done"
        );
        assert_eq!(
            find(&p, "go_gc_duration_seconds", &[("quantile", "0.5")]).value,
            3.6e-05
        );
        assert_eq!(find(&p, "go_gc_duration_seconds_count", &[]).value, 412.0);
        // Labels come back sorted whatever their order on the line.
        assert_eq!(
            find(
                &p,
                "node_cpu_seconds_total",
                &[("cpu", "0"), ("mode", "user")]
            )
            .value,
            2345.6
        );
        let b = find(
            &p,
            "http_request_duration_seconds_bucket",
            &[("le", "+Inf")],
        );
        assert_eq!(b.value, 144320.0);
        assert_eq!(b.timestamp_ms, None);
        let s = find(&p, "node_scrape_collector_success", &[("collector", "arp")]);
        assert_eq!(s.timestamp_ms, Some(1_395_066_363_000));
        assert!(find(&p, "node_load1", &[]).value.is_nan());
        assert_eq!(
            find(&p, "weird_values", &[("kind", "pinf")]).value,
            f64::INFINITY
        );
        assert_eq!(
            find(&p, "weird_values", &[("kind", "ninf")]).value,
            f64::NEG_INFINITY
        );
    }

    #[test]
    fn openmetrics_counter_created_exemplar() {
        let body = "# TYPE acme_http_requests counter\n\
# UNIT acme_http_requests requests\n\
# HELP acme_http_requests Requests, \\\"quoted\\\".\n\
acme_http_requests_total{path=\"/api\",code=\"200\"} 1027 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67 1520879602.5\n\
acme_http_requests_created{path=\"/api\",code=\"200\"} 1520430000.123\n\
# TYPE acme_latency_seconds histogram\n\
# UNIT acme_latency_seconds seconds\n\
acme_latency_seconds_bucket{le=\"0.1\"} 8 # {trace_id=\"a#b\"} 0.05\n\
acme_latency_seconds_bucket{le=\"+Inf\"} 17\n\
acme_latency_seconds_count 17\n\
acme_latency_seconds_sum 324.789\n\
acme_latency_seconds_created 1520430000\n\
# TYPE build info\n\
build_info{version=\"1.2\"} 1\n\
# TYPE door stateset\n\
door{door=\"open\"} 1\n\
door{door=\"closed\"} 0\n\
# EOF\n";
        let p = parse(body, Format::OpenMetrics);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let f = &p.families[0];
        assert_eq!(f.name, "acme_http_requests");
        assert_eq!(f.kind, Kind::Counter);
        assert_eq!(f.unit, "requests");
        assert_eq!(f.help, "Requests, \"quoted\".");
        assert_eq!(p.families[1].unit, "seconds");
        assert_eq!(p.families[2].kind, Kind::Info);
        assert_eq!(p.families[3].kind, Kind::StateSet);
        let s = find(
            &p,
            "acme_http_requests_total",
            &[("code", "200"), ("path", "/api")],
        );
        assert_eq!(s.value, 1027.0);
        assert_eq!(s.timestamp_ms, Some(1_520_879_607_789));
        let c = find(
            &p,
            "acme_http_requests_created",
            &[("code", "200"), ("path", "/api")],
        );
        assert_eq!(c.value, 1_520_430_000.123);
        assert_eq!(c.timestamp_ms, None);
        assert_eq!(
            find(&p, "acme_latency_seconds_bucket", &[("le", "0.1")]).value,
            8.0
        );
        assert_eq!(find(&p, "door", &[("door", "closed")]).value, 0.0);
        assert_eq!(p.samples.len(), 10);
    }

    #[test]
    fn openmetrics_eof_rules() {
        let p = parse("a_total 1\n", Format::OpenMetrics);
        assert_eq!(p.samples.len(), 1);
        assert_eq!(
            p.errors,
            vec!["line 1: missing \"# EOF\" at end of OpenMetrics body"]
        );
        let p = parse("a 1\n# EOF\nb 2\n", Format::OpenMetrics);
        assert_eq!(p.samples.len(), 1);
        assert_eq!(p.errors, vec!["line 3: content after \"# EOF\""]);
        // In 0.0.4, "# EOF" is just a comment.
        let p = parse("a 1\n# EOF\nb 2\n", Format::Text004);
        assert_eq!((p.samples.len(), p.errors.len()), (2, 0));
    }

    #[test]
    fn timestamps_per_format() {
        let p = parse("a 1 -5\nb 1 1.5\n", Format::Text004);
        assert_eq!(p.samples[0].timestamp_ms, Some(-5));
        assert_eq!(
            p.errors,
            vec!["line 2: invalid timestamp \"1.5\" (want integer ms)"]
        );
        let p = parse(
            "a 1 1.5\nb 1 1700000000\nc 1 1.5e3\nd 1 0.0004\ne 1 -1.0005\nf 1 NaN\n# EOF\n",
            Format::OpenMetrics,
        );
        let ts: Vec<_> = p.samples.iter().map(|s| s.timestamp_ms).collect();
        assert_eq!(
            ts,
            vec![
                Some(1500),
                Some(1_700_000_000_000),
                Some(1_500_000),
                Some(0),
                Some(-1001)
            ]
        );
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].starts_with("line 6: invalid timestamp"));
    }

    #[test]
    fn label_escapes_and_leniency() {
        let body =
            "m{a=\"x\\\\y\",b=\"say \\\"hi\\\"\",c=\"l1\\nl2\",d=\"odd\\t\", e = \"{}#,=\" ,} 1\n\
                    m{empty=\"\"} 2\n\
                    m{} 3\r\n\
                    \t  m   4   5  \n";
        let p = parse(body, Format::Text004);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(
            p.samples[0].labels,
            lbl(&[
                ("a", "x\\y"),
                ("b", "say \"hi\""),
                ("c", "l1\nl2"),
                ("d", "odd\\t"),
                ("e", "{}#,="),
            ])
        );
        assert!(
            p.samples[1].labels.is_empty(),
            "empty label value is dropped"
        );
        assert!(p.samples[2].labels.is_empty());
        assert_eq!(
            (p.samples[3].value, p.samples[3].timestamp_ms),
            (4.0, Some(5))
        );
        // UTF-8 label values pass through.
        let p = parse("m{city=\"Zürich ☃\"} 1\n", Format::Text004);
        assert_eq!(p.samples[0].labels, lbl(&[("city", "Zürich ☃")]));
    }

    #[test]
    fn bad_lines_are_reported_and_good_ones_kept() {
        let body = "good 1\n\
                    bad{a=\"1\",a=\"2\"} 1\n\
                    9lives 1\n\
                    m{0a=\"x\"} 1\n\
                    m{a=\"unterminated} 1\n\
                    m{a=x} 1\n\
                    m{a=\"1\"\n\
                    m{__name__=\"x\"} 1\n\
                    m-dash 1\n\
                    m\n\
                    m abc\n\
                    m 1 2 3\n\
                    {\"utf8.name\"} 1\n\
                    # TYPE m nonsense\n\
                    # TYPE 1m gauge\n\
                    # HELP m first\n\
                    # HELP m second\n\
                    m{a=\"1\"}x 1\n\
                    m 1e400\n\
                    also_good{z=\"1\",y=\"2\"} 2 # not an exemplar in 0.0.4\n\
                    also_good{z=\"1\",y=\"2\"} 2\n";
        let p = parse(body, Format::Text004);
        assert_eq!(p.samples.len(), 2, "{:?}", p.errors);
        assert_eq!(p.samples[0].name, "good");
        assert_eq!(p.samples[1].labels, lbl(&[("y", "2"), ("z", "1")]));
        let lines: Vec<&str> = p
            .errors
            .iter()
            .map(|e| e.split(':').next().unwrap_or(""))
            .collect();
        let want: Vec<String> = (2..=20)
            .filter(|n| *n != 16)
            .map(|n| format!("line {n}"))
            .collect();
        assert_eq!(lines, want, "{:#?}", p.errors);
        assert_eq!(p.errors[0], "line 2: duplicate label a");
        assert!(p.errors.iter().all(|e| e.len() < 200));
    }

    #[test]
    fn many_labels_are_cheap() {
        let mut line = String::from("m{");
        for i in 0..50_000 {
            line.push_str(&format!("l{i}=\"v\","));
        }
        line.push_str("} 1\n");
        let p = parse(&line, Format::Text004);
        assert_eq!(p.samples[0].labels.len(), 50_000);
        let p = parse(&line.replace("l49999=", "l7="), Format::Text004);
        assert_eq!(p.errors, vec!["line 1: duplicate label l7"]);
    }

    #[test]
    fn family_rules() {
        let body = "# TYPE h histogram\n\
                    h_bucket{le=\"1\"} 1\n\
                    h_bucket 2\n\
                    h_bucket{le=\"x\"} 2\n\
                    h_sum 3\n\
                    # TYPE s summary\n\
                    s 1\n\
                    s{quantile=\"0.9\"} 1\n\
                    # UNIT h seconds\n\
                    # TYPE h gauge\n\
                    # EOF";
        let p = parse(body, Format::OpenMetrics);
        assert_eq!(p.samples.len(), 3);
        assert_eq!(
            p.errors,
            vec![
                "line 3: histogram bucket without \"le\" label",
                "line 4: invalid \"le\" value \"x\"",
                "line 7: summary quantile without \"quantile\" label",
                "line 9: unit \"seconds\" is not a suffix of h",
                "line 10: second TYPE for h",
            ]
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let alphabet: Vec<char> = "ab_:{}=\",# \\\n\t.e+-019InfNa\r\u{e9}\u{2603}"
            .chars()
            .collect();
        for _ in 0..3000 {
            let len = (x % 80) as usize;
            let mut s = String::new();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            for f in [Format::Text004, Format::OpenMetrics] {
                let p = parse(&s, f);
                assert!(p.errors.iter().all(|e| e.starts_with("line ")));
            }
        }
    }
}
