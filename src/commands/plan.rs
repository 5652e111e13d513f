//! `moot plan`: compute and print the plan; change nothing, anywhere.

use crate::Outcome;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::commands::context::{Connection, Session, Workspace, observe, plan_options};
use crate::error::Result;
use crate::plan::Plan;
use crate::plan::saved::{SAVED_FORMAT, SAVED_VERSION, SavedPlan};
use crate::printer::{Printer, human, json};

pub fn run(global: &GlobalArgs, args: PlanArgs, printer: &Printer) -> Result<Outcome> {
    let connection = match args.flags.offline {
        true => Connection::later(None),
        false => Connection::now(args.flags.profile.as_deref(), printer),
    };
    let ws = Workspace::open(global.dir.as_deref())?;
    let session = observe(ws, plan_options(&args.flags), connection, None, printer)?;
    let plan = crate::plan::build(&session.desired, &session.observed, &session.options)?;
    print_plan(&session, &plan, args.flags.json, printer);
    if let Some(out) = &args.out {
        let saved = save(&session, &plan);
        crate::fsutil::write_atomic(out, saved.to_json().as_bytes(), 0o644)?;
        printer.status(&format!(
            "Saved the plan to {}; apply it with `moot apply {}`.",
            out.display(),
            out.display()
        ));
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}

/// Where the plan was computed against, on stderr, then the plan on stdout.
pub fn print_plan(session: &Session, plan: &Plan, as_json: bool, printer: &Printer) {
    let against = if session.options.offline {
        "offline (files only; remote facts from moot.lock)".to_string()
    } else {
        format!(
            "{} (space {})",
            crate::observed::api::redact_url(&session.desired.facts.api_url),
            crate::printer::clean_line(&session.desired.facts.space_id)
        )
    };
    printer.status(&format!(
        "Planning {} against {against}",
        session.ws.root.display()
    ));
    if as_json {
        printer.data(&json::to_pretty(&json::plan_value(plan)));
    } else {
        printer.data(&human::render_plan(
            plan,
            &printer.out_styles,
            printer.verbosity() == crate::printer::Verbosity::Verbose,
        ));
    }
}

pub fn save(session: &Session, plan: &Plan) -> SavedPlan {
    SavedPlan {
        format: SAVED_FORMAT.into(),
        format_version: SAVED_VERSION,
        moot_version: env!("CARGO_PKG_VERSION").into(),
        workspace: session.ws.root.display().to_string(),
        api_url: session.desired.facts.api_url.clone(),
        options: session.options.clone(),
        fingerprint: session.fingerprint.clone(),
        plan: plan.clone(),
    }
}
