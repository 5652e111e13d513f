//! `moot check`: `moot plan --offline --detailed-exitcode` for CI, with a
//! short report naming each drifted path or role and its fix.

use std::fmt::Write;

use crate::Outcome;
use crate::cli::GlobalArgs;
use crate::commands::context::{Workspace, observe};
use crate::error::Result;
use crate::plan::planner::PlanOptions;
use crate::plan::{ActionKind, Plan};
use crate::printer::{Printer, Styles};

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

/// One line per item out of sync, with what fixes it.
pub fn report(plan: &Plan, s: &Styles) -> String {
    if !plan.has_changes() {
        return "moot check: the workspace matches team.toml.\n".into();
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
            s.bold.apply_to(a.target.to_string()),
            a.kind,
            a.reason
        );
    }
    for d in &plan.drift {
        let _ = writeln!(
            out,
            "  {} {}: {} -> {}",
            s.warn.apply_to("!"),
            s.bold.apply_to(d.target.to_string()),
            d.reason,
            d.hint.as_deref().unwrap_or("see `moot plan`")
        );
    }
    for b in &plan.blocked {
        let _ = writeln!(
            out,
            "  {} {}: {} -> {}",
            s.remove.apply_to("x"),
            s.bold.apply_to(b.target.to_string()),
            b.reason,
            b.hint.as_deref().unwrap_or("see `moot plan`")
        );
    }
    let n = plan.actions.len() + plan.drift.len() + plan.blocked.len();
    format!(
        "moot check: {n} item{} out of sync with team.toml:\n{out}\nRun `moot plan` to see the diff, `moot apply` to converge.\n",
        if n == 1 { "" } else { "s" }
    )
}
