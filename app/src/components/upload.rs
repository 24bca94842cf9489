//! Sends a file chosen in the browser as the raw body of a POST (no multipart buffering), with
//! its name (percent-encoded) and the CSRF token in headers and its type as `Content-Type`: the
//! one way pages upload, to the contact importer, the inbox's composer and saved replies' files.

use leptos::wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const LOST: &str = "the upload failed; check the connection";

fn text(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| LOST.into())
}

/// Posts `file` to `url`; the answer's body on success, the server's sentence otherwise.
pub async fn post_file(url: &str, file: &web_sys::File, csrf: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let headers = web_sys::Headers::new().map_err(text)?;
    headers.set("x-csrf-token", csrf).map_err(text)?;
    headers
        .set(
            "x-file-name",
            &String::from(js_sys::encode_uri_component(&file.name())),
        )
        .map_err(text)?;
    if !file.type_().is_empty() {
        headers.set("content-type", &file.type_()).map_err(text)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(file);
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| LOST.to_string())?;
    let response: web_sys::Response = response.dyn_into().map_err(text)?;
    let body = JsFuture::from(response.text().map_err(text)?)
        .await
        .map_err(text)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        Ok(body)
    } else {
        Err(body)
    }
}

/// Sends `DELETE` to `url` with the CSRF token; the server's sentence when it refuses.
pub async fn delete(url: &str, csrf: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let headers = web_sys::Headers::new().map_err(text)?;
    headers.set("x-csrf-token", csrf).map_err(text)?;
    let init = web_sys::RequestInit::new();
    init.set_method("DELETE");
    init.set_headers(&headers);
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| LOST.to_string())?;
    let response: web_sys::Response = response.dyn_into().map_err(text)?;
    if response.ok() {
        return Ok(());
    }
    Err(JsFuture::from(response.text().map_err(text)?)
        .await
        .map_err(text)?
        .as_string()
        .unwrap_or_default())
}
