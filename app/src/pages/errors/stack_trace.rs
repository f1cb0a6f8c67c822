//! The exception chain of an event, innermost exception first, each with its
//! type, value, how it was caught, and its stack, innermost call first.
//!
//! Application frames are highlighted; runs of library frames fold into one
//! "N library frames" line (unless the stack has no application frame at all).
//! A frame opens to show its source lines and local variables; the innermost
//! application frame of the first exception starts open.

use leptos::prelude::*;

use super::event_data::KeyValueTable;
use super::exception::{ExceptionPart, Mechanism, StackFrame};

/// A stretch of the stack: one frame shown, or library frames folded together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameGroup {
    /// The frame at this index.
    Shown(usize),
    /// Consecutive library frames at these indexes, folded.
    Folded(Vec<usize>),
}

/// Groups frames by their `in_app` flags: application frames shown, runs of
/// library frames folded. Without any application frame everything is shown.
pub fn group_frames(in_app: &[bool]) -> Vec<FrameGroup> {
    if !in_app.iter().any(|a| *a) {
        return (0..in_app.len()).map(FrameGroup::Shown).collect();
    }
    let mut groups = Vec::new();
    for (i, app) in in_app.iter().enumerate() {
        match (app, groups.last_mut()) {
            (true, _) => groups.push(FrameGroup::Shown(i)),
            (false, Some(FrameGroup::Folded(run))) => run.push(i),
            (false, _) => groups.push(FrameGroup::Folded(vec![i])),
        }
    }
    groups
}

/// The whole chain.
#[component]
pub fn ExceptionChain(
    /// Innermost exception first.
    chain: Vec<ExceptionPart>,
) -> impl IntoView {
    let items = chain
        .into_iter()
        .enumerate()
        .map(|(i, exception)| {
            let caused =
                (i > 0).then(|| view! { <p class="exception-cause muted">"Caused by"</p> });
            view! {
                {caused}
                <ExceptionView exception open_first=i == 0/>
            }
        })
        .collect_view();
    view! { <div class="exception-chain">{items}</div> }
}

/// How an exception was caught, in words.
fn mechanism_view(mechanism: Mechanism) -> impl IntoView {
    let handled = mechanism.handled.map(|handled| {
        if handled {
            view! { <span class="badge muted">"handled"</span> }.into_any()
        } else {
            view! { <span class="badge exception-unhandled">"unhandled"</span> }.into_any()
        }
    });
    view! {
        <p class="exception-mechanism">
            <span class="muted">"mechanism: "</span>
            <code>{mechanism.kind.unwrap_or_else(|| "unknown".to_owned())}</code>
            " "
            {handled}
            {mechanism.description.map(|d| view! { <span class="muted">{format!(" — {d}")}</span> })}
        </p>
    }
}

/// One exception and its stack.
#[component]
fn ExceptionView(exception: ExceptionPart, open_first: bool) -> impl IntoView {
    let ty = exception.ty.unwrap_or_else(|| "Error".to_owned());
    let module = exception
        .module
        .map(|m| view! { <span class="muted exception-module">{format!(" ({m})")}</span> });
    let frames = if exception.frames.is_empty() {
        view! { <p class="muted">"The SDK sent no stack trace for this exception."</p> }.into_any()
    } else {
        view! { <StackFrames frames=exception.frames open_first/> }.into_any()
    };
    view! {
        <div class="exception">
            <h3 class="exception-type">{ty}{module}</h3>
            {exception.value.map(|v| view! { <p class="exception-value">{v}</p> })}
            {exception.mechanism.map(mechanism_view)}
            {frames}
        </div>
    }
    .into_any()
}

/// A stack, innermost call first.
#[component]
pub fn StackFrames(
    /// Innermost first.
    frames: Vec<StackFrame>,
    /// Whether the innermost application frame starts open.
    open_first: bool,
) -> impl IntoView {
    let flags: Vec<bool> = frames.iter().map(|f| f.in_app).collect();
    let first_app = open_first.then(|| flags.iter().position(|a| *a)).flatten();
    let frames = StoredValue::new(frames);
    let frame = move |i: usize| {
        frames
            .with_value(|all| all.get(i).cloned())
            .map(|f| view! { <FrameView frame=f open=Some(i) == first_app/> })
    };
    let items = group_frames(&flags)
        .into_iter()
        .map(|group| match group {
            FrameGroup::Shown(i) => frame(i).into_any(),
            FrameGroup::Folded(run) => {
                let unfolded = RwSignal::new(false);
                let count = run.len();
                let label = format!("{count} library frame{}", if count == 1 { "" } else { "s" });
                let run = StoredValue::new(run);
                view! {
                    <Show
                        when=move || unfolded.get()
                        fallback=move || view! {
                            <li class="frame-folded">
                                <button
                                    type="button"
                                    class="frame-unfold"
                                    aria-expanded="false"
                                    on:click=move |_| unfolded.set(true)
                                >
                                    {format!("Show {label}")}
                                </button>
                            </li>
                        }
                    >
                        {move || run.get_value().into_iter().map(frame).collect_view()}
                    </Show>
                }
                .into_any()
            }
        })
        .collect_view();
    view! { <ol class="frames">{items}</ol> }.into_any()
}

/// `:42` or `:42:7`.
fn line_suffix(frame: &StackFrame) -> String {
    match (frame.lineno, frame.colno) {
        (Some(line), Some(col)) => format!(":{line}:{col}"),
        (Some(line), None) => format!(":{line}"),
        _ => String::new(),
    }
}

/// One frame: its line, opening to its source and variables.
#[component]
fn FrameView(frame: StackFrame, open: bool) -> impl IntoView {
    let open = RwSignal::new(open && frame.has_detail());
    let expandable = frame.has_detail();
    let function = frame
        .function
        .clone()
        .unwrap_or_else(|| "<anonymous>".to_owned());
    let line = line_suffix(&frame);
    let location = frame.location().map(|l| {
        view! {
            <span class="muted">" in "</span>
            <span class="frame-location" title=frame.abs_path.clone().unwrap_or_else(|| l.to_owned())>
                {l.to_owned()}
                <span class="frame-line">{line.clone()}</span>
            </span>
        }
    });
    // A module names the code, but the file says where to look: show both.
    let file = frame
        .module
        .as_ref()
        .and(frame.filename.clone())
        .map(|f| view! { <span class="muted frame-file">{format!(" ({f})")}</span> });
    let badge = frame
        .in_app
        .then(|| view! { <span class="badge frame-app">"in app"</span> });
    let head = view! {
        <span class="frame-function">{function}</span>
        {location}
        {file}
        {badge}
    }
    .into_any();
    let head = if expandable {
        view! {
            <button
                type="button"
                class="frame-head"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="frame-toggle" aria-hidden="true">{move || if open.get() { "▾" } else { "▸" }}</span>
                {head}
            </button>
        }
        .into_any()
    } else {
        view! { <div class="frame-head">{head}</div> }.into_any()
    };
    let frame = StoredValue::new(frame);
    let detail = move || {
        frame.with_value(|f| {
            let source = f.source();
            let lines = (!source.is_empty()).then(|| {
                let rows = source
                    .into_iter()
                    .map(|line| {
                        view! {
                            <li class="source-line" class:current=line.current>
                                <span class="source-number">{line.number.map(|n| n.to_string()).unwrap_or_default()}</span>
                                <code class="source-text">{line.text}</code>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ol class="frame-source">{rows}</ol> }
            });
            let vars = (!f.vars.is_empty()).then(|| {
                let count = f.vars.len();
                view! {
                    <details class="frame-vars">
                        <summary>{format!("Local variables ({count})")}</summary>
                        <KeyValueTable rows=f.vars.clone() code=true/>
                    </details>
                }
            });
            view! { <div class="frame-detail">{lines} {vars}</div> }.into_any()
        })
    };
    view! {
        <li class="frame" class:in-app=frame.with_value(|f| f.in_app) class:open=move || open.get()>
            {head}
            <Show when=move || open.get()>{detail()}</Show>
        </li>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_runs_fold_between_application_frames() {
        use FrameGroup::{Folded, Shown};
        assert_eq!(
            group_frames(&[false, false, true, false, true]),
            vec![Folded(vec![0, 1]), Shown(2), Folded(vec![3]), Shown(4)]
        );
        assert_eq!(
            group_frames(&[false, false]),
            vec![Shown(0), Shown(1)],
            "a stack of library frames only is shown whole"
        );
    }
}
