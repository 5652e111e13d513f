//! `.moot/apply-report.md`: what the last apply did and what awaits review.
//! Written inside the transaction, so a failed apply leaves the previous
//! report. Never holds a key.

use std::fmt::Write;

use crate::plan::planner::SUGGESTED_DIR;
use crate::plan::{ActionKind, Plan};
use crate::printer::clean_line;

pub use crate::plan::planner::REPORT_PATH;

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
                clean_line(&a.target.to_string()),
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
    awaiting_review(plan, &mut out);
    out
}

/// The path a staged suggestion stands for (`.moot/suggested/X` -> `X`).
fn original_of(staged: &str) -> Option<&str> {
    staged
        .strip_prefix(SUGGESTED_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
}

/// The staged suggestions and the drift, with how to accept or keep each.
fn awaiting_review(plan: &Plan, out: &mut String) {
    let staged: Vec<String> = plan
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::Stage)
        .filter_map(|a| original_of(&a.target.to_string()).map(str::to_string))
        .collect();
    let any_staged = plan.actions.iter().any(|a| a.kind == ActionKind::Stage);
    if !any_staged && plan.drift.is_empty() {
        return;
    }
    out.push_str("## Awaiting your review\n\n");
    for a in plan.actions.iter().filter(|a| a.kind == ActionKind::Stage) {
        let target = a.target.to_string();
        let original = original_of(&target).unwrap_or_default();
        let _ = writeln!(
            out,
            "- `{original}`: your version was kept; moot's is at `{target}` ({}).\n  \
             Compare: `diff {original} {target}`",
            clean_line(&a.reason)
        );
    }
    // A drifted file already listed with its staged suggestion is not
    // listed twice.
    for d in plan
        .drift
        .iter()
        .filter(|d| !staged.contains(&d.target.to_string()))
    {
        let _ = writeln!(
            out,
            "- `{}`: {}",
            clean_line(&d.target.to_string()),
            clean_line(&d.reason)
        );
    }
    out.push_str(
        "\nTo accept moot's version of a managed file, run `moot apply --overwrite PATH` \
         after reviewing it with `moot diff PATH` (`--overwrite` alone accepts them all). \
         To keep yours for good, list the path \
         under `[install] unmanaged` in team.toml. CLAUDE.md is yours: merge what you like \
         from the suggestion by hand.\n",
    );
}

/// One line for a change left undone because its file changed while apply
/// ran.
pub fn diverted_line(d: &crate::apply::txn::Diverted) -> String {
    let path = clean_line(&d.path);
    // moot's lines were not added: the key file may not be ignored now.
    let keys = if d.path == crate::desired::render::GITIGNORE_PATH {
        "; make sure it lists .moot/, where agent keys live"
    } else {
        ""
    };
    let line = match &d.staged_at {
        Some(at) => format!(
            "{path} changed while apply ran; your version is kept and moot's is staged at {}",
            clean_line(at)
        ),
        None => format!(
            "{path} changed while apply ran; your version is kept, moot's change was not made"
        ),
    };
    format!("{line}{keys}")
}

/// The report's section on those changes.
pub fn render_diverted(diverted: &[crate::apply::txn::Diverted]) -> String {
    let mut out = String::from("\n## Changed while apply ran\n\n");
    for d in diverted {
        let _ = writeln!(out, "- {}", diverted_line(d));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::txn::Diverted;

    #[test]
    fn a_diverted_gitignore_reminds_of_the_keys() {
        let d = |path: &str, staged_at: Option<&str>| Diverted {
            path: path.into(),
            staged_at: staged_at.map(str::to_string),
        };
        let line = diverted_line(&d(".gitignore", Some(".moot/suggested/.gitignore")));
        assert!(
            line.contains("staged at .moot/suggested/.gitignore"),
            "{line}"
        );
        assert!(line.ends_with("make sure it lists .moot/, where agent keys live"));
        let line = diverted_line(&d("moot.toml", None));
        assert!(line.ends_with("moot's change was not made"), "{line}");
        let section = render_diverted(&[d("moot.toml", None)]);
        assert!(section.starts_with("\n## Changed while apply ran\n\n- moot.toml"));
    }
}
