//! A customer's photo, video, voice note, file or sticker in the thread: shown in place once
//! Herald keeps it (only to signed-in users, from Herald's own address), a note while it is
//! still being fetched (with the last failure, since Herald retries by itself), and the reason
//! with a "Try again" once Herald gave up.

use domain::conversation::body::{media_word, Body};
use leptos::prelude::*;

use super::Drafts;
use crate::api::conversations::MediaView;

/// The file of one inbound message.
#[component]
pub(super) fn CustomerFile(file: MediaView, body: Body, drafts: Drafts) -> impl IntoView {
    let (kind, filename) = match &body {
        Body::Media {
            media, filename, ..
        } => (media.clone(), filename.clone()),
        _ => (String::new(), None),
    };
    let word = media_word(&kind).to_lowercase();
    let shown = match (file.state.as_str(), file.url.clone()) {
        ("stored", Some(url)) => {
            let size = file.size.clone().unwrap_or_default();
            let link_text = format!(
                "Download {} ({size})",
                filename.clone().unwrap_or_else(|| word.clone())
            );
            match kind.as_str() {
                "image" | "sticker" if file.inline => {
                    let link = url.clone();
                    view! {
                        <a href=link target="_blank" rel="noopener" data-testid="media-file">
                            <img class="bubble-image" src=url alt=format!("The customer's {word}") loading="lazy" />
                        </a>
                    }
                    .into_any()
                }
                "video" if file.inline => view! {
                    <video class="bubble-image" controls preload="metadata" src=url data-testid="media-file"></video>
                }
                .into_any(),
                "audio" if file.inline => view! {
                    <audio controls preload="metadata" src=url data-testid="media-file"></audio>
                }
                .into_any(),
                _ => view! {
                    <a class="button button-quiet" href=url download data-testid="media-file">{link_text}</a>
                }
                .into_any(),
            }
        }
        ("failed", _) => {
            let media_id = file.media_id.clone();
            view! {
                <p class="error" data-testid="media-state">{file.problem.clone()}</p>
                <button type="button" class="button button-quiet" data-testid="media-retry"
                    disabled=move || drafts.retry_media.pending().get()
                    on:click=move |_| { drafts.retry_media.dispatch(media_id.clone()); }>"Try again"</button>
                {move || drafts.retry_media.value().get().and_then(Result::err).map(|e| view! {
                    <p class="error" role="alert">{e}</p>
                })}
            }
            .into_any()
        }
        _ => view! {
            <p class="muted" data-testid="media-state">{format!("Fetching the {word} from WhatsApp…")}</p>
            {file.problem.clone().map(|p| view! { <p class="muted">{p}</p> })}
        }
        .into_any(),
    };
    view! { <div class="bubble-file">{shown}</div> }
}
