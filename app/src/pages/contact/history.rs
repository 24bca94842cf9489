//! The contact page's history: the contact's conversations with their newest messages, shown as
//! the inbox shows them (ticks and failures included), and the campaigns that reached them with
//! where they stand in each.

use domain::clock::format_utc;
use leptos::prelude::*;

use crate::api::conversations::{
    conversations_of_contact, CampaignMembership, ContactConversation, ThreadMessage,
};
use crate::components::bubble::{body_view, tick_label};

/// The history card of the contact with E.164 number `phone`.
#[component]
pub fn ContactHistoryCard(phone: String) -> impl IntoView {
    let history = Resource::new(move || phone.clone(), conversations_of_contact);
    view! {
        <section class="card" data-testid="contact-history">
            <h2>"Messages"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match history.await {
                        Ok(h) if h.conversations.is_empty() && h.campaigns.is_empty() => view! {
                            <p class="muted">"No messages with this contact yet."</p>
                        }.into_any(),
                        Ok(h) => view! {
                            {h.conversations.into_iter().map(|c| view! { <Conversation conversation=c /> }).collect_view()}
                            {(!h.campaigns.is_empty()).then(|| view! { <Campaigns campaigns=h.campaigns /> })}
                        }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Conversation(conversation: ContactConversation) -> impl IntoView {
    let href = format!("/conversations/{}", conversation.id);
    let earlier = conversation
        .total
        .saturating_sub(conversation.messages.len());
    view! {
        <h3>
            "On "{conversation.connection.clone()}" · "{conversation.status.clone()}" · "
            <a href=href data-testid="history-open">"Open the conversation"</a>
        </h3>
        {(earlier > 0).then(|| view! { <p class="muted">{format!("{earlier} earlier message(s) in the conversation.")}</p> })}
        <div class="thread thread-compact">
            {conversation.messages.into_iter().map(|m| view! { <HistoryMessage message=m /> }).collect_view()}
        </div>
    }
}

#[component]
fn HistoryMessage(message: ThreadMessage) -> impl IntoView {
    let class = format!("message message-{}", message.direction);
    view! {
        <article class=class data-testid="history-message" data-direction=message.direction.clone()>
            {message.quote.clone().map(|q| view! { <blockquote class="quote">{q}</blockquote> })}
            {message.author.clone().map(|a| view! { <p class="muted">"Note by "{a}</p> })}
            <div class="message-body">{body_view(&message.body)}</div>
            <p class="message-meta muted">
                {format_utc(message.at_ms)}
                {message.ticks.clone().map(|t| view! {
                    " · "<span class=format!("ticks status status-{}", t.replace(' ', "-"))>{tick_label(&t)}</span>
                })}
            </p>
            {message.problem.clone().map(|p| view! { <p class="error">{p}</p> })}
        </article>
    }
}

#[component]
fn Campaigns(campaigns: Vec<CampaignMembership>) -> impl IntoView {
    view! {
        <h3>"Campaigns"</h3>
        <table class="table" data-testid="history-campaigns">
            <thead><tr><th>"Campaign"</th><th>"For them"</th><th>"When"</th></tr></thead>
            <tbody>
                {campaigns.into_iter().map(|c| view! {
                    <tr>
                        <td><a href=format!("/campaigns/{}", c.id)>{c.name}</a></td>
                        <td><span class=format!("status status-{}", c.state)>{c.state.clone()}</span>
                            {c.detail.map(|d| view! { <span class="muted">" — "{d}</span> })}</td>
                        <td>{format_utc(c.at_ms)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
