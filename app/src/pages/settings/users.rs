//! Settings → Users (admin only): the list and a form to add a user with a role.

use leptos::prelude::*;

use super::short_date;
use crate::api::{client, NewUser, Role};
use crate::components::status::{EmptyState, ErrorBox, ErrorText, Loading};

/// The `<option>`s of a role `<select>`, lowest role first, `selected` preselected.
pub(super) fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| view! { <option value=role.as_str() selected=role == selected>{role.as_str()}</option> })
        .collect_view()
}

/// The users table and the add-user form. A non-admin sees the server's 403 message.
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
                    .map(|u| {
                        view! {
                            <tr>
                                <td>{u.email}</td>
                                <td><span class="badge">{u.role.as_str()}</span></td>
                                <td>{short_date(u.created_at)}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <table class="table">
                        <thead>
                            <tr><th>"Email"</th><th>"Role"</th><th>"Created"</th></tr>
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
