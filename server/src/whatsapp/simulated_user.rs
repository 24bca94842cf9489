//! What a simulated user does from Settings → WhatsApp: the form's choice turned into the
//! message the sandbox delivers, aimed — for a button tap or a reaction — at the newest message
//! the business sent that user (a campaign's, or one sent from the inbox), as on a real phone.

use app::ports::PortError;

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
}

/// The message a simulated user sends for the form's `kind` and `text`; `latest` gives the
/// business's newest message to them (what a tap or a reaction answers).
pub fn message(
    kind: &str,
    text: &str,
    latest: impl FnOnce() -> Result<Option<String>, StorageError>,
) -> Result<SimulatedInbound, PortError> {
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
