//! The campaign page's follow-up report, live with the rest of its figures: per branch who
//! chose it and what became of the follow-up, who is still within the wait, whose wait ended
//! without an answer, and who answered something no branch takes.

use leptos::prelude::*;

use crate::api::campaigns::Progress;

/// The card; nothing for a campaign without follow-ups.
#[component]
pub(super) fn FollowUpCard(progress: RwSignal<Progress>) -> impl IntoView {
    move || {
        progress.with(|p| p.follow_ups.clone()).map(|report| {
            view! {
                <section class="card" data-testid="follow-ups">
                    <h2>"Follow-ups"</h2>
                    <table class="table">
                        <thead><tr><th>"When the customer…"</th><th>"Herald…"</th><th>"Chose it"</th><th>"Done"</th><th>"To do"</th><th>"Failed"</th></tr></thead>
                        <tbody>
                            {report.branches.into_iter().enumerate().map(|(n, b)| view! {
                                <tr data-testid=format!("follow-up-branch-{n}")>
                                    <td>{b.label}</td><td>{b.action}</td>
                                    <td data-testid="chosen">{b.chosen}</td><td>{b.done}</td><td>{b.pending}</td><td>{b.failed}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <dl class="facts">
                        <div><dt>"Still within the wait"</dt><dd data-testid="follow-up-waiting">{report.waiting}</dd></div>
                        <div><dt>"No reply"</dt><dd data-testid="follow-up-no-reply">{report.no_reply}</dd></div>
                        <div><dt>"Replied something else"</dt><dd data-testid="follow-up-other">{report.other_replies}</dd></div>
                    </dl>
                </section>
            }
        })
    }
}
