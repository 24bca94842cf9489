//! Value encoding: one tag byte naming the format, then the payload. The tag lets a later release
//! switch formats collection by collection without a flag day.

use serde::{de::DeserializeOwned, Serialize};

use super::StorageError;

/// Tag of JSON payloads, the only format so far: readable in a hex dump, tolerant of added fields.
const JSON: u8 = 1;

/// Encodes `value` for `collection`.
pub fn encode<V: Serialize>(collection: &'static str, value: &V) -> Result<Vec<u8>, StorageError> {
    let mut bytes = vec![JSON];
    serde_json::to_writer(&mut bytes, value).map_err(|e| StorageError::Encode {
        collection,
        reason: e.to_string(),
    })?;
    Ok(bytes)
}

/// Decodes bytes written by [`encode`].
pub fn decode<V: DeserializeOwned>(
    collection: &'static str,
    bytes: &[u8],
) -> Result<V, StorageError> {
    let fail = |reason: String| StorageError::Decode { collection, reason };
    match bytes.split_first() {
        Some((&JSON, payload)) => serde_json::from_slice(payload).map_err(|e| fail(e.to_string())),
        Some((tag, _)) => Err(fail(format!("unknown codec tag {tag}"))),
        None => Err(fail("empty value".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let bytes = encode("t", &("a", 1u32)).unwrap();
        assert_eq!(bytes[0], JSON);
        assert_eq!(
            decode::<(String, u32)>("t", &bytes).unwrap(),
            ("a".to_string(), 1)
        );
    }

    #[test]
    fn unknown_tags_and_garbage_are_errors_naming_the_collection() {
        let err = decode::<u32>("contacts", &[9, 1]).unwrap_err().to_string();
        assert!(
            err.contains("contacts") && err.contains("codec tag 9"),
            "{err}"
        );
        assert!(decode::<u32>("contacts", &[]).is_err());
        assert!(decode::<u32>("contacts", &[JSON, b'{']).is_err());
    }
}
