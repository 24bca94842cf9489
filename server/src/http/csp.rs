//! Content-Security-Policy: the browser runs only scripts Herald itself put in the page.
//!
//! Every response gets a fresh nonce. Pages render it on their inline scripts (the theme boot, the
//! hydration boot and Leptos's streamed resource scripts, via [`leptos::nonce::Nonce`]), so an
//! injected `<script>` — say, in a campaign name that escaped its element — has no nonce and does
//! not run. WebAssembly needs `'wasm-unsafe-eval'`; nothing needs `'unsafe-eval'`.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;

/// The nonce of this request's page, read by the Leptos context (see [`super::router`]).
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

/// The policy for a page whose inline scripts carry `nonce`.
pub fn policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Middleware: a nonce per request, the matching policy on the response.
pub async fn apply(mut req: Request, next: Next) -> Response {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    let nonce = URL_SAFE_NO_PAD.encode(bytes);
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(req).await;
    if let Ok(value) = HeaderValue::from_str(&policy(&nonce)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}
