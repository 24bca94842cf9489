//! The wizard's follow-ups: after the template, what a reply does — by a text answer ("1",
//! "1️⃣" and "one" alike), a button's payload, or any other reply — and what happens when the
//! wait ends without one. Checked live by `FollowUps::problems`, which the server runs again.

use domain::automation::follow_up::{Branch, FollowUps, NoReplyAction, ReplyAction};
use domain::automation::reply::Trigger;
use domain::campaign::CampaignDraft;
use leptos::prelude::*;

/// A first plan: "reply 1" and "reply 2", a day's wait, nothing without an answer.
fn starting_plan() -> FollowUps {
    let answer = |value: &str| Branch {
        trigger: Trigger::Text {
            values: vec![value.into()],
        },
        action: ReplyAction::SendText {
            text: String::new(),
        },
    };
    FollowUps {
        branches: vec![answer("1"), answer("2")],
        wait_minutes: 24 * 60,
        no_reply: NoReplyAction::Nothing,
    }
}

fn trigger_kind(trigger: &Trigger) -> &'static str {
    match trigger {
        Trigger::Payload { .. } => "payload",
        Trigger::OtherReply | Trigger::NoReply => "other",
        Trigger::Text { .. } => "text",
    }
}

fn trigger_value(trigger: &Trigger) -> String {
    match trigger {
        Trigger::Payload { payload } => payload.clone(),
        Trigger::Text { values } => values.join(", "),
        Trigger::OtherReply | Trigger::NoReply => String::new(),
    }
}

fn trigger_of(kind: &str, value: &str) -> Trigger {
    match kind {
        "payload" => Trigger::Payload {
            payload: value.trim().to_string(),
        },
        "other" => Trigger::OtherReply,
        _ => Trigger::Text {
            values: value
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect(),
        },
    }
}

fn action_kind(action: &ReplyAction) -> &'static str {
    match action {
        ReplyAction::SendText { .. } => "send_text",
        ReplyAction::SendSavedReply { .. } => "send_saved_reply",
        ReplyAction::Tag { .. } => "tag",
        ReplyAction::Nothing => "nothing",
    }
}

fn action_of(kind: &str) -> ReplyAction {
    match kind {
        "send_saved_reply" => ReplyAction::SendSavedReply {
            template_id: String::new(),
        },
        "tag" => ReplyAction::Tag { tag: String::new() },
        "nothing" => ReplyAction::Nothing,
        _ => ReplyAction::SendText {
            text: String::new(),
        },
    }
}

/// Changes the plan of `draft`, if it has one.
fn edit(draft: RwSignal<CampaignDraft>, f: impl FnOnce(&mut FollowUps)) {
    draft.update(|d| {
        if let Some(plan) = d.follow_ups.as_mut() {
            f(plan);
        }
    });
}

/// The follow-ups fieldset.
#[component]
pub(super) fn FollowUpsEditor(
    draft: RwSignal<CampaignDraft>,
    saved_replies: Vec<(String, String)>,
) -> impl IntoView {
    let saved = StoredValue::new(saved_replies);
    let on = move || draft.with(|d| d.follow_ups.is_some());
    let count = move || draft.with(|d| d.follow_ups.as_ref().map_or(0, |p| p.branches.len()));
    let problems = move || {
        draft.with(|d| {
            d.follow_ups
                .as_ref()
                .map(FollowUps::problems)
                .unwrap_or_default()
        })
    };
    view! {
        <fieldset data-testid="follow-ups-editor">
            <legend>"Follow-ups"</legend>
            <label class="checkbox"><input type="checkbox" data-testid="follow-ups-on" prop:checked=on
                on:change=move |ev| {
                    let enabled = event_target_checked(&ev);
                    draft.update(|d| d.follow_ups = enabled.then(starting_plan));
                } />"React to replies (\u{201c}reply 1 or 2\u{201d}, a button) and to no reply"</label>
            {move || on().then(|| view! {
                <label>"Wait for a reply (minutes; 1440 is a day, up to 7 days)"
                    <input type="number" min="1" max="10080" data-testid="follow-up-wait"
                        prop:value=move || draft.with(|d| d.follow_ups.as_ref().map_or(0, |p| p.wait_minutes).to_string())
                        on:input=move |ev| {
                            let minutes = event_target_value(&ev).trim().parse().unwrap_or(0);
                            edit(draft, |p| p.wait_minutes = minutes);
                        } /></label>
                {move || (0..count()).map(|index| view! { <BranchRow draft=draft index=index saved=saved /> }).collect_view()}
                <button type="button" class="button" data-testid="follow-up-add"
                    on:click=move |_| edit(draft, |p| p.branches.push(Branch {
                        trigger: Trigger::Text { values: Vec::new() },
                        action: ReplyAction::SendText { text: String::new() },
                    }))>"+ Add a branch"</button>
                <div class="inline-form">
                    <label>"Without a reply by then"
                        <select data-testid="follow-up-no-reply"
                            prop:value=move || draft.with(|d| match d.follow_ups.as_ref().map(|p| &p.no_reply) { Some(NoReplyAction::Tag { .. }) => "tag", _ => "nothing" })
                            on:change=move |ev| {
                                let tagged = event_target_value(&ev) == "tag";
                                edit(draft, |p| p.no_reply = if tagged { NoReplyAction::Tag { tag: "no-reply".into() } } else { NoReplyAction::Nothing });
                            }>
                            <option value="nothing">"nothing more"</option>
                            <option value="tag">"tag the contact"</option>
                        </select></label>
                    {move || draft.with(|d| match d.follow_ups.as_ref().map(|p| &p.no_reply) { Some(NoReplyAction::Tag { tag }) => Some(tag.clone()), _ => None }).map(|tag| view! {
                        <label>"Tag" <input data-testid="follow-up-no-reply-tag" prop:value=tag
                            on:input=move |ev| { let tag = event_target_value(&ev); edit(draft, |p| p.no_reply = NoReplyAction::Tag { tag }); } /></label>
                    })}
                </div>
                <p class="muted">"Without a reply, WhatsApp's window may be closed, so only a tag (or nothing) can follow; a reply opens the window for a message."</p>
                <ul class="rules" aria-live="polite">
                    {move || problems().into_iter().map(|p| view! { <li class="rule-error" data-rule=p.rule>{p.message}</li> }).collect_view()}
                </ul>
            })}
        </fieldset>
    }
}

#[component]
fn BranchRow(
    draft: RwSignal<CampaignDraft>,
    index: usize,
    saved: StoredValue<Vec<(String, String)>>,
) -> impl IntoView {
    let branch = move || {
        draft.with(|d| {
            d.follow_ups
                .as_ref()
                .and_then(|p| p.branches.get(index).cloned())
        })
    };
    let set = move |f: Box<dyn FnOnce(&mut Branch)>| {
        edit(draft, |p| {
            if let Some(b) = p.branches.get_mut(index) {
                f(b);
            }
        });
    };
    let kind = move || branch().map_or("text", |b| trigger_kind(&b.trigger));
    let action = move || branch().map_or("send_text", |b| action_kind(&b.action));
    view! {
        <div class="inline-form follow-up-branch" data-testid=format!("follow-up-branch-{index}")>
            <label>"When the customer"
                <select data-testid="branch-trigger" prop:value=kind
                    on:change=move |ev| { let k = event_target_value(&ev); set(Box::new(move |b| b.trigger = trigger_of(&k, ""))); }>
                    <option value="text">"replies"</option>
                    <option value="payload">"taps the button with payload"</option>
                    <option value="other">"replies anything else"</option>
                </select></label>
            {move || (kind() != "other").then(|| view! {
                <label>{move || if kind() == "text" { "Answers (comma-separated)" } else { "Payload" }}
                    <input data-testid="branch-value" prop:value=move || branch().map(|b| trigger_value(&b.trigger)).unwrap_or_default()
                        on:change=move |ev| { let v = event_target_value(&ev); let k = kind(); set(Box::new(move |b| b.trigger = trigger_of(k, &v))); } /></label>
            })}
            <label>"Herald"
                <select data-testid="branch-action" prop:value=action
                    on:change=move |ev| { let a = event_target_value(&ev); set(Box::new(move |b| b.action = action_of(&a))); }>
                    <option value="send_text">"sends a message"</option>
                    <option value="send_saved_reply">"sends a saved reply"</option>
                    <option value="tag">"tags the contact"</option>
                    <option value="nothing">"does nothing more"</option>
                </select></label>
            {move || match branch().map(|b| b.action) {
                Some(ReplyAction::SendText { text }) => view! {
                    <label>"Message" <textarea rows="2" data-testid="branch-text" prop:value=text
                        on:input=move |ev| { let text = event_target_value(&ev); set(Box::new(move |b| b.action = ReplyAction::SendText { text })); }></textarea></label>
                }.into_any(),
                Some(ReplyAction::SendSavedReply { template_id }) => view! {
                    <label>"Saved reply"
                        <select data-testid="branch-saved-reply" prop:value=template_id
                            on:change=move |ev| { let template_id = event_target_value(&ev); set(Box::new(move |b| b.action = ReplyAction::SendSavedReply { template_id })); }>
                            <option value="">"—"</option>
                            {saved.with_value(|s| s.iter().map(|(id, name)| view! { <option value=id.clone()>{name.clone()}</option> }).collect_view())}
                        </select></label>
                }.into_any(),
                Some(ReplyAction::Tag { tag }) => view! {
                    <label>"Tag" <input data-testid="branch-tag" prop:value=tag
                        on:input=move |ev| { let tag = event_target_value(&ev); set(Box::new(move |b| b.action = ReplyAction::Tag { tag })); } /></label>
                }.into_any(),
                _ => ().into_any(),
            }}
            <button type="button" class="button button-quiet" data-testid="branch-remove"
                on:click=move |_| edit(draft, |p| { if index < p.branches.len() { p.branches.remove(index); } })>"Remove"</button>
        </div>
    }
}
