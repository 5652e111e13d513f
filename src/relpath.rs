//! Workspace-relative paths: the one definition of a path moot may name
//! inside the workspace, whether it comes from team.toml, moot.lock, a
//! journal or the planner.
//!
//! A safe path is non-empty, at most [`MAX_LEN`] bytes, relative, written
//! with `/` only, and every component is a plain name: no `.`, no `..`, no
//! empty component (`a//b`, a trailing `/`), no NUL. Such a path has one
//! spelling, so two spellings of the same file cannot pass as two paths,
//! and it cannot leave the workspace whatever the platform.

use std::fmt;

/// Longest path accepted, in bytes: Linux's PATH_MAX. Anything longer
/// cannot be opened anyway, and a bound keeps hostile input small.
pub const MAX_LEN: usize = 4096;

/// Why a string is not a safe workspace-relative path. Displays as a
/// predicate, to follow the path: "`/x` is absolute".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Empty,
    TooLong,
    /// Starts with `/` or `\`, or a drive such as `C:`.
    Absolute,
    /// A backslash: a separator on Windows, so never a plain name here.
    Backslash,
    Nul,
    ParentDir,
    /// A `.` component or an empty one (`a//b`, `a/`).
    NotCanonical,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Why::Empty => "is empty",
            Why::TooLong => "is longer than 4096 bytes",
            Why::Absolute => "is absolute",
            Why::Backslash => "contains a backslash (write `/` between directories)",
            Why::Nul => "contains a NUL byte",
            Why::ParentDir => "contains `..`",
            Why::NotCanonical => "contains a `.` or empty component",
        })
    }
}

/// `C:...`: absolute on Windows, and never meant as a relative path.
fn has_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Checks that `path` is a safe workspace-relative path (module docs).
pub fn check(path: &str) -> Result<(), Why> {
    if path.trim().is_empty() {
        return Err(Why::Empty);
    }
    if path.len() > MAX_LEN {
        return Err(Why::TooLong);
    }
    if path.starts_with(['/', '\\']) || has_drive(path) {
        return Err(Why::Absolute);
    }
    // `..` before the backslash check, so `..\x` says what it means.
    if path.split(['/', '\\']).any(|c| c == "..") {
        return Err(Why::ParentDir);
    }
    if path.contains('\\') {
        return Err(Why::Backslash);
    }
    if path.contains('\0') {
        return Err(Why::Nul);
    }
    if path.split('/').any(|c| c.is_empty() || c == ".") {
        return Err(Why::NotCanonical);
    }
    Ok(())
}

/// The canonical form of a path a user wrote in team.toml: leading `./`
/// and trailing `/` (a directory, for `unmanaged`) are spelling, not
/// meaning, so they are dropped before [`check`] judges the rest.
pub fn normalize_user(path: &str) -> &str {
    path.trim_start_matches("./").trim_end_matches('/')
}

/// A path that passed [`check`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(String);

impl RelPath {
    pub fn new(path: impl Into<String>) -> Result<RelPath, Why> {
        let path = path.into();
        check(&path)?;
        Ok(RelPath(path))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for RelPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let long = "a/".repeat(2048) + "b";
        let cases: &[(&str, Result<(), Why>)] = &[
            ("a", Ok(())),
            ("a/b.txt", Ok(())),
            (".claude/hooks/x.sh", Ok(())),
            ("a..b/c", Ok(())),
            ("...", Ok(())),
            (".moot/txn/x", Ok(())),
            ("a b/é", Ok(())),
            ("", Err(Why::Empty)),
            ("  ", Err(Why::Empty)),
            (&long, Err(Why::TooLong)),
            ("/etc/passwd", Err(Why::Absolute)),
            ("\\x", Err(Why::Absolute)),
            ("C:\\x", Err(Why::Absolute)),
            ("c:x", Err(Why::Absolute)),
            ("..", Err(Why::ParentDir)),
            ("../x", Err(Why::ParentDir)),
            ("a/../../x", Err(Why::ParentDir)),
            ("a/..", Err(Why::ParentDir)),
            ("a\\..\\b", Err(Why::ParentDir)),
            ("a\\b", Err(Why::Backslash)),
            ("a\0b", Err(Why::Nul)),
            (".", Err(Why::NotCanonical)),
            ("./a", Err(Why::NotCanonical)),
            ("a/./b", Err(Why::NotCanonical)),
            ("a//b", Err(Why::NotCanonical)),
            ("a/", Err(Why::NotCanonical)),
        ];
        for (path, want) in cases {
            assert_eq!(check(path), *want, "{path:?}");
            assert_eq!(RelPath::new(*path).is_ok(), want.is_ok(), "{path:?}");
        }
        assert_eq!(check(&"a".repeat(MAX_LEN)), Ok(()));
    }

    #[test]
    fn user_spelling() {
        assert_eq!(normalize_user("./.devcontainer/"), ".devcontainer");
        assert_eq!(normalize_user("././a/b//"), "a/b");
        assert_eq!(check(normalize_user("./a/./b/")), Err(Why::NotCanonical));
        assert_eq!(check(normalize_user("./")), Err(Why::Empty));
        assert_eq!(check(normalize_user("/")), Err(Why::Empty));
        assert_eq!(check(normalize_user("/etc/")), Err(Why::Absolute));
    }

    #[test]
    fn relpath_keeps_the_text() {
        let p = RelPath::new(".claude/settings.json").unwrap();
        assert_eq!(p.as_str(), ".claude/settings.json");
        assert_eq!(p.to_string(), ".claude/settings.json");
    }
}
