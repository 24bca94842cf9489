//! `/campaigns`: every campaign with its status, counts and quick actions.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::campaigns::{act_on_campaign, clone_campaign, list_campaigns, CampaignSummary};
use crate::components::campaigns_nav::CampaignsNav;
use crate::navigation::{confirm, go_to, reload};
use crate::session::PageSession;
use domain::campaign::lifecycle::CampaignCommand;

/// What cancelling means, asked before it happens (both campaign pages).
pub const CANCEL_WARNING: &str =
    "Cancel this campaign? Recipients not sent yet will never be sent to.";

/// `/campaigns`.
#[component]
pub fn CampaignsPage() -> impl IntoView {
    let campaigns = Resource::new(|| (), |_| list_campaigns());
    let status = RwSignal::new(String::new());
    view! {
        <Title text="Campaigns" />
        <h1>"Campaigns"</h1>
        <CampaignsNav />
        <p class="muted">"A campaign sends one approved template to a segment or an imported list, paced to the number's throughput and messaging limit. Progress updates live on each campaign's page."</p>
        <div class="inline-form">
            <label>"Status"
                <select on:change=move |ev| status.set(event_target_value(&ev))>
                    <option value="">"any"</option>
                    {["draft", "scheduled", "overdue", "running", "paused", "completed", "cancelled"].into_iter()
                        .map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                </select>
            </label>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match campaigns.await {
                    Ok(list) if list.is_empty() => view! {
                        <section class="empty-state">
                            <h2>"No campaigns yet"</h2>
                            <p>"Approve a template, import or segment your contacts, then create a campaign."</p>
                            <a class="button button-primary" href="/campaigns/new">"New campaign"</a>
                        </section>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="campaign-list">
                            <thead><tr>
                                <th>"Name"</th><th>"Status"</th><th>"Template"</th><th>"Sender"</th>
                                <th>"Recipients"</th><th>"Sent"</th><th>"Delivered"</th><th>"Read"</th><th>"Failed"</th><th></th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|c| {
                                    let shown = c.status.clone();
                                    view! {
                                        <Show when=move || { let s = status.get(); s.is_empty() || s == shown }>
                                            <CampaignRow campaign=c.clone() />
                                        </Show>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// CSS tone of a campaign status.
pub fn status_tone(status: &str) -> &'static str {
    match status {
        "running" | "completed" => "tone-ok",
        "paused" | "overdue" => "tone-warning",
        "cancelled" => "tone-error",
        _ => "tone-neutral",
    }
}

#[component]
fn CampaignRow(campaign: CampaignSummary) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let act = Action::new({
        let csrf = csrf.clone();
        move |(id, command): &(String, CampaignCommand)| {
            let (csrf, id, command) = (csrf.clone(), id.clone(), *command);
            async move {
                act_on_campaign(csrf, id, command)
                    .await
                    .map_err(|e| e.to_string())?;
                reload();
                Ok::<_, String>(())
            }
        }
    });
    let copy = Action::new(move |id: &String| {
        let (csrf, id) = (csrf.clone(), id.clone());
        async move {
            let new_id = clone_campaign(csrf, id).await.map_err(|e| e.to_string())?;
            go_to(&format!("/campaigns/{new_id}"));
            Ok::<_, String>(())
        }
    });
    let c = campaign;
    let counts = c.counts;
    let id = c.id.clone();
    // The domain's answer for this status; the list offers the quick ones, the rest (launch,
    // edit, reschedule, resend) need the campaign page.
    let actions = c
        .commands
        .iter()
        .copied()
        .filter(|command| {
            matches!(
                command,
                CampaignCommand::Pause
                    | CampaignCommand::Resume
                    | CampaignCommand::ConfirmStart
                    | CampaignCommand::Cancel
            )
        })
        .map(|command| {
            let id = id.clone();
            view! {
                <button type="button" class="button" data-testid=command.name() on:click=move |_| {
                    if command != CampaignCommand::Cancel || confirm(CANCEL_WARNING) {
                        act.dispatch((id.clone(), command));
                    }
                }>{command.label()}</button>
            }
        })
        .collect_view();
    let clone_id = c.id.clone();
    view! {
        <tr data-testid="campaign-row" data-status=c.status.clone()>
            <td><a href=format!("/campaigns/{}", c.id)>{c.name.clone()}</a></td>
            <td>
                <span class=format!("status {}", status_tone(&c.status))>{c.status.clone()}</span>
                {c.status_detail.clone().map(|d| view! { <br /><small class="muted">{d}</small> })}
            </td>
            <td>{c.template.clone()}</td>
            <td>{c.connection.clone()}</td>
            <td>{counts.total}</td>
            <td>{counts.accepted()}</td>
            <td>{counts.reached()}</td>
            <td>{counts.opened()}</td>
            <td>{counts.failed}</td>
            <td class="actions">
                {actions}
                <button type="button" class="button button-quiet" on:click=move |_| { copy.dispatch(clone_id.clone()); }>"Clone"</button>
                {move || act.value().get().and_then(|r| r.err()).map(|e| view! { <span class="error" role="alert">{e}</span> })}
            </td>
        </tr>
    }
}
