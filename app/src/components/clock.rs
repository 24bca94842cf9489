//! A live clock of the server's time zone: rendered by the server, then ticked in the browser.

use domain::clock::{format_offset, format_time_of_day, ServerClock};
use leptos::prelude::*;

/// Shows the server's local time, updated every second once hydrated.
#[component]
pub fn ServerClockView(
    /// The clock as the server read it when rendering.
    clock: ServerClock,
) -> impl IntoView {
    let now_ms = RwSignal::new(clock.now_ms);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let tick = move || now_ms.set(js_sys::Date::now() as i64);
            tick();
            if let Ok(handle) =
                set_interval_with_handle(tick, std::time::Duration::from_millis(500))
            {
                on_cleanup(move || handle.clear());
            }
        }
    });
    let offset = clock.utc_offset_s;
    view! {
        <div class="clock">
            <time class="clock-time" data-testid="server-clock">
                {move || format_time_of_day(now_ms.get(), offset)}
            </time>
            <span class="clock-zone">{clock.zone} " (" {format_offset(offset)} ")"</span>
        </div>
    }
}
