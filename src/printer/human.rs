//! The human rendering of a plan: Terraform-like symbols, one line per
//! action with its reason, diffs for changed text, then blocked and drift
//! items with hints, then a one-line summary. Reads well without colour.

use std::fmt::Write;

use crate::kinds::Tone;
use crate::plan::action::Finding;
use crate::plan::{Action, ActionKind, Plan};
use crate::printer::{Styles, clean_line};

/// The symbol for an action kind.
pub fn symbol(kind: ActionKind) -> &'static str {
    kind.spec().symbol
}

fn style_for(kind: ActionKind, s: &Styles) -> &console::Style {
    match kind.spec().tone {
        Tone::Add => &s.add,
        Tone::Remove => &s.remove,
        Tone::Change => &s.change,
    }
}

/// The diff shown, if any. New files (all additions) and
/// moot.lock (bookkeeping) are listed without their content unless
/// `verbose`; `--json` always carries every diff.
fn shown_diff(a: &Action, verbose: bool) -> Option<std::borrow::Cow<'_, str>> {
    (verbose || !matches!(a.kind, ActionKind::Create | ActionKind::WriteLock))
        .then(|| a.diff())
        .flatten()
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
                s.bold.apply_to(clean_line(&a.target.to_string())),
            );
            if a.destructive {
                let _ = write!(line, " {}", s.remove.apply_to("(destructive)"));
            }
            let _ = write!(
                line,
                "  {}",
                s.dim.apply_to(format!("# {}", clean_line(&a.reason)))
            );
            let _ = writeln!(out, "{line}");
            if let Some(diff) = shown_diff(a, verbose) {
                out.push_str(&styled_diff(&diff, s, "        "));
            }
        }
        out.push('\n');
    }
    findings(
        &mut out,
        &s.remove,
        "Blocked (apply refuses until these are fixed):",
        "x",
        &plan.blocked,
        s,
    );
    findings(
        &mut out,
        &s.warn,
        "Drift (apply does not change these without a flag):",
        "!",
        &plan.drift,
        s,
    );
    if !plan.notes.is_empty() {
        for n in &plan.notes {
            let _ = writeln!(out, "{} {}", s.dim.apply_to("note:"), clean_line(n));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", s.bold.apply_to(summary(plan)));
    out
}

/// A titled list of blocked or drifted items, each with its hint.
fn findings(
    out: &mut String,
    title_style: &console::Style,
    title: &str,
    marker: &str,
    items: &[Finding],
    s: &Styles,
) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", title_style.apply_to(title));
    for f in items {
        let _ = writeln!(
            out,
            "  {marker} {}: {}",
            s.bold.apply_to(clean_line(&f.target.to_string())),
            clean_line(&f.reason)
        );
        if let Some(h) = &f.hint {
            let _ = writeln!(out, "    {} {}", s.hint.apply_to("hint:"), clean_line(h));
        }
    }
    out.push('\n');
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "Plan: 4 keys to issue, 23 files to create, 1 to stage." or
/// "No changes. The workspace matches team.toml."
pub fn summary(plan: &Plan) -> String {
    summary_in(plan, Tense::Future)
}

/// Whether a summary announces (plan) or reports (apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tense {
    Future,
    Past,
}

/// The summary line in either tense: "4 keys to issue" / "4 keys issued".
pub fn summary_in(plan: &Plan, tense: Tense) -> String {
    if !plan.has_changes() {
        return "No changes. The workspace matches team.toml.".into();
    }
    let c = |k| plan.count(k);
    let verb = |future: &'static str, past: &'static str| match tense {
        Tense::Future => future,
        Tense::Past => past,
    };
    let mut parts = Vec::new();
    for kind in ActionKind::ALL {
        let Some(row) = kind.spec().summary else {
            continue;
        };
        let n = c(kind);
        if n > 0 {
            let count = row
                .noun
                .map_or(n.to_string(), |(one, many)| plural(n, one, many));
            parts.push(format!("{count} {}", verb(row.future, row.past)));
        }
    }
    if parts.is_empty() && c(ActionKind::WriteSecrets) > 0 {
        parts.push(format!("the key file {}", verb("to rewrite", "rewritten")));
    }
    if parts.is_empty() && c(ActionKind::WriteLock) > 0 {
        parts.push(format!("moot.lock {}", verb("to update", "updated")));
    }
    let head = match tense {
        Tense::Future => "Plan",
        Tense::Past => "Applied",
    };
    let mut text = if parts.is_empty() {
        format!("{head}: no actions")
    } else {
        format!("{head}: {}", parts.join(", "))
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

/// A unified diff coloured as the plan shows it (added green, removed red,
/// headers and context dim), each line indented and made terminal-safe.
pub fn styled_diff(diff: &str, s: &Styles, indent: &str) -> String {
    let mut out = String::new();
    for l in diff.lines() {
        let l = &*clean_line(l);
        let styled = if l.starts_with("+++") || l.starts_with("---") {
            s.dim.apply_to(l)
        } else if l.starts_with('+') {
            s.add.apply_to(l)
        } else if l.starts_with('-') {
            s.remove.apply_to(l)
        } else {
            s.dim.apply_to(l)
        };
        let _ = writeln!(out, "{indent}{styled}");
    }
    out
}
