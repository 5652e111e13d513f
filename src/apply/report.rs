//! `.moot/apply-report.md`: what the last apply did and what awaits review.
//! Written inside the transaction, so a failed apply leaves the previous
//! report. Never holds a key.

use std::fmt::Write;

use crate::plan::planner::SUGGESTED_DIR;
use crate::plan::{ActionKind, Plan};
use crate::printer::clean_line;

pub const REPORT_PATH: &str = ".moot/apply-report.md";

pub fn render(plan: &Plan) -> String {
    let mut out = String::from("# moot apply report\n\n");
    let _ = writeln!(out, "{}\n", crate::printer::human::summary(plan));
    let done: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| a.kind != ActionKind::Stage)
        .collect();
    if !done.is_empty() {
        out.push_str("## Done\n\n");
        for a in done {
            let _ = writeln!(
                out,
                "- `{}` {}: {}",
                a.kind,
                a.target,
                clean_line(&a.reason)
            );
        }
        out.push('\n');
    }
    if !plan.notes.is_empty() {
        // E.g. the agent of a removed role that stays on the platform.
        out.push_str("## Notes\n\n");
        for n in &plan.notes {
            let _ = writeln!(out, "- {}", clean_line(n));
        }
        out.push('\n');
    }
    let staged: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::Stage)
        .collect();
    if !staged.is_empty() || !plan.drift.is_empty() {
        out.push_str("## Awaiting your review\n\n");
        for a in &staged {
            let original = a
                .target
                .to_string()
                .strip_prefix(&format!("{SUGGESTED_DIR}/"))
                .unwrap_or_default()
                .to_string();
            let _ = writeln!(
                out,
                "- `{original}`: your version was kept; moot's is at `{}` ({}).\n  \
                 Compare: `diff {original} {}`",
                a.target,
                clean_line(&a.reason),
                a.target
            );
        }
        // A drifted file already listed with its staged suggestion is not
        // listed twice.
        let staged_originals: Vec<String> = staged
            .iter()
            .filter_map(|a| {
                a.target
                    .to_string()
                    .strip_prefix(&format!("{SUGGESTED_DIR}/"))
                    .map(str::to_string)
            })
            .collect();
        for d in plan
            .drift
            .iter()
            .filter(|d| !staged_originals.contains(&d.target.to_string()))
        {
            let _ = writeln!(out, "- `{}`: {}", d.target, clean_line(&d.reason));
        }
        out.push_str(
            "\nTo accept moot's version of a managed file, run `moot apply --overwrite` \
             (or copy the suggested file over yours). To keep yours for good, list the path \
             under `[install] unmanaged` in team.toml. CLAUDE.md is yours: merge what you like \
             from the suggestion by hand.\n",
        );
    }
    out
}
