//! `/contacts/segments`: saved filters over contacts. The editor checks each condition in the
//! browser with `domain::contacts::segment::compile` (the server runs the same before saving)
//! and shows how many contacts match, recounted on the server half a second after each change.

use domain::contacts::segment::{compile, Condition, SegmentDefinition, FIELDS};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::contacts::{
    count_segment, delete_segment, list_segments, save_segment, SegmentSummary,
};
use crate::components::contacts_nav::ContactsNav;
use crate::session::PageSession;

/// `/contacts/segments`.
#[component]
pub fn SegmentsPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let segments = Resource::new(move || version.get(), |_| list_segments());
    let editing = RwSignal::new(None::<SegmentSummary>);
    view! {
        <Title text="Segments" />
        <h1>"Contacts"</h1>
        <ContactsNav />
        <h2>"Segments"</h2>
        <p class="muted">"A segment selects contacts by tags, attributes, consent, language, country and activity. Campaigns send to a segment as it stands when they launch."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match segments.await {
                    Ok(list) if list.is_empty() => view! { <p class="notice">"No segments yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="segment-list">
                            <thead><tr><th>"Name"</th><th>"Conditions"</th><th></th></tr></thead>
                            <tbody>{list.into_iter().map(|s| {
                                let for_edit = s.clone();
                                view! {
                                    <tr data-testid="segment-row">
                                        <td>{s.definition.name.clone()}</td>
                                        <td>{describe(&s.definition)}</td>
                                        <td class="actions">
                                            <button type="button" class="button" on:click=move |_| editing.set(Some(for_edit.clone()))>"Edit"</button>
                                            <a class="button" href=format!("/contacts/export.csv?segment={}", s.id) download>"Export CSV"</a>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || {
            let current = editing.get();
            view! { <SegmentEditor existing=current on_saved=move || { editing.set(None); version.update(|v| *v += 1); } /> }
        }}
    }
}

fn describe(def: &SegmentDefinition) -> String {
    if def.conditions.is_empty() {
        return "every contact".into();
    }
    let joiner = if def.match_all { " and " } else { " or " };
    def.conditions
        .iter()
        .map(|c| {
            let subject = if c.field == "attribute" {
                c.name.clone()
            } else {
                c.field.replace('_', " ")
            };
            format!("{subject} {} {}", c.op.replace('_', " "), c.value)
                .trim()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(joiner)
}

#[component]
fn SegmentEditor(
    existing: Option<SegmentSummary>,
    on_saved: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let id = existing.as_ref().map(|s| s.id.clone());
    let def = RwSignal::new(existing.map(|s| s.definition).unwrap_or(SegmentDefinition {
        name: String::new(),
        match_all: true,
        conditions: Vec::new(),
    }));
    // Problems other than a missing name, which only matters when saving.
    let problems = Memo::new(move |_| def.with(|d| compile(d).err().unwrap_or_default()));
    let condition_problems = Memo::new(move |_| {
        problems
            .get()
            .into_iter()
            .filter(|p| p.field != "name")
            .collect::<Vec<_>>()
    });
    // Debounced live count: the request goes out 400 ms after the last change.
    let settled = RwSignal::new(def.get_untracked());
    Effect::new(move |_| {
        let current = def.get();
        let handle = set_timeout_with_handle(
            move || settled.set(current),
            std::time::Duration::from_millis(400),
        );
        if let Ok(h) = handle {
            on_cleanup(move || h.clear());
        }
    });
    let count = Resource::new(move || settled.get(), {
        let csrf = csrf.clone();
        move |d: SegmentDefinition| {
            let csrf = csrf.clone();
            async move {
                let named = SegmentDefinition {
                    name: "count".into(),
                    ..d
                };
                if compile(&named).is_err() {
                    return None;
                }
                count_segment(csrf, named).await.ok()
            }
        }
    });
    let save = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        let on_saved = on_saved.clone();
        move |_: &()| {
            let (csrf, id, d, on_saved) = (
                csrf.clone(),
                id.clone(),
                def.get_untracked(),
                on_saved.clone(),
            );
            async move {
                save_segment(csrf, id, d).await.map_err(|e| e.to_string())?;
                on_saved();
                Ok::<_, String>(())
            }
        }
    });
    let remove = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |_: &()| {
            let (csrf, id, on_saved) = (csrf.clone(), id.clone(), on_saved.clone());
            async move {
                if let Some(id) = id {
                    delete_segment(csrf, id).await.map_err(|e| e.to_string())?;
                }
                on_saved();
                Ok::<_, String>(())
            }
        }
    });
    let add = move |_| {
        def.update(|d| {
            d.conditions.push(Condition {
                field: "tag".into(),
                op: "has".into(),
                ..Condition::default()
            })
        })
    };
    let is_new = id.is_none();
    view! {
        <section class="card form" data-testid="segment-editor">
            <h2>{if is_new { "New segment" } else { "Edit segment" }}</h2>
            <label>"Name" <input data-testid="segment-name" prop:value=move || def.with(|d| d.name.clone())
                on:input=move |ev| def.update(|d| d.name = event_target_value(&ev)) /></label>
            <label>"Contacts must match "
                <select prop:value=move || if def.with(|d| d.match_all) { "all" } else { "any" }
                    on:change=move |ev| def.update(|d| d.match_all = event_target_value(&ev) == "all")>
                    <option value="all">"all conditions"</option>
                    <option value="any">"any condition"</option>
                </select>
            </label>
            <ol class="conditions">
                {move || (0..def.with(|d| d.conditions.len())).map(|i| view! { <ConditionRow def=def index=i /> }).collect_view()}
            </ol>
            <button type="button" class="button" data-testid="add-condition" on:click=add>"Add a condition"</button>
            <ul class="rules" aria-live="polite">
                {move || condition_problems.get().into_iter().map(|p| view! { <li class="rule-error" data-rule=p.rule>{p.message}</li> }).collect_view()}
            </ul>
            <p class="segment-count" aria-live="polite">
                <Transition fallback=|| view! { <span class="muted">"Counting…"</span> }>
                    {move || Suspend::new(async move {
                        match count.await {
                            Some(n) => view! { <strong data-testid="segment-count">{n}</strong>" contacts match now." }.into_any(),
                            None => view! { <span class="muted">"Fix the conditions to see how many contacts match."</span> }.into_any(),
                        }
                    })}
                </Transition>
            </p>
            <div class="actions">
                <button type="button" class="button button-primary" data-testid="save-segment"
                    disabled=move || save.pending().get() || !problems.with(Vec::is_empty)
                    on:click=move |_| { save.dispatch(()); }>"Save segment"</button>
                {(!is_new).then(|| view! {
                    <button type="button" class="button button-quiet" on:click=move |_| { remove.dispatch(()); }>"Delete"</button>
                })}
            </div>
            {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || remove.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

#[component]
fn ConditionRow(def: RwSignal<SegmentDefinition>, index: usize) -> impl IntoView {
    let get = move |f: fn(&Condition) -> String| {
        move || def.with(|d| d.conditions.get(index).map(f).unwrap_or_default())
    };
    let set = move |f: fn(&mut Condition, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            def.update(|d| {
                if let Some(c) = d.conditions.get_mut(index) {
                    f(c, v)
                }
            });
        }
    };
    let field = get(|c| c.field.clone());
    let ops = move || {
        FIELDS
            .iter()
            .find(|(f, _)| *f == field())
            .map(|(_, ops)| ops.to_vec())
            .unwrap_or_default()
    };
    view! {
        <li data-testid="condition">
            <select aria-label="Field" data-testid="condition-field" prop:value=get(|c| c.field.clone())
                on:change=set(|c, v| {
                    c.op = FIELDS.iter().find(|(f, _)| *f == v).map(|(_, ops)| ops[0].to_string()).unwrap_or_default();
                    c.field = v;
                })>
                {FIELDS.iter().map(|(f, _)| view! { <option value=*f>{f.replace('_', " ")}</option> }).collect_view()}
            </select>
            {move || (field() == "attribute").then(|| view! {
                <input aria-label="Attribute" placeholder="attribute name" prop:value=get(|c| c.name.clone()) on:input=set(|c, v| c.name = v) />
            })}
            <select aria-label="Operator" data-testid="condition-op" prop:value=get(|c| c.op.clone()) on:change=set(|c, v| c.op = v)>
                {move || ops().into_iter().map(|o| view! { <option value=o>{o.replace('_', " ")}</option> }).collect_view()}
            </select>
            <input aria-label="Value" data-testid="condition-value" prop:value=get(|c| c.value.clone()) on:input=set(|c, v| c.value = v) />
            <button type="button" class="button button-quiet" aria-label="Remove condition"
                on:click=move |_| def.update(|d| { if index < d.conditions.len() { d.conditions.remove(index); } })>"✕"</button>
        </li>
    }
}
