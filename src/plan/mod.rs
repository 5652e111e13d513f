//! The plan: a pure function from (desired, observed, options) to an
//! ordered set of actions. No I/O, no clock, no randomness.

pub mod action;
pub mod builder;
pub mod diff;
mod files;
pub mod gitignore;
pub mod graph;
pub(crate) mod keys;
pub mod planner;
pub mod saved;
pub mod settings_merge;

pub use action::{Action, ActionKind, Blocked, Drift, Op, Plan, Target};
pub use builder::{Observed, PlanOptions, RemoteState};
pub use planner::build;

#[cfg(test)]
mod tests;
