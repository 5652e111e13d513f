//! The observed state: everything read from the outside world, in one
//! place: the API (me, agents) and the workspace (files with hash and mode,
//! moot.lock, actors.json). Reads only.

pub mod actors_file;
pub mod api;
pub mod credentials;
pub mod lockfile;
pub mod observe;
pub mod untrusted;
pub mod workspace;
