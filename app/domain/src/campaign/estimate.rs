//! What a campaign will cost and how long it will take, before launch. Prices come from an
//! editable table (Meta charges per delivered template by category and the recipient's country,
//! fact sheet §6); the defaults are approximate list prices in USD and should be replaced with
//! the rates on the business's own invoice.

use serde::{Deserialize, Serialize};

use crate::whatsapp::limits::MessagingLimit;

use super::pacing::{paced_rate, DAY_MS};

/// The highest price accepted for one message, in any currency (Indonesian rupiah prices run to
/// hundreds per message; nothing costs a million). Bounded prices keep every sum of them finite.
pub const MAX_PRICE: f64 = 1_000_000.0;

/// An amount as a person reads it: two decimals and the currency. Rust sums an empty list of
/// floats to -0.0, and a rounding can leave -0.001: neither is shown as "-0.00".
pub fn money(amount: f64, currency: &str) -> String {
    let shown = if amount.abs() < 0.005 { 0.0 } else { amount };
    format!("{shown:.2} {currency}")
}

/// A length of time as a person says it: "under a minute", "about 12 minutes", "about 3 hours",
/// "about 2 days".
pub fn about(secs: u64) -> String {
    let plural = |n: u64, one: &str| {
        if n == 1 {
            format!("about 1 {one}")
        } else {
            format!("about {n} {one}s")
        }
    };
    match secs {
        0..60 => "under a minute".into(),
        60..5_400 => plural(secs.div_ceil(60), "minute"),
        5_400..172_800 => plural((secs + 1_800) / 3_600, "hour"),
        _ => plural((secs + 43_200) / 86_400, "day"),
    }
}

/// What a launch is about to do, asked to be confirmed before anything is sent: "Send to 1,250
/// people, about 31.25 USD, taking about 2 minutes." `scheduled` names the start instead of
/// "now" (the audience is counted again then).
pub fn launch_sentence(
    recipients: u64,
    cost: f64,
    currency: &str,
    duration: &DurationEstimate,
    scheduled: Option<&str>,
) -> String {
    let people = match recipients {
        1 => "1 person".to_string(),
        n => format!("{} people", thousands(n)),
    };
    let wait_secs = u64::try_from(duration.tier_wait_ms / 1_000).unwrap_or(0);
    let taking = about(duration.sending_secs + wait_secs);
    let limit = if wait_secs > 0 {
        " (the messaging limit holds part of it back)"
    } else {
        ""
    };
    let amount = money(cost, currency);
    match scheduled {
        None => format!("Send to {people}, about {amount}, taking {taking}{limit}."),
        Some(at) => format!(
            "Schedule for {at}: {people} as of now, about {amount}, taking {taking}{limit}."
        ),
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Prices of one country (or `*`, every other country), per delivered template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceRow {
    /// ISO alpha-2 country, or `*`.
    pub country: String,
    /// Marketing template.
    pub marketing: f64,
    /// Utility template (free inside an open service window).
    pub utility: f64,
    /// Authentication template.
    pub authentication: f64,
}

/// The price table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    /// ISO 4217 code the prices are in.
    pub currency: String,
    /// One row per country; `*` applies to the rest.
    pub rows: Vec<PriceRow>,
}

impl Default for PriceTable {
    fn default() -> Self {
        let row = |country: &str, marketing: f64, utility: f64, authentication: f64| PriceRow {
            country: country.into(),
            marketing,
            utility,
            authentication,
        };
        Self {
            currency: "USD".into(),
            rows: vec![
                row("AR", 0.0618, 0.026, 0.026),
                row("BR", 0.0625, 0.0068, 0.0068),
                row("CO", 0.0125, 0.0008, 0.0008),
                row("DE", 0.1365, 0.055, 0.0768),
                row("ES", 0.0615, 0.02, 0.0276),
                row("FR", 0.0859, 0.03, 0.0685),
                row("GB", 0.0529, 0.022, 0.0358),
                row("ID", 0.0411, 0.025, 0.03),
                row("IN", 0.0107, 0.0014, 0.0014),
                row("IT", 0.0691, 0.03, 0.0374),
                row("MX", 0.0305, 0.0085, 0.0085),
                row("NL", 0.1597, 0.05, 0.0709),
                row("SA", 0.0455, 0.0115, 0.0115),
                row("TR", 0.0109, 0.0053, 0.0083),
                row("US", 0.025, 0.004, 0.0135),
                row("*", 0.0604, 0.0077, 0.0224),
            ],
        }
    }
}

impl PriceTable {
    /// The price of one delivered template of Meta's `category` to `country`.
    pub fn price(&self, country: Option<&str>, category: &str) -> f64 {
        let row = country
            .and_then(|c| self.rows.iter().find(|r| r.country.eq_ignore_ascii_case(c)))
            .or_else(|| self.rows.iter().find(|r| r.country == "*"));
        let Some(row) = row else { return 0.0 };
        match category.to_ascii_uppercase().as_str() {
            "MARKETING" => row.marketing,
            "AUTHENTICATION" | "AUTHENTICATION_INTERNATIONAL" => row.authentication,
            _ => row.utility,
        }
    }

    /// Rules the table breaks, as sentences.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.currency.trim().len() != 3 {
            out.push("The currency must be a three-letter code such as USD.".into());
        }
        for row in &self.rows {
            if row.country != "*" && row.country.trim().len() != 2 {
                out.push(format!(
                    "“{}” is not a two-letter country code or *.",
                    row.country
                ));
            }
            if [row.marketing, row.utility, row.authentication]
                .iter()
                .any(|p| !p.is_finite() || *p < 0.0 || *p > MAX_PRICE)
            {
                out.push(format!(
                    "Prices for {} must be numbers from 0 to {MAX_PRICE}.",
                    row.country
                ));
            }
        }
        out
    }
}

/// How long sending will take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationEstimate {
    /// Seconds of sending at the paced rate.
    pub sending_secs: u64,
    /// Extra waiting because the messaging limit is reached, in ms (0 when it fits).
    pub tier_wait_ms: i64,
    /// Recipients that fit in today's headroom.
    pub fit_now: u64,
}

/// The time `recipients` new conversations take at `mps` under `limit`, with `started` users
/// already counted in the moving 24 hours. Each full limit beyond the headroom waits a day.
pub fn duration(
    recipients: u64,
    mps: u32,
    limit: MessagingLimit,
    started: u32,
) -> DurationEstimate {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let sending_secs = (recipients as f64 / paced_rate(mps)).ceil() as u64;
    let (fit_now, tier_wait_ms) = match limit {
        MessagingLimit::Unlimited => (recipients, 0),
        MessagingLimit::NotSet | MessagingLimit::Users(0) => {
            (0, if recipients > 0 { DAY_MS } else { 0 })
        }
        MessagingLimit::Users(per_day) => {
            let headroom = u64::from(per_day.saturating_sub(started));
            let fit = recipients.min(headroom);
            let rest = recipients - fit;
            let days = rest.div_ceil(u64::from(per_day));
            (
                fit,
                i64::try_from(days)
                    .unwrap_or(i64::MAX / DAY_MS)
                    .saturating_mul(DAY_MS),
            )
        }
    };
    DurationEstimate {
        sending_secs,
        tier_wait_ms,
        fit_now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_fall_back_to_the_star_row_and_by_category() {
        let table = PriceTable::default();
        assert_eq!(table.price(Some("TR"), "MARKETING"), 0.0109);
        assert_eq!(table.price(Some("tr"), "UTILITY"), 0.0053);
        assert_eq!(table.price(Some("ZZ"), "MARKETING"), 0.0604);
        assert_eq!(table.price(None, "AUTHENTICATION"), 0.0224);
        assert!(table.problems().is_empty());
    }

    #[test]
    fn bad_tables_are_explained() {
        let mut table = PriceTable::default();
        table.rows[0].marketing = -1.0;
        table.rows[1].country = "Brazil".into();
        assert_eq!(table.problems().len(), 2);
    }

    #[test]
    fn duration_counts_days_of_waiting_beyond_the_tier() {
        let fits = duration(1_000, 80, MessagingLimit::Users(2_000), 0);
        assert_eq!((fits.fit_now, fits.tier_wait_ms), (1_000, 0));
        assert_eq!(fits.sending_secs, 13);
        let over = duration(5_000, 80, MessagingLimit::Users(2_000), 500);
        assert_eq!(over.fit_now, 1_500);
        assert_eq!(over.tier_wait_ms, 2 * DAY_MS);
        let unlimited = duration(100_000, 1_000, MessagingLimit::Unlimited, 0);
        assert_eq!((unlimited.fit_now, unlimited.tier_wait_ms), (100_000, 0));
    }

    #[test]
    fn nothing_costs_nothing_never_minus_nothing() {
        let none: f64 = std::iter::empty::<f64>().sum();
        assert_eq!(money(none, "USD"), "0.00 USD");
        assert_eq!(money(-0.001, "EUR"), "0.00 EUR");
        assert_eq!(money(12.345_6, "USD"), "12.35 USD");
    }

    #[test]
    fn a_launch_is_described_in_people_money_and_time() {
        let quick = DurationEstimate {
            sending_secs: 95,
            tier_wait_ms: 0,
            fit_now: 1_250,
        };
        assert_eq!(
            launch_sentence(1_250, 31.25, "USD", &quick, None),
            "Send to 1,250 people, about 31.25 USD, taking about 2 minutes."
        );
        let held = DurationEstimate {
            sending_secs: 5,
            tier_wait_ms: 2 * 86_400_000,
            fit_now: 250,
        };
        assert_eq!(
            launch_sentence(
                1,
                0.0,
                "EUR",
                &held,
                Some("2026-12-24 09:00 (Europe/Berlin)")
            ),
            "Schedule for 2026-12-24 09:00 (Europe/Berlin): 1 person as of now, about 0.00 EUR, \
             taking about 2 days (the messaging limit holds part of it back)."
        );
        assert_eq!(about(30), "under a minute");
        assert_eq!(about(60), "about 1 minute");
        assert_eq!(about(3 * 3_600), "about 3 hours");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
