//! The rules for keeping a customer's photos, videos, voice notes, files and stickers: what
//! WhatsApp may deliver (type and size, fact sheet §8), when a failed download is tried again,
//! and when Herald gives up and says so. Pure, so the downloader, the thread and the tests share
//! one answer.

use serde::{Deserialize, Serialize};

use crate::whatsapp::graph::media_limit;

/// Meta refuses inbound files over 100 MB (131052), whatever the type.
pub const INBOUND_MAX_BYTES: u64 = 100 * 1024 * 1024;

/// Waits before each retry of a download, in order: quick at first (a blip), then stretched so
/// a longer outage of Meta's media servers or of this machine's network is ridden out within the
/// 7 days a webhook's media id lives.
pub const RETRY_DELAYS_MS: &[i64] = &[
    1_000,
    3_000,
    10_000,
    30_000,
    120_000,
    600_000,
    3_600_000,
    6 * 3_600_000,
    24 * 3_600_000,
];

/// How a stored download stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaState {
    /// Not fetched yet, or waiting for its next try.
    #[default]
    Pending,
    /// Kept in the data directory.
    Stored,
    /// Given up on, with the reason; a person may try again.
    Failed,
}

impl MediaState {
    /// The word the thread shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "downloading",
            Self::Stored => "stored",
            Self::Failed => "failed",
        }
    }
}

/// After `attempts` failed tries, when to try again (`None`: give up).
pub fn retry_after_ms(attempts: u32) -> Option<i64> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    RETRY_DELAYS_MS.get(index).copied()
}

/// A MIME type without its parameters, lower-cased: `audio/ogg; codecs=opus` is `audio/ogg`,
/// the form WhatsApp's type table names.
pub fn bare_mime(mime_type: &str) -> String {
    mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Whether a file WhatsApp announced as `mime_type` and `size` may be kept, or why not. A
/// MIME parameter (`audio/ogg; codecs=opus`) does not change the type.
pub fn acceptable(mime_type: &str, size: Option<u64>) -> Result<(), String> {
    let bare = bare_mime(mime_type);
    let Some((kind, max)) = media_limit(&bare) else {
        return Err(format!(
            "WhatsApp does not deliver files of type {bare:?}, so Herald does not keep it"
        ));
    };
    // Stickers may be animated (500 KB); inbound limits are the send limits, and 100 MB at most.
    let max = max.min(INBOUND_MAX_BYTES);
    match size {
        Some(size) if size > max => Err(format!(
            "the {kind} is {} but WhatsApp allows at most {}",
            bytes(size),
            bytes(max)
        )),
        _ => Ok(()),
    }
}

/// The file's size as people read it ("820 KB", "4.2 MB").
pub fn bytes(size: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    #[allow(clippy::cast_precision_loss)]
    match size {
        s if s < KB => format!("{s} bytes"),
        s if s < MB => format!("{} KB", s.div_ceil(KB)),
        s => format!("{:.1} MB", s as f64 / MB as f64),
    }
}

/// A name for the stored file made only of safe characters, from Meta's media id (digits in
/// practice), so no id can name a path outside the media directory.
pub fn file_name(media_id: &str) -> Option<String> {
    let safe = !media_id.is_empty()
        && media_id.len() <= 128
        && media_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    safe.then(|| media_id.to_string())
}

/// Whether a browser may show the file in the page (`inline`) rather than download it: only the
/// kinds a thread renders itself. Documents are always downloads.
pub fn shown_inline(mime_type: &str) -> bool {
    matches!(
        media_limit(&bare_mime(mime_type)),
        Some(("image" | "sticker" | "video" | "audio", _))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_quick_then_stretch_and_end() {
        assert_eq!(retry_after_ms(0), None, "nothing failed yet");
        assert_eq!(retry_after_ms(1), Some(1_000));
        assert_eq!(retry_after_ms(2), Some(3_000));
        let total: i64 = RETRY_DELAYS_MS.iter().sum();
        assert!(
            total < 7 * 24 * 3_600_000,
            "all tries happen while the media id lives"
        );
        let last = u32::try_from(RETRY_DELAYS_MS.len()).unwrap();
        assert!(retry_after_ms(last).is_some());
        assert_eq!(retry_after_ms(last + 1), None, "then Herald gives up");
    }

    #[test]
    fn types_and_sizes_follow_the_fact_sheet() {
        assert!(acceptable("image/jpeg", Some(1_000)).is_ok());
        assert!(acceptable("audio/ogg; codecs=opus", Some(10_000)).is_ok());
        assert!(acceptable("application/pdf", None).is_ok());
        let big = acceptable("image/png", Some(6 * 1024 * 1024)).unwrap_err();
        assert!(big.contains("6.0 MB") && big.contains("5.0 MB"), "{big}");
        let odd = acceptable("application/x-msdownload", Some(10)).unwrap_err();
        assert!(odd.contains("application/x-msdownload"), "{odd}");
    }

    #[test]
    fn stored_names_cannot_leave_the_media_directory() {
        assert_eq!(
            file_name("1234567890").as_deref(),
            Some("1234567890"),
            "Meta's ids"
        );
        for hostile in ["../etc/passwd", "a/b", "", "..", "a\\b", "a\0b"] {
            assert_eq!(file_name(hostile), None, "{hostile:?}");
        }
    }

    #[test]
    fn only_what_a_thread_plays_is_shown_inline() {
        assert!(shown_inline("image/png"));
        assert!(shown_inline("audio/ogg; codecs=opus"));
        assert!(!shown_inline("application/pdf"));
        assert!(!shown_inline("text/html"));
    }
}
