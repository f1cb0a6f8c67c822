//! Grouping as a user sees it: which events land in one issue and which do not.

use serde_json::{json, Value};

use super::*;
use crate::errors::sdk_payloads::{
    javascript, py_frame, python, python_chained, rust_capture_error, rust_frames,
};

fn group(event: &Value) -> String {
    hash(&components(event))
}

#[test]
fn the_same_error_reached_from_two_callers_groups_together() {
    let from_cart = python(
        "KeyError",
        "'A-17'",
        vec![
            py_frame("shop.views", "cart", 12),
            py_frame("shop.catalog", "find", 88),
        ],
    );
    let from_checkout = python(
        "KeyError",
        "'B-99'",
        vec![
            py_frame("shop.views", "checkout", 40),
            py_frame("shop.catalog", "find", 91),
        ],
    );
    assert_eq!(components(&from_cart), ["KeyError", "shop.catalog in find"]);
    assert_eq!(group(&from_cart), group(&from_checkout));

    let js = |caller, version| group(&javascript(caller, version));
    assert_eq!(js("onSubmit", 3), js("onKeyDown", 4));
    assert_eq!(
        components(&javascript("onSubmit", 3)),
        ["TypeError", "app.min.js in handleClick"]
    );

    let rust = |caller| group(&rust_capture_error(rust_frames(caller)));
    assert_eq!(
        rust("myapp::handlers::checkout"),
        rust("myapp::handlers::reorder")
    );
}

#[test]
fn different_types_or_raising_functions_do_not_group() {
    let frames = || vec![py_frame("shop.catalog", "find", 88)];
    let key_error = group(&python("KeyError", "'A-17'", frames()));
    assert_ne!(key_error, group(&python("IndexError", "'A-17'", frames())));
    assert_ne!(
        key_error,
        group(&python(
            "KeyError",
            "'A-17'",
            vec![py_frame("shop.catalog", "price", 88)]
        ))
    );
    assert_ne!(
        key_error,
        group(&python(
            "KeyError",
            "'A-17'",
            vec![py_frame("shop.stock", "find", 88)]
        ))
    );
}

#[test]
fn chains_contribute_every_exception_oldest_first() {
    assert_eq!(
        components(&python_chained()),
        [
            "KeyError",
            "shop.catalog in find",
            "ValueError",
            "shop.views in checkout"
        ]
    );
}

#[test]
fn rust_errors_group_by_their_chain_and_the_thread_stack() {
    let event = rust_capture_error(rust_frames("myapp::handlers::checkout"));
    assert_eq!(
        components(&event),
        [
            "Custom",
            "connection refused",
            "CheckoutError",
            "db.rs in myapp::db::load_cart"
        ]
    );
}

#[test]
fn exceptions_without_application_frames_group_by_normalised_value() {
    let no_stack = |value: &str| json!({"exception": [{"type": "TimeoutError", "value": value}]});
    assert_eq!(
        components(&no_stack("timed out after 30s talking to 10.0.0.7")),
        ["TimeoutError", "timed out after <int>s talking to <ip>"]
    );
    assert_eq!(
        group(&no_stack("timed out after 30s talking to 10.0.0.7")),
        group(&no_stack("timed out after 5s talking to 10.0.0.9"))
    );
    let library_only = json!({"exception": {"values": [{"type": "OSError", "value": "disk 3 full",
        "stacktrace": {"frames": [{"module": "shutil", "function": "copy", "in_app": false}]}}]}});
    assert_eq!(components(&library_only), ["OSError", "disk <int> full"]);
}

#[test]
fn line_numbers_and_script_versions_do_not_matter() {
    let at = |line| {
        python(
            "KeyError",
            "'A-17'",
            vec![py_frame("shop.catalog", "find", line)],
        )
    };
    assert_eq!(group(&at(88)), group(&at(120)));
    assert_eq!(
        group(&javascript("onSubmit", 3)),
        group(&javascript("onSubmit", 4))
    );
}

#[test]
fn a_custom_fingerprint_wins_over_the_stack() {
    let mut a = python("KeyError", "x", vec![py_frame("shop.catalog", "find", 1)]);
    let mut b = javascript("onSubmit", 3);
    let default_a = group(&a);
    a["fingerprint"] = json!(["my-group"]);
    b["fingerprint"] = json!(["my-group"]);
    assert_eq!(components(&a), ["my-group"]);
    assert_eq!(group(&a), group(&b));
    assert_ne!(group(&a), default_a);
}

#[test]
fn the_default_variable_expands_to_the_default_components() {
    let plain = python("KeyError", "x", vec![py_frame("shop.catalog", "find", 1)]);
    let default = components(&plain);
    for spelling in ["{{ default }}", "{{default}}", " {{ Default }} "] {
        let mut tenant = plain.clone();
        tenant["fingerprint"] = json!([spelling, "tenant-a"]);
        let mut expected = default.clone();
        expected.push("tenant-a".into());
        assert_eq!(components(&tenant), expected, "{spelling}");
        assert_ne!(group(&tenant), group(&plain));
    }
    let mut only_default = plain.clone();
    only_default["fingerprint"] = json!(["{{ default }}"]);
    assert_eq!(group(&only_default), group(&plain));
}

#[test]
fn messages_group_by_template_or_normalised_text() {
    let message = |text: &str| json!({"message": text, "level": "warning"});
    assert_eq!(
        group(&message(
            "User 42 failed at 2026-11-26T10:00:00Z from 10.0.0.1"
        )),
        group(&message(
            "User 7 failed at 2026-11-27T11:00:00Z from 10.0.0.2"
        ))
    );
    assert_ne!(
        group(&message("User 42 failed")),
        group(&message("User 42 left"))
    );

    let logged = |formatted: &str| json!({"logentry": {"message": "Payment %s declined", "params": ["x"], "formatted": formatted}});
    assert_eq!(
        components(&logged("Payment ch_1 declined")),
        ["Payment %s declined"]
    );
    assert_eq!(
        group(&logged("Payment ch_1AbC declined")),
        group(&logged("Payment for Ada declined"))
    );
}

#[test]
fn events_with_nothing_to_group_by_share_one_group() {
    assert_eq!(components(&json!({})), [UNLABELED]);
    assert_eq!(
        components(&json!({"fingerprint": [], "message": " "})),
        [UNLABELED]
    );
}

#[test]
fn hashes_are_32_hex_characters_and_respect_component_boundaries() {
    let h = hash(&["ab".into(), "c".into()]);
    assert_eq!(h.len(), 32);
    assert!(h
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_ne!(h, hash(&["a".into(), "bc".into()]));
    assert_ne!(h, hash(&["abc".into()]));
    assert_eq!(h, hash(&["ab".into(), "c".into()]));
}

#[test]
fn odd_fingerprints_and_shapes_never_panic() {
    for fingerprint in [
        json!("x"),
        json!(1),
        json!([null, {}, []]),
        json!([1, true, "a"]),
        json!({}),
    ] {
        let event = json!({"fingerprint": fingerprint, "message": "m"});
        assert!(!components(&event).is_empty());
    }
    assert_eq!(
        components(&json!({"fingerprint": [1, true, "a"]})),
        ["1", "a"]
    );
}
