//! What a user must enter to add a WhatsApp connection, checked the same way in the form (live)
//! and on the server (before saving).

use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// Connection kinds a user can add, as form values.
pub const KINDS: &[(&str, &str)] = &[
    ("cloud_api", "Meta Cloud API"),
    ("dialog360", "360dialog"),
    ("sandbox", "Sandbox (simulated)"),
];

/// The add-connection form. Unused fields of a kind are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionDraft {
    /// `cloud_api`, `dialog360` or `sandbox`.
    pub kind: String,
    /// Name shown in Herald.
    pub name: String,
    /// Graph or 360dialog base URL.
    pub base_url: String,
    /// Graph API version, e.g. `v23.0`.
    pub api_version: String,
    /// WhatsApp Business Account id.
    pub waba_id: String,
    /// Phone-number id.
    pub phone_number_id: String,
    /// System-user access token.
    pub access_token: String,
    /// Meta app secret (webhook signatures).
    pub app_secret: String,
    /// Webhook verify token (Meta) or webhook header token (360dialog).
    pub verify_token: String,
    /// 360dialog D360-API-KEY.
    pub api_key: String,
}

fn required(p: &mut Vec<Problem>, field: &'static str, label: &str, value: &str) -> bool {
    if value.trim().is_empty() {
        p.push(Problem::new(
            field,
            "connection.required",
            format!("{label} is required"),
        ));
        return false;
    }
    true
}

fn digits(p: &mut Vec<Problem>, field: &'static str, label: &str, value: &str) {
    if required(p, field, label, value) && !value.trim().chars().all(|c| c.is_ascii_digit()) {
        p.push(Problem::new(
            field,
            "connection.digits",
            format!("{label} is a number (digits only), found in WhatsApp Manager"),
        ));
    }
}

fn url(p: &mut Vec<Problem>, field: &'static str, value: &str) {
    let v = value.trim();
    let scheme_ok = v.starts_with("https://") || v.starts_with("http://");
    let host_ok = v
        .split("://")
        .nth(1)
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(' '));
    if !(scheme_ok && host_ok) {
        p.push(Problem::new(
            field,
            "connection.url",
            "the base URL must start with https:// (or http:// for a local server)",
        ));
    }
}

fn secret(p: &mut Vec<Problem>, field: &'static str, label: &str, value: &str, min: usize) {
    if required(p, field, label, value) && value.trim().chars().count() < min {
        p.push(Problem::new(
            field,
            "connection.secret_short",
            format!("{label} must be at least {min} characters"),
        ));
    }
}

/// Every problem of `draft`; empty means it can be saved.
pub fn draft_problems(draft: &ConnectionDraft) -> Vec<Problem> {
    let mut p = Vec::new();
    if required(&mut p, "name", "Name", &draft.name) && draft.name.chars().count() > 60 {
        p.push(Problem::new(
            "name",
            "connection.name_long",
            "Name may be at most 60 characters",
        ));
    }
    match draft.kind.as_str() {
        "cloud_api" => {
            url(&mut p, "base_url", &draft.base_url);
            let version_ok = draft
                .api_version
                .trim()
                .strip_prefix('v')
                .and_then(|v| v.split_once('.'))
                .is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && a.chars().chain(b.chars()).all(|c| c.is_ascii_digit())
                });
            if !version_ok {
                p.push(Problem::new(
                    "api_version",
                    "connection.api_version",
                    "the API version looks like v23.0",
                ));
            }
            digits(
                &mut p,
                "waba_id",
                "WhatsApp Business Account id",
                &draft.waba_id,
            );
            digits(
                &mut p,
                "phone_number_id",
                "Phone-number id",
                &draft.phone_number_id,
            );
            secret(
                &mut p,
                "access_token",
                "Access token",
                &draft.access_token,
                20,
            );
            secret(&mut p, "app_secret", "App secret", &draft.app_secret, 16);
            secret(
                &mut p,
                "verify_token",
                "Webhook verify token",
                &draft.verify_token,
                8,
            );
        }
        "dialog360" => {
            url(&mut p, "base_url", &draft.base_url);
            secret(&mut p, "api_key", "D360-API-KEY", &draft.api_key, 16);
            secret(
                &mut p,
                "verify_token",
                "Webhook header token",
                &draft.verify_token,
                8,
            );
        }
        "sandbox" => {}
        _ => p.push(Problem::new(
            "kind",
            "connection.kind",
            "choose Meta Cloud API, 360dialog or Sandbox",
        )),
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud() -> ConnectionDraft {
        ConnectionDraft {
            kind: "cloud_api".into(),
            name: "Main number".into(),
            base_url: "https://graph.facebook.com".into(),
            api_version: "v23.0".into(),
            waba_id: "102290129340398".into(),
            phone_number_id: "106540352242922".into(),
            access_token: "EAAG".to_string() + &"x".repeat(40),
            app_secret: "0123456789abcdef0123".into(),
            verify_token: "verify-me-please".into(),
            api_key: String::new(),
        }
    }

    #[test]
    fn a_complete_cloud_api_draft_passes() {
        assert!(draft_problems(&cloud()).is_empty());
    }

    #[test]
    fn each_missing_or_malformed_field_is_named() {
        let draft = ConnectionDraft {
            api_version: "23".into(),
            waba_id: "abc".into(),
            app_secret: String::new(),
            base_url: "graph.facebook.com".into(),
            ..cloud()
        };
        let fields: Vec<_> = draft_problems(&draft).iter().map(|p| p.field).collect();
        assert_eq!(fields, ["base_url", "api_version", "waba_id", "app_secret"]);
        let dialog = ConnectionDraft {
            kind: "dialog360".into(),
            name: "BSP".into(),
            base_url: "https://waba-v2.360dialog.io".into(),
            ..ConnectionDraft::default()
        };
        let rules: Vec<_> = draft_problems(&dialog).iter().map(|p| p.field).collect();
        assert_eq!(rules, ["api_key", "verify_token"]);
        assert_eq!(draft_problems(&ConnectionDraft::default())[0].field, "name");
    }
}

/// The editable knobs of a sandbox connection (see the README's sandbox section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxSettings {
    /// Seed of every simulated decision.
    pub seed: u64,
    /// Throughput before 130429.
    pub messages_per_second: u32,
    /// Template review delay, milliseconds.
    pub review_delay_ms: u64,
    /// Delay between status webhooks, milliseconds.
    pub status_delay_ms: u64,
    /// Users "not on WhatsApp", per mille.
    pub undeliverable_per_mille: u16,
    /// Users who stopped marketing, per mille.
    pub marketing_stop_per_mille: u16,
    /// Users who read, per mille.
    pub read_per_mille: u16,
    /// Refuse free-form messages outside the 24-hour window.
    pub enforce_service_window: bool,
    /// The messaging limit the number reports (`TIER_250`, `TIER_2K`, …, `TIER_UNLIMITED`).
    #[serde(default = "default_sandbox_limit")]
    pub messaging_limit: String,
    /// How long the customer-service window lasts after a simulated user writes, seconds
    /// (Meta's 24 hours unless shortened to watch it close).
    #[serde(default = "default_service_window_secs")]
    pub service_window_secs: u32,
}

/// Meta's customer-service window, in seconds.
pub fn default_service_window_secs() -> u32 {
    86_400
}

/// The shortest simulated window: long enough to answer once.
pub const MIN_SERVICE_WINDOW_SECS: u32 = 10;

/// A new portfolio's limit.
pub fn default_sandbox_limit() -> String {
    "TIER_250".into()
}

/// Every problem of `settings`.
pub fn sandbox_problems(settings: &SandboxSettings) -> Vec<Problem> {
    let mut p = Vec::new();
    if crate::whatsapp::limits::MessagingLimit::parse(&settings.messaging_limit).is_none() {
        p.push(Problem::new(
            "messaging_limit",
            "sandbox.messaging_limit",
            "write the messaging limit as Meta does: TIER_250, TIER_2K, TIER_10K, TIER_100K or TIER_UNLIMITED",
        ));
    }
    if !(1..=1000).contains(&settings.messages_per_second) {
        p.push(Problem::new(
            "messages_per_second",
            "sandbox.throughput",
            "throughput must be between 1 and 1000 messages per second",
        ));
    }
    if !(MIN_SERVICE_WINDOW_SECS..=default_service_window_secs())
        .contains(&settings.service_window_secs)
    {
        p.push(Problem::new(
            "service_window_secs",
            "sandbox.service_window",
            format!(
                "the customer-service window lasts {MIN_SERVICE_WINDOW_SECS} to 86400 seconds (24 hours, Meta's)"
            ),
        ));
    }
    for (field, value) in [
        ("review_delay_ms", settings.review_delay_ms),
        ("status_delay_ms", settings.status_delay_ms),
    ] {
        if value > 600_000 {
            p.push(Problem::new(
                field,
                "sandbox.delay",
                "delays are at most 600000 ms (10 minutes)",
            ));
        }
    }
    for (field, value) in [
        ("undeliverable_per_mille", settings.undeliverable_per_mille),
        (
            "marketing_stop_per_mille",
            settings.marketing_stop_per_mille,
        ),
        ("read_per_mille", settings.read_per_mille),
    ] {
        if value > 1000 {
            p.push(Problem::new(
                field,
                "sandbox.rate",
                "rates are per mille: 0 to 1000",
            ));
        }
    }
    p
}

#[cfg(test)]
mod sandbox_tests {
    use super::*;

    #[test]
    fn sandbox_settings_are_bounded() {
        let ok = SandboxSettings {
            seed: 1,
            messages_per_second: 80,
            review_delay_ms: 5000,
            status_delay_ms: 700,
            undeliverable_per_mille: 0,
            marketing_stop_per_mille: 0,
            read_per_mille: 800,
            enforce_service_window: false,
            messaging_limit: "TIER_2K".into(),
            service_window_secs: 86_400,
        };
        assert!(sandbox_problems(&ok).is_empty());
        let bad = SandboxSettings {
            messages_per_second: 0,
            messaging_limit: "TIER_LOTS".into(),
            read_per_mille: 1001,
            status_delay_ms: 600_001,
            service_window_secs: 5,
            ..ok
        };
        let fields: Vec<_> = sandbox_problems(&bad).iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "messaging_limit",
                "messages_per_second",
                "service_window_secs",
                "status_delay_ms",
                "read_per_mille"
            ]
        );
    }
}
