//! Meta's webhook payloads (fact sheet §3.3–§3.6) parsed into typed [`WebhookEvent`]s.
//!
//! Parsing is total: any byte string yields either an [`EnvelopeError`] (not a WhatsApp webhook
//! at all) or a [`ParsedWebhook`] whose `problems` name every change that could not be read, so the
//! intake can keep that payload for inspection and re-processing while applying the rest. Fields
//! and event kinds Herald does not know are kept raw ([`EventKind::Unknown`], `raw` members), never
//! dropped and never fatal.

mod events;
mod wire;

pub use events::*;

use serde_json::Value;

/// A payload that is not a WhatsApp Business Account webhook envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a WhatsApp webhook: {0}")]
pub struct EnvelopeError(pub String);

/// Everything one POST carried.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedWebhook {
    /// Events in payload order.
    pub events: Vec<WebhookEvent>,
    /// One line per change (or message, or status) that could not be read.
    pub problems: Vec<String>,
}

/// Parses a raw webhook body.
pub fn parse(body: &[u8]) -> Result<ParsedWebhook, EnvelopeError> {
    let envelope: wire::Envelope =
        serde_json::from_slice(body).map_err(|e| EnvelopeError(e.to_string()))?;
    if envelope.object != "whatsapp_business_account" {
        return Err(EnvelopeError(format!(
            "unexpected object `{}`",
            envelope.object
        )));
    }
    let mut parsed = ParsedWebhook::default();
    for (entry_index, entry) in envelope.entry.into_iter().enumerate() {
        for (change_index, change) in entry.changes.into_iter().enumerate() {
            let at = format!(
                "entry[{entry_index}].changes[{change_index}] ({})",
                change.field
            );
            let waba_id = entry.id.clone();
            events::from_change(
                &waba_id,
                entry.time,
                change.field,
                change.value,
                &at,
                &mut parsed,
            );
        }
    }
    Ok(parsed)
}

/// Decodes `value` as `T`, or records why not.
fn decode<T: serde::de::DeserializeOwned>(
    value: Value,
    at: &str,
    problems: &mut Vec<String>,
) -> Option<T> {
    match serde_json::from_value(value) {
        Ok(decoded) => Some(decoded),
        Err(e) => {
            problems.push(format!("{at}: {e}"));
            None
        }
    }
}

#[cfg(test)]
mod tests;
