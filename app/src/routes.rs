//! The route table. Which routes need a session is decided by the server's middleware, not here.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};

use crate::components::layout::Layout;
use crate::pages::{
    campaign::CampaignPage,
    campaign_settings::CampaignSettingsPage,
    campaign_wizard::CampaignWizardPage,
    campaigns::CampaignsPage,
    contact::ContactPage,
    contact_import::{ImportDetailPage, ImportPage},
    contacts::ContactsPage,
    conversation::ConversationPage,
    conversations::ConversationsPage,
    dashboard::DashboardPage,
    login::LoginPage,
    not_found::NotFoundPage,
    segments::SegmentsPage,
    settings::SettingsPage,
    setup::SetupPage,
    template_editor::TemplateEditorPage,
    templates::TemplatesPage,
    webhook_log::WebhookLogPage,
};

/// The whole application; rendered inside [`crate::shell`].
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    view! {
        <Title formatter=document_title />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/setup") view=SetupPage />
                <ParentRoute path=path!("") view=Layout>
                    <Route path=path!("") view=DashboardPage />
                    <Route path=path!("templates") view=TemplatesPage />
                    <Route path=path!("templates/new") view=TemplateEditorPage />
                    <Route path=path!("templates/:id") view=TemplateEditorPage />
                    <Route path=path!("contacts") view=ContactsPage />
                    <Route path=path!("contacts/new") view=ContactPage />
                    <Route path=path!("contacts/import") view=ImportPage />
                    <Route path=path!("contacts/imports/:id") view=ImportDetailPage />
                    <Route path=path!("contacts/segments") view=SegmentsPage />
                    <Route path=path!("contacts/:phone") view=ContactPage />
                    <Route path=path!("campaigns") view=CampaignsPage />
                    <Route path=path!("campaigns/new") view=CampaignWizardPage />
                    <Route path=path!("campaigns/settings") view=CampaignSettingsPage />
                    <Route path=path!("campaigns/:id") view=CampaignPage />
                    <Route path=path!("conversations") view=ConversationsPage />
                    <Route path=path!("conversations/:id") view=ConversationPage />
                    <Route path=path!("settings") view=SettingsPage />
                    <Route path=path!("settings/webhooks") view=WebhookLogPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The text of `<title>`. leptos_meta writes it into the server's HTML unescaped (a campaign named
/// `</title><script>…` would end the element), so on the server it is escaped here; in the browser
/// it becomes `document.title`, which takes plain text.
fn document_title(page: String) -> String {
    let title = if page.is_empty() {
        "Herald".to_string()
    } else {
        format!("{page} · Herald")
    };
    if cfg!(feature = "ssr") {
        escape_html_text(&title)
    } else {
        title
    }
}

/// Escapes text for an HTML element's content or a quoted attribute.
pub fn escape_html_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Sets `data-hydrated` on `<body>` once the wasm has taken over, so browser tests (and curious
/// people in devtools) can tell a hydrated page from a server-rendered one.
fn mark_hydrated() {
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_title_is_text() {
        assert_eq!(
            escape_html_text("</title><script>alert('x')</script> & co"),
            "&lt;/title&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"
        );
    }
}
