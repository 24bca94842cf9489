//! Media endpoints (fact sheet §8): upload answers `{"id"}`; `GET /{media-id}` answers a short-lived
//! download URL and the file's facts.

use serde::{Deserialize, Serialize};

use super::lenient;

/// `POST /{phone-number-id}/media` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUploaded {
    /// Usable in sends for 30 days.
    pub id: String,
}

/// `GET /{media-id}` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// `whatsapp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_product: Option<String>,
    /// Download URL, valid for 5 minutes, needs the bearer token.
    pub url: String,
    /// MIME type.
    pub mime_type: String,
    /// Hex SHA-256 of the file.
    #[serde(default)]
    pub sha256: String,
    /// Size in bytes.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub file_size: Option<u64>,
    /// The media id.
    pub id: String,
}

/// Per-kind MIME types and size limits (§8), so uploads are refused before they are sent.
pub fn media_limit(mime_type: &str) -> Option<(&'static str, u64)> {
    const MB: u64 = 1024 * 1024;
    let kind = match mime_type {
        "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" => ("audio", 16 * MB),
        "text/plain"
        | "application/pdf"
        | "application/msword"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.ms-excel"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => {
            ("document", 100 * MB)
        }
        "image/jpeg" | "image/png" => ("image", 5 * MB),
        "image/webp" => ("sticker", 500 * 1024),
        "video/mp4" | "video/3gpp" => ("video", 16 * MB),
        _ => return None,
    };
    Some(kind)
}
