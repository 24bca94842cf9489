//! The open-window half of the composer: free text, reply buttons or a list, optionally quoting
//! a message, with the same rules the server enforces shown while the agent types
//! ([`SessionDraft::problems`]) and a preview of what the customer will see. A saved session
//! reply (the Templates page's second kind) fills the draft, placeholders already filled from
//! the contact, for the agent to adjust before sending.

use domain::conversation::compose::{DraftKind, DraftRow, SessionDraft, MAX_BUTTONS, MAX_ROWS};
use leptos::prelude::*;

use super::Drafts;
use crate::api::conversations::{use_saved_reply, SavedReply};
use crate::components::formatted::formatted;

/// Free text, buttons or a list, sent with the composer's Send.
#[component]
pub(super) fn SessionComposer(
    drafts: Drafts,
    saved: Vec<SavedReply>,
    conversation: String,
) -> impl IntoView {
    let (draft, quoting, send) = (drafts.reply, drafts.quoting, drafts.send);
    let problems = Memo::new(move |_| draft.with(SessionDraft::problems));
    // Nothing typed yet is not an error to shout about; Send stays disabled instead.
    let started = move || {
        draft.with(|d| {
            !d.text.trim().is_empty() || (d.kind == DraftKind::Media && d.media.is_some())
        })
    };
    let kind = move || draft.with(|d| d.kind);
    let set_kind = move |k: DraftKind| {
        draft.update(|d| {
            d.kind = k;
            if k == DraftKind::Buttons && d.buttons.is_empty() {
                d.buttons = vec![String::new(); 2];
            }
            if k == DraftKind::List && d.rows.is_empty() {
                d.rows = vec![DraftRow::default(); 2];
            }
        });
    };
    view! {
        <form data-testid="session-composer" on:submit=move |ev| {
            ev.prevent_default();
            let mut sent = draft.get_untracked();
            sent.reply_to = quoting.get_untracked().map(|(wamid, _)| wamid);
            send.dispatch(sent);
        }>
            <div class="segmented" role="group" aria-label="Kind of message">
                {[(DraftKind::Text, "Text"), (DraftKind::Media, "File"), (DraftKind::Buttons, "Reply buttons"), (DraftKind::List, "List")]
                    .into_iter()
                    .map(|(k, label)| view! {
                        <button type="button" class="button button-quiet"
                            data-testid=format!("compose-kind-{}", label.to_lowercase().replace(' ', "-"))
                            aria-pressed=move || (kind() == k).to_string()
                            on:click=move |_| set_kind(k)>{label}</button>
                    })
                    .collect_view()}
            </div>
            {(!saved.is_empty()).then(|| {
                let choices = StoredValue::new(saved);
                // A reply with a file is fetched: its file is uploaded to this number first.
                let with_file = Action::new({
                    let (csrf, conversation) = (crate::session::PageSession::current().csrf_token, conversation.clone());
                    move |template: &String| {
                        let (csrf, id, template) = (csrf.clone(), conversation.clone(), template.clone());
                        async move { use_saved_reply(csrf, id, template).await }
                    }
                });
                Effect::new(move |_| {
                    if let Some(Ok(filled)) = with_file.value().get() {
                        draft.set(filled);
                    }
                });
                view! {
                    <label>"Start from a saved reply"
                        <select data-testid="saved-reply" on:change=move |ev| {
                            let chosen = event_target_value(&ev);
                            if let Some(reply) = choices.with_value(|c| c.iter().find(|r| r.id == chosen).cloned()) {
                                if reply.file.is_some() {
                                    with_file.dispatch(reply.id);
                                } else {
                                    draft.set(reply.draft);
                                }
                            }
                        }>
                            <option value="">"—"</option>
                            {choices.with_value(|c| c.iter().map(|r| view! {
                                <option value=r.id.clone()>{r.name.clone()}{r.file.clone().map(|f| format!(" ({f})"))}</option>
                            }).collect_view())}
                        </select>
                    </label>
                    {move || with_file.pending().get().then(|| view! { <p class="muted" data-testid="saved-reply-uploading">"Uploading the saved reply's file to WhatsApp…"</p> })}
                    {move || with_file.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
                }
            })}
            {move || quoting.get().map(|(_, preview)| view! {
                <p class="quote" data-testid="quoting">"Replying to: "{preview}
                    <button type="button" class="button button-quiet" on:click=move |_| quoting.set(None)>"Cancel"</button>
                </p>
            })}
            {move || matches!(kind(), DraftKind::Buttons | DraftKind::List).then(|| view! {
                <label>"Header (optional)"
                    <input type="text" data-testid="compose-header" prop:value=move || draft.with(|d| d.header.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.header = v); } />
                </label>
            })}
            {move || (kind() == DraftKind::Media).then(|| view! {
                <super::attach::Attachment draft=draft conversation=conversation.clone() />
            })}
            <label>{move || if kind() == DraftKind::Media { "Caption (optional)" } else { "Message" }}
                <textarea rows="3" data-testid="reply-text" prop:value=move || draft.with(|d| d.text.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.text = v); }
                    placeholder="Write a reply — *bold*, _italic_, ~strike~"></textarea>
            </label>
            {move || match kind() {
                DraftKind::Text | DraftKind::Media => ().into_any(),
                DraftKind::Buttons => view! { <ButtonsEditor draft=draft /> }.into_any(),
                DraftKind::List => view! { <ListEditor draft=draft /> }.into_any(),
            }}
            {move || matches!(kind(), DraftKind::Buttons | DraftKind::List).then(|| view! {
                <label>"Footer (optional)"
                    <input type="text" data-testid="compose-footer" prop:value=move || draft.with(|d| d.footer.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.footer = v); } />
                </label>
            })}
            {move || started().then(|| view! { <Preview draft=draft /> })}
            {move || (started() && !problems.get().is_empty()).then(|| view! {
                <ul class="problems" data-testid="compose-problems">
                    {problems.get().into_iter().map(|p| view! { <li class="error">{p.message}</li> }).collect_view()}
                </ul>
            })}
            <div class="button-row">
                <button type="submit" class="button button-primary" data-testid="reply-send"
                    disabled=move || send.pending().get() || !started() || !problems.get().is_empty()>"Send"</button>
            </div>
        </form>
    }
}

#[component]
fn ButtonsEditor(draft: RwSignal<SessionDraft>) -> impl IntoView {
    view! {
        <fieldset class="options">
            <legend>"Buttons (up to "{MAX_BUTTONS}", 20 characters each)"</legend>
            {(0..MAX_BUTTONS).map(|i| view! {
                <input type="text" data-testid=format!("compose-button-{i}") placeholder=format!("Button {}", i + 1)
                    prop:value=move || draft.with(|d| d.buttons.get(i).cloned().unwrap_or_default())
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        draft.update(|d| {
                            if d.buttons.len() <= i { d.buttons.resize(i + 1, String::new()); }
                            d.buttons[i] = v;
                        });
                    } />
            }).collect_view()}
        </fieldset>
    }
}

#[component]
fn ListEditor(draft: RwSignal<SessionDraft>) -> impl IntoView {
    let rows = move || draft.with(|d| d.rows.len());
    view! {
        <label>"List button"
            <input type="text" data-testid="compose-list-button" placeholder="e.g. See times"
                prop:value=move || draft.with(|d| d.list_button.clone())
                on:input=move |ev| { let v = event_target_value(&ev); draft.update(|d| d.list_button = v); } />
        </label>
        <fieldset class="options">
            <legend>"Rows (up to "{MAX_ROWS}")"</legend>
            {move || (0..rows()).map(|i| view! {
                <div class="option-row">
                    <input type="text" data-testid=format!("compose-row-{i}") placeholder=format!("Row {}", i + 1)
                        prop:value=move || draft.with(|d| d.rows.get(i).map(|r| r.title.clone()).unwrap_or_default())
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            draft.update(|d| if let Some(r) = d.rows.get_mut(i) { r.title = v; });
                        } />
                    <input type="text" placeholder="Description (optional)"
                        prop:value=move || draft.with(|d| d.rows.get(i).map(|r| r.description.clone()).unwrap_or_default())
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            draft.update(|d| if let Some(r) = d.rows.get_mut(i) { r.description = v; });
                        } />
                </div>
            }).collect_view()}
            {move || (rows() < MAX_ROWS).then(|| view! {
                <button type="button" class="button button-quiet" data-testid="compose-add-row"
                    on:click=move |_| draft.update(|d| d.rows.push(DraftRow::default()))>"Add a row"</button>
            })}
        </fieldset>
    }
}

/// The message as the customer's phone shows it.
#[component]
fn Preview(draft: RwSignal<SessionDraft>) -> impl IntoView {
    move || {
        draft.with(|d| {
            let header = d.header.trim().to_string();
            let footer = d.footer.trim().to_string();
            let interactive = matches!(d.kind, DraftKind::Buttons | DraftKind::List);
            let file = d.media.as_ref().filter(|_| d.kind == DraftKind::Media).map(|m| {
                format!("{} {}", domain::conversation::body::media_word(&m.kind), m.filename)
            });
            let options: Vec<String> = match d.kind {
                DraftKind::Text | DraftKind::Media => Vec::new(),
                DraftKind::Buttons => d
                    .buttons
                    .iter()
                    .map(|b| b.trim().to_string())
                    .filter(|b| !b.is_empty())
                    .collect(),
                DraftKind::List => vec![format!("☰ {}", d.list_button.trim())],
            };
            view! {
                <div class="bubble reply-preview" aria-label="Preview" data-testid="reply-preview">
                    {(interactive && !header.is_empty()).then(|| view! { <p><strong>{header}</strong></p> })}
                    {file.map(|f| view! { <p class="bubble-media">{f}</p> })}
                    <div>{formatted(&d.text)}</div>
                    {(interactive && !footer.is_empty()).then(|| view! { <p class="muted">{footer}</p> })}
                    {(!options.is_empty()).then(|| view! {
                        <ul class="bubble-buttons">
                            {options.into_iter().map(|o| view! { <li class="bubble-button">{o}</li> }).collect_view()}
                        </ul>
                    })}
                </div>
            }
        })
    }
}
