//! Keys: matching roles to agents, cli.md's key table, renames, and the
//! key file `.moot/actors.json`.

use indexmap::IndexMap;

use crate::desired::DesiredState;
use crate::desired::render::ACTORS_PATH;
use crate::desired::render::DesiredRole;
use crate::observed::api::Actor;
use crate::observed::lockfile::{LockRole, mode_string};
use crate::observed::workspace::FileState;
use crate::plan::action::{ActionKind, KeySource, Op, SecretRole, SecretsSpec, Target};
use crate::plan::planner::{Builder, Observed, PlanOptions, RemoteState};

/// What key planning decided, for the key file and moot.lock.
#[derive(Debug, Default)]
pub(super) struct KeyPlan {
    /// Role name -> the agent it is bound to.
    pub lock_roles: IndexMap<String, LockRole>,
    /// What `.moot/actors.json` should hold, in team.toml order.
    pub secret_roles: Vec<SecretRole>,
    /// Rotations, then renames: all before the key file is written.
    pub remote_nodes: Vec<usize>,
}

/// Matches each role to an agent (moot.lock's actor_id, else the actor_id
/// `.moot/actors.json` holds for the role's key, else the display name,
/// case-insensitively) and applies cli.md's key table.
pub(super) fn plan_keys(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    opts: &PlanOptions,
    remote: &RemoteState,
) -> KeyPlan {
    let mut out = KeyPlan::default();
    check_space(b, remote);
    let agents: Vec<&Actor> = remote
        .agents
        .iter()
        .filter(|a| a.actor_type == "agent")
        .collect();
    let mut rename_nodes = Vec::new();
    for role in &desired.roles {
        if !name_ok(b, role) {
            continue;
        }
        let target = Target::Agent(role.name.clone());
        let by_lock = obs
            .lock
            .as_ref()
            .and_then(|l| l.roles.get(&role.name))
            .and_then(|lr| agents.iter().find(|a| a.actor_id == lr.actor_id).copied());
        // Without moot.lock (a workspace another client set up), the key
        // file's entry for the role names its agent: an agent renamed on the
        // platform since is still that role's, not "missing". The entry is
        // under the runtime key, or under the role's name (`moot import`
        // names roles after the key file's entries, which another client
        // derived from a display name moot would key differently).
        let by_key_file = || {
            obs.held
                .as_ref()
                .and_then(|h| h.roles.get(&role.key).or_else(|| h.roles.get(&role.name)))
                .and_then(|k| agents.iter().find(|a| a.actor_id == k.actor_id).copied())
        };
        let agent = match by_lock.or_else(by_key_file) {
            Some(a) => a,
            None => {
                let by_name = |name: &str| -> Vec<&Actor> {
                    agents
                        .iter()
                        .filter(|a| a.display_name.eq_ignore_ascii_case(name))
                        .copied()
                        .collect()
                };
                let mut named = by_name(&role.display_name);
                // A creation whose answer was lost left an agent named after
                // the role (`POST /api/agents` takes no display name): adopt
                // it rather than create a second one.
                if named.is_empty() && remote.space.is_some() {
                    named = by_name(&role.name);
                }
                match named.as_slice() {
                    [one] => *one,
                    [] => {
                        plan_create(b, role, remote, &mut out);
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
        out.lock_roles.insert(
            role.name.clone(),
            LockRole {
                actor_id: agent.actor_id.clone(),
            },
        );
        // By the agent, not by the runtime's role key: that key derives from
        // the display name, so renaming a role must not lose its key.
        let held = obs.held.as_ref().and_then(|h| {
            h.roles
                .get(&role.key)
                .filter(|k| k.actor_id == agent.actor_id)
                .or_else(|| h.roles.values().find(|k| k.actor_id == agent.actor_id))
        });
        // The prefix rules a key out cheaply; the proof is that the key
        // authenticated as this agent (observed online).
        let live = held.is_some_and(|h| {
            !h.prefix.is_empty()
                && agent.api_key_prefix.as_deref() == Some(h.prefix.as_str())
                && h.live != Some(false)
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
        let pending = obs.pending.iter().find(|p| p.actor_id == agent.actor_id);
        if let Some(p) = pending.filter(|p| p.live && forced_by.is_none()) {
            // Redeemed by apply before anything else: no new key needed.
            b.plan.notes.push(format!(
                "agent:{}: a key from an interrupted apply awaits its ticket's exchange; \
                 `moot apply` stores it",
                p.role
            ));
            source = Some(KeySource::Issued);
        } else if let Some(flag) = forced_by {
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
            // A connected agent without a key has nothing to lose: force,
            // so a server that falls back to rotate-key does not refuse.
            let connected = agent.is_connected == Some(true);
            let id = b.push(
                ActionKind::IssueKey,
                target.clone(),
                if connected {
                    "agent has no key yet (it is connected)"
                } else {
                    "agent has no key yet"
                },
                None,
                key_op(connected),
            );
            out.remote_nodes.push(id);
            source = Some(KeySource::Issued);
        } else if live {
            source = Some(KeySource::Held);
        } else if pending.is_some() {
            b.drift(
                target.clone(),
                "its new key was lost: an interrupted apply's ticket expired before it was exchanged",
                format!("run `moot apply --replace {}` to issue a new key", role.name),
            );
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
    out.remote_nodes.extend(rename_nodes);
    plan_prune(b, obs, opts, remote, desired, &mut out);
    order_remote_phases(b, &out.remote_nodes);
    out
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
            Target::Path("team.toml".into()),
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

/// Roles moot.lock binds to an agent that team.toml no longer declares:
/// the one rule of what `--prune` may delete. Never an agent moot did not
/// bind.
pub fn removed_roles<'a>(desired: &DesiredState, obs: &'a Observed) -> Vec<(&'a str, &'a str)> {
    let Some(lock) = &obs.lock else {
        return Vec::new();
    };
    lock.roles
        .iter()
        .filter(|(name, lr)| {
            !desired.roles.iter().any(|r| &r.name == *name) && lr.actor_id != CREATED
        })
        .map(|(name, lr)| (name.as_str(), lr.actor_id.as_str()))
        .collect()
}

/// With --prune, deletes the agents of removed roles; without, says they
/// stay on the platform.
fn plan_prune(
    b: &mut Builder,
    obs: &Observed,
    opts: &PlanOptions,
    remote: &RemoteState,
    desired: &DesiredState,
    out: &mut KeyPlan,
) {
    for (role, actor_id) in removed_roles(desired, obs) {
        let Some(agent) = remote.agents.iter().find(|a| a.actor_id == actor_id) else {
            continue;
        };
        if !opts.prune {
            b.plan.notes.push(format!(
                "role `{role}` was removed from team.toml; its agent \"{}\" ({actor_id}) stays on \
                 the platform (`--prune` deletes it)",
                agent.display_name
            ));
            continue;
        }
        let id = b.push(
            ActionKind::DeleteAgent,
            Target::Agent(role.to_string()),
            format!(
                "role removed from team.toml: delete its agent \"{}\" ({actor_id})",
                agent.display_name
            ),
            None,
            Op::DeleteAgent {
                role: role.to_string(),
                actor_id: actor_id.to_string(),
                display_name: agent.display_name.clone(),
            },
        );
        out.remote_nodes.push(id);
    }
}

/// The key file: rewritten when keys were issued or what it records
/// changed; otherwise its mode (and `.moot/`'s) is checked.
pub(super) fn plan_secrets(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
    roles: Vec<SecretRole>,
    unignored: Option<String>,
) -> Vec<usize> {
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
    if let Some(why) = unignored {
        b.block(
            target,
            format!("{why}: agent keys could be committed"),
            "add `.moot/` as the last line of .gitignore, after any `!` line that matches it \
             (or take .gitignore out of [install] unmanaged)",
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
