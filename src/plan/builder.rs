//! The planner's inputs (what was observed, the options) and the plan under
//! construction. `planner`, `files` and `keys` all build on these, so they
//! live apart from the planner: the dependency runs one way,
//! planner -> files/keys -> builder.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::desired::Policy;
use crate::digest::Digest;
use crate::mode::Mode;
use crate::observed::actors_file::HeldKeys;
use crate::observed::api::{Actor, Space};
use crate::observed::lockfile::{Lock, LockEntry};
use crate::observed::workspace::LocalFiles;
use crate::plan::action::{Action, ActionKind, Blocked, Drift, Op, Plan, Target};

pub use crate::paths::SUGGESTED_DIR;

pub fn suggested_path(path: &str) -> String {
    format!("{SUGGESTED_DIR}/{path}")
}

/// The caller and its agents, as the API reported them.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteState {
    pub me: Actor,
    pub agents: Vec<Actor>,
    /// `GET /api/spaces/{id}`; None from servers without that route.
    pub space: Option<Space>,
}

/// Everything read from the outside world.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Every path the desired state names, every path moot.lock lists, and
    /// the staged suggestions.
    pub files: LocalFiles,
    pub lock: Option<Lock>,
    /// `.moot/actors.json` without its keys (None: no such file).
    pub held: Option<HeldKeys>,
    /// `.moot/retired.json` (retired roles' keys, by role name) without its
    /// keys (None: no such file).
    pub retired_keys: Option<HeldKeys>,
    pub actors_file_mode: Option<u32>,
    pub moot_dir_mode: Option<u32>,
    /// git tracks something under `.moot/`.
    pub moot_tracked: bool,
    /// None when offline.
    pub remote: Option<RemoteState>,
    /// Tickets an interrupted apply minted and did not exchange.
    pub pending: Vec<PendingInfo>,
}

/// A ticket left in `.moot/pending-tickets.json` (never its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInfo {
    pub role: String,
    pub actor_id: String,
    /// Still within its lifetime (the next apply redeems it).
    pub live: bool,
}

/// The plan's options. A saved plan stores them as they are (its
/// `options` object), so the field order and the serde attributes are the
/// saved plan's format: reordering a field changes the file's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    pub offline: bool,
    /// `--overwrite` alone: every managed file the user edited.
    pub overwrite: bool,
    /// `--overwrite PATH...`: only these managed files; absent in plans
    /// saved without paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overwrite_paths: Vec<String>,
    pub rotate_all: bool,
    pub replace: Vec<String>,
    /// Delete the agents of roles removed from team.toml; absent in plans
    /// saved before --prune existed.
    #[serde(default)]
    pub prune: bool,
}

impl PlanOptions {
    /// Whether moot's version replaces the user's edits of `path`.
    pub fn overwrites(&self, path: &str) -> bool {
        self.overwrite || self.overwrite_paths.iter().any(|p| p == path)
    }
}

/// The plan under construction: nodes in insertion order and the
/// "must happen before" edges between them.
pub(crate) struct Builder {
    pub nodes: Vec<Action>,
    pub edges: Vec<(usize, usize)>,
    pub plan: Plan,
    /// moot.lock's new file entries.
    pub lock_files: BTreeMap<String, LockEntry>,
}

impl Builder {
    pub(crate) fn push(
        &mut self,
        kind: ActionKind,
        target: Target,
        reason: impl Into<String>,
        diff: Option<String>,
        op: Op,
    ) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Action {
            id,
            kind,
            target,
            destructive: kind.spec().destructive,
            depends_on: Vec::new(),
            reason: reason.into(),
            diff,
            op,
        });
        id
    }

    pub(crate) fn block(
        &mut self,
        target: Target,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.plan.blocked.push(Blocked {
            target,
            reason: reason.into(),
            hint: Some(hint.into()),
        });
    }

    pub(crate) fn drift(
        &mut self,
        target: Target,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.plan.drift.push(Drift {
            target,
            reason: reason.into(),
            hint: Some(hint.into()),
        });
    }

    pub(crate) fn record(&mut self, path: &str, policy: Policy, content: &[u8], mode: Mode) {
        self.record_sha(path, policy, Digest::of(content), mode);
    }

    pub(crate) fn record_sha(&mut self, path: &str, policy: Policy, sha256: Digest, mode: Mode) {
        self.lock_files.insert(
            path.to_string(),
            LockEntry {
                path: path.to_string(),
                policy,
                sha256,
                mode,
            },
        );
    }

    pub(crate) fn keep_lock_entry(&mut self, old: Option<&LockEntry>) {
        if let Some(old) = old {
            self.lock_files.insert(old.path.clone(), old.clone());
        }
    }
}
