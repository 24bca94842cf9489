//! The HTML document every page is rendered into.

use leptos::prelude::*;
use leptos_meta::MetaTags;

use crate::{session::PageSession, App};

/// Public URLs of the embedded, content-hashed assets. The server builds it from what it embedded
/// and provides it as context; the shell only links to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetManifest {
    /// Stylesheet URL.
    pub stylesheet: String,
    /// Favicon URL.
    pub favicon: String,
    /// The wasm-bindgen JS glue and the wasm module; `None` when the binary was built without the
    /// browser bundle, in which case pages are server-rendered only.
    pub hydration: Option<HydrationAssets>,
}

/// The pair of files that hydrate the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HydrationAssets {
    /// URL of the ES module produced by wasm-bindgen.
    pub js: String,
    /// URL of the wasm module.
    pub wasm: String,
}

/// Applies the saved colour theme before first paint, so a dark-theme user never sees a flash.
const THEME_BOOT: &str = "try{var t=localStorage.getItem('herald-theme');\
if(t==='dark'||t==='light')document.documentElement.dataset.theme=t}catch(e){}";

/// Renders the document for the current request; `server` passes it to leptos_axum.
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    let assets = use_context::<AssetManifest>().unwrap_or_default();
    let session = PageSession::current();
    // The server's Content-Security-Policy runs only inline scripts carrying this nonce.
    let nonce = leptos::nonce::use_nonce();
    let boot_nonce = nonce.clone();
    let hydration = assets.hydration.map(|h| {
        let boot = format!(
            "import({js:?}).then(m=>m.default({{module_or_path:{wasm:?}}}).then(()=>m.hydrate()))",
            js = h.js,
            wasm = h.wasm
        );
        view! {
            <link rel="modulepreload" href=h.js.clone() />
            <link rel="preload" href=h.wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin="" />
            <script type="module" nonce=boot_nonce inner_html=boot></script>
        }
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name="herald-csrf" content=session.csrf_token />
                <meta name="herald-user" content=session.username.unwrap_or_default() />
                <link rel="icon" type="image/svg+xml" href=assets.favicon />
                <link rel="stylesheet" href=assets.stylesheet />
                <script nonce=nonce.clone() inner_html=THEME_BOOT></script>
                {hydration}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}
