//! The desired state: team.toml (parsed and validated) plus the content
//! bundle, rendered into the full set of files moot wants in the workspace.
//! No network, and no reading of the workspace beyond team.toml.

pub mod bundle;
pub mod render;
pub mod team;
pub mod validate;

pub use render::{DesiredFile, DesiredState, Policy, RemoteFacts, render};
pub use team::TeamFile;
pub use validate::{TeamError, load_team, parse_team};
