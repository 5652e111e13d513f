//! The crate's error type. Every error a user can cause carries a hint; the
//! exit code for all of them is 1 (2 is "changes", not an error).

use std::path::{Path, PathBuf};

/// An error with an optional `hint:` line for the user.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Team(#[from] crate::desired::TeamError),

    #[error(transparent)]
    Api(#[from] crate::observed::api::ApiError),

    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Anything else the user can cause or fix; the message names the file
    /// or the thing, the hint says what to do.
    #[error("{message}")]
    User {
        message: String,
        hint: Option<String>,
    },

    /// The local transaction failed, and so did restoring the files: the
    /// journal stays for the next `moot apply`. A variant of its own, so
    /// callers tell it from a clean rollback without reading the text.
    #[error("{error}; and rolling back failed too: {rollback}")]
    RollbackFailed {
        error: Box<Error>,
        rollback: Box<Error>,
    },

    /// A bug in moot (a cycle in the plan graph, a broken invariant).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn user(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::User {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn io(op: &'static str, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Team(e) => e.hint(),
            Error::Api(e) => e.hint(),
            Error::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    Some("check the permissions of the path, or run moot as its owner".into())
                }
                std::io::ErrorKind::StorageFull => Some("free some disk space and retry".into()),
                std::io::ErrorKind::IsADirectory => {
                    Some("a file was expected there; move the directory aside".into())
                }
                std::io::ErrorKind::NotADirectory => {
                    Some("a directory was expected there; move the file aside".into())
                }
                _ => Some("check the path; nothing was changed".into()),
            },
            Error::User { hint, .. } => hint.clone(),
            Error::RollbackFailed { .. } => Some(
                "the journal in .moot/txn/ is kept; the next `moot apply` shows what it \
                 restores and retries the rollback"
                    .into(),
            ),
            Error::Internal(_) => {
                Some("this is a bug in moot; please report it with the command you ran".into())
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for mapping `std::io::Error` with the operation and path.
pub trait IoContext<T> {
    fn ctx(self, op: &'static str, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, op: &'static str, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|e| Error::io(op, path, e))
    }
}
