//! Finding the workspace: the repository directory moot reconciles.

use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};

pub use crate::paths::TEAM_FILE;

/// The workspace: `-C DIR` when given (it must be a directory; its
/// team.toml is not required here, loading it reports a missing one),
/// otherwise the nearest directory from the current one upwards holding a
/// team.toml, as cargo finds Cargo.toml.
pub fn find_workspace(dir_flag: Option<&Path>) -> Result<PathBuf> {
    match dir_flag {
        Some(dir) => named_dir(dir),
        None => {
            let cwd = std::env::current_dir().ctx("reading the current directory", ".")?;
            find_workspace_from(&cwd)
        }
    }
}

/// The nearest directory from `start` upwards holding a team.toml. Found by
/// lstat: a team.toml that is a symlink or a FIFO still marks its
/// directory (loading it then refuses it by name) instead of sending the
/// search on to a parent's.
pub fn find_workspace_from(start: &Path) -> Result<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            std::fs::symlink_metadata(dir.join(TEAM_FILE)).is_ok_and(|m| !m.file_type().is_dir())
        })
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            Error::user(
                format!("no {TEAM_FILE} found in {} or any parent", start.display()),
                "run `moot init` to write one (or `moot import`, in a workspace mootup or \
                 moot-cli set up), or pass `-C DIR` to name the workspace",
            )
        })
}

/// The directory `moot init` writes into: `-C DIR`, else the current one.
/// Never searched upwards: init creates the workspace.
pub fn init_dir(dir_flag: Option<&Path>) -> Result<PathBuf> {
    match dir_flag {
        Some(dir) => named_dir(dir),
        None => std::env::current_dir().ctx("reading the current directory", "."),
    }
}

fn named_dir(dir: &Path) -> Result<PathBuf> {
    if dir.is_dir() {
        Ok(dir.to_path_buf())
    } else if dir.exists() {
        Err(Error::user(
            format!("{} is not a directory", dir.display()),
            "`-C` takes the workspace directory (the one holding team.toml)",
        ))
    } else {
        Err(Error::user(
            format!("directory {} does not exist", dir.display()),
            "check the path given to `-C`, or create the directory first",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_team_toml_upwards() {
        let root = tempfile::tempdir().unwrap();
        let outer = root.path().join("repo");
        let inner = outer.join("sub/deeper");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(outer.join(TEAM_FILE), "").unwrap();
        assert_eq!(find_workspace_from(&inner).unwrap(), outer);
        assert_eq!(find_workspace_from(&outer).unwrap(), outer);
        // A nearer one wins.
        std::fs::write(outer.join("sub").join(TEAM_FILE), "").unwrap();
        assert_eq!(find_workspace_from(&inner).unwrap(), outer.join("sub"));
    }

    #[test]
    fn a_directory_named_team_toml_does_not_count() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(TEAM_FILE)).unwrap();
        assert!(find_workspace_from(root.path()).is_err());
    }

    #[test]
    fn none_found_says_so_and_hints_init() {
        let root = tempfile::tempdir().unwrap();
        let err = find_workspace_from(root.path()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("no team.toml found in "), "{msg}");
        assert!(msg.ends_with(" or any parent"), "{msg}");
        assert!(err.hint().unwrap().contains("run `moot init`"));
    }

    #[test]
    fn dir_flag_names_the_workspace() {
        let root = tempfile::tempdir().unwrap();
        // No team.toml needed: loading it reports that, with its own hint.
        assert_eq!(find_workspace(Some(root.path())).unwrap(), root.path());
        let missing = root.path().join("nope");
        let err = find_workspace(Some(&missing)).unwrap_err();
        assert!(err.to_string().contains("does not exist"));
        let file = root.path().join("f");
        std::fs::write(&file, "").unwrap();
        assert!(
            find_workspace(Some(&file))
                .unwrap_err()
                .to_string()
                .contains("not a directory")
        );
        assert_eq!(init_dir(Some(root.path())).unwrap(), root.path());
    }
}
