//! The human rendering of a plan: Terraform-like symbols, one line per
//! action with its reason, diffs for changed text, then blocked and drift
//! items with hints, then a one-line summary. Reads well without colour.

use std::fmt::Write;

use crate::plan::{Action, ActionKind, Plan};
use crate::printer::Styles;

/// The symbol for an action kind.
pub fn symbol(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::IssueKey | ActionKind::Create => "+",
        ActionKind::RotateKey => "-/+",
        ActionKind::Remove => "-",
        ActionKind::Stage => ">",
        ActionKind::WriteSecrets => "+",
        ActionKind::RenameAgent
        | ActionKind::Update
        | ActionKind::Chmod
        | ActionKind::Merge
        | ActionKind::AppendLines
        | ActionKind::WriteLock => "~",
    }
}

fn style_for(kind: ActionKind, s: &Styles) -> &console::Style {
    match kind {
        ActionKind::IssueKey | ActionKind::Create | ActionKind::WriteSecrets => &s.add,
        ActionKind::RotateKey | ActionKind::Remove => &s.remove,
        _ => &s.change,
    }
}

/// Whether the diff is shown by default. New files (all additions) and
/// moot.lock (bookkeeping) are listed without their content unless
/// `verbose`; `--json` always carries every diff.
fn show_diff(a: &Action, verbose: bool) -> bool {
    a.diff.is_some() && (verbose || !matches!(a.kind, ActionKind::Create | ActionKind::WriteLock))
}

pub fn render_plan(plan: &Plan, s: &Styles, verbose: bool) -> String {
    let mut out = String::new();
    if !plan.actions.is_empty() {
        let _ = writeln!(out, "moot will perform these actions, in this order:\n");
        let width = plan
            .actions
            .iter()
            .map(|a| a.kind.as_str().len())
            .max()
            .unwrap_or(0);
        for a in &plan.actions {
            let st = style_for(a.kind, s);
            let mut line = format!(
                "  {} {:<width$} {}",
                st.apply_to(format!("{:>3}", symbol(a.kind))),
                a.kind.as_str(),
                s.bold.apply_to(a.target.to_string()),
            );
            if a.destructive {
                let _ = write!(line, " {}", s.remove.apply_to("(destructive)"));
            }
            let _ = write!(line, "  {}", s.dim.apply_to(format!("# {}", a.reason)));
            let _ = writeln!(out, "{line}");
            if show_diff(a, verbose) {
                for l in a.diff.as_deref().unwrap_or("").lines() {
                    let styled = if l.starts_with("+++") || l.starts_with("---") {
                        s.dim.apply_to(l)
                    } else if l.starts_with('+') {
                        s.add.apply_to(l)
                    } else if l.starts_with('-') {
                        s.remove.apply_to(l)
                    } else {
                        s.dim.apply_to(l)
                    };
                    let _ = writeln!(out, "        {styled}");
                }
            }
        }
        out.push('\n');
    }
    if !plan.blocked.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            s.remove
                .apply_to("Blocked (apply refuses until these are fixed):")
        );
        for b in &plan.blocked {
            let _ = writeln!(
                out,
                "  x {}: {}",
                s.bold.apply_to(b.target.to_string()),
                b.reason
            );
            if let Some(h) = &b.hint {
                let _ = writeln!(out, "    {} {h}", s.hint.apply_to("hint:"));
            }
        }
        out.push('\n');
    }
    if !plan.drift.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            s.warn
                .apply_to("Drift (apply does not change these without a flag):")
        );
        for d in &plan.drift {
            let _ = writeln!(
                out,
                "  ! {}: {}",
                s.bold.apply_to(d.target.to_string()),
                d.reason
            );
            if let Some(h) = &d.hint {
                let _ = writeln!(out, "    {} {h}", s.hint.apply_to("hint:"));
            }
        }
        out.push('\n');
    }
    if !plan.notes.is_empty() {
        for n in &plan.notes {
            let _ = writeln!(out, "{} {n}", s.dim.apply_to("note:"));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", s.bold.apply_to(summary(plan)));
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "Plan: 4 keys to issue, 23 files to create, 1 to stage." or
/// "No changes. The workspace matches team.toml."
pub fn summary(plan: &Plan) -> String {
    if !plan.has_changes() {
        return "No changes. The workspace matches team.toml.".into();
    }
    let c = |k| plan.count(k);
    let mut parts = Vec::new();
    let mut add = |n: usize, text: String| {
        if n > 0 {
            parts.push(text);
        }
    };
    add(
        c(ActionKind::IssueKey),
        format!(
            "{} to issue",
            plural(c(ActionKind::IssueKey), "key", "keys")
        ),
    );
    add(
        c(ActionKind::RotateKey),
        format!(
            "{} to rotate",
            plural(c(ActionKind::RotateKey), "key", "keys")
        ),
    );
    add(
        c(ActionKind::RenameAgent),
        format!(
            "{} to rename",
            plural(c(ActionKind::RenameAgent), "agent", "agents")
        ),
    );
    add(
        c(ActionKind::Create),
        format!(
            "{} to create",
            plural(c(ActionKind::Create), "file", "files")
        ),
    );
    add(
        c(ActionKind::Update),
        format!("{} to update", c(ActionKind::Update)),
    );
    add(
        c(ActionKind::Merge),
        format!("{} to merge", c(ActionKind::Merge)),
    );
    add(
        c(ActionKind::AppendLines),
        format!("{} to append to", c(ActionKind::AppendLines)),
    );
    add(
        c(ActionKind::Remove),
        format!("{} to remove", c(ActionKind::Remove)),
    );
    add(
        c(ActionKind::Chmod),
        format!("{} to fix", plural(c(ActionKind::Chmod), "mode", "modes")),
    );
    add(
        c(ActionKind::Stage),
        format!("{} to stage", c(ActionKind::Stage)),
    );
    if parts.is_empty() && c(ActionKind::WriteSecrets) > 0 {
        parts.push("the key file to rewrite".into());
    }
    if parts.is_empty() && c(ActionKind::WriteLock) > 0 {
        parts.push("moot.lock to update".into());
    }
    let mut text = if parts.is_empty() {
        "Plan: no actions".to_string()
    } else {
        format!("Plan: {}", parts.join(", "))
    };
    if !plan.blocked.is_empty() {
        text.push_str(&format!("; {} blocked", plan.blocked.len()));
    }
    if !plan.drift.is_empty() {
        text.push_str(&format!("; {} drifted", plan.drift.len()));
    }
    text.push('.');
    text
}
