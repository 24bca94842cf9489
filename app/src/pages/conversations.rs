//! `/conversations`: the inbox. One row per (number, customer), newest activity first, in keyset
//! pages; tabs (open, waiting for us, closed, all), unread only, filters by number, by who works
//! it (mine, unassigned) and by an answered campaign, and a search by name, number (also national
//! format) or message text. It follows the change stream, so a new
//! message moves its conversation to the top without a reload.

use domain::conversation::filter::{AssignedFilter, InboxView};
use domain::conversation::waited;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::conversations::{list_conversations, ConversationRow};
use crate::components::empty_state::EmptyState;
use crate::components::live_changes::{ask_to_notify, follow_changes};
use domain::clock::format_utc as when;

/// `/conversations`.
#[component]
pub fn ConversationsPage() -> impl IntoView {
    let view_tab = RwSignal::new(InboxView::Open);
    let unread_only = RwSignal::new(false);
    let connection = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let assigned = RwSignal::new(AssignedFilter::Anyone);
    let replied_to = RwSignal::new(String::new());
    let cursors = RwSignal::new(Vec::<String>::new());
    let after = RwSignal::new(String::new());
    let version = follow_changes("/conversations/events".into(), true);
    let page = Resource::new(
        move || {
            (
                view_tab.get(),
                unread_only.get(),
                connection.get(),
                search.get(),
                (assigned.get(), replied_to.get()),
                after.get(),
                version.get(),
            )
        },
        |(tab, unread, connection, search, (assigned, replied_to), after, _)| {
            list_conversations(
                tab.name().into(),
                unread,
                connection,
                search,
                assigned.name().into(),
                replied_to,
                after,
            )
        },
    );
    let restart = move || {
        cursors.set(Vec::new());
        after.set(String::new());
    };
    view! {
        <Title text="Conversations" />
        <h1>"Conversations"</h1>
        <nav class="subnav" aria-label="Inbox views">
            {[InboxView::Open, InboxView::Waiting, InboxView::Closed, InboxView::All]
                .into_iter()
                .map(|tab| view! {
                    <button type="button" data-testid=format!("tab-{}", tab.name())
                        class=move || if view_tab.get() == tab { "button button-primary" } else { "button button-quiet" }
                        on:click=move |_| { restart(); view_tab.set(tab); }>
                        {tab.label()}
                    </button>
                })
                .collect_view()}
        </nav>
        <div class="inline-form">
            <label>"Search"
                <input type="search" placeholder="name, number or message" data-testid="inbox-search"
                    on:input=move |ev| { restart(); search.set(event_target_value(&ev)); } />
            </label>
            <label class="check">
                <input type="checkbox" data-testid="inbox-unread"
                    on:change=move |ev| { restart(); unread_only.set(event_target_checked(&ev)); } />
                "Unread only"
            </label>
            <label>"Who"
                <select data-testid="inbox-assigned" on:change=move |ev| {
                    restart();
                    assigned.set(AssignedFilter::parse(&event_target_value(&ev)));
                }>
                    <option value="">"anyone"</option>
                    <option value="me">"assigned to me"</option>
                    <option value="unassigned">"unassigned"</option>
                </select>
            </label>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let (numbers, campaigns) = page
                        .await
                        .map(|p| (p.connections, p.campaigns))
                        .unwrap_or_default();
                    view! {
                        <label>"Replied to"
                            <select data-testid="inbox-campaign" on:change=move |ev| {
                                restart();
                                replied_to.set(event_target_value(&ev));
                            }>
                                <option value="">"any campaign or none"</option>
                                {campaigns.into_iter().map(|(id, name)| {
                                    let selected = replied_to.get_untracked() == id;
                                    view! { <option value=id selected=selected>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <label>"Number"
                            <select data-testid="inbox-connection" on:change=move |ev| {
                                restart();
                                connection.set(event_target_value(&ev));
                            }>
                                <option value="">"all numbers"</option>
                                {numbers.into_iter().map(|(id, name)| {
                                    let selected = connection.get_untracked() == id;
                                    view! { <option value=id selected=selected>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }
                })}
            </Transition>
            <button type="button" class="button button-quiet" on:click=move |_| ask_to_notify()>
                "Notify me of new messages"
            </button>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) if page.rows.is_empty() && after.get_untracked().is_empty() => view! {
                        <EmptyState title="No conversations here">
                            <p>"When someone writes to one of your numbers — or replies to a "
                               "campaign — their conversation appears here at once."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) => {
                        let now = page.now_ms;
                        let next = page.next.clone();
                        view! {
                            <ul class="inbox" data-testid="inbox">
                                {page.rows.into_iter().map(|row| view! { <InboxRow row=row now=now /> }).collect_view()}
                            </ul>
                            <div class="actions">
                                <button type="button" class="button"
                                    disabled=move || cursors.with(Vec::is_empty)
                                    on:click=move |_| {
                                        let previous = cursors.try_update(Vec::pop).flatten().unwrap_or_default();
                                        after.set(previous);
                                    }>"Newer"</button>
                                {next.map(|next| view! {
                                    <button type="button" class="button" data-testid="inbox-older"
                                        on:click=move |_| {
                                            cursors.update(|c| c.push(after.get_untracked()));
                                            after.set(next.clone());
                                        }>"Older"</button>
                                })}
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn InboxRow(row: ConversationRow, now: i64) -> impl IntoView {
    let href = format!("/conversations/{}", row.id);
    let unread = row.unread;
    let waiting = row
        .waiting_since_ms
        .map(|since| format!("waiting {}", waited(since, now)));
    let preview = match row.last_direction.as_str() {
        "outbound" => format!("You: {}", row.preview),
        "note" => format!("Note: {}", row.preview),
        _ => row.preview.clone(),
    };
    let class = if unread > 0 {
        "inbox-row unread"
    } else {
        "inbox-row"
    };
    view! {
        <li class=class data-testid="inbox-row">
            <a href=href>
                <span class="inbox-name">{row.name.clone()}</span>
                <span class="muted inbox-number">{row.number.clone()}" · "{row.connection_name.clone()}</span>
                <span class="inbox-preview">{preview}</span>
                <span class="muted inbox-when">{when(row.last_activity_ms)}</span>
                {waiting.map(|w| view! { <span class="badge inbox-waiting">{w}</span> })}
                {(unread > 0).then(|| view! {
                    <span class="badge badge-unread" data-testid="unread-badge"
                        aria-label=format!("{unread} unread")>{unread}</span>
                })}
                {(row.status == "Closed").then(|| view! { <span class="badge">"Closed"</span> })}
                {row.assignee.clone().map(|a| view! { <span class="badge" data-testid="inbox-assignee">{a}</span> })}
            </a>
        </li>
    }
}
