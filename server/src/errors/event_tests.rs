//! Normalisation of events as the Rust, Python and JavaScript SDKs send them, and
//! of the odd shapes SDKs and hand-written clients produce.

use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::errors::sdk_payloads::{javascript, python_chained, rust_capture_error, rust_frames};

fn received() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn read(value: Value) -> ErrorEvent {
    ErrorEvent::from_sentry(value, received()).unwrap()
}

fn tag<'e>(event: &'e ErrorEvent, key: &str) -> Option<&'e str> {
    event
        .tags
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_python_event_is_normalised() {
    let event = read(python_chained());
    assert_eq!(event.event_id, "9f2c1a0e8b7d4c3fa1e2d3c4b5a69788");
    assert_eq!(
        event.ts.to_rfc3339_opts(SecondsFormat::Micros, true),
        "2026-11-26T10:00:00.123456Z"
    );
    assert_eq!(
        (event.level.as_str(), event.platform.as_str()),
        ("error", "python")
    );
    assert_eq!(event.title, "ValueError: unknown product");
    assert_eq!(event.culprit, "shop.views in checkout");
    assert_eq!(event.message, "");
    assert_eq!(event.exception_type.as_deref(), Some("ValueError"));
    assert_eq!(
        event.exception_value.as_deref(),
        Some("unknown product\nsee the catalog")
    );
    assert_eq!(event.release.as_deref(), Some("shop@1.4.2"));
    assert_eq!(event.environment.as_deref(), Some("production"));
    assert_eq!(event.transaction.as_deref(), Some("/checkout"));
    assert_eq!(
        event.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(event.span_id.as_deref(), Some("00f067aa0ba902b7"));
    assert_eq!(event.user_key.as_deref(), Some("42"));
    let tags: Vec<(&str, &str)> = event
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        tags,
        [
            ("level", "error"),
            ("environment", "production"),
            ("release", "shop@1.4.2"),
            ("transaction", "/checkout"),
            ("runtime.name", "CPython"),
            ("server_name", "web-1"),
            ("url", "https://shop.example.com/checkout"),
            ("tenant", "acme"),
        ]
    );
    assert_eq!(
        event.fingerprint,
        fingerprint::components(&python_chained())
    );
    assert_eq!(event.grouping_hash, fingerprint::hash(&event.fingerprint));
    assert_eq!(event.payload_value()["event_id"], json!(event.event_id));
    assert_eq!(
        event.payload_value()["timestamp"],
        json!("2026-11-26T10:00:00.123456Z")
    );
    assert_eq!(event.payload_value()["modules"], json!({"django": "5.1.3"}));
}

#[test]
fn a_javascript_event_is_normalised() {
    let event = read(javascript("onSubmit", 3));
    assert_eq!(event.event_id, "b1d7c0de5a6f4e3d9c8b7a6f5e4d3c2b");
    assert_eq!(event.ts.timestamp_millis(), 1_795_687_200_123);
    assert_eq!(
        event.title,
        "TypeError: Cannot read properties of undefined (reading 'id')"
    );
    assert_eq!(event.culprit, "/static/app.min.js in handleClick");
    assert_eq!(tag(&event, "browser.name"), Some("Chrome"));
    assert_eq!(tag(&event, "os.name"), Some("macOS"));
    assert_eq!(tag(&event, "url"), Some("https://shop.example.com/cart"));
    assert_eq!(tag(&event, "feature"), Some("cart"));
    assert_eq!(tag(&event, "ab"), Some("3"));
    assert_eq!(event.user_key, None);
    assert_eq!(
        event.payload_value()["timestamp"],
        json!("2026-11-26T10:00:00.123000Z")
    );
}

#[test]
fn a_rust_event_from_the_sentry_crate_is_normalised() {
    let now = Utc::now();
    let event = ErrorEvent::from_sentry(
        rust_capture_error(rust_frames("myapp::handlers::checkout")),
        now,
    )
    .unwrap();
    assert_eq!(event.event_id.len(), 32);
    assert!((now - event.ts).num_seconds().abs() < 60);
    assert_eq!(event.platform, "native");
    assert_eq!(event.title, "CheckoutError: checkout failed for cart 42");
    assert_eq!(event.culprit, "db.rs in myapp::db::load_cart");
    assert_eq!(tag(&event, "runtime.name"), Some("rustc"));
    assert_eq!(tag(&event, "environment"), Some("staging"));
    assert_eq!(tag(&event, "transaction"), Some("POST /checkout"));
    assert_eq!(event.trace_id.as_ref().map(String::len), Some(32));
    assert_eq!(event.span_id.as_ref().map(String::len), Some(16));
}

#[test]
fn event_ids_are_normalised_or_generated() {
    let id = |v: Value| read(json!({"event_id": v})).event_id;
    assert_eq!(
        id(json!("9F2C1A0E-8B7D-4C3F-A1E2-D3C4B5A69788")),
        "9f2c1a0e8b7d4c3fa1e2d3c4b5a69788"
    );
    assert_eq!(
        id(json!("{9f2c1a0e-8b7d-4c3f-a1e2-d3c4b5a69788}")),
        "9f2c1a0e8b7d4c3fa1e2d3c4b5a69788"
    );
    let generated = [
        id(json!("not-a-uuid")),
        id(json!(42)),
        id(json!("00000000000000000000000000000000")),
        read(json!({})).event_id,
    ];
    for one in &generated {
        assert_eq!(one.len(), 32, "{one}");
        assert!(one
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
    assert_ne!(generated[0], generated[3]);
}

#[test]
fn timestamps_are_read_and_implausible_ones_replaced() {
    let ts = |v: Value| read(json!({"timestamp": v})).ts;
    let ten = Utc
        .with_ymd_and_hms(2026, 11, 26, 10, 0, 0)
        .single()
        .unwrap();
    assert_eq!(ts(json!("2026-11-26T11:00:00+01:00")), ten);
    assert_eq!(ts(json!(ten.timestamp() as f64)), ten);
    assert_eq!(ts(json!(ten.timestamp().to_string())), ten);
    let soon = received() + TimeDelta::minutes(30);
    assert_eq!(ts(json!(soon.to_rfc3339())), soon);
    for implausible in [
        json!((received() + TimeDelta::hours(2)).to_rfc3339()),
        json!("1960-01-01T00:00:00Z"),
        json!(-5),
        json!("yesterday"),
        json!({"secs": 1}),
    ] {
        assert_eq!(ts(implausible.clone()), received(), "{implausible}");
    }
    assert_eq!(read(json!({})).ts, received());
}

#[test]
fn a_number_is_seconds_and_drift_is_recorded_as_relay_does() {
    // 1e15 is seconds by the protocol (year ~31 million), not microseconds of 2001.
    let mut far = read(json!({"timestamp": 1e15, "message": "m"}));
    assert_eq!(far.ts, received());
    far.correct_clock(&ReceiveWindow::new(received(), TimeDelta::days(30)));
    let payload = far.payload_value();
    assert_eq!(payload["errors"][0]["type"], "future_timestamp");
    assert_eq!(payload["errors"][0]["value"], json!(1e15));
    assert_eq!(payload["timestamp"], "2026-11-26T12:00:00.000000Z");

    // Beyond retention in the past: the arrival time, the original kept.
    let old = received() - TimeDelta::days(45);
    let mut stale = read(json!({"timestamp": old.timestamp(), "extra": {"a": {"b": 1}}}));
    assert_eq!(stale.ts, old, "read as sent");
    stale.correct_clock(&ReceiveWindow::new(received(), TimeDelta::days(30)));
    assert_eq!(stale.ts, received());
    let payload = stale.payload_value();
    assert_eq!(payload["errors"][0]["type"], "past_timestamp");
    assert_eq!(payload["extra"]["a"]["b"], 1, "the payload stays whole");

    // Within the window nothing changes.
    let mut fine = read(json!({"timestamp": (received() - TimeDelta::days(2)).timestamp()}));
    let before = fine.payload.clone();
    fine.correct_clock(&ReceiveWindow::new(received(), TimeDelta::days(30)));
    assert_eq!(fine.payload, before);
    assert!(fine.clock_drift.is_none());
}

#[test]
fn levels_are_normalised() {
    let level = |v: Value| read(json!({"level": v})).level;
    for (sent, expected) in [
        (json!("warn"), "warning"),
        (json!("WARNING"), "warning"),
        (json!("critical"), "fatal"),
        (json!("fatal"), "fatal"),
        (json!("log"), "info"),
        (json!("debug"), "debug"),
        (json!("loud"), "error"),
        (json!(30), "error"),
    ] {
        assert_eq!(level(sent.clone()), expected, "{sent}");
    }
    assert_eq!(read(json!({})).level, "error");
    assert_eq!(
        read(json!({"level": "warn"})).payload_value()["level"],
        json!("warning")
    );
}

#[test]
fn titles_come_from_the_innermost_exception_then_the_message() {
    let title = |v: Value| read(v).title;
    assert_eq!(
        title(json!({"exception": [{"type": "A", "value": "first"}, {"type": "B"}]})),
        "B"
    );
    assert_eq!(
        title(json!({"exception": [{"value": "only a value"}]})),
        "only a value"
    );
    assert_eq!(
        title(json!({"logentry": {"message": "User %s failed\ndetails", "params": ["ada"]}})),
        "User ada failed"
    );
    assert_eq!(
        title(json!({"message": "x".repeat(500)})).chars().count(),
        MAX_TITLE_CHARS
    );
    assert_eq!(
        title(json!({"message": "é".repeat(500)})),
        "é".repeat(MAX_TITLE_CHARS)
    );
    assert_eq!(
        title(json!({"exception": [{}], "message": 3})),
        "<unlabeled event>"
    );
    let logged = read(json!({"logentry": {"message": "User %s failed", "params": ["ada"]}}));
    assert_eq!(logged.message, "User ada failed");
    assert_eq!(logged.exception_type, None);
}

#[test]
fn culprits_fall_back_to_the_event_stack_then_the_transaction() {
    let culprit = |v: Value| read(v).culprit;
    assert_eq!(
        culprit(json!({"exception": [{"type": "E"}], "transaction": "tasks.send_mail"})),
        "tasks.send_mail"
    );
    assert_eq!(culprit(json!({"message": "m"})), "");
    assert_eq!(
        culprit(json!({"message": "m", "stacktrace": {"frames": [
            {"module": "shop.mail", "function": "send", "in_app": true},
            {"module": "smtplib", "function": "sendmail", "in_app": false}]}})),
        "shop.mail in send"
    );
    assert_eq!(
        culprit(
            json!({"exception": [{"type": "E", "stacktrace": {"frames": [
            {"module": "smtplib", "function": "connect", "in_app": false}]}}]})
        ),
        "smtplib in connect"
    );
}

#[test]
fn users_are_keyed_by_the_first_identifier_present() {
    let key = |user: Value| read(json!({"user": user})).user_key;
    assert_eq!(
        key(json!({"id": 7, "email": "a@b.c"})).as_deref(),
        Some("7")
    );
    assert_eq!(
        key(json!({"id": null, "email": "a@b.c"})).as_deref(),
        Some("a@b.c")
    );
    assert_eq!(
        key(json!({"ip_address": "{{auto}}", "username": "ada"})).as_deref(),
        Some("ada")
    );
    assert_eq!(
        key(json!({"ip_address": "10.0.0.1"})).as_deref(),
        Some("10.0.0.1")
    );
    assert_eq!(key(json!("ada")), None);
}

#[test]
fn tags_are_deduplicated_and_limited() {
    let mut sent: serde_json::Map<String, Value> = (0..100)
        .map(|i| (format!("k{i:03}"), json!(format!("v{i}"))))
        .collect();
    sent.insert("level".into(), json!("debug"));
    sent.insert("k".repeat(MAX_TAG_KEY_BYTES + 1), json!("dropped"));
    sent.insert("a-long-one".into(), json!("é".repeat(MAX_TAG_VALUE_BYTES)));
    sent.insert("empty".into(), json!(" "));
    sent.insert("object".into(), json!({"no": 1}));
    let event = read(json!({"level": "warning", "tags": sent}));
    assert_eq!(event.tags.len(), MAX_TAGS);
    assert_eq!(event.tags[0], ("level".to_owned(), "warning".to_owned()));
    assert_eq!(event.tags.iter().filter(|(k, _)| k == "level").count(), 1);
    assert!(event.tags.iter().all(|(k, v)| k.len() <= MAX_TAG_KEY_BYTES
        && !v.is_empty()
        && v.len() <= MAX_TAG_VALUE_BYTES));
    let long = tag(&event, "a-long-one").unwrap_or_default();
    assert!(!long.is_empty() && long.chars().all(|c| c == 'é'));
    assert_eq!(tag(&event, "empty"), None);
    assert_eq!(tag(&event, "object"), None);

    let pairs = read(json!({"tags": [["a", "1"], ["a", "2"], ["b"], [1, "x"], "c", ["d", false]]}));
    assert_eq!(tag(&pairs, "a"), Some("1"));
    assert_eq!(tag(&pairs, "d"), Some("false"));
    assert_eq!(pairs.tags.len(), 3);
}

#[test]
fn non_objects_are_refused_with_a_clear_message() {
    for (value, kind) in [
        (json!([]), "an array"),
        (json!("event"), "a string"),
        (Value::Null, "null"),
    ] {
        let err = ErrorEvent::from_sentry(value, received()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("an event must be a JSON object, found {kind}")
        );
    }
}

#[test]
fn nul_characters_are_removed_everywhere() {
    let event = read(
        json!({"message": "a\u{0}b", "extra": {"k\u{0}": ["v\u{0}"]}, "tags": {"t": "x\u{0}y"}}),
    );
    assert_eq!(event.message, "ab");
    assert_eq!(event.payload_value()["extra"], json!({"k": ["v"]}));
    assert_eq!(tag(&event, "t"), Some("xy"));
}

#[test]
fn fields_of_the_wrong_type_are_skipped() {
    let odd = [
        Value::Null,
        json!(true),
        json!(-1.5),
        json!("x"),
        json!([]),
        json!({}),
        json!([null, 1, "a", [], {}]),
        json!({"values": 1, "frames": "no", "trace": 3, "name": []}),
        json!([{"type": 1, "value": [], "stacktrace": {"frames": [1, null, {"in_app": "x", "function": 2}]}}]),
        json!({"values": [{"stacktrace": [], "type": {}}, {"stacktrace": {"frames": {}}}]}),
    ];
    let keys = [
        "event_id",
        "timestamp",
        "level",
        "platform",
        "message",
        "logentry",
        "exception",
        "stacktrace",
        "threads",
        "transaction",
        "release",
        "environment",
        "server_name",
        "contexts",
        "user",
        "tags",
        "request",
        "fingerprint",
    ];
    for value in &odd {
        let mut everything = serde_json::Map::new();
        for key in keys {
            everything.insert(key.into(), value.clone());
            let one = ErrorEvent::from_sentry(json!({ key: value }), received());
            assert!(one.is_ok(), "{key}: {value}");
        }
        let event = read(Value::Object(everything));
        assert_eq!(event.event_id.len(), 32);
        assert!(!event.title.is_empty());
        assert_eq!(event.grouping_hash.len(), 32);
    }
    let nested = read(json!({
        "contexts": {"trace": {"trace_id": 5, "span_id": "short"}, "os": {"name": 1}, "x": 1},
        "request": {"url": 7},
        "threads": {"values": [{"crashed": "yes", "stacktrace": {"frames": [{"function": "f"}]}}]},
        "logentry": {"message": "%s %(a)s {9}", "params": {"a": {"deep": [1]}}},
    }));
    assert_eq!(nested.trace_id, None);
    assert_eq!(nested.span_id, None);
    assert_eq!(nested.message, "%s {\"deep\":[1]} {9}");
    assert_eq!(nested.culprit, "f");
}

#[test]
fn the_payload_keeps_the_text_sent_with_the_normalised_fields_last() {
    let received = Utc::now();
    let text =
        br#" {"event_id": "NOT-AN-ID", "level": "warn", "message": "hi", "timestamp": "garbage",
                    "extra": {"k": [1, 2.5, "\u00e9"]}} "#;
    let event = ErrorEvent::from_sentry_json(text, received).unwrap();
    let payload = event.payload_value();
    assert_eq!(payload["event_id"], json!(event.event_id));
    assert_eq!(payload["level"], json!("warning"));
    assert_eq!(
        payload["timestamp"],
        json!(event.ts.to_rfc3339_opts(SecondsFormat::Micros, true))
    );
    assert_eq!(payload["extra"], json!({"k": [1, 2.5, "é"]}));
    // The same event as the parsed path reads it.
    let parsed = ErrorEvent::from_sentry(serde_json::from_slice(text).unwrap(), received).unwrap();
    assert_eq!(
        (event.title, event.level, event.grouping_hash, event.ts),
        (parsed.title, parsed.level, parsed.grouping_hash, parsed.ts)
    );
}

#[test]
fn an_empty_object_escaped_nul_and_bad_json_are_handled_on_the_text_path() {
    let received = Utc::now();
    let empty = ErrorEvent::from_sentry_json(b"{}", received).unwrap();
    assert_eq!(empty.payload_value()["level"], json!("error"));
    let nul = ErrorEvent::from_sentry_json(br#"{"message": "a\u0000b"}"#, received).unwrap();
    assert!(!nul.payload.contains("\\u0000"));
    assert_eq!(nul.payload_value()["message"], json!("ab"));
    let bad = ErrorEvent::from_sentry_json(b"{\"message\": ", received).unwrap_err();
    assert!(bad.to_string().starts_with("event is not valid JSON"));
    assert!(matches!(
        ErrorEvent::from_sentry_json(b"[1]", received),
        Err(EventError::NotAnObject { .. })
    ));
}

#[test]
fn numbers_jsonb_would_refuse_take_the_parsed_path() {
    let received = Utc::now();
    let tiny = ErrorEvent::from_sentry_json(br#"{"extra": {"x": 1e-2000}}"#, received).unwrap();
    assert!(!tiny.payload.contains("1e-2000"), "{}", tiny.payload);
    let long = format!(r#"{{"extra": {{"x": 0.{}}}}}"#, "9".repeat(1200));
    let long = ErrorEvent::from_sentry_json(long.as_bytes(), received).unwrap();
    assert!(!long.payload.contains(&"9".repeat(1200)));
    // Plain numbers keep the fast path: the text is kept as sent.
    let plain =
        ErrorEvent::from_sentry_json(br#"{"extra": {"x": 12.5, "y": -3}}"#, received).unwrap();
    assert!(
        plain
            .payload
            .starts_with(r#"{"extra": {"x": 12.5, "y": -3},"event_id":"#),
        "{}",
        plain.payload
    );
}

#[test]
fn numbers_postgresql_would_give_back_unreadable_are_kept_as_text() {
    // jsonb keeps 1.7976931348623157e308 exactly and writes it back as 309
    // digits, which serde_json refuses: the event could not be read again.
    let text = br#"{"message":"m","extra":{"big":1.7976931348623157e308,"fine":2.5e3}}"#;
    let event = ErrorEvent::from_sentry_json(text, received()).unwrap();
    let payload = event.payload_value();
    assert_eq!(payload["extra"]["big"], "1.7976931348623157e+308");
    assert_eq!(payload["extra"]["fine"], 2500.0);
    let digits = format!(r#"{{"message":"m","n":1{}}}"#, "0".repeat(305));
    let event = ErrorEvent::from_sentry_json(digits.as_bytes(), received()).unwrap();
    assert!(event.payload_value()["n"].is_string());
}
