//! Parsing: every construct, precedence, escapes, stages, error positions and limits.

use super::{
    ast::{AttributePath, Column, Comparison, Field, Filter, Function, Level, Match, Regex, Term},
    parse, ColumnRef, SortKey, Stage, Stats,
};

fn filter(query: &str) -> Filter {
    match parse(query) {
        Ok(parsed) => parsed
            .filter
            .unwrap_or_else(|| panic!("no filter in {query:?}")),
        Err(error) => panic!("{query:?} did not parse: {error}"),
    }
}

fn error(query: &str) -> String {
    match parse(query) {
        Ok(parsed) => panic!("{query:?} parsed: {parsed:?}"),
        Err(error) => error.to_string(),
    }
}

fn text(t: &str) -> Filter {
    Filter::Term(Term::Text(t.to_owned()))
}

fn attribute(path: &str, matcher: Match<String>) -> Filter {
    let segments = path.split('.').map(str::to_owned).collect();
    Filter::Term(Term::Attribute(AttributePath { segments }, matcher))
}

fn column(column: Column, matcher: Match<String>) -> Filter {
    Filter::Term(Term::Column(column, matcher))
}

fn regex(pattern: &str, case_insensitive: bool) -> Regex {
    Regex {
        pattern: pattern.to_owned(),
        case_insensitive,
    }
}

fn not(f: Filter) -> Filter {
    Filter::Not(Box::new(f))
}

fn eq(v: &str) -> Match<String> {
    Match::Equals(v.to_owned())
}

#[test]
fn an_empty_query_matches_everything() {
    for query in ["", "   ", "\t\n"] {
        let parsed = parse(query).unwrap();
        assert_eq!(parsed.filter, None);
        assert!(parsed.stages.is_empty());
        assert!(!parsed.is_tabular());
    }
}

#[test]
fn words_phrases_and_regexes_search_the_message() {
    assert_eq!(filter("timeout"), text("timeout"));
    assert_eq!(filter("\"connection reset\""), text("connection reset"));
    assert_eq!(
        filter(r#""say \"hi\" to C:\\dir""#),
        text(r#"say "hi" to C:\dir"#)
    );
    assert_eq!(
        filter("/time(d|out)/"),
        Filter::Term(Term::Regex(regex("time(d|out)", false)))
    );
    assert_eq!(
        filter(r"/a\/b\d/i"),
        Filter::Term(Term::Regex(regex(r"a/b\d", true)))
    );
    // Words are literal: colons after a non-name, stars and percent signs.
    assert_eq!(filter("12:30:00"), text("12:30:00"));
    assert_eq!(filter("100%"), text("100%"));
    assert_eq!(filter("not"), text("not"));
}

#[test]
fn field_operators() {
    assert_eq!(filter("service:api"), column(Column::Service, eq("api")));
    assert_eq!(filter("host:\"web 1\""), column(Column::Host, eq("web 1")));
    assert_eq!(
        filter("service:!=api"),
        column(Column::Service, Match::NotEquals("api".to_owned()))
    );
    assert_eq!(filter("trace_id:*"), column(Column::TraceId, Match::Exists));
    assert_eq!(
        filter("host:web-*"),
        column(Column::Host, Match::Prefix("web-".to_owned()))
    );
    assert_eq!(filter("host:\"web-*\""), column(Column::Host, eq("web-*")));
    assert_eq!(
        filter("span_id:/^ab/"),
        column(Column::SpanId, Match::Regex(regex("^ab", false)))
    );
    assert_eq!(filter("message:boom"), column(Column::Message, eq("boom")));
    for (query, comparison) in [
        ("http.status:>500", Comparison::Greater),
        ("http.status:>=500", Comparison::GreaterOrEqual),
        ("http.status:<500", Comparison::Less),
        ("http.status:<=500", Comparison::LessOrEqual),
    ] {
        assert_eq!(
            filter(query),
            attribute("http.status", Match::Compare(comparison, "500".to_owned()))
        );
    }
    assert_eq!(filter("user.id:42"), attribute("user.id", eq("42")));
    assert_eq!(
        filter("duration_ms:>=-1.5e3"),
        attribute(
            "duration_ms",
            Match::Compare(Comparison::GreaterOrEqual, "-1.5e3".to_owned())
        )
    );
    assert_eq!(filter("a.b-c_d:*"), attribute("a.b-c_d", Match::Exists));
}

#[test]
fn levels_accept_names_aliases_and_numbers() {
    for (name, level) in [
        ("trace", Level::Trace),
        ("DEBUG", Level::Debug),
        ("Info", Level::Info),
        ("warn", Level::Warn),
        ("warning", Level::Warn),
        ("error", Level::Error),
        ("ERR", Level::Error),
        ("fatal", Level::Fatal),
        ("critical", Level::Fatal),
        ("5", Level::Error),
    ] {
        assert_eq!(
            filter(&format!("level:{name}")),
            Filter::Term(Term::Level(Match::Equals(level)))
        );
    }
    assert_eq!(
        filter("level:>=warn"),
        Filter::Term(Term::Level(Match::Compare(
            Comparison::GreaterOrEqual,
            Level::Warn
        )))
    );
    assert_eq!(
        filter("level:E*"),
        Filter::Term(Term::Level(Match::Prefix("e".to_owned())))
    );
}

#[test]
fn precedence_is_not_then_and_then_or() {
    assert_eq!(
        filter("a b OR c"),
        Filter::Or(vec![Filter::And(vec![text("a"), text("b")]), text("c")])
    );
    assert_eq!(
        filter("a AND b OR c AND d"),
        Filter::Or(vec![
            Filter::And(vec![text("a"), text("b")]),
            Filter::And(vec![text("c"), text("d")]),
        ])
    );
    assert_eq!(
        filter("a (b OR c)"),
        Filter::And(vec![text("a"), Filter::Or(vec![text("b"), text("c")])])
    );
    assert_eq!(
        filter("NOT a b"),
        Filter::And(vec![not(text("a")), text("b")])
    );
    assert_eq!(
        filter("NOT (a OR b)"),
        not(Filter::Or(vec![text("a"), text("b")]))
    );
    assert_eq!(
        filter("-service:api -\"x y\""),
        Filter::And(vec![
            not(column(Column::Service, eq("api"))),
            not(text("x y"))
        ])
    );
    assert_eq!(filter("NOT NOT a"), not(not(text("a"))));
    assert_eq!(filter("((a))"), text("a"));
    // Keywords are upper case; lower case they are words.
    assert_eq!(
        filter("a or b"),
        Filter::And(vec![text("a"), text("or"), text("b")])
    );
}

#[test]
fn stages_parse() {
    let query = "level:error | stats count(), p95( duration_ms ), count_distinct(user.id) by \
                 service, host every 5m | sort -count, host | limit 20 | fields service, count()";
    let parsed = parse(query).unwrap();
    // Character offsets (the query is ASCII, so byte offsets are the same).
    let offset = |needle: &str| query.find(needle).unwrap();
    assert!(parsed.is_tabular());
    let path = |p: &str| {
        Field::Attribute(AttributePath {
            segments: p.split('.').map(str::to_owned).collect(),
        })
    };
    let stats = Stats {
        aggregations: vec![
            super::Aggregation {
                function: Function::Count,
                field: None,
            },
            super::Aggregation {
                function: Function::P95,
                field: Some(path("duration_ms")),
            },
            super::Aggregation {
                function: Function::CountDistinct,
                field: Some(path("user.id")),
            },
        ],
        by: vec![Field::Column(Column::Service), Field::Column(Column::Host)],
        every: Some(300),
    };
    let at = |name: &str, position: usize| ColumnRef {
        name: name.to_owned(),
        position,
    };
    assert_eq!(
        parsed.stages,
        vec![
            Stage::Stats(stats),
            Stage::Sort(vec![
                SortKey {
                    column: at("count", offset("count, host")),
                    descending: true
                },
                SortKey {
                    column: at("host", offset("host | limit")),
                    descending: false
                },
            ]),
            Stage::Limit(20),
            Stage::Fields(vec![
                at("service", offset("service, count()")),
                at("count()", query.rfind("count()").unwrap())
            ]),
        ]
    );
    let every = |d: &str| match parse(&format!("| stats count() every {d}")).unwrap().stages[0] {
        Stage::Stats(ref s) => s.every,
        _ => None,
    };
    assert_eq!(every("30s"), Some(30));
    assert_eq!(every("1h"), Some(3600));
    assert_eq!(every("1d"), Some(86_400));
    assert_eq!(
        parse("| stats avg(level), min(ts) | sort -avg(level)")
            .unwrap()
            .stages
            .len(),
        2
    );
}

#[test]
fn errors_point_at_the_problem() {
    let mut wrong = Vec::new();
    for (query, expected) in [
        (
            "level:error service:",
            "at 20: expected a value after \"service:\", found end of query",
        ),
        (
            "service: api",
            "at 8: expected a value after \"service:\", found a space",
        ),
        (
            "http.status:>= 5",
            "at 14: expected a value after \"http.status:>=\", found a space",
        ),
        (
            "http.status:>=abc",
            "at 14: expected a number after \"http.status:>=\", found \"abc\"",
        ),
        ("(a OR b", "at 7: expected \")\" to close the \"(\" at 0 (unbalanced parentheses), found end of query"),
        ("a OR b)", "at 6: unbalanced parentheses: this \")\" closes nothing"),
        ("a \"bc", "at 2: unbalanced quotes: this \" is never closed"),
        ("a OR", "at 4: expected a term after \"OR\", found end of query"),
        ("NOT", "at 3: expected a term after \"NOT\", found end of query"),
        ("a - b", "at 3: expected a term right after \"-\", found a space"),
        ("()", "at 1: expected a term inside the parentheses, found \")\""),
        ("//", "at 0: empty regex: write a pattern between the slashes"),
        ("msg /ab", "at 4: unterminated regex: expected a closing \"/\""),
        ("/a(b/", "at 0: invalid regex: unbalanced parentheses: a \"(\" is never closed"),
        ("/[ab/", "at 0: invalid regex: unbalanced brackets: a \"[\" is never closed"),
        ("/*a/", "at 0: invalid regex: \"*\" has nothing to repeat"),
        ("level:loud", "at 6: unknown level \"loud\": expected trace, debug, info, warn, error or fatal (or 1 to 6)"),
        ("a..b:1", "at 0: \"a..b\" has an empty path segment"),
        ("ts:1", "at 0: \"ts\" can't be filtered in the query: pick the time range instead"),
        ("a | stat count()", "at 4: unknown stage \"stat\": expected stats, sort, limit or fields"),
        ("a |", "at 3: expected a stage (stats, sort, limit or fields) after \"|\", found end of query"),
        ("| stats counts()", "at 8: unknown function \"counts\": expected count, count_distinct, sum, avg, min, max, p50, p90, p95 or p99"),
        ("| stats count() by", "at 18: expected a field after \"by\", found end of query"),
        ("| stats count() by host,", "at 24: expected a field after \",\", found end of query"),
        ("| stats count() every", "at 21: expected a duration after \"every\" like 30s, 5m, 1h or 1d, found end of stage"),
        ("| stats count() every 5w", "at 22: expected a duration after \"every\" like 30s, 5m, 1h or 1d, found \"5w\""),
        ("| stats count(host)", "at 14: count() takes no field: use count_distinct(field) to count values"),
        ("| stats sum()", "at 12: sum() needs a field, e.g. sum(duration_ms)"),
        ("| stats avg(service)", "at 12: avg() needs numbers: use level or an attribute, not \"service\""),
        ("| stats count(", "at 14: expected \")\" to close \"count(\", found end of query"),
        ("| stats count() | stats count()", "at 18: a query has at most one stats stage"),
        ("| stats count() by host | sort -nope", "at 32: no column \"nope\" after stats: the columns are host, count()"),
        ("| limit ten", "at 8: expected a number of rows after \"limit\", found \"ten\""),
        ("| limit 0", "at 8: limit must be at least 1"),
        ("| sort", "at 6: expected a field after \"sort\", found end of query"),
        ("| fields host x", "at 14: expected \"|\" or end of query after the stage, found \"x\""),
        ("\"a\"b", "at 3: expected a space after the phrase, found \"b\""),
    ] {
        let got = error(query);
        if got != expected {
            wrong.push(format!("{query}\n  got:  {got}\n  want: {expected}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn limits_are_enforced() {
    let long = "a".repeat(4097);
    assert_eq!(
        error(&long),
        "at 4096: the query is 4097 characters long: the limit is 4096"
    );
    assert!(parse(&"a".repeat(4096)).is_ok());

    let terms = ["x"; 65].join(" ");
    assert_eq!(
        error(&terms),
        "at 128: too many terms: a query has at most 64"
    );
    assert!(parse(&["x"; 64].join(" ")).is_ok());

    let aggregations = ["count()"; 11].join(", ");
    assert_eq!(
        error(&format!("| stats {aggregations}")),
        "at 98: too many aggregations: a stats stage has at most 10"
    );
    assert!(parse(&format!("| stats {}", ["count()"; 10].join(", "))).is_ok());

    assert_eq!(
        error("| limit 10001"),
        "at 8: limit 10001 is too large: the limit is 10000"
    );
    assert!(parse("| limit 10000").is_ok());
    assert!(parse("| limit 99999999999999999999").is_err());

    let regex = "a".repeat(513);
    assert_eq!(
        error(&format!("/{regex}/")),
        "at 0: the regex is 513 characters long: the limit is 512"
    );
    assert!(parse(&format!("/{}/", "a".repeat(512))).is_ok());

    let deep = ["a"; 11].join(".");
    assert_eq!(
        error(&format!("{deep}:1")),
        format!("at 0: \"{deep}\" has 11 path segments: the limit is 10")
    );
    let stages = ["| limit 5"; 17].join(" ");
    assert_eq!(
        error(&stages),
        "at 160: too many stages: a query has at most 16"
    );
}

#[test]
fn regex_checks_accept_common_patterns() {
    for pattern in [
        r"^GET /api/v[0-9]+",
        r"[[:digit:]]{3}",
        r"(?:a|b)+?c",
        r"[]a]",
        r"\d+\.\d*",
        r"x{2,}",
        "(a|)",
    ] {
        assert!(super::pattern::check(pattern).is_ok(), "{pattern}");
    }
    for pattern in [r"a\", "a)", "a**", "x{", "x{a}", "[[:alpha]"] {
        assert!(super::pattern::check(pattern).is_err(), "{pattern}");
    }
}

#[test]
fn numbers_are_what_numeric_accepts() {
    for good in ["1", "-1", "+1.5", "1.", ".5", "1e3", "2.5E-10"] {
        assert!(super::filter::is_number(good), "{good}");
    }
    for bad in [
        "", "-", ".", "1e", "1e1234", "NaN", "inf", "0x10", "1,5", "1.2.3",
    ] {
        assert!(!super::filter::is_number(bad), "{bad}");
    }
}

#[test]
fn arbitrary_input_never_panics() {
    // A deterministic stream of queries made of the characters that matter.
    let alphabet: Vec<char> = "ab:\"/\\()|-*!<>=, .é5ORNTAD\tlevelstatsby"
        .chars()
        .collect();
    let mut seed: u64 = 42;
    let scope = super::Scope {
        project_id: 1,
        from: chrono::DateTime::UNIX_EPOCH,
        to: chrono::DateTime::UNIX_EPOCH,
    };
    for _ in 0..20_000 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let length = (seed >> 58) as usize;
        let mut query = String::new();
        let mut s = seed;
        for _ in 0..length {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            query.push(alphabet[(s >> 33) as usize % alphabet.len()]);
        }
        match parse(&query) {
            Ok(parsed) => {
                super::tabular_sql(&parsed, &scope).unwrap();
            }
            Err(error) => assert!(error.position <= query.chars().count(), "{query}: {error}"),
        }
    }
}
