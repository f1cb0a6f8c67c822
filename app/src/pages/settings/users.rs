//! Settings → Users (admin only): the list, a form to add a user with a role,
//! and on each row: edit the name and role, deactivate or reactivate, remove
//! (after a confirmation). The server keeps one active admin and says so.

use leptos::prelude::*;

use super::short_date;
use crate::api::{client, client::ApiError, NewUser, Role, User, UserPatch};
use crate::components::status::{EmptyState, ErrorBox, ErrorText, Loading};

/// The `<option>`s of a role `<select>`, lowest role first, `selected` preselected.
pub(super) fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| view! { <option value=role.as_str() selected=role == selected>{role.as_str()}</option> })
        .collect_view()
}

/// The users table and the add-user form.
#[component]
pub fn UsersSection() -> impl IntoView {
    let users = LocalResource::new(client::users);
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let generated = RwSignal::new(None::<(String, String)>);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = password.get_untracked();
        let request = NewUser {
            email: email.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
            password: (!typed.is_empty()).then_some(typed),
        };
        if request.email.is_empty() {
            error.set(Some("Enter an email.".to_owned()));
            return;
        }
        leptos::task::spawn_local(async move {
            match client::create_user(&request).await {
                Ok(done) => {
                    error.set(None);
                    email.set(String::new());
                    password.set(String::new());
                    generated.set(done.password.map(|p| (done.user.email, p)));
                    users.refetch();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    let list = move || {
        users.get().map(|answer| match answer {
            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            Ok(all) if all.is_empty() => view! { <EmptyState title="No users"/> }.into_any(),
            Ok(all) => {
                let rows = all
                    .into_iter()
                    .map(|user| view! { <UserRow user users/> })
                    .collect_view();
                view! {
                    <table class="table user-table">
                        <thead>
                            <tr>
                                <th>"Name"</th>
                                <th>"Email"</th>
                                <th>"Role"</th>
                                <th>"Status"</th>
                                <th>"Created"</th>
                                <th class="actions">"Actions"</th>
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
        <section id="users" class="card section">
            <h2>"Users"</h2>
            <form class="inline-form" on:submit=create>
                <label class="field">
                    <span>"Email"</span>
                    <input id="user-email" class="input" type="email" bind:value=email/>
                </label>
                <label class="field">
                    <span>"Role"</span>
                    <select
                        id="user-role"
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
                <label class="field">
                    <span>"Password (blank: generate one)"</span>
                    <input id="user-password" class="input" type="password" autocomplete="new-password" bind:value=password/>
                </label>
                <button id="user-create" class="button" type="submit">"Add user"</button>
            </form>
            <ErrorText message=error/>
            {move || {
                generated
                    .get()
                    .map(|(who, secret)| {
                        view! {
                            <div class="notice secret">
                                <p>{format!("Password for {who} — shown only now, pass it on safely:")}</p>
                                <code class="generated-password">{secret}</code>
                            </div>
                        }
                    })
            }}
            <Suspense fallback=|| view! { <Loading what="Loading users…"/> }>{list}</Suspense>
        </section>
    }
    .into_any()
}

/// What a user row is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowMode {
    View,
    Editing,
    ConfirmingRemove,
}

/// One user, with edit, deactivate or reactivate, and remove.
#[component]
fn UserRow(user: User, users: LocalResource<Result<Vec<User>, ApiError>>) -> impl IntoView {
    let id = user.user_id;
    let mode = RwSignal::new(RowMode::View);
    let name = RwSignal::new(user.name.clone());
    let role = RwSignal::new(user.role);
    let (saved_name, saved_role) = (StoredValue::new(user.name.clone()), user.role);
    // Cancel puts the form back as the user is.
    let cancel = move |_| {
        name.set(saved_name.get_value());
        role.set(saved_role);
        mode.set(RowMode::View);
    };
    let error = RwSignal::new(None::<String>);
    let change = move |patch: UserPatch| {
        leptos::task::spawn_local(async move {
            match client::update_user(id, &patch).await {
                Ok(_) => {
                    error.set(None);
                    mode.set(RowMode::View);
                    users.refetch();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        change(UserPatch {
            name: Some(name.get_untracked().trim().to_owned()),
            role: Some(role.get_untracked()),
            active: None,
        });
    };
    let active = user.active;
    let toggle_active = move |_| {
        change(UserPatch {
            active: Some(!active),
            ..UserPatch::default()
        });
    };
    let remove = move |_| {
        leptos::task::spawn_local(async move {
            match client::delete_user(id).await {
                Ok(()) => users.refetch(),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let email = user.email.clone();
    let actions = move || {
        match mode.get() {
        RowMode::View => view! {
            <button type="button" class="button secondary small user-edit" on:click=move |_| mode.set(RowMode::Editing)>
                "Edit"
            </button>
            <button type="button" class="button secondary small user-active" on:click=toggle_active>
                {if active { "Deactivate" } else { "Reactivate" }}
            </button>
            <button type="button" class="button danger small user-remove" on:click=move |_| mode.set(RowMode::ConfirmingRemove)>
                "Remove"
            </button>
        }
        .into_any(),
        RowMode::Editing => view! {
            <form class="inline-form compact user-edit-form" on:submit=save>
                <input class="input" aria-label="Name" placeholder="Name" bind:value=name/>
                <select
                    class="input"
                    aria-label="Role"
                    on:change=move |ev| {
                        if let Ok(r) = event_target_value(&ev).parse::<Role>() {
                            role.set(r);
                        }
                    }
                >
                    {role_options(role.get_untracked())}
                </select>
                <button type="submit" class="button small">"Save"</button>
                <button type="button" class="button secondary small" on:click=cancel>
                    "Cancel"
                </button>
            </form>
        }
        .into_any(),
        RowMode::ConfirmingRemove => view! {
            <span class="confirm">
                {format!("Remove {email}? Their sessions end; what they did stays.")}
                <button type="button" class="button danger small user-remove-confirm" on:click=remove>
                    "Yes, remove"
                </button>
                <button type="button" class="button secondary small" on:click=move |_| mode.set(RowMode::View)>
                    "Cancel"
                </button>
            </span>
        }
        .into_any(),
    }
    };
    let status = if active {
        view! { <span class="badge success">"active"</span> }
    } else {
        view! { <span class="badge muted">"deactivated"</span> }
    };
    view! {
        <tr class="user-row" data-email=user.email.clone()>
            <td class="user-name">{user.name.clone()}</td>
            <td>{user.email.clone()}</td>
            <td><span class="badge user-role">{user.role.as_str()}</span></td>
            <td>{status}</td>
            <td>{short_date(user.created_at)}</td>
            <td class="actions">
                {actions}
                <ErrorText message=error/>
            </td>
        </tr>
    }
    .into_any()
}
