//! A WhatsApp message's content as the inbox and the contact page show it, so a message looks
//! the same wherever it is listed.

use domain::conversation::body::{media_word, Body};
use leptos::prelude::*;

use crate::components::formatted::formatted;

/// What a message's ticks say, as WhatsApp users know them.
pub fn tick_label(ticks: &str) -> String {
    match ticks {
        "sending" => "Sending…".into(),
        "sent" => "✓ Sent".into(),
        "delivered" => "✓✓ Delivered".into(),
        "read" => "✓✓ Read".into(),
        "failed" => "Failed".into(),
        "not sent" => "Not sent".into(),
        "unknown" => "Unknown: WhatsApp's answer was lost".into(),
        other => other.to_string(),
    }
}

/// A message's content as a bubble shows it: formatted text, what was tapped or chosen, the
/// media with its caption, buttons and lists, orders.
pub fn body_view(body: &Body) -> AnyView {
    match body {
        Body::Text { text } => view! { <div>{formatted(text)}</div> }.into_any(),
        Body::Tap { label, .. } => {
            view! { <p class="tap" data-testid="tap">"Tapped “"{label.clone()}"”"</p> }.into_any()
        }
        Body::ListPick {
            title, description, ..
        } => view! {
            <p class="tap">"Chose “"{title.clone()}"”"
                {description.clone().map(|d| view! { <span class="muted">" — "{d}</span> })}</p>
        }
        .into_any(),
        Body::Media {
            media,
            caption,
            filename,
            ..
        } => view! {
            <p class="bubble-media">{media_word(media)}{filename.clone().map(|f| format!(": {f}"))}</p>
            {caption.clone().map(|c| view! { <div>{formatted(&c)}</div> })}
        }
        .into_any(),
        Body::Interactive {
            text,
            options,
            list_button,
            header,
            footer,
            ..
        } => view! {
            {header.clone().map(|h| view! { <p><strong>{h}</strong></p> })}
            <div>{formatted(text)}</div>
            {footer.clone().map(|f| view! { <p class="muted">{f}</p> })}
            {list_button.clone().map(|b| view! { <p class="bubble-button">"☰ "{b}</p> })}
            <ul class="bubble-buttons">
                {options.iter().map(|o| view! { <li class="bubble-button">{o.clone()}</li> }).collect_view()}
            </ul>
        }
        .into_any(),
        Body::Order { lines, total, note } => view! {
            <p class="bubble-media">"Order"{total.clone().map(|t| format!(" · {t}"))}</p>
            <ul class="order-lines">{lines.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul>
            {note.clone().map(|n| view! { <div>{formatted(&n)}</div> })}
        }
        .into_any(),
        other => view! { <p>{other.preview()}</p> }.into_any(),
    }
}
