//! A saved session reply's file: a photo, video or document Herald keeps and sends, by a fresh
//! media id of the conversation's number, with the reply's text as its caption.

use leptos::prelude::*;

use crate::session::PageSession;

/// What a saved reply may send (the server checks again).
const ACCEPTED: &str = "image/jpeg,image/png,video/mp4,video/3gpp,application/pdf,text/plain,\
application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,\
application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,\
application/vnd.ms-powerpoint,application/vnd.openxmlformats-officedocument.presentationml.presentation";

/// The file section of saved reply `id` (`None` until it is saved), showing `file` if it has one.
#[component]
pub(super) fn SavedReplyFile(id: Option<String>, file: Option<String>) -> impl IntoView {
    let Some(id) = id else {
        return view! {
            <p class="muted" data-testid="saved-reply-file">"Save the reply first to attach a photo, video or document to it."</p>
        }
        .into_any();
    };
    let csrf = PageSession::current().csrf_token;
    let current = RwSignal::new(file);
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let url = format!("/templates/{id}/media");
    let on_change = {
        let (url, csrf) = (url.clone(), csrf.clone());
        move |ev: leptos::ev::Event| {
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
                let (url, csrf) = (url.clone(), csrf.clone());
                busy.set(true);
                problem.set(None);
                leptos::task::spawn_local(async move {
                    let name = file.name();
                    let answer = crate::components::upload::post_file(&url, &file, &csrf).await;
                    busy.set(false);
                    match answer {
                        Ok(_) => current.set(Some(name)),
                        Err(why) => problem.set(Some(why)),
                    }
                });
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (ev, &url, &csrf);
        }
    };
    let remove = {
        let (url, csrf) = (url.clone(), csrf.clone());
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                let (url, csrf) = (url.clone(), csrf.clone());
                busy.set(true);
                leptos::task::spawn_local(async move {
                    let answer = crate::components::upload::delete(&url, &csrf).await;
                    busy.set(false);
                    match answer {
                        Ok(()) => current.set(None),
                        Err(why) => problem.set(Some(why)),
                    }
                });
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = (&url, &csrf);
        }
    };
    view! {
        <section data-testid="saved-reply-file">
            <h3>"File (optional)"</h3>
            <p class="muted">"A photo, video or document sent with the text as its caption (a reply with a file has no buttons)."</p>
            {move || match current.get() {
                Some(name) => view! {
                    <p data-testid="saved-reply-file-name">"Sends "<a href=url.clone() target="_blank">{name}</a>" "
                        <button type="button" class="button button-quiet" data-testid="saved-reply-file-remove"
                            disabled=move || busy.get() on:click=remove.clone()>"Remove the file"</button></p>
                }.into_any(),
                None => ().into_any(),
            }}
            <label>{move || if current.with(Option::is_some) { "Replace the file" } else { "Attach a file" }}
                <input type="file" data-testid="saved-reply-file-input" accept=ACCEPTED
                    disabled=move || busy.get() on:change=on_change.clone() />
            </label>
            {move || busy.get().then(|| view! { <p class="muted">"Saving the file…"</p> })}
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
        </section>
    }
    .into_any()
}
