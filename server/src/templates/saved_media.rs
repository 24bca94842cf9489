//! The file a saved session reply sends: a photo, video or document kept in the data directory
//! (`saved-replies/<template id>`), because a media id from WhatsApp lives only 30 days and
//! belongs to one number. The composer uploads it to the conversation's number each time the
//! reply is used, and sends it by that id with the reply's text as its caption.
//!
//! - `POST /templates/{id}/media`: attach (the raw body, `Content-Type`, `x-file-name`);
//! - `GET /templates/{id}/media`: the attached file, for the editor (signed-in users only);
//! - `DELETE /templates/{id}/media`: detach.

use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::access::{Caller, Permission};
use domain::conversation::media::{bare_mime, bytes as size_words};
use domain::ids::TemplateId;
use uuid::Uuid;

use super::TemplateService;
use crate::contacts::files::uploaded_file_name;
use crate::http::AppState;
use crate::ports::{allow, fault};
use crate::storage::files::write_durably;
use crate::storage::internal;
use crate::storage::templates::{saved_reply_file, SavedMedia, TemplateKind, TemplateRecord};
use app::ports::PortError;

/// The largest file taken: WhatsApp's limit for documents, its largest kind.
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// Why a saved reply with a file cannot also have buttons.
pub const NO_BUTTONS_WITH_A_FILE: &str = "a saved reply with a file sends it with the text as its caption, which cannot carry buttons: remove the buttons or the file";

/// Whether a session reply's definition has buttons (which a file excludes).
pub fn has_buttons(record: &TemplateRecord) -> bool {
    record.definition.components.iter().any(|c| {
        c.kind.eq_ignore_ascii_case("BUTTONS") && c.buttons.as_ref().is_some_and(|b| !b.is_empty())
    })
}

impl TemplateService {
    /// The saved reply `id`'s file and what it is, if it has one.
    pub fn saved_file(&self, id: &Uuid) -> Result<Option<(PathBuf, SavedMedia)>, PortError> {
        let Some(record) = self.templates.get(id).map_err(internal)? else {
            return Ok(None);
        };
        Ok(record
            .session_media
            .map(|media| (saved_reply_file(&self.store, id), media)))
    }

    /// Attaches a file to the saved reply `id`, replacing any it had. Type and size are
    /// WhatsApp's (fact sheet §8), checked before the file is kept.
    pub async fn attach_file(
        &self,
        caller: &Caller,
        id: TemplateId,
        filename: String,
        mime_type: String,
        bytes: Vec<u8>,
    ) -> Result<SavedMedia, PortError> {
        allow(caller, Permission::EditTemplates)?;
        let (id, mut record) = self.record(id)?;
        if record.kind != TemplateKind::SessionReply {
            return Err(PortError::conflict(
                "only a saved session reply keeps a file; an approved template's media header is sent per campaign",
            ));
        }
        if has_buttons(&record) {
            return Err(PortError::invalid(
                "file",
                "session_reply.file_buttons",
                NO_BUTTONS_WITH_A_FILE,
            ));
        }
        let mime_type = bare_mime(&mime_type);
        let Some((kind, max)) = domain::whatsapp::graph::media_limit(&mime_type) else {
            return Err(PortError::invalid(
                "file",
                "media.type",
                format!("WhatsApp does not send files of type {mime_type:?}: attach a JPEG or PNG photo, an MP4 or 3GPP video, or a PDF, text or Office document"),
            ));
        };
        if !matches!(kind, "image" | "video" | "document") {
            return Err(PortError::invalid(
                "file",
                "session_reply.file_kind",
                format!("a saved reply sends a photo, a video or a document with its text as the caption; a {kind} carries no caption"),
            ));
        }
        let size = bytes.len() as u64;
        if size == 0 || size > max {
            return Err(PortError::invalid(
                "file",
                "media.size",
                format!(
                    "the file is {}; WhatsApp sends a {kind} of at most {}",
                    size_words(size),
                    size_words(max)
                ),
            ));
        }
        write_durably(&saved_reply_file(&self.store, &id), bytes)
            .await
            .map_err(|e| fault("keeping a saved reply's file failed", e))?;
        let media = SavedMedia {
            kind: kind.into(),
            mime_type,
            filename,
            size,
        };
        record.session_media = Some(media.clone());
        record.updated_at_ms = self.clock.now_ms();
        self.save_durably(id, &record).await?;
        Ok(media)
    }

    /// Takes the file off the saved reply `id` (the reply sends its text alone again).
    pub async fn detach_file(&self, caller: &Caller, id: TemplateId) -> Result<(), PortError> {
        allow(caller, Permission::EditTemplates)?;
        let (id, mut record) = self.record(id)?;
        if record.session_media.take().is_none() {
            return Ok(());
        }
        record.updated_at_ms = self.clock.now_ms();
        self.save_durably(id, &record).await?;
        // The record no longer names it; a file left behind by a crash here is harmless.
        let _ = tokio::fs::remove_file(saved_reply_file(&self.store, &id)).await;
        Ok(())
    }
}

fn refused(refusal: PortError) -> Response {
    let status =
        StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, refusal.to_string()).into_response()
}

fn template_id(id: &str) -> Option<TemplateId> {
    id.parse().ok()
}

/// Attaches the uploaded file.
pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(id) = template_id(&id) else {
        return (StatusCode::NOT_FOUND, "no such template").into_response();
    };
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
        .templates
        .attach_file(
            &caller,
            id,
            filename.trim().to_string(),
            mime_type,
            body.to_vec(),
        )
        .await
    {
        Ok(media) => Json(media).into_response(),
        Err(refusal) => refused(refusal),
    }
}

/// Detaches the file.
pub async fn detach(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    let Some(id) = template_id(&id) else {
        return (StatusCode::NOT_FOUND, "no such template").into_response();
    };
    match state.templates.detach_file(&caller, id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(refusal) => refused(refusal),
    }
}

/// The attached file, as the editor previews it.
pub async fn file(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(id) = template_id(&id) else {
        return (StatusCode::NOT_FOUND, "no such template").into_response();
    };
    let found = match state.templates.saved_file(&id.uuid()) {
        Ok(found) => found,
        Err(refusal) => return refused(refusal),
    };
    let Some((path, media)) = found else {
        return (StatusCode::NOT_FOUND, "this saved reply has no file").into_response();
    };
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return (
            StatusCode::NOT_FOUND,
            "the file is missing from the data directory",
        )
            .into_response();
    };
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&media.mime_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if media.kind == "document" {
        headers.insert(
            header::CONTENT_DISPOSITION,
            crate::contacts::files::attachment(&media.filename),
        );
    }
    response
}
