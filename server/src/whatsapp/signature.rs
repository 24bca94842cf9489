//! `X-Hub-Signature-256` (fact sheet §3.2): Meta signs every webhook POST with the HMAC-SHA256 of
//! the raw body, keyed with the app secret, hex-encoded after `sha256=`. Verification runs on the
//! exact bytes received, before any parsing, and compares in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Header Meta puts the signature in.
pub const HEADER: &str = "x-hub-signature-256";

/// Why a webhook was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No signature header.
    #[error("the request has no X-Hub-Signature-256 header")]
    Missing,
    /// Not `sha256=` followed by 64 hex digits.
    #[error("the X-Hub-Signature-256 header is malformed")]
    Malformed,
    /// Signed with another secret, or the body changed on the way.
    #[error("the X-Hub-Signature-256 signature does not match the body")]
    Mismatch,
}

/// The header value Meta would send for `body` signed with `app_secret`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hex_encode(&digest(app_secret, body)))
}

/// Checks `header` (the raw header value, if any) against `body`.
pub fn verify(app_secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex = header
        .strip_prefix("sha256=")
        .ok_or(SignatureError::Malformed)?;
    let claimed = hex_decode(hex).ok_or(SignatureError::Malformed)?;
    let expected = digest(app_secret, body);
    if bool::from(claimed.as_slice().ct_eq(expected.as_slice())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn digest(key: &[u8], body: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(body);
    mac.finalize().into_bytes().into()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Exactly 64 hex digits; `u8::from_str_radix` would also take `+f`, which no signer writes.
fn hex_decode(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret";
    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;

    #[test]
    fn a_body_signed_with_the_app_secret_verifies() {
        let header = sign(SECRET, BODY);
        assert_eq!(verify(SECRET, BODY, Some(&header)), Ok(()));
        // Meta's hex is lowercase; accept uppercase too.
        assert_eq!(
            verify(
                SECRET,
                BODY,
                Some(&header.to_uppercase().replace("SHA256=", "sha256="))
            ),
            Ok(())
        );
    }

    #[test]
    fn the_known_vector_matches() {
        // HMAC-SHA256(key = "key", "The quick brown fox jumps over the lazy dog") from RFC 4231-style
        // published test vectors.
        assert_eq!(
            sign(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn a_body_altered_by_one_byte_is_refused() {
        let header = sign(SECRET, BODY);
        let mut altered = BODY.to_vec();
        altered[10] ^= 1;
        assert_eq!(
            verify(SECRET, &altered, Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn another_secret_is_refused() {
        let header = sign(b"someone-else", BODY);
        assert_eq!(
            verify(SECRET, BODY, Some(&header)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_refused() {
        assert_eq!(verify(SECRET, BODY, None), Err(SignatureError::Missing));
        for bad in [
            "",
            "sha256=",
            "sha1=abcd",
            "sha256=zz",
            &format!("sha256={}", "é".repeat(32)),
        ] {
            assert_eq!(
                verify(SECRET, BODY, Some(bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_plain_hex_digits_are_accepted() {
        // `+f` parses as 15 with `from_str_radix`; replace each byte's hex with that spelling where
        // it would still decode to the right value.
        let (body, header, position) = (0u32..)
            .find_map(|n| {
                let body = format!("{{\"n\":{n}}}").into_bytes();
                let header = sign(SECRET, &body);
                let hex = header.as_bytes()["sha256=".len()..].to_vec();
                let position = (0..32).find(|i| hex[2 * i] == b'0')?;
                Some((body, header, position))
            })
            .expect("some digest has a byte below 16");
        let at = "sha256=".len() + 2 * position;
        let mut plus = header.clone();
        plus.replace_range(at..at + 1, "+");
        assert_eq!(
            verify(SECRET, &body, Some(&plus)),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, BODY, Some(&format!(" {header}"))),
            Err(SignatureError::Malformed)
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_headers_never_panic(header in ".{0,80}", body in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = verify(SECRET, &body, Some(&header));
        }
    }
}
