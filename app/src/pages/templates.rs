//! `/templates`: every template with its status as users know it, searchable and filterable, and
//! a sync with each connection's WhatsApp Business Account.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::templates::{list_templates, SyncTemplates};
use crate::api::whatsapp::list_connections;
use crate::session::PageSession;

/// `/templates`.
#[component]
pub fn TemplatesPage() -> impl IntoView {
    let csrf = PageSession::current().csrf_token;
    let sync = ServerAction::<SyncTemplates>::new();
    let templates = Resource::new(move || sync.version().get(), |_| list_templates());
    let connections = Resource::new(|| (), |_| list_connections());
    let search = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    view! {
        <Title text="Templates" />
        <h1>"Templates"</h1>
        <p class="muted">
            "Approved templates are reviewed by Meta and can open a conversation at any time. "
            "Session replies stay in Herald and can be sent only while a customer's 24-hour window is open."
        </p>
        <div class="actions">
            <a class="button button-primary" href="/templates/new" data-testid="new-template">"New template"</a>
            <Transition fallback=|| ()>
                {move || {
                    let csrf = csrf.clone();
                    Suspend::new(async move {
                        connections.await.unwrap_or_default().into_iter().map(|c| {
                            let (csrf, id) = (csrf.clone(), c.id.clone());
                            view! {
                                <button class="button" on:click=move |_| {
                                    sync.dispatch(SyncTemplates { csrf_token: csrf.clone(), connection_id: id.clone() });
                                }>{format!("Sync from {}", c.name)}</button>
                            }
                        }).collect_view()
                    })
                }}
            </Transition>
        </div>
        {move || sync.value().get().map(|r| match r {
            Ok(n) => view! { <p class="notice">{format!("Read {n} templates from WhatsApp.")}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        })}
        <div class="inline-form">
            <label>"Search" <input type="search" placeholder="name, language or connection"
                on:input=move |ev| search.set(event_target_value(&ev)) /></label>
            <label>"Status"
                <select on:change=move |ev| status.set(event_target_value(&ev))>
                    <option value="">"any"</option>
                    <option value="Draft">"draft"</option>
                    <option value="In review">"in review"</option>
                    <option value="Active">"active"</option>
                    <option value="Rejected">"rejected"</option>
                    <option value="Paused">"paused"</option>
                    <option value="Disabled">"disabled"</option>
                </select>
            </label>
            <label>"Category"
                <select on:change=move |ev| category.set(event_target_value(&ev))>
                    <option value="">"any"</option>
                    <option value="MARKETING">"marketing"</option>
                    <option value="UTILITY">"utility"</option>
                    <option value="AUTHENTICATION">"authentication"</option>
                </select>
            </label>
            <label>"Kind"
                <select on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="">"any"</option>
                    <option value="approved">"approved template"</option>
                    <option value="session_reply">"session reply"</option>
                </select>
            </label>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Ok(all) if all.is_empty() => view! {
                        <p class="notice">"No templates yet. Create one, or sync the templates of a connection."</p>
                    }.into_any(),
                    Ok(all) => {
                        let rows = move || {
                            let (q, s, k, c) = (search.get().to_lowercase(), status.get(), kind.get(), category.get());
                            all.iter()
                                .filter(|t| {
                                    q.is_empty()
                                        || t.name.contains(&q)
                                        || t.language.to_lowercase().contains(&q)
                                        || t.connection.as_deref().is_some_and(|n| n.to_lowercase().contains(&q))
                                })
                                .filter(|t| c.is_empty() || t.category == c)
                                .filter(|t| s.is_empty() || t.status.label.starts_with(&s))
                                .filter(|t| k.is_empty() || t.kind == k)
                                .map(|t| view! {
                                    <tr data-testid="template-row" data-name=t.name.clone()>
                                        <td><a href=format!("/templates/{}", t.id)>{t.name.clone()}</a></td>
                                        <td>{t.language.clone()}</td>
                                        <td>{t.category.clone()}</td>
                                        <td>{if t.kind == "approved" { "approved" } else { "session reply" }}</td>
                                        <td>{t.connection.clone().unwrap_or_default()}</td>
                                        <td><span class=format!("status tone-{}", t.status.tone) data-testid="template-status">{t.status.label.clone()}</span></td>
                                        <td data-testid="template-campaigns">{t.campaigns}</td>
                                        <td>{t.last_used_ms.map_or_else(|| "never".to_string(), domain::clock::format_utc)}</td>
                                    </tr>
                                })
                                .collect_view()
                        };
                        view! {
                            <table class="table" data-testid="template-list">
                                <thead><tr><th>"Name"</th><th>"Language"</th><th>"Category"</th><th>"Kind"</th><th>"Connection"</th><th>"Status"</th><th>"Campaigns"</th><th>"Last used"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
