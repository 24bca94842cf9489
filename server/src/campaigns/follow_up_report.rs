//! A campaign's follow-ups by branch, counted from its runs: who chose which branch, who is
//! still within the wait, whose wait ended without an answer, who answered something no branch
//! takes, and what became of each follow-up.

use app::api::campaigns::{BranchLine, FollowUpReport};
use domain::automation::follow_up::FollowUps;
use uuid::Uuid;

use crate::storage::follow_ups::{ActionState, FollowUpStore, RunStage};
use crate::storage::StorageError;

/// The report of campaign `id`, whose follow-ups are `plan`.
pub fn tally(
    plan: &FollowUps,
    runs: &FollowUpStore,
    id: &Uuid,
) -> Result<FollowUpReport, StorageError> {
    let mut report = FollowUpReport {
        branches: plan
            .branches
            .iter()
            .map(|b| BranchLine {
                label: b.trigger.label(),
                action: b.action.label(),
                ..BranchLine::default()
            })
            .collect(),
        ..FollowUpReport::default()
    };
    for entry in runs.of_campaign(id) {
        let (_, run) = entry?;
        if run.other_reply.is_some() {
            report.other_replies += 1;
        }
        match run.stage {
            RunStage::Waiting { .. } => report.waiting += 1,
            RunStage::NoReply { .. } => report.no_reply += 1,
            RunStage::Branched { branch, action, .. } => {
                // A branch the campaign no longer has (its follow-ups were edited) is not shown.
                let Some(line) = report.branches.get_mut(branch) else {
                    continue;
                };
                line.chosen += 1;
                match action {
                    ActionState::Due | ActionState::Sending => line.pending += 1,
                    ActionState::Done { .. } => line.done += 1,
                    ActionState::Failed { .. } => line.failed += 1,
                }
            }
        }
    }
    Ok(report)
}
