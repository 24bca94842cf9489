//! The browser entry point: the wasm module's only job is to hydrate the server-rendered page.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the shell's module script once the wasm is instantiated.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
