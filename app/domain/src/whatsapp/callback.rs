//! What a send carries in `biz_opaque_callback_data` so that its status webhooks name the message
//! ledger entry they are about: `herald:m:{message id}`. The dispatcher writes it, the webhook
//! fan-out reads it; keeping the codec here lets both depend on the domain instead of on each
//! other. Sends made before the ledger named their campaign recipient instead
//! (`herald:{campaign}:{phone}`); their late reports are still understood.

use uuid::Uuid;

/// Meta's limit for `biz_opaque_callback_data`.
pub const MAX_LEN: usize = 512;

/// Whom a status report is about, as its callback data says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// A message ledger entry.
    Message(Uuid),
    /// A campaign recipient (sends from before the ledger).
    Recipient {
        /// The campaign.
        campaign: Uuid,
        /// The recipient's number as stored.
        phone: String,
    },
}

/// The callback data of ledger entry `message`.
pub fn encode(message: &Uuid) -> String {
    format!("herald:m:{message}")
}

/// What a callback data names, if it is Herald's.
pub fn decode(data: &str) -> Option<Callback> {
    let rest = data.strip_prefix("herald:")?;
    if let Some(id) = rest.strip_prefix("m:") {
        return Uuid::try_parse(id).ok().map(Callback::Message);
    }
    let (campaign, phone) = rest.split_once(':')?;
    Some(Callback::Recipient {
        campaign: Uuid::try_parse(campaign).ok()?,
        phone: phone.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips_and_foreign_data_is_ignored() {
        let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let data = encode(&id);
        assert!(data.len() <= MAX_LEN);
        assert_eq!(decode(&data), Some(Callback::Message(id)));
        assert_eq!(decode("order-17"), None);
        assert_eq!(decode("herald:m:nonsense"), None);
        assert_eq!(decode("herald:nonsense:+1"), None);
    }

    #[test]
    fn reports_of_sends_from_before_the_ledger_still_name_their_recipient() {
        let campaign = Uuid::from_u128(7);
        assert_eq!(
            decode(&format!("herald:{campaign}:+905321234567")),
            Some(Callback::Recipient {
                campaign,
                phone: "+905321234567".into()
            })
        );
    }
}
