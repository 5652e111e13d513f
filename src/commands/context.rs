//! Gathering the inputs of a plan: the workspace and its team.toml, the
//! credentials and API client, the observed state, and the rendered desired
//! state. Shared by plan, apply and check.

use std::path::{Path, PathBuf};

use crate::cli::PlanFlags;
use crate::desired::{DesiredState, RemoteFacts, TeamFile};
use crate::error::{Error, IoContext, Result};
use crate::observed::api::{ApiClient, ClientOptions};
use crate::observed::credentials;
use crate::observed::lockfile::Lock;
use crate::observed::workspace::{dir_mode, moot_dir_tracked};
use crate::plan::planner::{Observed, PlanOptions, RemoteState};
use crate::plan::saved::{Fingerprint, fingerprint};
use crate::printer::Printer;
// Observation proper lives in the observed layer; `read_actors` and
// `read_key_file` stay reachable here for apply.
use crate::observed::observe::{held_and_retired_keys, pending_info, scan_files};
pub use crate::observed::observe::{read_actors, read_key_file};

/// What to run when there is no team.toml: `moot import` where another
/// client left its files, else `moot init`.
fn no_team_hint(root: &Path) -> &'static str {
    let other_client = [crate::paths::MOOT_TOML_PATH, crate::paths::ACTORS_PATH]
        .iter()
        .any(|p| std::fs::symlink_metadata(root.join(p)).is_ok());
    if other_client {
        "this workspace was set up by another client (mootup or moot-cli): run `moot import` \
         to write team.toml from its moot.toml and .moot/actors.json"
    } else {
        "run `moot init` to write one from an archetype"
    }
}

/// The workspace and its parsed team.toml.
#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub team: TeamFile,
    pub team_sha: String,
}

impl Workspace {
    /// Finds the workspace (`-C DIR` or upwards) and loads team.toml, for
    /// commands that change nothing: an interrupted apply is reported, not
    /// repaired (only apply repairs, under its lock).
    pub fn open(dir: Option<&Path>) -> Result<Workspace> {
        let root = Self::locate(dir)?;
        crate::apply::recover::refuse_interrupted(&root)?;
        Self::load(root)
    }

    /// The workspace's directory, resolved.
    pub fn locate(dir: Option<&Path>) -> Result<PathBuf> {
        let found = crate::workspace::find_workspace(dir)?;
        std::fs::canonicalize(&found).ctx("resolving", &found)
    }

    /// Loads team.toml: never through a link, never blocking on a FIFO.
    pub fn load(root: PathBuf) -> Result<Workspace> {
        let team_path = root.join(crate::workspace::TEAM_FILE);
        let src = crate::fsutil::read_regular(&team_path)?.ok_or_else(|| {
            Error::user(
                format!("no team.toml in {}", root.display()),
                no_team_hint(&root),
            )
        })?;
        let team_sha = crate::digest::Digest::of(&src).to_string();
        let text = String::from_utf8(src).map_err(|_| {
            Error::user(
                format!("{}: not UTF-8 text", team_path.display()),
                "save team.toml as UTF-8",
            )
        })?;
        let team = crate::desired::parse_team(&text, Path::new(crate::workspace::TEAM_FILE))?;
        Ok(Workspace {
            root,
            team,
            team_sha,
        })
    }

    /// The name CLAUDE.md and the devcontainer use for the project:
    /// team.toml's `[team] name`, never the checkout's directory name, so
    /// every clone renders the same bytes.
    pub fn project_name(&self) -> &str {
        &self.team.team.name
    }
}

/// Everything a plan is computed from, plus the client apply needs.
pub struct Session {
    pub ws: Workspace,
    pub desired: DesiredState,
    pub observed: Observed,
    pub options: PlanOptions,
    pub fingerprint: Fingerprint,
    /// The API client and its runtime; None offline (no runtime is even
    /// started then, which keeps `moot check` fast).
    pub online: Option<Online>,
}

pub struct Online {
    pub client: ApiClient,
    pub runtime: Runtime,
}

/// The async runtime of an online command. Dropped without waiting for its
/// idle blocking-pool thread (the one that wrote tickets): every task has
/// finished by then, since the remote phase awaits them all, and joining
/// the thread only delays the exit.
pub struct Runtime(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for Runtime {
    type Target = tokio::runtime::Runtime;
    fn deref(&self) -> &tokio::runtime::Runtime {
        // Some until dropped.
        self.0.as_ref().expect("runtime used after drop")
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("starting the async runtime: {e}")))
}

/// Checks `--replace` names against team.toml.
fn check_roles(team: &TeamFile, replace: &[String]) -> Result<()> {
    for r in replace {
        if team.role(r).is_none() {
            let names: Vec<&str> = team.roles.iter().map(|r| r.name.as_str()).collect();
            return Err(Error::user(
                format!("--replace {r}: team.toml has no role named `{r}`"),
                format!("roles: {}", names.join(", ")),
            ));
        }
    }
    Ok(())
}

/// A space id is written into CLAUDE.md and moot.toml, so one that came
/// from a server or from a checkout must be an id (`spc_` then letters,
/// digits, `_` or `-`), not text that could add lines or markup there.
fn check_space_id(id: &str, from: &str) -> Result<()> {
    let body = id.strip_prefix("spc_").unwrap_or("");
    let valid = !body.is_empty()
        && id.len() <= 128
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        return Ok(());
    }
    let shown: String = id.chars().take(80).collect();
    Err(Error::user(
        format!(
            "{from}: the space id `{}` is not a valid id (expected `spc_` then letters, digits, `_` or `-`)",
            crate::printer::clean_line(&shown)
        ),
        "check MOOT_API_URL points at the Moot API (or restore moot.lock from git); \
         nothing was written",
    ))
}

pub fn plan_options(flags: &PlanFlags) -> PlanOptions {
    PlanOptions {
        offline: flags.offline,
        replace: flags.replace.clone(),
        rotate_all: flags.rotate_all,
        overwrite: flags.overwrite.as_ref().is_some_and(Vec::is_empty),
        overwrite_paths: flags
            .overwrite
            .iter()
            .flatten()
            .map(|p| p.trim().trim_start_matches("./").to_string())
            .collect(),
        prune: flags.prune,
    }
}

/// The remote facts and state, and the client apply goes on with.
type Connected = (RemoteFacts, RemoteState, Online);

/// How `observe` reaches the platform when it plans online.
pub struct Connection {
    profile: Option<String>,
    /// `connect`, already running on its own thread.
    started: Option<std::thread::JoinHandle<Result<Connected>>>,
}

impl Connection {
    /// Connects when `observe` asks.
    pub fn later(profile: Option<&str>) -> Connection {
        Connection {
            profile: profile.map(str::to_owned),
            started: None,
        }
    }

    /// Starts connecting at once, on its own thread, so the three GETs of
    /// `connect` overlap what the command does before it observes (the
    /// workspace lock, the repair check, parsing team.toml). Its outcome,
    /// errors included, is taken only by `observe`: a workspace error still
    /// comes first, and the thread is left to end with the process. Where
    /// no thread can be started, it connects later instead.
    pub fn now(profile: Option<&str>, printer: &Printer) -> Connection {
        let (owned, printer) = (profile.map(str::to_owned), printer.clone());
        let started = std::thread::Builder::new()
            .name("moot-connect".into())
            .spawn(move || connect(owned.as_deref(), &printer))
            .ok();
        Connection {
            profile: profile.map(str::to_owned),
            started,
        }
    }

    fn finish(self, printer: &Printer) -> Result<Connected> {
        match self.started {
            Some(thread) => thread
                .join()
                .map_err(|_| Error::Internal("the connection thread panicked".into()))?,
            None => connect(self.profile.as_deref(), printer),
        }
    }
}

/// Observes the world and renders the desired state.
pub fn observe(
    ws: Workspace,
    options: PlanOptions,
    connection: Connection,
    ws_lock: Option<&crate::apply::wslock::WorkspaceLock>,
    printer: &Printer,
) -> Result<Session> {
    check_roles(&ws.team, &options.replace)?;
    let lock = Lock::load(&ws.root)?;
    let (facts, remote, online) = if options.offline {
        (offline_facts(lock.as_ref())?, None, None)
    } else {
        let (facts, remote, online) = connection.finish(printer)?;
        (facts, Some(remote), Some(online))
    };
    let mut desired = crate::desired::render(&ws.team, &facts, ws.project_name())?;
    if lock
        .as_ref()
        .is_some_and(|l| l.files.iter().any(|f| desired.file(&f.path).is_none()))
    {
        // A leftover to judge: what else could moot have written?
        crate::desired::render::add_renderable(&mut desired, &ws.team, &facts, ws.project_name())?;
    }
    check_overwrite_paths(&desired, &options.overwrite_paths)?;

    let is_online = remote.is_some();
    let lock_made_moot_dir = ws_lock.is_some_and(|l| l.created_moot_dir());
    let files = scan_files(
        &ws.root,
        &desired,
        lock.as_ref(),
        is_online,
        lock_made_moot_dir,
    )?;
    let (held, actors_file_mode, retired_keys) = held_and_retired_keys(
        &ws.root,
        online.as_ref().map(|o| (&o.client, &*o.runtime)),
        remote.as_ref(),
    )?;
    let observed = Observed {
        files,
        lock,
        held,
        retired_keys,
        actors_file_mode,
        moot_dir_mode: if is_online && !lock_made_moot_dir {
            dir_mode(&ws.root.join(crate::paths::MOOT_DIR))
        } else {
            None
        },
        moot_tracked: is_online && moot_dir_tracked(&ws.root),
        remote,
        pending: pending_info(&ws.root)?,
    };
    let fingerprint = fingerprint(
        &observed,
        &ws.team_sha,
        &desired.bundle_version,
        &desired.facts.api_url,
    );
    Ok(Session {
        ws,
        desired,
        observed,
        options,
        fingerprint,
        online,
    })
}

/// Offline, the remote facts come from moot.lock alone. They are rendered
/// into files, so a checkout's moot.lock is checked like any other input.
fn offline_facts(lock: Option<&Lock>) -> Result<RemoteFacts> {
    let facts = lock
        .map(|l| RemoteFacts {
            api_url: l.api_url.clone(),
            space_id: l.space_id.clone(),
            space_name: l.space_name.clone(),
        })
        .unwrap_or_default();
    if !facts.space_id.is_empty() {
        check_space_id(&facts.space_id, crate::paths::LOCK_PATH)?;
    }
    // Rendered into CLAUDE.md: one line of plain text.
    if facts.space_name.len() > 200 || facts.space_name.chars().any(crate::printer::must_escape) {
        return Err(Error::user(
            format!(
                "moot.lock: the space name `{}` holds control or bidirectional characters, \
                 or is over 200 bytes",
                crate::printer::clean_line(&facts.space_name.chars().take(80).collect::<String>())
            ),
            "restore moot.lock from git (or run `moot apply` online to rewrite it); \
             nothing was written",
        ));
    }
    // Rendered into moot.toml: a URL from a checkout must be one the
    // client would accept (no credentials, query or odd scheme).
    if !facts.api_url.is_empty()
        && let Err(e) = crate::observed::api::normalize_base_url(&facts.api_url)
    {
        return Err(Error::user(
            format!("moot.lock: {e}"),
            "restore moot.lock from git (or run `moot apply` online to rewrite it); \
             nothing was written",
        ));
    }
    Ok(facts)
}

/// Online, the remote facts and state come from the API: the caller, its
/// agents and its default space.
fn connect(profile: Option<&str>, printer: &Printer) -> Result<Connected> {
    let creds = credentials::resolve(profile)?.ok_or_else(|| {
        Error::user(
            "no Moot credentials: MOOT_TOKEN is not set and no login is stored",
            "run `moot login` (or set MOOT_TOKEN), or use `--offline` to plan files only",
        )
    })?;
    printer.verbose(&format!(
        "using {} (credentials from {})",
        crate::observed::api::redact_url(&creds.api_url),
        creds.source
    ));
    let client = ApiClient::new(
        &creds.api_url,
        Some(creds.token.clone()),
        ClientOptions::from_env()?,
    )?;
    let runtime = Runtime(Some(runtime()?));
    let (me, agents) = runtime.block_on(client.me_and_agents())?;
    let space_id = me.default_space_id.clone().ok_or_else(|| {
        Error::user(
            format!(
                "the account {} has no default space, so it cannot host a team",
                crate::printer::clean_line(&me.display_name)
            ),
            "create or join a space on mootup.io, then run moot again",
        )
    })?;
    check_space_id(&space_id, "the server's answer to GET /api/actors/me")?;
    let space = runtime.block_on(client.space(&space_id))?;
    let facts = RemoteFacts {
        api_url: client.base_url().to_string(),
        space_name: space_id.clone(),
        space_id,
    };
    Ok((
        facts,
        RemoteState { me, agents, space },
        Online { client, runtime },
    ))
}

/// `--overwrite PATH...`: each path must be a file moot manages in this
/// plan; a seed or merged file is the user's, and anything else is a typo.
fn check_overwrite_paths(desired: &DesiredState, paths: &[String]) -> Result<()> {
    use crate::desired::Policy;
    for path in paths {
        let policy = desired
            .files
            .iter()
            .find(|f| &f.path == path)
            .map(|f| f.policy);
        let why = match policy {
            Some(Policy::Managed) if desired.is_unmanaged(path) => {
                "it is listed under [install] unmanaged, so moot never writes it"
            }
            Some(Policy::Managed) => continue,
            Some(Policy::Seed) => {
                "it is a seed file: yours once created, never written over; take what you \
                 want from the suggestion by hand (`moot diff` shows it)"
            }
            Some(Policy::Merged | Policy::Lines) => {
                "moot only adds its own entries to it and keeps yours; there is nothing to overwrite"
            }
            Some(Policy::Secret) => "it holds the agent keys; moot writes it from the platform",
            None => "moot renders no such file for this team.toml",
        };
        return Err(Error::user(
            format!("--overwrite {path}: {why}"),
            crate::commands::diff::managed_list_hint(desired),
        ));
    }
    Ok(())
}
