//! The pure planner: `(desired, observed, options) -> Plan`. No I/O, no
//! clock, no randomness, so every rule of cli.md is tested on plain values.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use crate::desired::render::{ACTORS_PATH, GITIGNORE_PATH, SETTINGS_PATH};
use crate::desired::{DesiredFile, DesiredState, Policy};
use crate::error::{Error, Result};
use crate::observed::actors_file::HeldKeys;
use crate::observed::api::Actor;
use crate::observed::lockfile::{LOCK_PATH, LOCK_VERSION, Lock, LockFile, LockRole, mode_string};
use crate::observed::workspace::{FileState, LocalFiles, sha256_hex};
use crate::plan::action::{
    Action, ActionKind, Blocked, Drift, KeySource, Op, Plan, SecretRole, SecretsSpec, Target,
};
use crate::plan::{diff, gitignore, graph, settings_merge};

/// Where staged suggestions go.
pub const SUGGESTED_DIR: &str = ".moot/suggested";

pub fn suggested_path(path: &str) -> String {
    format!("{SUGGESTED_DIR}/{path}")
}

/// The caller and its agents, as the API reported them.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteState {
    pub me: Actor,
    pub agents: Vec<Actor>,
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
    pub actors_file_mode: Option<u32>,
    pub moot_dir_mode: Option<u32>,
    /// git tracks something under `.moot/`.
    pub moot_tracked: bool,
    /// None when offline.
    pub remote: Option<RemoteState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    pub offline: bool,
    pub replace: Vec<String>,
    pub rotate_all: bool,
    pub overwrite: bool,
}

struct Builder {
    nodes: Vec<Action>,
    edges: Vec<(usize, usize)>,
    plan: Plan,
    lock_files: BTreeMap<String, LockFile>,
}

impl Builder {
    fn push(
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
            destructive: kind == ActionKind::RotateKey,
            depends_on: Vec::new(),
            reason: reason.into(),
            diff,
            op,
        });
        id
    }

    fn block(&mut self, target: Target, reason: impl Into<String>, hint: impl Into<String>) {
        self.plan.blocked.push(Blocked {
            target,
            reason: reason.into(),
            hint: Some(hint.into()),
        });
    }

    fn drift(&mut self, target: Target, reason: impl Into<String>, hint: impl Into<String>) {
        self.plan.drift.push(Drift {
            target,
            reason: reason.into(),
            hint: Some(hint.into()),
        });
    }

    fn record(&mut self, path: &str, policy: Policy, content: &[u8], mode: u32) {
        self.record_sha(path, policy, sha256_hex(content), mode);
    }

    fn record_sha(&mut self, path: &str, policy: Policy, sha256: String, mode: u32) {
        self.lock_files.insert(
            path.to_string(),
            LockFile {
                path: path.to_string(),
                policy,
                sha256,
                mode: mode_string(mode),
            },
        );
    }

    fn keep_lock_entry(&mut self, old: Option<&LockFile>) {
        if let Some(old) = old {
            self.lock_files.insert(old.path.clone(), old.clone());
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
    let lock = obs.lock.as_ref();
    let online = !opts.offline && obs.remote.is_some();

    // 1. Keys and names, matched role by role.
    let mut lock_roles: IndexMap<String, LockRole> = IndexMap::new();
    let mut secret_roles: Vec<SecretRole> = Vec::new();
    let mut remote_nodes: Vec<usize> = Vec::new();
    match obs.remote.as_ref().filter(|_| !opts.offline) {
        Some(remote) => plan_keys(
            &mut b,
            desired,
            obs,
            opts,
            remote,
            &mut lock_roles,
            &mut secret_roles,
            &mut remote_nodes,
        ),
        None => {
            if let Some(l) = lock {
                for r in &desired.roles {
                    if let Some(lr) = l.roles.get(&r.name) {
                        lock_roles.insert(r.name.clone(), lr.clone());
                    }
                }
            }
            b.plan.notes.push(
                "offline: remote agents and keys were not checked; key actions are not evaluated"
                    .into(),
            );
        }
    }

    // 2. .gitignore lines: before any secret or staged file is written.
    let mut gitignore_node = None;
    let moot_ignored = if desired.is_unmanaged(GITIGNORE_PATH) {
        obs.files.get(GITIGNORE_PATH).content().is_some_and(|c| {
            gitignore::missing(&String::from_utf8_lossy(c), &[".moot/".to_string()]).is_empty()
        })
    } else {
        gitignore_node = plan_gitignore(&mut b, desired, obs);
        !matches!(
            obs.files.get(GITIGNORE_PATH),
            FileState::Dir | FileState::Symlink | FileState::Unsafe(_)
        )
    };

    // 3. Rendered files, in path order; then leftovers moot.lock lists.
    let mut stage_nodes = Vec::new();
    let mut hook_nodes = Vec::new();
    for f in &desired.files {
        if desired.is_unmanaged(&f.path) {
            continue;
        }
        let before = b.nodes.len();
        plan_file(&mut b, f, obs, opts, online, &mut stage_nodes);
        if f.path.starts_with(".claude/hooks/") {
            hook_nodes.extend(before..b.nodes.len());
        }
    }
    if let Some(l) = lock {
        plan_leftovers(&mut b, desired, obs, l);
    }

    // 4. settings.json: after the hook scripts it points at exist.
    let mut settings_node = None;
    if !desired.settings_hooks.is_empty() && !desired.is_unmanaged(SETTINGS_PATH) {
        settings_node = plan_settings(&mut b, desired, obs);
    }
    if let Some(s) = settings_node {
        for &h in &hook_nodes {
            b.edges.push((h, s));
        }
    }

    // 5. The key file: after every rotation and after .gitignore covers it.
    if online {
        let secrets_nodes = plan_secrets(&mut b, desired, obs, secret_roles, moot_ignored);
        for &s in &secrets_nodes {
            for &r in &remote_nodes {
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
    let new_lock = Lock {
        version: LOCK_VERSION,
        bundle_version: desired.bundle_version.clone(),
        api_url: desired.facts.api_url.clone(),
        space_id: desired.facts.space_id.clone(),
        space_name: desired.facts.space_name.clone(),
        roles: lock_roles,
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
                mode: 0o644,
            },
        );
        for i in 0..n {
            b.edges.push((i, id));
        }
    }

    finish(b)
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

#[allow(clippy::too_many_arguments)]
fn plan_keys(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    opts: &PlanOptions,
    remote: &RemoteState,
    lock_roles: &mut IndexMap<String, LockRole>,
    secret_roles: &mut Vec<SecretRole>,
    remote_nodes: &mut Vec<usize>,
) {
    let agents: Vec<&Actor> = remote
        .agents
        .iter()
        .filter(|a| a.actor_type == "agent")
        .collect();
    let mut rename_nodes = Vec::new();
    for role in &desired.roles {
        let target = Target::Agent(role.name.clone());
        let by_lock = obs
            .lock
            .as_ref()
            .and_then(|l| l.roles.get(&role.name))
            .and_then(|lr| agents.iter().find(|a| a.actor_id == lr.actor_id).copied());
        let agent = match by_lock {
            Some(a) => a,
            None => {
                let named: Vec<&Actor> = agents
                    .iter()
                    .filter(|a| a.display_name.eq_ignore_ascii_case(&role.display_name))
                    .copied()
                    .collect();
                match named.as_slice() {
                    [one] => *one,
                    [] => {
                        b.block(
                            target,
                            format!("no agent named \"{}\" on the platform", role.display_name),
                            format!(
                                "agents are created on the platform, not by moot: add an agent named \"{}\" \
                                 to your space on mootup.io (or rename an existing one), then run `moot plan` again",
                                role.display_name
                            ),
                        );
                        continue;
                    }
                    many => {
                        let ids: Vec<&str> = many.iter().map(|a| a.actor_id.as_str()).collect();
                        b.block(
                            target,
                            format!(
                                "{} agents are named \"{}\" ({})",
                                many.len(),
                                role.display_name,
                                ids.join(", ")
                            ),
                            "rename all but one of them on the platform, or give the role a distinct display_name",
                        );
                        continue;
                    }
                }
            }
        };
        lock_roles.insert(
            role.name.clone(),
            LockRole {
                actor_id: agent.actor_id.clone(),
            },
        );
        let held = obs
            .held
            .as_ref()
            .and_then(|h| h.roles.get(&role.key))
            .filter(|h| h.actor_id == agent.actor_id);
        let live = held.is_some_and(|h| {
            !h.prefix.is_empty() && agent.api_key_prefix.as_deref() == Some(h.prefix.as_str())
        });
        let forced_by = if opts.rotate_all {
            Some("--rotate-all")
        } else if opts.replace.iter().any(|r| r == &role.name) {
            Some("--replace")
        } else {
            None
        };
        let key_op = |force: bool| Op::RotateKey {
            role: role.name.clone(),
            role_key: role.key.clone(),
            actor_id: agent.actor_id.clone(),
            display_name: role.display_name.clone(),
            force,
        };
        let mut source = None;
        if let Some(flag) = forced_by {
            let mut reason = format!("{flag}: the current key stops working at once");
            if agent.is_connected == Some(true) {
                reason.push_str("; the agent is connected and its session will lose its key");
            }
            let id = b.push(
                ActionKind::RotateKey,
                target.clone(),
                reason,
                None,
                key_op(true),
            );
            remote_nodes.push(id);
            source = Some(KeySource::Issued);
        } else if agent.api_key_prefix.is_none() {
            let id = b.push(
                ActionKind::IssueKey,
                target.clone(),
                "agent has no key yet",
                None,
                key_op(false),
            );
            remote_nodes.push(id);
            source = Some(KeySource::Issued);
        } else if live {
            source = Some(KeySource::Held);
        } else {
            b.drift(
                target.clone(),
                "key not held here",
                format!(
                    "the agent has a key this workspace does not hold; run `moot apply --replace {}` \
                     to rotate it (a session using the old key loses it)",
                    role.name
                ),
            );
            if held.is_some() {
                source = Some(KeySource::Held);
            }
        }
        if let Some(source) = source {
            secret_roles.push(SecretRole {
                role: role.name.clone(),
                key: role.key.clone(),
                actor_id: agent.actor_id.clone(),
                display_name: role.display_name.clone(),
                source,
            });
        }
        if agent.display_name != role.display_name {
            let id = b.push(
                ActionKind::RenameAgent,
                target.clone(),
                format!(
                    "display name \"{}\" -> \"{}\"",
                    agent.display_name, role.display_name
                ),
                None,
                Op::Rename {
                    role: role.name.clone(),
                    actor_id: agent.actor_id.clone(),
                    from: agent.display_name.clone(),
                    to: role.display_name.clone(),
                },
            );
            rename_nodes.push(id);
        }
    }
    remote_nodes.extend(rename_nodes);
}

fn plan_gitignore(b: &mut Builder, desired: &DesiredState, obs: &Observed) -> Option<usize> {
    let target = Target::Path(GITIGNORE_PATH.into());
    let (current, mode) = match obs.files.get(GITIGNORE_PATH) {
        FileState::Absent => (None, 0o644),
        FileState::File { content, mode, .. } => (Some(content.as_slice()), *mode),
        other => {
            b.block(
                target,
                format!(".gitignore is {}", describe(other)),
                "make .gitignore a regular file, or list it under [install] unmanaged",
            );
            return None;
        }
    };
    let text = String::from_utf8_lossy(current.unwrap_or(b"")).into_owned();
    let missing = gitignore::missing(&text, &desired.gitignore_lines);
    let old_entry = obs.lock.as_ref().and_then(|l| l.file(GITIGNORE_PATH));
    if missing.is_empty() {
        match old_entry {
            Some(e) => b.keep_lock_entry(Some(e)),
            None => b.record(GITIGNORE_PATH, Policy::Lines, text.as_bytes(), mode),
        }
        return None;
    }
    let new = gitignore::append(&text, &missing);
    b.record(GITIGNORE_PATH, Policy::Lines, new.as_bytes(), mode);
    let (kind, reason) = if current.is_none() {
        (ActionKind::Create, format!("ignore {}", missing.join(", ")))
    } else {
        (
            ActionKind::AppendLines,
            format!("add {}", missing.join(", ")),
        )
    };
    Some(b.push(
        kind,
        target,
        reason,
        Some(diff::unified(GITIGNORE_PATH, current, new.as_bytes())),
        Op::Write {
            path: GITIGNORE_PATH.into(),
            content: new,
            mode,
        },
    ))
}

fn describe(state: &FileState) -> String {
    match state {
        FileState::Absent => "absent".into(),
        FileState::File { .. } => "a file".into(),
        FileState::Dir => "a directory".into(),
        FileState::Symlink => "a symlink (moot does not write through links)".into(),
        FileState::Unsafe(r) => format!("not writable safely: {r}"),
    }
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn plan_file(
    b: &mut Builder,
    f: &DesiredFile,
    obs: &Observed,
    opts: &PlanOptions,
    online: bool,
    stage_nodes: &mut Vec<usize>,
) {
    let target = Target::Path(f.path.clone());
    let old = obs.lock.as_ref().and_then(|l| l.file(&f.path));
    let write = |content: &[u8]| Op::Write {
        path: f.path.clone(),
        content: text_of(content),
        mode: f.mode,
    };
    let (w_sha, w_mode, w_content) = match obs.files.get(&f.path) {
        FileState::Absent => {
            b.record(&f.path, f.policy, &f.content, f.mode);
            let reason = match f.policy {
                Policy::Seed => "new; yours to edit afterwards".to_string(),
                _ if f.mode & 0o111 != 0 => format!("new, mode {}", mode_string(f.mode)),
                _ => "new".to_string(),
            };
            b.push(
                ActionKind::Create,
                target,
                reason,
                Some(diff::unified(&f.path, None, &f.content)),
                write(&f.content),
            );
            return;
        }
        FileState::File {
            sha256,
            mode,
            content,
        } => (sha256.as_str(), *mode, content.as_slice()),
        other => {
            b.block(
                target,
                format!("{} is {}", f.path, describe(other)),
                format!(
                    "replace it with a regular file (or remove it), or list `{}` under [install] unmanaged",
                    f.path
                ),
            );
            return;
        }
    };
    let d_sha = sha256_hex(&f.content);
    if w_sha == d_sha {
        b.record_sha(&f.path, f.policy, d_sha, f.mode);
        if f.policy == Policy::Managed && w_mode != f.mode {
            b.push(
                ActionKind::Chmod,
                target,
                format!("mode {} -> {}", mode_string(w_mode), mode_string(f.mode)),
                None,
                Op::Chmod {
                    path: f.path.clone(),
                    mode: f.mode,
                },
            );
        }
        return;
    }
    let untouched = old.is_some_and(|o| o.sha256 == w_sha);
    match f.policy {
        Policy::Seed => {
            b.keep_lock_entry(old);
            if old.is_some_and(|o| o.sha256 == d_sha) {
                return; // The user edited their copy; the template did not change.
            }
            if online {
                let reason = if old.is_some() {
                    format!("the {} template changed; your copy is kept", f.path)
                } else {
                    format!(
                        "{} predates moot; moot's version is offered for review",
                        f.path
                    )
                };
                stage(b, f, obs, w_content, reason, stage_nodes);
            }
        }
        _ if untouched || opts.overwrite => {
            b.record(&f.path, f.policy, &f.content, f.mode);
            let (reason, destructive) = if untouched {
                ("team.toml or the bundle changed".to_string(), false)
            } else {
                ("--overwrite: replaces your edits".to_string(), true)
            };
            let id = b.push(
                ActionKind::Update,
                target,
                reason,
                Some(diff::unified(&f.path, Some(w_content), &f.content)),
                write(&f.content),
            );
            b.nodes[id].destructive = destructive;
        }
        _ => {
            b.keep_lock_entry(old);
            let why = if old.is_some() {
                "edited since moot wrote it"
            } else {
                "exists and differs from what moot would write"
            };
            b.drift(
                target,
                why,
                format!(
                    "moot keeps your version and stages its own at {}; accept it with \
                     `moot apply --overwrite`, or list `{}` under [install] unmanaged in team.toml",
                    suggested_path(&f.path),
                    f.path
                ),
            );
            if online {
                stage(
                    b,
                    f,
                    obs,
                    w_content,
                    format!("{} {why}", f.path),
                    stage_nodes,
                );
            }
        }
    }
}

/// Stages `f`'s content for review, unless the same suggestion is there.
fn stage(
    b: &mut Builder,
    f: &DesiredFile,
    obs: &Observed,
    current: &[u8],
    reason: String,
    stage_nodes: &mut Vec<usize>,
) {
    let path = suggested_path(&f.path);
    match obs.files.get(&path) {
        FileState::File { content, .. } if *content == f.content => {}
        FileState::Absent | FileState::File { .. } => {
            let id = b.push(
                ActionKind::Stage,
                Target::Path(path.clone()),
                reason,
                Some(diff::unified(&f.path, Some(current), &f.content)),
                Op::Write {
                    path,
                    content: text_of(&f.content),
                    mode: f.mode,
                },
            );
            stage_nodes.push(id);
        }
        other => b.plan.notes.push(format!(
            "cannot stage a suggestion at {path}: it is {}",
            describe(other)
        )),
    }
}

fn plan_leftovers(b: &mut Builder, desired: &DesiredState, obs: &Observed, lock: &Lock) {
    for entry in &lock.files {
        let p = entry.path.as_str();
        let desired_here = desired.file(p).is_some()
            || p == SETTINGS_PATH && !desired.settings_hooks.is_empty()
            || p == GITIGNORE_PATH
            || p == LOCK_PATH;
        if desired_here || desired.is_unmanaged(p) {
            continue;
        }
        if entry.policy != Policy::Managed {
            // Seed, merged and lines files are the user's: never removed.
            continue;
        }
        match obs.files.get(p) {
            FileState::Absent => {}
            FileState::File { sha256, .. } if *sha256 == entry.sha256 => {
                b.push(
                    ActionKind::Remove,
                    Target::Path(p.to_string()),
                    "no longer desired; unchanged since moot wrote it",
                    None,
                    Op::Remove {
                        path: p.to_string(),
                    },
                );
            }
            FileState::File { .. } => b.plan.notes.push(format!(
                "{p} is no longer desired but was edited since moot wrote it; left in place"
            )),
            other => b.plan.notes.push(format!(
                "{p} is no longer desired and is now {}; left in place",
                describe(other)
            )),
        }
    }
}

fn plan_settings(b: &mut Builder, desired: &DesiredState, obs: &Observed) -> Option<usize> {
    let target = Target::Path(SETTINGS_PATH.into());
    let old = obs.lock.as_ref().and_then(|l| l.file(SETTINGS_PATH));
    let (current, mode) = match obs.files.get(SETTINGS_PATH) {
        FileState::Absent => (None, 0o644),
        FileState::File { content, mode, .. } => match std::str::from_utf8(content) {
            Ok(t) => (Some(t), *mode),
            Err(_) => {
                b.block(
                    target,
                    ".claude/settings.json is not UTF-8 text",
                    "fix or move the file aside; moot never replaces a settings.json it cannot read",
                );
                return None;
            }
        },
        other => {
            b.block(
                target,
                format!(".claude/settings.json is {}", describe(other)),
                "make it a regular file, or list it under [install] unmanaged",
            );
            return None;
        }
    };
    match settings_merge::merge(current, &desired.settings_hooks) {
        Err(e) => {
            b.block(
                target,
                e.to_string(),
                "fix the file (moot never replaces a settings.json it cannot read), \
                 or list it under [install] unmanaged",
            );
            None
        }
        Ok(None) => {
            match old {
                Some(e) => b.keep_lock_entry(Some(e)),
                None => b.record(
                    SETTINGS_PATH,
                    Policy::Merged,
                    current.unwrap_or("").as_bytes(),
                    mode,
                ),
            }
            None
        }
        Ok(Some(merged)) => {
            b.record(SETTINGS_PATH, Policy::Merged, merged.as_bytes(), mode);
            let (kind, reason) = if current.is_none() {
                (ActionKind::Create, "register moot's hooks")
            } else {
                (
                    ActionKind::Merge,
                    "add moot's hook entries; your keys and hooks are kept",
                )
            };
            Some(b.push(
                kind,
                target,
                reason,
                Some(diff::unified(
                    SETTINGS_PATH,
                    current.map(str::as_bytes),
                    merged.as_bytes(),
                )),
                Op::Write {
                    path: SETTINGS_PATH.into(),
                    content: merged,
                    mode,
                },
            ))
        }
    }
}

fn plan_secrets(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    roles: Vec<SecretRole>,
    moot_ignored: bool,
) -> Vec<usize> {
    let target = Target::Path(ACTORS_PATH.into());
    if obs.moot_tracked {
        b.block(
            target,
            ".moot/ is tracked by git: agent keys written there would be committed",
            "run `git rm -r --cached .moot` and commit, then run moot again",
        );
        return Vec::new();
    }
    if !moot_ignored {
        b.block(
            target,
            ".gitignore does not ignore .moot/: agent keys could be committed",
            "add `.moot/` to .gitignore (or take .gitignore out of [install] unmanaged)",
        );
        return Vec::new();
    }
    let spec = SecretsSpec {
        space_id: desired.facts.space_id.clone(),
        space_name: desired.facts.space_name.clone(),
        api_url: desired.facts.api_url.clone(),
        roles,
    };
    let issued = spec
        .roles
        .iter()
        .filter(|r| r.source == KeySource::Issued)
        .count();
    let same = match &obs.held {
        None => spec.roles.is_empty(),
        Some(h) => {
            issued == 0
                && h.space_id == spec.space_id
                && h.space_name == spec.space_name
                && h.api_url == spec.api_url
                && h.roles.len() == spec.roles.len()
                && spec.roles.iter().all(|r| {
                    h.roles.get(&r.key).is_some_and(|k| {
                        k.actor_id == r.actor_id && k.display_name == r.display_name
                    })
                })
        }
    };
    let mut nodes = Vec::new();
    if !same {
        let reason = if issued > 0 {
            format!(
                "store {issued} new key{} (mode 0600)",
                if issued == 1 { "" } else { "s" }
            )
        } else {
            "update the space, names or roles recorded with the keys".to_string()
        };
        nodes.push(b.push(
            ActionKind::WriteSecrets,
            target,
            reason,
            None,
            Op::WriteSecrets(spec),
        ));
    } else if obs.actors_file_mode.is_some_and(|m| m != 0o600) {
        let m = obs.actors_file_mode.unwrap_or(0);
        nodes.push(b.push(
            ActionKind::Chmod,
            target,
            format!(
                "mode {} -> 0600: the key file must not be readable by others",
                mode_string(m)
            ),
            None,
            Op::Chmod {
                path: ACTORS_PATH.into(),
                mode: 0o600,
            },
        ));
    }
    if let Some(m) = obs.moot_dir_mode.filter(|&m| m != 0o700) {
        nodes.push(b.push(
            ActionKind::Chmod,
            Target::Path(".moot".into()),
            format!("mode {} -> 0700: it holds agent keys", mode_string(m)),
            None,
            Op::Chmod {
                path: ".moot".into(),
                mode: 0o700,
            },
        ));
    }
    nodes
}
