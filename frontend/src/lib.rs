//! The browser entry point: the wasm module's only job is to hydrate the server-rendered page.
// Leptos' statically typed views nest deeply; computing the layout of the whole app's hydration
// future needs more than the default 128 levels.
#![recursion_limit = "256"]

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the shell's module script once the wasm is instantiated.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
