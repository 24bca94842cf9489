//! `/contacts`: the contact table. Pages are read with keyset pagination (the last number of a
//! page is the cursor of the next), so paging stays instant at a million contacts; the search
//! box takes a number prefix or a name prefix.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::contacts::{list_contacts, list_segments, ContactRow};
use crate::components::contacts_nav::ContactsNav;

/// `/contacts`.
#[component]
pub fn ContactsPage() -> impl IntoView {
    let query = RwSignal::new(String::new());
    // Cursors of the pages before the current one, so "Previous" can go back.
    let cursors = RwSignal::new(Vec::<Option<String>>::new());
    let after = RwSignal::new(None::<String>);
    let segment = RwSignal::new(String::new());
    let segments = Resource::new(|| (), |_| list_segments());
    let page = Resource::new(
        move || (query.get(), after.get(), segment.get()),
        |(q, a, s)| list_contacts(q, a, (!s.is_empty()).then_some(s)),
    );
    let restart = move || {
        cursors.set(Vec::new());
        after.set(None);
    };
    view! {
        <Title text="Contacts" />
        <h1>"Contacts"</h1>
        <ContactsNav />
        <div class="inline-form">
            <label>"Search"
                <input type="search" placeholder="number or name" data-testid="contact-search"
                    on:input=move |ev| {
                        restart();
                        query.set(event_target_value(&ev));
                    } />
            </label>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let options = segments.await.unwrap_or_default();
                    view! {
                        <label>"Segment"
                            <select data-testid="contact-segment" on:change=move |ev| {
                                restart();
                                segment.set(event_target_value(&ev));
                            }>
                                <option value="">"all contacts"</option>
                                {options.into_iter().map(|s| view! {
                                    <option value=s.id.clone()>{s.definition.name.clone()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    }
                })}
            </Transition>
            <a class="button" href=move || {
                let s = segment.get();
                if s.is_empty() { "/contacts/export.csv".to_string() } else { format!("/contacts/export.csv?segment={s}") }
            } download>"Export (CSV)"</a>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) if p.rows.is_empty() && after.get_untracked().is_none() => view! {
                        <p class="notice" data-testid="no-contacts">
                            {if query.get_untracked().is_empty() {
                                "No contacts yet. Import a CSV or Excel list, or add one by hand."
                            } else {
                                "No contact matches."
                            }}
                        </p>
                    }.into_any(),
                    Ok(p) => {
                        let next = p.next_after.clone();
                        view! {
                            <table class="table" data-testid="contact-list">
                                <thead><tr><th>"Number"</th><th>"Name"</th><th>"Country"</th><th>"Tags"</th><th>"Marketing"</th><th>"Utility"</th></tr></thead>
                                <tbody>{p.rows.into_iter().map(contact_row).collect_view()}</tbody>
                            </table>
                            <div class="pager">
                                <button type="button" class="button" disabled=move || cursors.with(Vec::is_empty)
                                    on:click=move |_| {
                                        let mut stack = cursors.get_untracked();
                                        let previous = stack.pop().flatten();
                                        cursors.set(stack);
                                        after.set(previous);
                                    }>"← Previous"</button>
                                <button type="button" class="button" data-testid="next-page" disabled=next.is_none()
                                    on:click=move |_| {
                                        cursors.update(|s| s.push(after.get_untracked()));
                                        after.set(next.clone());
                                    }>"Next →"</button>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn consent_badge(standing: &str) -> impl IntoView {
    let (label, tone) = match standing {
        "opted_in" => ("opted in", "ok"),
        "opted_out" => ("opted out", "error"),
        _ => ("—", "neutral"),
    };
    view! { <span class=format!("status tone-{tone}")>{label}</span> }
}

fn contact_row(c: ContactRow) -> impl IntoView {
    let href = format!("/contacts/{}", c.phone.trim_start_matches('+'));
    view! {
        <tr data-testid="contact-row">
            <td><a href=href>{c.phone.clone()}</a></td>
            <td>{c.name}</td>
            <td>{c.country}</td>
            <td>{c.tags.join(", ")}</td>
            <td>{consent_badge(&c.marketing)}</td>
            <td>{consent_badge(&c.utility)}</td>
        </tr>
    }
}
