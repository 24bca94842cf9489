//! Key encodings whose byte order is the logical order, so sled's sorted trees give ordered,
//! prefix-scannable collections: integers big-endian, UUIDv7 as bytes (time-ordered), strings as
//! UTF-8 (only as the last part of a composite key), fixed-width parts first in tuples.

use super::StorageError;

/// A type usable as a collection key.
pub trait Key: Sized {
    /// Bytes whose lexicographic order matches the key's order.
    fn encode(&self) -> Vec<u8>;
    /// Inverse of [`Key::encode`].
    fn decode(bytes: &[u8]) -> Result<Self, StorageError>;
}

/// A key of constant encoded width, which may lead a composite key.
pub trait FixedKey: Key {
    /// Encoded length in bytes.
    const WIDTH: usize;
}

fn bad_key(reason: impl Into<String>) -> StorageError {
    StorageError::Decode {
        collection: "(key)",
        reason: reason.into(),
    }
}

impl Key for String {
    fn encode(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn decode(bytes: &[u8]) -> Result<Self, StorageError> {
        String::from_utf8(bytes.to_vec()).map_err(|e| bad_key(e.to_string()))
    }
}

impl Key for u64 {
    fn encode(&self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
    fn decode(bytes: &[u8]) -> Result<Self, StorageError> {
        let array: [u8; 8] = bytes
            .try_into()
            .map_err(|_| bad_key("u64 key is not 8 bytes"))?;
        Ok(u64::from_be_bytes(array))
    }
}
impl FixedKey for u64 {
    const WIDTH: usize = 8;
}

impl Key for [u8; 32] {
    fn encode(&self) -> Vec<u8> {
        self.to_vec()
    }
    fn decode(bytes: &[u8]) -> Result<Self, StorageError> {
        bytes.try_into().map_err(|_| bad_key("key is not 32 bytes"))
    }
}
impl FixedKey for [u8; 32] {
    const WIDTH: usize = 32;
}

impl Key for uuid::Uuid {
    fn encode(&self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
    fn decode(bytes: &[u8]) -> Result<Self, StorageError> {
        uuid::Uuid::from_slice(bytes).map_err(|e| bad_key(e.to_string()))
    }
}
impl FixedKey for uuid::Uuid {
    const WIDTH: usize = 16;
}

impl<A: FixedKey, B: Key> Key for (A, B) {
    fn encode(&self) -> Vec<u8> {
        let mut bytes = self.0.encode();
        bytes.extend(self.1.encode());
        bytes
    }
    fn decode(bytes: &[u8]) -> Result<Self, StorageError> {
        if bytes.len() < A::WIDTH {
            return Err(bad_key("composite key shorter than its first part"));
        }
        let (a, b) = bytes.split_at(A::WIDTH);
        Ok((A::decode(a)?, B::decode(b)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_keys_sort_numerically() {
        let mut encoded: Vec<_> = [300u64, 2, 70_000, 1].iter().map(Key::encode).collect();
        encoded.sort();
        let decoded: Vec<u64> = encoded.iter().map(|b| u64::decode(b).unwrap()).collect();
        assert_eq!(decoded, [1, 2, 300, 70_000]);
    }

    #[test]
    fn composite_keys_round_trip_and_group_by_their_first_part() {
        let key = (7u64, "hello".to_string());
        assert_eq!(<(u64, String)>::decode(&key.encode()).unwrap(), key);
        assert!(key.encode().starts_with(&7u64.encode()));
    }

    #[test]
    fn malformed_keys_are_errors_not_panics() {
        assert!(u64::decode(&[1, 2]).is_err());
        assert!(<(u64, String)>::decode(&[1]).is_err());
        assert!(String::decode(&[0xff]).is_err());
    }
}
