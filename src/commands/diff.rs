//! `moot diff PATH`: the user's file against moot's version of it: the
//! suggestion staged at `.moot/suggested/PATH` when there is one, else what
//! moot would write now (rendered offline, with the space and API URL
//! moot.lock records). Says which. Changes nothing; exit 0.

use std::path::Path;

use similar::TextDiff;

use crate::Outcome;
use crate::cli::{DiffArgs, GlobalArgs};
use crate::commands::context::Workspace;
use crate::desired::{Policy, RemoteFacts};
use crate::error::{Error, Result};
use crate::observed::lockfile::Lock;
use crate::observed::untrusted;
use crate::observed::workspace::check_relative;
use crate::paths::MOOT_DIR;
use crate::plan::planner::suggested_path;
use crate::printer::{Printer, human};

/// Far above any file moot renders.
const CAP: u64 = 8 << 20;

pub fn run(global: &GlobalArgs, args: &DiffArgs, printer: &Printer) -> Result<Outcome> {
    let ws = Workspace::open(global.dir.as_deref())?;
    let path = normalize(&args.path);
    let lock = Lock::load(&ws.root)?;
    let facts = lock
        .as_ref()
        .map(|l| RemoteFacts {
            api_url: l.api_url.clone(),
            space_id: l.space_id.clone(),
            space_name: l.space_name.clone(),
        })
        .unwrap_or_default();
    let desired = crate::desired::render(&ws.team, &facts, ws.project_name())?;
    let file = desired
        .files
        .iter()
        .find(|f| f.path == path && f.policy != Policy::Secret)
        .ok_or_else(|| not_rendered(&path, &desired))?;
    let hint = "replace it with a regular file (moot never reads through a link)";
    let theirs = untrusted::read(&ws.root.join(&path), CAP, "your file", hint)?;
    let staged_rel = suggested_path(&path);
    let staged = if untrusted::check_dir(&ws.root.join(MOOT_DIR), MOOT_DIR, hint)? {
        untrusted::read(&ws.root.join(&staged_rel), CAP, "staged suggestion", hint)?
    } else {
        None
    };
    let (ours, what) = match &staged {
        Some(s) => (
            s.bytes.as_slice(),
            format!("moot's staged version ({staged_rel})"),
        ),
        None => (
            file.content.as_slice(),
            format!(
                "what moot would write now (nothing is staged; rendered offline{})",
                if lock.is_some() {
                    ", with the space and API URL moot.lock records"
                } else {
                    "; no moot.lock, so no space or API URL is filled in"
                }
            ),
        ),
    };
    let mine = theirs.as_ref().map(|t| t.bytes.as_slice());
    printer.status(&format!(
        "{path}: your {} against {what}",
        if mine.is_some() {
            "file"
        } else {
            "file (absent)"
        }
    ));
    match unified(&path, mine, ours) {
        Some(d) if d.is_empty() => printer.status("No difference."),
        Some(d) => printer.data(&human::styled_diff(&d, &printer.out_styles, "")),
        None => printer.status("(binary or non-UTF-8 content: no text diff)"),
    }
    Ok(Outcome::Success)
}

/// `./moot.toml` -> `moot.toml`; the plan names paths without the prefix.
fn normalize(path: &str) -> String {
    let mut p = path.trim();
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p.to_string()
}

fn not_rendered(path: &str, desired: &crate::desired::DesiredState) -> Error {
    let why = match check_relative(path) {
        Err(e) => format!("`{path}` is not a workspace-relative path: {e}"),
        Ok(()) if Path::new(path).is_absolute() => format!("`{path}` is absolute"),
        Ok(()) => format!("moot renders no file `{path}` for this team.toml"),
    };
    Error::user(why, managed_list_hint(desired))
}

/// "files moot renders: a, b, c (and N more)".
pub fn managed_list_hint(desired: &crate::desired::DesiredState) -> String {
    let paths: Vec<&str> = desired
        .files
        .iter()
        .filter(|f| f.policy == Policy::Managed)
        .map(|f| f.path.as_str())
        .collect();
    let shown = paths.iter().take(8).copied().collect::<Vec<_>>().join(", ");
    let more = paths.len().saturating_sub(8);
    format!(
        "name a file moot manages, as `moot plan` shows it: {shown}{}",
        if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        }
    )
}

/// The full unified diff (not truncated: this is what the user asked to
/// read), None for non-text content. Empty when equal.
fn unified(path: &str, mine: Option<&[u8]>, ours: &[u8]) -> Option<String> {
    let old = std::str::from_utf8(mine.unwrap_or(b"")).ok()?;
    let new = std::str::from_utf8(ours).ok()?;
    if old == new && mine.is_some() {
        return Some(String::new());
    }
    let old_name = if mine.is_some() {
        format!("a/{path} (yours)")
    } else {
        "/dev/null".into()
    };
    Some(
        TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(&old_name, &format!("b/{path} (moot's)"))
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_diffs() {
        assert_eq!(normalize("././moot.toml"), "moot.toml");
        assert_eq!(unified("a", Some(b"x\n"), b"x\n").unwrap(), "");
        let d = unified("a", Some(b"x\n"), b"y\n").unwrap();
        assert!(d.contains("-x\n+y\n"), "{d}");
        assert!(unified("a", Some(&[0xff]), b"y").is_none());
        assert!(
            unified("a", None, b"y\n")
                .unwrap()
                .starts_with("--- /dev/null")
        );
    }
}
