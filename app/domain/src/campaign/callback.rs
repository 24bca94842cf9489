//! What a campaign send carries in `biz_opaque_callback_data` so that its status webhooks name
//! the recipient they are about: `herald:{campaign}:{phone}`. The engine writes it, the webhook
//! worker reads it; keeping the codec here lets both depend on the domain instead of on each
//! other.

use uuid::Uuid;

/// The callback data of `campaign`'s send to `phone`.
pub fn encode(campaign: &Uuid, phone: &str) -> String {
    format!("herald:{campaign}:{phone}")
}

/// The campaign and phone a callback data names, if it is Herald's.
pub fn decode(data: &str) -> Option<(Uuid, String)> {
    let rest = data.strip_prefix("herald:")?;
    let (campaign, phone) = rest.split_once(':')?;
    Some((Uuid::try_parse(campaign).ok()?, phone.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips_and_foreign_data_is_ignored() {
        let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let data = encode(&id, "+905321234567");
        assert!(
            data.len() <= 512,
            "Meta's limit for biz_opaque_callback_data"
        );
        assert_eq!(decode(&data), Some((id, "+905321234567".to_string())));
        assert_eq!(decode("order-17"), None);
        assert_eq!(decode("herald:nonsense:+1"), None);
    }
}
