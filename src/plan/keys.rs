//! Keys: binding roles to agents (one to one), the key table of
//! docs/design.md ("The plan"), renames, retired roles, and the key files
//! `.moot/actors.json` and `.moot/retired.json`.

use std::collections::{BTreeSet, HashMap, HashSet};

use indexmap::IndexMap;

use crate::desired::DesiredState;
use crate::desired::render::{ACTORS_PATH, DesiredRole};
use crate::mode::Mode;
use crate::observed::actors_file::{HeldKey, RETIRED_KEYS_PATH};
use crate::observed::api::Actor;
use crate::observed::lockfile::{Lock, LockRole, RetiredRole};
use crate::observed::workspace::FileState;
use crate::paths::{MOOT_DIR, TEAM_FILE};
use crate::plan::action::{ActionKind, KeySource, Op, SecretRole, SecretsSpec, Target};
use crate::plan::builder::{Builder, Observed, PlanOptions, RemoteState};

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

/// Matches each role to an agent, one to one, and applies the key table of
/// docs/design.md; then keeps the bindings (and live keys) of retired
/// roles.
pub(super) fn plan_keys(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    opts: &PlanOptions,
    remote: &RemoteState,
    blocked_roles: &BTreeSet<String>,
) -> KeyPlan {
    let mut out = KeyPlan::default();
    check_space(b, remote);
    let agents: Vec<&Actor> = remote.agents.iter().filter(|a| a.is_agent()).collect();
    let bound = bind_roles(b, desired, obs, remote, &agents, blocked_roles);
    let mut rename_nodes = Vec::new();
    for (role, binding) in desired.roles.iter().zip(&bound) {
        match binding {
            Binding::Agent(agent) => {
                let bound = BoundRole {
                    role,
                    agent,
                    obs,
                    opts,
                };
                plan_role(b, bound, &mut out, &mut rename_nodes)
            }
            Binding::Create => plan_create(b, role, remote, &mut out),
            Binding::Blocked => {}
        }
    }
    out.remote_nodes.extend(rename_nodes);
    let bound_ids: HashSet<&str> = bound
        .iter()
        .filter_map(|x| match x {
            Binding::Agent(a) => Some(a.actor_id.as_str()),
            Binding::Create | Binding::Blocked => None,
        })
        .collect();
    if let Some(lock) = &obs.lock {
        let claimed = Claimed {
            bound_ids: &bound_ids,
            blocked_roles,
        };
        plan_retired(b, desired, obs, opts, lock, &agents, &claimed, &mut out);
    }
    order_remote_phases(b, &out.remote_nodes);
    out
}

/// What a role is bound to.
#[derive(Debug, Clone, Copy)]
enum Binding<'a> {
    Agent(&'a Actor),
    /// No agent of that name: `create-agent` (or blocked, on servers
    /// without it).
    Create,
    /// Blocked, the reason already given.
    Blocked,
}

/// Agents current roles are bound to, and roles blocked before binding:
/// neither may be retired.
struct Claimed<'a> {
    bound_ids: &'a HashSet<&'a str>,
    blocked_roles: &'a BTreeSet<String>,
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
    remote: &RemoteState,
    agents: &[&'a Actor],
    blocked_roles: &BTreeSet<String>,
) -> Vec<Binding<'a>> {
    let mut bound: Vec<Option<&'a Actor>> = desired
        .roles
        .iter()
        .map(|r| bound_by_files(obs, r, agents))
        .collect();
    // Agent id -> the role moot.lock binds it to.
    let taken: HashMap<&str, &str> = desired
        .roles
        .iter()
        .zip(&bound)
        .filter_map(|(r, a)| a.map(|a| (a.actor_id.as_str(), r.name.as_str())))
        .collect();
    let mut create = vec![false; bound.len()];
    for (i, role) in desired.roles.iter().enumerate() {
        if blocked_roles.contains(&role.name) || !name_ok(b, role) {
            bound[i] = None;
            continue;
        }
        if bound[i].is_none() {
            match match_by_name(b, desired, role, remote, agents, &taken) {
                Binding::Agent(a) => bound[i] = Some(a),
                Binding::Create => create[i] = true,
                Binding::Blocked => {}
            }
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
        .into_iter()
        .zip(create)
        .map(|(a, create)| match (a, create) {
            (Some(a), _) => Binding::Agent(a),
            (None, true) => Binding::Create,
            (None, false) => Binding::Blocked,
        })
        .collect()
}

/// The agent the workspace's files bind a role to: moot.lock (a retired
/// role put back finds its agent there too), else, without a binding there
/// (a workspace another client set up), the agent whose key the key file
/// holds for the role: under the runtime key, or under the role's name
/// (`moot import` names roles after the key file's entries).
fn bound_by_files<'a>(obs: &Observed, r: &DesiredRole, agents: &[&'a Actor]) -> Option<&'a Actor> {
    let lock = obs.lock.as_ref();
    let by_lock = lock.and_then(|l| {
        l.roles
            .get(&r.name)
            .map(|lr| lr.actor_id.as_str())
            .or_else(|| l.retired.get(&r.name).map(|rr| rr.actor_id.as_str()))
    });
    // Only without moot.lock: with it, its bindings are the record, and the
    // key file's runtime keys (derived from display names) would hand a
    // new role the agent of the role whose old name it took.
    let by_key_file = || {
        obs.held
            .as_ref()
            .filter(|_| lock.is_none())
            .and_then(|h| h.roles.get(&r.key).or_else(|| h.roles.get(&r.name)))
            .map(|k| k.actor_id.as_str())
    };
    let id = by_lock.or_else(by_key_file)?;
    agents.iter().find(|a| a.actor_id == id).copied()
}

/// The one free agent named like the role (case-insensitively), or a block
/// that says why there is none.
fn match_by_name<'a>(
    b: &mut Builder,
    desired: &DesiredState,
    role: &DesiredRole,
    remote: &RemoteState,
    agents: &[&'a Actor],
    taken: &HashMap<&str, &str>,
) -> Binding<'a> {
    let target = Target::Agent(role.name.clone());
    let named = |a: &&&Actor| a.display_name.eq_ignore_ascii_case(&role.display_name);
    let free_named = |name: &str| -> Vec<&'a Actor> {
        agents
            .iter()
            .filter(|a| !taken.contains_key(a.actor_id.as_str()))
            .filter(|a| a.display_name.eq_ignore_ascii_case(name))
            .copied()
            .collect()
    };
    let mut free = free_named(&role.display_name);
    // A creation whose answer was lost left an agent named after the role
    // (`POST /api/agents` takes no display name): adopt it rather than
    // create a second one.
    if free.is_empty() && remote.space.is_some() {
        free = free_named(&role.name);
    }
    match free.as_slice() {
        [one] => return Binding::Agent(one),
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
            return Binding::Blocked;
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
        // Created by apply where the server can (plan_create blocks it
        // where not).
        None => return Binding::Create,
    };
    b.block(target, reason, create_on_platform_hint(&role.display_name));
    Binding::Blocked
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

/// A role bound to its agent, with what planning its key reads.
#[derive(Clone, Copy)]
struct BoundRole<'a> {
    role: &'a DesiredRole,
    agent: &'a Actor,
    obs: &'a Observed,
    opts: &'a PlanOptions,
}

/// The key table (docs/design.md) and the rename, for one bound role.
fn plan_role(b: &mut Builder, bound: BoundRole, out: &mut KeyPlan, rename_nodes: &mut Vec<usize>) {
    let BoundRole { role, agent, .. } = bound;
    let actor_id = agent.actor_id.clone();
    out.lock_roles
        .insert(role.name.clone(), LockRole { actor_id });
    if let Some(source) = plan_key(b, bound, out) {
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

/// The key action (or drift) for one bound role, and where the key file
/// gets its key from (None: the role has no key to store).
fn plan_key(b: &mut Builder, bound: BoundRole, out: &mut KeyPlan) -> Option<KeySource> {
    let BoundRole {
        role,
        agent,
        obs,
        opts,
    } = bound;
    let target = Target::Agent(role.name.clone());
    // By the agent, not by the runtime's role key: that key derives from
    // the display name, so renaming a role must not lose its key.
    let held = held_for(obs, &role.key, &agent.actor_id);
    let forced_by = forced_by(opts, role);
    let key_op = |force: bool| Op::RotateKey {
        role: role.name.clone(),
        role_key: role.key.clone(),
        actor_id: agent.actor_id.clone(),
        display_name: role.display_name.clone(),
        force,
    };
    let pending = obs.pending.iter().find(|p| p.actor_id == agent.actor_id);
    if let Some(p) = pending.filter(|p| p.live && forced_by.is_none()) {
        // Redeemed by apply before anything else: no new key needed.
        b.plan.notes.push(format!(
            "agent:{}: a key from an interrupted apply awaits its ticket's exchange; \
             `moot apply` stores it",
            p.role
        ));
        return Some(KeySource::Issued);
    }
    if let Some(flag) = forced_by {
        let mut reason = format!("{flag}: the current key stops working at once");
        if agent.is_connected == Some(true) {
            reason.push_str("; the agent is connected and its session will lose its key");
        }
        out.remote_nodes
            .push(b.push(ActionKind::RotateKey, target, reason, None, key_op(true)));
        return Some(KeySource::Issued);
    }
    if agent.api_key_prefix.is_none() {
        // A connected agent without a key has nothing to lose: force, so a
        // server that falls back to rotate-key does not refuse.
        let connected = agent.is_connected == Some(true);
        let reason = match connected {
            true => "agent has no key yet (it is connected)",
            false => "agent has no key yet",
        };
        out.remote_nodes.push(b.push(
            ActionKind::IssueKey,
            target,
            reason,
            None,
            key_op(connected),
        ));
        return Some(KeySource::Issued);
    }
    if is_live(held, agent) {
        return Some(KeySource::Held);
    }
    let replace = format!("`moot apply --replace {}`", role.name);
    if pending.is_some() {
        b.drift(
            target,
            "its new key was lost: an interrupted apply's ticket expired before it was exchanged",
            format!("run {replace} to issue a new key"),
        );
        return None;
    }
    b.drift(
        target,
        "key not held here",
        format!(
            "the agent has a key this workspace does not hold; run {replace} \
             to rotate it (a session using the old key loses it)"
        ),
    );
    held.map(|_| KeySource::Held)
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
/// With `--prune`, their agents are deleted instead (only agents moot.lock
/// binds to a role: never one moot did not bind).
#[allow(clippy::too_many_arguments)]
fn plan_retired(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    opts: &PlanOptions,
    lock: &Lock,
    agents: &[&Actor],
    claimed: &Claimed,
    out: &mut KeyPlan,
) {
    for (name, actor_id, _) in retired_candidates(desired, lock) {
        if claimed.bound_ids.contains(actor_id.as_str())
            || claimed.blocked_roles.contains(&name)
            || actor_id == CREATED
        {
            continue; // Claimed by a current role, or blocked above.
        }
        let Some(agent) = agents.iter().find(|a| a.actor_id == actor_id) else {
            b.plan.notes.push(format!(
                "role `{name}` was retired and its agent {actor_id} is no longer on the platform; \
                 it is dropped from moot.lock"
            ));
            continue;
        };
        if opts.prune {
            plan_delete(b, &name, agent, out);
            continue;
        }
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
             the platform{}; add the role back to team.toml to use it again (`--prune` deletes it)",
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

/// Apply runs the remote phases in order (creations and renames, then
/// deletions, then keys: see `kinds::RemotePhase`); edges between
/// consecutive phases make the plan list them in that order too.
fn order_remote_phases(b: &mut Builder, nodes: &[usize]) {
    let mut phases: Vec<Vec<usize>> = Vec::new();
    let mut sorted: Vec<(crate::kinds::RemotePhase, usize)> = nodes
        .iter()
        .filter_map(|&id| b.nodes[id].kind.spec().remote.map(|p| (p, id)))
        .collect();
    sorted.sort();
    for (i, &(phase, id)) in sorted.iter().enumerate() {
        if i == 0 || sorted[i - 1].0 != phase {
            phases.push(Vec::new());
        }
        if let Some(last) = phases.last_mut() {
            last.push(id);
        }
    }
    for pair in phases.windows(2) {
        for &before in &pair[0] {
            for &after in &pair[1] {
                b.edges.push((before, after));
            }
        }
    }
}

/// The longest display name the API accepts.
pub const MAX_DISPLAY_NAME: usize = 500;

/// Whether the API will take the role's display name; blocks it otherwise
/// (found now, before any key is rotated, rather than as a 422 after).
fn name_ok(b: &mut Builder, role: &DesiredRole) -> bool {
    let name = &role.display_name;
    let problem = if name.chars().count() > MAX_DISPLAY_NAME {
        format!(
            "display name is {} characters long; the platform accepts at most {MAX_DISPLAY_NAME}",
            name.chars().count()
        )
    } else if name.chars().any(char::is_control) {
        "display name holds a control character, which the platform refuses".to_string()
    } else if name.trim().is_empty() {
        "display name is empty".to_string()
    } else {
        return true;
    };
    b.block(
        Target::Agent(role.name.clone()),
        problem,
        format!(
            "set a shorter, printable display_name for role `{}` in team.toml",
            role.name
        ),
    );
    false
}

/// A space the platform reports as not active cannot host a team.
fn check_space(b: &mut Builder, remote: &RemoteState) {
    let Some(space) = &remote.space else {
        return;
    };
    match space.status.as_deref() {
        None | Some("active") => {}
        Some(status) => b.block(
            Target::Path(TEAM_FILE.into()),
            format!("the space {} is {status}, not active", space.space_id),
            "reactivate the space on mootup.io (or switch your default space), then run moot again",
        ),
    }
}

/// A role whose agent does not exist: created on servers that can
/// (`POST /api/agents`, seen by their answering `GET /api/spaces/{id}`:
/// both came with the same platform revision), blocked on older ones.
fn plan_create(b: &mut Builder, role: &DesiredRole, remote: &RemoteState, out: &mut KeyPlan) {
    let target = Target::Agent(role.name.clone());
    if remote.space.is_none() {
        b.block(
            target,
            format!("no agent named \"{}\" on the platform", role.display_name),
            create_on_platform_hint(&role.display_name),
        );
        return;
    }
    let id = b.push(
        ActionKind::CreateAgent,
        target,
        format!(
            "no agent named \"{}\": create it and issue its key",
            role.display_name
        ),
        None,
        Op::CreateAgent {
            role: role.name.clone(),
            role_key: role.key.clone(),
            display_name: role.display_name.clone(),
            agent_profile: None,
        },
    );
    out.remote_nodes.push(id);
    // The agent's id exists only once apply created it: apply fills it in.
    out.lock_roles.insert(
        role.name.clone(),
        LockRole {
            actor_id: CREATED.into(),
        },
    );
    out.secret_roles.push(SecretRole {
        role: role.name.clone(),
        key: role.key.clone(),
        actor_id: CREATED.into(),
        display_name: role.display_name.clone(),
        source: KeySource::Issued,
    });
}

/// The actor id a plan records for an agent apply will create.
pub const CREATED: &str = "";

pub fn create_on_platform_hint(display_name: &str) -> String {
    format!(
        "agents are created on the platform, not by moot: add an agent named \"{display_name}\" \
         to your space on mootup.io (or rename an existing one), then run `moot plan` again"
    )
}

/// `--prune`: the retired role's agent is deleted on the platform.
fn plan_delete(b: &mut Builder, role: &str, agent: &Actor, out: &mut KeyPlan) {
    let id = b.push(
        ActionKind::DeleteAgent,
        Target::Agent(role.to_string()),
        format!(
            "role removed from team.toml: delete its agent \"{}\" ({})",
            agent.display_name, agent.actor_id
        ),
        None,
        Op::DeleteAgent {
            role: role.to_string(),
            actor_id: agent.actor_id.clone(),
            display_name: agent.display_name.clone(),
        },
    );
    out.remote_nodes.push(id);
}

/// The key file: rewritten when keys were issued or what it records
/// changed; otherwise its mode (and `.moot/`'s) is checked.
pub(super) fn plan_secrets(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    keys: (Vec<SecretRole>, Vec<SecretRole>),
    unignored: Option<String>,
) -> Vec<usize> {
    let (roles, retired) = keys;
    let target = Target::Path(ACTORS_PATH.into());
    if let Some((why, hint)) = secrets_refused(desired, obs, &roles, unignored) {
        // An unmanaged key file with no key to issue is simply left alone.
        if let Some(why) = why {
            b.block(target, why, hint);
        }
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
                Mode::of(m)
            ),
            None,
            Op::Chmod {
                path: ACTORS_PATH.into(),
                mode: Mode::PRIVATE,
            },
        ));
    }
    if let Some(m) = obs.moot_dir_mode.filter(|&m| m != 0o700) {
        nodes.push(b.push(
            ActionKind::Chmod,
            Target::Path(MOOT_DIR.into()),
            format!("mode {} -> 0700: it holds agent keys", Mode::of(m)),
            None,
            Op::Chmod {
                path: MOOT_DIR.into(),
                mode: Mode::PRIVATE_DIR,
            },
        ));
    }
    nodes
}

/// Why the key file cannot be written here (a block: reason and hint), or
/// `Some((None, _))` when it is not moot's to write and nothing needs it;
/// None when it can be.
fn secrets_refused(
    desired: &DesiredState,
    obs: &Observed,
    roles: &[SecretRole],
    unignored: Option<String>,
) -> Option<(Option<String>, &'static str)> {
    if desired.is_unmanaged(ACTORS_PATH) || desired.is_unmanaged(MOOT_DIR) {
        // Never touched; but a key issued now would have nowhere to go and
        // be lost, so key actions are refused rather than run.
        let issuing = roles.iter().any(|r| r.source == KeySource::Issued);
        return Some((
            issuing.then(|| {
                format!(
                    "{ACTORS_PATH} is listed under [install] unmanaged, so moot cannot store \
                     the keys this plan would issue"
                )
            }),
            "take it out of [install] unmanaged, or stop asking for keys (--replace, --rotate-all)",
        ));
    }
    if matches!(
        obs.files.get(MOOT_DIR),
        FileState::Symlink | FileState::File { .. } | FileState::Unsafe(_)
    ) {
        return Some((
            Some(format!(
                "{MOOT_DIR} is not a plain directory (a symlink or a file): keys would be \
                 written elsewhere"
            )),
            "replace it with a plain directory (`mkdir -m 700 .moot`), then run moot again",
        ));
    }
    if obs.moot_tracked {
        return Some((
            Some(format!(
                "{MOOT_DIR}/ is tracked by git: agent keys written there would be committed"
            )),
            "run `git rm -r --cached .moot` and commit, then run moot again",
        ));
    }
    unignored.map(|why| {
        (
            Some(format!("{why}: agent keys could be committed")),
            "add `.moot/` as the last line of .gitignore, after any `!` line that matches it \
             (or take .gitignore out of [install] unmanaged)",
        )
    })
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

/// Offline, the tickets an interrupted apply left are drift: a key the
/// workspace does not hold yet (`moot check` fails until apply stores it).
pub(super) fn note_pending(b: &mut Builder, obs: &Observed) {
    for p in &obs.pending {
        let target = Target::Agent(p.role.clone());
        if p.live {
            b.drift(
                target,
                "a key from an interrupted apply awaits its ticket's exchange",
                "run `moot apply` soon: it redeems the ticket and stores the key (tickets live 5 minutes)",
            );
        } else {
            b.drift(
                target,
                "its new key was lost: an interrupted apply's ticket expired before it was exchanged",
                format!("run `moot apply --replace {}` to issue a new key", p.role),
            );
        }
    }
}
