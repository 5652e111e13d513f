//! The pure planner: `(desired, observed, options) -> Plan`. No I/O, no
//! clock, no randomness, so every rule of docs/design.md ("The plan") is
//! tested on plain values.

use std::collections::{BTreeMap, HashMap};

use crate::desired::DesiredState;
use crate::desired::render::{GITIGNORE_PATH, SETTINGS_PATH};
use crate::error::{Error, Result};
use indexmap::IndexMap;

use crate::observed::lockfile::{LOCK_PATH, LOCK_VERSION, Lock, LockEntry, LockRole, RetiredRole};
use crate::observed::workspace::FileState;
use crate::plan::action::{Action, ActionKind, Op, Plan, Target};
use crate::plan::files::{
    drop_stale_suggestions, drop_suggestion, plan_file, plan_gitignore, plan_leftovers,
    plan_settings, plan_settings_without_hooks,
};
use crate::plan::keys::{KeyPlan, block_shared_agents, offline_bindings, plan_keys, plan_secrets};
use crate::plan::{diff, gitignore, graph};

// The planner's inputs live in `builder`; these re-exports keep the paths
// `moot::plan::planner::{Observed, PlanOptions, ...}` that callers use.
use crate::plan::builder::Builder;
pub use crate::plan::builder::{
    Observed, PendingInfo, PlanOptions, RemoteState, SUGGESTED_DIR, suggested_path,
};

/// Why git would not ignore a key file, naming the line that decides.
fn unignored_reason(path: &str, v: gitignore::Verdict) -> String {
    match v {
        gitignore::Verdict::ReIncluded { line } => {
            format!(".gitignore:{line}: this negation makes git track {path}")
        }
        gitignore::Verdict::Unmatched | gitignore::Verdict::Ignored { .. } => {
            format!(".gitignore does not ignore {path}")
        }
    }
}

/// Builds the plan. Errors only on an internal inconsistency (a cycle).
pub fn build(desired: &DesiredState, obs: &Observed, opts: &PlanOptions) -> Result<Plan> {
    let mut b = Builder {
        nodes: Vec::new(),
        edges: Vec::new(),
        plan: Plan {
            offline: opts.offline,
            ..Plan::default()
        },
        lock_files: BTreeMap::new(),
    };
    let online = !opts.offline && obs.remote.is_some();

    // 1. Keys and names: each role bound to its own agent; roles gone from
    // team.toml retired (binding and key kept).
    let keys = plan_key_phase(&mut b, desired, obs, opts);

    // 2. .gitignore lines: before any secret or staged file is written.
    let mut gitignore_node = None;
    if !desired.is_unmanaged(GITIGNORE_PATH) {
        gitignore_node = plan_gitignore(&mut b, desired, obs);
    }
    // Appending puts `.moot/` last, where no negation can follow it; with
    // nothing appended, the file as it is must ignore the key files.
    let keys_unignored = keys_unignored(gitignore_node, obs);

    // 3. Rendered files, in path order; then leftovers moot.lock lists.
    // (An index, not Lock::file: that is a linear search per file.)
    let (stage_nodes, hook_nodes) = plan_rendered_files(&mut b, desired, obs, opts, online);

    // 4. settings.json: after the hook scripts it points at exist.
    let mut settings_node = None;
    if !desired.is_unmanaged(SETTINGS_PATH) {
        settings_node = if desired.settings_hooks.is_empty() {
            plan_settings_without_hooks(&mut b, obs)
        } else {
            plan_settings(&mut b, desired, obs)
        };
    }
    if let Some(s) = settings_node {
        for &h in &hook_nodes {
            b.edges.push((h, s));
        }
    }

    // 5. The key file: after every rotation and after .gitignore covers it.
    if online {
        let secrets_nodes = plan_secrets(
            &mut b,
            desired,
            obs,
            (keys.secret_roles, keys.retired_secrets),
            keys_unignored,
        );
        for &s in &secrets_nodes {
            for &r in &keys.remote_nodes {
                b.edges.push((r, s));
            }
            if let Some(g) = gitignore_node {
                b.edges.push((g, s));
            }
        }
    }
    if let Some(g) = gitignore_node {
        for &s in &stage_nodes {
            b.edges.push((g, s));
        }
    }

    // 6. moot.lock, last of all.
    plan_lock(&mut b, desired, obs, keys.lock_roles, keys.retired);

    refuse_unwritable(&mut b, obs);
    finish(b)
}

/// Step 1: with the API, every role matched to its agent and key; offline,
/// only moot.lock's bindings (key actions are not evaluated).
fn plan_key_phase(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    opts: &PlanOptions,
) -> KeyPlan {
    let lock = obs.lock.as_ref();
    let blocked_roles = block_shared_agents(b, lock);
    match obs.remote.as_ref().filter(|_| !opts.offline) {
        Some(remote) => plan_keys(b, desired, obs, opts, remote, &blocked_roles),
        None => {
            let keys = match lock {
                Some(l) => offline_bindings(b, desired, l),
                None => KeyPlan::default(),
            };
            b.plan.notes.push(
                "offline: remote agents and keys were not checked; key actions are not evaluated"
                    .into(),
            );
            crate::plan::keys::note_pending(b, obs);
            keys
        }
    }
}

/// Why the key file would not be ignored by git, if it would not be.
fn keys_unignored(gitignore_node: Option<usize>, obs: &Observed) -> Option<String> {
    match (gitignore_node, obs.files.get(GITIGNORE_PATH)) {
        (Some(_), _) => None,
        (None, FileState::File { content, .. }) => {
            gitignore::unignored_secret(content).map(|(path, v)| unignored_reason(path, v))
        }
        (None, FileState::Absent) => Some(".gitignore does not exist".to_string()),
        (None, other) => Some(format!(
            ".gitignore is {}",
            crate::plan::files::describe(other)
        )),
    }
}

/// Step 3: each rendered file by its policy, then the leftovers moot.lock
/// lists. Returns the staged suggestions' nodes and the hook scripts' nodes
/// (what `.gitignore` and `settings.json` must be ordered against).
fn plan_rendered_files(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    opts: &PlanOptions,
    online: bool,
) -> (Vec<usize>, Vec<usize>) {
    let lock = obs.lock.as_ref();
    let lock_index: HashMap<&str, &LockEntry> = lock
        .map(|l| l.files.iter().map(|f| (f.path.as_str(), f)).collect())
        .unwrap_or_default();
    let mut stage_nodes = Vec::new();
    let mut hook_nodes = Vec::new();
    for f in &desired.files {
        if desired.is_unmanaged(&f.path) {
            // Its moot.lock entry stays, so that when the path is managed
            // again a file nobody edited is still known as moot's.
            b.keep_lock_entry(lock_index.get(f.path.as_str()).copied());
            continue;
        }
        let before = b.nodes.len();
        let old = lock_index.get(f.path.as_str()).copied();
        let converges = plan_file(b, f, old, obs, opts, online, &mut stage_nodes);
        if converges && online {
            drop_suggestion(b, f, obs);
        }
        if f.path
            .starts_with(&format!("{}/", crate::paths::CLAUDE_HOOKS_DIR))
        {
            hook_nodes.extend(before..b.nodes.len());
        }
    }
    if let Some(l) = lock {
        plan_leftovers(b, desired, obs, l);
    }
    if online {
        drop_stale_suggestions(b, desired, obs);
    }
    (stage_nodes, hook_nodes)
}

/// Step 6: moot.lock, after every other action, when what it records changed.
fn plan_lock(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    lock_roles: IndexMap<String, LockRole>,
    retired: IndexMap<String, RetiredRole>,
) {
    let lock = obs.lock.as_ref();
    let new_lock = Lock {
        version: LOCK_VERSION,
        bundle_version: desired.bundle_version.clone(),
        api_url: desired.facts.api_url.clone(),
        space_id: desired.facts.space_id.clone(),
        space_name: desired.facts.space_name.clone(),
        roles: lock_roles,
        retired,
        files: std::mem::take(&mut b.lock_files).into_values().collect(),
    };
    if lock != Some(&new_lock) && !desired.is_unmanaged(LOCK_PATH) {
        let text = new_lock.render();
        let old = obs.files.get(LOCK_PATH).content().map(<[u8]>::to_vec);
        let reason = if lock.is_none() {
            "record what moot wrote"
        } else {
            "record the new state"
        };
        let n = b.nodes.len();
        let id = b.push(
            ActionKind::WriteLock,
            Target::Path(LOCK_PATH.into()),
            reason,
            Some(diff::unified(LOCK_PATH, old.as_deref(), text.as_bytes())),
            Op::Write {
                path: LOCK_PATH.into(),
                content: text,
                mode: crate::mode::Mode::FILE,
            },
        );
        for i in 0..n {
            b.edges.push((i, id));
        }
    }
}

pub use crate::paths::REPORT_PATH;

/// Whatever the local transaction would refuse blocks the plan now, before
/// any remote call: every path an action writes, changes the mode of or
/// removes must be what the transaction accepts (a regular file, or
/// absent, under plain directories), and so must the report apply writes
/// with any action and moot.lock. The rules that plan files already block
/// most of these; this pass covers every action, whoever planned it.
fn refuse_unwritable(b: &mut Builder, obs: &Observed) {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Touch {
        Write,
        Chmod,
        Remove,
    }
    let mut targets: Vec<(String, Touch)> = Vec::new();
    for a in &b.nodes {
        match &a.op {
            Op::Write { path, .. } => targets.push((path.clone(), Touch::Write)),
            Op::Chmod { path, .. } => targets.push((path.clone(), Touch::Chmod)),
            Op::Remove { path } => targets.push((path.clone(), Touch::Remove)),
            Op::WriteSecrets(_)
            | Op::RotateKey { .. }
            | Op::Rename { .. }
            | Op::CreateAgent { .. }
            | Op::DeleteAgent { .. } => {}
        }
    }
    if !b.nodes.is_empty() {
        targets.push((REPORT_PATH.to_string(), Touch::Write));
    }
    for (path, touch) in targets {
        let state = obs.files.get(&path);
        let refused = match state {
            FileState::Absent | FileState::File { .. } => false,
            // Removing a link touches only the link.
            FileState::Symlink => touch != Touch::Remove,
            // `.moot` itself has its mode fixed.
            FileState::Dir => touch != Touch::Chmod,
            FileState::Unsafe(_) => true,
        };
        let verb = match touch {
            Touch::Write => "write",
            Touch::Chmod => "change the mode of",
            Touch::Remove => "remove",
        };
        let already = b.plan.blocked.iter().any(|f| f.target.to_string() == path);
        if refused && !already {
            b.block(
                Target::Path(path.clone()),
                format!(
                    "apply would {verb} {path}, which is {}",
                    crate::plan::files::describe(state)
                ),
                format!(
                    "replace {path} with a regular file (or remove it), then run moot again; \
                     nothing was changed"
                ),
            );
        }
    }
}

/// Orders the nodes and renumbers them so that ids are positions.
fn finish(mut b: Builder) -> Result<Plan> {
    let order = graph::order(b.nodes.len(), &b.edges).map_err(|cycle| {
        let names: Vec<String> = cycle
            .iter()
            .map(|&i| format!("{} {}", b.nodes[i].kind, b.nodes[i].target))
            .collect();
        Error::Internal(format!(
            "plan has a dependency cycle: {}",
            names.join(" -> ")
        ))
    })?;
    let mut pos = vec![0; b.nodes.len()];
    for (p, &i) in order.iter().enumerate() {
        pos[i] = p;
    }
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); b.nodes.len()];
    for &(before, after) in &b.edges {
        deps[after].push(pos[before]);
    }
    let mut slots: Vec<Option<Action>> = b.nodes.drain(..).map(Some).collect();
    for &i in &order {
        let mut a = slots[i].take().expect("each node ordered once");
        a.id = pos[i];
        let mut d = std::mem::take(&mut deps[i]);
        d.sort_unstable();
        d.dedup();
        a.depends_on = d;
        b.plan.actions.push(a);
    }
    Ok(b.plan)
}
