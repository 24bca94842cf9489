//! `/campaigns/:id`: one campaign, live. The server renders the figures as they are; in the
//! browser an `EventSource` on `/campaigns/{id}/events` replaces them whenever they change (no
//! refresh), and the chart (SVG drawn on the server) reloads when its data does.

mod follow_ups;

use domain::clock::format_utc as when;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::campaigns::{
    act_on_campaign, clone_campaign, delete_campaign, get_campaign, launch_campaign,
    preflight_campaign, reschedule_campaign, CampaignView, Progress,
};
use crate::components::campaigns_nav::CampaignsNav;
use crate::navigation::{confirm, go_to, reload};
use crate::pages::campaign_wizard::merged_sentence;
use crate::pages::campaigns::{status_tone, CANCEL_WARNING};
use crate::session::PageSession;
use domain::campaign::estimate::{launch_sentence, money};
use domain::campaign::lifecycle::CampaignCommand;
use domain::campaign::window::check_local;
use domain::campaign::Schedule;

/// `/campaigns/:id`.
#[component]
pub fn CampaignPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let campaign = Resource::new(id, get_campaign);
    view! {
        <Title text="Campaign" />
        <h1>"Campaigns"</h1>
        <CampaignsNav />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match campaign.await {
                    Ok(view) => view! { <CampaignDetail campaign=view /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Follows `/campaigns/{id}/events` in the browser; `progress` holds the latest figures.
fn follow_progress(id: String, progress: RwSignal<Progress>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Ok(source) = web_sys::EventSource::new(&format!("/campaigns/{id}/events")) else {
            return;
        };
        let on_progress = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                if let Some(text) = event.data().as_string() {
                    if let Ok(next) = serde_json::from_str::<Progress>(&text) {
                        progress.set(next);
                    }
                }
            },
        );
        let _ = source
            .add_event_listener_with_callback("progress", on_progress.as_ref().unchecked_ref());
        on_progress.forget();
        let source = StoredValue::new_local(source);
        on_cleanup(move || source.with_value(web_sys::EventSource::close));
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, progress);
}

fn duration(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

#[component]
fn CampaignDetail(campaign: CampaignView) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let id = campaign.id.clone();
    let progress = RwSignal::new(campaign.progress.clone());
    follow_progress(id.clone(), progress);
    let act = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |command: &CampaignCommand| {
            let (csrf, id, command) = (csrf.clone(), id.clone(), *command);
            async move {
                let said = act_on_campaign(csrf, id, command)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>(said)
            }
        }
    });
    // A saved draft is launched like one from the wizard: after confirming what a fresh
    // pre-flight says it will do.
    let launch = Action::new({
        let (csrf, id, draft) = (csrf.clone(), id.clone(), campaign.draft.clone());
        move |_: &()| {
            let (csrf, id, draft) = (csrf.clone(), id.clone(), draft.clone());
            async move {
                let at = match &draft.schedule {
                    Schedule::At { local, time_zone } => {
                        Some(format!("{} ({time_zone})", local.replace('T', " ")))
                    }
                    Schedule::Now => None,
                };
                let check = preflight_campaign(csrf.clone(), draft)
                    .await
                    .map_err(|e| e.to_string())?;
                let sentence = launch_sentence(
                    check.recipients,
                    check.total_cost,
                    &check.currency,
                    &check.duration,
                    at.as_deref(),
                );
                if !confirm(&sentence) {
                    return Ok(());
                }
                launch_campaign(csrf, id).await.map_err(|e| e.to_string())?;
                reload();
                Ok::<_, String>(())
            }
        }
    });
    let copy = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |_: &()| {
            let (csrf, id) = (csrf.clone(), id.clone());
            async move {
                let new_id = clone_campaign(csrf, id).await.map_err(|e| e.to_string())?;
                go_to(&format!("/campaigns/{new_id}"));
                Ok::<_, String>(())
            }
        }
    });
    let remove = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |_: &()| {
            let (csrf, id) = (csrf.clone(), id.clone());
            async move {
                delete_campaign(csrf, id).await.map_err(|e| e.to_string())?;
                go_to("/campaigns");
                Ok::<_, String>(())
            }
        }
    });
    let status = move || progress.with(|p| p.status.clone());
    let button = move |command: CampaignCommand| {
        view! {
            <button type="button" class="button" data-testid=command.name() on:click=move |_| {
                let unknown = progress.with_untracked(|p| p.counts.unknown);
                let sure = match command {
                    CampaignCommand::Cancel => confirm(CANCEL_WARNING),
                    CampaignCommand::ResendUnknown => confirm(&format!("Send again to {unknown} recipients whose outcome is unknown? Their request may have reached WhatsApp before the answer was lost, so up to {unknown} of them may already have the message and would get it twice.")),
                    _ => true,
                };
                if sure {
                    act.dispatch(command);
                }
            }>{command.label()}</button>
        }
    };
    // Exactly what the domain's state machine permits now (`Progress::commands`); launching and
    // rescheduling have their own controls, deleting is allowed where nothing is in flight.
    let actions = move || {
        let (status, commands) = progress.with(|p| (p.status.clone(), p.commands.clone()));
        let deletable = matches!(status.as_str(), "draft" | "completed" | "cancelled");
        view! {
            {commands.contains(&CampaignCommand::Launch).then(|| view! {
                <button type="button" class="button button-primary" data-testid="launch" on:click=move |_| { launch.dispatch(()); }>"Launch"</button>
            })}
            {commands
                .into_iter()
                .filter(|c| !matches!(c, CampaignCommand::Launch | CampaignCommand::EditDraft | CampaignCommand::Reschedule))
                .map(button)
                .collect_view()}
            {deletable.then(|| view! {
                <button type="button" class="button button-quiet" on:click=move |_| { if confirm("Delete this campaign and its report?") { remove.dispatch(()); } }>"Delete"</button>
            })}
        }
    };
    let draft = campaign.draft.clone();
    let id_for_reschedule = id.clone();
    let chart_url = {
        let id = id.clone();
        move || {
            format!(
                "/campaigns/{id}/chart.svg?v={}",
                progress.with(|p| p.version)
            )
        }
    };
    let done_pct = move || {
        progress.with(|p| {
            let c = p.counts;
            (c.total.saturating_sub(c.open()) * 100)
                .checked_div(c.total)
                .unwrap_or(0)
        })
    };
    view! {
        <Title text=campaign.summary.name.clone() />
        <section class="card" data-testid="campaign" data-status=status>
            <h2>{campaign.summary.name.clone()}</h2>
            <p>
                <span class=move || format!("status {}", status_tone(&status())) data-testid="campaign-status">{status}</span>
                {move || progress.with(|p| p.status_detail.clone()).map(|d| view! { " — " <span data-testid="status-detail">{d}</span> })}
            </p>
            <dl class="facts">
                <dt>"Template"</dt><dd>{campaign.summary.template.clone()}</dd>
                <dt>"Sender"</dt><dd>{campaign.summary.connection.clone()}</dd>
                <dt>"Audience"</dt><dd>{
                    [draft.segment_id.as_ref().map(|_| "a segment"), draft.import_id.as_ref().map(|_| "an imported list")]
                        .into_iter().flatten().collect::<Vec<_>>().join(" and ")
                }</dd>
                {campaign.excludes.clone().map(|c| view! { <dt>"Skips"</dt><dd><a href=format!("/campaigns/{c}")>"whoever the original campaign messaged"</a></dd> })}
            </dl>
            <div class="actions">{actions}</div>
            {move || matches!(status().as_str(), "scheduled" | "overdue").then(|| view! { <Reschedule id=id_for_reschedule.clone() /> })}
            {move || act.value().get().map(|r| match r {
                Ok(said) => view! { <p class="notice" role="status">{said}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
            {move || launch.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || remove.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>

        <section class="card" data-testid="campaign-progress">
            <h2>"Progress"</h2>
            <progress max="100" value=move || done_pct().to_string() data-testid="campaign-bar"></progress>
            <p>{move || format!("{} % done", done_pct())}</p>
            {move || progress.with(|p| p.waiting.clone()).map(|(why, until)| view! {
                <p class="notice" data-testid="waiting">{why}" Until "{when(until)}"."</p>
            })}
            {move || progress.with(|p| p.slowed).map(|slowed| view! {
                <p class="notice" data-testid="slowed">{slowed.sentence()}</p>
            })}
            <dl class="facts" data-testid="campaign-counts">
                {move || {
                    let p = progress.get();
                    let c = p.counts;
                    view! {
                        <dt>"Recipients"</dt><dd data-testid="count-total">{c.total}</dd>
                        <dt>"Waiting"</dt><dd data-testid="count-pending">{c.pending + c.sending}</dd>
                        <dt>"Sent"</dt><dd data-testid="count-sent">{c.accepted()}</dd>
                        <dt>"Delivered"</dt><dd data-testid="count-delivered">{c.reached()}</dd>
                        <dt>"Read"</dt><dd data-testid="count-read">{c.opened()}</dd>
                        <dt>"Replied"</dt><dd data-testid="count-replied">{c.replied}</dd>
                        <dt>"Failed"</dt><dd data-testid="count-failed">{c.failed}</dd>
                        <dt>"Skipped"</dt><dd data-testid="count-skipped">{c.skipped}</dd>
                        <dt>"Unknown"</dt><dd data-testid="count-unknown">{c.unknown}</dd>
                        <dt>"Send rate"</dt><dd>{format!("{:.1} per second", p.rate)}</dd>
                        <dt>"Messaging limit"</dt><dd>{p.limit.clone()}{p.headroom.map(|h| format!(" — {h} new conversations left now"))}</dd>
                        <dt>"Time left"</dt><dd>{p.eta_secs.map_or_else(|| "—".to_string(), duration)}</dd>
                        <dt>"Cost so far"</dt><dd data-testid="cost">{money(p.cost, &p.currency)}</dd>
                    }
                }}
            </dl>
            <img class="chart" alt="Sent, delivered, read, replied and failed over time" src=chart_url width="720" height="260" />
            <p><a class="button" href=format!("/campaigns/{id}/recipients.csv") download data-testid="download-report">"Download the per-recipient report (CSV)"</a></p>
        </section>

        <follow_ups::FollowUpCard progress=progress />

        <section class="card">
            <h2>"Failures"</h2>
            {move || {
                let failures = progress.with(|p| p.failures.clone());
                if failures.is_empty() {
                    view! { <p class="muted">"None."</p> }.into_any()
                } else {
                    view! {
                        <table class="table" data-testid="failures">
                            <thead><tr><th>"Code"</th><th>"Meaning"</th><th>"Recipients"</th></tr></thead>
                            <tbody>{failures.into_iter().map(|f| view! { <tr><td>{f.code}</td><td>{f.meaning}</td><td>{f.count}</td></tr> }).collect_view()}</tbody>
                        </table>
                    }.into_any()
                }
            }}
            <h3>"Skipped"</h3>
            {move || {
                let skipped = progress.with(|p| p.skipped.clone());
                if skipped.is_empty() {
                    view! { <p class="muted">"Nobody."</p> }.into_any()
                } else {
                    view! {
                        <table class="table"><tbody>
                            {skipped.into_iter().map(|(why, n)| view! { <tr><td>{why}</td><td>{n}</td></tr> }).collect_view()}
                        </tbody></table>
                    }.into_any()
                }
            }}
            {move || {
                let merged = progress.with(|p| p.merged);
                (merged > 0).then(|| view! {
                    <p class="muted" data-testid="merged">{merged_sentence(merged)}</p>
                })
            }}
        </section>

        <section class="card">
            <h2>"History"</h2>
            <ul class="history">
                {move || progress.with(|p| p.history.iter().rev().map(|e| view! { <li><time>{when(e.at_ms)}</time>" — "{e.what.clone()}</li> }).collect_view())}
            </ul>
            <button type="button" class="button button-quiet" on:click=move |_| { copy.dispatch(()); }>"Clone this campaign"</button>
        </section>
    }
}

/// A new start for a scheduled campaign, or one whose start was missed while Herald was down.
#[component]
fn Reschedule(id: String) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let local = RwSignal::new(String::new());
    let zone = RwSignal::new("UTC".to_string());
    let problem = Memo::new(move |_| {
        let l = local.get();
        (!l.is_empty())
            .then(|| check_local(&l, &zone.get()).err())
            .flatten()
    });
    let save = Action::new(move |_: &()| {
        let (csrf, id) = (csrf.clone(), id.clone());
        let schedule = Schedule::At {
            local: local.get_untracked(),
            time_zone: zone.get_untracked(),
        };
        async move {
            reschedule_campaign(csrf, id, schedule)
                .await
                .map_err(|e| e.to_string())?;
            reload();
            Ok::<_, String>(())
        }
    });
    view! {
        <form class="inline-form" data-testid="reschedule" on:submit=move |ev| { ev.prevent_default(); save.dispatch(()); }>
            <label>"New start" <input type="datetime-local" prop:value=move || local.get()
                on:input=move |ev| local.set(event_target_value(&ev)) /></label>
            <label>"Time zone" <input prop:value=move || zone.get() on:input=move |ev| zone.set(event_target_value(&ev)) /></label>
            <button type="submit" class="button" disabled=move || local.with(String::is_empty) || problem.with(Option::is_some)>"Reschedule"</button>
            {move || problem.get().map(|p| view! { <span class="rule-error">{p}</span> })}
            {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <span class="error" role="alert">{e}</span> })}
        </form>
    }
}
