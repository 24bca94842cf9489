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

/// `#[serde(with = "codec::finite_f64")]` for stored floats that are sums. JSON has no infinity
/// or NaN (serde_json writes them as `null`, which a plain `f64` then refuses to read, making the
/// whole record unreadable), so a non-finite value is written as 0 and anything unreadable is read
/// as 0: one bad number can never poison the record around it.
pub mod finite_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `value`, or 0 when it is not finite.
    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(if value.is_finite() { *value } else { 0.0 })
    }

    /// Reads a number; `null` or anything else becomes 0.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(value.as_f64().filter(|v| v.is_finite()).unwrap_or(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Total {
        #[serde(with = "finite_f64")]
        cost: f64,
        count: u32,
    }

    #[test]
    fn a_non_finite_sum_cannot_make_its_record_unreadable() {
        let bytes = encode(
            "t",
            &Total {
                cost: f64::INFINITY,
                count: 3,
            },
        )
        .unwrap();
        assert_eq!(
            decode::<Total>("t", &bytes).unwrap(),
            Total {
                cost: 0.0,
                count: 3
            }
        );
        // A record written by an older release, with `null` where the sum overflowed.
        let mut old = vec![JSON];
        old.extend_from_slice(br#"{"cost":null,"count":3}"#);
        assert_eq!(
            decode::<Total>("t", &old).unwrap(),
            Total {
                cost: 0.0,
                count: 3
            }
        );
    }

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
