//! The JSON Schemas under `schemas/`: the generated ones (team, lock) are
//! kept in step with the Rust types (`MOOT_UPDATE_SCHEMAS=1 cargo test
//! --test schemas` rewrites them), and the hand-written ones (actor, plan)
//! are checked against what the sandbox, the fixtures and the binary emit.

mod common;

#[path = "schemas/actor.rs"]
mod actor;
#[path = "schemas/plan_lock.rs"]
mod plan_lock;
#[path = "schemas/team.rs"]
mod team;
