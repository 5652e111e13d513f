//! `moot check`: `moot plan --offline --detailed-exitcode` for CI, with a
//! short report naming each drifted path or role and its fix.

use std::fmt::Write;

use crate::Outcome;
use crate::cli::GlobalArgs;
use crate::commands::context::{Workspace, observe};
use crate::error::Result;
use crate::plan::planner::PlanOptions;
use crate::plan::{ActionKind, Plan};
use crate::printer::{Printer, Styles, clean_line};

pub fn run(global: &GlobalArgs, printer: &Printer) -> Result<Outcome> {
    let ws = Workspace::open(global.dir.as_deref(), printer)?;
    let options = PlanOptions {
        offline: true,
        ..PlanOptions::default()
    };
    let session = observe(ws, options, None, None, printer)?;
    let plan = crate::plan::build(&session.desired, &session.observed, &session.options)?;
    printer.data(&report(&plan, &printer.out_styles));
    Ok(if plan.has_changes() {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}

/// One line per item out of sync, with what fixes it; then the plan's notes
/// (retired roles, files left in place), which are not drift.
pub fn report(plan: &Plan, s: &Styles) -> String {
    let mut notes = String::new();
    for n in &plan.notes {
        let _ = writeln!(notes, "{} {}", s.dim.apply_to("note:"), clean_line(n));
    }
    if !plan.has_changes() {
        return format!("moot check: the workspace matches team.toml.\n{notes}");
    }
    let mut out = String::new();
    for a in &plan.actions {
        let fix = match a.kind {
            ActionKind::WriteLock => "run `moot apply` and commit moot.lock",
            _ => "run `moot apply`",
        };
        let _ = writeln!(
            out,
            "  {} {}: {} ({}) -> {fix}",
            s.change.apply_to("~"),
            s.bold.apply_to(clean_line(&a.target.to_string())),
            a.kind,
            clean_line(&a.reason)
        );
    }
    let marked = [("!", &s.warn, &plan.drift), ("x", &s.remove, &plan.blocked)];
    for (marker, style, items) in marked {
        for f in items {
            let _ = writeln!(
                out,
                "  {} {}: {} -> {}",
                style.apply_to(marker),
                s.bold.apply_to(clean_line(&f.target.to_string())),
                clean_line(&f.reason),
                clean_line(f.hint.as_deref().unwrap_or("see `moot plan`"))
            );
        }
    }
    let n = plan.actions.len() + plan.drift.len() + plan.blocked.len();
    format!(
        "moot check: {n} item{} out of sync with team.toml:\n{out}\nRun `moot plan` to see the diff, `moot apply` to converge.\n{notes}",
        if n == 1 { "" } else { "s" }
    )
}
