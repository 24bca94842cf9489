//! Wiring: open storage, build services, bind the listener, run until told to stop, flush.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use domain::access::Caller;
use domain::ids::ConnectionId;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::accounts::Accounts;
use crate::automations::FollowUps;
use crate::campaigns::{CampaignService, Engine, EngineConfig};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::contacts::importer::Importer;
use crate::contacts::ContactsService;
use crate::conversations::ConversationService;
use crate::http::{self, metrics::HttpMetrics, throttle::LoginThrottle, AppState};
use crate::messaging::threads::Threads;
use crate::messaging::Dispatcher;
use crate::storage::Store;
use crate::system::SystemService;
use crate::templates::TemplateService;
use crate::whatsapp::intake::Webhooks;
use crate::whatsapp::provider::Providers;
use crate::whatsapp::sandbox::Sandbox;
use crate::whatsapp::settings::WhatsAppService;
use crate::whatsapp::worker::WebhookWorker;

/// How often every connection's templates are read back from its WhatsApp Business Account
/// (webhooks deliver changes at once; this catches missed ones and templates made elsewhere).
const TEMPLATE_SYNC_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// How often expired sessions and idle throttle keys are cleared.
const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// A built, bound, not yet running Herald.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    worker: WebhookWorker,
}

impl Application {
    /// Opens storage and binds the listen address, failing with a one-line reason.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with a chosen clock (tests).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = Store::open(&config.data_dir)
            .with_context(|| format!("cannot open data directory {}", config.data_dir.display()))?;
        let accounts = Accounts::new(&store, clock.clone())?;
        let webhooks = Webhooks::new(&store, clock.clone())?;
        let threads = Threads::new(&store)?;
        let mut worker =
            WebhookWorker::new(&store, webhooks.clone(), threads.clone(), clock.clone())?
                .with_stop_words(config.stop_words.clone())?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let self_url = self_url(listener.local_addr()?);
        let providers = Providers::new(&self_url)?;
        let sandbox = Sandbox::new(&store, clock.clone(), providers.http().clone(), &self_url)?;
        if let Some(created) = Sandbox::provision_first_run(&webhooks.connections, clock.as_ref())?
        {
            tracing::info!(connection = %created.name, "created the sandbox connection for a first try");
        }
        let dispatcher = Dispatcher::new(&store, threads.clone(), clock.clone())?;
        let whatsapp = WhatsAppService::new(
            &store,
            dispatcher.clone(),
            webhooks.inbox.clone(),
            webhooks.wake.clone(),
            providers.clone(),
            sandbox.clone(),
            clock.clone(),
            config.public_url.as_deref(),
        )?;
        let follow_ups = FollowUps::new(
            &store,
            webhooks.connections.clone(),
            providers.clone(),
            dispatcher.clone(),
            clock.clone(),
            config.stop_words.clone(),
        )?;
        worker.subscribe(Arc::new(follow_ups.clone()));
        let importer = Importer::new(&store, clock.clone())?;
        let contacts = ContactsService::new(&store, importer, clock.clone())?;
        let conversations = ConversationService::new(
            &store,
            threads,
            webhooks.connections.clone(),
            dispatcher.clone(),
            providers.clone(),
            sandbox.clone(),
            clock.clone(),
        )?;
        let engine = Engine::new(
            &store,
            contacts.clone(),
            providers.clone(),
            dispatcher,
            clock.clone(),
            EngineConfig {
                unknown_after_ms: i64::try_from(config.unknown_after_secs * 1000)
                    .unwrap_or(600_000),
                overdue_grace_ms: i64::try_from(config.overdue_grace_secs * 1000)
                    .unwrap_or(900_000),
                unthrottled: config.unthrottled_for_benchmarks,
            },
        )?;
        let campaigns = CampaignService::new(&store, contacts.clone(), engine, clock.clone())?;
        let templates = TemplateService::new(&store, providers.clone(), clock.clone())?;
        let services = app::ports::Services {
            campaigns: Arc::new(campaigns.clone()),
            contacts: Arc::new(contacts.clone()),
            conversations: Arc::new(conversations.clone()),
            system: Arc::new(SystemService::new(store.clone(), clock.clone())),
            whatsapp: Arc::new(whatsapp),
            templates: Arc::new(templates.clone()),
        };
        let state = AppState {
            leptos: LeptosOptions::builder()
                .output_name("herald")
                .site_pkg_dir("assets")
                .build(),
            config: Arc::new(config),
            store,
            accounts,
            throttle: Arc::new(LoginThrottle::default()),
            metrics: Arc::new(HttpMetrics::default()),
            services,
            assets: http::assets::manifest(),
            clock,
            webhooks,
            providers,
            sandbox,
            contacts,
            campaigns,
            conversations,
            templates,
            follow_ups,
        };
        Ok(Self {
            listener,
            state,
            worker,
        })
    }

    /// Handles to the running state, for tests that set up data the UI cannot create yet.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The webhook worker, for tests that drain the inbox deterministically.
    pub fn webhook_worker(&self) -> WebhookWorker {
        self.worker.clone()
    }

    /// The bound address (useful when the configured port was 0).
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` resolves, then stops background work and flushes storage.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            worker,
        } = self;
        if state.assets.hydration.is_none() {
            tracing::warn!(
                "this binary was built without the browser bundle; pages will not be interactive"
            );
        }
        let stop = CancellationToken::new();
        let sweeper = tokio::spawn(sweep(state.clone(), stop.clone()));
        let webhook_worker = tokio::spawn(worker.run(stop.clone()));
        let sandbox_reviews = tokio::spawn(state.sandbox.clone().run_reviews(stop.clone()));
        // Plays queued status webhooks, including those the last stop cut off.
        let sandbox_player = tokio::spawn(state.sandbox.clone().run_player(stop.clone()));
        let template_sync = tokio::spawn(sync_templates(state.clone(), stop.clone()));
        let importer = tokio::spawn(state.contacts.importer().clone().run(stop.clone()));
        // Customers' files, those planned before the last stop first.
        let media = tokio::spawn(state.conversations.media().clone().run(stop.clone()));
        // Campaign follow-ups: replies' branches and the ends of waits, those due while
        // Herald was down first.
        let follow_ups = tokio::spawn(state.follow_ups.clone().run(stop.clone()));
        // The engine stops first, while the server still answers: sends under way (to the
        // sandbox, too) finish and are recorded instead of being cut off.
        let engine_stop = CancellationToken::new();
        let engine = tokio::spawn(state.campaigns.engine().clone().run(engine_stop.clone()));
        let router = http::router(state.clone());
        let timeouts = state.config.timeouts;
        http::serve::serve(listener, router, timeouts, async move {
            shutdown.await;
            engine_stop.cancel();
            let _ = engine.await;
        })
        .await
        .context("server failed")?;
        stop.cancel();
        let _ = sweeper.await;
        let _ = webhook_worker.await;
        let _ = sandbox_reviews.await;
        let _ = sandbox_player.await;
        let _ = template_sync.await;
        let _ = importer.await;
        let _ = media.await;
        let _ = follow_ups.await;
        state.sandbox.shutdown().await;
        state
            .store
            .flush()
            .await
            .context("flushing storage at shutdown")?;
        tracing::info!("storage flushed; stopped");
        Ok(())
    }
}

/// How Herald reaches itself (the sandbox's clients and webhooks): the bound address, with an
/// unspecified IP replaced by loopback.
fn self_url(bound: SocketAddr) -> String {
    let ip = match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, bound.port()))
}

/// Background job: reads every connection's templates, and its limits (throughput, messaging
/// limit, quality) when they are stale, every [`TEMPLATE_SYNC_INTERVAL`].
async fn sync_templates(state: AppState, stop: CancellationToken) {
    let mut tick = tokio::time::interval(TEMPLATE_SYNC_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The first tick fires at once; let the server come up first.
    tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                let connections = match state.webhooks.connections.list() {
                    Ok(all) => all,
                    Err(error) => {
                        tracing::error!(%error, "template sync cannot read connections");
                        continue;
                    }
                };
                for connection in connections {
                    state.campaigns.engine().refresh_limits(&connection.id).await;
                    match state.services.templates.sync(&Caller::System, ConnectionId(connection.id)).await {
                        Ok(read) => tracing::debug!(connection = %connection.name, read, "templates synced"),
                        Err(error) => tracing::warn!(connection = %connection.name, %error, "template sync failed"),
                    }
                }
            }
        }
    }
}

/// Background job: hourly removal of expired sessions and idle throttle keys.
async fn sweep(state: AppState, stop: CancellationToken) {
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {
                match state.accounts.purge_expired_sessions() {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "expired sessions removed"),
                    Err(error) => tracing::error!(%error, "session sweep failed"),
                }
                state.throttle.forget_idle();
            }
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
