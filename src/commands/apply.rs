//! `moot apply [PLANFILE]`: lock the workspace, compute (or load and
//! re-validate) the plan, confirm, then run the remote phase and the local
//! transaction.

use std::io::{BufRead, IsTerminal, Write};

use crate::Outcome;
use crate::apply::remote::{self, RemoteOutcome};
use crate::apply::report;
use crate::apply::txn::{self, Change};
use crate::apply::wslock::WorkspaceLock;
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::commands::context::{
    Session, Workspace, observe, plan_options, read_actors, read_key_file,
};
use crate::desired::render::ACTORS_PATH;
use crate::error::{Error, Result};
use crate::observed::actors_file::{ActorEntry, ActorsFile, RETIRED_KEYS_PATH};
use crate::plan::action::{KeySource, SecretRole, SecretsSpec};
use crate::plan::saved::SavedPlan;
use crate::plan::{ActionKind, Op, Plan};
use crate::printer::{Printer, human, json};

pub fn run(global: &GlobalArgs, args: ApplyArgs, printer: &Printer) -> Result<Outcome> {
    let ws = Workspace::open(global.dir.as_deref(), printer)?;
    let lock = WorkspaceLock::acquire(&ws.root)?;
    // Another apply may have died between our first repair and our lock.
    crate::apply::recover::repair_locked(&ws.root, printer)?;

    let (session, plan, from_file) = match &args.planfile {
        Some(path) => {
            let f = &args.flags;
            if f.offline || f.overwrite || f.rotate_all || !f.replace.is_empty() {
                return Err(Error::user(
                    "a saved plan carries the options it was made with; \
                     --offline, --overwrite, --replace and --rotate-all cannot be given with PLANFILE",
                    "pass those flags to `moot plan --out FILE` instead",
                ));
            }
            let saved = SavedPlan::load(path)?;
            if saved.workspace != ws.root.display().to_string() {
                return Err(Error::user(
                    format!(
                        "{} was made for the workspace {}, not {}",
                        path.display(),
                        saved.workspace,
                        ws.root.display()
                    ),
                    "run `moot plan --out FILE` in this workspace",
                ));
            }
            let options = (&saved.options).into();
            let session = observe(
                ws,
                options,
                args.flags.profile.as_deref(),
                Some(&lock),
                printer,
            )?;
            if session.fingerprint != saved.fingerprint
                || session.desired.facts.api_url != saved.api_url
            {
                let what = if session.fingerprint.remote != saved.fingerprint.remote {
                    "the agents on the platform changed"
                } else {
                    "the workspace files or team.toml changed"
                };
                return Err(Error::user(
                    format!(
                        "plan {} is stale: {what} since it was made; nothing was applied",
                        path.display()
                    ),
                    "run `moot plan` again (and `--out FILE` to save a fresh plan)",
                ));
            }
            // The saved actions must be exactly what moot would plan now from
            // the same state: a plan file edited by hand (or by anything else)
            // can never make apply write where the planner would not.
            let fresh = crate::plan::build(&session.desired, &session.observed, &session.options)?;
            if fresh != saved.plan {
                return Err(Error::user(
                    format!(
                        "{} does not match the plan moot computes for the same state (edited, or made by another moot version); nothing was applied",
                        path.display()
                    ),
                    "run `moot plan --out FILE` again and apply the new file",
                ));
            }
            (session, fresh, true)
        }
        None => {
            let session = observe(
                ws,
                plan_options(&args.flags),
                args.flags.profile.as_deref(),
                Some(&lock),
                printer,
            )?;
            let plan = crate::plan::build(&session.desired, &session.observed, &session.options)?;
            (session, plan, false)
        }
    };

    if !args.flags.json {
        crate::commands::plan::print_plan(&session, &plan, false, printer);
    }
    if !plan.blocked.is_empty() {
        if args.flags.json {
            // The blocked items, for the script that asked for JSON.
            printer.data(&json::to_pretty(&json::plan_value(&plan)));
        }
        return Err(Error::user(
            format!(
                "the plan is blocked ({} item{}); nothing was applied",
                plan.blocked.len(),
                if plan.blocked.len() == 1 { "" } else { "s" }
            ),
            "fix the blocked items the plan lists, then run `moot apply` again",
        ));
    }
    if plan.actions.is_empty() {
        if args.flags.json {
            printer.data(&json::to_pretty(&result_value(
                &plan,
                &RemoteOutcome::default(),
            )));
        }
        return Ok(Outcome::Success);
    }
    if !from_file && !args.yes {
        if args.flags.json && std::io::stdin().is_terminal() {
            // stdout is for the JSON result: the plan to confirm goes to
            // the terminal on stderr.
            eprintln!("{}", human::render_plan(&plan, &printer.err_styles, false));
        }
        confirm(&plan)?;
    }
    let outcome = execute(&session, &plan, args.concurrency as usize, printer)?;
    if args.flags.json {
        printer.data(&json::to_pretty(&result_value(&plan, &outcome)));
    } else {
        printer.status(&applied_summary(&plan));
    }
    Ok(Outcome::Success)
}

fn confirm(plan: &Plan) -> Result<()> {
    let n = plan.actions.len();
    if !std::io::stdin().is_terminal() {
        return Err(Error::user(
            "refusing to apply without confirmation: standard input is not a terminal",
            "review the plan, then run `moot apply --yes` (or save it with `moot plan --out FILE` \
             and run `moot apply FILE`)",
        ));
    }
    if n == 1 {
        eprint!("Apply this action? [y/N] ");
    } else {
        eprint!("Apply these {n} actions? [y/N] ");
    }
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("reading the answer from", "stdin", e))?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        Err(Error::user(
            "apply cancelled; nothing was changed",
            "run `moot apply` again to review and confirm, or `moot apply --yes` to skip the question",
        ))
    }
}

/// Runs the remote phase, then the local transaction.
pub fn execute(
    session: &Session,
    plan: &Plan,
    concurrency: usize,
    printer: &Printer,
) -> Result<RemoteOutcome> {
    let needs_remote = plan.actions.iter().any(|a| a.kind.is_remote());
    let outcome = if needs_remote {
        let online = session.online.as_ref().ok_or_else(|| {
            Error::user(
                "this plan changes agents but moot is offline",
                "run `moot apply` without --offline",
            )
        })?;
        online
            .runtime
            .block_on(remote::run(&online.client, plan, concurrency, printer))?
    } else {
        RemoteOutcome::default()
    };

    local_phase(session, plan, &outcome).map_err(|e| {
        let restored = !e.to_string().contains(txn::ROLLBACK_FAILED);
        let mut message = if restored {
            format!("{e}\nEvery file was restored as it was before this apply.")
        } else {
            format!("{e}\nThe journal in .moot/txn/ is kept; the next moot command retries the rollback.")
        };
        if !outcome.keys.is_empty() {
            let roles: Vec<&str> = outcome.keys.iter().map(|k| k.role.as_str()).collect();
            message.push_str(&format!(
                "\nThese agents' keys were rotated on the server and the new keys were discarded: {}",
                roles.join(", ")
            ));
        }
        Error::User {
            message,
            hint: Some(match outcome.keys.is_empty() {
                true => e
                    .hint()
                    .unwrap_or_else(|| "fix the cause and run `moot apply` again".into()),
                false => format!(
                    "fix the cause, then run `moot apply {}`",
                    outcome
                        .keys
                        .iter()
                        .map(|k| format!("--replace {}", k.role))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            }),
        }
    })?;
    Ok(outcome)
}

/// The local transaction: every file change of the plan, the report, then
/// moot.lock. Any error here (composing the key file included) comes after
/// the rotations, so the caller names the keys it discarded.
fn local_phase(session: &Session, plan: &Plan, outcome: &RemoteOutcome) -> Result<()> {
    let mut changes = Vec::with_capacity(plan.actions.len() + 1);
    let mut lock_change = None;
    for a in &plan.actions {
        let change = match &a.op {
            Op::RotateKey { .. } | Op::Rename { .. } => continue,
            Op::Write {
                path,
                content,
                mode,
            } => Change::Write {
                path: path.clone(),
                content: content.clone().into_bytes(),
                mode: *mode,
            },
            Op::Chmod { path, mode } => Change::Chmod {
                path: path.clone(),
                mode: *mode,
            },
            Op::Remove { path } => Change::Remove { path: path.clone() },
            Op::WriteSecrets(spec) => {
                let (actors, retired) = compose_secrets(session, spec, outcome)?;
                changes.extend(retired);
                Change::Write {
                    path: ACTORS_PATH.into(),
                    content: actors.into_bytes(),
                    mode: 0o600,
                }
            }
        };
        if a.kind == ActionKind::WriteLock {
            lock_change = Some(change);
        } else {
            changes.push(change);
        }
    }
    // The report of what this apply did, offline too (it is machine-local).
    changes.push(Change::Write {
        path: report::REPORT_PATH.into(),
        content: report::render(plan).into_bytes(),
        mode: 0o600,
    });
    // moot.lock is written last.
    changes.extend(lock_change);
    txn::run(&session.ws.root, &changes)
}

/// The key file's new content: the keys issued now, and the held keys of
/// roles not rotated (read again, so nothing the planner saw is trusted
/// for a secret); and the change to the retired roles' key file.
fn compose_secrets(
    session: &Session,
    spec: &SecretsSpec,
    outcome: &RemoteOutcome,
) -> Result<(String, Option<Change>)> {
    let root = &session.ws.root;
    let current = read_actors(root)?.map(|(f, _)| f);
    let retired_file = read_key_file(root, RETIRED_KEYS_PATH)?.map(|(f, _)| f);
    // Held keys are found by agent, whatever key they were stored under (a
    // renamed role has a new runtime key; a role put back has its key in
    // the retired file).
    let held = |r: &SecretRole| {
        let by_agent = |e: &&ActorEntry| e.actor_id == r.actor_id;
        current
            .as_ref()
            .and_then(|c| {
                c.actors
                    .get(&r.key)
                    .filter(by_agent)
                    .or_else(|| c.actors.values().find(by_agent))
            })
            .or_else(|| {
                retired_file
                    .as_ref()
                    .and_then(|c| c.actors.values().find(by_agent))
            })
            .filter(|e| !e.api_key.is_empty())
            .map(|e| e.api_key.clone())
    };
    let compose = |roles: &[SecretRole]| -> Result<ActorsFile> {
        let mut file = ActorsFile {
            space_id: spec.space_id.clone(),
            space_name: spec.space_name.clone(),
            api_url: spec.api_url.clone(),
            actors: Default::default(),
        };
        for r in roles {
            let key = match r.source {
                KeySource::Issued => outcome
                    .keys
                    .iter()
                    .find(|k| k.role == r.role)
                    .map(|k| k.api_key.clone())
                    .ok_or_else(|| Error::Internal(format!("no key was issued for {}", r.role)))?,
                KeySource::Held => match held(r) {
                    Some(k) => k,
                    None => continue,
                },
            };
            file.actors.insert(
                r.key.clone(),
                ActorEntry {
                    actor_id: r.actor_id.clone(),
                    api_key: key,
                    display_name: r.display_name.clone(),
                },
            );
        }
        Ok(file)
    };
    let actors = compose(&spec.roles)?.render();
    let retired = if !spec.retired.is_empty() {
        Some(Change::Write {
            path: RETIRED_KEYS_PATH.into(),
            content: compose(&spec.retired)?.render().into_bytes(),
            mode: 0o600,
        })
    } else if retired_file.is_some() {
        Some(Change::Remove {
            path: RETIRED_KEYS_PATH.into(),
        })
    } else {
        None
    };
    Ok((actors, retired))
}

fn applied_summary(plan: &Plan) -> String {
    let mut text = human::summary_in(plan, human::Tense::Past);
    if plan.count(ActionKind::Stage) > 0 {
        text.push_str(&format!(
            "\nSuggestions staged under .moot/suggested/; see {} for how to review them.",
            report::REPORT_PATH
        ));
    }
    text
}

fn result_value(plan: &Plan, outcome: &RemoteOutcome) -> serde_json::Value {
    let mut v = json::plan_value(plan);
    v["applied"] = serde_json::Value::Bool(!plan.actions.is_empty());
    v["keys_issued"] = outcome
        .keys
        .iter()
        .map(|k| serde_json::Value::String(format!("agent:{}", k.role)))
        .collect();
    v["agents_renamed"] = outcome
        .renamed
        .iter()
        .map(|r| serde_json::Value::String(format!("agent:{r}")))
        .collect();
    v
}
