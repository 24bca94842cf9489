//! `/campaigns/settings`: each sender number's pace and messaging limit (changes reach running
//! campaigns at once), and the price table behind cost estimates and reports.

use domain::campaign::estimate::{PriceRow, PriceTable};
use domain::campaign::pacing::pace_warning;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::campaigns::{
    get_price_table, sender_limits, set_price_table, set_sender_limits, SenderLimitsView,
};
use crate::components::campaigns_nav::CampaignsNav;
use crate::session::PageSession;

/// `/campaigns/settings`.
#[component]
pub fn CampaignSettingsPage() -> impl IntoView {
    let limits = Resource::new(|| (), |_| sender_limits());
    let prices = Resource::new(|| (), |_| get_price_table());
    view! {
        <Title text="Sending limits and prices" />
        <h1>"Campaigns"</h1>
        <CampaignsNav />
        <section class="card">
            <h2>"Sender numbers"</h2>
            <p class="muted">"Campaigns pace each number just under the throughput Meta reports for it (80 messages per second, or 1,000 after Meta's upgrade); a pace you set here replaces it. They start no more new conversations in a moving 24 hours than its messaging limit allows. Meta's limit and quality rating are read from the number and its webhooks; you may set a lower limit on purpose."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match limits.await {
                        Ok(list) => list.into_iter().map(|l| view! { <LimitsRow limits=l /> }).collect_view().into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Prices"</h2>
            <p class="muted">"Meta charges per delivered template, by category and the recipient's country. The defaults are approximate list prices; replace them with the rates on your invoice."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match prices.await {
                        Ok(table) => view! { <PriceEditor table=table /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn LimitsRow(limits: SenderLimitsView) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let mps = RwSignal::new(limits.messages_per_second);
    // The server's rule, live: a pace above what the number allows is warned about as it is typed.
    let number_mps = limits.number_mps;
    let limit = RwSignal::new(limits.limit_override.clone().unwrap_or_default());
    let id = limits.connection_id.clone();
    let save = Action::new(move |_: &()| {
        let (csrf, id) = (csrf.clone(), id.clone());
        async move {
            set_sender_limits(csrf, id, mps.get_untracked(), limit.get_untracked())
                .await
                .map_err(|e| e.to_string())
        }
    });
    view! {
        <form class="inline-form" data-testid="sender-limits" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <strong>{limits.name.clone()}</strong>
            <label>"Messages per second"
                <input type="number" min="1" max="1000" prop:value=move || mps.get().to_string()
                    on:input=move |ev| mps.set(event_target_value(&ev).parse().unwrap_or(0)) />
            </label>
            <label>"Messaging limit"
                <select prop:value=move || limit.get() on:change=move |ev| limit.set(event_target_value(&ev))>
                    <option value="">{format!("as Meta says ({})", limits.meta_limit.clone().unwrap_or_else(|| "not read yet".into()))}</option>
                    {["TIER_250", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"].into_iter()
                        .map(|t| view! { <option value=t>{t}</option> }).collect_view()}
                </select>
            </label>
            <span class="muted" data-testid="number-throughput">{match limits.number_mps {
                Some(mps) => format!("This number allows {mps} per second"),
                None => "Throughput not read yet".to_string(),
            }}</span>
            <span class="muted">{format!("Quality: {}", limits.quality.clone().unwrap_or_else(|| "not read yet".into()))}</span>
            {move || pace_warning(number_mps, Some(mps.get())).map(|w| view! { <p class="error" role="alert" data-testid="pace-warning">{w}</p> })}
            <button type="submit" class="button">"Save"</button>
            {move || save.value().get().map(|r| match r {
                Ok(()) => view! { <span class="notice" role="status">"Saved; running campaigns follow now."</span> }.into_any(),
                Err(e) => view! { <span class="error" role="alert">{e}</span> }.into_any(),
            })}
        </form>
    }
}

#[component]
fn PriceEditor(table: PriceTable) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let table = RwSignal::new(table);
    let problems = Memo::new(move |_| table.with(PriceTable::problems));
    let save = Action::new(move |_: &()| {
        let (csrf, t) = (csrf.clone(), table.get_untracked());
        async move { set_price_table(csrf, t).await.map_err(|e| e.to_string()) }
    });
    let cell = move |i: usize, get: fn(&PriceRow) -> f64, set: fn(&mut PriceRow, f64)| {
        view! {
            <input type="number" step="0.0001" min="0" prop:value=move || table.with(|t| t.rows.get(i).map(get).unwrap_or_default().to_string())
                on:input=move |ev| { let v = event_target_value(&ev).parse().unwrap_or(-1.0); table.update(|t| if let Some(r) = t.rows.get_mut(i) { set(r, v) }); } />
        }
    };
    view! {
        <label>"Currency" <input maxlength="3" prop:value=move || table.with(|t| t.currency.clone())
            on:input=move |ev| table.update(|t| t.currency = event_target_value(&ev)) /></label>
        <table class="table" data-testid="price-table">
            <thead><tr><th>"Country (or *)"</th><th>"Marketing"</th><th>"Utility"</th><th>"Authentication"</th><th></th></tr></thead>
            <tbody>
                {move || (0..table.with(|t| t.rows.len())).map(|i| view! {
                    <tr>
                        <td><input size="3" prop:value=move || table.with(|t| t.rows.get(i).map(|r| r.country.clone()).unwrap_or_default())
                            on:input=move |ev| { let v = event_target_value(&ev); table.update(|t| if let Some(r) = t.rows.get_mut(i) { r.country = v.to_uppercase() }); } /></td>
                        <td>{cell(i, |r| r.marketing, |r, v| r.marketing = v)}</td>
                        <td>{cell(i, |r| r.utility, |r, v| r.utility = v)}</td>
                        <td>{cell(i, |r| r.authentication, |r, v| r.authentication = v)}</td>
                        <td><button type="button" class="button button-quiet" aria-label="Remove row"
                            on:click=move |_| table.update(|t| { if i < t.rows.len() { t.rows.remove(i); } })>"✕"</button></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <ul class="rules" aria-live="polite">{move || problems.get().into_iter().map(|p| view! { <li class="rule-error">{p}</li> }).collect_view()}</ul>
        <div class="actions">
            <button type="button" class="button" on:click=move |_| table.update(|t| t.rows.push(PriceRow { country: String::new(), marketing: 0.0, utility: 0.0, authentication: 0.0 }))>"Add a country"</button>
            <button type="button" class="button button-primary" disabled=move || !problems.with(Vec::is_empty)
                on:click=move |_| { save.dispatch(()); }>"Save prices"</button>
        </div>
        {move || save.value().get().map(|r| match r {
            Ok(()) => view! { <p class="notice" role="status">"Saved."</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        })}
    }
}
