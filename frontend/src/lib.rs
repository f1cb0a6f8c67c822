//! The browser entry point: hydrates the server-rendered Sightline UI.
//!
//! Everything the UI does lives in the `app` crate; this crate only exists so that
//! `wasm-bindgen` has one `cdylib` to turn into `pkg/sightline.js` + `.wasm`.

/// Called by the hydration script that the server's HTML shell includes.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
