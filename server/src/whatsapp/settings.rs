//! [`app::ports::WhatsAppPort`]: Settings → WhatsApp (connections, "Test connection", test
//! sends, the sandbox's simulated users) and the webhook log, over storage, the provider clients
//! and the sandbox.

use std::sync::Arc;

use app::api::whatsapp::{
    ConnectionCheckReport, ConnectionSummary, InboundView, SentMessageView, WebhookLogEntry,
};
use app::ports::{refuse_problems, PortError};
use domain::access::{Caller, Permission};
use domain::ids::{ConnectionId, WebhookId};
use domain::whatsapp::connection::{
    draft_problems, sandbox_problems, ConnectionDraft, SandboxSettings,
};
use domain::whatsapp::graph::{validate, OutgoingMessage};
use uuid::Uuid;

use super::provider::{Providers, DIALOG360_BASE_URL, GRAPH_API_VERSION, GRAPH_BASE_URL};
use super::sandbox::{self, Sandbox};
use super::simulated_user::{self, LatestSent};
use crate::clock::Clock;
use crate::messaging::{limits, Dispatched, Dispatcher, Outbound};
use crate::ports::{allow, fault};
use crate::storage::connections::{
    mask, Connection, ConnectionKind, ConnectionSecrets, ConnectionStore, SandboxProfile,
};
use crate::storage::inbox::{Inbox, InboxState};
use crate::storage::messages::{MessageStore, Origin, OutboundRecord, SendState};
use crate::storage::senders::SenderStore;
use crate::storage::{internal, StorageError, Store};

/// How many rows the lists show.
const RECENT: usize = 50;

/// The service behind the WhatsApp settings.
pub struct WhatsAppService {
    store: Store,
    connections: ConnectionStore,
    messages: MessageStore,
    senders: SenderStore,
    dispatcher: Dispatcher,
    inbox: Inbox,
    providers: Providers,
    sandbox: Sandbox,
    latest_sent: LatestSent,
    clock: Arc<dyn Clock>,
    wake_worker: Arc<tokio::sync::Notify>,
    /// Base of the webhook URLs shown to the user.
    public_url: String,
}

impl WhatsAppService {
    /// Wires the service.
    #[allow(clippy::too_many_arguments, reason = "plain wiring of handles")]
    pub fn new(
        store: &Store,
        dispatcher: Dispatcher,
        inbox: Inbox,
        wake_worker: Arc<tokio::sync::Notify>,
        providers: Providers,
        sandbox: Sandbox,
        clock: Arc<dyn Clock>,
        public_url: Option<&str>,
    ) -> Result<Self, StorageError> {
        let public_url = public_url
            .unwrap_or(providers.self_url())
            .trim_end_matches('/')
            .to_string();
        Ok(Self {
            store: store.clone(),
            connections: ConnectionStore::open(store)?,
            messages: MessageStore::open(store)?,
            senders: SenderStore::open(store)?,
            dispatcher,
            inbox,
            providers,
            sandbox,
            latest_sent: LatestSent::open(store)?,
            clock,
            wake_worker,
            public_url,
        })
    }

    fn connection(&self, id: ConnectionId) -> Result<Connection, PortError> {
        self.connections
            .get(&id.uuid())
            .map_err(internal)?
            .ok_or_else(|| PortError::not_found(ConnectionId::WHAT))
    }

    /// Reads the number's throughput, tier and quality into the sender limits (a failure is
    /// logged and leaves the last known figures).
    async fn read_limits(&self, connection: &Connection) -> Result<(), PortError> {
        if let Ok(api) = self.providers.for_connection(connection) {
            let now = self.clock.now_ms();
            limits::refresh(&self.senders, api.as_ref(), &connection.id, now).await;
            self.store.flush().await.map_err(internal)?;
        }
        Ok(())
    }

    fn summary(&self, c: &Connection) -> ConnectionSummary {
        let (kind, kind_label) = match c.kind {
            ConnectionKind::CloudApi => ("cloud_api", "Meta Cloud API"),
            ConnectionKind::Dialog360 => ("dialog360", "360dialog"),
            ConnectionKind::Sandbox => ("sandbox", "Sandbox (simulated)"),
        };
        let mut facts = Vec::new();
        let mut fact = |label: &str, value: Option<&String>| {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                facts.push((label.to_string(), v.clone()));
            }
        };
        let base = match c.kind {
            ConnectionKind::Sandbox => format!("{}{}", self.providers.self_url(), c.base_url),
            _ => c.base_url.clone(),
        };
        fact("Base URL", Some(&base));
        fact("API version", c.api_version.as_ref());
        fact("WhatsApp Business Account id", c.waba_id.as_ref());
        fact("Phone-number id", c.phone_number_id.as_ref());
        if let Some(profile) = &c.sandbox {
            fact(
                "Simulated number",
                Some(&format!("+{}", profile.display_phone_number)),
            );
        }
        let s = &c.secrets;
        let secrets = [
            ("Access token", &s.access_token),
            ("App secret", &s.app_secret),
            ("Webhook verify token", &s.verify_token),
            ("D360-API-KEY", &s.api_key),
        ]
        .into_iter()
        .filter_map(|(label, v)| v.as_deref().map(|v| (label.to_string(), mask(v))))
        .collect();
        ConnectionSummary {
            id: c.id.to_string(),
            name: c.name.clone(),
            kind: kind.into(),
            kind_label: kind_label.into(),
            simulated: c.kind == ConnectionKind::Sandbox,
            facts,
            secrets,
            webhook_url: format!("{}/webhooks/whatsapp/{}", self.public_url, c.id),
            sandbox: c.sandbox.as_ref().map(|p| SandboxSettings {
                seed: p.seed,
                messages_per_second: p.messages_per_second,
                review_delay_ms: p.review_delay_ms,
                status_delay_ms: p.status_delay_ms,
                undeliverable_per_mille: p.undeliverable_per_mille,
                marketing_stop_per_mille: p.marketing_stop_per_mille,
                read_per_mille: p.read_per_mille,
                enforce_service_window: p.enforce_service_window,
                service_window_secs: p.service_window_secs,
                messaging_limit: p.messaging_limit.clone(),
            }),
        }
    }

    fn sent_view(&self, id: Uuid, record: OutboundRecord) -> Result<SentMessageView, PortError> {
        let status = match &record.wamid {
            Some(wamid) => self.messages.status(wamid).map_err(internal)?,
            None => None,
        };
        let (state, mut problem) = match &record.state {
            SendState::Sending => ("sending", None),
            SendState::Accepted => ("accepted", None),
            SendState::Refused { reason, .. } => ("refused", Some(reason.clone())),
            SendState::Unknown { reason } => ("unknown", Some(reason.clone())),
        };
        if let Some((code, details)) = status.as_ref().and_then(|s| s.errors.first()) {
            problem = Some(domain::whatsapp::errors::explain_failure(
                *code,
                details.as_deref(),
            ));
        }
        Ok(SentMessageView {
            id: id.to_string(),
            to: record.to,
            summary: record.summary,
            state: state.into(),
            delivery: status.map(|s| s.status.as_str().to_string()),
            problem,
            created_at_ms: record.created_at_ms,
        })
    }
}

fn non_empty(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_string())
}

#[async_trait::async_trait]
impl app::ports::WhatsAppPort for WhatsAppService {
    async fn connections(&self, caller: &Caller) -> Result<Vec<ConnectionSummary>, PortError> {
        allow(caller, Permission::View)?;
        let all = self.connections.list().map_err(internal)?;
        Ok(all.iter().map(|c| self.summary(c)).collect())
    }

    async fn add_connection(
        &self,
        caller: &Caller,
        draft: ConnectionDraft,
    ) -> Result<ConnectionSummary, PortError> {
        allow(caller, Permission::Configure)?;
        refuse_problems(draft_problems(&draft))?;
        let connection = match draft.kind.as_str() {
            "sandbox" => sandbox::new_connection(
                draft.name.trim(),
                SandboxProfile::default(),
                self.clock.as_ref(),
            ),
            kind => {
                let cloud = kind == "cloud_api";
                Connection {
                    id: Uuid::now_v7(),
                    name: draft.name.trim().to_string(),
                    kind: if cloud {
                        ConnectionKind::CloudApi
                    } else {
                        ConnectionKind::Dialog360
                    },
                    base_url: non_empty(&draft.base_url).unwrap_or_else(|| {
                        if cloud {
                            GRAPH_BASE_URL
                        } else {
                            DIALOG360_BASE_URL
                        }
                        .to_string()
                    }),
                    api_version: cloud.then(|| {
                        non_empty(&draft.api_version).unwrap_or_else(|| GRAPH_API_VERSION.into())
                    }),
                    waba_id: cloud.then(|| draft.waba_id.trim().to_string()),
                    phone_number_id: cloud.then(|| draft.phone_number_id.trim().to_string()),
                    secrets: ConnectionSecrets {
                        access_token: non_empty(&draft.access_token).filter(|_| cloud),
                        app_secret: non_empty(&draft.app_secret).filter(|_| cloud),
                        verify_token: non_empty(&draft.verify_token),
                        api_key: non_empty(&draft.api_key).filter(|_| !cloud),
                    },
                    created_at_ms: self.clock.now_ms(),
                    sandbox: None,
                }
            }
        };
        self.connections.save(&connection).map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        tracing::info!(connection = %connection.name, kind = ?connection.kind, "connection added");
        // The pace and the tier campaigns plan with come from the number from the start.
        self.read_limits(&connection).await?;
        Ok(self.summary(&connection))
    }

    async fn delete_connection(&self, caller: &Caller, id: ConnectionId) -> Result<(), PortError> {
        allow(caller, Permission::Configure)?;
        let connection = self.connection(id)?;
        self.connections.delete(&connection.id).map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        tracing::info!(connection = %connection.name, "connection deleted");
        Ok(())
    }

    async fn configure_sandbox(
        &self,
        caller: &Caller,
        id: ConnectionId,
        settings: SandboxSettings,
    ) -> Result<(), PortError> {
        allow(caller, Permission::Configure)?;
        refuse_problems(sandbox_problems(&settings))?;
        let mut connection = self.connection(id)?;
        let Some(profile) = connection.sandbox.as_mut() else {
            return Err(PortError::conflict(
                "only sandbox connections have simulation settings",
            ));
        };
        *profile = SandboxProfile {
            seed: settings.seed,
            messages_per_second: settings.messages_per_second,
            review_delay_ms: settings.review_delay_ms,
            status_delay_ms: settings.status_delay_ms,
            undeliverable_per_mille: settings.undeliverable_per_mille,
            marketing_stop_per_mille: settings.marketing_stop_per_mille,
            read_per_mille: settings.read_per_mille,
            enforce_service_window: settings.enforce_service_window,
            service_window_secs: settings.service_window_secs,
            display_phone_number: profile.display_phone_number.clone(),
            messaging_limit: settings.messaging_limit.clone(),
        };
        self.connections.save(&connection).map_err(internal)?;
        self.store.flush().await.map_err(internal)?;
        // The simulated number changed as Meta would change a real one: read it again.
        self.read_limits(&connection).await
    }

    async fn check_connection(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<ConnectionCheckReport, PortError> {
        allow(caller, Permission::Configure)?;
        let connection = self.connection(id)?;
        let outcome = match self.providers.for_connection(&connection) {
            Ok(client) => client.check().await,
            Err(e) => Err(e),
        };
        Ok(match outcome {
            Ok(check) => ConnectionCheckReport {
                ok: true,
                summary: "Connected: WhatsApp answered with these details.".into(),
                facts: check.facts,
            },
            Err(error) => {
                tracing::warn!(connection = %connection.name, %error, "connection test failed");
                ConnectionCheckReport {
                    ok: false,
                    summary: error.explain(),
                    facts: Vec::new(),
                }
            }
        })
    }

    async fn send_test(
        &self,
        caller: &Caller,
        id: ConnectionId,
        to: String,
        text: String,
    ) -> Result<SentMessageView, PortError> {
        allow(caller, Permission::SendMessages)?;
        let connection = self.connection(id)?;
        let message = OutgoingMessage::text(to.trim(), text.clone());
        if let Some(problem) = validate::outgoing_message(&message).first() {
            return Err(PortError::invalid(
                "to",
                "message.invalid",
                problem.message.clone(),
            ));
        }
        let client = self
            .providers
            .for_connection(&connection)
            .map_err(|e| e.refusal())?;
        let gate = self.dispatcher.current_gate(&connection.id);
        let outbound = Outbound {
            origin: Origin::TestSend,
            connection: connection.id,
            message,
            template_category: None,
            summary: text.chars().take(80).collect(),
        };
        let attempt = match self
            .dispatcher
            .send(client.as_ref(), &gate, outbound, None, |_| Ok(true))
            .await
        {
            Dispatched::Answered { message, .. } => message,
            Dispatched::Refused(refusal) => {
                return Err(PortError::conflict(format!(
                    "Not sent: {}. Send them a template instead, or wait until they write.",
                    refusal.explain()
                )))
            }
            Dispatched::NotSent => {
                return Err(fault(
                    "a test send was not sent",
                    "its ledger entry could not be written",
                ))
            }
        };
        self.store.flush().await.map_err(internal)?;
        let settled = self
            .dispatcher
            .ledger()
            .send(&attempt)
            .map_err(internal)?
            .ok_or_else(|| fault("a test send has no ledger entry", attempt))?;
        self.sent_view(attempt, settled)
    }

    async fn recent_sends(
        &self,
        caller: &Caller,
        id: ConnectionId,
    ) -> Result<Vec<SentMessageView>, PortError> {
        allow(caller, Permission::View)?;
        let connection = id.uuid();
        let sends = self
            .messages
            .recent_sends(connection, RECENT)
            .map_err(internal)?;
        sends
            .into_iter()
            .map(|(i, r)| self.sent_view(i, r))
            .collect()
    }

    async fn simulate_inbound(
        &self,
        caller: &Caller,
        id: ConnectionId,
        from: String,
        kind: String,
        text: String,
    ) -> Result<(), PortError> {
        allow(caller, Permission::SendMessages)?;
        let wa_id: String = from.chars().filter(char::is_ascii_digit).collect();
        let what = simulated_user::message(&kind, &text, &self.latest_sent, &id.uuid(), &wa_id)?;
        self.sandbox
            .simulate_inbound(id.uuid(), &from, what)
            .await
            .map(drop)
            .map_err(PortError::Conflict)
    }

    async fn recent_inbound(&self, caller: &Caller) -> Result<Vec<InboundView>, PortError> {
        allow(caller, Permission::View)?;
        let all = self.messages.recent_inbound(RECENT).map_err(internal)?;
        Ok(all
            .into_iter()
            .map(|(_, r)| InboundView {
                from: r.from,
                kind: r.kind,
                text: r.text.unwrap_or_default(),
                timestamp: r.timestamp,
            })
            .collect())
    }

    async fn webhook_log(&self, caller: &Caller) -> Result<Vec<WebhookLogEntry>, PortError> {
        allow(caller, Permission::View)?;
        let names: std::collections::HashMap<Uuid, String> = self
            .connections
            .list()
            .map_err(internal)?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let entries = self.inbox.recent(RECENT).map_err(internal)?;
        Ok(entries
            .into_iter()
            .map(|(id, e)| {
                let (state, events, error) = match e.state {
                    InboxState::Pending => ("pending", None, None),
                    InboxState::Processed { events, .. } => ("processed", Some(events), None),
                    InboxState::Failed { error, .. } => ("failed", None, Some(error)),
                };
                WebhookLogEntry {
                    id: id.to_string(),
                    connection: names
                        .get(&e.connection_id)
                        .cloned()
                        .unwrap_or_else(|| e.connection_id.to_string()),
                    received_at_ms: e.received_at_ms,
                    size: e.size,
                    state: state.into(),
                    events,
                    error,
                }
            })
            .collect())
    }

    async fn reprocess_webhook(&self, caller: &Caller, id: WebhookId) -> Result<(), PortError> {
        allow(caller, Permission::Configure)?;
        if !self.inbox.requeue(&id.uuid()).map_err(internal)? {
            return Err(PortError::not_found(WebhookId::WHAT));
        }
        self.store.flush().await.map_err(internal)?;
        self.wake_worker.notify_one();
        Ok(())
    }
}
