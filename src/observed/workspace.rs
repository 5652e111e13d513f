//! The local half of the observed state: for every path the desired state
//! names (and every path moot.lock lists), what is on disk. Reads only.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::digest::Digest;
use crate::error::{Error, IoContext, Result};
use crate::mode::Mode;

/// What one workspace-relative path holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Absent,
    File {
        sha256: Digest,
        mode: Mode,
        content: Vec<u8>,
    },
    Dir,
    Symlink,
    /// moot must not write here: the path escapes the workspace or passes
    /// through a symlink or a non-directory.
    Unsafe(String),
}

impl FileState {
    pub fn content(&self) -> Option<&[u8]> {
        match self {
            FileState::File { content, .. } => Some(content),
            _ => None,
        }
    }

    pub fn sha256(&self) -> Option<Digest> {
        match self {
            FileState::File { sha256, .. } => Some(*sha256),
            _ => None,
        }
    }

    pub fn mode(&self) -> Option<Mode> {
        match self {
            FileState::File { mode, .. } => Some(*mode),
            _ => None,
        }
    }

    /// A short description for a fingerprint (no content, no secret).
    pub fn fingerprint(&self) -> String {
        match self {
            FileState::Absent => "absent".into(),
            FileState::File { sha256, mode, .. } => format!("file:{sha256}:{:o}", mode.bits()),
            FileState::Dir => "dir".into(),
            FileState::Symlink => "symlink".into(),
            FileState::Unsafe(r) => format!("unsafe:{r}"),
        }
    }
}

/// Checks that a workspace-relative path stays inside the workspace
/// ([`crate::relpath::check`]), with the reason as text for the callers
/// that report it.
pub fn check_relative(rel: &str) -> std::result::Result<(), String> {
    crate::relpath::check(rel).map_err(|why| format!("`{rel}` {why}"))
}

/// What a path is, from lstat alone (nothing is read): for the checks the
/// transaction repeats right before it acts, where content does not matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathKind {
    Absent,
    File {
        mode: Mode,
    },
    Dir,
    Symlink,
    /// The path escapes the workspace or passes through a symlink or a
    /// non-directory.
    Unsafe(String),
}

/// Classifies `rel` under `root`. Each parent directory is checked with
/// lstat, so a symlinked `.claude` cannot redirect a write elsewhere.
pub fn classify(root: &Path, rel: &str) -> Result<PathKind> {
    if let Err(reason) = check_relative(rel) {
        return Ok(PathKind::Unsafe(reason));
    }
    let mut cur = root.to_path_buf();
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    for (i, part) in parts.iter().enumerate() {
        cur.push(part);
        let last = i + 1 == parts.len();
        let meta = match std::fs::symlink_metadata(&cur) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(PathKind::Absent),
            Err(e) if e.kind() == ErrorKind::NotADirectory => {
                return Ok(PathKind::Unsafe(format!(
                    "a parent of `{rel}` is not a directory"
                )));
            }
            Err(e) => return Err(Error::io("inspecting", &cur, e)),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            return Ok(if last {
                PathKind::Symlink
            } else {
                PathKind::Unsafe(format!(
                    "`{}` is a symlink; moot does not write through links",
                    parts[..=i].join("/")
                ))
            });
        }
        if !last {
            if !ft.is_dir() {
                return Ok(PathKind::Unsafe(format!(
                    "`{}` is not a directory",
                    parts[..=i].join("/")
                )));
            }
            continue;
        }
        if ft.is_dir() {
            return Ok(PathKind::Dir);
        }
        if !ft.is_file() {
            return Ok(PathKind::Unsafe(format!("`{rel}` is not a regular file")));
        }
        return Ok(PathKind::File {
            mode: Mode::of(meta.permissions().mode()),
        });
    }
    Ok(PathKind::Unsafe(format!(
        "`{rel}` names the workspace itself"
    )))
}

/// Reads the state of `rel` under `root`: [`classify`], and for a regular
/// file its content and sha256.
pub fn inspect(root: &Path, rel: &str) -> Result<FileState> {
    Ok(match classify(root, rel)? {
        PathKind::Absent => FileState::Absent,
        PathKind::Dir => FileState::Dir,
        PathKind::Symlink => FileState::Symlink,
        PathKind::Unsafe(why) => FileState::Unsafe(why),
        PathKind::File { .. } => {
            // Read without following a link or blocking: the path may have
            // been swapped for a link or a FIFO since the lstat. Content and
            // mode both come from that one descriptor.
            use std::io::Read;
            use std::os::unix::fs::PermissionsExt;
            let path = root.join(rel);
            let Some(mut file) = crate::fsutil::open_regular(&path)? else {
                return Ok(FileState::Absent);
            };
            let mode = Mode::of(
                file.metadata()
                    .ctx("inspecting", &path)?
                    .permissions()
                    .mode(),
            );
            let mut content = Vec::new();
            file.read_to_end(&mut content).ctx("reading", &path)?;
            FileState::File {
                sha256: Digest::of(&content),
                mode,
                content,
            }
        }
    })
}

/// The mode of a directory, if it exists and is a real directory.
pub fn dir_mode(path: &Path) -> Option<u32> {
    std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.file_type().is_dir())
        .map(|m| m.mode() & 0o7777)
}

/// The local files, by workspace-relative path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalFiles {
    pub files: BTreeMap<String, FileState>,
}

impl LocalFiles {
    pub fn get(&self, path: &str) -> &FileState {
        self.files.get(path).unwrap_or(&FileState::Absent)
    }

    /// Scans each path once.
    pub fn scan<'a>(root: &Path, paths: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut files = BTreeMap::new();
        for p in paths {
            if !files.contains_key(p) {
                files.insert(p.to_string(), inspect(root, p)?);
            }
        }
        Ok(LocalFiles { files })
    }
}

/// Whether git tracks anything under `.moot/` (keys would be committed).
/// Only asks git when both `.git` and `.moot` exist, to keep `moot check`
/// free of subprocesses on a clean CI checkout.
pub fn moot_dir_tracked(root: &Path) -> bool {
    use crate::paths::{GIT_DIR, MOOT_DIR};
    if !root.join(GIT_DIR).exists() || !root.join(MOOT_DIR).exists() {
        return false;
    }
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "--", MOOT_DIR])
        .stderr(std::process::Stdio::null())
        .output()
        .map(|o| o.status.success() && !o.stdout.is_empty())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_only() {
        assert!(check_relative("a/b.txt").is_ok());
        assert!(check_relative("../x").is_err());
        assert!(check_relative("a/../../x").is_err());
        assert!(check_relative("/etc/passwd").is_err());
        assert!(check_relative("").is_err());
    }

    #[test]
    fn inspect_refuses_symlinked_parents() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join(".claude")).unwrap();
        let st = inspect(dir.path(), ".claude/hooks/x.sh").unwrap();
        assert!(matches!(st, FileState::Unsafe(_)), "{st:?}");
        std::fs::write(dir.path().join("f"), b"hi").unwrap();
        let st = inspect(dir.path(), "f").unwrap();
        assert_eq!(st.content(), Some(&b"hi"[..]));
        assert_eq!(inspect(dir.path(), "nope/x").unwrap(), FileState::Absent);
        std::fs::write(dir.path().join("file"), b"").unwrap();
        assert!(matches!(
            inspect(dir.path(), "file/x").unwrap(),
            FileState::Unsafe(_)
        ));
    }
}
