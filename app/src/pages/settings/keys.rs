//! Settings → Ingest keys of the selected project: each key with its DSN, copy,
//! rotate and revoke (admins); a form for a new key (admins); SDK setup
//! snippets.

use leptos::prelude::*;

use super::{short_date, snippets::SdkSnippets};
use crate::api::{client, NewKey, Project, ProjectKey, Role};
use crate::components::copy_button::CopyButton;
use crate::components::status::{EmptyState, ErrorBox, ErrorText, Loading};
use crate::session::{use_denied, use_selected_project, use_session};

/// The section: waits for the project list, then shows the selected project's keys.
#[component]
pub fn KeysSection() -> impl IntoView {
    let session = use_session();
    let selected = use_selected_project();
    // Re-create the key list only when the selected project really changes.
    let selected = Memo::new(move |_| selected.get());
    let body = move || {
        session.projects.get().map(|answer| match answer {
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(projects) if projects.is_empty() => view! {
                <EmptyState title="No projects yet" detail="Ingest keys belong to a project: create one in the Projects tab first."/>
            }
            .into_any(),
            Ok(_) => match selected.get() {
                Some(project) => view! { <ProjectKeys project/> }.into_any(),
                None => view! { <EmptyState title="Choose a project in the top bar"/> }.into_any(),
            },
        })
    };
    view! {
        <section id="keys" class="card section">
            <h2>"Ingest keys"</h2>
            <Suspense fallback=|| view! { <Loading what="Loading projects…"/> }>{body}</Suspense>
        </section>
    }
    .into_any()
}

/// The keys of one project, loaded from `GET /projects/{slug}/keys`.
#[component]
fn ProjectKeys(project: Project) -> impl IntoView {
    let slug = StoredValue::new(project.slug.clone());
    let keys = LocalResource::new(move || {
        let slug = slug.get_value();
        async move { client::keys(&slug).await }
    });
    let label = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let denied = use_denied(Role::Admin, "Creating and revoking keys");

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = label.get_untracked().trim().to_owned();
        let request = NewKey {
            label: (!text.is_empty()).then_some(text),
        };
        leptos::task::spawn_local(async move {
            match client::create_key(&slug.get_value(), &request).await {
                Ok(key) => {
                    error.set(None);
                    label.set(String::new());
                    notice.set(Some(format!("Created key \u{201c}{}\u{201d}.", key.label)));
                    keys.refetch();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let list = move || {
        keys.get().map(|answer| match answer {
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(all) => {
                let (active, revoked): (Vec<ProjectKey>, Vec<ProjectKey>) =
                    all.into_iter().partition(|k| k.revoked_at.is_none());
                let snippets = active.first().map(|k| {
                    view! { <SdkSnippets dsn=k.dsn.clone() key=k.public_key.clone()/> }
                });
                let empty = active.is_empty().then(|| {
                    view! {
                        <EmptyState title="No active keys" detail="This project accepts no data until it has a key: create one above."/>
                    }
                });
                let cards = active
                    .into_iter()
                    .map(|key| view! { <KeyCard key slug refresh=keys notice/> })
                    .collect_view();
                let revoked_list = (!revoked.is_empty()).then(|| {
                    let count = revoked.len();
                    let rows = revoked
                        .into_iter()
                        .map(|k| {
                            view! {
                                <li>
                                    <span class="badge muted">"revoked"</span>
                                    {format!(" {} — ", k.label)}
                                    <code class="revoked-key">{k.public_key}</code>
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <details class="revoked">
                            <summary>{format!("Revoked keys ({count})")}</summary>
                            <ul>{rows}</ul>
                        </details>
                    }
                });
                view! { {empty} {cards} {revoked_list} {snippets} }.into_any()
            }
        })
    };

    view! {
        <p class="muted">
            {format!("Keys of {} ({}). A key authenticates ingestion into this project only.", project.name, project.slug)}
        </p>
        <Show when=move || denied.with(Option::is_none)>
            <form class="inline-form" on:submit=create>
                <label class="field">
                    <span>"Label"</span>
                    <input id="key-label" class="input" placeholder="production" bind:value=label/>
                </label>
                <button id="key-create" class="button" type="submit">"Create key"</button>
            </form>
        </Show>
        <ErrorText message=error/>
        {move || notice.get().map(|text| view! { <div class="notice">{text}</div> })}
        <Suspense fallback=|| view! { <Loading what="Loading keys…"/> }>{list}</Suspense>
    }
    .into_any()
}

/// What a key card is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirming {
    Nothing,
    Rotate,
    Revoke,
}

/// One active key: label, key, DSN with Copy, rotate and revoke.
#[component]
fn KeyCard(
    key: ProjectKey,
    slug: StoredValue<String>,
    refresh: LocalResource<Result<Vec<ProjectKey>, client::ApiError>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let key_id = key.key_id;
    let confirming = RwSignal::new(Confirming::Nothing);
    let error = RwSignal::new(None::<String>);
    let denied = use_denied(Role::Admin, "Rotating and revoking keys");

    let rotate = move |_| {
        leptos::task::spawn_local(async move {
            match client::rotate_key(&slug.get_value(), key_id).await {
                Ok(new_key) => {
                    notice.set(Some(format!(
                        "Rotated: the new key is {}; the old one is revoked. Update your DSN.",
                        new_key.public_key
                    )));
                    refresh.refetch();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let revoke = move |_| {
        leptos::task::spawn_local(async move {
            match client::revoke_key(&slug.get_value(), key_id).await {
                Ok(()) => {
                    notice.set(Some("Key revoked.".to_owned()));
                    refresh.refetch();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let actions = move || {
        if denied.with(Option::is_some) {
            return ().into_any();
        }
        match confirming.get() {
        Confirming::Nothing => view! {
            <button type="button" class="button secondary small" on:click=move |_| confirming.set(Confirming::Rotate)>
                "Rotate"
            </button>
            <button type="button" class="button danger small" on:click=move |_| confirming.set(Confirming::Revoke)>
                "Revoke"
            </button>
        }
        .into_any(),
        Confirming::Rotate => view! {
            <span class="confirm">
                "Replace this key with a new one? Clients using it stop working."
                <button type="button" class="button small" on:click=rotate>"Yes, rotate"</button>
                <button type="button" class="button secondary small" on:click=move |_| confirming.set(Confirming::Nothing)>
                    "Cancel"
                </button>
            </span>
        }
        .into_any(),
        Confirming::Revoke => view! {
            <span class="confirm">
                "Revoke this key? Clients using it stop working."
                <button type="button" class="button danger small" on:click=revoke>"Yes, revoke"</button>
                <button type="button" class="button secondary small" on:click=move |_| confirming.set(Confirming::Nothing)>
                    "Cancel"
                </button>
            </span>
        }
        .into_any(),
    }
    };

    view! {
        <div class="key-card">
            <div class="key-head">
                <strong>{key.label.clone()}</strong>
                <span class="badge success">"active"</span>
                <span class="muted">{format!("created {}", short_date(key.created_at))}</span>
            </div>
            <dl class="key-fields">
                <dt>"DSN"</dt>
                <dd>
                    <code class="dsn">{key.dsn.clone()}</code>
                    <CopyButton text=key.dsn.clone() label="Copy DSN"/>
                </dd>
                <dt>"Key"</dt>
                <dd>
                    <code class="public-key">{key.public_key.clone()}</code>
                    <CopyButton text=key.public_key.clone() label="Copy key"/>
                </dd>
            </dl>
            <div class="key-actions">{actions}</div>
            <ErrorText message=error/>
        </div>
    }
    .into_any()
}
