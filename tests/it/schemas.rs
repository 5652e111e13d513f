//! The JSON Schemas under `schemas/`: the generated ones (team, lock) are
//! kept in step with the Rust types (`MOOT_UPDATE_SCHEMAS=1 cargo test
//! --test it schemas` rewrites them), and the hand-written ones (actor, plan, check)
//! are checked against what the sandbox, the fixtures and the binary emit.

mod actor;
mod plan_lock;
mod team;
