//! `GET /{phone-number-id}?fields=…` (fact sheet §5.1, §5.3, §5.4): the facts a campaign must
//! respect: quality rating, messaging-limit tier and throughput level.

use serde::{Deserialize, Serialize};

/// The fields Herald asks for.
pub const PHONE_NUMBER_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating,\
whatsapp_business_manager_messaging_limit,messaging_limit_tier,throughput,name_status";

/// A business phone number's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumberInfo {
    /// Phone-number id.
    pub id: String,
    /// E.g. `+1 555-0100`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    /// Approved display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_name: Option<String>,
    /// `GREEN`, `YELLOW`, `RED`, `NA`/`UNKNOWN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_rating: Option<String>,
    /// `TIER_250`, `TIER_2K`, … (current field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_business_manager_messaging_limit: Option<String>,
    /// Deprecated spelling of the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_limit_tier: Option<String>,
    /// `{"level":"STANDARD"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    /// Display-name review state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_status: Option<String>,
}

impl PhoneNumberInfo {
    /// The messaging-limit tier, preferring the current field over the deprecated one.
    pub fn messaging_limit(&self) -> Option<&str> {
        self.whatsapp_business_manager_messaging_limit
            .as_deref()
            .or(self.messaging_limit_tier.as_deref())
    }
}

/// `throughput`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    /// `STANDARD` (80 mps) or the higher level.
    pub level: String,
}
