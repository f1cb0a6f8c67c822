//! Settings → API tokens: the list, create (secret shown once) and revoke.

use leptos::prelude::*;

use super::{short_date, users::role_options};
use crate::api::{client, ApiToken, NewToken, Role};
use crate::components::copy_button::CopyButton;
use crate::components::status::{EmptyState, ErrorBox, ErrorText, Loading};

/// The tokens table and the create form.
#[component]
pub fn TokensSection() -> impl IntoView {
    let tokens = LocalResource::new(client::tokens);
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let error = RwSignal::new(None::<String>);
    let secret = RwSignal::new(None::<(String, String)>);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let request = NewToken {
            name: name.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
        };
        if request.name.is_empty() {
            error.set(Some("Enter a name for the token.".to_owned()));
            return;
        }
        leptos::task::spawn_local(async move {
            match client::create_token(&request).await {
                Ok(done) => {
                    error.set(None);
                    name.set(String::new());
                    secret.set(Some((done.api_token.name, done.token)));
                    tokens.refetch();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let list = move || {
        tokens.get().map(|answer| match answer {
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(all) if all.is_empty() => view! {
                <EmptyState title="No API tokens" detail="Tokens let scripts call /api/v1 with a role, e.g. from CI."/>
            }
            .into_any(),
            Ok(all) => {
                let rows = all
                    .into_iter()
                    .map(|t| view! { <TokenRow token=t tokens/> })
                    .collect_view();
                view! {
                    <table class="table">
                        <thead>
                            <tr>
                                <th>"Name"</th>
                                <th>"Role"</th>
                                <th>"Created"</th>
                                <th>"Last used"</th>
                                <th class="actions">"Status"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
                .into_any()
            }
        })
    };

    view! {
        <section id="tokens" class="card section">
            <h2>"API tokens"</h2>
            <form class="inline-form" on:submit=create>
                <label class="field">
                    <span>"Name"</span>
                    <input id="token-name" class="input" placeholder="ci-deploy" bind:value=name/>
                </label>
                <label class="field">
                    <span>"Role"</span>
                    <select
                        id="token-role"
                        class="input"
                        on:change=move |ev| {
                            if let Ok(r) = event_target_value(&ev).parse::<Role>() {
                                role.set(r);
                            }
                        }
                    >
                        {role_options(Role::Viewer)}
                    </select>
                </label>
                <button id="token-create" class="button" type="submit">"Create token"</button>
            </form>
            <ErrorText message=error/>
            {move || {
                secret
                    .get()
                    .map(|(who, value)| {
                        view! {
                            <div class="notice secret">
                                <p>{format!("Secret of {who} — shown only now; store it safely:")}</p>
                                <code class="token-secret">{value.clone()}</code>
                                <CopyButton text=value label="Copy token"/>
                            </div>
                        }
                    })
            }}
            <Suspense fallback=|| view! { <Loading what="Loading tokens…"/> }>{list}</Suspense>
        </section>
    }
    .into_any()
}

/// One token; an active one can be revoked after a confirmation.
#[component]
fn TokenRow(
    token: ApiToken,
    tokens: LocalResource<Result<Vec<ApiToken>, client::ApiError>>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let token_id = token.token_id;
    let revoke = move |_| {
        leptos::task::spawn_local(async move {
            match client::revoke_token(token_id).await {
                Ok(()) => tokens.refetch(),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let status = match token.revoked_at {
        Some(at) => view! { <span class="badge muted">{format!("revoked {}", short_date(at))}</span> }
            .into_any(),
        None => (move || {
            if confirming.get() {
                view! {
                    <span class="confirm">
                        "Revoke?"
                        <button type="button" class="button danger small" on:click=revoke>"Yes, revoke"</button>
                        <button type="button" class="button secondary small" on:click=move |_| confirming.set(false)>
                            "Cancel"
                        </button>
                    </span>
                }
                .into_any()
            } else {
                view! {
                    <span class="badge success">"active"</span>
                    <button type="button" class="button danger small" on:click=move |_| confirming.set(true)>
                        "Revoke"
                    </button>
                }
                .into_any()
            }
        })
        .into_any(),
    };
    view! {
        <tr>
            <td>{token.name}</td>
            <td><span class="badge">{token.role.as_str()}</span></td>
            <td>{short_date(token.created_at)}</td>
            <td>{token.last_used_at.map(short_date).unwrap_or_else(|| "never".to_owned())}</td>
            <td class="actions">{status}<ErrorText message=error/></td>
        </tr>
    }
    .into_any()
}
