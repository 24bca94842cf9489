//! `/settings`: WhatsApp connections — add (with the same live checks the server enforces), test,
//! delete, send a test message and watch its delivery, and make simulated users write to the
//! sandbox.

use domain::whatsapp::connection::{
    draft_problems, sandbox_problems, ConnectionDraft, SandboxSettings, KINDS,
};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::whatsapp::{
    list_connections, recent_inbound, recent_sent_messages, AddConnection, ConfigureSandbox,
    ConnectionSummary, DeleteConnection, SendTestMessage, SimulateInbound, TestConnection,
};
use crate::components::refresh::refresh_tick;
use crate::components::settings_nav::SettingsNav;
use crate::session::PageSession;

/// How often live lists refresh in the browser, in milliseconds.
const REFRESH_MS: u64 = 1_000;

/// `/settings`.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let add = ServerAction::<AddConnection>::new();
    let delete = ServerAction::<DeleteConnection>::new();
    let connections = Resource::new(
        move || (add.version().get(), delete.version().get()),
        |_| list_connections(),
    );
    view! {
        <Title text="Settings" />
        <h1>"Settings"</h1>
        <SettingsNav />
        <h2>"WhatsApp connections"</h2>
        <p class="muted">
            "Each connection is one sender number. Secrets are stored in the data directory and "
            "shown masked. Register the webhook URL of a connection at Meta (or 360dialog) so "
            "delivery reports and replies reach Herald."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match connections.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="notice">"No connections yet. Add one below, or add a sandbox to try Herald without a Meta account."</p>
                    }.into_any(),
                    Ok(list) => list
                        .into_iter()
                        .map(|c| view! { <ConnectionCard connection=c delete=delete /> })
                        .collect_view()
                        .into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <AddConnectionForm add=add />
    }
}

/// One connection with its actions.
#[component]
fn ConnectionCard(
    connection: ConnectionSummary,
    delete: ServerAction<DeleteConnection>,
) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let id = connection.id.clone();
    let test = ServerAction::<TestConnection>::new();
    let test_request = {
        let (csrf, id) = (csrf.clone(), id.clone());
        move |_| {
            test.dispatch(TestConnection {
                csrf_token: csrf.clone(),
                id: id.clone(),
            });
        }
    };
    let delete_request = {
        let (csrf, id, name) = (csrf.clone(), id.clone(), connection.name.clone());
        move |_| {
            let sure = window()
                .confirm_with_message(&format!(
                    "Delete the connection \"{name}\"? Its message history stays."
                ))
                .unwrap_or(false);
            if sure {
                delete.dispatch(DeleteConnection {
                    csrf_token: csrf.clone(),
                    id: id.clone(),
                });
            }
        }
    };
    let facts = connection
        .facts
        .iter()
        .chain(connection.secrets.iter())
        .map(|(label, value)| view! { <dt>{label.clone()}</dt><dd><code>{value.clone()}</code></dd> })
        .collect_view();
    view! {
        <section class="card connection" data-testid="connection-card" data-kind=connection.kind.clone()>
            <header class="connection-head">
                <h3>{connection.name.clone()}</h3>
                <span class=if connection.simulated { "badge badge-simulated" } else { "badge" }>
                    {connection.kind_label.clone()}
                </span>
            </header>
            {connection.simulated.then(|| view! {
                <p class="notice">"Simulated: nothing here reaches WhatsApp. Messages go to made-up users whose replies and delivery reports Herald invents, through the same code paths as a real number."</p>
            })}
            <dl class="facts">
                {facts}
                <dt>"Webhook URL"</dt><dd><code data-testid="webhook-url">{connection.webhook_url.clone()}</code></dd>
            </dl>
            <div class="actions">
                <button class="button" data-testid="test-connection" on:click=test_request
                    disabled=move || test.pending().get()>
                    {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                </button>
                <button class="button button-quiet" on:click=delete_request>"Delete"</button>
            </div>
            <div aria-live="polite" data-testid="check-result">
                {move || test.value().get().map(|result| match result {
                    Ok(report) => {
                        let facts = report.facts.into_iter()
                            .map(|(l, v)| view! { <dt>{l}</dt><dd>{v}</dd> })
                            .collect_view();
                        view! {
                            <div class=if report.ok { "notice" } else { "error" } data-ok=report.ok.to_string()>
                                <p>{report.summary}</p>
                                <dl class="facts">{facts}</dl>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                })}
            </div>
            <TestMessagePanel connection_id=id.clone() simulated=connection.simulated />
            {connection.simulated.then(|| view! { <SimulatedUserPanel connection_id=id.clone() /> })}
            {connection.sandbox.clone().map(|settings| view! {
                <SandboxSettingsPanel connection_id=id.clone() settings=settings />
            })}
        </section>
    }
}

/// Send a text and follow its delivery reports.
#[component]
fn TestMessagePanel(connection_id: String, simulated: bool) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let to = RwSignal::new(String::new());
    let text = RwSignal::new("Hello from Herald".to_string());
    let send = ServerAction::<SendTestMessage>::new();
    let tick = refresh_tick(REFRESH_MS);
    let sent = {
        let id = connection_id.clone();
        Resource::new(
            move || (send.version().get(), tick.get()),
            move |_| recent_sent_messages(id.clone()),
        )
    };
    let submit = {
        let id = connection_id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            send.dispatch(SendTestMessage {
                csrf_token: csrf.clone(),
                id: id.clone(),
                to: to.get_untracked(),
                text: text.get_untracked(),
            });
        }
    };
    let hint = if simulated {
        "As on WhatsApp, free text reaches only someone who wrote to this number in the last 24 hours: make the simulated user below write first. Numbers ending in 404 are \"not on WhatsApp\" (error 131026)."
    } else {
        "Free text reaches only someone who wrote to this number in the last 24 hours; Herald refuses it otherwise, before WhatsApp would silently drop it."
    };
    view! {
        <form class="inline-form" on:submit=submit data-testid="send-test-form">
            <h4>"Send a test message"</h4>
            <p class="muted">{hint}</p>
            <label>"To" <input data-testid="send-to" placeholder="+1 555 010 1234" required
                prop:value=to on:input=move |ev| to.set(event_target_value(&ev)) /></label>
            <label>"Text" <input data-testid="send-text" required
                prop:value=text on:input=move |ev| text.set(event_target_value(&ev)) /></label>
            <button class="button button-primary" type="submit" data-testid="send-button"
                disabled=move || send.pending().get()>"Send"</button>
            {move || send.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert">{e.to_string()}</p>
            })}
        </form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let rows = sent.await.unwrap_or_default();
                (!rows.is_empty()).then(|| {
                    let rows = rows.into_iter().map(|m| {
                        let status = m.delivery.clone().unwrap_or_else(|| m.state.clone());
                        view! {
                            <tr data-testid="sent-row" data-delivery=status.clone()>
                                <td>{m.to}</td>
                                <td>{m.summary}</td>
                                <td><span class=format!("status status-{status}")>{status.clone()}</span></td>
                                <td class="muted">{m.problem.unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view();
                    view! {
                        <table class="table" data-testid="sent-list">
                            <thead><tr><th>"To"</th><th>"Message"</th><th>"Status"</th><th>"Details"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }
                })
            })}
        </Transition>
    }
}

/// Make a simulated user write to a sandbox number.
#[component]
fn SimulatedUserPanel(connection_id: String) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let from = RwSignal::new("+15550101234".to_string());
    let kind = RwSignal::new("text".to_string());
    let text = RwSignal::new("Hi! Is my order on its way?".to_string());
    let simulate = ServerAction::<SimulateInbound>::new();
    let tick = refresh_tick(REFRESH_MS);
    let inbound = Resource::new(
        move || (simulate.version().get(), tick.get()),
        |_| recent_inbound(),
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        simulate.dispatch(SimulateInbound {
            csrf_token: csrf.clone(),
            id: connection_id.clone(),
            from: from.get_untracked(),
            kind: kind.get_untracked(),
            text: text.get_untracked(),
        });
    };
    view! {
        <form class="inline-form" on:submit=submit data-testid="simulate-form">
            <h4>"Simulate a user"</h4>
            <label>"From" <input prop:value=from on:input=move |ev| from.set(event_target_value(&ev)) /></label>
            <label>"Does"
                <select data-testid="simulate-does" on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="text">"writes a text (try STOP)"</option>
                    <option value="button">"taps a quick-reply button of the last message it got (payload below)"</option>
                    <option value="photo">"sends a photo (caption below)"</option>
                    <option value="location">"shares a location (place name below)"</option>
                    <option value="reaction">"reacts to the last message it got (emoji below)"</option>
                    <option value="choose">"picks a reply button or list row of the last message it got (title below)"</option>
                    <option value="stop_marketing">"stops marketing messages in WhatsApp"</option>
                    <option value="resume_marketing">"resumes marketing messages"</option>
                </select>
            </label>
            <label>"Text, payload, caption, place, emoji or title" <input data-testid="simulate-what" prop:value=text on:input=move |ev| text.set(event_target_value(&ev)) /></label>
            <button class="button" type="submit" disabled=move || simulate.pending().get()>"Send as the user"</button>
            {move || simulate.value().get().map(|r| match r {
                Ok(()) => view! { <p class="notice">"Delivered to Herald's webhook."</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let rows = inbound.await.unwrap_or_default();
                (!rows.is_empty()).then(|| {
                    let rows = rows.into_iter().map(|m| view! {
                        <tr><td>{m.from}</td><td>{m.kind}</td><td>{m.text}</td></tr>
                    }).collect_view();
                    view! {
                        <table class="table" data-testid="inbound-list">
                            <thead><tr><th>"From"</th><th>"Type"</th><th>"Content"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }
                })
            })}
        </Transition>
    }
}

/// The add-connection form with live validation.
#[component]
fn AddConnectionForm(add: ServerAction<AddConnection>) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let draft = RwSignal::new(ConnectionDraft {
        kind: "cloud_api".into(),
        base_url: "https://graph.facebook.com".into(),
        api_version: "v23.0".into(),
        ..ConnectionDraft::default()
    });
    let touched = RwSignal::new(false);
    let problems = Memo::new(move |_| draft.with(draft_problems));
    let field = move |label: &'static str,
                      name: &'static str,
                      secret: bool,
                      get: fn(&ConnectionDraft) -> String,
                      set: fn(&mut ConnectionDraft, String)| {
        view! {
            <label>
                {label}
                <input name=name type=if secret { "password" } else { "text" } autocomplete="off"
                    prop:value=move || draft.with(get)
                    on:input=move |ev| { touched.set(true); draft.update(|d| set(d, event_target_value(&ev))); } />
            </label>
        }
    };
    let kind = move || draft.with(|d| d.kind.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        if problems.get_untracked().is_empty() {
            add.dispatch(AddConnection {
                csrf_token: csrf.clone(),
                draft: draft.get_untracked(),
            });
        }
    };
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            draft.update(|d| {
                *d = ConnectionDraft {
                    kind: d.kind.clone(),
                    base_url: d.base_url.clone(),
                    api_version: d.api_version.clone(),
                    ..ConnectionDraft::default()
                }
            });
            touched.set(false);
        }
    });
    view! {
        <form class="card add-connection" on:submit=submit data-testid="add-connection">
            <h2>"Add a connection"</h2>
            <label>"Kind"
                <select name="kind" on:change=move |ev| {
                    let kind = event_target_value(&ev);
                    draft.update(|d| {
                        d.base_url = match kind.as_str() {
                            "dialog360" => "https://waba-v2.360dialog.io".into(),
                            _ => "https://graph.facebook.com".into(),
                        };
                        d.kind = kind;
                    });
                }>
                    {KINDS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                </select>
            </label>
            {field("Name", "name", false, |d| d.name.clone(), |d, v| d.name = v)}
            <Show when=move || kind() == "cloud_api">
                {field("Graph base URL", "base_url", false, |d| d.base_url.clone(), |d, v| d.base_url = v)}
                {field("API version", "api_version", false, |d| d.api_version.clone(), |d, v| d.api_version = v)}
                {field("WhatsApp Business Account id", "waba_id", false, |d| d.waba_id.clone(), |d, v| d.waba_id = v)}
                {field("Phone-number id", "phone_number_id", false, |d| d.phone_number_id.clone(), |d, v| d.phone_number_id = v)}
                {field("Access token", "access_token", true, |d| d.access_token.clone(), |d, v| d.access_token = v)}
                {field("App secret", "app_secret", true, |d| d.app_secret.clone(), |d, v| d.app_secret = v)}
                {field("Webhook verify token", "verify_token", true, |d| d.verify_token.clone(), |d, v| d.verify_token = v)}
            </Show>
            <Show when=move || kind() == "dialog360">
                {field("360dialog base URL", "base_url", false, |d| d.base_url.clone(), |d, v| d.base_url = v)}
                {field("D360-API-KEY", "api_key", true, |d| d.api_key.clone(), |d, v| d.api_key = v)}
                {field("Webhook header token (sent by 360dialog as x-herald-webhook-token)", "verify_token", true, |d| d.verify_token.clone(), |d, v| d.verify_token = v)}
            </Show>
            <ul class="rules" aria-live="polite" data-testid="connection-problems">
                {move || touched.get().then(|| problems.get().into_iter()
                    .map(|p| view! { <li class="rule-broken" data-rule=p.rule>{p.message}</li> })
                    .collect_view())}
            </ul>
            {move || add.value().get().and_then(|r| r.err()).map(|e| view! {
                <p class="error" role="alert">{e.to_string()}</p>
            })}
            <button class="button button-primary" type="submit"
                disabled=move || touched.get() && !problems.get().is_empty()>"Add connection"</button>
        </form>
    }
}

/// Saturates a form number into a narrower integer field.
fn narrow<T: TryFrom<u64> + Bounded>(v: u64) -> T {
    T::try_from(v).unwrap_or(T::MAX)
}

/// Integer types with a maximum, for [`narrow`].
trait Bounded {
    const MAX: Self;
}
impl Bounded for u16 {
    const MAX: Self = u16::MAX;
}
impl Bounded for u32 {
    const MAX: Self = u32::MAX;
}

/// The sandbox's simulation knobs.
#[component]
fn SandboxSettingsPanel(connection_id: String, settings: SandboxSettings) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let current = RwSignal::new(settings);
    let save = ServerAction::<ConfigureSandbox>::new();
    let problems = Memo::new(move |_| current.with(sandbox_problems));
    let number = move |label: &'static str,
                       get: fn(&SandboxSettings) -> u64,
                       set: fn(&mut SandboxSettings, u64)| {
        view! {
            <label>
                {label}
                <input type="number" min="0" prop:value=move || current.with(get).to_string()
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).trim().parse::<u64>() {
                            current.update(|s| set(s, v));
                        }
                    } />
            </label>
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(ConfigureSandbox {
            csrf_token: csrf.clone(),
            id: connection_id.clone(),
            settings: current.get_untracked(),
        });
    };
    view! {
        <details class="sandbox-settings">
            <summary>"Simulation settings"</summary>
            <form class="inline-form" on:submit=submit data-testid="sandbox-settings">
                {number("Seed", |s| s.seed, |s, v| s.seed = v)}
                {number("Messages per second", |s| u64::from(s.messages_per_second), |s, v| s.messages_per_second = narrow(v))}
                {number("Template review delay (ms)", |s| s.review_delay_ms, |s, v| s.review_delay_ms = v)}
                {number("Delay between statuses (ms)", |s| s.status_delay_ms, |s, v| s.status_delay_ms = v)}
                {number("Not on WhatsApp (‰ of users)", |s| u64::from(s.undeliverable_per_mille), |s, v| s.undeliverable_per_mille = narrow(v))}
                {number("Stopped marketing (‰)", |s| u64::from(s.marketing_stop_per_mille), |s, v| s.marketing_stop_per_mille = narrow(v))}
                {number("Read their messages (‰)", |s| u64::from(s.read_per_mille), |s, v| s.read_per_mille = narrow(v))}
                {number("Customer-service window (s; 86400 is Meta's 24 h)", |s| u64::from(s.service_window_secs), |s, v| s.service_window_secs = narrow(v))}
                <label>"Messaging limit"
                    <select prop:value=move || current.with(|s| s.messaging_limit.clone())
                        on:change=move |ev| current.update(|s| s.messaging_limit = event_target_value(&ev))>
                        {["TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"].into_iter()
                            .map(|t| view! { <option value=t>{t}</option> }).collect_view()}
                    </select>
                </label>
                <label class="checkbox">
                    <input type="checkbox" prop:checked=move || current.with(|s| s.enforce_service_window)
                        on:change=move |ev| current.update(|s| s.enforce_service_window = event_target_checked(&ev)) />
                    "Refuse free text outside the 24-hour window (131047), as Meta does"
                </label>
                <ul class="rules" aria-live="polite">
                    {move || problems.get().into_iter()
                        .map(|p| view! { <li class="rule-broken" data-rule=p.rule>{p.message}</li> })
                        .collect_view()}
                </ul>
                <button class="button" type="submit"
                    disabled=move || !problems.get().is_empty() || save.pending().get()>"Save"</button>
                {move || save.value().get().map(|r| match r {
                    Ok(()) => view! { <p class="notice">"Saved; new sends use these settings."</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </form>
        </details>
    }
}
