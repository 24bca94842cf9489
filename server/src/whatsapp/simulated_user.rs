//! What a simulated user does from Settings → WhatsApp: the form's choice turned into the
//! message the sandbox delivers, aimed — for a button tap or a reaction — at the newest message
//! the business sent that user (a campaign's, or one sent from the inbox), as on a real phone;
//! a pick of one of its reply buttons or list rows, by title.

use app::ports::PortError;
use domain::conversation::body::Body;
use domain::text::fold;

use super::sandbox::{SimulatedInbound, SAMPLE_PHOTO};
use crate::storage::campaigns::CampaignStore;
use crate::storage::conversations::{ConversationStore, EntryRef};
use crate::storage::messages::MessageStore;
use crate::storage::{internal, StorageError, Store};

/// What the Settings form lets a simulated user do.
pub const KINDS: &[&str] = &[
    "text",
    "button",
    "photo",
    "location",
    "reaction",
    "choose",
    "stop_marketing",
    "resume_marketing",
];

/// Entries of a thread looked through for the business's newest message.
const LOOKED_BACK: usize = 200;

/// Finds the newest message the business sent a user.
#[derive(Clone)]
pub struct LatestSent {
    conversations: ConversationStore,
    campaigns: CampaignStore,
    messages: MessageStore,
}

impl LatestSent {
    /// Reads `store`.
    pub fn open(store: &Store) -> Result<Self, StorageError> {
        Ok(Self {
            conversations: ConversationStore::open(store)?,
            campaigns: CampaignStore::open(store)?,
            messages: MessageStore::open(store)?,
        })
    }

    /// The wamid of the newest message `connection` sent `wa_id` that WhatsApp accepted: the
    /// later of their last campaign message and the newest one in their conversation.
    pub fn wamid(
        &self,
        connection: &uuid::Uuid,
        wa_id: &str,
    ) -> Result<Option<String>, StorageError> {
        let mut newest: Option<(i64, String)> = None;
        if let Some((campaign, phone, Some(wamid))) =
            self.campaigns.last_campaign_message(connection, wa_id)?
        {
            let at = self
                .campaigns
                .recipient(&campaign, &phone)?
                .and_then(|r| r.sent_at_ms)
                .unwrap_or(0);
            newest = Some((at, wamid));
        }
        if let Some(id) = self.conversations.of_user(connection, wa_id)? {
            for entry in self
                .conversations
                .thread(&id, LOOKED_BACK)?
                .into_iter()
                .rev()
            {
                let EntryRef::Outbound { message } = entry.reference else {
                    continue;
                };
                let Some(wamid) = self.messages.send(&message)?.and_then(|r| r.wamid) else {
                    continue;
                };
                if newest.as_ref().is_none_or(|(at, _)| entry.at_ms >= *at) {
                    newest = Some((entry.at_ms, wamid));
                }
                break;
            }
        }
        Ok(newest.map(|(_, wamid)| wamid))
    }

    /// A pick of the option titled `title` (folded; empty: the first) of the reply buttons or
    /// list in message `wamid`; `None` when it has no such option.
    pub fn choice(
        &self,
        wamid: &str,
        title: &str,
    ) -> Result<Option<SimulatedInbound>, StorageError> {
        let Some(message) = self.messages.send_of_wamid(wamid)? else {
            return Ok(None);
        };
        let Some(content) = self.messages.content(&message)? else {
            return Ok(None);
        };
        let Body::Interactive {
            options,
            ids,
            list_button,
            ..
        } = Body::from_outgoing(&content)
        else {
            return Ok(None);
        };
        let wanted = fold(title.trim());
        let index = if wanted.is_empty() {
            0
        } else {
            match options.iter().position(|o| fold(o) == wanted) {
                Some(index) => index,
                None => return Ok(None),
            }
        };
        let (Some(title), Some(id)) = (options.get(index), ids.get(index)) else {
            return Ok(None);
        };
        let (id, title, context) = (id.clone(), title.clone(), Some(wamid.to_string()));
        Ok(Some(if list_button.is_some() {
            SimulatedInbound::ListReply { id, title, context }
        } else {
            SimulatedInbound::ButtonReply { id, title, context }
        }))
    }
}

/// The message a simulated user `wa_id` sends `connection` for the form's `kind` and `text`;
/// `sent` finds the business's newest message to them (what a tap, a pick or a reaction
/// answers).
pub fn message(
    kind: &str,
    text: &str,
    sent: &LatestSent,
    connection: &uuid::Uuid,
    wa_id: &str,
) -> Result<SimulatedInbound, PortError> {
    let latest = || sent.wamid(connection, wa_id);
    let typed = Some(text.trim().to_string()).filter(|t| !t.is_empty());
    Ok(match kind {
        "text" => match typed {
            Some(text) => SimulatedInbound::Text(text),
            None => {
                return Err(PortError::invalid(
                    "text",
                    "sandbox.text",
                    "write the message text",
                ))
            }
        },
        // The button's label is what was typed: the inbox shows what was tapped.
        "button" => {
            let context = latest().map_err(internal)?;
            match typed {
                Some(payload) => SimulatedInbound::Button {
                    text: payload.clone(),
                    payload,
                    context,
                },
                None => SimulatedInbound::Button {
                    payload: "STOP_PROMO".into(),
                    text: "Stop promotions".into(),
                    context,
                },
            }
        }
        "photo" => SimulatedInbound::Media {
            mime_type: "image/png".into(),
            bytes: SAMPLE_PHOTO.to_vec(),
            caption: typed,
            filename: None,
        },
        "location" => SimulatedInbound::Location {
            latitude: 41.0369,
            longitude: 28.9850,
            name: typed.or_else(|| Some("Taksim Square".into())),
        },
        "reaction" => match latest().map_err(internal)? {
            Some(to) => SimulatedInbound::Reaction {
                to,
                emoji: typed.unwrap_or_else(|| "👍".into()),
            },
            None => {
                return Err(PortError::invalid(
                    "kind",
                    "sandbox.reaction",
                    "this user has no message from the number to react to yet",
                ))
            }
        },
        "choose" => {
            let nothing = || {
                PortError::invalid(
                    "kind",
                    "sandbox.choice",
                    "the last message this user got has no reply button or list row with that title",
                )
            };
            let wamid = latest().map_err(internal)?.ok_or_else(nothing)?;
            sent.choice(&wamid, text)
                .map_err(internal)?
                .ok_or_else(nothing)?
        }
        "stop_marketing" => SimulatedInbound::StopMarketing,
        "resume_marketing" => SimulatedInbound::ResumeMarketing,
        _ => {
            return Err(PortError::invalid(
                "kind",
                "sandbox.kind",
                format!("choose what the user does: one of {}", KINDS.join(", ")),
            ))
        }
    })
}
