//! `moot apply [PLANFILE]`: lock the workspace, compute (or load and
//! re-validate) the plan, confirm, then run the remote phase and the local
//! transaction.

use std::io::{BufRead, IsTerminal, Write};

use crate::Outcome;
use crate::apply::remote::{self, RemoteOutcome};
use std::sync::Arc;

use crate::apply::pacer::Pacing;
use crate::apply::pending;
use crate::apply::report;
use crate::apply::txn::{self, Change, Diverted, Seen};
use crate::apply::wslock::WorkspaceLock;
use crate::cli::{ApplyArgs, GlobalArgs};
use crate::commands::context::{
    Connection, Session, Workspace, observe, plan_options, read_actors, read_key_file,
};
use crate::desired::render::ACTORS_PATH;
use crate::error::{Error, Result};
use crate::observed::actors_file::{ActorEntry, ActorsFile, RETIRED_KEYS_PATH};
use crate::observed::api::redact_url;
use crate::observed::workspace::FileState;
use crate::plan::action::{KeySource, SecretRole, SecretsSpec};
use crate::plan::saved::SavedPlan;
use crate::plan::{ActionKind, Op, Plan};
use crate::printer::{Printer, clean_line, human, json};

pub fn run(global: &GlobalArgs, args: ApplyArgs, printer: &Printer) -> Result<Outcome> {
    // A saved plan says itself whether it is online: it connects when
    // observed.
    let connection = match args.planfile.is_none() && !args.flags.offline {
        true => Connection::now(args.flags.profile.as_deref(), printer),
        false => Connection::later(args.flags.profile.as_deref()),
    };
    let root = Workspace::locate(global.dir.as_deref())?;
    let lock = WorkspaceLock::acquire(&root)?;
    // An interrupted apply is repaired here only: under the lock, once its
    // journal is proven to be moot's, after saying what is restored.
    crate::apply::recover::repair_locked(&root, printer)?;
    // A ticket-file write a crash interrupted leaves its temporary copy.
    crate::apply::pending::remove_stale_temps(&root);
    let ws = Workspace::load(root)?;

    let (session, plan, from_file) = match &args.planfile {
        Some(path) => {
            let (session, plan) = from_saved(ws, path, &args, connection, &lock, printer)?;
            (session, plan, true)
        }
        None => {
            let session = observe(
                ws,
                plan_options(&args.flags),
                connection,
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
        // Tickets of an interrupted apply that can no longer be redeemed
        // were reported by the plan's notes; nothing will use them.
        crate::apply::pending::drop_spent(&session.ws.root)?;
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
            crate::printer::to_stderr(&human::render_plan(&plan, &printer.err_styles, false));
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

/// Why a saved plan no longer applies, most specific first.
#[derive(Debug)]
enum Staleness {
    /// The plan was made against another server (or its `api_url` was
    /// edited).
    ApiUrl {
        saved: String,
        now: String,
    },
    Remote,
    Local,
}

impl Staleness {
    fn of(session: &Session, saved: &SavedPlan) -> Option<Staleness> {
        if session.desired.facts.api_url != saved.api_url {
            return Some(Staleness::ApiUrl {
                saved: saved.api_url.clone(),
                now: session.desired.facts.api_url.clone(),
            });
        }
        if session.fingerprint.remote != saved.fingerprint.remote {
            return Some(Staleness::Remote);
        }
        (session.fingerprint != saved.fingerprint).then_some(Staleness::Local)
    }

    fn error(self, path: &std::path::Path) -> Error {
        let refresh = "run `moot plan` again (and `--out FILE` to save a fresh plan)";
        let (what, hint) = match self {
            Staleness::ApiUrl { saved, now } => (
                format!(
                    "it was made against {}, and this run talks to {}",
                    redact_url(&saved),
                    redact_url(&now)
                ),
                "set MOOT_API_URL (or log in) to the server the plan was made against, \
                 or make a new plan here"
                    .to_string(),
            ),
            Staleness::Remote => (
                "the agents on the platform changed since it was made".to_string(),
                refresh.to_string(),
            ),
            Staleness::Local => (
                "the workspace files or team.toml changed since it was made".to_string(),
                refresh.to_string(),
            ),
        };
        Error::user(
            format!(
                "plan {} is stale: {what}; nothing was applied",
                path.display()
            ),
            hint,
        )
    }
}

/// `moot apply PLANFILE`: the saved plan, if it still holds for this
/// workspace and the state it was made from.
fn from_saved(
    ws: Workspace,
    path: &std::path::Path,
    args: &ApplyArgs,
    connection: Connection,
    lock: &WorkspaceLock,
    printer: &Printer,
) -> Result<(Session, Plan)> {
    let f = &args.flags;
    if f.offline || f.overwrite.is_some() || f.rotate_all || f.prune || !f.replace.is_empty() {
        return Err(Error::user(
            "a saved plan carries the options it was made with; \
             --offline, --overwrite, --replace, --rotate-all and --prune cannot be given \
             with PLANFILE",
            "pass those flags to `moot plan --out FILE` instead",
        ));
    }
    let saved = SavedPlan::load(path)?;
    if !crate::apply::pending::load(&ws.root)?.is_empty() {
        return Err(Error::user(
            "an interrupted apply left registration tickets in .moot/pending-tickets.json; \
             a saved plan cannot account for them, so nothing was applied",
            "run `moot apply` (without PLANFILE) to redeem them first",
        ));
    }
    if saved.workspace != ws.root.display().to_string() {
        return Err(Error::user(
            format!(
                "{} was made for the workspace {}, not {}",
                path.display(),
                clean_line(&saved.workspace),
                ws.root.display()
            ),
            "run `moot plan --out FILE` in this workspace",
        ));
    }
    let options = saved.options.clone();
    let session = observe(ws, options, connection, Some(lock), printer)?;
    if let Some(stale) = Staleness::of(&session, &saved) {
        return Err(stale.error(path));
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
    Ok((session, fresh))
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
        crate::printer::to_stderr_raw("Apply this action? [y/N] ");
    } else {
        crate::printer::to_stderr_raw(&format!("Apply these {n} actions? [y/N] "));
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
    let root = &session.ws.root;
    // Live tickets of an interrupted apply, unless this plan issues that
    // agent a key anyway (--replace).
    let now = std::time::SystemTime::now();
    let redeem: Vec<_> = pending::load(root)?
        .into_iter()
        .filter(|t| !t.exchanged && !t.expired(now))
        .filter(|t| {
            !plan
                .actions
                .iter()
                .any(|a| matches!(&a.op, Op::RotateKey { actor_id, .. } if *actor_id == t.actor_id))
        })
        .collect();
    let needs_remote = !redeem.is_empty() || plan.actions.iter().any(|a| a.kind.is_remote());
    let outcome = if needs_remote {
        let online = session.online.as_ref().ok_or_else(|| {
            Error::user(
                "this plan changes agents but moot is offline",
                "run `moot apply` without --offline",
            )
        })?;
        let store = Arc::new(pending::Store::new(root, pending::load(root)?));
        online.runtime.block_on(remote::run(
            &online.client,
            plan,
            redeem,
            Pacing::from_env(concurrency),
            store,
            printer,
        ))?
    } else {
        RemoteOutcome::default()
    };

    let diverted = local_phase(session, plan, &outcome).map_err(|e| {
        let restored = !matches!(e, Error::RollbackFailed { .. });
        let mut message = if restored {
            format!("{e}\nEvery file was restored as it was before this apply.")
        } else {
            format!("{e}\nThe journal in .moot/txn/ is kept; the next `moot apply` retries the rollback.")
        };
        if !outcome.keys.is_empty() {
            let roles: Vec<&str> = outcome.keys.iter().map(|k| k.role.as_str()).collect();
            message.push_str(&format!(
                "\nThese agents' keys were rotated on the server and the new keys were discarded: {}",
                roles.join(", ")
            ));
        }
        // The tickets were exchanged: nothing there to redeem any more.
        let _ = pending::save(root, &[]);
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
    report_diverted(&session.ws.root, &diverted, printer);
    pending::save(root, &[])?;
    Ok(outcome)
}

/// The local transaction: every file change of the plan, the report, then
/// moot.lock. Any error here (composing the key file included) comes after
/// the rotations, so the caller names the keys it discarded.
fn local_phase(session: &Session, plan: &Plan, outcome: &RemoteOutcome) -> Result<Vec<Diverted>> {
    let mut changes = Vec::with_capacity(plan.actions.len() + 1);
    let mut lock_change = None;
    for a in &plan.actions {
        let change = match &a.op {
            Op::CreateAgent { .. }
            | Op::DeleteAgent { .. }
            | Op::RotateKey { .. }
            | Op::Rename { .. } => continue,
            Op::Write {
                path,
                content,
                mode,
            } => Change::Write {
                path: txn::rel(path)?,
                content: content.clone().into_bytes(),
                mode: *mode,
                seen: match a.kind {
                    ActionKind::WriteLock => Seen::Unchecked,
                    _ => seen(session, path),
                },
            },
            Op::Chmod { path, mode } => Change::Chmod {
                path: txn::rel(path)?,
                mode: *mode,
            },
            Op::Remove { path } => Change::Remove {
                path: txn::rel(path)?,
                seen: seen(session, path),
            },
            Op::WriteSecrets(spec) => {
                let (actors, retired) = compose_secrets(session, spec, outcome)?;
                changes.extend(retired);
                Change::Write {
                    path: txn::rel(ACTORS_PATH)?,
                    content: actors.into_bytes(),
                    mode: crate::mode::Mode::PRIVATE,
                    seen: Seen::Unchecked,
                }
            }
        };
        if a.kind == ActionKind::WriteLock {
            lock_change = Some(match (&a.op, change) {
                (
                    Op::Write {
                        content,
                        mode,
                        path,
                    },
                    Change::Write { seen, .. },
                ) => Change::Write {
                    path: txn::rel(path)?,
                    content: lock_with_created(content, outcome)?.into_bytes(),
                    mode: *mode,
                    seen,
                },
                (_, other) => other,
            });
        } else {
            changes.push(change);
        }
    }
    // The report of what this apply did, offline too (it is machine-local).
    changes.push(Change::Write {
        path: txn::rel(report::REPORT_PATH)?,
        content: report::render(plan).into_bytes(),
        mode: crate::mode::Mode::PRIVATE,
        seen: Seen::Unchecked,
    });
    // moot.lock is written last.
    changes.extend(lock_change);
    txn::run(&session.ws.root, &changes)
}

/// What the plan saw at `path`, for the transaction's last check.
fn seen(session: &Session, path: &str) -> Seen {
    match session.observed.files.get(path) {
        FileState::Absent => Seen::Absent,
        FileState::File { sha256, .. } => Seen::File(*sha256),
        // The planner blocks writes to these; the transaction refuses them.
        FileState::Dir | FileState::Symlink | FileState::Unsafe(_) => Seen::Unchecked,
    }
}

/// Files edited while apply ran are kept as they are: said on the terminal
/// and added to the report.
fn report_diverted(root: &std::path::Path, diverted: &[Diverted], printer: &Printer) {
    if diverted.is_empty() {
        return;
    }
    for d in diverted {
        printer.warn(&report::diverted_line(d));
    }
    let path = root.join(report::REPORT_PATH);
    if let Ok(Some(mut text)) = crate::fsutil::read_regular(&path) {
        text.extend_from_slice(report::render_diverted(diverted).as_bytes());
        if let Err(e) = crate::fsutil::write_atomic(&path, &text, 0o600) {
            printer.warn(&format!("could not add this to the apply report: {e}"));
        }
    }
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
    let held = |r: &SecretRole| held_key(r, current.as_ref(), retired_file.as_ref());
    let compose = |roles: &[SecretRole]| -> Result<ActorsFile> {
        let mut file = ActorsFile {
            space_id: spec.space_id.clone(),
            space_name: spec.space_name.clone(),
            api_url: spec.api_url.clone(),
            actors: Default::default(),
        };
        for r in roles {
            let key = match r.source {
                KeySource::Issued => match issued_key(r, outcome)? {
                    Some(k) => k,
                    None => continue,
                },
                KeySource::Held => match held(r) {
                    Some(k) => k,
                    None => continue,
                },
            };
            file.actors.insert(
                r.key.clone(),
                ActorEntry {
                    actor_id: created_id(outcome, &r.role, &r.actor_id),
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
            path: txn::rel(RETIRED_KEYS_PATH)?,
            content: compose(&spec.retired)?.render().into_bytes(),
            mode: crate::mode::Mode::PRIVATE,
            seen: Seen::Unchecked,
        })
    } else if retired_file.is_some() {
        Some(Change::Remove {
            path: txn::rel(RETIRED_KEYS_PATH)?,
            seen: Seen::Unchecked,
        })
    } else {
        None
    };
    Ok((actors, retired))
}

/// A held key, found by agent whatever key it was stored under (a renamed
/// role has a new runtime key; a role put back has its key in the retired
/// file).
fn held_key(
    r: &SecretRole,
    current: Option<&ActorsFile>,
    retired: Option<&ActorsFile>,
) -> Option<crate::secret::Secret> {
    let by_agent = |e: &&ActorEntry| e.actor_id == r.actor_id;
    current
        .and_then(|c| {
            c.actors
                .get(&r.key)
                .filter(by_agent)
                .or_else(|| c.actors.values().find(by_agent))
        })
        .or_else(|| retired.and_then(|c| c.actors.values().find(by_agent)))
        .filter(|e| !e.api_key.is_empty())
        .map(|e| e.api_key.clone())
}

/// The key this apply issued for the role; None for a ticket left by an
/// interrupted apply that the server no longer exchanges (the role has no
/// key here: drift).
fn issued_key(r: &SecretRole, outcome: &RemoteOutcome) -> Result<Option<crate::secret::Secret>> {
    let key = outcome
        .keys
        .iter()
        .find(|k| k.role == r.role)
        .or_else(|| outcome.keys.iter().find(|k| k.actor_id == r.actor_id))
        .map(|k| k.api_key.clone());
    match key {
        Some(k) => Ok(Some(k)),
        None if outcome.lost.contains(&r.role) => Ok(None),
        None => Err(Error::Internal(format!("no key was issued for {}", r.role))),
    }
}

/// The actor id to record: the plan's, or, for an agent this apply
/// created, the id the server gave it.
fn created_id(outcome: &RemoteOutcome, role: &str, planned: &str) -> String {
    outcome
        .created
        .iter()
        .find(|(r, _)| r == role)
        .map_or_else(|| planned.to_string(), |(_, id)| id.clone())
}

/// moot.lock as planned, with the ids of the agents created now.
fn lock_with_created(content: &str, outcome: &RemoteOutcome) -> Result<String> {
    if outcome.created.is_empty() {
        return Ok(content.to_string());
    }
    let mut lock = crate::observed::lockfile::Lock::parse(
        content,
        std::path::Path::new(crate::observed::lockfile::LOCK_PATH),
    )?;
    for (role, id) in &outcome.created {
        if let Some(r) = lock.roles.get_mut(role) {
            r.actor_id = id.clone();
        }
    }
    Ok(lock.render())
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
    v["agents_created"] = outcome
        .created
        .iter()
        .map(|(r, _)| serde_json::Value::String(format!("agent:{r}")))
        .collect();
    v["agents_deleted"] = outcome
        .deleted
        .iter()
        .map(|r| serde_json::Value::String(format!("agent:{r}")))
        .collect();
    v["agents_renamed"] = outcome
        .renamed
        .iter()
        .map(|r| serde_json::Value::String(format!("agent:{r}")))
        .collect();
    v
}
