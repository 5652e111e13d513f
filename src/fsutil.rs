//! Durable file writes: a temporary file in the same directory, written
//! with its final mode from the first byte, fsynced, renamed over the
//! target, then the directory fsynced (PostgreSQL's `durable_rename`).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, IoContext, Result};

/// What kind of thing sits at a path where moot expects a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Directory,
    Symlink,
    Fifo,
    Device,
    Socket,
}

impl Kind {
    /// None for a regular file.
    pub fn of(ft: std::fs::FileType) -> Option<Kind> {
        if ft.is_file() {
            None
        } else if ft.is_dir() {
            Some(Kind::Directory)
        } else if ft.is_symlink() {
            Some(Kind::Symlink)
        } else if ft.is_fifo() {
            Some(Kind::Fifo)
        } else if ft.is_socket() {
            Some(Kind::Socket)
        } else {
            Some(Kind::Device)
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::Directory => "a directory",
            Kind::Symlink => "a symlink",
            Kind::Fifo => "a FIFO (named pipe)",
            Kind::Device => "a device",
            Kind::Socket => "a socket",
        }
    }
}

/// What [`open_nofollow`] found at a path.
#[derive(Debug)]
pub enum Opened {
    Missing,
    /// Not a regular file: the open refused it (a symlink, a FIFO) or the
    /// descriptor's fstat says so (then the descriptor, e.g. a directory's).
    NotRegular(Kind, Option<File>),
    Regular(File, std::fs::Metadata),
}

/// Opens `path` for reading without ever blocking or following a link:
/// `O_NOFOLLOW` refuses a symlink as the last component, `O_NONBLOCK`
/// makes opening a FIFO or a device return at once, and the kind and
/// metadata are then taken from the open descriptor (fstat), so nothing
/// swapped in between a look and the open is read. Every no-follow read
/// goes through here; callers only word the refusal.
pub fn open_nofollow(path: &Path) -> Result<Opened> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path);
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Opened::Missing),
        Err(e) => {
            return match refused_kind(&e) {
                Some(kind) => Ok(Opened::NotRegular(kind, None)),
                None => Err(Error::io("opening", path, e)),
            };
        }
    };
    let meta = file.metadata().ctx("inspecting", path)?;
    Ok(match Kind::of(meta.file_type()) {
        None => Opened::Regular(file, meta),
        Some(kind) => Opened::NotRegular(kind, Some(file)),
    })
}

/// Opens `path` for reading as a regular file ([`open_nofollow`]); anything
/// else there is refused. `Ok(None)`: nothing there.
pub fn open_regular(path: &Path) -> Result<Option<File>> {
    match open_nofollow(path)? {
        Opened::Missing => Ok(None),
        Opened::NotRegular(kind, _) => Err(not_regular(path, kind)),
        Opened::Regular(file, _) => Ok(Some(file)),
    }
}

/// The error for a failed no-follow, non-blocking open: the kinds of thing
/// that refuse such an open are named, anything else is an I/O error.
pub fn open_refused(path: &Path, e: std::io::Error) -> Error {
    match refused_kind(&e) {
        Some(kind) => not_regular(path, kind),
        None => Error::io("opening", path, e),
    }
}

/// What a no-follow, non-blocking open's error says sits at the path.
fn refused_kind(e: &std::io::Error) -> Option<Kind> {
    match e.raw_os_error() {
        // The last component is a symlink (O_NOFOLLOW).
        Some(libc::ELOOP) => Some(Kind::Symlink),
        // A FIFO with no reader opened for writing, or a socket.
        Some(libc::ENXIO) => Some(Kind::Fifo),
        Some(libc::EISDIR) => Some(Kind::Directory),
        _ => None,
    }
}

/// Refuses an open descriptor that is not a regular file (fstat).
pub fn ensure_regular(file: &File, path: &Path) -> Result<()> {
    let meta = file.metadata().ctx("inspecting", path)?;
    match Kind::of(meta.file_type()) {
        None => Ok(()),
        Some(kind) => Err(not_regular(path, kind)),
    }
}

/// [`open_regular`], then the whole content.
pub fn read_regular(path: &Path) -> Result<Option<Vec<u8>>> {
    let Some(mut file) = open_regular(path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ctx("reading", path)?;
    Ok(Some(bytes))
}

/// The error for a path that is not a regular file where one is expected.
pub fn not_regular(path: &Path, kind: Kind) -> Error {
    Error::user(
        format!(
            "{} is {}, not a regular file; moot reads and writes only regular files \
             and never follows a link there",
            path.display(),
            kind.describe()
        ),
        format!(
            "replace {} with a regular file (or remove it), then run moot again",
            path.display()
        ),
    )
}

/// Changes the mode of the regular file or directory at `path` through a
/// descriptor opened without following a link or blocking, so a path
/// swapped for a symlink (or a FIFO) is refused instead of having its
/// target's mode changed.
pub fn chmod_nofollow(path: &Path, mode: u32) -> Result<()> {
    let file = match open_nofollow(path)? {
        Opened::Regular(file, _) | Opened::NotRegular(Kind::Directory, Some(file)) => file,
        Opened::NotRegular(kind, _) => return Err(not_regular(path, kind)),
        Opened::Missing => {
            let gone = std::io::Error::from_raw_os_error(libc::ENOENT);
            return Err(Error::io("opening", path, gone));
        }
    };
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .ctx("changing the mode of", path)
}

/// Writes `bytes` to `path` atomically with `mode`. A reader sees the old
/// content or the new, never a mix; a crash leaves at worst a stray
/// `.<name>.moot-tmp.*` file, which the next write replaces.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    replace(path, bytes, mode, Durability::Now)
}

/// Like [`write_atomic`], but the caller makes it durable later, with other
/// writes, through a [`Barrier`].
pub fn write_replace(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    replace(path, bytes, mode, Durability::Later)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Durability {
    /// fsync the file before the rename and its directory after.
    Now,
    /// A barrier the caller runs covers both.
    Later,
}

fn replace(path: &Path, bytes: &[u8], mode: u32, durability: Durability) -> Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .ok_or_else(|| Error::Internal(format!("no file name in {}", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.moot-tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        // The temporary name is predictable: whatever sits there (a stray
        // temp file, or a symlink planted in a checkout's `.moot/`) is
        // removed, and the file is created afresh, never through a link.
        let _ = std::fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
            .ctx("creating", &tmp)?;
        // The umask may have narrowed the mode; set it exactly.
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .ctx("setting the mode of", &tmp)?;
        f.write_all(bytes).ctx("writing", &tmp)?;
        if durability == Durability::Now {
            f.sync_all().ctx("syncing", &tmp)?;
        }
        std::fs::rename(&tmp, path).ctx("renaming into place", path)?;
        match durability {
            Durability::Now => sync_dir(dir),
            Durability::Later => Ok(()),
        }
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Makes a batch of writes and renames durable at once, when the batch is
/// complete: the local transaction pays one barrier per phase (staged
/// files and journal; renames into place; the commit mark) instead of an
/// fsync per file and per directory. On Linux the barrier is one
/// `syncfs(2)` of the workspace's filesystem; elsewhere each file and
/// directory recorded with [`Barrier::record`] is fsynced.
/// `benches/durable.rs` measures the choices; docs/design.md has figures.
#[derive(Debug)]
pub struct Barrier {
    root: std::path::PathBuf,
    pending: std::collections::BTreeSet<std::path::PathBuf>,
}

impl Barrier {
    /// A barrier for writes on the filesystem that holds `root`.
    pub fn new(root: &Path) -> Barrier {
        Barrier {
            root: root.to_path_buf(),
            pending: Default::default(),
        }
    }

    /// A file written (or renamed into place) since the last barrier: it
    /// and its directory must be durable after the next one.
    pub fn record(&mut self, file: &Path) {
        if !cfg!(target_os = "linux") {
            self.pending.insert(file.to_path_buf());
            self.pending.insert(parent_dir(file).to_path_buf());
        }
    }

    /// Everything recorded (on Linux: everything written on the
    /// filesystem) is durable when this returns.
    #[cfg(target_os = "linux")]
    pub fn sync(&mut self) -> Result<()> {
        sync_filesystem(&self.root)
    }

    /// Everything recorded is durable when this returns.
    #[cfg(not(target_os = "linux"))]
    pub fn sync(&mut self) -> Result<()> {
        for p in std::mem::take(&mut self.pending) {
            match File::open(&p) {
                Ok(f) => f.sync_all().ctx("syncing", &p)?,
                // Renamed away or removed since: nothing left to sync.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("syncing", &p, e)),
            }
        }
        Ok(())
    }
}

/// fsyncs a directory so a rename inside it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx("syncing directory", dir)
}

/// Creates `dir` (and parents) with `mode` for the directories it creates.
pub fn create_dir_all_mode(dir: &Path, mode: u32) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .ctx("creating directory", dir)
}

/// Makes every write and rename on the filesystem holding `dir` durable
/// with one `syncfs(2)`: one barrier for a whole batch of small files
/// instead of an fsync per file and per directory (benches/durable.rs
/// measures both; docs/design.md has the figures).
#[cfg(target_os = "linux")]
pub fn sync_filesystem(dir: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let d = File::open(dir).ctx("opening", dir)?;
    // SAFETY: syncfs(2) only reads the descriptor, which `d` keeps open.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(crate::error::Error::io(
            "syncing the filesystem of",
            dir,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn writes_with_exact_mode_and_no_litter() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("secret.json");
        write_atomic(&p, b"one", 0o600).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn read_regular_refuses_links_fifos_and_directories_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(read_regular(&file).unwrap().unwrap(), b"x");
        assert!(read_regular(&dir.path().join("none")).unwrap().is_none());
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(
            read_regular(&link)
                .unwrap_err()
                .to_string()
                .contains("a symlink")
        );
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_regular(&fifo).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        assert!(err.hint().unwrap().contains("regular file"));
        assert!(
            read_regular(dir.path())
                .unwrap_err()
                .to_string()
                .contains("a directory")
        );
        let before = std::fs::metadata(&file).unwrap().mode();
        assert!(chmod_nofollow(&link, 0o777).is_err());
        assert!(chmod_nofollow(&fifo, 0o777).is_err());
        assert_eq!(std::fs::metadata(&file).unwrap().mode(), before);
        chmod_nofollow(&file, 0o600).unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o7777, 0o600);
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        chmod_nofollow(&sub, 0o700).unwrap();
        assert_eq!(std::fs::metadata(&sub).unwrap().mode() & 0o7777, 0o700);
    }

    /// The one no-follow open tells the callers what sits at a path, with
    /// the descriptor's own metadata.
    #[test]
    fn open_nofollow_names_what_it_found() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"xyz").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        match open_nofollow(&file).unwrap() {
            Opened::Regular(_, meta) => {
                assert_eq!((meta.len(), meta.mode() & 0o7777), (3, 0o640))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            open_nofollow(&link).unwrap(),
            Opened::NotRegular(Kind::Symlink, None)
        ));
        assert!(matches!(
            open_nofollow(dir.path()).unwrap(),
            Opened::NotRegular(Kind::Directory, Some(_))
        ));
        let none = dir.path().join("none");
        assert!(matches!(open_nofollow(&none).unwrap(), Opened::Missing));
        assert!(chmod_nofollow(&none, 0o600).is_err());
    }

    #[test]
    fn write_atomic_never_writes_through_a_planted_temp_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let tmp = dir
            .path()
            .join(format!(".r.md.moot-tmp.{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        write_atomic(&dir.path().join("r.md"), b"new", 0o600).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(dir.path().join("r.md")).unwrap(), b"new");
    }
}
