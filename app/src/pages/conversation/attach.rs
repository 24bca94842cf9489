//! The composer's file: chosen in the browser, uploaded through Herald to WhatsApp's media
//! endpoint of the conversation's number (type and size checked by the server against the fact
//! sheet before anything leaves), then sent by its media id with the message text as caption.

use domain::conversation::body::media_word;
use domain::conversation::compose::SessionDraft;
use domain::conversation::media::bytes;
use leptos::prelude::*;

use crate::session::PageSession;

/// What WhatsApp sends, for the file picker (the server checks again).
const ACCEPTED: &str = "image/jpeg,image/png,image/webp,video/mp4,video/3gpp,audio/aac,audio/amr,\
audio/mpeg,audio/mp4,audio/ogg,application/pdf,text/plain,application/msword,\
application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.ms-excel,\
application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.ms-powerpoint,\
application/vnd.openxmlformats-officedocument.presentationml.presentation";

/// Picks and uploads the draft's file.
#[component]
pub(super) fn Attachment(draft: RwSignal<SessionDraft>, conversation: String) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let uploading = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let Some(file) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                return;
            };
            let url = format!("/conversations/{conversation}/media");
            let csrf = csrf.clone();
            uploading.set(true);
            problem.set(None);
            leptos::task::spawn_local(async move {
                let answer = crate::components::upload::post_file(&url, &file, &csrf).await;
                uploading.set(false);
                match answer.and_then(|body| {
                    serde_json::from_str(&body)
                        .map_err(|_| "the server's answer was not a file description".to_string())
                }) {
                    Ok(media) => draft.update(|d| d.media = Some(media)),
                    Err(why) => problem.set(Some(why)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, &conversation, &csrf);
    };
    view! {
        <label>"File (photo, video, voice message, document or sticker)"
            <input type="file" data-testid="compose-file" accept=ACCEPTED on:change=on_change
                disabled=move || uploading.get() />
        </label>
        {move || uploading.get().then(|| view! { <p class="muted" data-testid="compose-uploading">"Uploading to WhatsApp…"</p> })}
        {move || draft.with(|d| d.media.clone()).map(|m| view! {
            <p class="muted" data-testid="compose-file-ready">
                {format!("Ready to send: {} {} ({})", media_word(&m.kind), m.filename, bytes(m.size))}
            </p>
        })}
        {move || problem.get().map(|p| view! { <p class="error" role="alert" data-testid="compose-file-problem">{p}</p> })}
    }
}
