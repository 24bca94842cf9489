//! A ticking signal for lists that follow webhooks as they arrive.

use leptos::prelude::*;

/// A counter that ticks every `period_ms` in the browser (never on the server).
pub fn refresh_tick(period_ms: u64) -> ReadSignal<u32> {
    let (tick, set_tick) = signal(0u32);
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || set_tick.update(|t| *t = t.wrapping_add(1)),
            std::time::Duration::from_millis(period_ms),
        );
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}
