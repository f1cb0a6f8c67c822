//! The exception chain and stack frames of a Sentry event, read tolerantly: a
//! field of the wrong type counts as missing. Titles, culprits and grouping all
//! read events through this one view, so they agree on which exception is the
//! innermost and which frames belong to the application.

use serde_json::Value;

/// Most exceptions of a chain that are read, counted from the innermost. Longer
/// chains (Python exception groups can be large) would make fingerprints and
/// titles depend on distant causes.
pub const MAX_CHAIN: usize = 16;

/// One exception of the chain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exception<'a> {
    /// The exception's type (`ValueError`, `TypeError`, `panic`).
    pub ty: Option<&'a str>,
    /// Its message.
    pub value: Option<&'a str>,
    /// Its stack, oldest call first: the frame that raised is the last.
    pub frames: Vec<Frame<'a>>,
}

/// One stack frame; only the fields grouping and culprits read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Frame<'a> {
    /// The function's name; `None` for anonymous and unsymbolicated frames.
    pub function: Option<&'a str>,
    /// The module or package path (`shop.views`, `com.example.Cart`).
    pub module: Option<&'a str>,
    /// The file as the SDK names it: a relative path, a URL, or a basename.
    pub filename: Option<&'a str>,
    /// The file's absolute path or full URL.
    pub abs_path: Option<&'a str>,
    /// Whether the SDK marked the frame as application code; `None` when it did not say.
    pub in_app: Option<bool>,
}

/// The exception chain, oldest first, so the innermost exception (the one raised
/// last, which names the event) is the last. Reads both `exception.values` and
/// the bare array form. When the innermost exception has no stack, it gets the
/// event's own stack ([`event_frames`]): SDKs such as Rust's attach the
/// capturing thread's stack there instead.
pub fn chain(event: &Value) -> Vec<Exception<'_>> {
    let values = match event.get("exception") {
        Some(Value::Object(exception)) => exception.get("values").and_then(Value::as_array),
        Some(Value::Array(values)) => Some(values),
        _ => None,
    };
    let Some(values) = values else {
        return Vec::new();
    };
    let mut chain: Vec<Exception<'_>> = values
        .iter()
        .filter(|value| value.is_object())
        .map(|value| Exception {
            ty: text(value, "type"),
            value: text(value, "value"),
            frames: frames(value.get("stacktrace")),
        })
        .filter(|e| e.ty.is_some() || e.value.is_some() || !e.frames.is_empty())
        .collect();
    if chain.len() > MAX_CHAIN {
        chain.drain(..chain.len() - MAX_CHAIN);
    }
    if let Some(innermost) = chain.last_mut() {
        if innermost.frames.is_empty() {
            innermost.frames = event_frames(event);
        }
    }
    chain
}

/// The event's own stack: the top-level `stacktrace`, else that of the crashed
/// thread, else of the current thread, else of the first thread that has one.
pub fn event_frames(event: &Value) -> Vec<Frame<'_>> {
    let top = frames(event.get("stacktrace"));
    if !top.is_empty() {
        return top;
    }
    let threads = match event.get("threads") {
        Some(Value::Object(threads)) => threads.get("values").and_then(Value::as_array),
        Some(Value::Array(threads)) => Some(threads),
        _ => None,
    };
    let Some(threads) = threads else {
        return Vec::new();
    };
    let flagged = |flag: &str| {
        threads
            .iter()
            .filter(|t| t.get(flag).and_then(Value::as_bool) == Some(true))
            .map(|t| frames(t.get("stacktrace")))
            .find(|f| !f.is_empty())
    };
    flagged("crashed")
        .or_else(|| flagged("current"))
        .or_else(|| {
            threads
                .iter()
                .map(|t| frames(t.get("stacktrace")))
                .find(|f| !f.is_empty())
        })
        .unwrap_or_default()
}

fn frames(stacktrace: Option<&Value>) -> Vec<Frame<'_>> {
    let Some(frames) = stacktrace
        .and_then(|s| s.get("frames"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    frames
        .iter()
        .filter(|frame| frame.is_object())
        .map(|frame| Frame {
            // JavaScript SDKs write `?` for anonymous functions and Rust's
            // `<unknown>` for unsymbolicated ones: neither names anything.
            function: text(frame, "function").filter(|f| !matches!(*f, "?" | "<unknown>")),
            module: text(frame, "module"),
            filename: text(frame, "filename"),
            abs_path: text(frame, "abs_path"),
            in_app: frame.get("in_app").and_then(Value::as_bool),
        })
        .filter(|frame| frame.function.is_some() || frame.location().is_some())
        .collect()
}

/// The innermost application frame, for grouping.
pub fn innermost_in_app<'f, 'a>(frames: &'f [Frame<'a>]) -> Option<&'f Frame<'a>> {
    frames.iter().rev().find(|frame| frame.is_in_app())
}

/// Paths that mark library and runtime code when an SDK leaves `in_app` unset.
/// Deliberately short: SDKs that know better set `in_app` themselves.
const LIBRARY_PATHS: &[&str] = &[
    "site-packages/",
    "dist-packages/",
    "/lib/python",
    "node_modules/",
    "node:internal",
    "/rustc/",
    "/.cargo/registry/",
];

/// Function prefixes of Rust's standard library, which has no module or path an
/// SDK could mark.
const LIBRARY_FUNCTIONS: &[&str] = &["std::", "core::", "alloc::"];

/// Paths and function prefixes that are never application code, whatever the
/// SDK says: the Rust SDK marks every frame it does not recognise as in-app,
/// including its own capture machinery and dependencies built without paths, and
/// those frames would otherwise become every event's culprit and fingerprint.
const NEVER_IN_APP_PATHS: &[&str] = &["/rustc/", "/.cargo/registry/", "/.cargo/git/"];
const NEVER_IN_APP_FUNCTIONS: &[&str] = &[
    "sentry::",
    "sentry_core::",
    "sentry_panic::",
    "sentry_backtrace::",
    "sentry_contexts::",
    "sentry_tracing::",
    "sentry_tower::",
    "sentry_anyhow::",
    "std::",
    "core::",
    "alloc::",
];

impl<'a> Frame<'a> {
    /// Whether the frame is application code: as the SDK said (unless it is
    /// certainly library code), else unless its path or function looks like a
    /// library or the runtime.
    pub fn is_in_app(&self) -> bool {
        if self.is_never_in_app() {
            return false;
        }
        self.in_app.unwrap_or_else(|| {
            let library_path = self
                .paths()
                .any(|path| LIBRARY_PATHS.iter().any(|marker| path.contains(marker)));
            let library_function = self
                .function
                .is_some_and(|f| LIBRARY_FUNCTIONS.iter().any(|p| f.starts_with(p)));
            !library_path && !library_function
        })
    }

    fn is_never_in_app(&self) -> bool {
        let function = self.function.map(|f| f.trim_start_matches('<'));
        self.paths().any(|path| {
            NEVER_IN_APP_PATHS
                .iter()
                .any(|marker| path.contains(marker))
        }) || function.is_some_and(|f| NEVER_IN_APP_FUNCTIONS.iter().any(|p| f.starts_with(p)))
    }

    /// The frame's module and paths, with `/` separators.
    fn paths(&self) -> impl Iterator<Item = String> + '_ {
        [self.module, self.filename, self.abs_path]
            .into_iter()
            .flatten()
            .map(|path| path.replace('\\', "/"))
    }

    /// Where the frame is, as SDKs name it: the module, else the file.
    fn location(&self) -> Option<&'a str> {
        self.module.or(self.filename).or(self.abs_path)
    }

    /// The frame's grouping component, `location in function`, where the location
    /// is the module or else the file's basename: directories and query strings
    /// change between deployments (`/static/app.min.js?v=3`) while the code does not.
    /// Line numbers are left out for the same reason.
    pub fn grouping_key(&self) -> Option<String> {
        let location = self
            .module
            .or_else(|| self.filename.map(basename))
            .or_else(|| self.abs_path.map(basename))
            .filter(|l| !l.is_empty());
        join_in(location, self.function)
    }

    /// The frame as a culprit, Python style: `module in function`, or
    /// `path in function` with a URL's origin and query string removed.
    pub fn culprit(&self) -> Option<String> {
        let location = self
            .module
            .or_else(|| self.filename.map(url_path))
            .or_else(|| self.abs_path.map(url_path))
            .filter(|l| !l.is_empty());
        join_in(location, self.function)
    }
}

fn join_in(location: Option<&str>, function: Option<&str>) -> Option<String> {
    match (location, function) {
        (Some(location), Some(function)) => Some(format!("{location} in {function}")),
        (Some(only), None) | (None, Some(only)) => Some(only.to_owned()),
        (None, None) => None,
    }
}

/// A path or URL without its query string and fragment.
fn without_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

/// The last non-empty segment of a path or URL: `http://x/static/app.min.js?v=3`
/// is `app.min.js`.
pub fn basename(path: &str) -> &str {
    without_query(path)
        .rsplit(['/', '\\'])
        .find(|segment| !segment.is_empty())
        .unwrap_or("")
}

/// A URL's path (`http://x/static/app.js?v=3` is `/static/app.js`); other paths
/// without their query string.
fn url_path(path: &str) -> &str {
    let path = without_query(path);
    match path.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or(rest, |slash| &rest[slash..]),
        None => path,
    }
}

/// A string field, trimmed, when present and not empty.
pub fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_exception_forms_and_the_thread_fallback() {
        let frame = json!({"function": "run", "filename": "main.rs"});
        let wrapped = json!({"exception": {"values": [{"type": "A"}, {"type": "B"}]},
                             "threads": {"values": [
                                 {"current": false, "stacktrace": {"frames": [{"function": "other"}]}},
                                 {"current": true, "stacktrace": {"frames": [frame]}}]}});
        let read = chain(&wrapped);
        assert_eq!(chain_types(&wrapped), [Some("A"), Some("B")]);
        assert!(read[0].frames.is_empty());
        assert_eq!(read[1].frames[0].function, Some("run"));
        let bare = json!({"exception": [{"type": "C", "value": "v"}, 7, {"nothing": 1}]});
        assert_eq!(chain_types(&bare), [Some("C")]);
        let long: Vec<Value> = (0..40).map(|i| json!({"type": format!("E{i}")})).collect();
        let long = json!({"exception": long});
        assert_eq!(chain(&long).len(), MAX_CHAIN);
        assert_eq!(chain(&long).last().and_then(|e| e.ty), Some("E39"));
    }

    fn chain_types(event: &Value) -> Vec<Option<&str>> {
        chain(event).iter().map(|e| e.ty).collect()
    }

    #[test]
    fn in_app_is_guessed_only_when_missing() {
        let in_app = |v: Value| {
            let stacktrace = json!({ "frames": [v] });
            let frames = frames(Some(&stacktrace));
            assert_eq!(frames.len(), 1);
            frames[0].is_in_app()
        };
        assert!(in_app(json!({"function": "f", "module": "shop.views"})));
        assert!(!in_app(
            json!({"function": "f", "filename": "/srv/venv/lib/python3.12/site-packages/django/x.py"})
        ));
        assert!(!in_app(
            json!({"function": "f", "filename": "webpack:///node_modules/react-dom/index.js"})
        ));
        assert!(!in_app(json!({"function": "std::panicking::begin_panic"})));
        assert!(in_app(
            json!({"function": "f", "filename": "node_modules/x.js", "in_app": true})
        ));
        assert!(!in_app(json!({"function": "f", "in_app": false})));
        // The Rust SDK's own frames and registry paths, even when marked in-app.
        assert!(!in_app(json!({
            "function": "sentry_panic::PanicIntegration::event_from_panic_info",
            "in_app": true
        })));
        assert!(!in_app(json!({
            "function": "<sentry_core::hub::Hub as Clone>::clone",
            "in_app": true
        })));
        assert!(!in_app(json!({
            "function": "{closure#0}",
            "abs_path": "/root/.cargo/registry/src/index.crates.io-1/sentry-core-0.49.5/src/error.rs",
            "in_app": true
        })));
        assert!(in_app(
            json!({"function": "shop::checkout::charge", "in_app": true})
        ));
        assert!(in_app(json!({"function": "f", "in_app": "yes"})));
    }

    #[test]
    fn locations_drop_directories_query_strings_and_origins() {
        assert_eq!(basename("http://x/static/app.min.js?v=3"), "app.min.js");
        assert_eq!(basename("C:\\app\\src\\main.rs"), "main.rs");
        assert_eq!(basename("webpack:///./src/App.tsx#L3"), "App.tsx");
        let js = Frame {
            function: Some("handleClick"),
            filename: Some("http://x/static/app.min.js?v=3"),
            ..Frame::default()
        };
        assert_eq!(
            js.grouping_key().as_deref(),
            Some("app.min.js in handleClick")
        );
        assert_eq!(
            js.culprit().as_deref(),
            Some("/static/app.min.js in handleClick")
        );
        let py = Frame {
            function: Some("checkout"),
            module: Some("shop.views"),
            filename: Some("shop/views.py"),
            ..Frame::default()
        };
        assert_eq!(py.grouping_key().as_deref(), Some("shop.views in checkout"));
        assert_eq!(py.culprit().as_deref(), Some("shop.views in checkout"));
    }
}
