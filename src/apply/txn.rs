//! The local transaction. Every new content is first written to a staging
//! directory inside the workspace (so on the same filesystem) and fsynced;
//! a journal records each target, its staged copy and its backup; then the
//! originals are moved aside and the staged files renamed into place. Any
//! failure restores every file from the backups; a crash leaves the journal
//! for the next moot command to roll back (`recover.rs`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::apply::faults;
use crate::error::{Error, IoContext, Result};
use crate::fsutil::{create_dir_all_mode, sync_dir, write_atomic};
use crate::observed::workspace::{PathKind, classify};

pub const TXN_DIR: &str = ".moot/txn";
pub const JOURNAL: &str = ".moot/txn/journal.json";

/// In the message of an error whose rollback failed as well.
pub const ROLLBACK_FAILED: &str = "rolling back failed too";

/// One change to one path.
#[derive(Debug, Clone)]
pub enum Change {
    Write {
        path: String,
        content: Vec<u8>,
        mode: u32,
    },
    Chmod {
        path: String,
        mode: u32,
    },
    Remove {
        path: String,
    },
}

impl Change {
    fn path(&self) -> &str {
        match self {
            Change::Write { path, .. } | Change::Chmod { path, .. } | Change::Remove { path } => {
                path
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    Write,
    Chmod,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: EntryKind,
    pub target: String,
    /// Staged copy, relative to the workspace (writes only).
    pub staged: Option<String>,
    /// Where the original goes while the transaction runs.
    pub backup: String,
    pub had_original: bool,
    /// The original's mode (chmod rollback).
    pub old_mode: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JournalState {
    /// Staged and journalled; targets may be partly moved: roll back.
    Prepared,
    /// Every target is in place: only cleanup remains.
    Committed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub state: JournalState,
    pub pid: u32,
    pub entries: Vec<Entry>,
    /// Directories created for new files, parents first.
    pub created_dirs: Vec<String>,
}

impl Journal {
    fn write(&self, root: &Path) -> Result<()> {
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("serialising the journal: {e}")))?;
        write_atomic(&root.join(JOURNAL), &text, 0o600)
    }

    pub fn load(root: &Path) -> Result<Option<Journal>> {
        let path = root.join(JOURNAL);
        let journal = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Journal>(&bytes).map_err(|e| {
                Error::user(
                    format!("{}: unreadable transaction journal ({e})", path.display()),
                    "an interrupted apply left it; inspect .moot/txn/ (backups of your files are in \
                     .moot/txn/backup), restore what you need, then delete .moot/txn",
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("reading", path, e)),
        }?;
        journal.check().map_err(|why| {
            Error::user(
                format!("{}: refusing to act on this journal: {why}", path.display()),
                "moot did not write it; inspect .moot/txn/ and delete it once you are sure \
                 nothing there is needed",
            )
        })?;
        Ok(Some(journal))
    }

    /// A journal is an input like any other (anything that can write
    /// `.moot/` can plant one): every path must stay in the workspace, and
    /// staged copies and backups inside `.moot/txn/`.
    fn check(&self) -> std::result::Result<(), String> {
        use crate::observed::workspace::check_relative;
        let in_txn = |p: &str| {
            check_relative(p).is_ok()
                && p.starts_with(&format!("{TXN_DIR}/"))
                && !p.contains("/../")
        };
        for e in &self.entries {
            check_relative(&e.target)?;
            if e.target.starts_with(&format!("{TXN_DIR}/")) {
                return Err(format!(
                    "target `{}` is inside the journal's own area",
                    e.target
                ));
            }
            if !in_txn(&e.backup) || e.staged.as_deref().is_some_and(|s| !in_txn(s)) {
                return Err(format!(
                    "staged or backup path of `{}` outside .moot/txn/",
                    e.target
                ));
            }
        }
        for d in &self.created_dirs {
            check_relative(d)?;
        }
        Ok(())
    }
}

/// Runs `changes` (in order) as one transaction: all of them or none.
pub fn run(root: &Path, changes: &[Change]) -> Result<()> {
    // The planner only produces workspace-relative paths; refuse anything
    // else before touching the disk, whatever produced `changes`.
    for c in changes {
        crate::observed::workspace::check_relative(c.path()).map_err(|why| {
            Error::Internal(format!("refusing to write outside the workspace: {why}"))
        })?;
    }
    let txn = root.join(TXN_DIR);
    if root.join(JOURNAL).exists() {
        // Callers repair under the lock first; a journal here would be the
        // only record of another apply's backups: never deleted.
        return Err(Error::Internal(
            "an interrupted apply's journal is still in .moot/txn/".into(),
        ));
    }
    if txn.exists() {
        // Only staged copies of an apply that failed before journalling.
        std::fs::remove_dir_all(&txn).ctx("clearing", &txn)?;
    }
    create_dir_all_mode(&txn.join("staged"), 0o700)?;
    create_dir_all_mode(&txn.join("backup"), 0o700)?;

    let mut journal = Journal {
        state: JournalState::Prepared,
        pid: std::process::id(),
        entries: Vec::with_capacity(changes.len()),
        created_dirs: Vec::new(),
    };
    let prepared = (|| -> Result<()> {
        for (i, change) in changes.iter().enumerate() {
            ensure_safe(root, change.path(), matches!(change, Change::Remove { .. }))?;
            let target = root.join(change.path());
            let meta = std::fs::symlink_metadata(&target).ok();
            let (kind, staged) = match change {
                Change::Write { content, mode, .. } => {
                    let staged = format!("{TXN_DIR}/staged/{i}");
                    faults::step("stage")?;
                    write_staged(&root.join(&staged), content, *mode)?;
                    (EntryKind::Write, Some(staged))
                }
                Change::Chmod { .. } => (EntryKind::Chmod, None),
                Change::Remove { .. } => (EntryKind::Remove, None),
            };
            journal.entries.push(Entry {
                kind,
                target: change.path().to_string(),
                staged,
                backup: format!("{TXN_DIR}/backup/{i}"),
                had_original: meta.is_some(),
                old_mode: meta.map(|m| m.permissions().mode() & 0o7777),
            });
            if kind == EntryKind::Write {
                let mut missing = Vec::new();
                let mut dir = Path::new(change.path()).parent();
                while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
                    if root.join(d).exists() {
                        break;
                    }
                    missing.push(d.to_string_lossy().into_owned());
                    dir = d.parent();
                }
                for d in missing.into_iter().rev() {
                    if !journal.created_dirs.contains(&d) {
                        journal.created_dirs.push(d);
                    }
                }
            }
        }
        sync_dir(&txn.join("staged"))?;
        faults::step("journal")?;
        journal.write(root)
    })();
    if let Err(e) = prepared {
        let _ = std::fs::remove_dir_all(&txn);
        return Err(e);
    }

    match commit(root, &journal, changes) {
        Ok(()) => {
            journal.state = JournalState::Committed;
            let marked = faults::step("commit").and_then(|()| journal.write(root));
            if let Err(e) = marked {
                rollback(root, &journal)?;
                return Err(e);
            }
            cleanup(root);
            prune_emptied_dirs(root, &journal);
            Ok(())
        }
        Err(e) => match rollback(root, &journal) {
            Ok(()) => Err(e),
            Err(r) => Err(Error::user(
                format!("{e}; and {ROLLBACK_FAILED}: {r}"),
                "the journal in .moot/txn/ is kept; the next moot command retries the rollback",
            )),
        },
    }
}

/// Refuses a target whose parents are not plain directories, or which is
/// itself a symlink (a write would replace the link, a chmod follow it).
/// `removing` allows a symlink target: removing a link touches only it.
fn ensure_safe(root: &Path, rel: &str, removing: bool) -> Result<()> {
    match classify(root, rel)? {
        PathKind::Unsafe(why) => Err(Error::user(
            format!("refusing to write {rel}: {why}"),
            "make its parent directories plain directories, then run `moot apply` again",
        )),
        PathKind::Symlink if !removing => Err(Error::user(
            format!("refusing to write {rel}: it became a symlink during the apply"),
            "replace the link with a regular file, then run `moot apply` again",
        )),
        _ => Ok(()),
    }
}

fn write_staged(path: &Path, content: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .ctx("staging", path)?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))
        .ctx("staging", path)?;
    f.write_all(content).ctx("staging", path)?;
    f.sync_all().ctx("syncing", path)
}

fn commit(root: &Path, journal: &Journal, changes: &[Change]) -> Result<()> {
    let mut dirs = std::collections::BTreeSet::new();
    for d in &journal.created_dirs {
        let mode = if d == ".moot" || d.starts_with(".moot/") {
            0o700
        } else {
            0o755
        };
        create_dir_all_mode(&root.join(d), mode)?;
    }
    for (entry, change) in journal.entries.iter().zip(changes) {
        // Again right before acting: the remote phase can take seconds, and
        // a parent replaced by a symlink meanwhile must not be written
        // through.
        ensure_safe(root, &entry.target, entry.kind == EntryKind::Remove)?;
        let target = root.join(&entry.target);
        match change {
            Change::Write { .. } | Change::Remove { .. } => {
                if entry.had_original {
                    faults::step("backup")?;
                    std::fs::rename(&target, root.join(&entry.backup))
                        .ctx("moving aside", &target)?;
                }
                if let Some(staged) = &entry.staged {
                    faults::step("rename")?;
                    std::fs::rename(root.join(staged), &target)
                        .ctx("renaming into place", &target)?;
                }
            }
            Change::Chmod { mode, .. } => {
                faults::step("chmod")?;
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(*mode))
                    .ctx("changing the mode of", &target)?;
            }
        }
        dirs.insert(target.parent().unwrap_or(root).to_path_buf());
    }
    // Each touched directory once, after all renames and before the commit
    // mark: as durable as syncing after every rename, with far fewer syncs.
    for d in &dirs {
        sync_dir(d)?;
    }
    Ok(())
}

/// Restores every target as it was before the transaction, from the
/// journal and whatever the filesystem shows was done.
pub fn rollback(root: &Path, journal: &Journal) -> Result<()> {
    for entry in journal.entries.iter().rev() {
        if let PathKind::Unsafe(why) = classify(root, &entry.target)? {
            return Err(Error::user(
                format!("cannot restore {}: {why}", entry.target),
                "make the path a plain directory again; the next moot command retries the rollback",
            ));
        }
        let target = root.join(&entry.target);
        let backup = root.join(&entry.backup);
        match entry.kind {
            EntryKind::Write | EntryKind::Remove => {
                // lstat, not exists(): a backed-up symlink whose target is
                // gone must come back too.
                if std::fs::symlink_metadata(&backup).is_ok() {
                    std::fs::rename(&backup, &target).ctx("restoring", &target)?;
                } else if !entry.had_original && entry.kind == EntryKind::Write {
                    match std::fs::remove_file(&target) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(Error::io("removing", &target, e)),
                    }
                }
            }
            EntryKind::Chmod => {
                if let (Some(mode), true) = (entry.old_mode, target.exists()) {
                    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
                        .ctx("restoring the mode of", &target)?;
                }
            }
        }
        if let Some(parent) = target.parent() {
            let _ = sync_dir(parent);
        }
    }
    for d in journal.created_dirs.iter().rev() {
        // Only empty directories go; anything else in them is not ours.
        let _ = std::fs::remove_dir(root.join(d));
    }
    cleanup(root);
    Ok(())
}

/// After a committed transaction: the directories that removals left
/// empty go too (`.claude/hooks/` once its last script is removed). Only
/// empty directories, never the workspace itself; done after the commit so
/// a rollback never needs them back.
fn prune_emptied_dirs(root: &Path, journal: &Journal) {
    for entry in journal
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Remove)
    {
        let mut dir = Path::new(&entry.target).parent();
        while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
            if std::fs::remove_dir(root.join(d)).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
}

/// Removes the staging area, backups and journal.
pub fn cleanup(root: &Path) {
    let txn: PathBuf = root.join(TXN_DIR);
    let _ = std::fs::remove_dir_all(&txn);
    let _ = sync_dir(&root.join(".moot"));
}
