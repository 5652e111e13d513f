//! `moot check`: `moot plan --offline --detailed-exitcode` for CI, with a
//! short report naming each drifted path or role and its fix; as JSON
//! (`--format json`, schemas/check.schema.json) or as GitHub Actions
//! annotations (`--format github`, the default under `GITHUB_ACTIONS=true`).

use std::fmt::Write;

use indexmap::IndexMap;
use serde_json::{Value, json};

use crate::Outcome;
use crate::cli::{CheckArgs, CheckFormat, GlobalArgs};
use crate::commands::context::{Connection, Workspace, observe};
use crate::error::Result;
use crate::plan::action::Target;
use crate::plan::planner::PlanOptions;
use crate::plan::{ActionKind, Plan};
use crate::printer::{Printer, Styles, clean_line, json};

/// The version of `--format json`'s object.
pub const CHECK_FORMAT_VERSION: u32 = 1;

pub fn run(global: &GlobalArgs, args: &CheckArgs, printer: &Printer) -> Result<Outcome> {
    let format = args.format.unwrap_or_else(default_format);
    let ws = Workspace::open(global.dir.as_deref())?;
    let options = PlanOptions {
        offline: true,
        ..PlanOptions::default()
    };
    let session = observe(ws, options, Connection::later(None), None, printer)?;
    let plan = crate::plan::build(&session.desired, &session.observed, &session.options)?;
    let text = match format {
        CheckFormat::Human => report(&plan, &printer.out_styles),
        CheckFormat::Json => json::to_pretty(&check_value(&plan)),
        CheckFormat::Github => github(&plan),
    };
    printer.data(&text);
    Ok(if plan.has_changes() {
        Outcome::Changes
    } else {
        Outcome::Success
    })
}

/// `github` on GitHub Actions (which sets `GITHUB_ACTIONS=true`), else `human`.
fn default_format() -> CheckFormat {
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        CheckFormat::Github
    } else {
        CheckFormat::Human
    }
}

/// The plan JSON's actions, drift and blocked items (same shapes as
/// `moot plan --json`), under their own format version.
pub fn check_value(plan: &Plan) -> Value {
    let v = json::plan_value(plan);
    json!({
        "format_version": CHECK_FORMAT_VERSION,
        "changes": plan.has_changes(),
        "actions": v["actions"],
        "drift": v["drift"],
        "blocked": v["blocked"],
    })
}

/// One `::error` workflow command per file (or role) out of sync, every
/// reason for it in the message, then a one-line summary.
pub fn github(plan: &Plan) -> String {
    let mut by_target: IndexMap<&Target, Vec<String>> = IndexMap::new();
    for a in &plan.actions {
        let fix = match a.kind {
            ActionKind::WriteLock => "run `moot apply` and commit moot.lock",
            _ => "run `moot apply`",
        };
        by_target
            .entry(&a.target)
            .or_default()
            .push(format!("{} ({}): {fix}", a.kind, a.reason));
    }
    for f in plan.drift.iter().chain(&plan.blocked) {
        let hint = f.hint.as_deref().unwrap_or("see `moot plan`");
        by_target
            .entry(&f.target)
            .or_default()
            .push(format!("{}: {hint}", f.reason));
    }
    let mut out = String::new();
    for (target, reasons) in &by_target {
        let message = escape_data(&reasons.join("\n"));
        let _ = match target {
            Target::Path(p) => writeln!(
                out,
                "::error file={},title={}::{message}",
                escape_property(p),
                escape_property(&format!("moot: {p} is out of sync with team.toml"))
            ),
            Target::Agent(role) => writeln!(
                out,
                "::error title={}::{message}",
                escape_property(&format!("moot: agent {role} is out of sync with team.toml"))
            ),
        };
    }
    let n = by_target.len();
    if n == 0 {
        out.push_str("moot check: the workspace matches team.toml.\n");
    } else {
        let _ = writeln!(
            out,
            "moot check: {n} file{} or agent{} out of sync with team.toml; run `moot plan` to see the diff, `moot apply` to converge.",
            if n == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
        );
    }
    out
}

/// A workflow command's message: `%`, CR and LF escaped (GitHub's toolkit,
/// `escapeData`), so a reason cannot end the command or forge another.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value: as [`escape_data`], plus `:` and
/// `,`, which separate properties (`escapeProperty`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
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
        let fix = a.kind.spec().check_fix;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping_follows_githubs_rules() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
        // `%` first, so an escape already in the input is not undone.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    fn finding(target: Target, reason: &str, hint: &str) -> crate::plan::action::Finding {
        crate::plan::action::Finding {
            target,
            reason: reason.into(),
            hint: Some(hint.into()),
        }
    }

    #[test]
    fn github_annotations_one_per_target() {
        let plan = Plan {
            drift: vec![
                finding(
                    Target::Path("a,b:c.sh".into()),
                    "edited since moot wrote it",
                    "line one\nline two with 100%",
                ),
                finding(
                    Target::Agent("qa".into()),
                    "key not held here",
                    "run `moot apply --replace qa`",
                ),
            ],
            blocked: vec![finding(
                Target::Path("a,b:c.sh".into()),
                "blocked too",
                "fix it",
            )],
            ..Plan::default()
        };
        insta::assert_snapshot!(github(&plan));
        assert_eq!(
            github(&Plan::default()),
            "moot check: the workspace matches team.toml.\n"
        );
    }
}
