//! The workspace lock `.moot/lock`: an OS file lock (flock), so a crashed
//! apply never leaves it stuck; the file holds the holder's pid for the
//! message a second apply prints.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

pub use crate::paths::{MOOT_DIR, WORKSPACE_LOCK_PATH};

/// The held workspace lock `.moot/lock` (not moot.lock, whose contents are
/// `observed::lockfile::Lock`).
pub struct WorkspaceLock {
    file: File,
    path: PathBuf,
    moot_dir: PathBuf,
    /// Created by this lock: removed again on release so that an apply
    /// that changed nothing leaves nothing behind.
    created_file: bool,
    created_dir: bool,
}

impl WorkspaceLock {
    /// Takes the lock or fails at once, naming the holder.
    pub fn acquire(root: &Path) -> Result<WorkspaceLock> {
        let moot_dir = root.join(MOOT_DIR);
        // Keys, the journal and backups live here: never through a link.
        if let Ok(m) = std::fs::symlink_metadata(&moot_dir)
            && !m.file_type().is_dir()
        {
            return Err(Error::user(
                format!(
                    "{} is not a directory (a symlink or a file); moot keeps agent keys there \
                     and never writes through a link",
                    moot_dir.display()
                ),
                "replace it with a plain directory (`mkdir -m 700 .moot`), then run moot again",
            ));
        }
        let created_dir = std::fs::symlink_metadata(&moot_dir).is_err();
        if created_dir {
            crate::fsutil::create_dir_all_mode(&moot_dir, 0o700)?;
        }
        let path = root.join(WORKSPACE_LOCK_PATH);
        loop {
            let (mut file, created_file) = open_lock_file(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut pid = String::new();
                    let _ = file.read_to_string(&mut pid);
                    let holder = match pid.trim() {
                        "" => "another moot process".to_string(),
                        p => format!("another moot process (pid {p})"),
                    };
                    return Err(Error::user(
                        format!("{holder} holds the workspace lock {}", path.display()),
                        "wait for it to finish and run moot again; the lock is an OS lock, \
                         released even if that process crashes",
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io("locking", &path, e));
                }
            }
            // A previous holder may have unlinked the file between our open
            // and our lock; then we hold a lock on a dead inode: retry.
            let same = std::fs::symlink_metadata(&path)
                .ok()
                .zip(file.metadata().ok())
                .is_some_and(|(a, b)| a.ino() == b.ino() && a.dev() == b.dev());
            if !same {
                continue;
            }
            file.set_len(0).ctx("writing the workspace lock", &path)?;
            file.rewind().ctx("writing the workspace lock", &path)?;
            write!(file, "{}", std::process::id()).ctx("writing the workspace lock", &path)?;
            return Ok(WorkspaceLock {
                file,
                path,
                moot_dir,
                created_file: created_file || created_dir,
                created_dir,
            });
        }
    }

    pub fn created_moot_dir(&self) -> bool {
        self.created_dir
    }
}

/// Opens (or creates) the lock file without following a link and without
/// blocking: `.moot/` may come from the checkout, so a committed
/// `.moot/lock` can be a symlink to a file outside the workspace (which a
/// plain open would empty and write) or a FIFO (which would hang). Only a
/// regular file is accepted. Returns the file and whether it was created.
fn open_lock_file(path: &Path) -> Result<(File, bool)> {
    let flags = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    let created = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(flags)
        .open(path);
    let (file, created) = match created {
        Ok(f) => (f, true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let opened = OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(flags)
                .open(path);
            (
                opened.map_err(|e| crate::fsutil::open_refused(path, e))?,
                false,
            )
        }
        Err(e) => return Err(crate::fsutil::open_refused(path, e)),
    };
    crate::fsutil::ensure_regular(&file, path)?;
    Ok((file, created))
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        if self.created_file {
            // Unlinked while still held, so no one can lock the old inode
            // and believe they hold the workspace.
            let _ = std::fs::remove_file(&self.path);
        } else {
            let _ = self.file.set_len(0);
        }
        if self.created_dir {
            // Only succeeds when the apply left nothing in .moot/.
            let _ = std::fs::remove_dir(&self.moot_dir);
        }
        let _ = self.file.unlock();
    }
}
