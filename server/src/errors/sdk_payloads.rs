//! Events shaped the way real SDKs send them, for the tests of this domain: the
//! Rust one built with the `sentry` crate itself, the Python (sentry-sdk 2.x) and
//! JavaScript (@sentry/browser 8.x) ones written out from their payloads.

use std::borrow::Cow;

use serde_json::{json, Value};

use sentry::protocol::{Context, Event, Frame, RuntimeContext, Stacktrace, Thread};

/// A Python frame of the application (`in_app`), with what sentry-sdk attaches:
/// source context and local variables.
pub fn py_frame(module: &str, function: &str, lineno: u64) -> Value {
    let path = module.replace('.', "/");
    json!({
        "filename": format!("{path}.py"),
        "abs_path": format!("/srv/shop/{path}.py"),
        "function": function,
        "module": module,
        "lineno": lineno,
        "pre_context": ["", "def helper(request):"],
        "context_line": "    product = catalog[request.POST['sku']]",
        "post_context": ["    return product", ""],
        "vars": {"request": "<WSGIRequest: POST '/checkout'>", "sku": "'A-17'"},
        "in_app": true
    })
}

/// A Django frame, marked as library code the way sentry-sdk marks site-packages.
pub fn django_frame() -> Value {
    json!({
        "filename": "django/core/handlers/base.py",
        "abs_path": "/srv/venv/lib/python3.12/site-packages/django/core/handlers/base.py",
        "function": "_get_response",
        "module": "django.core.handlers.base",
        "lineno": 197,
        "context_line": "    response = wrapped_callback(request, *callback_args, **callback_kwargs)",
        "vars": {},
        "in_app": false
    })
}

/// A Django request event with one exception and the given application frames
/// (oldest first), as sentry-sdk 2.x sends it.
pub fn python(ty: &str, value: &str, app_frames: Vec<Value>) -> Value {
    let mut frames = vec![django_frame()];
    frames.extend(app_frames);
    let mut event = python_envelope();
    event["exception"] = json!({"values": [{
        "type": ty,
        "value": value,
        "module": null,
        "mechanism": {"type": "django", "handled": false},
        "stacktrace": {"frames": frames}
    }]});
    event
}

/// `raise ValueError("unknown product") from KeyError('A-17')` in a view: the
/// cause first, the exception that was raised last.
pub fn python_chained() -> Value {
    let mut event = python_envelope();
    event["exception"] = json!({"values": [
        {
            "type": "KeyError",
            "value": "'A-17'",
            "mechanism": {"type": "chained", "handled": true, "exception_id": 1, "parent_id": 0, "source": "__cause__"},
            "stacktrace": {"frames": [py_frame("shop.catalog", "find", 88)]}
        },
        {
            "type": "ValueError",
            "value": "unknown product\nsee the catalog",
            "mechanism": {"type": "django", "handled": false, "exception_id": 0},
            "stacktrace": {"frames": [django_frame(), py_frame("shop.views", "checkout", 41)]}
        }
    ]});
    event
}

fn python_envelope() -> Value {
    json!({
        "event_id": "9f2c1a0e-8b7d-4c3f-a1e2-d3c4b5a69788",
        "timestamp": "2026-11-26T10:00:00.123456Z",
        "level": "error",
        "platform": "python",
        "server_name": "web-1",
        "release": "shop@1.4.2",
        "environment": "production",
        "transaction": "/checkout",
        "transaction_info": {"source": "route"},
        "sdk": {"name": "sentry.python.django", "version": "2.19.0",
                "packages": [{"name": "pypi:sentry-sdk", "version": "2.19.0"}]},
        "contexts": {
            "trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7",
                      "parent_span_id": null, "op": "http.server", "status": "internal_error"},
            "runtime": {"name": "CPython", "version": "3.12.3", "build": "3.12.3 (main)"}
        },
        "request": {"url": "https://shop.example.com/checkout", "method": "POST",
                    "query_string": "coupon=X1", "headers": {"Host": "shop.example.com"}},
        "user": {"id": "42", "email": "ada@example.com", "ip_address": "{{auto}}"},
        "tags": {"tenant": "acme"},
        "breadcrumbs": {"values": [{"type": "default", "category": "query",
                                    "message": "SELECT 1", "timestamp": 1795687199.5}]},
        "extra": {"sys.argv": ["manage.py", "runserver"]},
        "modules": {"django": "5.1.3"}
    })
}

/// A browser event: `TypeError` in `handleClick`, reached through `caller`.
pub fn javascript(caller: &str, version: u32) -> Value {
    json!({
        "event_id": "b1d7c0de5a6f4e3d9c8b7a6f5e4d3c2b",
        "timestamp": 1795687200.123,
        "platform": "javascript",
        "level": "error",
        "exception": {"values": [{
            "type": "TypeError",
            "value": "Cannot read properties of undefined (reading 'id')",
            "mechanism": {"type": "onerror", "handled": false},
            "stacktrace": {"frames": [
                {"filename": format!("https://shop.example.com/static/vendor.js?v={version}"),
                 "function": "HTMLButtonElement.dispatch", "lineno": 2, "colno": 40123, "in_app": true},
                {"filename": format!("https://shop.example.com/static/app.min.js?v={version}"),
                 "function": caller, "lineno": 1, "colno": 912, "in_app": true},
                {"filename": format!("https://shop.example.com/static/app.min.js?v={version}"),
                 "function": "handleClick", "lineno": 1, "colno": 3456, "in_app": true}
            ]}
        }]},
        "request": {"url": "https://shop.example.com/cart?session=abc#top",
                    "headers": {"User-Agent": "Mozilla/5.0 (Macintosh) Chrome/131.0.0.0"}},
        "contexts": {"browser": {"name": "Chrome", "version": "131.0.0"},
                     "os": {"name": "macOS", "version": "14.6"}},
        "tags": [["feature", "cart"], ["ab", 3]],
        "sdk": {"name": "sentry.javascript.browser", "version": "8.40.0"}
    })
}

/// The checkout error of a Rust service, with its cause.
#[derive(Debug, thiserror::Error)]
#[error("checkout failed for cart {cart}")]
pub struct CheckoutError {
    cart: u64,
    #[source]
    source: std::io::Error,
}

/// A Rust frame as `sentry-backtrace` produces it: a demangled function path,
/// the file's basename and absolute path, `in_app` decided on the client.
pub fn rust_frame(function: &str, file: &str, in_app: bool) -> Frame {
    Frame {
        function: Some(function.into()),
        package: function.split("::").next().map(str::to_owned),
        filename: Some(file.rsplit('/').next().unwrap_or(file).into()),
        abs_path: Some(file.into()),
        lineno: Some(17),
        in_app: Some(in_app),
        ..Frame::default()
    }
}

/// `sentry::capture_error(&err)` with `attach_stacktrace`: the exceptions come
/// from the error chain without stacks, and the capturing thread's stack is
/// attached as a thread, innermost frame last.
pub fn rust_capture_error(frames: Vec<Frame>) -> Value {
    let error = CheckoutError {
        cart: 42,
        source: std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused"),
    };
    let mut event = sentry::event_from_error(&error);
    event.threads.values.push(Thread {
        id: Some("1".to_owned().into()),
        name: Some("tokio-runtime-worker".into()),
        current: true,
        stacktrace: Some(Stacktrace {
            frames,
            ..Stacktrace::default()
        }),
        ..Thread::default()
    });
    // What `Client::prepare_event` fills in before sending.
    event.platform = Cow::Borrowed("native");
    event.release = Some(Cow::Borrowed("shop-api@0.3.0"));
    event.environment = Some(Cow::Borrowed("staging"));
    event.transaction = Some("POST /checkout".into());
    event.contexts.insert(
        "rust".into(),
        Context::Runtime(Box::new(RuntimeContext {
            name: Some("rustc".into()),
            version: Some("1.95.0".into()),
            ..RuntimeContext::default()
        })),
    );
    event
        .contexts
        .insert("trace".into(), Context::Trace(Box::default()));
    to_json(&event)
}

/// The frames of a Rust request handler that fails in `myapp::db::load_cart`,
/// called from `caller`.
pub fn rust_frames(caller: &str) -> Vec<Frame> {
    vec![
        rust_frame("tokio::runtime::task::harness::poll", "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.54.0/src/runtime/task/harness.rs", false),
        rust_frame(caller, "/src/myapp/src/handlers.rs", true),
        rust_frame("myapp::db::load_cart", "/src/myapp/src/db.rs", true),
        rust_frame("sqlx_core::pool::Pool::acquire", "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/sqlx-core-0.8.6/src/pool/mod.rs", false),
    ]
}

fn to_json(event: &Event<'_>) -> Value {
    serde_json::to_value(event).unwrap_or_default()
}
