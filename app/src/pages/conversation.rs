//! `/conversations/:id`: one conversation. The thread (every message in and out, with ticks and
//! failures in plain words, taps shown as what was tapped, quotes), the contact beside it, and a
//! composer that knows the customer-service window: while it is open, free text, reply buttons or
//! a list (see [`composer`]), answers quoting a message and reactions; once it has closed, only
//! approved templates — variables filled from the contact, previewed. It follows the
//! conversation's change stream, so replies and ticks appear without a reload. On a sandbox
//! number the agent can also play the customer, tapping the business's own buttons.

mod attach;
mod composer;
mod media;

use domain::clock::format_utc as when;
use domain::conversation::body::Body;
use domain::conversation::compose::{SessionDraft, QUICK_REACTIONS};
use domain::conversation::{remaining, ReplyWindow};
use domain::template::preview::fill;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::conversations::{
    add_note, assign_conversation, conversation_thread, mark_conversation, react, retry_media,
    send_reply, send_template, simulate_customer, CustomerAction, TemplateChoice, ThreadMessage,
    ThreadView,
};
use crate::components::bubble::{body_view, tick_label};
use crate::components::formatted::formatted;
use crate::components::live_changes::follow_changes;
use crate::components::refresh::refresh_tick;
use crate::session::PageSession;

/// What the agent is typing and which panels are open: kept above the thread, which is drawn
/// again whenever the conversation changes (a tick, a new message), so nothing typed is lost.
#[derive(Clone, Copy)]
struct Drafts {
    reply: RwSignal<SessionDraft>,
    /// The message being answered: its wamid and one line of it.
    quoting: RwSignal<Option<(String, String)>>,
    note: RwSignal<String>,
    note_open: RwSignal<bool>,
    simulator_open: RwSignal<bool>,
    simulate_kind: RwSignal<String>,
    simulate_text: RwSignal<String>,
    /// Bumped when the customer-service window closes, so the composer switches to templates
    /// at that moment rather than at the next minute's refresh.
    window_edge: RwSignal<u32>,
    /// Sends the reply; its outcome outlives a redraw.
    send: Action<SessionDraft, Result<(), String>>,
    /// Adds the note.
    add: Action<String, Result<(), String>>,
    /// Reacts to a message: (wamid, emoji).
    react: Action<(String, String), Result<(), String>>,
    /// Plays the customer (sandbox).
    simulate: Action<CustomerAction, Result<(), String>>,
    /// Fetches again a customer's file Herald gave up on (by media id).
    retry_media: Action<String, Result<(), String>>,
}

impl Drafts {
    fn new(id: impl Fn() -> String + Copy + Send + Sync + 'static, csrf: String) -> Self {
        let send = Action::new({
            let csrf = csrf.clone();
            move |draft: &SessionDraft| {
                let (csrf, id, draft) = (csrf.clone(), id(), draft.clone());
                async move { send_reply(csrf, id, draft).await.map_err(|e| e.to_string()) }
            }
        });
        let add = Action::new({
            let csrf = csrf.clone();
            move |body: &String| {
                let (csrf, id, body) = (csrf.clone(), id(), body.clone());
                async move { add_note(csrf, id, body).await.map_err(|e| e.to_string()) }
            }
        });
        let react = Action::new({
            let csrf = csrf.clone();
            move |(wamid, emoji): &(String, String)| {
                let (csrf, id, wamid, emoji) = (csrf.clone(), id(), wamid.clone(), emoji.clone());
                async move {
                    self::react(csrf, id, wamid, emoji)
                        .await
                        .map_err(|e| e.to_string())
                }
            }
        });
        let retry_media = Action::new({
            let csrf = csrf.clone();
            move |media_id: &String| {
                let (csrf, id, media_id) = (csrf.clone(), id(), media_id.clone());
                async move {
                    self::retry_media(csrf, id, media_id)
                        .await
                        .map_err(|e| e.to_string())
                }
            }
        });
        let simulate = Action::new(move |action: &CustomerAction| {
            let (csrf, id, action) = (csrf.clone(), id(), action.clone());
            async move {
                simulate_customer(csrf, id, action)
                    .await
                    .map_err(|e| e.to_string())
            }
        });
        let drafts = Self {
            send,
            add,
            react,
            simulate,
            retry_media,
            reply: RwSignal::new(SessionDraft::default()),
            quoting: RwSignal::new(None),
            note: RwSignal::new(String::new()),
            note_open: RwSignal::new(false),
            simulator_open: RwSignal::new(false),
            simulate_kind: RwSignal::new("text".into()),
            simulate_text: RwSignal::new(String::new()),
            window_edge: RwSignal::new(0),
        };
        Effect::new(move |_| {
            if matches!(send.value().get(), Some(Ok(()))) {
                // The kind stays: an agent sending several lists keeps the list editor open.
                drafts.reply.update(|d| {
                    *d = SessionDraft {
                        kind: d.kind,
                        ..SessionDraft::default()
                    }
                });
                drafts.quoting.set(None);
            }
        });
        Effect::new(move |_| {
            if matches!(add.value().get(), Some(Ok(()))) {
                drafts.note.set(String::new());
            }
        });
        drafts
    }
}

/// `/conversations/:id`.
#[component]
pub fn ConversationPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let version = follow_changes(format!("/conversations/events?id={}", id()), false);
    // The countdown moves on even when nothing else does.
    let minute = refresh_tick(60_000);
    let csrf = PageSession::current().csrf_token;
    let drafts = Drafts::new(id, csrf.clone());
    let thread = Resource::new(
        move || (id(), version.get(), minute.get(), drafts.window_edge.get()),
        |(id, _, _, _)| conversation_thread(id),
    );
    // Opening the thread reads it.
    Effect::new({
        let csrf = csrf.clone();
        move |_| {
            let (csrf, id) = (csrf.clone(), id());
            leptos::task::spawn_local(async move {
                let _ = mark_conversation(csrf, id, "read".into()).await;
            });
        }
    });
    view! {
        <Title text="Conversation" />
        <p><a href="/conversations">"← All conversations"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match thread.await {
                    Ok(view) => view! { <Thread thread=view drafts=drafts /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Thread(thread: ThreadView, drafts: Drafts) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let id = thread.id.clone();
    let mark = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |action: &&'static str| {
            let (csrf, id, action) = (csrf.clone(), id.clone(), action.to_string());
            async move {
                mark_conversation(csrf, id, action)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    });
    let closed = thread.row.status == "Closed";
    let messages = thread.messages.clone();
    let me = PageSession::current().username;
    let assignee = thread.row.assignee.clone();
    let assign = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |to: &String| {
            let (csrf, id, to) = (csrf.clone(), id.clone(), to.clone());
            async move {
                assign_conversation(csrf, id, to)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    });
    let mine = me.is_some() && assignee == me;
    view! {
        <div class="conversation-head">
            <h1 data-testid="conversation-name">{thread.row.name.clone()}</h1>
            <span class="muted">{thread.row.number.clone()}" · "{thread.row.connection_name.clone()}</span>
            <span class="badge" data-testid="conversation-status">{thread.row.status.clone()}</span>
            <span class="badge" data-testid="conversation-assignee">{match &assignee {
                Some(who) => format!("Assigned to {who}"),
                None => "Unassigned".to_string(),
            }}</span>
            <div class="actions">
                {if mine {
                    view! { <button type="button" class="button button-quiet" data-testid="unassign"
                        on:click=move |_| { assign.dispatch(String::new()); }>"Unassign"</button> }.into_any()
                } else {
                    let me = me.clone().unwrap_or_default();
                    view! { <button type="button" class="button button-quiet" data-testid="assign-me"
                        on:click=move |_| { assign.dispatch(me.clone()); }>"Assign to me"</button> }.into_any()
                }}
                <button type="button" class="button button-quiet" on:click=move |_| { mark.dispatch("unread"); }>
                    "Mark unread"
                </button>
                {if closed {
                    view! { <button type="button" class="button" data-testid="reopen"
                        on:click=move |_| { mark.dispatch("reopen"); }>"Reopen"</button> }.into_any()
                } else {
                    view! { <button type="button" class="button" data-testid="close"
                        on:click=move |_| { mark.dispatch("close"); }>"Close"</button> }.into_any()
                }}
            </div>
            {move || assign.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
        <div class="conversation">
            <section class="thread" aria-label="Messages" data-testid="thread">
                {if messages.is_empty() {
                    view! { <p class="muted">"No messages yet."</p> }.into_any()
                } else {
                    messages.into_iter().map(|m| view! {
                        <Message message=m drafts=drafts simulated=thread.simulated open=thread.window.is_open() />
                    }).collect_view().into_any()
                }}
            </section>
            <aside class="card contact-card" aria-label="Contact">
                <h2>"Contact"</h2>
                {match thread.contact_phone.clone() {
                    Some(phone) => view! {
                        <p><a href=format!("/contacts/{}", phone.replace('+', "%2B"))>"Open contact"</a></p>
                    }.into_any(),
                    None => view! { <p class="muted">"Not in your contacts."</p> }.into_any(),
                }}
                {(!thread.tags.is_empty()).then(|| view! {
                    <p>"Tags: "{thread.tags.join(", ")}</p>
                })}
                <ul class="facts">
                    {thread.consent.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}
                </ul>
            </aside>
        </div>
        {thread.simulated.then(|| view! {
            <CustomerSimulator drafts=drafts />
        })}
        <Composer thread=thread drafts=drafts />
    }
}

/// On a sandbox number: write, tap or share a place as the customer would, to see the inbox
/// react. Taps on the business's own buttons and lists are offered on those messages.
#[component]
fn CustomerSimulator(drafts: Drafts) -> impl IntoView {
    let (kind, text, open, play) = (
        drafts.simulate_kind,
        drafts.simulate_text,
        drafts.simulator_open,
        drafts.simulate,
    );
    let action = move || {
        let text = text.get_untracked();
        match kind.get_untracked().as_str() {
            "button" => Ok(CustomerAction::TapTemplateButton { payload: text }),
            "photo" => Ok(CustomerAction::SendPhoto { caption: text }),
            "location" => {
                let mut parts = text.splitn(3, ',').map(str::trim);
                let latitude = parts.next().and_then(|p| p.parse().ok());
                let longitude = parts.next().and_then(|p| p.parse().ok());
                match (latitude, longitude) {
                    (Some(latitude), Some(longitude)) => Ok(CustomerAction::ShareLocation {
                        latitude,
                        longitude,
                        name: parts.next().unwrap_or_default().to_string(),
                    }),
                    _ => Err(
                        "write the place as latitude, longitude, name — e.g. 41.04, 28.99, Office",
                    ),
                }
            }
            _ => Ok(CustomerAction::Write { text }),
        }
    };
    let problem = RwSignal::new(None::<&'static str>);
    view! {
        <details class="card simulator" data-testid="simulator" prop:open=move || open.get()
            on:toggle=move |ev| open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
            <summary>"Simulate the customer (sandbox)"</summary>
            <form class="inline-form" on:submit=move |ev| {
                ev.prevent_default();
                match action() {
                    Ok(action) => { problem.set(None); play.dispatch(action); }
                    Err(why) => problem.set(Some(why)),
                }
            }>
                <label>"They"
                    <select data-testid="simulate-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="text" selected=move || kind.get() == "text">"write"</option>
                        <option value="button" selected=move || kind.get() == "button">"tap a template's quick-reply button with this payload"</option>
                        <option value="location" selected=move || kind.get() == "location">"share a location (latitude, longitude, name)"</option>
                        <option value="photo" selected=move || kind.get() == "photo">"send a photo (with this caption)"</option>
                    </select>
                </label>
                <label>"Text, payload, place or caption"
                    <input data-testid="simulate-text" prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev)) />
                </label>
                <button type="submit" class="button" data-testid="simulate-send"
                    disabled=move || play.pending().get()>"Send as the customer"</button>
            </form>
            {move || problem.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || play.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </details>
    }
}

#[component]
fn Message(message: ThreadMessage, drafts: Drafts, simulated: bool, open: bool) -> impl IntoView {
    let class = format!("message message-{}", message.direction);
    let ticks = message.ticks.clone();
    let inbound = message.direction == "inbound";
    let outbound = message.direction == "outbound";
    // Answering or reacting needs WhatsApp's id of the message and an open window.
    let wamid = message
        .wamid
        .clone()
        .filter(|_| open && message.direction != "note");
    let preview = message.body.preview();
    let taps = match (&message.body, &message.wamid) {
        (Body::Interactive { options, .. }, Some(wamid)) if simulated && outbound => {
            Some((wamid.clone(), options.clone()))
        }
        _ => None,
    };
    view! {
        <article class=class data-testid="message" data-direction=message.direction.clone()>
            {message.quote.clone().map(|q| view! { <blockquote class="quote" data-testid="message-quote">{q}</blockquote> })}
            {message.author.clone().map(|a| view! { <p class="muted">"Note by "{a}</p> })}
            <div class="message-body">{body_view(&message.body)}</div>
            {message.media.clone().map(|file| view! { <media::CustomerFile file=file body=message.body.clone() drafts=drafts /> })}
            <p class="message-meta muted">
                {when(message.at_ms)}
                {ticks.map(|t| view! {
                    " · "<span class=format!("ticks status status-{}", t.replace(' ', "-"))
                        data-testid="ticks">{tick_label(&t)}</span>
                })}
            </p>
            {message.problem.clone().map(|p| view! { <p class="error" data-testid="message-problem">{p}</p> })}
            {wamid.map(|wamid| {
                let quoted = (wamid.clone(), preview.chars().take(80).collect::<String>());
                view! {
                    <div class="message-actions">
                        <button type="button" class="button button-quiet" data-testid="quote-reply"
                            on:click=move |_| drafts.quoting.set(Some(quoted.clone()))>"Reply to this"</button>
                        {inbound.then(|| QUICK_REACTIONS.iter().map(|emoji| {
                            let target = wamid.clone();
                            view! {
                                <button type="button" class="button button-quiet reaction" title="React"
                                    data-testid="react"
                                    on:click=move |_| { drafts.react.dispatch((target.clone(), emoji.to_string())); }>{*emoji}</button>
                            }
                        }).collect_view())}
                    </div>
                }
            })}
            {taps.map(|(wamid, options)| view! {
                <div class="message-actions" data-testid="customer-taps">
                    <span class="muted">"As the customer: "</span>
                    {options.into_iter().enumerate().map(|(index, title)| {
                        let wamid = wamid.clone();
                        view! {
                            <button type="button" class="button button-quiet" data-testid="customer-tap"
                                on:click=move |_| { drafts.simulate.dispatch(CustomerAction::Choose { wamid: wamid.clone(), index }); }>
                                {title}</button>
                        }
                    }).collect_view()}
                </div>
            })}
        </article>
    }
}

#[component]
fn Composer(thread: ThreadView, drafts: Drafts) -> impl IntoView {
    let id = thread.id.clone();
    let (note, note_open) = (drafts.note, drafts.note_open);
    let (send, add) = (drafts.send, drafts.add);
    let window_class = if thread.window.is_open() {
        "notice"
    } else {
        "notice window-closed"
    };
    let countdown = match thread.window {
        ReplyWindow::Open { closes_at_ms } => Some(remaining(closes_at_ms - thread.now_ms)),
        ReplyWindow::Closed { .. } => None,
    };
    if let ReplyWindow::Open { closes_at_ms } = thread.window {
        let edge = drafts.window_edge;
        let wait = u64::try_from(closes_at_ms - thread.now_ms).unwrap_or(0) + 500;
        // Timers only run in the browser; within the hour the page switches on the minute.
        Effect::new(move |_| {
            if wait > 3_600_000 {
                return;
            }
            let handle = set_timeout_with_handle(
                move || edge.update(|n| *n = n.wrapping_add(1)),
                std::time::Duration::from_millis(wait),
            );
            if let Ok(handle) = handle {
                on_cleanup(move || handle.clear());
            }
        });
    }
    view! {
        <section class="composer card" aria-label="Reply">
            <p class=window_class data-testid="window">
                {thread.window_sentence.clone()}
                {countdown.map(|c| view! { <span class="badge" data-testid="window-countdown">{c}" left"</span> })}
            </p>
            {if thread.window.is_open() {
                view! { <composer::SessionComposer drafts=drafts saved=thread.saved_replies.clone() conversation=id.clone() /> }.into_any()
            } else {
                view! { <TemplatePicker id=id.clone() templates=thread.templates.clone() /> }.into_any()
            }}
            {move || send.value().get().and_then(Result::err).map(|e| view! {
                <p class="error" role="alert" data-testid="reply-error">{e}</p>
            })}
            {move || drafts.react.value().get().and_then(Result::err).map(|e| view! {
                <p class="error" role="alert">{e}</p>
            })}
            {move || drafts.simulate.value().get().and_then(Result::err).map(|e| view! {
                <p class="error" role="alert">{e}</p>
            })}
            <details class="note-form" prop:open=move || note_open.get()
                on:toggle=move |ev| note_open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
                <summary>"Add an internal note"</summary>
                <form on:submit=move |ev| { ev.prevent_default(); add.dispatch(note.get_untracked()); }>
                    <textarea rows="2" data-testid="note-text" prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                    <button type="submit" class="button" data-testid="note-add">"Add note"</button>
                </form>
                {move || add.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </details>
        </section>
    }
}

#[component]
fn TemplatePicker(id: String, templates: Vec<TemplateChoice>) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    if templates.is_empty() {
        return view! {
            <p class="muted" data-testid="no-templates">"This number has no approved template yet. "
                <a href="/templates/new">"Write one"</a>" and send it for review."</p>
        }
        .into_any();
    }
    let choices = StoredValue::new(templates);
    let chosen = RwSignal::new(0usize);
    let values = RwSignal::new(choices.with_value(|c| {
        c.first()
            .map(|t| {
                t.variables
                    .iter()
                    .map(|(_, v)| v.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    }));
    let send = Action::new(move |(template, filled): &(String, Vec<String>)| {
        let (csrf, id, template, filled) =
            (csrf.clone(), id.clone(), template.clone(), filled.clone());
        async move {
            send_template(csrf, id, template, filled)
                .await
                .map_err(|e| e.to_string())
        }
    });
    let preview = move || {
        choices.with_value(|c| {
            c.get(chosen.get()).map(|t| {
                let filled = values.get();
                // Body variables are numbered or named in order; the preview fills them in turn.
                let names: Vec<String> =
                    t.variables.iter().map(|(label, _)| label.clone()).collect();
                fill(&t.body, |name| {
                    names
                        .iter()
                        .position(|label| *label == format!("Body {{{{{name}}}}}"))
                        .and_then(|i| filled.get(i).cloned())
                })
            })
        })
    };
    view! {
        <form data-testid="template-picker" on:submit=move |ev| {
            ev.prevent_default();
            let template = choices.with_value(|c| c.get(chosen.get_untracked()).map(|t| t.id.clone()));
            if let Some(template) = template {
                send.dispatch((template, values.get_untracked()));
            }
        }>
            <label>"Approved template"
                <select data-testid="template-choice" on:change=move |ev| {
                    let index = event_target_value(&ev).parse().unwrap_or(0);
                    chosen.set(index);
                    values.set(choices.with_value(|c| c.get(index)
                        .map(|t| t.variables.iter().map(|(_, v)| v.clone()).collect())
                        .unwrap_or_default()));
                }>
                    {choices.with_value(|c| c.iter().enumerate().map(|(i, t)| view! {
                        <option value=i.to_string()>{t.label.clone()}</option>
                    }).collect_view())}
                </select>
            </label>
            {move || choices.with_value(|c| c.get(chosen.get()).map(|t| {
                t.variables.iter().enumerate().map(|(i, (label, _))| view! {
                    <label>{label.clone()}
                        <input type="text" data-testid=format!("template-value-{i}")
                            prop:value=move || values.with(|v| v.get(i).cloned().unwrap_or_default())
                            on:input=move |ev| {
                                let value = event_target_value(&ev);
                                values.update(|v| if let Some(slot) = v.get_mut(i) { *slot = value; });
                            } />
                    </label>
                }).collect_view()
            }))}
            <div class="bubble reply-preview" data-testid="template-preview">
                {move || preview().map(|p| formatted(&p))}
            </div>
            <div class="button-row">
                <button type="submit" class="button button-primary" data-testid="template-send"
                    disabled=move || send.pending().get()>"Send template"</button>
            </div>
            {move || send.value().get().and_then(Result::err).map(|e| view! {
                <p class="error" role="alert">{e}</p>
            })}
        </form>
    }
    .into_any()
}
