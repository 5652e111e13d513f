//! Keys: binding roles to agents (one to one), cli.md's key table, renames,
//! retired roles, and the key files `.moot/actors.json` and
//! `.moot/retired.json`.

use std::collections::{BTreeSet, HashMap, HashSet};

use indexmap::IndexMap;

use crate::desired::DesiredState;
use crate::desired::render::{ACTORS_PATH, DesiredRole};
use crate::observed::actors_file::{HeldKey, RETIRED_KEYS_PATH};
use crate::observed::api::Actor;
use crate::observed::lockfile::{Lock, LockRole, RetiredRole, mode_string};
use crate::observed::workspace::FileState;
use crate::plan::action::{ActionKind, KeySource, Op, SecretRole, SecretsSpec, Target};
use crate::plan::planner::{Builder, Observed, PlanOptions, RemoteState};

/// What key planning decided, for the key files and moot.lock.
#[derive(Debug, Default)]
pub(super) struct KeyPlan {
    /// Role name -> the agent it is bound to.
    pub lock_roles: IndexMap<String, LockRole>,
    /// Retired roles (removed from team.toml, agent kept on the platform):
    /// role name -> agent. A rule that deletes retired agents acts on these.
    pub retired: IndexMap<String, RetiredRole>,
    /// What `.moot/actors.json` should hold, in team.toml order.
    pub secret_roles: Vec<SecretRole>,
    /// Retired roles whose live key is kept in `.moot/retired.json`.
    pub retired_secrets: Vec<SecretRole>,
    /// Rotations, then renames: all before the key file is written.
    pub remote_nodes: Vec<usize>,
}

/// Blocks every agent moot.lock binds to more than one role (a hand-merged
/// lock): apply would rename it back and forth and rotate it once per role,
/// leaving one role with a dead key. Returns the roles involved.
pub(super) fn block_shared_agents(b: &mut Builder, lock: Option<&Lock>) -> BTreeSet<String> {
    let mut roles = BTreeSet::new();
    for shared in lock.map(Lock::shared_agents).unwrap_or_default() {
        let names: Vec<String> = shared.roles.iter().map(|r| format!("`{r}`")).collect();
        b.block(
            Target::Agent(shared.roles[0].clone()),
            format!(
                "moot.lock binds roles {} to one agent ({}); each role needs its own agent",
                names.join(" and "),
                shared.actor_id
            ),
            "keep one of these roles under that actor_id in moot.lock (restore it from git, \
             e.g. `git checkout -- moot.lock`), or delete moot.lock so roles are matched by display name",
        );
        roles.extend(shared.roles);
    }
    roles
}

/// Offline: bindings carried over from moot.lock (the platform is not
/// asked); roles gone from team.toml are retired, not forgotten.
pub(super) fn offline_bindings(b: &mut Builder, desired: &DesiredState, lock: &Lock) -> KeyPlan {
    let mut keys = KeyPlan::default();
    for r in &desired.roles {
        let id = lock
            .roles
            .get(&r.name)
            .map(|lr| lr.actor_id.clone())
            .or_else(|| lock.retired.get(&r.name).map(|rr| rr.actor_id.clone()));
        if let Some(actor_id) = id {
            keys.lock_roles
                .insert(r.name.clone(), LockRole { actor_id });
        }
    }
    for (name, actor_id, display_name) in retired_candidates(desired, lock) {
        b.plan.notes.push(format!(
            "role `{name}` is retired (not in team.toml): its agent {actor_id} is kept; \
             add the role back to team.toml to use it again"
        ));
        keys.retired.insert(
            name,
            RetiredRole {
                actor_id,
                display_name,
            },
        );
    }
    keys
}

/// Roles moot.lock binds (current or retired) that team.toml no longer
/// has: (role, actor_id, last known display name), in lock order.
fn retired_candidates(
    desired: &DesiredState,
    lock: &Lock,
) -> Vec<(String, String, Option<String>)> {
    let current: HashSet<&str> = desired.roles.iter().map(|r| r.name.as_str()).collect();
    let mut out: Vec<(String, String, Option<String>)> = Vec::new();
    for (name, lr) in &lock.roles {
        if !current.contains(name.as_str()) {
            let known = lock
                .retired
                .get(name)
                .filter(|r| r.actor_id == lr.actor_id)
                .and_then(|r| r.display_name.clone());
            out.push((name.clone(), lr.actor_id.clone(), known));
        }
    }
    for (name, rr) in &lock.retired {
        if !current.contains(name.as_str()) && !out.iter().any(|(n, ..)| n == name) {
            out.push((name.clone(), rr.actor_id.clone(), rr.display_name.clone()));
        }
    }
    out
}

/// Matches each role to an agent, one to one, and applies cli.md's key
/// table; then keeps the bindings (and live keys) of retired roles.
pub(super) fn plan_keys(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    opts: &PlanOptions,
    remote: &RemoteState,
    blocked_roles: &BTreeSet<String>,
) -> KeyPlan {
    let mut out = KeyPlan::default();
    let agents: Vec<&Actor> = remote
        .agents
        .iter()
        .filter(|a| a.actor_type == "agent")
        .collect();
    let bound = bind_roles(b, desired, obs, &agents, blocked_roles);
    let mut rename_nodes = Vec::new();
    for (role, agent) in desired.roles.iter().zip(&bound) {
        if let Some(agent) = agent {
            plan_role(b, role, agent, obs, opts, &mut out, &mut rename_nodes);
        }
    }
    out.remote_nodes.extend(rename_nodes);
    let bound_ids: HashSet<&str> = bound
        .iter()
        .flatten()
        .map(|a| a.actor_id.as_str())
        .collect();
    if let Some(lock) = &obs.lock {
        plan_retired(
            b,
            desired,
            obs,
            lock,
            &agents,
            &bound_ids,
            blocked_roles,
            &mut out,
        );
    }
    out
}

/// One agent per role (None: blocked). moot.lock's binding first (a
/// retired role put back finds its agent there too); then the display
/// name, among the agents moot.lock binds to no current role: an agent
/// bound to another role is renamed to that role's name by this plan, so
/// matching it by its old name would bind two roles to it.
fn bind_roles<'a>(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    agents: &[&'a Actor],
    blocked_roles: &BTreeSet<String>,
) -> Vec<Option<&'a Actor>> {
    let lock = obs.lock.as_ref();
    let mut bound: Vec<Option<&'a Actor>> = desired
        .roles
        .iter()
        .map(|r| {
            let id = lock.and_then(|l| {
                l.roles
                    .get(&r.name)
                    .map(|lr| lr.actor_id.as_str())
                    .or_else(|| l.retired.get(&r.name).map(|rr| rr.actor_id.as_str()))
            })?;
            agents.iter().find(|a| a.actor_id == id).copied()
        })
        .collect();
    // Agent id -> the role moot.lock binds it to.
    let taken: HashMap<&str, &str> = desired
        .roles
        .iter()
        .zip(&bound)
        .filter_map(|(r, a)| a.map(|a| (a.actor_id.as_str(), r.name.as_str())))
        .collect();
    for (i, role) in desired.roles.iter().enumerate() {
        if blocked_roles.contains(&role.name) {
            bound[i] = None;
            continue;
        }
        if bound[i].is_none() {
            bound[i] = match_by_name(b, desired, role, agents, &taken);
        }
    }
    // By construction no agent is bound twice; kept as a guard so that no
    // input whatever can make a plan bind two roles to one agent.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for i in 0..bound.len() {
        let Some(a) = bound[i] else { continue };
        if let Some(&j) = seen.get(a.actor_id.as_str()) {
            let (first, second) = (&desired.roles[j].name, &desired.roles[i].name);
            b.block(
                Target::Agent(second.clone()),
                format!(
                    "roles `{first}` and `{second}` would both be bound to agent \"{}\" ({})",
                    a.display_name, a.actor_id
                ),
                "give each role its own agent: rename one of them, or fix moot.lock's [roles]",
            );
            bound[i] = None;
            bound[j] = None;
        } else {
            seen.insert(&a.actor_id, i);
        }
    }
    bound
}

/// The one free agent named like the role (case-insensitively), or a block
/// that says why there is none.
fn match_by_name<'a>(
    b: &mut Builder,
    desired: &DesiredState,
    role: &DesiredRole,
    agents: &[&'a Actor],
    taken: &HashMap<&str, &str>,
) -> Option<&'a Actor> {
    let target = Target::Agent(role.name.clone());
    let named = |a: &&&Actor| a.display_name.eq_ignore_ascii_case(&role.display_name);
    let free: Vec<&Actor> = agents
        .iter()
        .filter(|a| !taken.contains_key(a.actor_id.as_str()))
        .filter(named)
        .copied()
        .collect();
    let hint = format!(
        "agents are created on the platform, not by moot: add an agent named \"{}\" \
         to your space on mootup.io (or rename an existing one), then run `moot plan` again",
        role.display_name
    );
    match free.as_slice() {
        [one] => return Some(one),
        [] => {}
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
            return None;
        }
    }
    let reason = match agents.iter().find(named) {
        Some(a) => {
            let other = taken.get(a.actor_id.as_str()).copied().unwrap_or_default();
            let renamed = desired
                .roles
                .iter()
                .find(|r| r.name == other)
                .map(|r| format!(", which this plan renames to \"{}\"", r.display_name))
                .unwrap_or_default();
            format!(
                "agent \"{}\" ({}) is bound to role `{other}` in moot.lock{renamed}; \
                 role `{}` needs an agent of its own",
                a.display_name, a.actor_id, role.name
            )
        }
        None => format!("no agent named \"{}\" on the platform", role.display_name),
    };
    b.block(target, reason, hint);
    None
}

/// A held key for `actor_id`: under the role's runtime key first, then
/// under any key (a renamed role has a new runtime key), then among the
/// retired roles' keys (a role put back).
fn held_for<'a>(obs: &'a Observed, role_key: &str, actor_id: &str) -> Option<&'a HeldKey> {
    let by_agent = |k: &&HeldKey| k.actor_id == actor_id;
    obs.held
        .as_ref()
        .and_then(|h| {
            h.roles
                .get(role_key)
                .filter(by_agent)
                .or_else(|| h.roles.values().find(by_agent))
        })
        .or_else(|| {
            obs.retired_keys
                .as_ref()
                .and_then(|h| h.roles.values().find(by_agent))
        })
}

/// The prefix rules a key out cheaply; the proof is that the key
/// authenticated as this agent (observed online).
fn is_live(held: Option<&HeldKey>, agent: &Actor) -> bool {
    held.is_some_and(|h| {
        !h.prefix.is_empty()
            && agent.api_key_prefix.as_deref() == Some(h.prefix.as_str())
            && h.live != Some(false)
    })
}

/// cli.md's key table and the rename, for one bound role.
fn plan_role(
    b: &mut Builder,
    role: &DesiredRole,
    agent: &Actor,
    obs: &Observed,
    opts: &PlanOptions,
    out: &mut KeyPlan,
    rename_nodes: &mut Vec<usize>,
) {
    let target = Target::Agent(role.name.clone());
    let actor_id = agent.actor_id.clone();
    out.lock_roles
        .insert(role.name.clone(), LockRole { actor_id });
    // By the agent, not by the runtime's role key: that key derives from
    // the display name, so renaming a role must not lose its key.
    let held = held_for(obs, &role.key, &agent.actor_id);
    let live = is_live(held, agent);
    let forced_by = forced_by(opts, role);
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
        out.remote_nodes.push(id);
        source = Some(KeySource::Issued);
    } else if agent.api_key_prefix.is_none() {
        let id = b.push(
            ActionKind::IssueKey,
            target.clone(),
            "agent has no key yet",
            None,
            key_op(false),
        );
        out.remote_nodes.push(id);
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
        out.secret_roles.push(SecretRole {
            role: role.name.clone(),
            key: role.key.clone(),
            actor_id: agent.actor_id.clone(),
            display_name: role.display_name.clone(),
            source,
        });
    }
    if agent.display_name != role.display_name {
        rename_nodes.push(plan_rename(b, role, agent));
    }
}

/// The flag that forces a rotation of this role's key, if any.
fn forced_by(opts: &PlanOptions, role: &DesiredRole) -> Option<&'static str> {
    if opts.rotate_all {
        Some("--rotate-all")
    } else if opts.replace.iter().any(|r| r == &role.name) {
        Some("--replace")
    } else {
        None
    }
}

/// The agent takes the role's display name.
fn plan_rename(b: &mut Builder, role: &DesiredRole, agent: &Actor) -> usize {
    b.push(
        ActionKind::RenameAgent,
        Target::Agent(role.name.clone()),
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
    )
}

/// Roles gone from team.toml: the agent stays on the platform, the binding
/// stays in moot.lock (as retired) and a live key is kept aside, so putting
/// the role back costs nothing. Reported as a note, not as drift.
#[allow(clippy::too_many_arguments)]
fn plan_retired(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    lock: &Lock,
    agents: &[&Actor],
    bound_ids: &HashSet<&str>,
    blocked_roles: &BTreeSet<String>,
    out: &mut KeyPlan,
) {
    for (name, actor_id, _) in retired_candidates(desired, lock) {
        if bound_ids.contains(actor_id.as_str()) || blocked_roles.contains(&name) {
            continue; // Claimed by a current role, or blocked above.
        }
        let Some(agent) = agents.iter().find(|a| a.actor_id == actor_id) else {
            b.plan.notes.push(format!(
                "role `{name}` was retired and its agent {actor_id} is no longer on the platform; \
                 it is dropped from moot.lock"
            ));
            continue;
        };
        let held = held_for(obs, &name, &actor_id);
        let kept = is_live(held, agent);
        if kept {
            out.retired_secrets.push(SecretRole {
                role: name.clone(),
                key: name.clone(),
                actor_id: actor_id.clone(),
                display_name: agent.display_name.clone(),
                source: KeySource::Held,
            });
        }
        b.plan.notes.push(format!(
            "role `{name}` is retired (not in team.toml): its agent \"{}\" ({actor_id}) stays on \
             the platform{}; add the role back to team.toml to use it again",
            agent.display_name,
            if kept {
                format!(" and its key is kept in {RETIRED_KEYS_PATH}")
            } else {
                String::new()
            }
        ));
        out.retired.insert(
            name,
            RetiredRole {
                actor_id,
                display_name: Some(agent.display_name.clone()),
            },
        );
    }
}

/// The key file: rewritten when keys were issued or what it records
/// changed; otherwise its mode (and `.moot/`'s) is checked.
pub(super) fn plan_secrets(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    keys: (Vec<SecretRole>, Vec<SecretRole>),
    moot_ignored: bool,
) -> Vec<usize> {
    let (roles, retired) = keys;
    let target = Target::Path(ACTORS_PATH.into());
    if desired.is_unmanaged(ACTORS_PATH) || desired.is_unmanaged(".moot") {
        // Never touched; but a key issued now would have nowhere to go and
        // be lost, so key actions are refused rather than run.
        if roles.iter().any(|r| r.source == KeySource::Issued) {
            b.block(
                target,
                ".moot/actors.json is listed under [install] unmanaged, so moot cannot store \
                 the keys this plan would issue",
                "take it out of [install] unmanaged, or stop asking for keys (--replace, --rotate-all)",
            );
        }
        return Vec::new();
    }
    if matches!(
        obs.files.get(".moot"),
        FileState::Symlink | FileState::File { .. } | FileState::Unsafe(_)
    ) {
        b.block(
            target,
            ".moot is not a plain directory (a symlink or a file): keys would be written elsewhere",
            "replace it with a plain directory (`mkdir -m 700 .moot`), then run moot again",
        );
        return Vec::new();
    }
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
        retired,
    };
    let mut nodes = Vec::new();
    if let Some(reason) = secrets_change(obs, &spec) {
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

/// Why the key files must be rewritten (None: they record what `spec`
/// says, and no key is issued).
fn secrets_change(obs: &Observed, spec: &SecretsSpec) -> Option<String> {
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
                && same_roles(h, &spec.roles)
        }
    };
    let retired_same = match &obs.retired_keys {
        None => spec.retired.is_empty(),
        Some(h) => same_roles(h, &spec.retired),
    };
    let mut why = Vec::new();
    if issued > 0 {
        why.push(format!(
            "store {issued} new key{} (mode 0600)",
            if issued == 1 { "" } else { "s" }
        ));
    } else if !same {
        why.push("update the space, names or roles recorded with the keys".to_string());
    }
    if !retired_same {
        why.push(format!(
            "keep retired roles' keys aside in {RETIRED_KEYS_PATH} (mode 0600)"
        ));
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// Whether a key file records exactly these roles (by key, agent and name).
fn same_roles(held: &crate::observed::actors_file::HeldKeys, roles: &[SecretRole]) -> bool {
    held.roles.len() == roles.len()
        && roles.iter().all(|r| {
            held.roles
                .get(&r.key)
                .is_some_and(|k| k.actor_id == r.actor_id && k.display_name == r.display_name)
        })
}
