//! The browser assets compiled into the binary by `build.rs`: stylesheet, favicon, the wasm module
//! and its JS glue. File names carry a content hash, so responses are cacheable forever; each file
//! is stored pre-compressed (brotli and gzip) and served in the best encoding the browser accepts.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded file.
pub struct EmbeddedAsset {
    /// Name before hashing, e.g. `herald_bg.wasm`.
    pub name: &'static str,
    /// Hashed file name served under `/assets/`.
    pub file: &'static str,
    /// MIME type.
    pub content_type: &'static str,
    /// The bytes.
    pub identity: &'static [u8],
    /// Gzip-compressed bytes, when smaller.
    pub gzip: Option<&'static [u8]>,
    /// Brotli-compressed bytes, when smaller.
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/embedded_assets.rs"));

/// Every embedded asset.
pub fn all() -> &'static [EmbeddedAsset] {
    EMBEDDED
}

fn url_of(name: &str) -> Option<String> {
    EMBEDDED
        .iter()
        .find(|a| a.name == name)
        .map(|a| format!("/assets/{}", a.file))
}

/// The URLs pages link to.
pub fn manifest() -> app::AssetManifest {
    let hydration = match (url_of("herald.js"), url_of("herald_bg.wasm")) {
        (Some(js), Some(wasm)) => Some(app::shell::HydrationAssets { js, wasm }),
        _ => None,
    };
    app::AssetManifest {
        stylesheet: url_of("main.css").unwrap_or_default(),
        favicon: url_of("favicon.svg").unwrap_or_default(),
        hydration,
    }
}

/// Whether `accept_encoding` allows `coding` (q-values of 0 refuse it).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
    })
}

/// `GET /assets/{*path}`.
pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = EMBEDDED.iter().find(|a| a.file == path) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (body, encoding) = match (asset.brotli, asset.gzip) {
        (Some(br), _) if accepts(accept, "br") => (br, Some("br")),
        (_, Some(gz)) if accepts(accept, "gzip") => (gz, Some("gzip")),
        _ => (asset.identity, None),
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(encoding) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding_is_parsed_with_q_values() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip;q=0.8", "gzip"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(!accepts("", "gzip"));
        assert!(accepts("*", "br"));
    }
}
