//! The one interface the rest of Herald uses to talk to WhatsApp: [`WhatsAppApi`]. Meta's Cloud
//! API, 360dialog and the built-in sandbox are all served by [`GraphClient`] — they speak the same
//! JSON and differ only in base URL, path layout and credentials ([`Dialect`]) — so the sandbox
//! exercises exactly the code that talks to Meta.

mod client;
mod error;

use std::sync::Arc;
use std::time::Duration;

use domain::whatsapp::graph::{
    MediaInfo, MediaUploaded, OutgoingMessage, PhoneNumberInfo, SendResponse, TemplateCreated,
    TemplateDefinition, TemplateDetails, TemplateEdit, TemplatePage,
};

pub use client::{Dialect, GraphClient};
pub use error::ApiError;

use crate::storage::connections::{Connection, ConnectionKind};

/// Default Graph API host.
pub const GRAPH_BASE_URL: &str = "https://graph.facebook.com";
/// Default Graph API version for new connections.
pub const GRAPH_API_VERSION: &str = "v23.0";
/// Default 360dialog host.
pub const DIALOG360_BASE_URL: &str = "https://waba-v2.360dialog.io";
/// Path under Herald's own address where the sandbox serves its Graph API.
pub const SANDBOX_PATH: &str = "/sandbox/graph";

/// A file to upload.
pub struct MediaFile {
    /// File name shown to recipients of documents.
    pub filename: String,
    /// MIME type; decides the media kind and size limit.
    pub mime_type: String,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// The result of a harmless read used to check a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionCheck {
    /// What was read, as label/value pairs for the UI (never secrets).
    pub facts: Vec<(String, String)>,
}

/// Every WhatsApp operation Herald performs. Implementations classify failures into
/// [`ApiError`], including the *unknown outcome* of a send whose answer never arrived.
#[async_trait::async_trait]
pub trait WhatsAppApi: Send + Sync {
    /// Sends one message; `Ok` means accepted (delivery comes later by webhook).
    async fn send(&self, message: &OutgoingMessage) -> Result<SendResponse, ApiError>;
    /// A harmless authenticated read proving the credentials and ids work.
    async fn check(&self) -> Result<ConnectionCheck, ApiError>;
    /// Quality rating, messaging-limit tier and throughput level of the sender number.
    async fn phone_number(&self) -> Result<PhoneNumberInfo, ApiError>;
    /// Submits a template for review.
    async fn create_template(
        &self,
        definition: &TemplateDefinition,
    ) -> Result<TemplateCreated, ApiError>;
    /// One page of templates; `after` is the previous page's `after` cursor.
    async fn list_templates(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<TemplatePage, ApiError>;
    /// One template by id.
    async fn template(&self, id: &str) -> Result<TemplateDetails, ApiError>;
    /// Replaces a template's components, category or TTL.
    async fn edit_template(&self, id: &str, edit: &TemplateEdit) -> Result<(), ApiError>;
    /// Deletes a template: every language of `name`, or only `id` when given.
    async fn delete_template(&self, name: &str, id: Option<&str>) -> Result<(), ApiError>;
    /// Uploads a file for use in sends.
    async fn upload_media(&self, file: MediaFile) -> Result<MediaUploaded, ApiError>;
    /// The download URL and facts of a media id.
    async fn media(&self, id: &str) -> Result<MediaInfo, ApiError>;
    /// Downloads from a URL returned by [`WhatsAppApi::media`], refusing more than `max_bytes`.
    async fn download_media(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, ApiError>;
}

/// Builds the right client for a stored connection.
#[derive(Clone)]
pub struct Providers {
    http: reqwest::Client,
    self_url: Arc<str>,
}

impl Providers {
    /// `self_url` is how Herald reaches itself (for sandbox connections), e.g. `http://127.0.0.1:8080`.
    pub fn new(self_url: &str) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            self_url: self_url.trim_end_matches('/').into(),
        })
    }

    /// Herald's own base URL.
    pub fn self_url(&self) -> &str {
        &self.self_url
    }

    /// The shared HTTP client (connection pool).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A client for `connection`, or a configuration error naming what is missing.
    pub fn for_connection(
        &self,
        connection: &Connection,
    ) -> Result<Arc<dyn WhatsAppApi>, ApiError> {
        let secrets = &connection.secrets;
        let need = |value: &Option<String>, what: &str| {
            value
                .clone()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| ApiError::Config(format!("this connection has no {what}")))
        };
        let dialect = match connection.kind {
            ConnectionKind::CloudApi | ConnectionKind::Sandbox => {
                let base_url = if connection.kind == ConnectionKind::Sandbox {
                    format!("{}{SANDBOX_PATH}", self.self_url)
                } else {
                    connection.base_url.clone()
                };
                Dialect::Graph {
                    base_url,
                    version: connection
                        .api_version
                        .clone()
                        .unwrap_or_else(|| GRAPH_API_VERSION.into()),
                    phone_number_id: need(&connection.phone_number_id, "phone-number id")?,
                    waba_id: need(&connection.waba_id, "WhatsApp Business Account id")?,
                    access_token: need(&secrets.access_token, "access token")?,
                }
            }
            ConnectionKind::Dialog360 => Dialect::Dialog360 {
                base_url: connection.base_url.clone(),
                api_key: need(&secrets.api_key, "D360-API-KEY")?,
            },
        };
        Ok(Arc::new(GraphClient::new(self.http.clone(), dialect)))
    }
}
