//! [`GraphClient`]: the reqwest (rustls) implementation of [`WhatsAppApi`] for every provider.

use domain::whatsapp::graph::{
    media_limit, GraphErrorBody, MediaInfo, MediaUploaded, OutgoingMessage, PhoneNumberInfo,
    SendResponse, Success, TemplateCreated, TemplateDefinition, TemplateDetails, TemplateEdit,
    TemplatePage, PHONE_NUMBER_FIELDS,
};
use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;

use super::error::transport;
use super::{ApiError, ConnectionCheck, MediaFile, WhatsAppApi};

/// Template fields read back from Meta.
const TEMPLATE_FIELDS: &str = "id,name,language,status,category,parameter_format,components,\
rejected_reason,quality_score,previous_category,message_send_ttl_seconds";
/// Most of an unexpected body kept for the log.
const BODY_EXCERPT: usize = 300;

/// Where requests go and how they authenticate. Holds credentials, so it has no `Debug`.
pub enum Dialect {
    /// Meta's Graph API (or the sandbox): `{base}/{version}/{id}/…`, `Authorization: Bearer`.
    Graph {
        /// E.g. `https://graph.facebook.com`.
        base_url: String,
        /// E.g. `v23.0`.
        version: String,
        /// The sender number's id.
        phone_number_id: String,
        /// The WhatsApp Business Account id (templates).
        waba_id: String,
        /// System-user access token.
        access_token: String,
    },
    /// 360dialog: `{base}/messages`, `/v1/configs/templates`, `D360-API-KEY` header.
    Dialog360 {
        /// E.g. `https://waba-v2.360dialog.io`.
        base_url: String,
        /// The channel's API key.
        api_key: String,
    },
}

/// A WhatsApp API client for one sender number.
pub struct GraphClient {
    http: reqwest::Client,
    dialect: Dialect,
}

impl GraphClient {
    /// A client over a shared connection pool.
    pub fn new(http: reqwest::Client, dialect: Dialect) -> Self {
        Self { http, dialect }
    }

    fn base(&self) -> &str {
        match &self.dialect {
            Dialect::Graph { base_url, .. } | Dialect::Dialog360 { base_url, .. } => {
                base_url.trim_end_matches('/')
            }
        }
    }

    /// `{base}/{version}/{path}` on Graph, `{base}/{path}` on 360dialog.
    fn url(&self, path: &str) -> String {
        match &self.dialect {
            Dialect::Graph { version, .. } => format!("{}/{version}/{path}", self.base()),
            Dialect::Dialog360 { .. } => format!("{}/{path}", self.base()),
        }
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let builder = self.http.request(method, url);
        match &self.dialect {
            Dialect::Graph { access_token, .. } => builder.bearer_auth(access_token),
            Dialect::Dialog360 { api_key, .. } => builder.header("D360-API-KEY", api_key),
        }
    }

    /// Sends and reads the answer; `mutating` requests whose answer is lost are *unknown*.
    async fn call<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        mutating: bool,
    ) -> Result<T, ApiError> {
        let response = request.send().await.map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| match transport(&e) {
            ApiError::Unreachable(why) => ApiError::Unknown(why),
            other => other,
        })?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|e| ApiError::Protocol(e.to_string()));
        }
        if let Ok(graph) = serde_json::from_slice::<GraphErrorBody>(&body) {
            return Err(ApiError::refused(status, graph.error));
        }
        if mutating && matches!(status, 502 | 504) {
            return Err(ApiError::Unknown(format!(
                "HTTP {status} from a gateway between Herald and WhatsApp"
            )));
        }
        let text = String::from_utf8_lossy(&body);
        Err(ApiError::Http {
            status,
            body: text.chars().take(BODY_EXCERPT).collect(),
        })
    }

    async fn succeed(&self, request: RequestBuilder) -> Result<(), ApiError> {
        let answer: Success = self.call(request, true).await?;
        if answer.success {
            Ok(())
        } else {
            Err(ApiError::Protocol("the API answered success: false".into()))
        }
    }

    fn graph_ids(&self) -> Option<(&str, &str)> {
        match &self.dialect {
            Dialect::Graph {
                phone_number_id,
                waba_id,
                ..
            } => Some((phone_number_id, waba_id)),
            Dialect::Dialog360 { .. } => None,
        }
    }
}

#[async_trait::async_trait]
impl WhatsAppApi for GraphClient {
    async fn send(&self, message: &OutgoingMessage) -> Result<SendResponse, ApiError> {
        let url = match self.graph_ids() {
            Some((phone, _)) => self.url(&format!("{phone}/messages")),
            None => self.url("messages"),
        };
        self.call(self.request(Method::POST, &url).json(message), true)
            .await
    }

    async fn check(&self) -> Result<ConnectionCheck, ApiError> {
        if self.graph_ids().is_some() {
            let info = self.phone_number().await?;
            let mut facts = vec![("Phone-number id".to_string(), info.id.clone())];
            let mut add = |label: &str, value: Option<&str>| {
                if let Some(value) = value {
                    facts.push((label.to_string(), value.to_string()));
                }
            };
            add("Number", info.display_phone_number.as_deref());
            add("Display name", info.verified_name.as_deref());
            add("Quality rating", info.quality_rating.as_deref());
            add("Messaging limit", info.messaging_limit());
            add(
                "Throughput",
                info.throughput.as_ref().map(|t| t.level.as_str()),
            );
            return Ok(ConnectionCheck { facts });
        }
        let webhook: serde_json::Value = self
            .call(
                self.request(Method::GET, &self.url("v1/configs/webhook")),
                false,
            )
            .await?;
        let url = webhook
            .get("url")
            .and_then(|u| u.as_str())
            .unwrap_or("(none set)");
        Ok(ConnectionCheck {
            facts: vec![("Webhook URL at 360dialog".into(), url.to_string())],
        })
    }

    async fn phone_number(&self) -> Result<PhoneNumberInfo, ApiError> {
        let (phone, _) = self.graph_ids().ok_or(ApiError::Unsupported(
            "360dialog does not expose phone-number quality and limits through its API",
        ))?;
        let request = self
            .request(Method::GET, &self.url(phone))
            .query(&[("fields", PHONE_NUMBER_FIELDS)]);
        self.call(request, false).await
    }

    async fn create_template(
        &self,
        definition: &TemplateDefinition,
    ) -> Result<TemplateCreated, ApiError> {
        let url = match self.graph_ids() {
            Some((_, waba)) => self.url(&format!("{waba}/message_templates")),
            None => self.url("v1/configs/templates"),
        };
        self.call(self.request(Method::POST, &url).json(definition), true)
            .await
    }

    async fn list_templates(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<TemplatePage, ApiError> {
        let limit = limit.to_string();
        match self.graph_ids() {
            Some((_, waba)) => {
                let mut query = vec![("fields", TEMPLATE_FIELDS), ("limit", limit.as_str())];
                if let Some(after) = after {
                    query.push(("after", after));
                }
                let url = self.url(&format!("{waba}/message_templates"));
                self.call(self.request(Method::GET, &url).query(&query), false)
                    .await
            }
            None => {
                // 360dialog pages by offset; the "cursor" Herald hands out is that offset.
                let offset = after.unwrap_or("0");
                let url = self.url("v1/configs/templates");
                let request = self
                    .request(Method::GET, &url)
                    .query(&[("limit", limit.as_str()), ("offset", offset)]);
                let body: serde_json::Value = self.call(request, false).await?;
                dialog360_page(body, offset, &limit)
            }
        }
    }

    async fn template(&self, id: &str) -> Result<TemplateDetails, ApiError> {
        match self.graph_ids() {
            Some(_) => {
                let request = self
                    .request(Method::GET, &self.url(id))
                    .query(&[("fields", TEMPLATE_FIELDS)]);
                self.call(request, false).await
            }
            None => {
                let url = self.url(&format!("v1/configs/templates/{id}"));
                self.call(self.request(Method::GET, &url), false).await
            }
        }
    }

    async fn edit_template(&self, id: &str, edit: &TemplateEdit) -> Result<(), ApiError> {
        if self.graph_ids().is_none() {
            return Err(ApiError::Unsupported(
                "360dialog cannot edit templates in place; delete and create it again",
            ));
        }
        self.succeed(self.request(Method::POST, &self.url(id)).json(edit))
            .await
    }

    async fn delete_template(&self, name: &str, id: Option<&str>) -> Result<(), ApiError> {
        match self.graph_ids() {
            Some((_, waba)) => {
                let mut query = vec![("name", name)];
                if let Some(id) = id {
                    query.push(("hsm_id", id));
                }
                let url = self.url(&format!("{waba}/message_templates"));
                self.succeed(self.request(Method::DELETE, &url).query(&query))
                    .await
            }
            None => {
                let url = self.url(&format!("v1/configs/templates/{name}"));
                self.call::<serde_json::Value>(self.request(Method::DELETE, &url), true)
                    .await
                    .map(drop)
            }
        }
    }

    async fn upload_media(&self, file: MediaFile) -> Result<MediaUploaded, ApiError> {
        let Some((kind, max)) = media_limit(&file.mime_type) else {
            return Err(ApiError::Config(format!(
                "WhatsApp does not accept files of type {}",
                file.mime_type
            )));
        };
        if file.bytes.len() as u64 > max {
            return Err(ApiError::Config(format!(
                "{kind} files may be at most {} MB",
                max / (1024 * 1024)
            )));
        }
        let part = reqwest::multipart::Part::bytes(file.bytes)
            .file_name(file.filename)
            .mime_str(&file.mime_type)
            .map_err(|_| ApiError::Config("the MIME type is malformed".into()))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", file.mime_type)
            .part("file", part);
        let url = match self.graph_ids() {
            Some((phone, _)) => self.url(&format!("{phone}/media")),
            None => self.url("media"),
        };
        self.call(self.request(Method::POST, &url).multipart(form), true)
            .await
    }

    async fn media(&self, id: &str) -> Result<MediaInfo, ApiError> {
        let mut request = self.request(Method::GET, &self.url(id));
        if let Some((phone, _)) = self.graph_ids() {
            request = request.query(&[("phone_number_id", phone)]);
        }
        self.call(request, false).await
    }

    async fn download_media(&self, url: &str, max_bytes: u64) -> Result<Vec<u8>, ApiError> {
        let url = match &self.dialect {
            Dialect::Graph { .. } => url.to_string(),
            // 360dialog serves Meta's media path on its own host.
            Dialect::Dialog360 { .. } => match url
                .find("://")
                .and_then(|s| url[s + 3..].find('/').map(|p| s + 3 + p))
            {
                Some(path_start) => format!("{}{}", self.base(), &url[path_start..]),
                None => return Err(ApiError::Protocol("media URL without a path".into())),
            },
        };
        let mut response = self
            .request(Method::GET, &url)
            // A 100 MB document on a slow line outlasts the API calls' 30 s.
            .timeout(Duration::from_secs(600))
            .send()
            .await
            .map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(ApiError::Http {
                status,
                body: "media download refused; fetch a fresh URL".into(),
            });
        }
        let too_big = || ApiError::Protocol(format!("the file is larger than {max_bytes} bytes"));
        if response.content_length().is_some_and(|l| l > max_bytes) {
            return Err(too_big());
        }
        // Read piece by piece so a server that lies about the length cannot fill the memory.
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| transport(&e))? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// Reads 360dialog's template list (`waba_templates` in some responses, `data` in others) into
/// Graph's page shape, with the next offset as the `after` cursor.
fn dialog360_page(
    mut body: serde_json::Value,
    offset: &str,
    limit: &str,
) -> Result<TemplatePage, ApiError> {
    let key = if body.get("waba_templates").is_some() {
        "waba_templates"
    } else {
        "data"
    };
    let items = body
        .get_mut(key)
        .map(serde_json::Value::take)
        .unwrap_or_default();
    let data: Vec<TemplateDetails> =
        serde_json::from_value(items).map_err(|e| ApiError::Protocol(e.to_string()))?;
    let next = offset.parse::<u64>().unwrap_or(0) + data.len() as u64;
    let full = data.len() as u64 >= limit.parse::<u64>().unwrap_or(u64::MAX);
    Ok(TemplatePage {
        paging: full.then(|| domain::whatsapp::graph::Paging {
            cursors: Some(domain::whatsapp::graph::Cursors {
                before: None,
                after: Some(next.to_string()),
            }),
            next: None,
            previous: None,
        }),
        data,
    })
}
