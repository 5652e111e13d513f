//! The remote phase: every remote action of the plan through one loop that
//! dispatches on its kind, phase by phase (`kinds::RemotePhase`): renames
//! and creations first (they destroy nothing), deletions next, key issuing
//! last. Keys go through the ticket pipeline (`pacer.rs`): each ticket is
//! recorded in `.moot/pending-tickets.json` before it is exchanged, so a
//! crash never loses it. New keys are held only in memory until the local
//! transaction commits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::task::JoinSet;

use crate::apply::pacer::{Mint, Pacer, Pacing};
use crate::apply::pending::{PendingTicket, Store, now_unix};
use crate::error::{Error, Result};
use crate::observed::api::{ApiClient, ApiError, Minted, Ticket};
use crate::plan::{Action, ActionKind, Op, Plan};
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

/// What the remote phase did, for the summary and the local phase.
#[derive(Debug, Default)]
pub struct RemoteOutcome {
    pub keys: Vec<NewKey>,
    pub renamed: Vec<String>,
    /// Role and the new agent's id.
    pub created: Vec<(String, String)>,
    pub deleted: Vec<String>,
    /// Roles whose key an interrupted apply's ticket held, and which the
    /// server no longer exchanges: left out of the key file.
    pub lost: Vec<String>,
}

/// Who gets a key, and how.
#[derive(Debug, Clone)]
struct KeyJob {
    kind: ActionKind,
    role: String,
    role_key: String,
    actor_id: String,
    display_name: String,
    force: bool,
    /// A ticket an interrupted apply left, not one minted now.
    redeeming: bool,
}

impl KeyJob {
    /// A key minted now, neither forced nor redeemed.
    fn new(
        kind: ActionKind,
        role: &str,
        role_key: &str,
        actor_id: &str,
        display_name: &str,
    ) -> KeyJob {
        KeyJob {
            kind,
            role: role.to_string(),
            role_key: role_key.to_string(),
            actor_id: actor_id.to_string(),
            display_name: display_name.to_string(),
            force: false,
            redeeming: false,
        }
    }

    /// The key the server issued for this job.
    fn key(&self, api_key: Secret) -> NewKey {
        NewKey {
            role: self.role.clone(),
            role_key: self.role_key.clone(),
            actor_id: self.actor_id.clone(),
            api_key,
        }
    }
}

/// Where a remote step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Mint,
    Exchange,
    Other,
}

#[derive(Debug)]
struct Failure {
    role: String,
    kind: ActionKind,
    stage: Stage,
    /// Boxed: an `ApiError` is large, and failures are rare.
    cause: Box<Cause>,
}

impl Failure {
    fn new(role: &str, kind: ActionKind, stage: Stage, cause: Cause) -> Failure {
        Failure {
            role: role.to_string(),
            kind,
            stage,
            cause: Box::new(cause),
        }
    }
}

#[derive(Debug)]
enum Cause {
    Api(ApiError),
    Injected(String),
    Local(Error),
    /// Not attempted: another step failed first.
    Stopped,
    /// A ticket an interrupted apply left, which the server says is used,
    /// expired or unknown: that key is gone, but nothing else is at stake,
    /// so the apply goes on (the role shows as `key not held here`).
    Spent(&'static str),
}

impl Cause {
    fn api(&self) -> Option<&ApiError> {
        match self {
            Cause::Api(e) => Some(e),
            Cause::Injected(_) | Cause::Local(_) | Cause::Stopped | Cause::Spent(_) => None,
        }
    }
}

/// Shared by the tasks of the key pipeline.
struct Ctx {
    client: ApiClient,
    pacer: Pacer,
    store: Arc<Store>,
    failed: AtomicBool,
    say: Say,
}

/// Status lines on stderr, above the progress bar when there is one.
#[derive(Clone)]
struct Say {
    printer: Printer,
    bar: Option<indicatif::ProgressBar>,
}

impl Say {
    fn line(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => self.printer.status(text),
        }
    }
}

type Task = std::result::Result<NewKey, Failure>;

/// The remote phase under way: the key pipeline's tasks and what is done.
struct Phase {
    ctx: Arc<Ctx>,
    tasks: JoinSet<Task>,
    outcome: RemoteOutcome,
}

/// Runs the plan's remote actions; `redeem` are live tickets an
/// interrupted apply left, exchanged first. On failure, the error names
/// every agent whose key is gone and which tickets are kept for the next
/// apply.
pub async fn run(
    client: &ApiClient,
    plan: &Plan,
    redeem: Vec<PendingTicket>,
    pacing: Pacing,
    store: Arc<Store>,
    printer: &Printer,
) -> Result<RemoteOutcome> {
    let mut remote: Vec<&Action> = plan.actions.iter().filter(|a| a.kind.is_remote()).collect();
    remote.sort_by_key(|a| a.kind.spec().remote);
    let keyed = remote
        .iter()
        .filter(|a| matches!(a.op, Op::RotateKey { .. } | Op::CreateAgent { .. }))
        .count()
        + redeem.len();
    let bar = progress_bar(printer, keyed);
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        pacer: Pacer::new(pacing),
        store,
        failed: AtomicBool::new(false),
        say: Say {
            printer: printer.clone(),
            bar: bar.clone(),
        },
    });
    let mut phase = Phase {
        ctx,
        tasks: JoinSet::new(),
        outcome: RemoteOutcome::default(),
    };
    let mut failures = Vec::new();
    for t in redeem {
        phase.spawn_redeem(t);
    }
    for a in remote {
        reap(
            &mut phase.tasks,
            &mut phase.outcome,
            &mut failures,
            bar.as_ref(),
        )?;
        if !failures.is_empty() {
            break;
        }
        if let Err(f) = phase.step(a).await {
            phase.ctx.failed.store(true, Ordering::SeqCst);
            failures.push(f);
            break;
        }
    }
    let Phase {
        ctx,
        mut tasks,
        mut outcome,
    } = phase;
    while let Some(done) = tasks.join_next().await {
        absorb(done, &mut outcome, &mut failures, bar.as_ref())?;
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    sort_keys(plan, &mut outcome.keys);
    if failures.is_empty() {
        // The exchanges' marks, for a crash in the local phase to report.
        ctx.store.flush()?;
        return Ok(outcome);
    }
    let kept = ctx.store.drop_spent().unwrap_or(0) > 0;
    Err(failed(failures, &outcome, kept))
}

fn progress_bar(printer: &Printer, keys: usize) -> Option<indicatif::ProgressBar> {
    (printer.interactive() && keys > 0).then(|| {
        let bar = indicatif::ProgressBar::new(keys as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} issuing keys {pos}/{len} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    })
}

/// Keys in team.toml order, whatever order they arrived in.
fn sort_keys(plan: &Plan, keys: &mut [NewKey]) {
    let order: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|a| match &a.target {
            crate::plan::Target::Agent(r) => Some(r.as_str()),
            crate::plan::Target::Path(_) => None,
        })
        .collect();
    keys.sort_by_key(|k| order.iter().position(|r| *r == k.role));
}

impl Phase {
    /// A live ticket an interrupted apply left: exchanged, not minted.
    fn spawn_redeem(&mut self, t: PendingTicket) {
        self.ctx.pacer.adopt();
        let job = KeyJob {
            redeeming: true,
            ..KeyJob::new(
                ActionKind::IssueKey,
                &t.role,
                &t.role_key,
                &t.actor_id,
                &t.display_name,
            )
        };
        let c = self.ctx.clone();
        self.tasks
            .spawn(async move { exchange(&c, job, t.ticket).await });
    }

    /// One remote action, dispatched on its kind. Key issuing is handed to
    /// the pipeline (a task); the rest runs here, in order.
    async fn step(&mut self, a: &Action) -> std::result::Result<(), Failure> {
        let role = match &a.target {
            crate::plan::Target::Agent(r) => r.clone(),
            crate::plan::Target::Path(p) => p.clone(),
        };
        let fail = |stage, cause| Failure::new(&role, a.kind, stage, cause);
        let ctx = &self.ctx;
        match (a.kind, &a.op) {
            (ActionKind::RenameAgent, Op::Rename { actor_id, to, .. }) => {
                injected(a.kind).map_err(|c| fail(Stage::Other, c))?;
                ctx.client
                    .rename(actor_id, to)
                    .await
                    .map_err(|e| fail(Stage::Other, Cause::Api(e)))?;
                self.outcome.renamed.push(role.clone());
            }
            (ActionKind::DeleteAgent, Op::DeleteAgent { actor_id, .. }) => {
                injected(a.kind).map_err(|c| fail(Stage::Other, c))?;
                ctx.client
                    .delete_actor(actor_id)
                    .await
                    .map_err(|e| fail(Stage::Other, Cause::Api(e)))?;
                self.outcome.deleted.push(role.clone());
            }
            (ActionKind::CreateAgent, Op::CreateAgent { .. }) => self.create(a).await?,
            (
                ActionKind::IssueKey | ActionKind::RotateKey,
                Op::RotateKey {
                    role_key,
                    actor_id,
                    display_name,
                    force,
                    ..
                },
            ) => {
                let job = KeyJob {
                    force: *force,
                    ..KeyJob::new(a.kind, &role, role_key, actor_id, display_name)
                };
                let c = ctx.clone();
                self.tasks
                    .spawn(async move { mint_and_exchange(&c, job).await });
            }
            (
                ActionKind::CreateAgent
                | ActionKind::IssueKey
                | ActionKind::RotateKey
                | ActionKind::RenameAgent
                | ActionKind::DeleteAgent
                | ActionKind::Create
                | ActionKind::Update
                | ActionKind::Remove
                | ActionKind::Chmod
                | ActionKind::Stage
                | ActionKind::Merge
                | ActionKind::AppendLines
                | ActionKind::WriteSecrets
                | ActionKind::WriteLock,
                _,
            ) => return Err(fail(Stage::Other, not_remote(a))),
        }
        Ok(())
    }

    /// `POST /api/agents`, then the name, then the key through the pipeline.
    async fn create(&mut self, a: &Action) -> std::result::Result<(), Failure> {
        let Op::CreateAgent {
            role,
            role_key,
            display_name,
            agent_profile,
        } = &a.op
        else {
            return Ok(());
        };
        let ctx = &self.ctx;
        let fail = |stage, cause| Failure::new(role, a.kind, stage, cause);
        injected(a.kind).map_err(|c| fail(Stage::Mint, c))?;
        // A creation mints a ticket too: paced like the others.
        ctx.pacer.acquire_mint(Mint::FirstKey).await;
        let created = match ctx
            .client
            .create_agent(role, agent_profile.as_deref())
            .await
        {
            Ok(c) => c,
            Err(e) => {
                ctx.pacer.release(false);
                return Err(fail(Stage::Mint, Cause::Api(e)));
            }
        };
        let actor_id = created.actor.actor_id.clone();
        self.outcome.created.push((role.clone(), actor_id.clone()));
        let job = KeyJob::new(a.kind, role, role_key, &actor_id, display_name);
        let c = ctx.clone();
        match created.minted {
            Minted::Key(k) => {
                ctx.pacer.release(true);
                let key = job.key(k.api_key);
                self.tasks.spawn(async move { Ok(key) });
            }
            Minted::Ticket(t) => {
                record(&c, &job, &t, Mint::FirstKey)
                    .await
                    .map_err(|e| fail(Stage::Exchange, Cause::Local(e)))?;
                self.tasks
                    .spawn(async move { exchange(&c, job, t.id).await });
            }
        }
        if &created.actor.display_name != display_name {
            ctx.client
                .rename(&actor_id, display_name)
                .await
                .map_err(|e| fail(Stage::Other, Cause::Api(e)))?;
        }
        Ok(())
    }
}

fn not_remote(a: &Action) -> Cause {
    Cause::Local(Error::Internal(format!(
        "{} {} is not a remote action",
        a.kind, a.target
    )))
}

fn injected(kind: ActionKind) -> std::result::Result<(), Cause> {
    crate::apply::faults::step(kind.as_str()).map_err(|e| Cause::Injected(e.to_string()))
}

/// first-key (issue-key; rotate-key on servers without it) or rotate-key,
/// paced; then the exchange.
async fn mint_and_exchange(ctx: &Ctx, job: KeyJob) -> Task {
    // issue-key is for an agent without a key (a fallback to rotate-key
    // included): no key dies at its mint.
    let cost = match job.kind == ActionKind::IssueKey {
        true => Mint::FirstKey,
        false => Mint::Rotation,
    };
    ctx.pacer.acquire_mint(cost).await;
    let fail = |stage, cause| Failure::new(&job.role, job.kind, stage, cause);
    if ctx.failed.load(Ordering::SeqCst) {
        ctx.pacer.release(false);
        return Err(fail(Stage::Other, Cause::Stopped));
    }
    let minted = match crate::apply::faults::step("rotate") {
        Err(e) => Err(Cause::Injected(e.to_string())),
        Ok(()) => mint(&ctx.client, &job).await.map_err(Cause::Api),
    };
    match minted {
        Err(cause) => {
            ctx.failed.store(true, Ordering::SeqCst);
            ctx.pacer.release(false);
            Err(fail(Stage::Mint, cause))
        }
        Ok(Minted::Key(k)) => {
            ctx.pacer.release(true);
            Ok(job.key(k.api_key))
        }
        Ok(Minted::Ticket(t)) => {
            if let Err(e) = record(ctx, &job, &t, cost).await {
                ctx.failed.store(true, Ordering::SeqCst);
                ctx.pacer.release(false);
                return Err(fail(Stage::Exchange, Cause::Local(e)));
            }
            exchange(ctx, job, t.id).await
        }
    }
}

/// issue-key asks first-key (it never replaces a key someone issued
/// meanwhile); rotate-key rotates.
async fn mint(client: &ApiClient, job: &KeyJob) -> std::result::Result<Minted, ApiError> {
    if job.kind != ActionKind::IssueKey {
        return client.mint_rotation(&job.actor_id, job.force).await;
    }
    match client.mint_first_key(&job.actor_id).await {
        // A server without first-key: rotate-key does the same for an agent
        // that has no key (forced if it is connected: nothing to lose).
        Err(e) if e.is_unknown_route() => client.mint_rotation(&job.actor_id, job.force).await,
        other => other,
    }
}

/// Writes the ticket where the next moot command finds it, before the
/// exchange is sent.
async fn record(ctx: &Ctx, job: &KeyJob, t: &Ticket, cost: Mint) -> Result<()> {
    ctx.store
        .add(
            PendingTicket {
                role: job.role.clone(),
                role_key: job.role_key.clone(),
                actor_id: job.actor_id.clone(),
                display_name: job.display_name.clone(),
                minted_at: now_unix(),
                exchanged: false,
                ticket: t.id.clone(),
            },
            cost,
        )
        .await
}

/// Exchanges a recorded ticket, waiting out 429s (the ticket was not used
/// then); any other error ends it. A ticket whose exchange may not have
/// reached the server stays recorded for the next apply.
async fn exchange(ctx: &Ctx, job: KeyJob, ticket: Secret) -> Task {
    let fail = |stage, cause| Failure::new(&job.role, job.kind, stage, cause);
    if let Err(e) = crate::apply::faults::step("exchange") {
        ctx.failed.store(true, Ordering::SeqCst);
        ctx.pacer.release(false);
        return Err(fail(Stage::Exchange, Cause::Injected(e.to_string())));
    }
    loop {
        // Once the server limits exchanges, they go one at a time.
        let turn = match ctx.pacer.is_limited() {
            true => Some(ctx.pacer.turn().await),
            false => None,
        };
        loop {
            ctx.pacer.slot().await;
            if ctx.failed.load(Ordering::SeqCst) {
                ctx.pacer.release(false);
                return Err(fail(Stage::Exchange, Cause::Stopped));
            }
            match ctx.client.exchange_ticket(ticket.expose()).await {
                Err(ApiError::RateLimited { retry_after, .. }) => {
                    let wait = ctx.pacer.limited(retry_after);
                    ctx.say.line(&format!(
                        "agent:{}: the server limits key exchanges; waiting {:.1} s",
                        job.role,
                        wait.as_secs_f64()
                    ));
                    if turn.is_none() {
                        break; // take the turn, then ask again
                    }
                }
                answer => return exchanged(ctx, &job, answer),
            }
        }
    }
}

/// The end of an exchange: the key, or why there is none. An answer means
/// the ticket is spent (or never was); no answer (timeout, network) leaves
/// it possibly alive, so it stays recorded for the next apply.
fn exchanged(
    ctx: &Ctx,
    job: &KeyJob,
    answer: std::result::Result<crate::observed::api::IssuedKey, ApiError>,
) -> Task {
    let fail = |cause| Failure::new(&job.role, job.kind, Stage::Exchange, cause);
    match answer {
        Ok(key) if key.actor_id == job.actor_id => {
            ctx.store.mark_exchanged(&job.actor_id);
            ctx.pacer.release(true);
            Ok(job.key(key.api_key))
        }
        Ok(key) => {
            ctx.store.mark_exchanged(&job.actor_id);
            ctx.failed.store(true, Ordering::SeqCst);
            ctx.pacer.release(false);
            let reason = format!(
                "the key is for actor {}, not {}",
                key.actor_id, job.actor_id
            );
            Err(fail(Cause::Local(Error::Internal(reason))))
        }
        Err(e) => {
            if e.status().is_some() {
                ctx.store.mark_exchanged(&job.actor_id);
            }
            let spent = match &e {
                ApiError::TicketUsed { .. } => Some("was already used"),
                ApiError::TicketExpired { .. } => Some("has expired"),
                ApiError::NotFound { .. } => Some("is unknown to the server"),
                _ => None,
            };
            if let (true, Some(why)) = (job.redeeming, spent) {
                // Killed after the exchange but before the key was stored,
                // or too late: the key is gone, the rest of the apply is not
                // at stake.
                ctx.pacer.release(false);
                ctx.say.line(&format!(
                    "warning: agent:{}: the ticket an interrupted apply left {why}; that key \
                     is gone (run `moot apply --replace {}` to issue a new one)",
                    job.role, job.role
                ));
                return Err(fail(Cause::Spent(why)));
            }
            ctx.failed.store(true, Ordering::SeqCst);
            ctx.pacer.release(false);
            Err(fail(Cause::Api(e)))
        }
    }
}

fn reap(
    tasks: &mut JoinSet<Task>,
    outcome: &mut RemoteOutcome,
    failures: &mut Vec<Failure>,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<()> {
    while let Some(done) = tasks.try_join_next() {
        absorb(done, outcome, failures, bar)?;
    }
    Ok(())
}

fn absorb(
    done: std::result::Result<Task, tokio::task::JoinError>,
    outcome: &mut RemoteOutcome,
    failures: &mut Vec<Failure>,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<()> {
    match done {
        Ok(Ok(key)) => {
            if let Some(b) = bar {
                b.inc(1);
                b.set_message(key.role.clone());
            }
            outcome.keys.push(key);
        }
        Ok(Err(f)) if matches!(*f.cause, Cause::Spent(_)) => outcome.lost.push(f.role),
        Ok(Err(f)) => failures.push(f),
        Err(join) => return Err(Error::Internal(format!("key task failed: {join}"))),
    }
    Ok(())
}

/// Whether the agent's key is gone because of this failure: its old key
/// died (or may have) and no new key will reach the workspace.
fn key_lost(f: &Failure) -> bool {
    use ApiError as E;
    // issue-key may fall back to rotate-key: a key issued and never
    // received is as lost as a rotated one.
    let rotating = matches!(f.kind, ActionKind::RotateKey | ActionKind::IssueKey);
    match f.stage {
        // The ticket was minted (the old key died); its exchange failed. A
        // ticket without an answer stays recorded and may be redeemed.
        Stage::Exchange => match &*f.cause {
            Cause::Api(e) => e.status().is_some(),
            Cause::Injected(_) | Cause::Local(_) | Cause::Stopped => false,
            Cause::Spent(_) => true,
        },
        // A rotate request that reached the server and failed in transit,
        // or whose answer could not be used, may well have rotated the key.
        Stage::Mint => {
            rotating
                && matches!(
                    f.cause.api(),
                    Some(
                        E::Timeout { .. }
                            | E::Network { .. }
                            | E::Server { .. }
                            | E::InvalidBody { .. }
                            | E::BodyTooLarge { .. }
                            | E::EmptyKey { .. }
                    )
                )
        }
        Stage::Other => false,
    }
}

/// The error for a failed remote phase: what failed, that nothing local
/// changed, which agents lost their key (with the command that issues them
/// again), and which tickets the next apply redeems.
fn failed(mut failures: Vec<Failure>, outcome: &RemoteOutcome, kept: bool) -> Error {
    // The first real failure, not the tasks it stopped.
    failures.sort_by_key(|f| matches!(&*f.cause, Cause::Stopped));
    let first = &failures[0];
    let (mut message, mut lost) = failure_message(&failures, outcome);
    if kept {
        message.push_str(
            "\nTickets not yet exchanged are kept in .moot/pending-tickets.json: the next \
             `moot apply` redeems those still alive.",
        );
    }
    let mut hint = failure_hint(first);
    lost.sort_unstable();
    lost.dedup();
    if !lost.is_empty() {
        let replace: Vec<String> = lost.iter().map(|r| format!("--replace {r}")).collect();
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

/// What failed, and which roles' keys are gone (returned too, for the hint).
fn failure_message<'a>(
    failures: &'a [Failure],
    outcome: &'a RemoteOutcome,
) -> (String, Vec<&'a str>) {
    let first = &failures[0];
    let what = match &*first.cause {
        Cause::Api(e) => e.to_string(),
        Cause::Injected(m) => m.clone(),
        Cause::Local(e) => e.to_string(),
        Cause::Stopped => "stopped".to_string(),
        Cause::Spent(why) => format!("the ticket an interrupted apply left {why}"),
    };
    let mut message = format!(
        "apply failed at agent:{} ({}): {what}\nNo local file was created, changed or removed.",
        first.role, first.kind
    );
    let unanswered = first
        .cause
        .api()
        .is_some_and(|e| e.status().is_none_or(|s| s >= 500));
    if first.kind == ActionKind::CreateAgent && first.stage == Stage::Mint && unanswered {
        message.push_str(&format!(
            "\nThe request reached the server: the agent for agent:{} may have been created. \
             It is not created again: the next plan adopts an agent of that name.",
            first.role
        ));
    }
    let mut lost: Vec<&str> = outcome.keys.iter().map(|k| k.role.as_str()).collect();
    for f in failures.iter().filter(|f| key_lost(f)) {
        message.push_str(&if f.stage == Stage::Exchange {
            let how = if f.kind == ActionKind::RotateKey {
                "rotated"
            } else {
                "issued"
            };
            format!(
                "\nagent:{}'s key was {how} on the server, but exchanging its ticket for the new \
                 key failed: the old key no longer works.",
                f.role
            )
        } else {
            format!(
                "\nThe request reached the server: agent:{}'s key may have been rotated, and its \
                 old key may no longer work.",
                f.role
            )
        });
        lost.push(&f.role);
    }
    if !outcome.keys.is_empty() {
        let roles: Vec<&str> = outcome.keys.iter().map(|k| k.role.as_str()).collect();
        message.push_str(&format!(
            "\nThese agents' new keys were received and discarded (their old keys no longer \
             work): {}",
            roles.join(", ")
        ));
    }
    (message, lost)
}

/// What to do about the first failure (the `--replace` part comes after).
fn failure_hint(first: &Failure) -> String {
    match first.cause.api() {
        Some(ApiError::AlreadyKeyed { .. }) => {
            "the plan is stale: run `moot plan` again".to_string()
        }
        Some(ApiError::Conflict { .. }) => format!(
            "agent:{} is connected; `moot apply --replace {}` forces it (its session loses its key)",
            first.role, first.role
        ),
        Some(e) if first.kind == ActionKind::CreateAgent && e.is_unknown_route() => {
            crate::plan::keys::create_on_platform_hint(&first.role)
        }
        Some(ApiError::Rejected {
            status: 401 | 403, ..
        }) if first.stage == Stage::Exchange => {
            "the server refused the ticket (the exchange sends no token: your login is not the cause)"
                .to_string()
        }
        Some(_) if first.stage == Stage::Exchange => String::new(),
        Some(ApiError::Rejected { .. }) if first.kind == ActionKind::RenameAgent => format!(
            "the platform refused the display name; change role `{}`'s display_name in team.toml",
            first.role
        ),
        Some(e) => e
            .hint()
            .unwrap_or_default()
            .replace("--replace ROLE", &format!("--replace {}", first.role)),
        None => String::new(),
    }
}
