//! `/templates/new` and `/templates/{id}`: the template editor. The lint runs in the browser on
//! every keystroke (the same `domain::template::lint` the server enforces before submitting),
//! findings sit under the field they concern, and a chat-bubble preview shows the message with
//! its examples filled in and WhatsApp's formatting applied. A saved session reply can also
//! keep a file to send ([`saved_file`]).

mod saved_file;

use domain::template::form::{variables, ButtonForm, TemplateForm};
use domain::template::lint::{lint, lint_session_reply, Finding, Severity};
use domain::template::preview::fill;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::templates::{
    clone_template, delete_template, get_template, save_template, submit_template, TemplateView,
};
use crate::api::whatsapp::list_connections;
use crate::components::formatted::formatted;
use crate::components::refresh::refresh_tick;
use crate::navigation::{confirm, go_to, reload};
use crate::session::PageSession;

/// `/templates/new` and `/templates/{id}`.
#[component]
pub fn TemplateEditorPage() -> impl IntoView {
    let params = use_params_map();
    let loaded = Resource::new(
        move || params.read().get("id"),
        |id| async move {
            match id {
                Some(id) => get_template(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text="Template" />
        <p><a href="/templates">"← All templates"</a></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Ok(existing) => view! { <Editor existing=existing /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Status and history of a saved template, refreshed every two seconds so review results that
/// arrive by webhook appear without a reload (the form beside it is left alone).
#[component]
fn StatusPanel(id: String) -> impl IntoView {
    let tick = refresh_tick(2_000);
    let state = Resource::new(move || tick.get(), move |_| get_template(id.clone()));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move { state.await.ok().map(|view| status_card(&view)) })}
        </Transition>
    }
}

fn status_card(view: &TemplateView) -> impl IntoView {
    let history = view
        .history
        .iter()
        .map(|h| {
            let extra = [h.reason.clone(), h.detail.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" — ");
            view! { <li><time data-ms=h.at_ms.to_string()>{h.status.clone()}</time>" " <span class="muted">{extra}</span></li> }
        })
        .collect_view();
    view! {
        <section class="card" data-testid="template-state">
            <h2>"Status: " <span class=format!("status tone-{}", view.status.tone) data-testid="template-status">{view.status.label.clone()}</span></h2>
            {view.rejected_reason.clone().filter(|r| r != "NONE").map(|r| view! {
                <p class="error" data-testid="rejection">"Rejected by Meta: " <strong>{r}</strong>
                    {view.status_detail.clone().map(|d| format!(" — {d}"))}</p>
            })}
            {view.edits_left.map(|n| view! {
                <p class="muted">{format!("{n} of Meta's 10 edits per 30 days left (at most one a day).")}</p>
            })}
            <h3>"History"</h3>
            <ul class="history">{history}</ul>
        </section>
    }
}

#[component]
fn Editor(existing: Option<TemplateView>) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let id = existing.as_ref().map(|v| v.id.clone());
    let editable = existing.as_ref().is_none_or(|v| v.editable);
    let submitted = existing.as_ref().is_some_and(|v| v.meta_id.is_some());
    let form = RwSignal::new(
        existing
            .as_ref()
            .map(|v| TemplateForm::from_definition(&v.definition))
            .unwrap_or_default(),
    );
    let kind = RwSignal::new(
        existing
            .as_ref()
            .map_or("approved".to_string(), |v| v.kind.clone()),
    );
    let connection = RwSignal::new(
        existing
            .as_ref()
            .and_then(|v| v.connection_id.clone())
            .unwrap_or_default(),
    );
    // A session reply is never reviewed by Meta but is sent as an interactive message: its
    // own rule set.
    let findings = Memo::new(move |_| {
        let definition = form.with(|f| f.to_definition());
        if kind.get() == "session_reply" {
            lint_session_reply(&definition)
        } else {
            lint(&definition)
        }
    });
    let connections = Resource::new(|| (), |_| list_connections());

    // `Action::new`, not `new_local`: a local action holds a `SendWrapper` that panics when the
    // server drops the rendered page on another worker thread (leptos#3746), which cut the
    // response short. Server-function futures are `Send` in the browser too.
    let action = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |submit: &bool| {
            let (csrf, id, submit) = (csrf.clone(), id.clone(), *submit);
            async move {
                let conn = connection.get_untracked();
                let saved = save_template(
                    csrf.clone(),
                    id.clone(),
                    kind.get_untracked(),
                    (!conn.is_empty()).then_some(conn),
                    form.get_untracked().to_definition(),
                )
                .await
                .map_err(|e| e.to_string())?;
                if submit {
                    submit_template(csrf, saved.clone())
                        .await
                        .map_err(|e| e.to_string())?;
                }
                if id.is_none() {
                    go_to(&format!("/templates/{saved}"));
                } else if submit {
                    // The template is now in review and read-only: show it as such.
                    reload();
                }
                Ok::<_, String>(if submit {
                    "Submitted for review."
                } else {
                    "Saved."
                })
            }
        }
    });
    let copy = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |_: &()| {
            let (csrf, id) = (csrf.clone(), id.clone());
            async move {
                let Some(id) = id else { return Ok(()) };
                let copy = clone_template(csrf, id).await.map_err(|e| e.to_string())?;
                go_to(&format!("/templates/{copy}"));
                Ok::<_, String>(())
            }
        }
    });
    let remove = Action::new({
        let (csrf, id) = (csrf.clone(), id.clone());
        move |_: &()| {
            let (csrf, id) = (csrf.clone(), id.clone());
            async move {
                if let Some(id) = id {
                    delete_template(csrf, id).await.map_err(|e| e.to_string())?;
                }
                go_to("/templates");
                Ok::<_, String>(())
            }
        }
    });

    let text = move |get: fn(&TemplateForm) -> &String, set: fn(&mut TemplateForm, String)| {
        (
            move || form.with(|f| get(f).clone()),
            move |ev| form.update(|f| set(f, event_target_value(&ev))),
        )
    };
    let (name_value, name_input) = text(|f| &f.name, |f, v| f.name = v);
    let (body_value, body_input) = text(|f| &f.body, |f, v| f.body = v);
    let (header_value, header_input) = text(|f| &f.header_text, |f, v| f.header_text = v);
    let (header_example_value, header_example_input) =
        text(|f| &f.header_example, |f, v| f.header_example = v);
    let (footer_value, footer_input) = text(|f| &f.footer, |f, v| f.footer = v);
    let (language_value, language_input) = text(|f| &f.language, |f, v| f.language = v);
    let select = move |get: fn(&TemplateForm) -> &String, set: fn(&mut TemplateForm, String)| {
        (
            move || form.with(|f| get(f).clone()),
            move |ev| form.update(|f| set(f, event_target_value(&ev))),
        )
    };
    let (category_value, category_change) = select(|f| &f.category, |f, v| f.category = v);
    let (format_value, format_change) =
        select(|f| &f.parameter_format, |f, v| f.parameter_format = v);
    let (header_format_value, header_format_change) =
        select(|f| &f.header_format, |f, v| f.header_format = v);

    let example_inputs = move || {
        form.with(|f| variables(&f.body))
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                view! {
                    <label>{format!("Example for {{{{{name}}}}}")}
                        <input data-testid="body-example"
                            prop:value=move || form.with(|f| f.body_examples.get(i).cloned().unwrap_or_default())
                            on:input=move |ev| {
                                let value = event_target_value(&ev);
                                form.update(|f| {
                                    if f.body_examples.len() <= i {
                                        f.body_examples.resize(i + 1, String::new());
                                    }
                                    f.body_examples[i] = value;
                                });
                            } />
                    </label>
                }
            })
            .collect_view()
    };

    let add_button = move |kind: &'static str| {
        move |_| {
            form.update(|f| {
                f.buttons.push(ButtonForm {
                    kind: kind.into(),
                    ..ButtonForm::default()
                })
            })
        }
    };
    let button_rows = move || {
        (0..form.with(|f| f.buttons.len()))
            .map(|i| {
                let get = move |pick: fn(&ButtonForm) -> String| {
                    move || form.with(|f| f.buttons.get(i).map(pick).unwrap_or_default())
                };
                let set = move |put: fn(&mut ButtonForm, String)| {
                    move |ev| {
                        let v = event_target_value(&ev);
                        form.update(|f| {
                            if let Some(b) = f.buttons.get_mut(i) {
                                put(b, v);
                            }
                        })
                    }
                };
                let kind = form.with(|f| f.buttons.get(i).map(|b| b.kind.clone()).unwrap_or_default());
                view! {
                    <div class="button-row" data-testid="button-row">
                        <strong>{kind.replace('_', " ").to_lowercase()}</strong>
                        {(kind != "COPY_CODE").then(|| view! {
                            <label>"Label" <input prop:value=get(|b| b.text.clone()) on:input=set(|b, v| b.text = v) /></label>
                        })}
                        {(kind == "URL").then(|| view! {
                            <label>"URL" <input prop:value=get(|b| b.url.clone()) on:input=set(|b, v| b.url = v) /></label>
                        })}
                        {(kind == "URL" || kind == "COPY_CODE").then(|| view! {
                            <label>{if kind == "URL" { "Example for the URL variable" } else { "Code" }}
                                <input prop:value=get(|b| b.example.clone()) on:input=set(|b, v| b.example = v) /></label>
                        })}
                        {(kind == "PHONE_NUMBER").then(|| view! {
                            <label>"Phone number" <input prop:value=get(|b| b.phone_number.clone()) on:input=set(|b, v| b.phone_number = v) /></label>
                        })}
                        <button type="button" class="button button-quiet" on:click=move |_| form.update(|f| { if i < f.buttons.len() { f.buttons.remove(i); } })>"Remove"</button>
                    </div>
                }
            })
            .collect_view()
    };

    let has_errors = move || findings.with(|f| f.iter().any(|x| x.severity == Severity::Error));
    let busy = move || action.pending().get() || remove.pending().get() || copy.pending().get();
    let settings_fields = view! {
                    <label>"Kind"
                        <select prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                            <option value="approved">"Approved template (reviewed by Meta)"</option>
                            <option value="session_reply">"Session reply (Herald only, inside the 24-hour window)"</option>
                        </select>
                    </label>
                    <label>"Connection"
                        <select prop:value=move || connection.get() on:change=move |ev| connection.set(event_target_value(&ev)) data-testid="template-connection">
                            <option value="">"—"</option>
                            <Transition fallback=|| ()>
                                {move || Suspend::new(async move {
                                    connections.await.unwrap_or_default().into_iter().map(|c| view! {
                                        <option value=c.id.clone() selected=move || connection.get() == c.id>{c.name.clone()}</option>
                                    }).collect_view()
                                })}
                            </Transition>
                        </select>
                    </label>
                    <label>"Name" <input data-testid="template-name" disabled=submitted prop:value=name_value on:input=name_input /></label>
                    <Findings findings=findings component="name" />
                    <label>"Language" <input disabled=submitted prop:value=language_value on:input=language_input /></label>
                    <Findings findings=findings component="language" />
                    <label>"Category"
                        <select prop:value=category_value on:change=category_change>
                            <option value="UTILITY">"Utility"</option>
                            <option value="MARKETING">"Marketing"</option>
                            <option value="AUTHENTICATION">"Authentication"</option>
                        </select>
                    </label>
                    <label>"Variables"
                        <select prop:value=format_value on:change=format_change>
                            <option value="positional">"Numbered: {{1}}, {{2}}"</option>
                            <option value="named">"Named: {{first_name}}"</option>
                        </select>
                    </label>
                    <label>"Header"
                        <select prop:value=header_format_value on:change=header_format_change>
                            <option value="NONE">"None"</option>
                            <option value="TEXT">"Text"</option>
                            <option value="IMAGE">"Image"</option>
                            <option value="VIDEO">"Video"</option>
                            <option value="DOCUMENT">"Document"</option>
                            <option value="LOCATION">"Location"</option>
                        </select>
                    </label>
                    <Show when=move || form.with(|f| f.header_format == "TEXT")>
                        <label>"Header text" <input prop:value=header_value on:input=header_input /></label>
                    </Show>
                    <Show when=move || form.with(|f| f.header_format != "NONE" && f.header_format != "LOCATION")>
                        <label>{move || if form.with(|f| f.header_format == "TEXT") { "Header example" } else { "Sample media handle" }}
                            <input prop:value=header_example_value on:input=header_example_input /></label>
                    </Show>
                    <Findings findings=findings component="header" />
    }
    .into_any();
    let content_fields = view! {
                    <label>"Body" <textarea data-testid="template-body" rows="6" prop:value=body_value on:input=body_input></textarea></label>
                    <p class="muted">"WhatsApp formatting: *bold*, _italic_, ~strike~, ```monospace```."</p>
                    <Findings findings=findings component="body" />
                    {example_inputs}
                    <label>"Footer (optional)" <input prop:value=footer_value on:input=footer_input /></label>
                    <Findings findings=findings component="footer" />
                    <h3>"Buttons"</h3>
                    {button_rows}
                    <div class="actions">
                        <button type="button" class="button" on:click=add_button("QUICK_REPLY")>"+ Quick reply"</button>
                        <button type="button" class="button" on:click=add_button("URL")>"+ Link"</button>
                        <button type="button" class="button" on:click=add_button("PHONE_NUMBER")>"+ Call"</button>
                        <button type="button" class="button" on:click=add_button("COPY_CODE")>"+ Copy code"</button>
                    </div>
                    <Findings findings=findings component="buttons" />
    }
    .into_any();
    let file = existing.as_ref().and_then(|v| v.file.clone());
    let file_id = id.clone();
    let fields = view! {
        <fieldset disabled=!editable>
            {settings_fields}
            {content_fields}
        </fieldset>
        <Show when=move || kind.get() == "session_reply">
            <saved_file::SavedReplyFile id=file_id.clone() file=file.clone() />
        </Show>
    }
    .into_any();
    let status_panel = id.clone().map(|id| view! { <StatusPanel id=id /> });
    view! {
        <h1>{if id.is_some() { "Edit template" } else { "New template" }}</h1>
        {status_panel}
        <div class="editor">
            <form class="card editor-form" on:submit=move |ev| ev.prevent_default() data-testid="template-form">
                {fields}
                <div class="actions">
                    <button type="button" class="button" data-testid="save-template" disabled=move || busy() || !editable
                        on:click=move |_| { action.dispatch(false); }>"Save draft"</button>
                    <button type="button" class="button button-primary" data-testid="submit-template"
                        disabled=move || busy() || !editable || has_errors() || kind.get() != "approved"
                        on:click=move |_| { action.dispatch(true); }>"Submit for review"</button>
                    {id.is_some().then(|| view! {
                        <button type="button" class="button" data-testid="clone-template" disabled=busy
                            on:click=move |_| { copy.dispatch(()); }>"Clone"</button>
                    })}
                    {id.is_some().then(|| view! {
                        <button type="button" class="button button-quiet" disabled=busy on:click=move |_| {
                            if confirm("Delete this template? At Meta, the name of a deleted approved template cannot be reused for 30 days.") {
                                remove.dispatch(());
                            }
                        }>"Delete"</button>
                    })}
                </div>
                {move || action.value().get().map(|r| match r {
                    Ok(message) => view! { <p class="notice" data-testid="template-saved">{message}</p> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                })}
                {move || remove.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
                {move || copy.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </form>
            {view! { <Preview form=form /> }.into_any()}
        </div>
    }
}

/// The findings of one component, under its field.
#[component]
fn Findings(findings: Memo<Vec<Finding>>, component: &'static str) -> impl IntoView {
    view! {
        <ul class="rules" aria-live="polite">
            {move || findings.with(|all| all.iter()
                .filter(|f| f.component == component)
                .map(|f| {
                    let class = if f.severity == Severity::Error { "rule-broken" } else { "rule-warning" };
                    view! { <li class=class data-rule=f.rule data-component=component>{f.message.clone()}</li> }
                })
                .collect_view())}
        </ul>
    }
}

/// The message as a WhatsApp chat bubble.
#[component]
fn Preview(form: RwSignal<TemplateForm>) -> impl IntoView {
    let runs = move |text: String| formatted(&text);
    view! {
        <aside class="preview" aria-label="Preview">
            <div class="bubble" data-testid="preview">
                {move || form.with(|f| match f.header_format.as_str() {
                    "TEXT" => {
                        let example = f.header_example.clone();
                        let text = fill(&f.header_text, move |_| Some(example.clone()));
                        Some(view! { <p class="bubble-header">{text}</p> }.into_any())
                    }
                    "NONE" => None,
                    media => Some(view! { <div class="bubble-media">{format!("[{}]", media.to_lowercase())}</div> }.into_any()),
                })}
                <p class="bubble-body" data-testid="preview-body">
                    {move || {
                        let f = form.get();
                        let examples = f.body_examples_by_name();
                        runs(fill(&f.body, |name| examples.get(name).cloned()))
                    }}
                </p>
                {move || form.with(|f| (!f.footer.is_empty()).then(|| view! { <p class="bubble-footer">{f.footer.clone()}</p> }))}
            </div>
            <div class="bubble-buttons">
                {move || form.with(|f| f.buttons.iter().map(|b| {
                    let label = if b.kind == "COPY_CODE" { "Copy code".to_string() } else { b.text.clone() };
                    view! { <div class="bubble-button">{label}</div> }
                }).collect_view())}
            </div>
        </aside>
    }
}
