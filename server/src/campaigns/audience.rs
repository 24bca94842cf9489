//! A campaign's audience, contact by contact: the segment's matches, then the uploaded list's
//! numbers, each judged by `domain::campaign::eligibility::admit`. The pre-flight check counts
//! what this yields; launching writes it down as the recipient snapshot. One walk serves both, so
//! what the user was shown before launch is what the engine sends.

use app::ports::PortError;
use std::collections::HashSet;

use domain::campaign::render::Rendered;
use domain::campaign::{eligibility, CampaignDraft, SkipReason, Slot};
use domain::contacts::Contact;
use domain::whatsapp::graph::TemplateDefinition;
use uuid::Uuid;

use crate::contacts::ContactsService;
use crate::storage::campaigns::CampaignStore;
use crate::storage::{internal, StorageError};

/// One member of the audience.
pub struct Candidate {
    /// E.164.
    pub phone: String,
    /// The contact.
    pub contact: Contact,
    /// Their values, or why they are excluded.
    pub verdict: Result<Rendered, SkipReason>,
}

/// What the walk found besides candidates.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// The same number met again (segment and list overlap, or twice in the list).
    pub duplicates: u64,
    /// List rows without a usable phone number, or numbers with no contact.
    pub invalid: u64,
}

/// E.164 as a number: a million of them cost 8 MB in the duplicate set instead of ~50 MB.
fn number_key(e164: &str) -> u64 {
    e164.trim_start_matches('+').parse().unwrap_or(0)
}

/// Everything needed to judge contacts for one campaign.
pub struct Judge<'a> {
    /// The template's category as Meta spells it.
    pub category: &'a str,
    /// Its slots.
    pub slots: &'a [Slot],
    /// The campaign's bindings.
    pub draft: &'a CampaignDraft,
    /// A campaign whose messaged recipients are excluded.
    pub exclude: Option<Uuid>,
}

impl Judge<'_> {
    /// The judge for `draft` and `template`.
    pub fn new<'a>(
        draft: &'a CampaignDraft,
        template: &'a TemplateDefinition,
        slots: &'a [Slot],
        exclude: Option<Uuid>,
    ) -> Judge<'a> {
        Judge {
            category: &template.category,
            slots,
            draft,
            exclude,
        }
    }
}

/// Why the draft's audience cannot be read at all — its segment or list does not exist (any
/// more) or the list was never mapped — so a campaign is refused at launch, or paused before
/// sending, instead of staying "preparing" forever.
pub fn missing_source(
    contacts: &ContactsService,
    draft: &CampaignDraft,
) -> Result<Option<String>, StorageError> {
    let present = |id: &Option<String>| {
        id.as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    if let Some(segment) = present(&draft.segment_id) {
        let exists = match segment.parse::<Uuid>() {
            Ok(id) => contacts.segment_store().get(&id)?.is_some(),
            Err(_) => false,
        };
        if !exists {
            return Ok(Some(
                "The campaign's segment no longer exists. Choose another audience.".into(),
            ));
        }
    }
    if let Some(import) = present(&draft.import_id) {
        let job = match import.parse::<Uuid>() {
            Ok(id) => contacts.imports().get(&id)?,
            Err(_) => None,
        };
        match job {
            None => {
                return Ok(Some(
                    "The campaign's imported list no longer exists. Choose another audience."
                        .into(),
                ))
            }
            Some(job) if job.settings.is_none() => {
                return Ok(Some(
                    "The campaign's imported list was never mapped; finish the import first."
                        .into(),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(None)
}

/// Walks the audience of `judge.draft`, calling `visit` once per distinct contact until it
/// returns `false`.
pub fn walk(
    contacts: &ContactsService,
    campaigns: &CampaignStore,
    judge: &Judge<'_>,
    mut visit: impl FnMut(Candidate) -> Result<bool, StorageError>,
) -> Result<Tally, PortError> {
    let mut tally = Tally::default();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut consider = |contact: Contact, tally: &mut Tally| -> Result<bool, StorageError> {
        if !seen.insert(number_key(&contact.phone)) {
            tally.duplicates += 1;
            return Ok(true);
        }
        let mut verdict =
            eligibility::admit(&contact, judge.category, judge.slots, &judge.draft.bindings);
        if let Some(previous) = judge.exclude {
            if verdict.is_ok() && campaigns.was_messaged(&previous, &contact.phone)? {
                verdict = Err(SkipReason::AlreadyMessaged);
            }
        }
        visit(Candidate {
            phone: contact.phone.clone(),
            contact,
            verdict,
        })
    };
    if let Some(segment) = judge.draft.segment_id.as_deref().filter(|s| !s.is_empty()) {
        let (_, matcher) = contacts.segment_matcher(segment)?;
        for contact in contacts.evaluate(&matcher) {
            if !consider(contact.map_err(internal)?, &mut tally).map_err(internal)? {
                return Ok(tally);
            }
        }
    }
    if let Some(import) = judge.draft.import_id.as_deref().filter(|s| !s.is_empty()) {
        let (numbers, invalid) = contacts.import_numbers(import)?;
        tally.invalid += invalid;
        for phone in numbers {
            match contacts.store().get(&phone).map_err(internal)? {
                Some(contact) => {
                    if !consider(contact, &mut tally).map_err(internal)? {
                        return Ok(tally);
                    }
                }
                None => tally.invalid += 1,
            }
        }
    }
    Ok(tally)
}
