//! The remote phase: key rotations (at most `concurrency` in flight,
//! stopping at the first failure), then renames. New keys are returned to
//! the caller and held only in memory until the local transaction commits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::error::{Error, Result};
use crate::observed::api::{ApiClient, ApiError};
use crate::plan::{Op, Plan};
use crate::printer::Printer;
use crate::secret::Secret;

/// A key the server issued in this apply.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub role: String,
    pub role_key: String,
    pub actor_id: String,
    pub api_key: Secret,
}

/// What the remote phase did, for the summary.
#[derive(Debug, Default)]
pub struct RemoteOutcome {
    pub keys: Vec<NewKey>,
    pub renamed: Vec<String>,
}

struct Rotation {
    role: String,
    role_key: String,
    actor_id: String,
    force: bool,
}

/// Runs the plan's remote actions. On failure, the error names every agent
/// whose key was already rotated (those keys are discarded and must be
/// rotated again).
pub async fn run(
    client: &ApiClient,
    plan: &Plan,
    concurrency: usize,
    printer: &Printer,
) -> Result<RemoteOutcome> {
    let rotations: Vec<Rotation> = plan
        .actions
        .iter()
        .filter_map(|a| match &a.op {
            Op::RotateKey {
                role,
                role_key,
                actor_id,
                force,
                ..
            } => Some(Rotation {
                role: role.clone(),
                role_key: role_key.clone(),
                actor_id: actor_id.clone(),
                force: *force,
            }),
            _ => None,
        })
        .collect();
    let mut outcome = RemoteOutcome::default();
    let progress = (printer.interactive() && !rotations.is_empty()).then(|| {
        let bar = indicatif::ProgressBar::new(rotations.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} rotating keys {pos}/{len} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });

    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let failed = Arc::new(AtomicBool::new(false));
    let mut tasks = JoinSet::new();
    let mut errors: Vec<(usize, RotateFailure)> = Vec::new();
    for (i, r) in rotations.iter().enumerate() {
        let permit = sem
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Internal(format!("semaphore closed: {e}")))?;
        // Reap what finished, so that a failure stops further launches.
        while let Some(done) = tasks.try_join_next() {
            absorb(
                done,
                &rotations,
                &mut outcome,
                &mut errors,
                progress.as_ref(),
            )?;
        }
        if failed.load(Ordering::SeqCst) || !errors.is_empty() {
            break;
        }
        let client = client.clone();
        let actor_id = r.actor_id.clone();
        let force = r.force;
        let failed = failed.clone();
        tasks.spawn(async move {
            let _permit = permit;
            let res = match crate::apply::faults::step("rotate") {
                Err(e) => Err(RotateFailure::Injected(e.to_string())),
                Ok(()) => client
                    .rotate_key(&actor_id, force)
                    .await
                    .map(|k| k.api_key)
                    .map_err(RotateFailure::Api),
            };
            if res.is_err() {
                failed.store(true, Ordering::SeqCst);
            }
            res.map(|k| (i, k)).map_err(|e| (i, e))
        });
    }
    while let Some(done) = tasks.join_next().await {
        absorb(
            done,
            &rotations,
            &mut outcome,
            &mut errors,
            progress.as_ref(),
        )?;
    }
    if let Some(p) = &progress {
        p.finish_and_clear();
    }
    errors.sort_by_key(|(i, _)| *i);
    if let Some((i, e)) = errors.into_iter().next() {
        return Err(rotation_failed(&rotations[i].role, e, true, &outcome));
    }

    for a in &plan.actions {
        if let Op::Rename {
            role, actor_id, to, ..
        } = &a.op
        {
            crate::apply::faults::step("rename-agent").map_err(|e| {
                rotation_failed(
                    role,
                    RotateFailure::Injected(e.to_string()),
                    false,
                    &outcome,
                )
            })?;
            client
                .rename(actor_id, to)
                .await
                .map_err(|e| rotation_failed(role, RotateFailure::Api(e), false, &outcome))?;
            outcome.renamed.push(role.clone());
        }
    }
    // Keys in team.toml order, whatever order the rotations finished in.
    let order: Vec<&str> = rotations.iter().map(|r| r.role.as_str()).collect();
    outcome
        .keys
        .sort_by_key(|k| order.iter().position(|r| *r == k.role));
    Ok(outcome)
}

#[derive(Debug)]
enum RotateFailure {
    Api(ApiError),
    Injected(String),
}

type Done = std::result::Result<
    std::result::Result<(usize, Secret), (usize, RotateFailure)>,
    tokio::task::JoinError,
>;

fn absorb(
    done: Done,
    rotations: &[Rotation],
    outcome: &mut RemoteOutcome,
    errors: &mut Vec<(usize, RotateFailure)>,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<()> {
    match done {
        Ok(Ok((i, key))) => {
            let r = &rotations[i];
            if let Some(p) = progress {
                p.inc(1);
                p.set_message(r.role.clone());
            }
            outcome.keys.push(NewKey {
                role: r.role.clone(),
                role_key: r.role_key.clone(),
                actor_id: r.actor_id.clone(),
                api_key: key,
            });
            Ok(())
        }
        Ok(Err(failure)) => {
            errors.push(failure);
            Ok(())
        }
        Err(join) => Err(Error::Internal(format!("rotation task failed: {join}"))),
    }
}

/// The error for a failed remote phase: what failed, that nothing local
/// changed, and which agents lost their key (with the command to fix it).
fn rotation_failed(role: &str, e: RotateFailure, rotating: bool, outcome: &RemoteOutcome) -> Error {
    use crate::observed::api::ApiError as E;
    let (what, inner_hint) = match &e {
        RotateFailure::Api(api) => (api.to_string(), api.hint()),
        RotateFailure::Injected(m) => (m.clone(), None),
    };
    // A rotate-key request that reached the server and then failed in
    // transit, or whose answer could not be used, may well have rotated the
    // key (a 2xx with an unusable body certainly did): that agent counts
    // among the keys to issue again.
    let maybe_rotated = rotating
        && matches!(
            &e,
            RotateFailure::Api(
                E::Timeout { .. }
                    | E::Network { .. }
                    | E::Server { .. }
                    | E::InvalidBody { .. }
                    | E::BodyTooLarge { .. }
                    | E::EmptyKey { .. }
                    | E::TicketExpired { .. }
                    | E::TicketUsed { .. }
            )
        );
    let mut message = format!(
        "apply failed at agent:{role}: {what}\nNo local file was created, changed or removed."
    );
    if maybe_rotated {
        message.push_str(&format!(
            "\nThe request reached the server: agent:{role}'s key may have been rotated, and its \
             old key may no longer work."
        ));
    }
    let mut hint = inner_hint.unwrap_or_default();
    let mut roles: Vec<&str> = outcome.keys.iter().map(|k| k.role.as_str()).collect();
    if !roles.is_empty() {
        message.push_str(&format!(
            "\nThese agents' keys were already rotated on the server and the new keys were discarded \
             (their old keys no longer work): {}",
            roles.join(", ")
        ));
    }
    if maybe_rotated {
        roles.push(role);
    }
    if !roles.is_empty() {
        let replace: Vec<String> = roles.iter().map(|r| format!("--replace {r}")).collect();
        if !hint.is_empty() {
            hint.push_str("\n      ");
        }
        hint.push_str(&format!(
            "once the cause is fixed, run `moot apply {}` to issue them again",
            replace.join(" ")
        ));
    }
    Error::User {
        message,
        hint: (!hint.is_empty()).then_some(hint),
    }
}
