//! The local transaction. Every new content is first written to a staging
//! directory inside the workspace (so on the same filesystem) and fsynced;
//! a journal records each target, its staged copy and its backup; then the
//! originals are moved aside and the staged files renamed into place. Any
//! failure restores every file from the backups; a crash leaves the journal
//! for the next `moot apply` to roll back (`recover.rs`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::apply::faults;
use crate::apply::seal::SealKey;
use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::fsutil::{Barrier, create_dir_all_mode, sync_dir, write_replace};
use crate::mode::Mode;
use crate::observed::lockfile::LOCK_PATH;
use crate::observed::workspace::{PathKind, classify};
use crate::paths::{GIT_DIR, MOOT_DIR, TXN_BACKUP_DIR, TXN_DONE_DIR, TXN_STAGED_DIR};
use crate::relpath::RelPath;

pub use crate::paths::{JOURNAL, TXN_DIR};

/// What the plan saw at a path. The remote phase can take seconds, so the
/// content is checked again right before a write or removal: a file the
/// user edited meanwhile is never overwritten or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// moot's own bookkeeping (moot.lock, the report, the key file): its
    /// protocol, not the user's content.
    Unchecked,
    Absent,
    /// A regular file with this sha256.
    File(Digest),
}

/// One change to one path.
#[derive(Debug, Clone)]
pub enum Change {
    Write {
        path: RelPath,
        content: Vec<u8>,
        mode: Mode,
        seen: Seen,
    },
    Chmod {
        path: RelPath,
        mode: Mode,
    },
    Remove {
        path: RelPath,
        seen: Seen,
    },
}

/// A change left undone because its file changed after the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diverted {
    pub path: String,
    /// Where moot's version was staged instead (writes), if it could be.
    pub staged_at: Option<String>,
}

/// The workspace-relative path of a change, checked: a plan that names
/// anything else is a bug, refused before any file is touched.
pub fn rel(path: &str) -> Result<RelPath> {
    RelPath::new(path).map_err(|why| {
        Error::Internal(format!(
            "refusing to write outside the workspace: {path}: {why}"
        ))
    })
}

impl Change {
    fn path(&self) -> &str {
        match self {
            Change::Write { path, .. }
            | Change::Chmod { path, .. }
            | Change::Remove { path, .. } => path.as_str(),
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
    pub old_mode: Option<Mode>,
    /// sha256 of the content written (writes only): a rollback removes a
    /// file it created only while it still holds exactly these bytes.
    #[serde(default)]
    pub written_sha256: Option<Digest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JournalState {
    /// Staged and journalled; targets may be partly moved: roll back. The
    /// only state a journal on disk has: moving it out of `.moot/txn/` is
    /// the commit point.
    Prepared,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub state: JournalState,
    pub pid: u32,
    pub entries: Vec<Entry>,
    /// Directories created for new files, parents first.
    pub created_dirs: Vec<String>,
    /// HMAC-SHA256 of the journal (with this field empty) under the key
    /// outside the checkout (`seal.rs`); empty when no key could be had.
    #[serde(default)]
    pub seal: String,
}

impl Journal {
    /// The bytes the seal covers: the journal with an empty seal.
    fn unsealed_bytes(&self) -> Result<Vec<u8>> {
        let mut copy = self.clone();
        copy.seal.clear();
        serde_json::to_vec(&copy)
            .map_err(|e| Error::Internal(format!("serialising the journal: {e}")))
    }

    /// Replaces the journal file; durable after the caller's next barrier.
    fn write(&mut self, root: &Path, key: Option<&SealKey>, barrier: &mut Barrier) -> Result<()> {
        self.seal = match key {
            Some(k) => k.seal(&self.unsealed_bytes()?),
            None => String::new(),
        };
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::Internal(format!("serialising the journal: {e}")))?;
        let path = root.join(JOURNAL);
        write_replace(&path, &text, 0o600)?;
        barrier.record(&path);
        Ok(())
    }

    /// The journal, if any, once proven to be moot's (sealed with this
    /// user's key) and to name only what moot may restore. Read without
    /// following a link or blocking on a FIFO.
    pub fn load(root: &Path) -> Result<Option<Journal>> {
        let path = root.join(JOURNAL);
        let Some(bytes) = crate::fsutil::read_regular(&path)? else {
            return Ok(None);
        };
        let refuse = |why: String| {
            Error::user(
                format!("{}: refusing to act on this journal: {why}", path.display()),
                "moot restores only journals it can prove it wrote; inspect .moot/txn/ \
                 (backups of your files are in .moot/txn/backup), restore what you need by \
                 hand, then delete .moot/txn",
            )
        };
        let journal = serde_json::from_slice::<Journal>(&bytes)
            .map_err(|e| refuse(format!("it is not a moot journal ({e})")))?;
        let proven = match SealKey::load()? {
            Some(key) => key.verify(&journal.unsealed_bytes()?, &journal.seal),
            None => false,
        };
        if !proven {
            return Err(refuse(
                "moot cannot prove it wrote it (its seal does not match this user's \
                 key in ~/.moot/journal.key)"
                    .into(),
            ));
        }
        journal.check().map_err(refuse)?;
        Ok(Some(journal))
    }

    /// A journal is an input like any other (anything that can write
    /// `.moot/` can plant one): every path must stay in the workspace, and
    /// staged copies and backups inside `.moot/txn/`.
    fn check(&self) -> std::result::Result<(), String> {
        use crate::observed::workspace::check_relative;
        let in_txn =
            |p: &str| check_relative(p).is_ok() && below(p, TXN_DIR) && !p.contains("/../");
        let mut seen = std::collections::HashSet::new();
        for (i, e) in self.entries.iter().enumerate() {
            check_relative(&e.target)?;
            not_protected(&e.target)?;
            if !seen.insert(e.target.as_str()) {
                return Err(format!("`{}` is listed twice", e.target));
            }
            // moot.lock is only ever the transaction's last write.
            if e.target == LOCK_PATH && (e.kind != EntryKind::Write || i + 1 != self.entries.len())
            {
                return Err("moot.lock is not the last write".into());
            }
            if !in_txn(&e.backup) || e.staged.as_deref().is_some_and(|s| !in_txn(s)) {
                return Err(format!(
                    "staged or backup path of `{}` outside .moot/txn/",
                    e.target
                ));
            }
            let restores_mode = e.kind == EntryKind::Chmod;
            if let Some(mode) = e.old_mode.filter(|m| restores_mode && !moot_mode(*m)) {
                return Err(format!(
                    "mode {mode} for `{}` is not one moot restores",
                    e.target
                ));
            }
        }
        for d in &self.created_dirs {
            check_relative(d)?;
            not_protected(d)?;
        }
        Ok(())
    }
}

/// Paths no journal may name: the user's team.toml, git's own data and
/// the transaction's area, live or committed.
fn not_protected(rel: &str) -> std::result::Result<(), String> {
    let first = rel.split('/').find(|c| !c.is_empty() && *c != ".");
    let protected = rel == crate::workspace::TEAM_FILE
        || first == Some(GIT_DIR)
        || rel == MOOT_DIR
        || [TXN_DIR, TXN_DONE_DIR]
            .iter()
            .any(|area| rel == *area || below(rel, area));
    if protected {
        Err(format!("`{rel}` is not a file moot writes"))
    } else {
        Ok(())
    }
}

/// Whether `rel` is a path inside the directory `dir` (both
/// workspace-relative): `.moot/txn.done` is not inside `.moot/txn`.
fn below(rel: &str, dir: &str) -> bool {
    rel.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Modes a rollback may restore: permission bits only (never setuid,
/// setgid or sticky), and readable and writable by the owner (never 000).
fn moot_mode(mode: Mode) -> bool {
    mode.bits() & !0o777 == 0 && mode.bits() & 0o600 == 0o600
}

/// Runs `changes` (in order) as one transaction: all of them or none,
/// except that a file changed since the plan saw it is left as it is (its
/// change is returned as diverted, moot's version staged for review).
/// Every path is a [`RelPath`]: nothing outside the workspace can even be
/// named here, whatever produced `changes`.
pub fn run(root: &Path, changes: &[Change]) -> Result<Vec<Diverted>> {
    let key = SealKey::load_or_create()?;
    let txn = root.join(TXN_DIR);
    if std::fs::symlink_metadata(root.join(JOURNAL)).is_ok() {
        // Callers repair under the lock first; a journal here would be the
        // only record of another apply's backups: never deleted.
        return Err(Error::Internal(
            "an interrupted apply's journal is still in .moot/txn/".into(),
        ));
    }
    clear_txn_dir(&txn)?;
    clear_committed(root)?;
    create_dir_all_mode(&root.join(TXN_STAGED_DIR), 0o700)?;

    let mut journal = Journal {
        state: JournalState::Prepared,
        pid: std::process::id(),
        entries: Vec::with_capacity(changes.len()),
        created_dirs: Vec::new(),
        seal: String::new(),
    };
    // Durable per phase, not per file: the staged copies and the journal
    // behind one barrier before any target is touched; the renames behind
    // another before the commit point, which moves the journal's area
    // aside, synced through `.moot` before apply returns. A crash before
    // that leaves a journal that says what to undo (docs/design.md,
    // "Durable commit").
    let mut barrier = Barrier::new(root);
    let prepared = prepare(root, changes, &mut journal, &mut barrier)
        .and_then(|()| faults::step("journal"))
        .and_then(|()| journal.write(root, key.as_ref(), &mut barrier))
        .and_then(|()| barrier.sync());
    if let Err(e) = prepared {
        let _ = std::fs::remove_dir_all(&txn);
        return Err(e);
    }

    match commit(root, &journal, changes, &mut barrier) {
        Ok(diverted) => {
            if let Err(e) = faults::step("commit").and_then(|()| commit_point(root)) {
                rollback(root, &journal)?;
                return Err(e);
            }
            faults::crash_point("committed");
            let diverted = stage_diverted(root, &journal, diverted);
            // Not synced: a power loss that brings it back leaves only
            // litter, which the next apply removes.
            let _ = clear_committed(root);
            prune_emptied_dirs(root, &journal);
            Ok(diverted)
        }
        Err(e) => match rollback(root, &journal) {
            Ok(()) => Err(e),
            Err(r) => Err(Error::RollbackFailed {
                error: Box::new(e),
                rollback: Box::new(r),
            }),
        },
    }
}

/// Takes the journal out of every repair's reach, durably: `.moot/txn`
/// is renamed to `.moot/txn.done`, journal and all, and `.moot` fsynced.
/// From then on no repair rolls the apply back. One fsync, since the
/// renames before it are already behind a barrier; the area is then
/// removed with no fsync of its own (`clear_committed`). Should the fsync
/// fail, the area is put back, so the caller's rollback finds it.
fn commit_point(root: &Path) -> Result<()> {
    let (txn, done) = (root.join(TXN_DIR), root.join(TXN_DONE_DIR));
    std::fs::rename(&txn, &done).ctx("committing", &txn)?;
    sync_dir(&root.join(MOOT_DIR)).inspect_err(|_| {
        let _ = std::fs::rename(&done, &txn);
    })
}

/// Removes what a committed transaction left (see [`TXN_DONE_DIR`]).
/// Never through a link.
pub fn clear_committed(root: &Path) -> Result<()> {
    clear_txn_dir(&root.join(TXN_DONE_DIR))
}

/// A path inside the transaction's area, after the commit point moved it.
fn committed(rel: &str) -> String {
    match rel.strip_prefix(TXN_DIR).filter(|_| below(rel, TXN_DIR)) {
        Some(rest) => format!("{TXN_DONE_DIR}{rest}"),
        None => rel.to_string(),
    }
}

/// Removes what an apply that failed before journalling left in
/// `.moot/txn/` (staged copies only), or a committed area. Never through
/// a link: a symlinked `.moot/txn` is removed as a link.
fn clear_txn_dir(txn: &Path) -> Result<()> {
    match std::fs::symlink_metadata(txn) {
        Ok(m) if m.file_type().is_dir() => std::fs::remove_dir_all(txn).ctx("clearing", txn),
        Ok(_) => std::fs::remove_file(txn).ctx("clearing", txn),
        Err(_) => Ok(()),
    }
}

/// Stages every write and fills the journal (not yet written).
fn prepare(
    root: &Path,
    changes: &[Change],
    journal: &mut Journal,
    barrier: &mut Barrier,
) -> Result<()> {
    for (i, change) in changes.iter().enumerate() {
        ensure_safe(root, change.path(), matches!(change, Change::Remove { .. }))?;
        let target = root.join(change.path());
        let meta = std::fs::symlink_metadata(&target).ok();
        let (kind, staged, written) = match change {
            Change::Write { content, mode, .. } => {
                let staged = format!("{TXN_STAGED_DIR}/{i}");
                faults::step("stage")?;
                write_staged(&root.join(&staged), content, *mode)?;
                barrier.record(&root.join(&staged));
                (EntryKind::Write, Some(staged), Some(Digest::of(content)))
            }
            Change::Chmod { .. } => (EntryKind::Chmod, None, None),
            Change::Remove { .. } => (EntryKind::Remove, None, None),
        };
        journal.entries.push(Entry {
            kind,
            target: change.path().to_string(),
            staged,
            backup: format!("{TXN_BACKUP_DIR}/{i}"),
            had_original: meta.is_some(),
            old_mode: meta.map(|m| Mode::of(m.permissions().mode())),
            written_sha256: written,
        });
        if kind == EntryKind::Write {
            let mut missing = Vec::new();
            let mut dir = Path::new(change.path()).parent();
            while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
                if std::fs::symlink_metadata(root.join(d)).is_ok() {
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
    // Only when there is something to move aside: a first apply has
    // nothing, and each directory made and removed costs a journal update.
    if journal.entries.iter().any(|e| e.had_original) {
        create_dir_all_mode(&root.join(TXN_BACKUP_DIR), 0o700)?;
    }
    Ok(())
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

fn write_staged(path: &Path, content: &[u8], mode: Mode) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode.bits())
        .open(path)
        .ctx("staging", path)?;
    f.set_permissions(std::fs::Permissions::from_mode(mode.bits()))
        .ctx("staging", path)?;
    // Not synced here: the barrier after staging covers every staged copy.
    f.write_all(content).ctx("staging", path)
}

/// Moves every change into place; returns the indices of the changes
/// left undone because their file changed since the plan.
fn commit(
    root: &Path,
    journal: &Journal,
    changes: &[Change],
    barrier: &mut Barrier,
) -> Result<Vec<usize>> {
    let mut diverted = Vec::new();
    for d in &journal.created_dirs {
        let mode = if d == MOOT_DIR || d.starts_with(&format!("{MOOT_DIR}/")) {
            0o700
        } else {
            0o755
        };
        create_dir_all_mode(&root.join(d), mode)?;
    }
    for (i, (entry, change)) in journal.entries.iter().zip(changes).enumerate() {
        // Again right before acting: the remote phase can take seconds, and
        // a parent replaced by a symlink meanwhile must not be written
        // through, nor a file the user edited meanwhile overwritten.
        ensure_safe(root, &entry.target, entry.kind == EntryKind::Remove)?;
        let target = root.join(&entry.target);
        match change {
            Change::Write { seen, .. } | Change::Remove { seen, .. } => {
                if changed_since_plan(&target, seen, entry.written_sha256)? {
                    diverted.push(i);
                    continue;
                }
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
                crate::fsutil::chmod_nofollow(&target, mode.bits())?;
            }
        }
        barrier.record(&target);
    }
    // One barrier after all renames and before the commit mark: as durable
    // as syncing after every rename, for the price of one.
    barrier.sync()?;
    Ok(diverted)
}

/// Whether `target` no longer holds what the plan saw (and not already
/// what moot writes). Read by content, without following a link.
fn changed_since_plan(target: &Path, seen: &Seen, new_sha: Option<Digest>) -> Result<bool> {
    let want = match seen {
        Seen::Unchecked => return Ok(false),
        Seen::Absent => None,
        Seen::File(sha) => Some(*sha),
    };
    let now = crate::fsutil::read_regular(target)?.map(|b| Digest::of(&b));
    Ok(now != want && (now.is_none() || now != new_sha))
}

/// After the commit: moot's version of each diverted write goes to
/// `.moot/suggested/<path>` for review (best effort: the user's file is
/// already safe, and the next plan reports it as drift either way).
fn stage_diverted(root: &Path, journal: &Journal, diverted: Vec<usize>) -> Vec<Diverted> {
    diverted
        .into_iter()
        .map(|i| {
            let entry = &journal.entries[i];
            let staged_at = entry.staged.as_ref().and_then(|staged| {
                let rel = crate::plan::planner::suggested_path(&entry.target);
                let parent = Path::new(&rel).parent()?;
                let writable = |root: &Path| match classify(root, &rel) {
                    Ok(PathKind::Absent | PathKind::File { .. }) => Some(()),
                    Ok(PathKind::Dir | PathKind::Symlink | PathKind::Unsafe(_)) | Err(_) => None,
                };
                writable(root)?;
                create_dir_all_mode(&root.join(parent), 0o700).ok()?;
                writable(root)?;
                std::fs::rename(root.join(committed(staged)), root.join(&rel)).ok()?;
                Some(rel)
            });
            Diverted {
                path: entry.target.clone(),
                staged_at,
            }
        })
        .collect()
}

/// Restores every target as it was before the transaction, from the
/// journal and whatever the filesystem shows was done. Never through a
/// link: a backup is put back by rename, a mode restored through a
/// no-follow descriptor, and a created file removed only while it holds
/// exactly the bytes this transaction wrote.
pub fn rollback(root: &Path, journal: &Journal) -> Result<()> {
    for entry in journal.entries.iter().rev() {
        if let PathKind::Unsafe(why) = classify(root, &entry.target)? {
            return Err(Error::user(
                format!("cannot restore {}: {why}", entry.target),
                "make the path a plain directory again; the next `moot apply` retries the rollback",
            ));
        }
        let target = root.join(&entry.target);
        let backup = root.join(&entry.backup);
        match entry.kind {
            EntryKind::Write | EntryKind::Remove => {
                // lstat, not exists(): a backed-up symlink whose target is
                // gone must come back too.
                match std::fs::symlink_metadata(&backup) {
                    Ok(m) if m.file_type().is_file() || m.file_type().is_symlink() => {
                        std::fs::rename(&backup, &target).ctx("restoring", &target)?;
                    }
                    Ok(_) => {
                        return Err(Error::user(
                            format!(
                                "cannot restore {}: its backup {} is not a file",
                                entry.target, entry.backup
                            ),
                            "inspect .moot/txn/ and restore the file by hand",
                        ));
                    }
                    Err(_) if !entry.had_original && entry.kind == EntryKind::Write => {
                        remove_if_ours(&target, entry.written_sha256)?;
                    }
                    Err(_) => {}
                }
            }
            EntryKind::Chmod => {
                let kind = classify(root, &entry.target)?;
                if let (Some(mode), PathKind::File { .. } | PathKind::Dir) = (entry.old_mode, kind)
                {
                    crate::fsutil::chmod_nofollow(&target, mode.bits())?;
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

/// Removes a file this transaction created, if it still holds the bytes
/// written (anything else there is not moot's to remove).
fn remove_if_ours(target: &Path, written_sha256: Option<Digest>) -> Result<()> {
    let Some(want) = written_sha256 else {
        return Ok(());
    };
    let now = match crate::fsutil::read_regular(target) {
        Ok(Some(bytes)) => Digest::of(&bytes),
        Ok(None) | Err(_) => return Ok(()),
    };
    if now != want {
        return Ok(());
    }
    match std::fs::remove_file(target) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("removing", target, e)),
    }
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
    let _ = sync_dir(&root.join(MOOT_DIR));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_area_is_not_inside_the_live_one() {
        assert!(below(".moot/txn/staged/0", TXN_DIR));
        assert!(!below(".moot/txn.done/staged/0", TXN_DIR));
        assert!(!below(TXN_DIR, TXN_DIR));
        assert_eq!(committed(".moot/txn/staged/3"), ".moot/txn.done/staged/3");
        assert_eq!(
            committed(".moot/txn.done/staged/3"),
            ".moot/txn.done/staged/3"
        );
        assert!(not_protected(".moot/txn.done/backup/0").is_err());
        assert!(not_protected(".moot/txn.doneish").is_ok());
    }

    fn entry() -> Entry {
        Entry {
            kind: EntryKind::Write,
            target: "moot.toml".into(),
            staged: Some(format!("{TXN_DIR}/staged/0")),
            backup: format!("{TXN_DIR}/backup/0"),
            had_original: true,
            old_mode: Some(Mode::FILE),
            written_sha256: Some(Digest::of(b"abc")),
        }
    }

    #[test]
    fn an_entry_keeps_the_journal_format_of_a_number_mode_and_a_hex_sha256() {
        let json = serde_json::to_string(&entry()).unwrap();
        assert_eq!(
            json,
            "{\"kind\":\"write\",\"target\":\"moot.toml\",\"staged\":\".moot/txn/staged/0\",\
             \"backup\":\".moot/txn/backup/0\",\"had_original\":true,\"old_mode\":420,\
             \"written_sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}"
        );
        assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), entry());
    }

    #[test]
    fn an_entry_with_file_type_bits_or_a_bad_sha256_is_not_a_journal_entry() {
        let json = serde_json::to_string(&entry()).unwrap();
        for bad in [
            json.replace("\"old_mode\":420", "\"old_mode\":33188"),
            json.replace("ba7816bf", "zz7816bf"),
            json.replace("ba7816bf", "ba78"),
        ] {
            assert!(serde_json::from_str::<Entry>(&bad).is_err(), "{bad}");
        }
    }
}
