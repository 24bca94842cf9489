//! First-run setup: creates the owner account. The server serves this page only while no account
//! exists. The password rules shown live are the ones the server enforces (`domain::account`).

use domain::account::{confirmation_problem, password_problems, Username, PASSWORD_MIN_CHARS};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::session::CsrfField;

/// `/setup`.
#[component]
pub fn SetupPage() -> impl IntoView {
    let query = use_query_map();
    let server_error = query
        .with_untracked(|q| q.get("error"))
        .map(|code| match code.as_str() {
            "exists" => "An owner account already exists. Sign in instead.".to_string(),
            "csrf" => "The form expired. Please submit it again.".to_string(),
            _ => {
                "The account was not created: the username or password breaks a rule below.".into()
            }
        });

    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let problems = Memo::new(move |_| {
        let name = username.get();
        let pass = password.get();
        let mut found = Vec::new();
        if !name.is_empty() {
            found.extend(Username::parse(&name).err());
        }
        if !pass.is_empty() {
            found.extend(password_problems(&pass, &name));
        }
        let again = confirm.get();
        if !again.is_empty() {
            found.extend(confirmation_problem(&pass, &again));
        }
        found
    });
    let input = |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));

    view! {
        <Title text="Set up" />
        <main class="auth-page">
            <form class="card auth-card" method="post" action="/auth/setup">
                <h1>"Welcome to Herald"</h1>
                <p>"Create the owner account. You will use it to sign in to this installation."</p>
                {server_error.map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <CsrfField />
                <label for="username">"Username"</label>
                <input id="username" name="username" autocomplete="username" required autofocus
                    on:input=input(username) />
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="new-password"
                    required on:input=input(password) />
                <label for="password_confirm">"Repeat the password"</label>
                <input id="password_confirm" name="password_confirm" type="password"
                    autocomplete="new-password" required on:input=input(confirm) />
                <ul class="rules" aria-live="polite" data-testid="setup-problems">
                    {move || {
                        let found = problems.get();
                        if found.is_empty() {
                            view! {
                                <li class="rule-hint">
                                    {format!(
                                        "Username: 3–64 characters of a-z, 0-9, . _ - @. Password: at least {PASSWORD_MIN_CHARS} characters."
                                    )}
                                </li>
                            }
                            .into_any()
                        } else {
                            found
                                .into_iter()
                                .map(|p| view! { <li class="rule-broken" data-rule=p.rule>{p.message}</li> })
                                .collect_view()
                                .into_any()
                        }
                    }}
                </ul>
                <button type="submit" class="button button-primary"
                    disabled=move || !problems.get().is_empty()>
                    "Create account"
                </button>
            </form>
        </main>
    }
}
