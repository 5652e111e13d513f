//! Parsing and validation of team.toml with file:line:column positions.

use std::path::{Path, PathBuf};

use crate::desired::team::TeamFile;

/// A team.toml that cannot be used, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct TeamError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl TeamError {
    pub fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

/// Reads and validates `path`.
pub fn load_team(path: &Path) -> Result<TeamFile, crate::error::Error> {
    let src = std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            crate::error::Error::user(
                format!("{} not found", path.display()),
                "run `moot init` to write one from an archetype",
            )
        } else {
            crate::error::Error::io("reading", path, e)
        }
    })?;
    Ok(parse_team(&src, path)?)
}

/// Parses and validates team.toml source; `path` is only used in messages.
pub fn parse_team(src: &str, path: &Path) -> Result<TeamFile, TeamError> {
    toml::from_str::<TeamFile>(src).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(src, s.start)).unwrap_or((1, 1));
        TeamError {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().to_string(),
            hint: Some("see the team.toml reference in docs/team-toml.md".into()),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
