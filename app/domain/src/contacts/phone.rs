//! Phone numbers as identities. Every contact is keyed by its number in E.164 (`+` and up to 15
//! digits), parsed and validated with `phonenumber` (a port of Google's libphonenumber) so that
//! `0532 123 45 67` in Turkey and `+90 532 1234567` are the same person.
//!
//! WhatsApp may report a `wa_id` that differs from the number a business stored (fact sheet §7):
//! Mexico's `521` + 10 digits for `52` + 10, Argentina's `549` for `54`, and Brazilian numbers
//! without the mobile ninth digit. [`wa_id_candidates`] lists the E.164 forms a `wa_id` may stand
//! for, so an inbound message or a status finds its contact.

use phonenumber::{country, Mode};

/// A country as libphonenumber knows it (ISO 3166 alpha-2).
pub use phonenumber::country::Id as CountryId;

/// Why a number was not accepted; each variant reads as a sentence for a rejected import row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing in the cell.
    #[error("the phone number is empty")]
    Empty,
    /// The default country is not an ISO 3166 alpha-2 code libphonenumber knows.
    #[error("{0:?} is not a country code such as TR, US or BR")]
    UnknownCountry(String),
    /// Cannot be read as a phone number at all.
    #[error("{0:?} is not a phone number")]
    Unreadable(String),
    /// Parsed, but no such number exists in its country's numbering plan.
    #[error("{input:?} is not a valid number{}", match country { Some(c) => format!(" in {c}"), None => String::new() })]
    Invalid {
        /// What was given.
        input: String,
        /// The country it was read in, if any.
        country: Option<String>,
    },
    /// The number belongs to a different country than the row says.
    #[error("{number} is a number of {actual}, not of {expected}")]
    OtherCountry {
        /// The number in E.164.
        number: String,
        /// The country the row names.
        expected: String,
        /// The country the number belongs to.
        actual: String,
    },
}

impl PhoneError {
    /// Stable rule id, for programs and for the import report's CSV.
    pub fn rule(&self) -> &'static str {
        match self {
            PhoneError::Empty => "phone.empty",
            PhoneError::UnknownCountry(_) => "phone.country_unknown",
            PhoneError::Unreadable(_) => "phone.unreadable",
            PhoneError::Invalid { .. } => "phone.invalid",
            PhoneError::OtherCountry { .. } => "phone.other_country",
        }
    }
}

/// Parses an ISO 3166 alpha-2 country code (case-insensitive).
pub fn country_id(code: &str) -> Result<country::Id, PhoneError> {
    code.trim()
        .to_ascii_uppercase()
        .parse::<country::Id>()
        .map_err(|_| PhoneError::UnknownCountry(code.to_string()))
}

/// A validated number in E.164 with the country it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// `+` and digits, e.g. `+905321234567`.
    pub e164: String,
    /// ISO alpha-2 country of the number (e.g. `TR`), when libphonenumber can tell.
    pub country: Option<String>,
}

/// Reads `input` as a phone number. Numbers written without `+` or an international prefix are
/// read in `default_country`.
pub fn normalize(
    input: &str,
    default_country: Option<country::Id>,
) -> Result<Normalized, PhoneError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    // Spreadsheet exports turn `+90…` into `90…` and sometimes `9.05321234567E+11`; the former is
    // read by libphonenumber with the default country, the latter is not a number we can trust.
    let cleaned = strip_formatting(trimmed);
    // libphonenumber reads letters as keypad digits (1-800-FLOWERS); in a contact list letters
    // mean the cell is not a number, and WhatsApp ids never contain them.
    if cleaned.chars().any(char::is_alphabetic) {
        return Err(PhoneError::Unreadable(trimmed.to_string()));
    }
    let parsed = phonenumber::parse(default_country, &cleaned)
        .map_err(|_| PhoneError::Unreadable(trimmed.to_string()))?;
    let country = parsed.country().id().map(|id| id.as_ref().to_string());
    if !phonenumber::is_valid(&parsed) {
        return Err(PhoneError::Invalid {
            input: trimmed.to_string(),
            country: country.or_else(|| default_country.map(|c| c.as_ref().to_string())),
        });
    }
    Ok(Normalized {
        e164: parsed.format().mode(Mode::E164).to_string(),
        country,
    })
}

/// Like [`normalize`], and also checks the number belongs to `expected` (a country column).
pub fn normalize_in(
    input: &str,
    default_country: Option<country::Id>,
    expected: &str,
) -> Result<Normalized, PhoneError> {
    let expected_id = country_id(expected)?;
    let normalized = normalize(input, Some(expected_id).or(default_country))?;
    let wanted = expected_id.as_ref();
    match &normalized.country {
        Some(actual) if actual != wanted => Err(PhoneError::OtherCountry {
            number: normalized.e164,
            expected: wanted.to_string(),
            actual: actual.clone(),
        }),
        _ => Ok(normalized),
    }
}

/// Drops characters people put around numbers (spaces, dots, dashes, brackets, `tel:`), keeping
/// a leading `+` and digits.
fn strip_formatting(input: &str) -> String {
    let without_scheme = input.strip_prefix("tel:").unwrap_or(input);
    let mut out = String::with_capacity(without_scheme.len());
    for (i, c) in without_scheme.chars().enumerate() {
        match c {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            other => out.push(other),
        }
    }
    out
}

/// The ISO alpha-2 country of an E.164 number stored by Herald.
pub fn country_of(e164: &str) -> Option<String> {
    let parsed = phonenumber::parse(None, e164).ok()?;
    parsed.country().id().map(|id| id.as_ref().to_string())
}

/// Whether a webhook's sender can be a WhatsApp user's number: 7 to 15 digits (E.164 without the
/// `+`), not starting with 0, behind a country calling code that exists. Senders such as
/// `PHONE_NUMBER`, `""`, `"1"` or forty zeros (seen in third-party test payloads) are not, and
/// must not become contacts.
pub fn is_plausible_wa_id(wa_id: &str) -> bool {
    let digits_only = wa_id.bytes().all(|b| b.is_ascii_digit());
    digits_only
        && (7..=15).contains(&wa_id.len())
        && !wa_id.starts_with('0')
        && phonenumber::parse(None, format!("+{wa_id}")).is_ok()
}

/// The E.164 numbers a WhatsApp `wa_id` (digits, no `+`) may correspond to, most likely first:
/// the `wa_id` itself, then the forms businesses store for Mexico (`521…` ↔ `52…`), Argentina
/// (`549…` ↔ `54…`) and Brazil (with and without the ninth mobile digit).
pub fn wa_id_candidates(wa_id: &str) -> Vec<String> {
    let digits: String = wa_id.chars().filter(char::is_ascii_digit).collect();
    let mut out = vec![format!("+{digits}")];
    let mut push = |d: String| {
        let e = format!("+{d}");
        if !out.contains(&e) {
            out.push(e);
        }
    };
    if let Some(rest) = digits.strip_prefix("521").filter(|r| r.len() == 10) {
        push(format!("52{rest}"));
    } else if let Some(rest) = digits.strip_prefix("52").filter(|r| r.len() == 10) {
        push(format!("521{rest}"));
    }
    if let Some(rest) = digits.strip_prefix("549").filter(|r| r.len() == 10) {
        push(format!("54{rest}"));
    } else if let Some(rest) = digits.strip_prefix("54").filter(|r| r.len() == 10) {
        push(format!("549{rest}"));
    }
    if let Some(rest) = digits.strip_prefix("55") {
        // 55 + area code (2) + 8 digits lacks the ninth digit; + 9 digits starting with 9 has it.
        if rest.len() == 10 {
            push(format!("55{}9{}", &rest[..2], &rest[2..]));
        } else if rest.len() == 11 && rest.as_bytes()[2] == b'9' {
            push(format!("55{}{}", &rest[..2], &rest[3..]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr() -> Option<country::Id> {
        Some(country_id("tr").unwrap())
    }

    #[test]
    fn only_numbers_are_plausible_senders() {
        for ok in ["16505551234", "905321234567", "5215512345678", "6834002"] {
            assert!(is_plausible_wa_id(ok), "{ok}");
        }
        let zeros = "0".repeat(40);
        for bad in [
            "PHONE_NUMBER",
            "",
            "1",
            zeros.as_str(),
            "+16505551234",
            "1650 555 1234",
            "9999999999999999",
        ] {
            assert!(!is_plausible_wa_id(bad), "{bad}");
        }
    }

    #[test]
    fn national_and_international_spellings_are_one_number() {
        let a = normalize("0532 123 45 67", tr()).unwrap();
        let b = normalize("+90 (532) 123-45-67", None).unwrap();
        let c = normalize("905321234567", tr()).unwrap();
        assert_eq!(a.e164, "+905321234567");
        assert_eq!(a, b);
        assert_eq!(b.e164, c.e164);
        assert_eq!(a.country.as_deref(), Some("TR"));
    }

    #[test]
    fn bad_numbers_say_why() {
        assert_eq!(normalize("  ", tr()), Err(PhoneError::Empty));
        assert!(matches!(
            normalize("hello", tr()),
            Err(PhoneError::Unreadable(_))
        ));
        assert!(matches!(
            normalize("+90 123", None),
            Err(PhoneError::Invalid { .. })
        ));
        assert!(matches!(
            normalize("5321234567", None),
            Err(PhoneError::Unreadable(_) | PhoneError::Invalid { .. })
        ));
        assert!(matches!(
            country_id("XX"),
            Err(PhoneError::UnknownCountry(_))
        ));
    }

    #[test]
    fn a_country_column_rejects_a_foreign_number() {
        let err = normalize_in("+4915112345678", tr(), "TR").unwrap_err();
        assert_eq!(err.rule(), "phone.other_country");
        assert!(err.to_string().contains("DE"), "{err}");
        assert!(normalize_in("5321234567", None, "tr").is_ok());
    }

    #[test]
    fn wa_ids_map_to_the_forms_businesses_store() {
        assert!(wa_id_candidates("5215512345678").contains(&"+525512345678".to_string()));
        assert!(wa_id_candidates("5491123456789").contains(&"+541123456789".to_string()));
        assert!(wa_id_candidates("551187654321").contains(&"+5511987654321".to_string()));
        assert!(wa_id_candidates("5511987654321").contains(&"+551187654321".to_string()));
        assert_eq!(wa_id_candidates("905321234567"), ["+905321234567"]);
    }

    #[test]
    fn country_of_a_stored_number() {
        assert_eq!(country_of("+14155552671").as_deref(), Some("US"));
        assert_eq!(country_of("+905321234567").as_deref(), Some("TR"));
    }
}
