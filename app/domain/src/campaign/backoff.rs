//! What a number's pace learns from Meta's "too fast" answer (130429): the configured pace was
//! more than WhatsApp lets this number send right now (an override above its throughput, inbound
//! traffic sharing the same budget, a level Meta lowered). Retrying at the same pace would earn a
//! refusal for most of every second; pausing the whole number for a second after each refusal
//! wastes most of its throughput. Instead the pace drops at once to a little under what WhatsApp
//! just accepted (multiplicative decrease, measured rather than halved, so one step lands under
//! the real limit) and then probes back up in small steps while no refusal comes, so a limit that
//! was lifted is found again.

use serde::{Deserialize, Serialize};

/// How long the pace must go without a refusal before it is raised one step.
pub const PROBE_INTERVAL_MS: u64 = 2_000;

/// Share of what WhatsApp accepted in the last window that the pace falls back to.
const DECREASE: f64 = 0.95;

/// Per-step raise while probing: a fiftieth of the pace, at least one message per second.
const PROBE_STEP_DIVISOR: u32 = 50;

/// The pace after a 130429: a little under the sends WhatsApp accepted in the last window, never
/// above the pace that was refused, at least 1. The first window of a campaign may hold a burst
/// WhatsApp allowed once (a full bucket), so the first drop can land above the real limit; the
/// next refusal then measures a window without the burst.
pub fn backed_off(current_mps: u32, accepted_in_window: usize) -> u32 {
    let accepted = u32::try_from(accepted_in_window).unwrap_or(u32::MAX);
    let observed = accepted.min(current_mps);
    let factor = DECREASE;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "observed is a u32 and the product is smaller"
    )]
    let lowered = (f64::from(observed) * factor).floor() as u32;
    lowered.max(1)
}

/// The pace one probing step later: a fiftieth higher (at least one more), never above the
/// configured pace. Equal to `configured` means the lesson is forgotten.
pub fn probed(current_mps: u32, configured_mps: u32) -> u32 {
    let step = (current_mps / PROBE_STEP_DIVISOR).max(1);
    current_mps.saturating_add(step).min(configured_mps)
}

/// A pace held under the configured one because WhatsApp refused sends as too fast; shown on the
/// campaign page so a slower campaign is explained rather than mysterious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlowedPace {
    /// Messages per second the number sends at now.
    pub effective_mps: u32,
    /// The pace it was set to.
    pub configured_mps: u32,
}

impl SlowedPace {
    /// One sentence for the campaign page.
    pub fn sentence(&self) -> String {
        format!(
            "WhatsApp refused sends as faster than this number may send (130429), so Herald sends \
             at {} per second instead of {} and raises the pace again slowly while nothing is \
             refused.",
            self.effective_mps, self.configured_mps
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_drops_the_pace_just_under_what_whatsapp_accepted() {
        // Set to 1,000 on a number WhatsApp holds to 80: one step lands under 80.
        assert_eq!(backed_off(1_000, 80), 76);
        // Never above the pace that was refused, even if the window held more.
        assert_eq!(backed_off(50, 80), 47);
        // Nothing accepted at all still leaves a pace to probe from.
        assert_eq!(backed_off(80, 0), 1);
        assert_eq!(backed_off(1, 1), 1);
    }

    #[test]
    fn a_burst_in_the_first_window_costs_one_more_drop() {
        // The first window held a full bucket's burst (80 + 80 per second): 131 is too many,
        // and the next window, without the burst, lands under 80.
        let first = backed_off(1_000, 138);
        assert_eq!(first, 131);
        assert_eq!(backed_off(first, 83), 78);
    }

    #[test]
    fn probing_climbs_in_small_steps_and_stops_at_the_configured_pace() {
        assert_eq!(probed(76, 1_000), 77);
        assert_eq!(probed(500, 1_000), 510);
        assert_eq!(probed(999, 1_000), 1_000);
        assert_eq!(probed(1_000, 1_000), 1_000);
        // Back from the floor in a handful of steps per second of headroom.
        let mut pace = 1;
        let mut steps = 0;
        while pace < 80 {
            pace = probed(pace, 80);
            steps += 1;
        }
        assert_eq!(steps, 79, "one message per second per step below 100");
    }

    #[test]
    fn the_page_names_the_code_and_both_paces() {
        let sentence = SlowedPace {
            effective_mps: 76,
            configured_mps: 1_000,
        }
        .sentence();
        assert!(sentence.contains("130429"));
        assert!(sentence.contains("76 per second instead of 1000"));
    }
}
