//! Repair of an interrupted apply, run first by every command that opens a
//! workspace: a journal left in `.moot/txn/` means an apply crashed midway.
//! A prepared journal is rolled back (the workspace returns to its state
//! before that apply); a committed one only needs its cleanup.

use std::path::Path;

use crate::apply::txn::{self, Journal, JournalState};
use crate::apply::wslock::WorkspaceLock;
use crate::error::Result;
use crate::printer::Printer;

pub fn repair(root: &Path, printer: &Printer) -> Result<()> {
    if !root.join(txn::TXN_DIR).exists() {
        return Ok(());
    }
    // A running apply holds the lock: its journal is live, not litter.
    let _lock = match WorkspaceLock::acquire(root) {
        Ok(l) => l,
        Err(_) => {
            printer.warn(
                "an apply is in progress in this workspace; what follows may change under it",
            );
            return Ok(());
        }
    };
    repair_locked(root, printer)
}

/// The repair itself, for a caller that already holds the workspace lock
/// (apply, which must not start over the remains of an apply that died
/// between this command's first look and its taking the lock).
pub fn repair_locked(root: &Path, printer: &Printer) -> Result<()> {
    if !root.join(txn::TXN_DIR).exists() {
        return Ok(());
    }
    match Journal::load(root)? {
        None => txn::cleanup(root),
        Some(j) if j.state == JournalState::Committed => {
            txn::cleanup(root);
            printer
                .warn("finished the cleanup of an apply that was interrupted after it committed");
        }
        Some(j) => {
            txn::rollback(root, &j)?;
            printer.warn(&format!(
                "repaired an interrupted apply (pid {}): rolled back {} change{}; \
                 the workspace is as it was before that apply",
                j.pid,
                j.entries.len(),
                if j.entries.len() == 1 { "" } else { "s" }
            ));
        }
    }
    Ok(())
}
