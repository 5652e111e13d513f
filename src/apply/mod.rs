//! apply: the only code with side effects. The remote phase (rotations,
//! renames) runs first, holding new keys only in memory; then one local
//! transaction writes every file, moot.lock last (docs/design.md, "Apply: a
//! transaction").

pub mod faults;
pub mod pacer;
pub mod pending;
pub mod recover;
pub mod remote;
pub mod report;
pub mod seal;
pub mod txn;
pub mod wslock;
