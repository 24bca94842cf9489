//! The axum application: routes, middleware order and the Leptos wiring.
//!
//! Request path, outermost first: tracing → security headers → [`csp`] →
//! [`access::refuse_non_canonical`] →
//! [`csrf`] → [`session_gate`] → [`page_guard`] →
//! routes (with [`metrics`] on every matched route). Pages and server functions are registered by
//! leptos_axum with [`app::ports::Services`] and the [`app::AssetManifest`] in context.

pub mod access;
pub mod assets;
mod auth_forms;
pub mod cookies;
pub mod csp;
pub mod csrf;
mod health;
pub mod metrics;
pub mod page_guard;
pub mod serve;
pub mod session_gate;
pub mod throttle;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, FromRef, Request};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::LeptosRoutes;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::accounts::Accounts;
use crate::campaigns;
use crate::clock::Clock;
use crate::config::Config;
use crate::contacts;
use crate::storage::Store;
use crate::whatsapp::intake;

/// Everything a handler may need; cloned per request (all fields are cheap handles).
#[derive(Clone)]
pub struct AppState {
    /// Leptos' settings (output name and asset directory).
    pub leptos: LeptosOptions,
    /// Validated settings.
    pub config: Arc<Config>,
    /// The database.
    pub store: Store,
    /// Account service.
    pub accounts: Accounts,
    /// Sign-in rate limits.
    pub throttle: Arc<throttle::LoginThrottle>,
    /// Request metrics.
    pub metrics: Arc<metrics::HttpMetrics>,
    /// Ports handed to server functions.
    pub services: app::ports::Services,
    /// URLs of the embedded assets.
    pub assets: app::AssetManifest,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// WhatsApp webhook intake.
    pub webhooks: crate::whatsapp::intake::Webhooks,
    /// Builds WhatsApp clients for connections.
    pub providers: crate::whatsapp::provider::Providers,
    /// The built-in fake Graph API.
    pub sandbox: crate::whatsapp::sandbox::Sandbox,
    /// Contacts, imports and segments.
    pub contacts: crate::contacts::ContactsService,
    /// Campaigns and their engine.
    pub campaigns: crate::campaigns::CampaignService,
    /// The inbox, for its event stream.
    pub conversations: crate::conversations::ConversationService,
    /// Templates, for saved replies' files.
    pub templates: crate::templates::TemplateService,
    /// Campaign follow-ups, for their runner.
    pub follow_ups: crate::automations::FollowUps,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// Builds the complete router.
pub fn router(state: AppState) -> Router {
    let routes = leptos_axum::generate_route_list(app::App);
    let context = {
        let services = state.services.clone();
        let assets = state.assets.clone();
        move || {
            provide_context(services.clone());
            provide_context(assets.clone());
            // The page's scripts carry the nonce the response's Content-Security-Policy names.
            let nonce = use_context::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<csp::CspNonce>().cloned());
            if let Some(csp::CspNonce(nonce)) = nonce {
                provide_context(leptos::nonce::Nonce::from_value(nonce));
            }
        }
    };
    let shell = {
        let options = state.leptos.clone();
        move || app::shell(options.clone())
    };
    let not_found = leptos_axum::render_app_to_stream_with_context(context.clone(), shell.clone());
    let fallback_metrics = state.metrics.clone();

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::render))
        .route("/assets/{*path}", get(assets::serve))
        .route("/auth/setup", post(auth_forms::setup))
        .route("/auth/login", post(auth_forms::login))
        .route("/auth/logout", post(auth_forms::logout))
        .route(
            "/webhooks/whatsapp/{connection}",
            get(intake::verify)
                .post(intake::receive)
                .layer(DefaultBodyLimit::max(intake::MAX_BODY_BYTES)),
        )
        .nest_service("/sandbox", state.sandbox.router())
        .route(
            "/contacts/imports/upload",
            post(contacts::files::upload).layer(DefaultBodyLimit::max(contacts::files::MAX_UPLOAD_BYTES)),
        )
        .route("/contacts/imports/{id}/report.csv", get(contacts::files::import_report))
        .route("/contacts/export.csv", get(contacts::files::export_contacts))
        .route("/contacts/template.csv", get(contacts::files::template_csv))
        .route("/contacts/template.xlsx", get(contacts::files::template_xlsx))
        .route("/campaigns/{id}/events", get(campaigns::report::events))
        .route("/conversations/events", get(crate::conversations::events::events))
        .route(
            "/conversations/media/{connection}/{media_id}",
            get(crate::conversations::files::media),
        )
        .route(
            "/conversations/{id}/media",
            post(crate::conversations::files::upload)
                .layer(DefaultBodyLimit::max(crate::conversations::files::MAX_UPLOAD_BYTES)),
        )
        .route(
            "/templates/{id}/media",
            get(crate::templates::saved_media::file)
                .delete(crate::templates::saved_media::detach)
                .post(crate::templates::saved_media::upload)
                .layer(DefaultBodyLimit::max(crate::templates::saved_media::MAX_UPLOAD_BYTES)),
        )
        .route("/campaigns/{id}/chart.svg", get(campaigns::report::chart))
        .route("/campaigns/{id}/recipients.csv", get(campaigns::report::recipients_csv))
        .leptos_routes_with_context(&state, routes, context, shell)
        .route_layer(from_fn_with_state(state.clone(), metrics::track))
        .fallback(move |req: Request| {
            let render = not_found.clone();
            let metrics = fallback_metrics.clone();
            async move {
                let started = Instant::now();
                let method = req.method().clone();
                let response = render(req).await;
                metrics.record(&method, "(unmatched)", response.status(), started.elapsed());
                response
            }
        })
        .layer(from_fn_with_state(state.clone(), page_guard::finish_pages))
        .layer(from_fn_with_state(state.clone(), session_gate::gate))
        .layer(from_fn_with_state(state.clone(), csrf::protect))
        .layer(axum::middleware::from_fn(access::refuse_non_canonical))
        .layer(axum::middleware::from_fn(csp::apply))
        .layer(from_fn_with_state(state.clone(), serve::body_timeout))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(
            TraceLayer::new_for_http()
                // The path only: query strings can carry tokens (webhook verification).
                .make_span_with(|req: &Request| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

/// The address a request came from: the socket peer, or with `trust_proxy` the last
/// `X-Forwarded-For` entry (the one our own proxy appended).
pub fn client_ip(config: &Config, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if config.trust_proxy {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|ip| ip.trim().parse().ok())
            .next_back();
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}
