//! Who may receive a campaign's template (fact sheet §5.6 and §9): consent for the template's
//! category, WhatsApp's pause on marketing to US numbers, and a value for every variable.

use super::draft::VariableBinding;
use super::render::{render, Rendered, Slot};
use super::state::SkipReason;
use crate::contacts::consent::{standing, Category, Standing};
use crate::contacts::Contact;

/// Whether `contact`'s number is a US number (WhatsApp does not deliver marketing there).
pub fn is_us_number(contact: &Contact) -> bool {
    match contact.country.as_deref() {
        Some(country) => country.eq_ignore_ascii_case("US"),
        None => {
            contact.phone.starts_with("+1")
                && crate::contacts::phone::country_of(&contact.phone).as_deref() == Some("US")
        }
    }
}

/// The values `contact` gets, or why it is excluded. `meta_category` is the template's category
/// as Meta spells it (`MARKETING`, `UTILITY`, `AUTHENTICATION`).
pub fn admit(
    contact: &Contact,
    meta_category: &str,
    slots: &[Slot],
    bindings: &[VariableBinding],
) -> Result<Rendered, SkipReason> {
    let category = Category::of_template(meta_category);
    match standing(&contact.consent, category) {
        Standing::OptedOut => return Err(SkipReason::OptedOut),
        Standing::Unknown => return Err(SkipReason::NoOptIn),
        Standing::OptedIn => {}
    }
    if category == Category::Marketing && is_us_number(contact) {
        return Err(SkipReason::UsMarketing);
    }
    render(slots, bindings, contact).map_err(|slot| SkipReason::MissingVariable {
        variable: slot.label(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::BindingSource;
    use crate::contacts::consent::{ConsentAction, ConsentEvent, ConsentSource};

    fn contact(phone: &str, country: &str, action: Option<ConsentAction>) -> Contact {
        Contact {
            phone: phone.into(),
            country: Some(country.into()),
            consent: action
                .map(|action| ConsentEvent {
                    at_ms: 1,
                    action,
                    categories: vec![Category::Marketing, Category::Utility],
                    source: ConsentSource::Api,
                })
                .into_iter()
                .collect(),
            ..Contact::default()
        }
    }

    fn slots() -> Vec<Slot> {
        vec![Slot::Body { name: "1".into() }]
    }

    fn bindings(fallback: &str) -> Vec<VariableBinding> {
        vec![VariableBinding {
            slot: Slot::Body { name: "1".into() },
            source: BindingSource::FirstName,
            fallback: fallback.into(),
        }]
    }

    #[test]
    fn consent_decides_first() {
        let out = contact("+905321234567", "TR", Some(ConsentAction::OptOut));
        assert_eq!(
            admit(&out, "MARKETING", &slots(), &bindings("x")),
            Err(SkipReason::OptedOut)
        );
        let none = contact("+905321234567", "TR", None);
        assert_eq!(
            admit(&none, "UTILITY", &slots(), &bindings("x")),
            Err(SkipReason::NoOptIn)
        );
    }

    #[test]
    fn us_numbers_get_utility_but_not_marketing() {
        let us = contact("+12025550123", "US", Some(ConsentAction::OptIn));
        assert_eq!(
            admit(&us, "MARKETING", &slots(), &bindings("x")),
            Err(SkipReason::UsMarketing)
        );
        assert!(admit(&us, "UTILITY", &slots(), &bindings("x")).is_ok());
        let canada = contact("+14165550123", "CA", Some(ConsentAction::OptIn));
        assert!(admit(&canada, "MARKETING", &slots(), &bindings("x")).is_ok());
    }

    #[test]
    fn a_variable_without_value_names_itself() {
        let c = contact("+905321234567", "TR", Some(ConsentAction::OptIn));
        assert_eq!(
            admit(&c, "UTILITY", &slots(), &bindings("")),
            Err(SkipReason::MissingVariable {
                variable: "Body {{1}}".into()
            })
        );
    }
}
