//! `GET /conversations/media/{connection}/{media_id}`: a stored file (a customer's, or one an
//! agent sent), for signed-in users only (the route is protected by `http::access`'s default).
//! Photos, stickers, video and audio open in place; anything else downloads under its own name.
//! The file is streamed from disk, so a 100 MB document never sits in memory.
//!
//! `POST /conversations/{id}/media`: the composer's upload — the file as the raw body, its type
//! in `Content-Type`, its name percent-encoded in `x-file-name` — sent on to WhatsApp's media
//! endpoint; answers the draft's [`DraftMedia`](domain::conversation::compose::DraftMedia).

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::access::Caller;
use domain::conversation::media::{acceptable, shown_inline, MediaState};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use crate::contacts::files::{attachment, uploaded_file_name};
use crate::http::AppState;

/// The largest upload taken: WhatsApp's limit for documents, its largest kind.
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// Uploads a file for the composer.
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(id) = id.parse() else {
        return (StatusCode::NOT_FOUND, "no such conversation").into_response();
    };
    // Shown to the customer on a document: no control characters, a sane length.
    let filename: String = uploaded_file_name(&headers)
        .chars()
        .filter(|c| !c.is_control())
        .take(240)
        .collect();
    let mime_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    match state
        .conversations
        .upload_media(
            &caller,
            id,
            filename.trim().to_string(),
            mime_type,
            body.to_vec(),
        )
        .await
    {
        Ok(draft) => Json(draft).into_response(),
        Err(refusal) => {
            let status =
                StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, refusal.to_string()).into_response()
        }
    }
}

/// Bytes read from disk per piece of the response.
const PIECE: usize = 64 * 1024;

/// Serves one stored file.
pub async fn media(
    State(state): State<AppState>,
    Path((connection, media_id)): Path<(String, String)>,
) -> Response {
    let missing = || (StatusCode::NOT_FOUND, "no such file").into_response();
    let Ok(connection) = Uuid::parse_str(&connection) else {
        return missing();
    };
    let downloader = state.conversations.media();
    let key = (connection, media_id);
    let record = match downloader.store().get(&key) {
        Ok(Some(record)) if record.state == MediaState::Stored => record,
        Ok(_) => return missing(),
        Err(e) => {
            tracing::error!(error = %e, "reading a media record failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(path) = downloader.path_of(&key) else {
        return missing();
    };
    let Ok(file) = tokio::fs::File::open(&path).await else {
        tracing::error!(path = %path.display(), "a stored customer file is missing from disk");
        return missing();
    };
    // Only a type WhatsApp delivers is named; anything else is plain bytes to the browser.
    let mime = record
        .mime_type
        .as_deref()
        .filter(|m| acceptable(m, None).is_ok())
        .unwrap_or("application/octet-stream");
    let disposition = if shown_inline(mime) {
        HeaderValue::from_static("inline")
    } else {
        let fallback = format!("{}-{}", record.kind, key.1);
        attachment(record.filename.as_deref().unwrap_or(&fallback))
    };
    let pieces = futures_util::stream::unfold(file, |mut file| async move {
        let mut buffer = vec![0; PIECE];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok::<_, std::io::Error>(buffer), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    let mut response = Body::from_stream(pieces).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    if let Some(size) = record.size {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    }
    response
}
