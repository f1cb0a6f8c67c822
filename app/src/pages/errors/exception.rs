//! The exception chain and stack frames of a Sentry event, read as the server
//! reads them (`server/src/errors/exception.rs`): `exception.values` or the bare
//! array, the event's own stack (or its threads') when the innermost exception
//! has none, and the same rule for which frames are application code.

use serde_json::Value;

use super::payload::{rows_of, text, value_text, values};

/// How an exception was caught, as the SDK reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mechanism {
    /// `generic`, `panic`, `onerror`, `excepthook`, ...
    pub kind: Option<String>,
    /// Whether the application handled it; `false` means it crashed.
    pub handled: Option<bool>,
    /// The SDK's explanation, if any.
    pub description: Option<String>,
}

/// One exception of the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ExceptionPart {
    /// `ValueError`, `TypeError`, `panic`.
    pub ty: Option<String>,
    /// Its message.
    pub value: Option<String>,
    /// The module that defines the type.
    pub module: Option<String>,
    /// How it was caught.
    pub mechanism: Option<Mechanism>,
    /// Its stack, innermost call (the one that raised) first.
    pub frames: Vec<StackFrame>,
}

/// One stack frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackFrame {
    /// The function; `None` for anonymous and unsymbolicated frames.
    pub function: Option<String>,
    /// The module or package path.
    pub module: Option<String>,
    /// The file as the SDK names it.
    pub filename: Option<String>,
    /// The file's absolute path or URL.
    pub abs_path: Option<String>,
    /// The line the frame was at.
    pub lineno: Option<i64>,
    /// The column, when the SDK knows it.
    pub colno: Option<i64>,
    /// Whether the frame is application code (see [`is_in_app`]).
    pub in_app: bool,
    /// Source lines before the current one.
    pub pre_context: Vec<String>,
    /// The current source line.
    pub context_line: Option<String>,
    /// Source lines after the current one.
    pub post_context: Vec<String>,
    /// Local variables, as the SDK printed them.
    pub vars: Vec<(String, String)>,
}

/// One line of a frame's source: its number (when the frame has one), text, and
/// whether it is the frame's current line.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceLine {
    /// 1-based line number.
    pub number: Option<i64>,
    /// The source text.
    pub text: String,
    /// Whether this is the line the frame was at.
    pub current: bool,
}

impl StackFrame {
    /// Where the frame is: the module, else the file, else its absolute path.
    pub fn location(&self) -> Option<&str> {
        self.module
            .as_deref()
            .or(self.filename.as_deref())
            .or(self.abs_path.as_deref())
    }

    /// Whether there is anything to show below the frame's line.
    pub fn has_detail(&self) -> bool {
        self.context_line.is_some()
            || !self.pre_context.is_empty()
            || !self.post_context.is_empty()
            || !self.vars.is_empty()
    }

    /// The source around the frame's line, numbered from `lineno`.
    pub fn source(&self) -> Vec<SourceLine> {
        let Some(current) = &self.context_line else {
            return Vec::new();
        };
        let number = |offset: i64| self.lineno.map(|n| n + offset);
        let before = self.pre_context.len() as i64;
        let pre = self
            .pre_context
            .iter()
            .enumerate()
            .map(|(i, text)| SourceLine {
                number: number(i as i64 - before),
                text: text.clone(),
                current: false,
            });
        let post = self
            .post_context
            .iter()
            .enumerate()
            .map(|(i, text)| SourceLine {
                number: number(i as i64 + 1),
                text: text.clone(),
                current: false,
            });
        pre.chain(std::iter::once(SourceLine {
            number: number(0),
            text: current.clone(),
            current: true,
        }))
        .chain(post)
        .collect()
    }
}

/// Paths that mark library and runtime code when an SDK leaves `in_app` unset;
/// the same list as the server's, so the frames highlighted here are the ones
/// the server picked the culprit from.
const LIBRARY_PATHS: &[&str] = &[
    "site-packages/",
    "dist-packages/",
    "/lib/python",
    "node_modules/",
    "node:internal",
    "/rustc/",
    "/.cargo/registry/",
];

/// Function prefixes of Rust's standard library.
const LIBRARY_FUNCTIONS: &[&str] = &["std::", "core::", "alloc::"];

/// Whether a frame is application code: as the SDK said, else unless its path or
/// function looks like a library or the runtime.
pub fn is_in_app(frame: &Value) -> bool {
    if let Some(in_app) = frame.get("in_app").and_then(Value::as_bool) {
        return in_app;
    }
    let library_path = ["module", "filename", "abs_path"]
        .into_iter()
        .filter_map(|key| frame.get(key).and_then(Value::as_str))
        .any(|path| {
            let path = path.replace('\\', "/");
            LIBRARY_PATHS.iter().any(|marker| path.contains(marker))
        });
    let library_function = frame
        .get("function")
        .and_then(Value::as_str)
        .is_some_and(|f| LIBRARY_FUNCTIONS.iter().any(|p| f.starts_with(p)));
    !library_path && !library_function
}

/// Lines of a context array.
fn lines(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|lines| lines.iter().map(value_text).collect())
        .unwrap_or_default()
}

/// The frames of a `stacktrace` object, innermost first (SDKs send the oldest
/// call first).
fn frames(stacktrace: Option<&Value>) -> Vec<StackFrame> {
    let Some(frames) = stacktrace
        .and_then(|s| s.get("frames"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    frames
        .iter()
        .rev()
        .filter(|frame| frame.is_object())
        .map(|frame| StackFrame {
            // `?` (JavaScript) and `<unknown>` (Rust) name nothing.
            function: text(frame, "function").filter(|f| !matches!(f.as_str(), "?" | "<unknown>")),
            module: text(frame, "module"),
            filename: text(frame, "filename"),
            abs_path: text(frame, "abs_path"),
            lineno: frame.get("lineno").and_then(Value::as_i64),
            colno: frame.get("colno").and_then(Value::as_i64),
            in_app: is_in_app(frame),
            pre_context: lines(frame.get("pre_context")),
            context_line: frame
                .get("context_line")
                .and_then(Value::as_str)
                .map(str::to_owned),
            post_context: lines(frame.get("post_context")),
            vars: rows_of(frame.get("vars")),
        })
        .filter(|frame| frame.function.is_some() || frame.location().is_some())
        .collect()
}

/// The event's own stack: the top-level `stacktrace`, else that of the crashed
/// thread, else of the current thread, else of the first thread that has one.
pub fn event_frames(payload: &Value) -> Vec<StackFrame> {
    let top = frames(payload.get("stacktrace"));
    if !top.is_empty() {
        return top;
    }
    let threads = values(payload.get("threads"));
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

/// The exception chain, innermost (the one raised last, which names the issue)
/// first, as Sentry shows it. When the innermost exception has no stack it gets
/// the event's own ([`event_frames`]), as the server does when grouping.
pub fn exceptions(payload: &Value) -> Vec<ExceptionPart> {
    let mut chain: Vec<ExceptionPart> = values(payload.get("exception"))
        .iter()
        .filter(|value| value.is_object())
        .map(|value| ExceptionPart {
            ty: text(value, "type"),
            value: text(value, "value"),
            module: text(value, "module"),
            mechanism: value
                .get("mechanism")
                .filter(|m| m.is_object())
                .map(|m| Mechanism {
                    kind: text(m, "type"),
                    handled: m.get("handled").and_then(Value::as_bool),
                    description: text(m, "description"),
                }),
            frames: frames(value.get("stacktrace")),
        })
        .filter(|e| e.ty.is_some() || e.value.is_some() || !e.frames.is_empty())
        .collect();
    chain.reverse();
    if let Some(innermost) = chain.first_mut() {
        if innermost.frames.is_empty() {
            innermost.frames = event_frames(payload);
        }
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[test]
    fn the_chain_reads_innermost_first_with_frames_innermost_first() {
        let payload = json!({
            "exception": {"values": [
                {"type": "KeyError", "value": "'sku'", "stacktrace": {"frames": [
                    {"function": "load", "module": "shop.cart", "lineno": 3}
                ]}},
                {"type": "CheckoutError", "value": "no price", "mechanism": {"type": "generic", "handled": false},
                 "stacktrace": {"frames": [
                    {"function": "handle", "module": "django.core.handlers", "filename": "site-packages/django/core.py"},
                    {"function": "checkout", "module": "shop.views", "lineno": 42, "in_app": true,
                     "pre_context": ["def checkout(cart):", "    total = 0"],
                     "context_line": "    raise CheckoutError('no price')",
                     "post_context": [""], "vars": {"cart": {"id": 7}, "total": 0}}
                ]}}
            ]}
        });
        let chain = exceptions(&payload);
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].ty.as_deref(), Some("CheckoutError"));
        assert_eq!(
            chain[0].mechanism.as_ref().and_then(|m| m.handled),
            Some(false)
        );
        let top = &chain[0].frames[0];
        assert_eq!(top.function.as_deref(), Some("checkout"));
        assert!(top.in_app);
        assert!(!chain[0].frames[1].in_app, "site-packages is library code");
        assert_eq!(
            top.source(),
            vec![
                SourceLine {
                    number: Some(40),
                    text: "def checkout(cart):".into(),
                    current: false
                },
                SourceLine {
                    number: Some(41),
                    text: "    total = 0".into(),
                    current: false
                },
                SourceLine {
                    number: Some(42),
                    text: "    raise CheckoutError('no price')".into(),
                    current: true
                },
                SourceLine {
                    number: Some(43),
                    text: String::new(),
                    current: false
                },
            ]
        );
        assert_eq!(
            top.vars,
            vec![
                ("cart".into(), r#"{"id":7}"#.into()),
                ("total".into(), "0".into())
            ]
        );
        assert_eq!(chain[1].ty.as_deref(), Some("KeyError"));
    }

    #[test]
    fn an_exception_without_frames_gets_the_crashed_threads() {
        let payload = json!({
            "exception": [{"type": "panic", "value": "boom"}],
            "threads": {"values": [
                {"id": 1, "stacktrace": {"frames": [{"function": "idle"}]}},
                {"id": 2, "crashed": true, "stacktrace": {"frames": [{"function": "main"}, {"function": "std::panicking::begin_panic"}]}}
            ]}
        });
        let chain = exceptions(&payload);
        let names: Vec<_> = chain[0]
            .frames
            .iter()
            .map(|f| f.function.as_deref())
            .collect();
        assert_eq!(
            names,
            vec![Some("std::panicking::begin_panic"), Some("main")]
        );
        assert!(!chain[0].frames[0].in_app);
    }
}
