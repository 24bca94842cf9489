//! What happens to a sandbox message, decided purely from the profile's seed and the recipient:
//! the same seed and number always give the same outcome, so tests and demos replay exactly.
//!
//! Fixed suffix rules make each failure easy to try by hand:
//! - a number ending in `404` is not on WhatsApp (131026);
//! - ending in `050`, the user stopped marketing messages (131050, marketing templates only);
//! - ending in `049`, the per-user marketing limit holds the message back (131049).
//!
//! On top of these, the profile's per-mille rates pick further users by a seeded hash.

use crate::storage::connections::SandboxProfile;

/// The simulated outcome of one accepted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Delivered; read too when `read`.
    Delivered {
        /// Whether the user opens it.
        read: bool,
    },
    /// A `failed` status with this Meta error code.
    Fails(i64),
}

/// SplitMix64 over the seed and the bytes of `salt` and `subject`: a stable, well-mixed hash.
fn mix(seed: u64, salt: &str, subject: &str) -> u64 {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    for byte in salt.bytes().chain([0xff]).chain(subject.bytes()) {
        state = state
            .wrapping_add(u64::from(byte))
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        state ^= state >> 31;
    }
    state = (state ^ (state >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    state = (state ^ (state >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    state ^ (state >> 31)
}

/// Whether the seeded draw for `subject` falls within `per_mille`.
fn drawn(profile: &SandboxProfile, salt: &str, subject: &str, per_mille: u16) -> bool {
    mix(profile.seed, salt, subject) % 1000 < u64::from(per_mille)
}

/// The digits of a phone number, which is how the sandbox names its users.
pub fn wa_id(to: &str) -> String {
    to.chars().filter(char::is_ascii_digit).collect()
}

/// The fate of a message to `wa_id`; `marketing` for marketing templates.
pub fn fate(profile: &SandboxProfile, wa_id: &str, marketing: bool) -> Fate {
    if wa_id.ends_with("404")
        || drawn(
            profile,
            "undeliverable",
            wa_id,
            profile.undeliverable_per_mille,
        )
    {
        return Fate::Fails(131026);
    }
    if marketing {
        if wa_id.ends_with("050")
            || drawn(
                profile,
                "marketing_stop",
                wa_id,
                profile.marketing_stop_per_mille,
            )
        {
            return Fate::Fails(131050);
        }
        if wa_id.ends_with("049") {
            return Fate::Fails(131049);
        }
    }
    Fate::Delivered {
        read: drawn(profile, "read", wa_id, profile.read_per_mille),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(seed: u64) -> SandboxProfile {
        SandboxProfile {
            seed,
            undeliverable_per_mille: 100,
            read_per_mille: 500,
            ..SandboxProfile::default()
        }
    }

    #[test]
    fn suffix_rules_name_the_failure_and_marketing_rules_spare_utility() {
        let p = profile(1);
        assert_eq!(fate(&p, "15550001404", false), Fate::Fails(131026));
        assert_eq!(fate(&p, "15550001050", true), Fate::Fails(131050));
        assert_eq!(fate(&p, "15550001049", true), Fate::Fails(131049));
        assert!(matches!(
            fate(&p, "15550001050", false),
            Fate::Delivered { .. } | Fate::Fails(131026)
        ));
    }

    #[test]
    fn the_same_seed_replays_and_rates_hold_roughly() {
        let users: Vec<String> = (0..10_000).map(|n| format!("1555{n:07}")).collect();
        let run = |seed| {
            users
                .iter()
                .map(|u| fate(&profile(seed), u, false))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let outcomes = run(7);
        let failed = outcomes
            .iter()
            .filter(|f| matches!(f, Fate::Fails(_)))
            .count();
        // 10 % drawn plus the 404 suffix (1 in 1000 numbers).
        assert!((900..1_150).contains(&failed), "{failed} failures");
        let read = outcomes
            .iter()
            .filter(|f| **f == Fate::Delivered { read: true })
            .count();
        assert!((4_000..5_000).contains(&read), "{read} reads");
    }

    #[test]
    fn the_number_the_ui_suggests_reads_its_messages_under_the_default_profile() {
        let default = SandboxProfile::default();
        assert_eq!(
            fate(&default, "15550101234", false),
            Fate::Delivered { read: true }
        );
    }

    #[test]
    fn wa_ids_are_the_digits_of_the_number() {
        assert_eq!(wa_id("+1 (555) 010-0404"), "15550100404");
    }
}
