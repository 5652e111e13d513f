//! Interrupted applies. A journal left in `.moot/txn/` means an apply
//! crashed midway (or someone planted one: `.moot/` can come from the
//! checkout). `plan` and `check` only report it and change nothing;
//! `apply`, holding the workspace lock, repairs it: it proves the journal
//! is moot's (its seal), says what it will restore, then rolls the
//! journal back: the workspace returns to its state before that apply. (An
//! apply that reached its commit point moved its journal, with the rest of
//! `.moot/txn/`, to `.moot/txn.done/`: what it left there is only cleaned
//! up.)

use std::path::Path;

use crate::apply::txn::{self, EntryKind, Journal};
use crate::error::{Error, Result};
use crate::printer::{Printer, clean_line};

/// For commands that change nothing: an error when an apply is running or
/// was interrupted, so nothing is planned against a half-applied workspace.
pub fn refuse_interrupted(root: &Path) -> Result<()> {
    if std::fs::symlink_metadata(root.join(txn::TXN_DIR)).is_err() {
        return Ok(());
    }
    Err(Error::user(
        format!(
            "{} exists: an apply is running in this workspace or was interrupted; \
             nothing was planned and nothing was changed",
            root.join(txn::TXN_DIR).display()
        ),
        "wait for a running apply, or run `moot apply`: it says what it restores and repairs \
         the workspace under its lock before planning",
    ))
}

/// The repair, for apply, which must hold the workspace lock.
pub fn repair_locked(root: &Path, printer: &Printer) -> Result<()> {
    // What a committed apply had not yet removed when it was cut short:
    // old backups, only litter.
    txn::clear_committed(root)?;
    let txn_dir = root.join(txn::TXN_DIR);
    let Ok(meta) = std::fs::symlink_metadata(&txn_dir) else {
        return Ok(());
    };
    if !meta.file_type().is_dir() {
        return Err(Error::user(
            format!(
                "{} is not a directory; moot never acts through a link there",
                txn_dir.display()
            ),
            "remove it (moot did not leave it), then run `moot apply` again",
        ));
    }
    match Journal::load(root)? {
        // Staged copies of an apply that failed before journalling.
        None => txn::cleanup(root),
        Some(j) => {
            printer.warn(&format!(
                "an apply (pid {}) was interrupted; restoring the workspace as it was before it:\n{}",
                j.pid,
                restore_list(&j)
            ));
            txn::rollback(root, &j)?;
            printer.warn(&format!(
                "repaired an interrupted apply: rolled back {} change{}; \
                 the workspace is as it was before that apply",
                j.entries.len(),
                if j.entries.len() == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(())
}

/// One line per entry: what the rollback does to it.
fn restore_list(j: &Journal) -> String {
    j.entries
        .iter()
        .rev()
        .map(|e| {
            let what = match (e.kind, e.had_original) {
                (EntryKind::Write, true) | (EntryKind::Remove, true) => {
                    "restore from its backup".to_string()
                }
                (EntryKind::Write, false) => "remove it if that apply created it".to_string(),
                (EntryKind::Remove, false) => "nothing to restore".to_string(),
                (EntryKind::Chmod, _) => match e.old_mode {
                    Some(m) => format!("mode back to {m}"),
                    None => "nothing to restore".to_string(),
                },
            };
            format!("  {}: {what}", clean_line(&e.target))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
