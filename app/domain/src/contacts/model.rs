//! The contact record and how new information merges into it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::attributes::AttributeValue;
use super::consent::{self, Category, ConsentEvent, Standing};

/// A person Herald may message, identified by their number.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Contact {
    /// E.164, e.g. `+905321234567`; the identity (one contact per number).
    pub phone: String,
    /// ISO alpha-2 country of the number, read once when the number was parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The WhatsApp id once WhatsApp reports it (it may differ from `phone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub first_name: String,
    /// Family name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_name: String,
    /// Preferred language (Meta's codes, e.g. `en_US`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// IANA time zone, for sending windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Free labels.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
    /// Typed custom attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, AttributeValue>,
    /// Consent history, oldest first; never shortened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consent: Vec<ConsentEvent>,
    /// Unix ms of creation.
    pub created_at_ms: i64,
    /// Unix ms of the last change.
    pub updated_at_ms: i64,
    /// Unix ms of the last message the contact sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_inbound_ms: Option<i64>,
    /// Names of approved templates this contact has been sent (filled by campaigns).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub received_templates: BTreeSet<String>,
}

/// What a merge did to a stored contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The contact did not exist.
    Created,
    /// Something changed.
    Updated,
    /// Nothing changed.
    Unchanged,
}

/// New information about a contact, e.g. an imported row. `None` and empty values leave what is
/// stored alone: a sparse file never erases data.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ContactPatch {
    /// E.164.
    pub phone: String,
    /// ISO alpha-2 country of the number.
    pub country: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Language code.
    pub language: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Tags to add.
    pub tags: Vec<String>,
    /// Attributes to set.
    pub attributes: BTreeMap<String, AttributeValue>,
}

impl Contact {
    /// The full name, or the number when there is none.
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name);
        let name = name.trim();
        if name.is_empty() {
            self.phone.clone()
        } else {
            name.to_string()
        }
    }

    /// Whether consent allows messages of `category`: the latest event for it is an opt-in.
    pub fn may_receive(&self, category: Category) -> bool {
        consent::standing(&self.consent, category) == Standing::OptedIn
    }

    /// Whether the contact opted out of `category`.
    pub fn opted_out(&self, category: Category) -> bool {
        consent::standing(&self.consent, category) == Standing::OptedOut
    }

    /// Merges `patch` and, if given, a consent event into `existing` (or a new contact),
    /// returning the result and what changed. `now_ms` stamps the change.
    pub fn merge(
        existing: Option<Contact>,
        patch: &ContactPatch,
        consent_event: Option<ConsentEvent>,
        now_ms: i64,
    ) -> (Contact, Change) {
        let created = existing.is_none();
        let mut contact = existing.unwrap_or_else(|| Contact {
            phone: patch.phone.clone(),
            country: patch.country.clone(),
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            ..Contact::default()
        });
        let mut changed = false;
        let mut set = |slot: &mut String, value: &Option<String>| {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                if slot != v {
                    *slot = v.to_string();
                    changed = true;
                }
            }
        };
        set(&mut contact.first_name, &patch.first_name);
        set(&mut contact.last_name, &patch.last_name);
        let mut set_opt = |slot: &mut Option<String>, value: &Option<String>| {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                if slot.as_deref() != Some(v) {
                    *slot = Some(v.to_string());
                    changed = true;
                }
            }
        };
        set_opt(&mut contact.language, &patch.language);
        set_opt(&mut contact.time_zone, &patch.time_zone);
        for tag in patch
            .tags
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        {
            changed |= contact.tags.insert(tag.to_string());
        }
        for (name, value) in &patch.attributes {
            if contact.attributes.get(name) != Some(value) {
                contact.attributes.insert(name.clone(), value.clone());
                changed = true;
            }
        }
        if let Some(event) = consent_event {
            changed |= consent::record(&mut contact.consent, event);
        }
        let change = if created {
            Change::Created
        } else if changed {
            contact.updated_at_ms = now_ms;
            Change::Updated
        } else {
            Change::Unchanged
        };
        (contact, change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::consent::{ConsentAction, ConsentSource};

    fn patch() -> ContactPatch {
        ContactPatch {
            phone: "+905321234567".into(),
            first_name: Some("Ayşe".into()),
            tags: vec!["vip".into()],
            ..ContactPatch::default()
        }
    }

    #[test]
    fn merging_the_same_row_twice_changes_nothing_the_second_time() {
        let opt_in = ConsentEvent {
            at_ms: 1,
            action: ConsentAction::OptIn,
            categories: vec![Category::Marketing],
            source: ConsentSource::Import {
                file: "a.csv".into(),
            },
        };
        let (first, change) = Contact::merge(None, &patch(), Some(opt_in.clone()), 1);
        assert_eq!(change, Change::Created);
        assert!(first.may_receive(Category::Marketing));
        let (second, change) = Contact::merge(Some(first.clone()), &patch(), Some(opt_in), 2);
        assert_eq!(change, Change::Unchanged);
        assert_eq!(first, second);
    }

    #[test]
    fn empty_cells_never_erase_stored_values() {
        let (stored, _) = Contact::merge(None, &patch(), None, 1);
        let sparse = ContactPatch {
            phone: stored.phone.clone(),
            first_name: Some("  ".into()),
            last_name: Some("Yılmaz".into()),
            ..ContactPatch::default()
        };
        let (merged, change) = Contact::merge(Some(stored), &sparse, None, 2);
        assert_eq!(change, Change::Updated);
        assert_eq!(merged.display_name(), "Ayşe Yılmaz");
        assert_eq!(merged.updated_at_ms, 2);
    }
}
