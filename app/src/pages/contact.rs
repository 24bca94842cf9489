//! `/contacts/new` and `/contacts/{number}`: add a contact by hand, or see and edit one — its
//! fields, its consent history, opt-in/opt-out by the signed-in user, and deletion (which keeps
//! an anonymous consent record so a later import cannot silently re-subscribe them) — and the
//! messages exchanged with them (see [`history`]).

mod history;

use domain::contacts::consent::ConsentAction;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::contacts::{
    delete_contact, get_contact, save_contact, set_consent, ContactDetail, ContactEdit,
};
use crate::components::contacts_nav::ContactsNav;
use crate::navigation::{confirm, go_to};
use crate::pages::webhook_log::format_utc;
use crate::session::PageSession;

/// `/contacts/new` and `/contacts/{digits}`.
#[component]
pub fn ContactPage() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(
        move || params.read().get("phone"),
        |digits| async move {
            match digits {
                Some(d) => get_contact(format!("+{}", d.trim_start_matches('+')))
                    .await
                    .map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text="Contact" />
        <h1>"Contacts"</h1>
        <ContactsNav />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <ContactForm detail=d /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ContactForm(detail: Option<ContactDetail>) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let existing = detail.is_some();
    let edit = RwSignal::new(detail.as_ref().map_or_else(
        || ContactEdit {
            default_country: "TR".into(),
            ..ContactEdit::default()
        },
        |d| {
            ContactEdit {
                phone: d.contact.phone.clone(),
                default_country: String::new(),
                first_name: d.contact.first_name.clone(),
                last_name: d.contact.last_name.clone(),
                language: d.contact.language.clone().unwrap_or_default(),
                time_zone: d.contact.time_zone.clone().unwrap_or_default(),
                tags: d
                    .contact
                    .tags
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                consent: Vec::new(),
            }
        },
    ));
    let save = Action::new({
        let csrf = csrf.clone();
        move |_: &()| {
            let (csrf, e) = (csrf.clone(), edit.get_untracked());
            async move {
                let phone = save_contact(csrf, existing, e)
                    .await
                    .map_err(|e| e.to_string())?;
                if !existing {
                    go_to(&format!("/contacts/{}", phone.trim_start_matches('+')));
                }
                Ok::<_, String>("Saved.")
            }
        }
    });
    let consent = Action::new({
        let csrf = csrf.clone();
        move |(action, category): &(ConsentAction, &'static str)| {
            let (csrf, phone, action, category) =
                (csrf.clone(), edit.get_untracked().phone, *action, *category);
            async move {
                set_consent(csrf, phone.clone(), action, vec![category.into()])
                    .await
                    .map_err(|e| e.to_string())?;
                go_to(&format!("/contacts/{}", phone.trim_start_matches('+')));
                Ok::<_, String>(())
            }
        }
    });
    let remove = Action::new({
        let csrf = csrf.clone();
        move |_: &()| {
            let (csrf, phone) = (csrf.clone(), edit.get_untracked().phone);
            async move {
                delete_contact(csrf, phone)
                    .await
                    .map_err(|e| e.to_string())?;
                go_to("/contacts");
                Ok::<_, String>(())
            }
        }
    });
    let field = move |get: fn(&ContactEdit) -> &String, set: fn(&mut ContactEdit, String)| {
        (
            move || edit.with(|e| get(e).clone()),
            move |ev| edit.update(|e| set(e, event_target_value(&ev))),
        )
    };
    let (phone_v, phone_in) = field(|e| &e.phone, |e, v| e.phone = v);
    let (country_v, country_in) = field(|e| &e.default_country, |e, v| e.default_country = v);
    let (first_v, first_in) = field(|e| &e.first_name, |e, v| e.first_name = v);
    let (last_v, last_in) = field(|e| &e.last_name, |e, v| e.last_name = v);
    let (lang_v, lang_in) = field(|e| &e.language, |e, v| e.language = v);
    let (tz_v, tz_in) = field(|e| &e.time_zone, |e, v| e.time_zone = v);
    let (tags_v, tags_in) = field(|e| &e.tags, |e, v| e.tags = v);
    let toggle = move |category: &'static str| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            edit.update(|e| {
                e.consent.retain(|c| c != category);
                if on {
                    e.consent.push(category.into());
                }
            });
        }
    };
    // The same rules the server enforces on save, shown as the user types.
    let problems = Memo::new(move |_| {
        edit.with(|e| {
            domain::contacts::fields::problems(
                &e.first_name,
                &e.last_name,
                &e.language,
                &e.time_zone,
                &domain::contacts::fields::split_tags(&e.tags),
            )
        })
    });
    let contact = detail.as_ref().map(|d| d.contact.clone());
    let history = detail.map(|d| d.consent).unwrap_or_default();
    view! {
        <form class="card form" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <h2>{if existing { "Contact" } else { "Add a contact" }}</h2>
            <label>"Phone number"
                <input data-testid="contact-phone" prop:value=phone_v on:input=phone_in readonly=existing required />
            </label>
            {(!existing).then(|| view! {
                <label>"Country for numbers without +"
                    <input prop:value=country_v on:input=country_in maxlength="2" size="3" />
                </label>
            })}
            <label>"First name" <input data-testid="contact-first-name" prop:value=first_v on:input=first_in /></label>
            <label>"Last name" <input prop:value=last_v on:input=last_in /></label>
            <label>"Language" <input placeholder="en_US" prop:value=lang_v on:input=lang_in /></label>
            <label>"Time zone" <input placeholder="Europe/Istanbul" prop:value=tz_v on:input=tz_in /></label>
            <label>"Tags" <input placeholder="vip, istanbul" prop:value=tags_v on:input=tags_in /></label>
            {(!existing).then(|| view! {
                <fieldset>
                    <legend>"They agreed to receive"</legend>
                    <label><input type="checkbox" on:change=toggle("marketing") />" marketing"</label>
                    <label><input type="checkbox" on:change=toggle("utility") />" utility"</label>
                </fieldset>
            })}
            <div class="actions">
                <button type="submit" class="button button-primary" data-testid="save-contact" disabled=move || save.pending().get() || !problems.get().is_empty()>"Save"</button>
            </div>
            <ul class="problems" data-testid="contact-problems">
                {move || problems.get().into_iter().map(|p| view! { <li class="error">{p.message}</li> }).collect_view()}
            </ul>
            {move || save.value().get().map(|r| match r {
                Ok(m) => view! { <p class="notice">{m}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </form>
        {contact.map(|c| {
            let attributes = c.attributes.iter().map(|(k, v)| view! { <tr><th>{k.clone()}</th><td>{v.display()}</td></tr> }).collect_view();
            let marketing_out = c.opted_out(domain::contacts::Category::Marketing);
            let utility_out = c.opted_out(domain::contacts::Category::Utility);
            view! {
                <section class="card">
                    <h2>"Attributes"</h2>
                    <table class="table"><tbody>{attributes}</tbody></table>
                    <p class="muted">
                        {format!("Added {}", format_utc(c.created_at_ms))}
                        {c.last_inbound_ms.map(|t| format!(" · last wrote {}", format_utc(t)))}
                        {c.wa_id.clone().map(|w| format!(" · WhatsApp id {w}"))}
                    </p>
                </section>
                <section class="card" data-testid="consent">
                    <h2>"Consent"</h2>
                    <div class="actions">
                        {if marketing_out {
                            view! { <button type="button" class="button" on:click=move |_| { consent.dispatch((ConsentAction::OptIn, "marketing")); }>"They opted back in to marketing"</button> }.into_any()
                        } else {
                            view! { <button type="button" class="button" data-testid="opt-out-marketing" on:click=move |_| { consent.dispatch((ConsentAction::OptOut, "marketing")); }>"Opt out of marketing"</button> }.into_any()
                        }}
                        {if utility_out {
                            view! { <button type="button" class="button" on:click=move |_| { consent.dispatch((ConsentAction::OptIn, "utility")); }>"They opted back in to utility"</button> }.into_any()
                        } else {
                            view! { <button type="button" class="button" on:click=move |_| { consent.dispatch((ConsentAction::OptOut, "utility")); }>"Opt out of utility"</button> }.into_any()
                        }}
                    </div>
                    {move || consent.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <ul class="history">
                        {history.into_iter().map(|h| view! {
                            <li><time>{format_utc(h.at_ms)}</time>" " <strong>{h.action}</strong>" " {h.categories}
                                " " <span class="muted">{h.source}</span></li>
                        }).collect_view()}
                    </ul>
                </section>
                <history::ContactHistoryCard phone=c.phone.clone() />
                <section class="card">
                    <h2>"Delete"</h2>
                    <p class="muted">"Erases the name, number and attributes. An anonymous record of their opt-outs stays, so importing the number again cannot silently subscribe them."</p>
                    <button type="button" class="button button-quiet" data-testid="delete-contact" on:click=move |_| {
                        if confirm("Delete this contact's personal data?") { remove.dispatch(()); }
                    }>"Delete contact"</button>
                    {move || remove.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
                </section>
            }
        })}
    }
}
