//! Meta writes some values as strings in one example and as numbers in another (a template
//! button's `index`, coordinates, media `file_size`). These helpers accept both and write the
//! string form, which Meta accepts everywhere.

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    Text(String),
    Integer(i64),
    Float(f64),
}

impl StringOrNumber {
    fn into_string(self) -> String {
        match self {
            Self::Text(s) => s,
            Self::Integer(n) => n.to_string(),
            Self::Float(n) => n.to_string(),
        }
    }
}

/// Reads a string or a number as a string.
pub fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    StringOrNumber::deserialize(deserializer).map(StringOrNumber::into_string)
}

/// Reads an optional string or number as a string.
pub fn opt_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Option::<StringOrNumber>::deserialize(deserializer).map(|v| v.map(StringOrNumber::into_string))
}

/// Reads an optional unsigned integer written as a number or a string of digits.
pub fn opt_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    match Option::<StringOrNumber>::deserialize(deserializer)? {
        None => Ok(None),
        Some(StringOrNumber::Integer(n)) => {
            u64::try_from(n).map(Some).map_err(serde::de::Error::custom)
        }
        Some(StringOrNumber::Text(s)) => s.parse().map(Some).map_err(serde::de::Error::custom),
        Some(StringOrNumber::Float(_)) => Err(serde::de::Error::custom("expected an integer")),
    }
}
