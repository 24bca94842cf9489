//! Implements `app::ports::ConversationsPort` over the conversation store, the message ledger
//! and the dispatcher: the inbox, a thread with its ticks, and replies that go through the one
//! outbound path (so the service window and consent are checked where every send is checked).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use app::api::conversations::{
    CampaignMembership, ContactConversation, ContactHistory, ConversationRow, CustomerAction,
    InboxPage, MediaView, SavedReply, TemplateChoice, ThreadMessage, ThreadView,
};
use app::ports::PortError;
use domain::access::{Caller, Permission};
use domain::campaign::render::{self, Rendered, Slot};
use domain::campaign::RecipientState;
use domain::contacts::consent::{self, Category, Standing};
use domain::contacts::Contact;
use domain::conversation::body::Body;
use domain::conversation::compose::{self, SessionDraft};
use domain::conversation::filter::{number_query, InboxFilter};
use domain::conversation::media::{self, MediaState};
use domain::conversation::{Direction, ReplyWindow};
use domain::ids::{ConversationId, TemplateId};
use domain::template::TemplateKind;
use domain::whatsapp::graph::{validate, MessageContent, OutgoingMessage, ReplyContext};
use domain::whatsapp::status::DeliveryStatus;
use uuid::Uuid;

use super::media::MediaDownloader;
use crate::clock::Clock;
use crate::messaging::threads::Threads;
use crate::messaging::{Dispatched, Dispatcher, Outbound};
use crate::ports::{allow, fault};
use crate::storage::accounts::AccountStore;
use crate::storage::campaigns::CampaignStore;
use crate::storage::connections::{Connection, ConnectionKind, ConnectionStore};
use crate::storage::contacts::ContactStore;
use crate::storage::conversations::{ConversationRecord, EntryRef, NewEntry, ThreadEntry};
use crate::storage::messages::{MessageStore, Origin, SendState};
use crate::storage::templates::TemplateStore;
use crate::storage::windows::WindowStore;
use crate::storage::{internal, Store};
use crate::whatsapp::provider::Providers;
use crate::whatsapp::sandbox::{Sandbox, SimulatedInbound};

/// Rows per inbox page.
const PAGE: usize = 50;
/// Messages a thread shows (the newest).
const THREAD_MESSAGES: usize = 500;
/// Contacts a name search looks up conversations for.
const CONTACTS_SEARCHED: usize = 500;
/// The longest note.
const NOTE_CHARS: usize = 4_096;

/// The inbox's use cases.
#[derive(Clone)]
pub struct ConversationService {
    store: Store,
    threads: Threads,
    messages: MessageStore,
    contacts: ContactStore,
    windows: WindowStore,
    templates: TemplateStore,
    connections: ConnectionStore,
    dispatcher: Dispatcher,
    providers: Providers,
    sandbox: Sandbox,
    media: MediaDownloader,
    accounts: AccountStore,
    campaigns: CampaignStore,
    clock: Arc<dyn Clock>,
}

/// Campaigns the inbox offers to filter by ("has replied to"), newest first.
const CAMPAIGN_CHOICES: usize = 50;
/// Messages of each conversation the contact page shows (the newest).
const HISTORY_MESSAGES: usize = 20;

/// The signed-in person's login name, for "assigned to me".
fn member_name(caller: &Caller) -> Option<&str> {
    match caller {
        Caller::Member { username, .. } => Some(username),
        _ => None,
    }
}

impl ConversationService {
    /// The service over `store`, sending through `dispatcher`; `sandbox` plays the customers of
    /// sandbox numbers.
    pub fn new(
        store: &Store,
        threads: Threads,
        connections: ConnectionStore,
        dispatcher: Dispatcher,
        providers: Providers,
        sandbox: Sandbox,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, crate::storage::StorageError> {
        let media = MediaDownloader::new(
            store,
            threads.clone(),
            connections.clone(),
            providers.clone(),
            clock.clone(),
        )?;
        Ok(Self {
            store: store.clone(),
            media,
            accounts: AccountStore::open(store)?,
            campaigns: CampaignStore::open(store)?,
            threads,
            messages: MessageStore::open(store)?,
            contacts: ContactStore::open(store)?,
            windows: WindowStore::open(store)?,
            templates: TemplateStore::open(store)?,
            connections,
            dispatcher,
            providers,
            sandbox,
            clock,
        })
    }

    /// The downloader of customers' files (run by `startup`, read by the file route).
    pub fn media(&self) -> &MediaDownloader {
        &self.media
    }

    /// Uploads a file an agent chose to WhatsApp's media endpoint of the conversation's number,
    /// for a [`DraftKind::Media`](compose::DraftKind::Media) draft sent by media id, and keeps a
    /// copy for the thread. Type and size are checked before anything leaves (fact sheet §8).
    pub async fn upload_media(
        &self,
        caller: &Caller,
        id: ConversationId,
        filename: String,
        mime_type: String,
        bytes: Vec<u8>,
    ) -> Result<compose::DraftMedia, PortError> {
        allow(caller, Permission::SendMessages)?;
        let record = self.record(id)?;
        let mime_type = media::bare_mime(&mime_type);
        let Some((kind, max)) = domain::whatsapp::graph::media_limit(&mime_type) else {
            return Err(PortError::invalid(
                "file",
                "media.type",
                format!(
                    "WhatsApp does not send files of type {mime_type:?}: send a JPEG or PNG \
                     photo, an MP4 or 3GPP video, an AAC, AMR, MP3, MP4 or OGG audio, a PDF, \
                     text or Office document, or a WebP sticker"
                ),
            ));
        };
        let size = bytes.len() as u64;
        if size == 0 || size > max {
            return Err(PortError::invalid(
                "file",
                "media.size",
                format!(
                    "the file is {}; WhatsApp sends a {kind} of at most {}",
                    media::bytes(size),
                    media::bytes(max)
                ),
            ));
        }
        let connection = self
            .connections
            .get(&record.connection_id)
            .map_err(internal)?
            .ok_or_else(|| PortError::conflict("this conversation's connection was removed"))?;
        let api = self
            .providers
            .for_connection(&connection)
            .map_err(|e| e.refusal())?;
        let uploaded = api
            .upload_media(crate::whatsapp::provider::MediaFile {
                filename: filename.clone(),
                mime_type: mime_type.clone(),
                bytes: bytes.clone(),
            })
            .await
            .map_err(|e| e.refusal())?;
        let key = (record.connection_id, uploaded.id.clone());
        let shown_name = Some(filename.clone()).filter(|f| !f.is_empty());
        self.media
            .keep_sent(&key, kind, &mime_type, shown_name, bytes)
            .await
            .map_err(|e| fault("keeping a sent file failed", e))?;
        Ok(compose::DraftMedia {
            media_id: uploaded.id,
            kind: kind.into(),
            mime_type,
            filename,
            size,
        })
    }

    /// The thread's view of a customer's file.
    fn media_view(&self, connection: Uuid, body: &Body) -> Result<Option<MediaView>, PortError> {
        let Body::Media {
            media_id: Some(media_id),
            mime_type,
            ..
        } = body
        else {
            return Ok(None);
        };
        let key = (connection, media_id.clone());
        let Some(record) = self.media.store().get(&key).map_err(internal)? else {
            return Ok(None);
        };
        let stored = record.state == MediaState::Stored;
        let problem = record.last_error.as_ref().map(|why| match record.state {
            MediaState::Failed => format!("Herald could not keep this file: {why}"),
            _ => format!(
                "Download try {} failed ({why}); Herald tries again by itself.",
                record.attempts
            ),
        });
        let mime = record
            .mime_type
            .as_deref()
            .or(mime_type.as_deref())
            .unwrap_or_default();
        Ok(Some(MediaView {
            media_id: media_id.clone(),
            state: record.state.label().into(),
            url: stored.then(|| format!("/conversations/media/{connection}/{media_id}")),
            size: record.size.filter(|_| stored).map(media::bytes),
            problem: problem.filter(|_| !stored),
            inline: media::shown_inline(mime),
        }))
    }

    /// The change announcements the inbox's event stream forwards.
    pub fn threads(&self) -> &Threads {
        &self.threads
    }

    fn record(&self, id: ConversationId) -> Result<ConversationRecord, PortError> {
        self.threads
            .store()
            .get(&id.uuid())
            .map_err(internal)?
            .ok_or_else(|| PortError::NotFound("no such conversation".into()))
    }

    fn contact_of(&self, wa_id: &str) -> Result<Option<Contact>, PortError> {
        let forms = domain::contacts::phone::wa_id_candidates(wa_id);
        self.contacts.find_any(&forms).map_err(internal)
    }

    fn connection_names(&self) -> Result<HashMap<Uuid, String>, PortError> {
        Ok(self
            .connections
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect())
    }

    fn row(
        &self,
        id: Uuid,
        record: &ConversationRecord,
        contact: Option<&Contact>,
        names: &HashMap<Uuid, String>,
    ) -> ConversationRow {
        let name = contact
            .map(Contact::display_name)
            .filter(|n| !n.starts_with('+'))
            .or_else(|| record.profile_name.clone())
            .unwrap_or_else(|| format!("+{}", record.wa_id));
        ConversationRow {
            id: id.to_string(),
            name,
            number: format!("+{}", record.wa_id),
            connection_name: names
                .get(&record.connection_id)
                .cloned()
                .unwrap_or_else(|| "a deleted connection".into()),
            preview: record.state.preview.clone(),
            last_direction: direction_name(record.state.last_direction).into(),
            last_activity_ms: record.state.last_activity_ms,
            unread: record.state.unread,
            status: record.state.status.label().into(),
            waiting_since_ms: record
                .state
                .is_waiting()
                .then_some(record.state.waiting_since_ms)
                .flatten(),
            assignee: record.state.assignee.clone(),
        }
    }

    /// The conversations the search and the unread switch narrow the inbox to, from their
    /// indexes (`None`: no narrowing, walk the activity index). A search also finds the
    /// conversations of contacts whose current name starts with it.
    fn narrowed_to(&self, filter: &InboxFilter) -> Result<Option<HashSet<Uuid>>, PortError> {
        let store = self.threads.store();
        let mut found = store.search(&filter.search).map_err(internal)?;
        if let Some(found) = found.as_mut() {
            self.add_contacts_named(&filter.search, found)?;
        }
        if !filter.unread_only {
            return Ok(found);
        }
        let unread = store.unread_ids().map_err(internal)?;
        Ok(Some(match found {
            Some(found) => found.intersection(&unread).copied().collect(),
            None => unread,
        }))
    }

    /// Adds the conversations of contacts whose name starts with `query` (names edited since
    /// their last message are not in the message index yet).
    fn add_contacts_named(&self, query: &str, found: &mut HashSet<Uuid>) -> Result<(), PortError> {
        if number_query(query).is_some() {
            return Ok(());
        }
        let named = self
            .contacts
            .search_name(query, None, CONTACTS_SEARCHED, &|_| true)
            .map_err(internal)?;
        let connections = self.connection_names()?;
        for contact in named.items {
            let wa_id = contact.phone.trim_start_matches('+');
            for connection in connections.keys() {
                if let Some(id) = self
                    .threads
                    .store()
                    .of_user(connection, wa_id)
                    .map_err(internal)?
                {
                    found.insert(id);
                }
            }
        }
        Ok(())
    }

    fn message(&self, connection: Uuid, entry: ThreadEntry) -> Result<ThreadMessage, PortError> {
        let (mut ticks, mut problem, mut author, mut wamid) = (None, None, None, None);
        match &entry.reference {
            EntryRef::Outbound { message } => {
                let (t, p) = self.delivery(message)?;
                ticks = Some(t);
                problem = p;
                wamid = self
                    .messages
                    .send(message)
                    .map_err(internal)?
                    .and_then(|r| r.wamid);
            }
            EntryRef::Note { author: who } => author = Some(who.clone()),
            EntryRef::Inbound { wamid: id } => wamid = Some(id.clone()),
        }
        let quote = match &entry.context_id {
            Some(wamid) => self.quote(wamid)?,
            None => None,
        };
        let media = self.media_view(connection, &entry.body)?;
        Ok(ThreadMessage {
            media,
            direction: direction_name(entry.direction).into(),
            at_ms: entry.at_ms,
            body: entry.body,
            ticks,
            problem,
            quote,
            author,
            wamid,
        })
    }

    /// Whether `wamid` is a message of conversation `id` (the customer's or Herald's), so that
    /// a quote or reaction can only name what this customer has seen.
    fn in_conversation(&self, id: Uuid, wamid: &str) -> Result<bool, PortError> {
        let store = self.threads.store();
        let inbound = EntryRef::Inbound {
            wamid: wamid.to_string(),
        };
        if let Some(found) = store.conversation_of(&inbound).map_err(internal)? {
            return Ok(found == id);
        }
        let Some(message) = self.messages.send_of_wamid(wamid).map_err(internal)? else {
            return Ok(false);
        };
        Ok(store
            .conversation_of(&EntryRef::Outbound { message })
            .map_err(internal)?
            == Some(id))
    }

    /// `wamid` checked to belong to conversation `id`.
    fn own_message(&self, id: Uuid, field: &'static str, wamid: &str) -> Result<String, PortError> {
        let wamid = wamid.trim();
        if wamid.is_empty() || !self.in_conversation(id, wamid)? {
            return Err(PortError::invalid(
                field,
                "conversation.message",
                "choose a message of this conversation",
            ));
        }
        Ok(wamid.to_string())
    }

    /// The ticks of ledger entry `id` and, for a failure, why in plain words.
    fn delivery(&self, id: &Uuid) -> Result<(String, Option<String>), PortError> {
        let Some(record) = self.messages.send(id).map_err(internal)? else {
            return Ok(("not sent".into(), Some("Herald could not record it".into())));
        };
        let status = match &record.wamid {
            Some(wamid) => self.messages.status(wamid).map_err(internal)?,
            None => None,
        };
        if let Some(status) = status {
            let problem = status.errors.first().map(|(code, details)| {
                domain::whatsapp::errors::explain_failure(*code, details.as_deref())
            });
            let ticks = match status.status {
                DeliveryStatus::Played => "read",
                other => other.as_str(),
            };
            return Ok((ticks.into(), problem));
        }
        Ok(match record.state {
            SendState::Sending => ("sending".into(), None),
            SendState::Accepted => ("sent".into(), None),
            SendState::Refused { reason, .. } => ("not sent".into(), Some(reason)),
            SendState::Unknown { reason } => ("unknown".into(), Some(reason)),
        })
    }

    /// The message `wamid` (the customer's or Herald's) in one line.
    fn quote(&self, wamid: &str) -> Result<Option<String>, PortError> {
        let store = self.threads.store();
        let inbound = EntryRef::Inbound {
            wamid: wamid.to_string(),
        };
        if let Some(entry) = store.entry_of(&inbound).map_err(internal)? {
            return Ok(Some(entry.body.preview()));
        }
        if let Some(message) = self.messages.send_of_wamid(wamid).map_err(internal)? {
            if let Some(entry) = store
                .entry_of(&EntryRef::Outbound { message })
                .map_err(internal)?
            {
                return Ok(Some(entry.body.preview()));
            }
            if let Some(content) = self.messages.content(&message).map_err(internal)? {
                return Ok(Some(Body::from_outgoing(&content).preview()));
            }
        }
        Ok(Some("an earlier message".into()))
    }

    fn templates_for(
        &self,
        connection: &Uuid,
        contact: Option<&Contact>,
    ) -> Result<Vec<TemplateChoice>, PortError> {
        let mut choices = Vec::new();
        for (id, record) in self.templates.list().map_err(internal)? {
            let approved = record.kind == TemplateKind::Approved
                && record.connection_id.as_ref() == Some(connection)
                && record.status.as_deref() == Some("APPROVED");
            if !approved {
                continue;
            }
            let definition = &record.definition;
            let variables = render::slots(definition)
                .into_iter()
                .enumerate()
                .map(|(i, slot)| {
                    let guess = match (&slot, contact) {
                        (Slot::Body { .. }, Some(c)) if i == 0 => c.first_name.clone(),
                        _ => String::new(),
                    };
                    (slot.label(), guess)
                })
                .collect();
            let body = definition
                .components
                .iter()
                .find(|c| c.kind.eq_ignore_ascii_case("BODY"))
                .and_then(|c| c.text.clone())
                .unwrap_or_default();
            choices.push(TemplateChoice {
                id: id.to_string(),
                label: format!("{} ({})", definition.name, definition.language),
                body,
                variables,
            });
        }
        choices.sort_by(|a, b| a.label.cmp(&b.label));
        Ok(choices)
    }

    /// Session replies of `connection` (or of no particular number) as drafts, what is known of
    /// the contact filled in: `{{1}}` or `{{first_name}}`, `{{last_name}}`, `{{name}}`,
    /// `{{phone}}` and the contact's own attributes by name.
    fn saved_replies(
        &self,
        connection: &Uuid,
        wa_id: &str,
        contact: Option<&Contact>,
    ) -> Result<Vec<SavedReply>, PortError> {
        let value = |name: &str| compose::contact_value(wa_id, contact, name);
        let mut replies: Vec<SavedReply> = self
            .templates
            .list()
            .map_err(internal)?
            .into_iter()
            .filter(|(_, t)| {
                t.kind == TemplateKind::SessionReply
                    && t.connection_id.as_ref().is_none_or(|c| c == connection)
            })
            .map(|(id, t)| SavedReply {
                id: id.to_string(),
                name: t.definition.name.clone(),
                draft: compose::from_session_reply(&t.definition, value),
                file: t.session_media.as_ref().map(|m| m.described()),
            })
            .collect();
        replies.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(replies)
    }

    /// Sends `content` to the conversation's customer through the one outbound path.
    async fn send(
        &self,
        record: &ConversationRecord,
        conversation: Uuid,
        content: MessageContent,
        template_category: Option<Category>,
        summary: String,
        quoting: Option<String>,
    ) -> Result<(), PortError> {
        let connection = self.connection(&record.connection_id)?;
        let mut message = OutgoingMessage::to(record.wa_id.clone(), content);
        message.context = quoting.map(|message_id| ReplyContext { message_id });
        if let Some(problem) = validate::outgoing_message(&message).first() {
            return Err(PortError::invalid(
                "text",
                "message.invalid",
                problem.message.clone(),
            ));
        }
        let client = self
            .providers
            .for_connection(&connection)
            .map_err(|e| e.refusal())?;
        let gate = self.dispatcher.current_gate(&connection.id);
        let outbound = Outbound {
            origin: Origin::Conversation { conversation },
            connection: connection.id,
            message,
            template_category,
            summary,
        };
        match self
            .dispatcher
            .send(client.as_ref(), &gate, outbound, None, |_| Ok(true))
            .await
        {
            Dispatched::Answered { result: Ok(_), .. } => {}
            Dispatched::Answered {
                result: Err(error), ..
            } => {
                // The thread shows it as not sent, with the same words.
                return Err(PortError::conflict(format!(
                    "WhatsApp did not take the message: {}",
                    error.explain()
                )));
            }
            Dispatched::Refused(refusal) => {
                return Err(PortError::conflict(format!(
                    "Not sent: {}.",
                    refusal.explain()
                )))
            }
            Dispatched::NotSent => {
                return Err(fault(
                    "a reply was not sent",
                    "its ledger entry could not be written",
                ))
            }
        }
        self.store.flush().await.map_err(internal)?;
        Ok(())
    }

    /// The wamid of the newest message the business sent in this conversation (what a
    /// simulated template-button tap answers).
    fn last_business_message(
        &self,
        record: &ConversationRecord,
    ) -> Result<Option<String>, PortError> {
        let Some(id) = self
            .threads
            .store()
            .of_user(&record.connection_id, &record.wa_id)
            .map_err(internal)?
        else {
            return Ok(None);
        };
        for entry in self
            .threads
            .store()
            .thread(&id, THREAD_MESSAGES)
            .map_err(internal)?
            .into_iter()
            .rev()
        {
            if let EntryRef::Outbound { message } = entry.reference {
                if let Some(wamid) = self
                    .messages
                    .send(&message)
                    .map_err(internal)?
                    .and_then(|r| r.wamid)
                {
                    return Ok(Some(wamid));
                }
            }
        }
        Ok(None)
    }

    /// The customer's tap on option `index` of the business's interactive message `wamid`.
    fn choice(&self, wamid: &str, index: usize) -> Result<SimulatedInbound, PortError> {
        let not_interactive = || {
            PortError::invalid(
                "wamid",
                "sandbox.choice",
                "only a message with reply buttons or a list can be tapped",
            )
        };
        let message = self
            .messages
            .send_of_wamid(wamid)
            .map_err(internal)?
            .ok_or_else(not_interactive)?;
        let content = self
            .messages
            .content(&message)
            .map_err(internal)?
            .ok_or_else(not_interactive)?;
        let Body::Interactive {
            options,
            ids,
            list_button,
            ..
        } = Body::from_outgoing(&content)
        else {
            return Err(not_interactive());
        };
        let (Some(title), Some(id)) = (options.get(index), ids.get(index)) else {
            return Err(PortError::invalid(
                "index",
                "sandbox.choice",
                format!("that message has {} options", options.len()),
            ));
        };
        let (id, title, context) = (id.clone(), title.clone(), Some(wamid.to_string()));
        Ok(if list_button.is_some() {
            SimulatedInbound::ListReply { id, title, context }
        } else {
            SimulatedInbound::ButtonReply { id, title, context }
        })
    }

    fn connection(&self, id: &Uuid) -> Result<Connection, PortError> {
        self.connections
            .get(id)
            .map_err(internal)?
            .ok_or_else(|| PortError::Conflict("this conversation's connection was deleted".into()))
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
        Direction::Note => "note",
    }
}

/// The cursor of a row: its activity and id.
fn cursor(row: &ConversationRow) -> String {
    format!("{}:{}", row.last_activity_ms, row.id)
}

fn parse_cursor(text: &str) -> Result<(i64, Uuid), PortError> {
    let bad = || PortError::invalid("after", "inbox.cursor", "this page link is not valid");
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        at.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

fn consent_lines(contact: &Contact) -> Vec<String> {
    Category::ALL
        .into_iter()
        .map(|category| {
            let standing = match consent::standing(&contact.consent, category) {
                Standing::OptedIn => "opted in",
                Standing::OptedOut => "opted out",
                Standing::Unknown => "not recorded",
            };
            format!("{}: {standing}", category.as_str())
        })
        .collect()
}

#[async_trait::async_trait]
impl app::ports::ConversationsPort for ConversationService {
    async fn inbox(
        &self,
        caller: &Caller,
        filter: InboxFilter,
        after: Option<String>,
    ) -> Result<InboxPage, PortError> {
        allow(caller, Permission::View)?;
        let me = member_name(caller);
        let before = after.as_deref().map(parse_cursor).transpose()?;
        let names = self.connection_names()?;
        let mut rows = Vec::with_capacity(PAGE);
        let mut more = false;
        let mut failure = None;
        let among = self.narrowed_to(&filter)?;
        let visit = |id: Uuid, record: ConversationRecord| {
            if !filter.admits(&record.state, record.connection_id, me) {
                return true;
            }
            let contact = match self.contact_of(&record.wa_id) {
                Ok(contact) => contact,
                Err(error) => {
                    failure = Some(error);
                    return false;
                }
            };
            if rows.len() == PAGE {
                more = true;
                return false;
            }
            rows.push(self.row(id, &record, contact.as_ref(), &names));
            true
        };
        let store = self.threads.store();
        match &among {
            Some(among) => store.newest_first_among(among, before, visit),
            None => store.newest_first(before, visit),
        }
        .map_err(internal)?;
        if let Some(error) = failure {
            return Err(error);
        }
        let next = if more { rows.last().map(cursor) } else { None };
        let mut connections: Vec<(String, String)> = names
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect();
        connections.sort_by(|a, b| a.1.cmp(&b.1));
        let mut campaigns = self.campaigns.list().map_err(internal)?;
        campaigns.sort_by_key(|(_, c)| std::cmp::Reverse(c.created_at_ms));
        Ok(InboxPage {
            rows,
            next,
            now_ms: self.clock.now_ms(),
            connections,
            campaigns: campaigns
                .into_iter()
                .take(CAMPAIGN_CHOICES)
                .map(|(id, c)| (id.to_string(), c.draft.name))
                .collect(),
            me: me.map(str::to_string),
        })
    }

    async fn unread(&self, caller: &Caller) -> Result<usize, PortError> {
        allow(caller, Permission::View)?;
        self.threads.store().unread_count().map_err(internal)
    }

    async fn thread(&self, caller: &Caller, id: ConversationId) -> Result<ThreadView, PortError> {
        allow(caller, Permission::View)?;
        let record = self.record(id)?;
        let contact = self.contact_of(&record.wa_id)?;
        let names = self.connection_names()?;
        let now_ms = self.clock.now_ms();
        let windows = self
            .windows
            .get(&record.connection_id, &record.wa_id)
            .map_err(internal)?;
        let window = ReplyWindow::at(windows.service_closes_at_ms, now_ms);
        let messages = self
            .threads
            .store()
            .thread(&id.uuid(), THREAD_MESSAGES)
            .map_err(internal)?
            .into_iter()
            .map(|entry| self.message(record.connection_id, entry))
            .collect::<Result<Vec<_>, _>>()?;
        let simulated = self
            .connections
            .get(&record.connection_id)
            .map_err(internal)?
            .is_some_and(|c| c.kind == ConnectionKind::Sandbox);
        Ok(ThreadView {
            id: id.to_string(),
            row: self.row(id.uuid(), &record, contact.as_ref(), &names),
            connection_id: record.connection_id.to_string(),
            simulated,
            contact_phone: contact.as_ref().map(|c| c.phone.clone()),
            tags: contact
                .as_ref()
                .map(|c| c.tags.iter().cloned().collect())
                .unwrap_or_default(),
            consent: contact.as_ref().map(consent_lines).unwrap_or_default(),
            window_sentence: window.sentence(now_ms),
            window,
            now_ms,
            messages,
            templates: self.templates_for(&record.connection_id, contact.as_ref())?,
            saved_replies: self.saved_replies(
                &record.connection_id,
                &record.wa_id,
                contact.as_ref(),
            )?,
        })
    }

    async fn use_saved_reply(
        &self,
        caller: &Caller,
        id: ConversationId,
        template: TemplateId,
    ) -> Result<SessionDraft, PortError> {
        allow(caller, Permission::SendMessages)?;
        let record = self.record(id)?;
        let saved = self
            .templates
            .get(&template.uuid())
            .map_err(internal)?
            .filter(|t| {
                t.kind == TemplateKind::SessionReply
                    && t.connection_id
                        .as_ref()
                        .is_none_or(|c| *c == record.connection_id)
            })
            .ok_or_else(|| PortError::not_found("no such saved reply for this number"))?;
        let contact = self.contact_of(&record.wa_id)?;
        let mut draft = compose::from_session_reply(&saved.definition, |name| {
            compose::contact_value(&record.wa_id, contact.as_ref(), name)
        });
        if let Some(file) = &saved.session_media {
            let path = crate::storage::templates::saved_reply_file(&self.store, &template.uuid());
            let bytes = tokio::fs::read(&path).await.map_err(|e| {
                fault(
                    "a saved reply's file could not be read",
                    format!("{}: {e}", path.display()),
                )
            })?;
            let media = self
                .upload_media(
                    caller,
                    id,
                    file.filename.clone(),
                    file.mime_type.clone(),
                    bytes,
                )
                .await?;
            draft.kind = compose::DraftKind::Media;
            draft.media = Some(media);
        }
        Ok(draft)
    }

    async fn contact_history(
        &self,
        caller: &Caller,
        phone: String,
    ) -> Result<ContactHistory, PortError> {
        allow(caller, Permission::View)?;
        let names = self.connection_names()?;
        let wa_id = phone.trim().trim_start_matches('+').to_string();
        let store = self.threads.store();
        let mut conversations = Vec::new();
        for (connection, name) in &names {
            let Some(id) = store.of_user(connection, &wa_id).map_err(internal)? else {
                continue;
            };
            let Some(record) = store.get(&id).map_err(internal)? else {
                continue;
            };
            let messages = store
                .thread(&id, HISTORY_MESSAGES)
                .map_err(internal)?
                .into_iter()
                .map(|entry| self.message(*connection, entry))
                .collect::<Result<Vec<_>, _>>()?;
            conversations.push((
                record.state.last_activity_ms,
                ContactConversation {
                    id: id.to_string(),
                    connection: name.clone(),
                    status: record.state.status.label().into(),
                    total: store.thread_len(&id).map_err(internal)?,
                    messages,
                },
            ));
        }
        conversations.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        let e164 = format!("+{wa_id}");
        let mut campaigns = Vec::new();
        for (id, campaign) in self.campaigns.list().map_err(internal)? {
            let Some(recipient) = self.campaigns.recipient(&id, &e164).map_err(internal)? else {
                continue;
            };
            let detail = match &recipient.state {
                RecipientState::Failed { reason, .. } | RecipientState::Unknown { reason } => {
                    Some(reason.clone())
                }
                RecipientState::Skipped { reason } => Some(reason.explain()),
                _ => None,
            };
            campaigns.push(CampaignMembership {
                id: id.to_string(),
                name: campaign.draft.name,
                state: recipient.state.name().into(),
                detail,
                at_ms: recipient.updated_at_ms,
            });
        }
        campaigns.sort_by_key(|c| std::cmp::Reverse(c.at_ms));
        Ok(ContactHistory {
            conversations: conversations.into_iter().map(|(_, c)| c).collect(),
            campaigns,
        })
    }

    async fn reply(
        &self,
        caller: &Caller,
        id: ConversationId,
        draft: SessionDraft,
    ) -> Result<(), PortError> {
        allow(caller, Permission::SendMessages)?;
        let record = self.record(id)?;
        let problems = draft.problems();
        if !problems.is_empty() {
            return Err(PortError::Invalid(problems));
        }
        let quoting = draft
            .reply_to
            .as_deref()
            .map(|wamid| self.own_message(id.uuid(), "reply_to", wamid))
            .transpose()?;
        self.send(
            &record,
            id.uuid(),
            draft.content(),
            None,
            draft.summary(),
            quoting,
        )
        .await
    }

    async fn assign(
        &self,
        caller: &Caller,
        id: ConversationId,
        assignee: Option<String>,
    ) -> Result<(), PortError> {
        allow(caller, Permission::SendMessages)?;
        if let Some(name) = &assignee {
            if self
                .accounts
                .find_by_name(name)
                .map_err(internal)?
                .is_none()
            {
                return Err(PortError::invalid(
                    "assignee",
                    "conversation.assignee",
                    format!("{name:?} is not a member of this Herald"),
                ));
            }
        }
        self.threads
            .store()
            .change(&id.uuid(), |c| c.assignee.clone_from(&assignee))
            .map_err(internal)?
            .ok_or_else(|| PortError::NotFound("no such conversation".into()))?;
        self.store.flush().await.map_err(internal)?;
        self.threads.changed(id.uuid());
        Ok(())
    }

    async fn retry_media(
        &self,
        caller: &Caller,
        id: ConversationId,
        media_id: String,
    ) -> Result<(), PortError> {
        allow(caller, Permission::SendMessages)?;
        let record = self.record(id)?;
        let key = (record.connection_id, media_id);
        let Some(media) = self.media.store().get(&key).map_err(internal)? else {
            return Err(PortError::NotFound(
                "no such file in this conversation".into(),
            ));
        };
        let entry = EntryRef::Inbound { wamid: media.wamid };
        if self
            .threads
            .store()
            .conversation_of(&entry)
            .map_err(internal)?
            != Some(id.uuid())
        {
            return Err(PortError::NotFound(
                "no such file in this conversation".into(),
            ));
        }
        if !self
            .media
            .store()
            .retry(&key, self.clock.now_ms())
            .map_err(internal)?
        {
            return Err(PortError::conflict(format!(
                "this file is {}, not failed",
                media.state.label()
            )));
        }
        self.threads.changed(id.uuid());
        Ok(())
    }

    async fn react(
        &self,
        caller: &Caller,
        id: ConversationId,
        wamid: String,
        emoji: String,
    ) -> Result<(), PortError> {
        allow(caller, Permission::SendMessages)?;
        let record = self.record(id)?;
        let wamid = self.own_message(id.uuid(), "wamid", &wamid)?;
        let emoji = emoji.trim();
        // One emoji (with its modifiers), as WhatsApp shows reactions; empty takes it back.
        if emoji.chars().count() > 8 || emoji.chars().any(|c| c.is_alphanumeric()) {
            return Err(PortError::invalid(
                "emoji",
                "reaction.emoji",
                "a reaction is one emoji",
            ));
        }
        let summary = if emoji.is_empty() {
            "Removed a reaction".to_string()
        } else {
            format!("Reacted {emoji}")
        };
        self.send(
            &record,
            id.uuid(),
            compose::reaction(&wamid, Some(emoji).filter(|e| !e.is_empty())),
            None,
            summary,
            None,
        )
        .await
    }

    async fn simulate(
        &self,
        caller: &Caller,
        id: ConversationId,
        action: CustomerAction,
    ) -> Result<(), PortError> {
        allow(caller, Permission::SendMessages)?;
        let record = self.record(id)?;
        let what = match action {
            CustomerAction::Write { text } if text.trim().is_empty() => {
                return Err(PortError::invalid(
                    "text",
                    "sandbox.text",
                    "write the message text",
                ))
            }
            CustomerAction::Write { text } => SimulatedInbound::Text(text),
            CustomerAction::TapTemplateButton { payload } => {
                let payload = payload.trim().to_string();
                if payload.is_empty() {
                    return Err(PortError::invalid(
                        "payload",
                        "sandbox.payload",
                        "write the button's payload",
                    ));
                }
                SimulatedInbound::Button {
                    text: payload.clone(),
                    payload,
                    context: self.last_business_message(&record)?,
                }
            }
            CustomerAction::Choose { wamid, index } => {
                let wamid = self.own_message(id.uuid(), "wamid", &wamid)?;
                self.choice(&wamid, index)?
            }
            CustomerAction::React { wamid, emoji } => SimulatedInbound::Reaction {
                to: self.own_message(id.uuid(), "wamid", &wamid)?,
                emoji,
            },
            CustomerAction::ShareLocation {
                latitude,
                longitude,
                name,
            } => {
                if !(latitude.is_finite()
                    && longitude.is_finite()
                    && latitude.abs() <= 90.0
                    && longitude.abs() <= 180.0)
                {
                    return Err(PortError::invalid(
                        "location",
                        "sandbox.location",
                        "latitude is between -90 and 90, longitude between -180 and 180",
                    ));
                }
                SimulatedInbound::Location {
                    latitude,
                    longitude,
                    name: Some(name.trim().to_string()).filter(|n| !n.is_empty()),
                }
            }
            CustomerAction::SendPhoto { caption } => SimulatedInbound::Media {
                mime_type: "image/png".into(),
                bytes: crate::whatsapp::sandbox::SAMPLE_PHOTO.to_vec(),
                caption: Some(caption.trim().to_string()).filter(|c| !c.is_empty()),
                filename: None,
            },
        };
        self.sandbox
            .simulate_inbound(record.connection_id, &record.wa_id, what)
            .await
            .map(drop)
            .map_err(PortError::Conflict)
    }

    async fn send_template(
        &self,
        caller: &Caller,
        id: ConversationId,
        template: TemplateId,
        values: Vec<String>,
    ) -> Result<(), PortError> {
        allow(caller, Permission::SendMessages)?;
        let record = self.record(id)?;
        let chosen = self
            .templates
            .get(&template.uuid())
            .map_err(internal)?
            .filter(|t| {
                t.kind == TemplateKind::Approved
                    && t.connection_id == Some(record.connection_id)
                    && t.status.as_deref() == Some("APPROVED")
            })
            .ok_or_else(|| {
                PortError::invalid(
                    "template",
                    "reply.template",
                    "choose an approved template of this conversation's number",
                )
            })?;
        let slots = render::slots(&chosen.definition);
        if values.len() != slots.len() {
            return Err(PortError::invalid(
                "values",
                "reply.template_values",
                format!(
                    "this template has {} variables; {} values were given",
                    slots.len(),
                    values.len()
                ),
            ));
        }
        let mut filled = Vec::with_capacity(slots.len());
        for (slot, value) in slots.into_iter().zip(values) {
            let value = render::clean(&value);
            if value.is_empty() {
                return Err(PortError::invalid(
                    "values",
                    "reply.template_value_empty",
                    format!("fill in {}", slot.label()),
                ));
            }
            filled.push((slot, value));
        }
        let rendered = Rendered { values: filled };
        let message = render::template_message(&chosen.definition, &rendered);
        let category = Category::of_template(&chosen.definition.category);
        self.send(
            &record,
            id.uuid(),
            MessageContent::Template { template: message },
            Some(category),
            format!("Template {}", chosen.definition.name),
            None,
        )
        .await
    }

    async fn note(
        &self,
        caller: &Caller,
        id: ConversationId,
        text: String,
    ) -> Result<(), PortError> {
        allow(caller, Permission::SendMessages)?;
        let record = self.record(id)?;
        let text = text.trim().to_string();
        if text.is_empty() || text.chars().count() > NOTE_CHARS {
            return Err(PortError::invalid(
                "note",
                "note.length",
                format!("a note has 1 to {NOTE_CHARS} characters"),
            ));
        }
        let now_ms = self.clock.now_ms();
        self.threads
            .store()
            .record(&NewEntry {
                answers_campaign: None,
                connection_id: record.connection_id,
                wa_id: &record.wa_id,
                profile_name: None,
                known_as: None,
                entry: ThreadEntry {
                    at_ms: now_ms,
                    direction: Direction::Note,
                    body: Body::Text { text },
                    reference: EntryRef::Note {
                        author: caller.name(),
                    },
                    context_id: None,
                },
                answers: false,
                now_ms,
            })
            .map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        self.threads.changed(id.uuid());
        Ok(())
    }

    async fn mark(
        &self,
        caller: &Caller,
        id: ConversationId,
        action: String,
    ) -> Result<(), PortError> {
        allow(caller, Permission::View)?;
        use domain::conversation::ConversationStatus::{Closed, Open};
        let change: fn(&mut domain::conversation::Conversation) = match action.as_str() {
            "read" => |c| c.mark_read(),
            "unread" => |c| c.mark_unread(),
            "close" => |c| c.status = Closed,
            "reopen" => |c| c.status = Open,
            _ => {
                return Err(PortError::invalid(
                    "action",
                    "conversation.action",
                    "choose read, unread, close or reopen",
                ))
            }
        };
        self.threads
            .store()
            .change(&id.uuid(), change)
            .map_err(internal)?
            .ok_or_else(|| PortError::NotFound("no such conversation".into()))?;
        self.store.flush().await.map_err(internal)?;
        self.threads.changed(id.uuid());
        Ok(())
    }
}
