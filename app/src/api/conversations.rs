//! Server functions of the inbox (`/conversations`). Reads use GET; every mutating function
//! takes `csrf_token`, which the server's middleware checks before the function runs.
// `#[server]` generates an argument struct per function whose fields cannot carry docs; every
// item written here is documented.
#![allow(missing_docs)]

use domain::conversation::body::Body;
use domain::conversation::ReplyWindow;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRow {
    /// Conversation id.
    pub id: String,
    /// The contact's name, else their WhatsApp profile name, else their number.
    pub name: String,
    /// Their number, `+` and digits.
    pub number: String,
    /// The business number's connection name.
    pub connection_name: String,
    /// The newest message in one line.
    pub preview: String,
    /// `inbound`, `outbound` or `note`: who wrote the newest message.
    pub last_direction: String,
    /// When the newest message happened (Unix ms).
    pub last_activity_ms: i64,
    /// Unread inbound messages.
    pub unread: u32,
    /// `Open` or `Closed`.
    pub status: String,
    /// When the customer began waiting for an answer (Unix ms), if they are waiting.
    pub waiting_since_ms: Option<i64>,
    /// The team member working it, if any.
    #[serde(default)]
    pub assignee: Option<String>,
}

/// A page of the inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPage {
    /// The rows, newest activity first.
    pub rows: Vec<ConversationRow>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
    /// The server's clock (Unix ms), for the waiting ages.
    pub now_ms: i64,
    /// The connections to filter by: (id, name).
    pub connections: Vec<(String, String)>,
    /// The campaigns to filter by ("has replied to"): (id, name), newest first.
    #[serde(default)]
    pub campaigns: Vec<(String, String)>,
    /// The signed-in person's login name (what "assign to me" gives).
    #[serde(default)]
    pub me: Option<String>,
}

/// One message of a thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadMessage {
    /// `inbound`, `outbound` or `note`.
    pub direction: String,
    /// When it was written or sent (Unix ms).
    pub at_ms: i64,
    /// What it shows.
    pub body: Body,
    /// For outbound messages: `sending`, `sent`, `delivered`, `read`, `failed`, `not sent` or
    /// `unknown`.
    pub ticks: Option<String>,
    /// Why it failed or was not sent, in plain words with Meta's code.
    pub problem: Option<String>,
    /// The message it replies to, in one line.
    pub quote: Option<String>,
    /// Who wrote a note.
    pub author: Option<String>,
    /// WhatsApp's id of the message, once it has one: what a quote or a reaction names.
    pub wamid: Option<String>,
    /// A customer's file: whether Herald has it yet, and where to open it.
    #[serde(default)]
    pub media: Option<MediaView>,
}

/// A customer's photo, video, voice note, file or sticker as the thread shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaView {
    /// Meta's media id (what a retry names).
    pub media_id: String,
    /// `downloading`, `stored` or `failed`.
    pub state: String,
    /// Where a signed-in user opens it, once stored.
    pub url: Option<String>,
    /// Its size in words, once stored.
    pub size: Option<String>,
    /// Why the last try failed, and whether Herald tries again.
    pub problem: Option<String>,
    /// Whether the thread shows it in place (photos, stickers, video, audio) or links it.
    pub inline: bool,
}

/// What a simulated customer does in a sandbox thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CustomerAction {
    /// Writes text.
    Write {
        /// The text.
        text: String,
    },
    /// Taps a template's quick-reply button carrying `payload`.
    TapTemplateButton {
        /// The button's payload (also shown as its label).
        payload: String,
    },
    /// Taps option `index` (a reply button or a list row) of the business message `wamid`.
    Choose {
        /// The interactive message.
        wamid: String,
        /// The option's place, from 0.
        index: usize,
    },
    /// Reacts to the message `wamid`.
    React {
        /// The message.
        wamid: String,
        /// The emoji.
        emoji: String,
    },
    /// Shares a location.
    ShareLocation {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// Place name.
        name: String,
    },
    /// Sends the sandbox's sample photo (a parcel), downloaded by Herald as from Meta.
    SendPhoto {
        /// Caption.
        caption: String,
    },
}

/// An approved template the composer can send once the window has closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateChoice {
    /// Herald's template id.
    pub id: String,
    /// Its name and language.
    pub label: String,
    /// Its body text with the placeholders.
    pub body: String,
    /// Each variable: its label and the value filled from the contact, if any.
    pub variables: Vec<(String, String)>,
}

/// A saved session reply the composer can start from, its placeholders filled from the contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedReply {
    /// Herald's template id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The draft it gives.
    pub draft: domain::conversation::compose::SessionDraft,
    /// The file it sends, in words ("photo menu.jpg"), when it has one: choosing it uploads the
    /// file to the conversation's number first ([`use_saved_reply`]).
    #[serde(default)]
    pub file: Option<String>,
}

/// A conversation opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadView {
    /// Conversation id.
    pub id: String,
    /// The row as the inbox shows it.
    pub row: ConversationRow,
    /// The business number's connection.
    pub connection_id: String,
    /// True when that connection is the sandbox: the thread offers to play the customer.
    pub simulated: bool,
    /// The contact's page, when the number is a contact.
    pub contact_phone: Option<String>,
    /// The contact's tags.
    pub tags: Vec<String>,
    /// The contact's consent, one line per category.
    pub consent: Vec<String>,
    /// What may be sent now.
    pub window: ReplyWindow,
    /// The composer's sentence about the window.
    pub window_sentence: String,
    /// The server's clock (Unix ms), for the countdown.
    pub now_ms: i64,
    /// The messages, oldest first.
    pub messages: Vec<ThreadMessage>,
    /// Approved templates of the conversation's number.
    pub templates: Vec<TemplateChoice>,
    /// Saved session replies (for this number or any), usable while the window is open.
    pub saved_replies: Vec<SavedReply>,
}

/// What a contact has been through with the business, for the contact page: the same
/// messages the inbox shows, and the campaigns that reached them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactHistory {
    /// Their conversations, one per business number, newest activity first.
    pub conversations: Vec<ContactConversation>,
    /// The campaigns they were a recipient of, newest first.
    pub campaigns: Vec<CampaignMembership>,
}

/// One conversation of a contact, with its newest messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactConversation {
    /// Conversation id (the inbox link).
    pub id: String,
    /// The business number's name.
    pub connection: String,
    /// `open` or `closed`.
    pub status: String,
    /// Messages the conversation holds in all.
    pub total: usize,
    /// The newest of them, oldest first.
    pub messages: Vec<ThreadMessage>,
}

/// A campaign a contact was a recipient of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignMembership {
    /// Campaign id (its page).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Where the contact stands in it (`delivered`, `read`, `replied`, `failed`, …).
    pub state: String,
    /// Why it failed or was skipped, in plain words.
    pub detail: Option<String>,
    /// When it last changed for them (Unix ms).
    pub at_ms: i64,
}

#[cfg(feature = "ssr")]
fn port() -> Result<std::sync::Arc<dyn crate::ports::ConversationsPort>, ServerFnError> {
    Ok(crate::ports::services()?.conversations)
}

/// A page of the inbox.
#[server(endpoint = "conversations/list", input = leptos::server_fn::codec::GetUrl)]
pub async fn list_conversations(
    view: String,
    unread_only: bool,
    connection: String,
    search: String,
    assigned: String,
    replied_to: String,
    after: String,
) -> Result<InboxPage, ServerFnError> {
    use domain::conversation::filter::{AssignedFilter, InboxFilter, InboxView};
    let connection = if connection.is_empty() {
        None
    } else {
        Some(super::parse_id::<domain::ids::ConnectionId>(&connection)?.uuid())
    };
    let replied_to = if replied_to.is_empty() {
        None
    } else {
        Some(super::parse_id::<domain::ids::CampaignId>(&replied_to)?.uuid())
    };
    let filter = InboxFilter {
        view: InboxView::parse(&view),
        unread_only,
        connection,
        search,
        assigned: AssignedFilter::parse(&assigned),
        replied_to,
    };
    port()?
        .inbox(
            &super::caller()?,
            filter,
            Some(after).filter(|a| !a.is_empty()),
        )
        .await
        .map_err(super::refused)
}

/// How many conversations have unread messages (the navigation's badge).
#[server(endpoint = "conversations/unread", input = leptos::server_fn::codec::GetUrl)]
pub async fn unread_conversations() -> Result<usize, ServerFnError> {
    port()?
        .unread(&super::caller()?)
        .await
        .map_err(super::refused)
}

/// The draft of saved reply `template` for conversation `id`, its file (if it has one) uploaded
/// to the conversation's number and attached.
#[server(endpoint = "conversations/use_saved_reply")]
pub async fn use_saved_reply(
    csrf_token: String,
    id: String,
    template: String,
) -> Result<domain::conversation::compose::SessionDraft, ServerFnError> {
    let _ = csrf_token;
    port()?
        .use_saved_reply(
            &super::caller()?,
            super::parse_id(&id)?,
            super::parse_id(&template)?,
        )
        .await
        .map_err(super::refused)
}

/// A contact's conversations and campaigns.
#[server(endpoint = "conversations/of_contact", input = leptos::server_fn::codec::GetUrl)]
pub async fn conversations_of_contact(phone: String) -> Result<ContactHistory, ServerFnError> {
    port()?
        .contact_history(&super::caller()?, phone)
        .await
        .map_err(super::refused)
}

/// One conversation.
#[server(endpoint = "conversations/thread", input = leptos::server_fn::codec::GetUrl)]
pub async fn conversation_thread(id: String) -> Result<ThreadView, ServerFnError> {
    port()?
        .thread(&super::caller()?, super::parse_id(&id)?)
        .await
        .map_err(super::refused)
}

/// Sends the composer's message (text, reply buttons or a list), inside the window only.
#[server(endpoint = "conversations/reply", input = leptos::server_fn::codec::Json)]
pub async fn send_reply(
    csrf_token: String,
    id: String,
    draft: domain::conversation::compose::SessionDraft,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .reply(&super::caller()?, super::parse_id(&id)?, draft)
        .await
        .map_err(super::refused)
}

/// Gives the conversation to a team member (`assignee`, a login name; empty: to nobody).
#[server(endpoint = "conversations/assign")]
pub async fn assign_conversation(
    csrf_token: String,
    id: String,
    assignee: String,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    let assignee = Some(assignee.trim().to_string()).filter(|a| !a.is_empty());
    port()?
        .assign(&super::caller()?, super::parse_id(&id)?, assignee)
        .await
        .map_err(super::refused)
}

/// Tries again to fetch a customer's file Herald gave up on.
#[server(endpoint = "conversations/retry_media")]
pub async fn retry_media(
    csrf_token: String,
    id: String,
    media_id: String,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .retry_media(&super::caller()?, super::parse_id(&id)?, media_id)
        .await
        .map_err(super::refused)
}

/// Reacts to a message of the thread (an empty emoji takes the reaction back).
#[server(endpoint = "conversations/react")]
pub async fn react(
    csrf_token: String,
    id: String,
    wamid: String,
    emoji: String,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .react(&super::caller()?, super::parse_id(&id)?, wamid, emoji)
        .await
        .map_err(super::refused)
}

/// Plays the customer of a sandbox conversation.
#[server(endpoint = "conversations/simulate", input = leptos::server_fn::codec::Json)]
pub async fn simulate_customer(
    csrf_token: String,
    id: String,
    action: CustomerAction,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .simulate(&super::caller()?, super::parse_id(&id)?, action)
        .await
        .map_err(super::refused)
}

/// Sends an approved template with its variables' values.
#[server(endpoint = "conversations/send-template", input = leptos::server_fn::codec::Json)]
pub async fn send_template(
    csrf_token: String,
    id: String,
    template: String,
    values: Vec<String>,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .send_template(
            &super::caller()?,
            super::parse_id(&id)?,
            super::parse_id(&template)?,
            values,
        )
        .await
        .map_err(super::refused)
}

/// Adds an internal note (never sent).
#[server(endpoint = "conversations/note")]
pub async fn add_note(csrf_token: String, id: String, text: String) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .note(&super::caller()?, super::parse_id(&id)?, text)
        .await
        .map_err(super::refused)
}

/// Marks read (`read`), unread (`unread`), closes (`close`) or reopens (`reopen`).
#[server(endpoint = "conversations/mark")]
pub async fn mark_conversation(
    csrf_token: String,
    id: String,
    action: String,
) -> Result<(), ServerFnError> {
    let _ = csrf_token;
    port()?
        .mark(&super::caller()?, super::parse_id(&id)?, action)
        .await
        .map_err(super::refused)
}
