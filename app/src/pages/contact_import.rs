//! `/contacts/import` (upload a CSV or .xlsx, list past imports) and `/contacts/imports/{id}`
//! (map the columns, then follow the import live and read its report). The mapping is checked in
//! the browser by `domain::contacts::import::validate_settings`, the same function the server
//! applies before queueing the import.

use domain::contacts::attributes::{attribute_name, AttributeKind};
use domain::contacts::import::{validate_settings, ColumnTarget, ImportSettings};
use domain::contacts::Category;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::contacts::{get_import, list_imports, start_import, ImportView};
use crate::components::contacts_nav::ContactsNav;
use crate::components::refresh::refresh_tick;
use crate::navigation::reload;
use crate::pages::webhook_log::format_utc;
use crate::session::PageSession;

/// `/contacts/import`.
#[component]
pub fn ImportPage() -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let file_input = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let imports = Resource::new(|| (), |_| list_imports());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = file_input
                .get()
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                error.set(Some("Choose a CSV or .xlsx file first.".into()));
                return;
            };
            busy.set(true);
            error.set(None);
            let csrf = csrf.clone();
            leptos::task::spawn_local(async move {
                match upload(file, &csrf).await {
                    Ok(id) => crate::navigation::go_to(&format!("/contacts/imports/{id}")),
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(e));
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&csrf, file_input, busy);
    };
    view! {
        <Title text="Import contacts" />
        <h1>"Contacts"</h1>
        <ContactsNav />
        <form class="card form" on:submit=on_submit>
            <h2>"Import a list"</h2>
            <p class="muted">"A CSV (comma, semicolon or tab separated; UTF-8 or Windows-1252) or an Excel .xlsx file. One row per person, a phone number in each row; the next step lets you say what each column holds. Start from a template if you like: "
                <a href="/contacts/template.xlsx" download>"Excel template"</a>" · "<a href="/contacts/template.csv" download>"CSV template"</a>"."</p>
            <input type="file" accept=".csv,.tsv,.txt,.xlsx" node_ref=file_input data-testid="import-file" />
            <div class="actions">
                <button type="submit" class="button button-primary" data-testid="upload" disabled=move || busy.get()>
                    {move || if busy.get() { "Uploading…" } else { "Upload" }}
                </button>
            </div>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </form>
        <h2>"Earlier imports"</h2>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match imports.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"None yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="table">
                            <thead><tr><th>"File"</th><th>"Uploaded"</th><th>"State"</th><th>"Created"</th><th>"Updated"</th><th>"Rejected"</th></tr></thead>
                            <tbody>{list.into_iter().map(|i| view! {
                                <tr>
                                    <td><a href=format!("/contacts/imports/{}", i.id)>{i.file_name}</a></td>
                                    <td>{format_utc(i.created_at_ms)}</td>
                                    <td>{i.state}</td>
                                    <td>{i.created}</td><td>{i.updated}</td><td>{i.rejected}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The import's id in the upload's answer.
#[cfg(feature = "hydrate")]
async fn upload(file: web_sys::File, csrf: &str) -> Result<String, String> {
    let body =
        crate::components::upload::post_file("/contacts/imports/upload", &file, csrf).await?;
    serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .ok_or_else(|| "the server's answer had no import id".into())
}

/// `/contacts/imports/{id}`.
#[component]
pub fn ImportDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let first = Resource::new(id, get_import);
    view! {
        <Title text="Import" />
        <h1>"Contacts"</h1>
        <ContactsNav />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(view) if view.state == "uploaded" => view! { <Mapping import=view /> }.into_any(),
                    Ok(view) => view! { <Progress import=view /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The select value of a target.
fn target_key(t: &ColumnTarget) -> &'static str {
    match t {
        ColumnTarget::Ignore => "ignore",
        ColumnTarget::Phone => "phone",
        ColumnTarget::FirstName => "first_name",
        ColumnTarget::LastName => "last_name",
        ColumnTarget::Language => "language",
        ColumnTarget::TimeZone => "time_zone",
        ColumnTarget::Tags => "tags",
        ColumnTarget::Country => "country",
        ColumnTarget::Attribute { .. } => "attribute",
    }
}

fn target_from(key: &str, header: &str) -> ColumnTarget {
    match key {
        "phone" => ColumnTarget::Phone,
        "first_name" => ColumnTarget::FirstName,
        "last_name" => ColumnTarget::LastName,
        "language" => ColumnTarget::Language,
        "time_zone" => ColumnTarget::TimeZone,
        "tags" => ColumnTarget::Tags,
        "country" => ColumnTarget::Country,
        "attribute" => ColumnTarget::Attribute {
            name: attribute_name(header),
            kind: AttributeKind::Text,
        },
        _ => ColumnTarget::Ignore,
    }
}

const TARGETS: [(&str, &str); 9] = [
    ("ignore", "ignore"),
    ("phone", "phone number"),
    ("first_name", "first name"),
    ("last_name", "last name"),
    ("language", "language"),
    ("time_zone", "time zone"),
    ("tags", "tags"),
    ("country", "country (check)"),
    ("attribute", "custom attribute"),
];

#[component]
fn Mapping(import: ImportView) -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let settings = RwSignal::new(ImportSettings {
        columns: import.columns.clone(),
        default_country: "TR".into(),
        consent: Vec::new(),
        has_header: true,
    });
    let problems = Memo::new(move |_| settings.with(validate_settings));
    let start = Action::new({
        let (csrf, id) = (csrf.clone(), import.id.clone());
        move |_: &()| {
            let (csrf, id, s) = (csrf.clone(), id.clone(), settings.get_untracked());
            async move {
                start_import(csrf, id.clone(), s)
                    .await
                    .map_err(|e| e.to_string())?;
                reload();
                Ok::<_, String>(())
            }
        }
    });
    let rows = import
        .headers
        .iter()
        .enumerate()
        .map(|(i, header)| {
            let header = header.clone();
            let samples = import
                .samples
                .iter()
                .filter_map(|r| r.get(i).cloned())
                .filter(|s| !s.is_empty())
                .take(3)
                .collect::<Vec<_>>()
                .join(" · ");
            let current = move || settings.with(|s| s.columns.get(i).cloned().unwrap_or(ColumnTarget::Ignore));
            let set = move |t: ColumnTarget| settings.update(|s| if let Some(c) = s.columns.get_mut(i) { *c = t });
            let header_for_select = header.clone();
            view! {
                <tr data-testid="mapping-row">
                    <td><strong>{header.clone()}</strong></td>
                    <td class="muted">{samples}</td>
                    <td>
                        <select aria-label=format!("What {header} holds") data-testid="mapping-target"
                            prop:value=move || target_key(&current())
                            on:change=move |ev| set(target_from(&event_target_value(&ev), &header_for_select))>
                            {TARGETS.iter().map(|(k, label)| view! { <option value=*k>{*label}</option> }).collect_view()}
                        </select>
                        {move || match current() {
                            ColumnTarget::Attribute { name, kind } => {
                                let kind_name = name.clone();
                                view! {
                                    <input aria-label="Attribute name" prop:value=name.clone()
                                        on:input=move |ev| set(ColumnTarget::Attribute { name: event_target_value(&ev), kind }) />
                                    <select aria-label="Attribute type" prop:value=kind.as_str()
                                        on:change=move |ev| {
                                            let kind = AttributeKind::parse(&event_target_value(&ev)).unwrap_or(AttributeKind::Text);
                                            set(ColumnTarget::Attribute { name: kind_name.clone(), kind });
                                        }>
                                        {AttributeKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_view()}
                                    </select>
                                }.into_any()
                            }
                            _ => ().into_any(),
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let consent_box = move |category: Category| {
        view! {
            <label><input type="checkbox" data-testid=format!("consent-{}", category.as_str())
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    settings.update(|s| {
                        s.consent.retain(|c| *c != category);
                        if on { s.consent.push(category); }
                    });
                } />" " {category.as_str()}</label>
        }
    };
    view! {
        <section class="card form" data-testid="mapping">
            <h2>{format!("Map the columns of {}", import.file_name)}</h2>
            <p class="muted">{format!("{} rows. Herald guessed what each column holds; correct it where needed.", import.total_rows)}</p>
            <table class="table">
                <thead><tr><th>"Column"</th><th>"Examples"</th><th>"Holds"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <label><input type="checkbox" prop:checked=move || settings.with(|s| s.has_header)
                on:change=move |ev| settings.update(|s| s.has_header = event_target_checked(&ev)) />
                " The first row holds column names"</label>
            <label>"Country of numbers written without +"
                <input data-testid="default-country" maxlength="2" size="3" prop:value=move || settings.with(|s| s.default_country.clone())
                    on:input=move |ev| settings.update(|s| s.default_country = event_target_value(&ev)) />
            </label>
            <fieldset>
                <legend>"These people agreed to receive (recorded as their opt-in, source: this import)"</legend>
                {consent_box(Category::Marketing)}
                {consent_box(Category::Utility)}
                <p class="muted">"Leave both unticked to record no consent. An import never lifts an earlier opt-out."</p>
            </fieldset>
            <ul class="rules" aria-live="polite">
                {move || problems.get().into_iter().map(|p| view! { <li class="rule-error" data-rule=p.rule>{p.message}</li> }).collect_view()}
            </ul>
            <div class="actions">
                <button type="button" class="button button-primary" data-testid="start-import"
                    disabled=move || start.pending().get() || !problems.with(Vec::is_empty)
                    on:click=move |_| { start.dispatch(()); }>"Import"</button>
            </div>
            {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

#[component]
fn Progress(import: ImportView) -> impl IntoView {
    let id = import.id.clone();
    let tick = refresh_tick(500);
    let shown = RwSignal::new(import);
    // Poll while the import runs; a finished report no longer changes.
    let running = move || shown.with(|i| i.state != "done" && i.state != "failed");
    let live = Resource::new(
        move || running().then(|| tick.get()),
        move |tick| {
            let id = id.clone();
            async move {
                match tick {
                    Some(_) => Some(get_import(id).await),
                    None => None,
                }
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Some(Ok(v))) = live.get() {
            shown.set(v);
        }
    });
    view! {
        {move || {
            let i = shown.get();
            let finished = i.state == "done" || i.state == "failed";
            let pct = (i.read * 100).checked_div(i.total_rows).unwrap_or(100).min(100);
            let rejects = i.rejects.clone();
            view! {
                <section class="card" data-testid="import-progress" data-state=i.state.clone()>
                    <h2>{format!("Import of {}", i.file_name)}</h2>
                    <progress max="100" value=pct.to_string() data-testid="import-bar"></progress>
                    <p>{format!("{} of {} rows read ({pct} %) — {}", i.read, i.total_rows, match i.state.as_str() {
                        "done" => "finished",
                        "failed" => "stopped",
                        "queued" => "waiting to start",
                        _ => "importing",
                    })}</p>
                    {i.error.clone().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <dl class="counters" data-testid="import-report">
                        <div><dt>"Created"</dt><dd data-testid="count-created">{i.created}</dd></div>
                        <div><dt>"Updated"</dt><dd data-testid="count-updated">{i.updated}</dd></div>
                        <div><dt>"Unchanged"</dt><dd data-testid="count-unchanged">{i.unchanged}</dd></div>
                        <div><dt>"Rejected"</dt><dd data-testid="count-rejected">{i.rejected}</dd></div>
                    </dl>
                    {finished.then(|| view! {
                        <a class="button" href=format!("/contacts/imports/{}/report.csv", i.id) download data-testid="report-csv">"Download the rejected rows (CSV)"</a>
                    })}
                </section>
                {(!rejects.is_empty()).then(|| view! {
                    <section class="card">
                        <h2>"Rejected rows"</h2>
                        <table class="table" data-testid="rejects">
                            <thead><tr><th>"Line"</th><th>"Number"</th><th>"Why"</th></tr></thead>
                            <tbody>{rejects.into_iter().map(|(line, phone, reason)| view! {
                                <tr data-testid="reject-row"><td>{line}</td><td>{phone}</td><td>{reason}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                    </section>
                })}
            }
        }}
    }
}
