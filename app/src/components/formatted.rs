//! Text with WhatsApp's formatting (`*bold*`, `_italic_`, `~strike~`, ```` ```mono``` ````) as
//! styled spans, line by line — the one rendering the template preview and the inbox share, so
//! a message looks the same wherever Herald shows it.

use domain::template::preview::format;
use leptos::prelude::*;

/// `text` as the recipient's phone shows it.
pub fn formatted(text: &str) -> impl IntoView + use<> {
    format(text)
        .into_iter()
        .map(|line| {
            let spans = line
                .into_iter()
                .map(|r| {
                    let mut class = Vec::new();
                    if r.bold {
                        class.push("b");
                    }
                    if r.italic {
                        class.push("i");
                    }
                    if r.strike {
                        class.push("s");
                    }
                    if r.mono {
                        class.push("m");
                    }
                    view! { <span class=class.join(" ")>{r.text}</span> }
                })
                .collect_view();
            view! { <span class="line">{spans}<br /></span> }
        })
        .collect_view()
}
