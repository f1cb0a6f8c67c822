//! One event of an issue, from `GET /events/{event_id}`: navigation to the
//! oldest, previous, next and latest event (the shown one is `?event=` in the
//! URL), links to the logs, trace and user around it, and the event itself —
//! exception chain and stack, message, breadcrumbs, tags, contexts, request,
//! user and extra data.

use leptos::prelude::*;

use super::event_data::{Breadcrumbs, Contexts, KeyValueTable, RequestView};
use super::links::links;
use super::stack_trace::{ExceptionChain, StackFrames};
use super::{exception, payload};
use crate::api::{client, EventDetail};
use crate::components::level::LevelBadge;
use crate::components::status::{EmptyState, ErrorBox, Loading};
use crate::local_time::absolute_time;

/// The event panel of the issue page.
#[component]
pub fn EventPanel(
    /// The event to show; `None` when the issue has no stored event.
    #[prop(into)]
    event_id: Signal<Option<String>>,
    /// The project (slug), for the correlation links.
    project: StoredValue<String>,
    /// Shows another event of the issue.
    on_pick: Callback<String>,
) -> impl IntoView {
    let event = LocalResource::new(move || {
        let id = event_id.get();
        async move {
            match id {
                Some(id) => Some(client::event(&id).await),
                None => None,
            }
        }
    });
    let body = move || {
        event.get().map(|answer| match answer {
            None => view! {
                <EmptyState
                    title="No stored events"
                    detail="The events of this issue are past retention; new ones will show here."
                />
            }
            .into_any(),
            Some(Err(e)) => view! { <ErrorBox error=e/> }.into_any(),
            Some(Ok(event)) => view! { <EventBody event project on_pick/> }.into_any(),
        })
    };
    view! {
        <section class="card event-panel" aria-labelledby="event-title">
            <Transition fallback=|| view! { <Loading what="Loading the event…"/> }>{body}</Transition>
        </section>
    }
    .into_any()
}

/// A titled part of the event.
#[component]
fn Part(
    /// The section's id.
    id: &'static str,
    /// Its heading.
    title: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="event-section" id=id>
            <h2>{title}</h2>
            {children()}
        </section>
    }
}

/// The navigation buttons: each goes to its event unless it is this one or none.
fn navigation(event: &EventDetail, on_pick: Callback<String>) -> impl IntoView {
    let buttons = [
        ("event-oldest", "Oldest", &event.oldest_event_id),
        ("event-previous", "Previous", &event.previous_event_id),
        ("event-next", "Next", &event.next_event_id),
        ("event-latest", "Latest", &event.latest_event_id),
    ]
    .into_iter()
    .map(|(id, label, target)| {
        let target = target.clone().filter(|t| *t != event.event_id);
        let disabled = target.is_none();
        view! {
            <button
                id=id
                type="button"
                class="button secondary small"
                disabled=disabled
                on:click=move |_| {
                    if let Some(target) = target.clone() {
                        on_pick.run(target);
                    }
                }
            >
                {label}
            </button>
        }
    })
    .collect_view();
    view! { <nav class="event-nav" aria-label="Events of this issue">{buttons}</nav> }
}

/// The loaded event.
#[component]
fn EventBody(
    event: EventDetail,
    project: StoredValue<String>,
    on_pick: Callback<String>,
) -> impl IntoView {
    let p = &event.payload;
    let chain = exception::exceptions(p);
    let stack = if chain.is_empty() {
        exception::event_frames(p)
    } else {
        Vec::new()
    };
    let message = payload::message(p);
    let crumbs = payload::breadcrumbs(p);
    let tags = payload::tags(&event.tags);
    let contexts = payload::contexts(p);
    let request = payload::request(p);
    let user = payload::user(p);
    let extra = payload::extra(p);
    let ts_ms = event.ts.timestamp_millis();

    let facts = [
        ("release", event.release.clone()),
        ("environment", event.environment.clone()),
        ("transaction", event.transaction.clone()),
    ]
    .into_iter()
    .filter_map(|(key, value)| {
        value.map(|v| view! { <span class="event-fact"><span class="muted">{format!("{key} ")}</span><code>{v}</code></span> })
    })
    .collect_view();
    let link_items = links(&event, &project.get_value())
        .into_iter()
        .map(|l| view! { <a id=l.id class="button secondary small" href=l.href>{l.label}</a> })
        .collect_view();

    let exception_part = (!chain.is_empty()).then(|| {
        view! { <Part id="event-exception" title="Exception"><ExceptionChain chain/></Part> }
    });
    let stack_part = (!stack.is_empty()).then(|| {
        view! {
            <Part id="event-stack" title="Stack trace">
                <StackFrames frames=stack open_first=true/>
            </Part>
        }
    });
    let message_part = message.map(|m| {
        view! { <Part id="event-message" title="Message"><pre class="event-message">{m}</pre></Part> }
    });
    let crumbs_part = (!crumbs.is_empty()).then(|| {
        view! { <Part id="event-breadcrumbs" title="Breadcrumbs"><Breadcrumbs crumbs/></Part> }
    });
    let tags_part = (!tags.is_empty()).then(|| {
        view! { <Part id="event-tags" title="Tags"><KeyValueTable rows=tags code=true/></Part> }
    });
    let contexts_part = (!contexts.is_empty()).then(|| {
        view! { <Part id="event-contexts" title="Contexts"><Contexts contexts/></Part> }
    });
    let request_part = request.map(|request| {
        view! { <Part id="event-request" title="Request"><RequestView request/></Part> }
    });
    let user_part = (!user.is_empty()).then(|| {
        view! { <Part id="event-user" title="User"><KeyValueTable rows=user/></Part> }
    });
    let extra_part = (!extra.is_empty()).then(|| {
        view! { <Part id="event-extra" title="Additional data"><KeyValueTable rows=extra code=true/></Part> }
    });

    view! {
        <header class="event-header">
            <h2 id="event-title">
                "Event "
                <code title=event.event_id.clone()>{event.event_id.chars().take(8).collect::<String>()}</code>
            </h2>
            <LevelBadge level=event.level.clone()/>
            <time class="muted" datetime=event.ts.to_rfc3339()>{absolute_time(ts_ms)}</time>
            {navigation(&event, on_pick)}
        </header>
        <div class="event-facts">{facts}</div>
        <div class="event-links">{link_items}</div>
        {exception_part}
        {stack_part}
        {message_part}
        {crumbs_part}
        {tags_part}
        {contexts_part}
        {request_part}
        {user_part}
        {extra_part}
    }
    .into_any()
}
