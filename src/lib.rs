//! moot: a declarative plan/apply reconciler for a repository's Moot agent
//! team. The flow runs one way (docs/design.md):
//!
//! ```text
//! team.toml + bundle -> desired ─┐
//!                                ├─> plan (pure) -> printer / apply
//! API + workspace    -> observed ┘
//! ```

pub mod apply;
pub mod cli;
pub mod commands;
pub mod desired;
pub mod digest;
pub mod error;
pub mod fsutil;
pub mod kinds;
pub mod mode;
pub mod observed;
pub mod paths;
pub mod plan;
pub mod printer;
pub mod relpath;
pub mod secret;
pub mod workspace;

pub use error::{Error, Result};

/// Where the Moot API lives unless told otherwise.
pub const DEFAULT_API_URL: &str = "https://mootup.io";

/// What a command asks the process to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 2: the plan has changes (`--detailed-exitcode`, `check`).
    Changes,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Success => 0,
            Outcome::Changes => 2,
        }
    }
}
