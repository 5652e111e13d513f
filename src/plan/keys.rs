//! Keys: matching roles to agents, cli.md's key table, renames, and the
//! key file `.moot/actors.json`.

use indexmap::IndexMap;

use crate::desired::DesiredState;
use crate::desired::render::ACTORS_PATH;
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
    let lock_roles = &mut out.lock_roles;
    let secret_roles = &mut out.secret_roles;
    let remote_nodes = &mut out.remote_nodes;
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
    out
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
