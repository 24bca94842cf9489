//! Typed ids for the things ports name, so a campaign id can never be passed where a connection
//! id belongs. Each is a UUID on the wire and in URLs (`serde(transparent)`), parsed once where
//! text enters — a route parameter, a form — instead of inside every use case.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// What the id names, for messages such as "no such campaign".
            pub const WHAT: &'static str = $what;

            /// The id's UUID.
            pub fn uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl FromStr for $name {
            type Err = UnknownId;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text.trim())
                    .map(Self)
                    .map_err(|_| UnknownId($what))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

typed_id!(
    /// A campaign.
    CampaignId,
    "campaign"
);
typed_id!(
    /// A WhatsApp connection (one sender number and its credentials).
    ConnectionId,
    "connection"
);
typed_id!(
    /// A message template, approved or local.
    TemplateId,
    "template"
);
typed_id!(
    /// A contact import.
    ImportId,
    "import"
);
typed_id!(
    /// A saved segment.
    SegmentId,
    "segment"
);
typed_id!(
    /// A stored webhook delivery.
    WebhookId,
    "webhook"
);
typed_id!(
    /// A conversation: one contact's messages with one business number.
    ConversationId,
    "conversation"
);

/// Text that is not an id of the kind asked for. Nothing can exist under such an id, so it reads
/// as "no such …" rather than as a format error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no such {0}")]
pub struct UnknownId(pub &'static str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_reads_back_what_it_prints_and_travels_as_a_plain_string() {
        let id = CampaignId(Uuid::from_u128(7));
        assert_eq!(id.to_string().parse::<CampaignId>(), Ok(id));
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            format!("\"{id}\""),
            "a URL or JSON body carries the bare UUID"
        );
        assert_eq!(
            serde_json::from_str::<CampaignId>(&format!("\"{id}\"")).unwrap(),
            id
        );
    }

    #[test]
    fn text_that_is_no_id_names_what_was_looked_for() {
        assert_eq!(
            "../contacts"
                .parse::<ConnectionId>()
                .unwrap_err()
                .to_string(),
            "no such connection"
        );
        assert_eq!(
            "".parse::<CampaignId>().unwrap_err().to_string(),
            "no such campaign"
        );
    }
}
