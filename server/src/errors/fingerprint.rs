//! Grouping: which events are "the same error". [`components`] lists what an
//! event is grouped by and [`hash`] turns that list into the group's key.
//!
//! The rules, in order:
//!
//! 1. **A custom fingerprint wins.** The event's `fingerprint` array (set in the
//!    SDK's `before_send` or scope) is used as it is, except that an element
//!    `{{ default }}` expands to the default components below; so
//!    `["{{ default }}", "tenant-a"]` splits the default group by tenant.
//! 2. **Exceptions.** For each exception of the chain, oldest first: its type,
//!    then its innermost application frame as `module in function` (or
//!    `file in function`, the file's basename without directories or query
//!    string, when the frame has no module). An exception without an application
//!    frame contributes its message, [normalised](message::normalise), instead.
//! 3. **Messages.** The message template (`logentry.message`, e.g.
//!    `"User %s failed"`) when the SDK sent one, else the formatted message;
//!    normalised either way.
//!
//! Why only the innermost application frame: an error raised in `f` is the same
//! error whichever caller reached `f`, so the callers (the frames above) must not
//! split the group; line numbers are left out because any edit above the raise
//! moves them. The cost is that a helper that raises one exception type for many
//! reasons (a database wrapper, say) puts them all in one group; a custom
//! fingerprint splits them. Exception types are always part of the components, so
//! different types never group together.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::exception::{self, Exception};
use super::message::{self, EventMessage};

/// The fingerprint element that stands for the default components.
pub const DEFAULT_VARIABLE: &str = "{{ default }}";

/// The single component of an event with neither exception nor message.
pub const UNLABELED: &str = "<unlabeled event>";

/// What the event is grouped by (see the [module docs](self)).
pub fn components(event: &Value) -> Vec<String> {
    let Some(custom) = custom(event) else {
        return default_components(event);
    };
    let mut components = Vec::with_capacity(custom.len());
    for element in custom {
        if is_default_variable(&element) {
            components.extend(default_components(event));
        } else {
            components.push(element);
        }
    }
    components
}

/// The group key of a list of components: 32 hex characters (the first 16 bytes
/// of their SHA-256). Each component is hashed with its length, so
/// `["ab", "c"]` and `["a", "bc"]` differ.
pub fn hash(components: &[String]) -> String {
    let mut hasher = Sha256::new();
    for component in components {
        hasher.update((component.len() as u64).to_le_bytes());
        hasher.update(component.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// The SDK's fingerprint: strings (and numbers, which some SDKs let through)
/// kept, anything else skipped; `None` when nothing usable is left.
fn custom(event: &Value) -> Option<Vec<String>> {
    let elements: Vec<String> = event
        .get("fingerprint")?
        .as_array()?
        .iter()
        .filter_map(|element| match element {
            Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        })
        .collect();
    (!elements.is_empty()).then_some(elements)
}

/// `{{ default }}`, with any spacing inside the braces and any case.
fn is_default_variable(element: &str) -> bool {
    element
        .trim()
        .strip_prefix("{{")
        .and_then(|rest| rest.strip_suffix("}}"))
        .is_some_and(|name| name.trim().eq_ignore_ascii_case("default"))
}

fn default_components(event: &Value) -> Vec<String> {
    let chain = exception::chain(event);
    let from_chain: Vec<String> = chain.iter().flat_map(exception_components).collect();
    if !from_chain.is_empty() {
        return from_chain;
    }
    if let Some(message) = EventMessage::from_event(event) {
        let text = message.template.unwrap_or(message.formatted);
        let normalised = message::normalise(&text);
        if !normalised.is_empty() {
            return vec![normalised];
        }
    }
    vec![UNLABELED.to_owned()]
}

fn exception_components(exception: &Exception<'_>) -> Vec<String> {
    let mut components = Vec::with_capacity(2);
    if let Some(ty) = exception.ty {
        components.push(ty.to_owned());
    }
    match exception::innermost_in_app(&exception.frames).and_then(|f| f.grouping_key()) {
        Some(frame) => components.push(frame),
        None => {
            let value = exception.value.map(message::normalise);
            components.extend(value.filter(|v| !v.is_empty()));
        }
    }
    components
}

#[cfg(test)]
#[path = "fingerprint_tests.rs"]
mod tests;
