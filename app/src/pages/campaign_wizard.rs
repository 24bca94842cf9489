//! `/campaigns/new`: the campaign wizard. Sender, audience, template, a value for each of its
//! variables, schedule and sending hours — checked live by `domain::campaign::draft::validate`
//! (the server runs the same before saving) — then a preview of real messages and the pre-flight
//! check (who is excluded and why, cost, duration) before saving or launching. The follow-ups
//! (what a reply does) are [`follow_ups`].

mod follow_ups;

use domain::campaign::draft::validate;
use domain::campaign::estimate::{launch_sentence, money};
use domain::campaign::{
    BindingSource, CampaignDraft, Schedule, SendingWindow, Slot, VariableBinding,
};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::campaigns::{
    campaign_schedule_problems, delete_campaign, get_wizard_options, launch_campaign,
    preflight_campaign, preview_campaign, save_campaign, Preflight, PreviewMessage, TemplateChoice,
    WizardOptions,
};
use crate::components::campaigns_nav::CampaignsNav;
use crate::navigation::go_to;
use crate::session::PageSession;

/// Source kinds offered for a variable, as (value, label).
const SOURCES: [(&str, &str); 6] = [
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("full_name", "Full name"),
    ("phone", "Phone number"),
    ("attribute", "Custom attribute"),
    ("fixed", "Fixed text"),
];

fn source_kind(source: &BindingSource) -> &'static str {
    match source {
        BindingSource::FirstName => "first_name",
        BindingSource::LastName => "last_name",
        BindingSource::FullName => "full_name",
        BindingSource::Phone => "phone",
        BindingSource::Attribute { .. } => "attribute",
        BindingSource::Fixed { .. } => "fixed",
    }
}

fn source_of(kind: &str, text: String) -> BindingSource {
    match kind {
        "last_name" => BindingSource::LastName,
        "full_name" => BindingSource::FullName,
        "phone" => BindingSource::Phone,
        "attribute" => BindingSource::Attribute { name: text },
        "fixed" => BindingSource::Fixed { value: text },
        _ => BindingSource::FirstName,
    }
}

fn source_text(source: &BindingSource) -> String {
    match source {
        BindingSource::Attribute { name } => name.clone(),
        BindingSource::Fixed { value } => value.clone(),
        _ => String::new(),
    }
}

/// `/campaigns/new`.
#[component]
pub fn CampaignWizardPage() -> impl IntoView {
    let options = Resource::new(|| (), |_| get_wizard_options());
    view! {
        <Title text="New campaign" />
        <h1>"Campaigns"</h1>
        <CampaignsNav />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(o) if o.templates.is_empty() => view! {
                        <section class="empty-state">
                            <h2>"No approved template yet"</h2>
                            <p>"A campaign sends a template Meta has approved. Write one and submit it first."</p>
                            <a class="button button-primary" href="/templates/new">"New template"</a>
                        </section>
                    }.into_any(),
                    Ok(o) => view! { <Wizard options=o /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Wizard(options: WizardOptions) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let templates = StoredValue::new(options.templates.clone());
    let saved_replies = options.saved_replies.clone();
    let first_connection = options
        .connections
        .first()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let draft = RwSignal::new(CampaignDraft {
        connection_id: first_connection,
        ..CampaignDraft::default()
    });
    let chosen = Memo::new(move |_| {
        let id = draft.with(|d| d.template_id.clone());
        templates.with_value(|ts| ts.iter().find(|t| t.id == id).cloned())
    });
    let slots = Memo::new(move |_| chosen.get().map(|t| t.slots).unwrap_or_default());
    let problems = Memo::new(move |_| draft.with(|d| validate(d, &slots.get())));
    // A start that has passed needs the zone's offsets, which only the server has: asked as the
    // schedule is typed, shown on the field, and blocking like the rules checked here.
    let check_schedule = Action::new({
        let csrf = csrf.clone();
        move |schedule: &Schedule| {
            let (csrf, schedule) = (csrf.clone(), schedule.clone());
            async move {
                campaign_schedule_problems(csrf, schedule)
                    .await
                    .unwrap_or_default()
            }
        }
    });
    Effect::new(move |_| {
        let schedule = draft.with(|d| d.schedule.clone());
        if matches!(schedule, Schedule::At { .. }) {
            check_schedule.dispatch(schedule);
        }
    });
    let schedule_late = move || {
        if matches!(draft.with(|d| d.schedule.clone()), Schedule::Now) {
            return Vec::new();
        }
        check_schedule.value().get().unwrap_or_default()
    };
    let problems_of = move |field: &'static str| {
        move || {
            problems
                .get()
                .into_iter()
                .filter(|p| p.field == field)
                .map(|p| view! { <li class="rule-error" data-rule=p.rule>{p.message}</li> })
                .collect_view()
        }
    };
    // Choosing a template binds its variables: the first to the first name, the others to be
    // filled in.
    let choose_template = move |id: String| {
        let new_slots: Vec<Slot> = templates
            .with_value(|ts| ts.iter().find(|t| t.id == id).map(|t| t.slots.clone()))
            .unwrap_or_default();
        draft.update(|d| {
            d.template_id = id;
            d.bindings = new_slots
                .iter()
                .enumerate()
                .map(|(i, slot)| VariableBinding {
                    slot: slot.clone(),
                    source: if i == 0 {
                        BindingSource::FirstName
                    } else {
                        BindingSource::Fixed {
                            value: String::new(),
                        }
                    },
                    fallback: String::new(),
                })
                .collect();
        });
    };
    let query = RwSignal::new(String::new());
    let preview = Action::new({
        let csrf = csrf.clone();
        move |_: &()| {
            let (csrf, d, q) = (csrf.clone(), draft.get_untracked(), query.get_untracked());
            async move {
                preview_campaign(csrf, d, q)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    });
    let check = Action::new({
        let csrf = csrf.clone();
        move |_: &()| {
            let (csrf, d) = (csrf.clone(), draft.get_untracked());
            async move { preflight_campaign(csrf, d).await.map_err(|e| e.to_string()) }
        }
    });
    // Every launch is confirmed against a fresh pre-flight: how many, how much, how long.
    let confirming = RwSignal::new(false);
    let confirm = Action::new({
        let csrf = csrf.clone();
        move |_: &()| {
            let (csrf, d) = (csrf.clone(), draft.get_untracked());
            async move { preflight_campaign(csrf, d).await.map_err(|e| e.to_string()) }
        }
    });
    let save = Action::new(move |launch: &bool| {
        let (csrf, d, launch) = (csrf.clone(), draft.get_untracked(), *launch);
        async move {
            let id = save_campaign(csrf.clone(), None, d)
                .await
                .map_err(|e| e.to_string())?;
            if launch {
                if let Err(refused) = launch_campaign(csrf.clone(), id.clone()).await {
                    // Nothing was launched: the draft made for this launch goes too.
                    let _ = delete_campaign(csrf, id).await;
                    return Err(refused.to_string());
                }
            }
            go_to(&format!("/campaigns/{id}"));
            Ok::<_, String>(())
        }
    });
    Effect::new(move |_| {
        draft.track();
        confirming.set(false);
    });
    let connections = options.connections.clone();
    let segments = options.segments.clone();
    let imports = options.imports.clone();
    let attributes = options.attributes.clone();
    let scheduled = move || matches!(draft.with(|d| d.schedule.clone()), Schedule::At { .. });
    let windowed = move || draft.with(|d| d.window.is_some());
    let blocked = move || !problems.with(Vec::is_empty) || !schedule_late().is_empty();
    view! {
        <form class="card form" data-testid="campaign-wizard" on:submit=|ev| ev.prevent_default()>
            <h2>"New campaign"</h2>
            <label>"Name" <input data-testid="campaign-name" prop:value=move || draft.with(|d| d.name.clone())
                on:input=move |ev| draft.update(|d| d.name = event_target_value(&ev)) /></label>
            <ul class="rules" aria-live="polite">{problems_of("name")}</ul>

            <label>"Send from"
                <select data-testid="campaign-connection" prop:value=move || draft.with(|d| d.connection_id.clone())
                    on:change=move |ev| draft.update(|d| { d.connection_id = event_target_value(&ev); d.template_id.clear(); d.bindings.clear(); })>
                    {connections.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
            </label>

            <fieldset>
                <legend>"Audience"</legend>
                <label>"Segment"
                    <select data-testid="campaign-segment" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        draft.update(|d| d.segment_id = (!v.is_empty()).then_some(v));
                    }>
                        <option value="">"(none)"</option>
                        {segments.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Imported list"
                    <select data-testid="campaign-import" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        draft.update(|d| d.import_id = (!v.is_empty()).then_some(v));
                    }>
                        <option value="">"(none)"</option>
                        {imports.into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                    </select>
                </label>
                <ul class="rules" aria-live="polite">{problems_of("audience")}</ul>
            </fieldset>

            <label>"Template"
                <select data-testid="campaign-template" prop:value=move || draft.with(|d| d.template_id.clone())
                    on:change=move |ev| choose_template(event_target_value(&ev))>
                    <option value="">"(choose an approved template)"</option>
                    {move || {
                        let connection = draft.with(|d| d.connection_id.clone());
                        templates.with_value(|ts| ts.iter()
                            .filter(|t| t.connection_id.as_deref() == Some(connection.as_str()))
                            .map(|t: &TemplateChoice| view! { <option value=t.id.clone()>{format!("{} · {}", t.label, t.category.to_lowercase())}</option> })
                            .collect_view())
                    }}
                </select>
            </label>
            <ul class="rules" aria-live="polite">{problems_of("template_id")}</ul>
            {move || chosen.get().map(|t| view! { <blockquote class="bubble"><div class="bubble-body">{t.body}</div></blockquote> })}

            <fieldset>
                <legend>"Variables"</legend>
                <datalist id="attribute-names">
                    {attributes.into_iter().map(|a| view! { <option value=a></option> }).collect_view()}
                </datalist>
                {move || (0..slots.get().len()).map(|i| view! { <BindingRow draft=draft index=i /> }).collect_view()}
                {move || slots.get().is_empty().then(|| view! { <p class="muted">"This template has no variables."</p> })}
                <ul class="rules" aria-live="polite">{problems_of("bindings")}</ul>
            </fieldset>

            <fieldset>
                <legend>"When"</legend>
                <label class="checkbox"><input type="radio" name="when" prop:checked=move || !scheduled()
                    on:change=move |_| draft.update(|d| d.schedule = Schedule::Now) />"Send as soon as it is launched"</label>
                <label class="checkbox"><input type="radio" name="when" data-testid="schedule-at" prop:checked=scheduled
                    on:change=move |_| draft.update(|d| d.schedule = Schedule::At { local: String::new(), time_zone: "UTC".into() }) />"At a date and time"</label>
                {move || scheduled().then(|| view! {
                    <div class="inline-form">
                        <label>"Date and time" <input type="datetime-local" data-testid="schedule-local"
                            prop:value=move || draft.with(|d| match &d.schedule { Schedule::At { local, .. } => local.clone(), Schedule::Now => String::new() })
                            on:input=move |ev| draft.update(|d| if let Schedule::At { local, .. } = &mut d.schedule { *local = event_target_value(&ev); }) /></label>
                        <label>"Time zone" <input data-testid="schedule-zone" list="zones"
                            prop:value=move || draft.with(|d| match &d.schedule { Schedule::At { time_zone, .. } => time_zone.clone(), Schedule::Now => String::new() })
                            on:input=move |ev| draft.update(|d| if let Schedule::At { time_zone, .. } = &mut d.schedule { *time_zone = event_target_value(&ev); }) /></label>
                    </div>
                })}
                <ul class="rules" aria-live="polite">{problems_of("schedule")}
                    {move || schedule_late().into_iter().map(|m| view! {
                        <li class="rule-error" data-rule="campaign.schedule_past">{m}</li>
                    }).collect_view()}
                </ul>
                <label class="checkbox"><input type="checkbox" prop:checked=windowed
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        draft.update(|d| d.window = on.then(|| SendingWindow { start: "09:00".into(), end: "20:00".into(), time_zone: "UTC".into() }));
                    } />"Only send within daily hours, in each contact's own time zone"</label>
                {move || windowed().then(|| {
                    let field = move |get: fn(&SendingWindow) -> String, set: fn(&mut SendingWindow, String)| view! {
                        <input prop:value=move || draft.with(|d| d.window.as_ref().map(get).unwrap_or_default())
                            on:input=move |ev| draft.update(|d| if let Some(w) = d.window.as_mut() { set(w, event_target_value(&ev)); }) />
                    };
                    view! {
                        <div class="inline-form">
                            <label>"From (HH:MM)" {field(|w| w.start.clone(), |w, v| w.start = v)}</label>
                            <label>"Until (HH:MM)" {field(|w| w.end.clone(), |w, v| w.end = v)}</label>
                            <label>"Zone for contacts without one" {field(|w| w.time_zone.clone(), |w, v| w.time_zone = v)}</label>
                        </div>
                    }
                })}
                <datalist id="zones">
                    {["UTC", "Europe/Istanbul", "Europe/London", "Europe/Berlin", "Europe/Madrid", "America/Sao_Paulo", "America/Mexico_City", "America/Bogota", "America/Argentina/Buenos_Aires", "America/New_York", "Asia/Kolkata", "Asia/Jakarta", "Asia/Riyadh"]
                        .into_iter().map(|z| view! { <option value=z></option> }).collect_view()}
                </datalist>
                <ul class="rules" aria-live="polite">{problems_of("window")}</ul>
            </fieldset>

            <follow_ups::FollowUpsEditor draft=draft saved_replies=saved_replies.clone() />

            <div class="button-row">
                <button type="button" class="button" data-testid="check-campaign" disabled=blocked
                    on:click=move |_| { check.dispatch(()); preview.dispatch(()); }>"Preview and check"</button>
                <button type="button" class="button" data-testid="save-campaign" disabled=move || blocked() || save.pending().get()
                    on:click=move |_| { save.dispatch(false); }>"Save draft"</button>
                <button type="button" class="button button-primary" data-testid="launch-campaign" disabled=move || blocked() || save.pending().get() || confirm.pending().get()
                    on:click=move |_| { confirming.set(true); confirm.dispatch(()); }>
                    {move || if scheduled() { "Schedule…" } else { "Launch now…" }}
                </button>
            </div>
            {move || (confirming.get() && !confirm.pending().get()).then(|| match confirm.value().get() {
                None => ().into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Some(Ok(p)) if p.recipients == 0 && !scheduled() => view! {
                    <p class="error" role="alert" data-testid="launch-confirm">"Nobody would receive this campaign: its audience has no eligible recipient."</p>
                }.into_any(),
                Some(Ok(p)) => {
                    let at = draft.with_untracked(|d| match &d.schedule {
                        Schedule::At { local, time_zone } => Some(format!("{} ({time_zone})", local.replace('T', " "))),
                        Schedule::Now => None,
                    });
                    let sentence = launch_sentence(p.recipients, p.total_cost, &p.currency, &p.duration, at.as_deref());
                    view! {
                        <div class="confirm" role="alertdialog" aria-labelledby="launch-sentence">
                            <p id="launch-sentence" data-testid="launch-confirm"><strong>{sentence}</strong></p>
                            <div class="button-row">
                                <button type="button" class="button button-primary" data-testid="confirm-launch"
                                    disabled=move || save.pending().get()
                                    on:click=move |_| { save.dispatch(true); }>
                                    {if at.is_some() { "Schedule it" } else { "Send it" }}
                                </button>
                                <button type="button" class="button" data-testid="cancel-launch"
                                    on:click=move |_| confirming.set(false)>"Not yet"</button>
                            </div>
                        </div>
                    }.into_any()
                }
            })}
            {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </form>

        <section class="card" data-testid="campaign-preview">
            <h2>"Preview"</h2>
            <div class="inline-form">
                <label>"Show a contact" <input type="search" placeholder="number or name" prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev)) /></label>
                <button type="button" class="button" disabled=blocked on:click=move |_| { preview.dispatch(()); }>"Show"</button>
            </div>
            {move || preview.value().get().map(|r| match r {
                Ok(list) if list.is_empty() => view! { <p class="muted">"Nobody in the audience (or no contact matches)."</p> }.into_any(),
                Ok(list) => list.into_iter().map(|m: PreviewMessage| view! {
                    <div class="preview-message" data-testid="preview-message">
                        <p class="muted">{format!("{} · {}", m.name, m.phone)}</p>
                        {match m.body {
                            Ok(body) => view! { <blockquote class="bubble"><div class="bubble-body">{body}</div></blockquote> }.into_any(),
                            Err(why) => view! { <p class="rule-warning">{why}</p> }.into_any(),
                        }}
                    </div>
                }).collect_view().into_any(),
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
            })}
        </section>

        <section class="card" data-testid="campaign-preflight">
            <h2>"Pre-flight check"</h2>
            {move || match check.value().get() {
                None => view! { <p class="muted">"Press “Preview and check” to count recipients and exclusions and estimate cost and time."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Some(Ok(p)) => view! { <PreflightReport report=p /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn BindingRow(draft: RwSignal<CampaignDraft>, index: usize) -> impl IntoView {
    let binding = move || draft.with(|d| d.bindings.get(index).cloned());
    let kind = move || {
        binding()
            .map(|b| source_kind(&b.source))
            .unwrap_or("first_name")
    };
    let label = move || binding().map(|b| b.slot.label()).unwrap_or_default();
    let update = move |f: &dyn Fn(&mut VariableBinding)| {
        draft.update(|d| {
            if let Some(b) = d.bindings.get_mut(index) {
                f(b);
            }
        })
    };
    view! {
        <div class="inline-form binding" data-testid="binding">
            <strong>{label}</strong>
            <label>"from"
                <select data-testid="binding-source" prop:value=kind
                    on:change=move |ev| { let k = event_target_value(&ev); update(&|b| b.source = source_of(&k, String::new())); }>
                    {SOURCES.iter().map(|(v, l)| view! { <option value=*v>{*l}</option> }).collect_view()}
                </select>
            </label>
            {move || matches!(kind(), "attribute" | "fixed").then(|| view! {
                <label>{if kind() == "fixed" { "text" } else { "attribute" }}
                    <input data-testid="binding-value" list=move || (kind() == "attribute").then_some("attribute-names")
                        prop:value=move || binding().map(|b| source_text(&b.source)).unwrap_or_default()
                        on:input=move |ev| { let v = event_target_value(&ev); let k = kind(); update(&|b| b.source = source_of(k, v.clone())); } />
                </label>
            })}
            <label>"if empty"
                <input data-testid="binding-fallback" placeholder="skip the contact" prop:value=move || binding().map(|b| b.fallback).unwrap_or_default()
                    on:input=move |ev| { let v = event_target_value(&ev); update(&|b| b.fallback = v.clone()); } />
            </label>
        </div>
    }
}

#[component]
fn PreflightReport(report: Preflight) -> impl IntoView {
    let d = report.duration;
    let minutes = d.sending_secs.div_ceil(60);
    let days = d.tier_wait_ms / 86_400_000;
    view! {
        <p data-testid="preflight-recipients"><strong>{report.recipients}</strong>" recipients will be sent to."</p>
        {(report.merged > 0).then(|| view! {
            <p class="muted" data-testid="preflight-merged">{merged_sentence(report.merged)}</p>
        })}
        {(!report.excluded.is_empty()).then(|| view! {
            <h3>"Excluded"</h3>
            <table class="table" data-testid="preflight-excluded"><tbody>
                {report.excluded.iter().map(|(why, n)| view! { <tr><td>{why.clone()}</td><td>{*n}</td></tr> }).collect_view()}
            </tbody></table>
        })}
        <h3>"Estimated cost"</h3>
        <table class="table" data-testid="preflight-cost">
            <thead><tr><th>"Country"</th><th>"Category"</th><th>"Messages"</th><th>"Each"</th><th>"Total"</th></tr></thead>
            <tbody>
                {report.cost.iter().map(|c| view! {
                    <tr><td>{c.country.clone()}</td><td>{c.category.to_lowercase()}</td><td>{c.count}</td>
                        <td>{format!("{:.4}", c.unit)}</td><td>{format!("{:.2}", c.total)}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
        <p>"Total: "<strong>{money(report.total_cost, &report.currency)}</strong>" (from the price table under Sending limits and prices; Meta charges per delivered message)."</p>
        <h3>"Estimated time"</h3>
        <p data-testid="preflight-duration">
            {format!("About {minutes} minute(s) of sending at {} messages per second. ", report.messages_per_second)}
            {if d.tier_wait_ms > 0 {
                format!("The messaging limit ({}) allows {} new conversations now; the rest wait about {} more day(s) as the 24-hour window moves.", report.limit, d.fit_now, days.max(1))
            } else {
                format!("Everyone fits in the messaging limit ({}).", report.limit)
            }}
        </p>
    }
}

/// Numbers met twice are one recipient each: said as information, never as an exclusion.
pub fn merged_sentence(merged: u64) -> String {
    match merged {
        1 => "One number is in the audience twice (segment and list, or repeated) and gets one message.".into(),
        n => format!("{n} numbers are in the audience twice (segment and list, or repeated); each gets one message."),
    }
}
