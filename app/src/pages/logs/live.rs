//! Live tail: an `EventSource` on `/logs/tail` that hands each new line (and each
//! "skipped" notice) to the page. Dropping the [`Tail`] closes the connection.

use crate::api::LogLine;

/// How the live connection is doing, for the status next to the toggle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    not(feature = "hydrate"),
    expect(dead_code, reason = "only the browser build opens streams")
)]
pub enum TailState {
    /// Opening (or re-opening after a drop: the browser retries by itself).
    Connecting,
    /// Connected; new lines arrive as they are stored.
    Open,
    /// The browser gave up (the server refused the stream).
    Closed,
}

/// What the server says in an `event: skipped`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct Skipped {
    /// Batches of lines this reader missed because it fell behind.
    #[serde(default)]
    pub batches: u64,
    /// Why, when it is not a number of batches.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What the page does with the stream's events.
#[cfg_attr(
    not(feature = "hydrate"),
    expect(dead_code, reason = "only the browser build opens streams")
)]
pub struct TailHandlers {
    /// A new line matching the query.
    pub line: Box<dyn Fn(LogLine)>,
    /// The server skipped lines.
    pub skipped: Box<dyn Fn(Skipped)>,
    /// The connection changed state.
    pub state: Box<dyn Fn(TailState)>,
}

/// An open live tail.
#[cfg(feature = "hydrate")]
pub struct Tail {
    source: web_sys::EventSource,
    // Kept alive as long as the source can call them.
    _callbacks: Vec<wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>>,
}

/// An open live tail (nothing in the server build).
#[cfg(not(feature = "hydrate"))]
pub struct Tail;

#[cfg(feature = "hydrate")]
impl Drop for Tail {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Opens the stream at `url`; `None` if the browser refuses to.
#[cfg(feature = "hydrate")]
pub fn open(url: &str, handlers: TailHandlers) -> Option<Tail> {
    use std::rc::Rc;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{Event, EventSource, MessageEvent};

    let source = EventSource::new(url).ok()?;
    let handlers = Rc::new(handlers);
    let data = |event: &Event| {
        event
            .dyn_ref::<MessageEvent>()
            .and_then(|m| m.data().as_string())
    };

    let on_line = {
        let handlers = Rc::clone(&handlers);
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            if let Some(line) = data(&event).and_then(|d| serde_json::from_str(&d).ok()) {
                (handlers.line)(line);
            }
        })
    };
    let on_skipped = {
        let handlers = Rc::clone(&handlers);
        Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            let skipped = data(&event)
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default();
            (handlers.skipped)(skipped);
        })
    };
    let on_open = {
        let handlers = Rc::clone(&handlers);
        Closure::<dyn FnMut(Event)>::new(move |_| (handlers.state)(TailState::Open))
    };
    let on_error = {
        let handlers = Rc::clone(&handlers);
        let watched = source.clone();
        Closure::<dyn FnMut(Event)>::new(move |_| {
            let state = if watched.ready_state() == EventSource::CLOSED {
                TailState::Closed
            } else {
                TailState::Connecting
            };
            (handlers.state)(state);
        })
    };
    for (name, callback) in [
        ("line", &on_line),
        ("skipped", &on_skipped),
        ("open", &on_open),
        ("error", &on_error),
    ] {
        source
            .add_event_listener_with_callback(name, callback.as_ref().unchecked_ref())
            .ok()?;
    }
    (handlers.state)(TailState::Connecting);
    Some(Tail {
        source,
        _callbacks: vec![on_line, on_skipped, on_open, on_error],
    })
}

/// The server never streams: see the module documentation.
#[cfg(not(feature = "hydrate"))]
pub fn open(url: &str, handlers: TailHandlers) -> Option<Tail> {
    let _ = (url, handlers);
    None
}
