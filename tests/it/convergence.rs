//! Convergence: every sequence of team.toml edits, user edits and moot
//! commands settles, and nothing the user had is lost. The minimal
//! sequences of known failures first, then a seeded model-based driver
//! that runs random sequences and checks the reconciler's promises after
//! every step (docs/design.md, "Convergence testing"):
//! one apply converges, a second apply changes nothing, plan and check
//! change nothing and agree, a user's text survives in place, and (online)
//! no key is lost or rotated needlessly.
//!
//! `MOOT_FUZZ_CASES=N` runs N offline sequences (and N/10 online ones)
//! instead of the short default; `MOOT_FUZZ_SEED` and `MOOT_FUZZ_STEPS`
//! pick the first seed and the steps per sequence.

use std::path::{Path, PathBuf};

use moot::apply::wslock::WorkspaceLock;
use moot::cli::ColorChoice;
use moot::commands::apply::execute;
use moot::commands::context::{Connection, Workspace, observe};
use moot::plan::{Plan, PlanOptions};
use moot::printer::{Printer, Verbosity};
use moot_sandbox::SandboxConfig;

use crate::support::{self, Tree, text, tree, tree_diff};

// ---------------------------------------------------------------------
// The model: team.toml as values, rendered to text.

const ROLE_NAMES: [&str; 5] = ["product", "spec", "implementation", "qa", "ops"];
const DISPLAY_NAMES: [&str; 7] = [
    "Product", "Spec", "Builder", "QA", "Tester", "Ops", "Review",
];
const UNMANAGED: [&str; 7] = [
    ".devcontainer/",
    ".claude/skills",
    ".claude/hooks/git-guard.sh",
    "CLAUDE.md",
    "moot.toml",
    ".claude/settings.json",
    ".gitignore",
];

#[derive(Debug, Clone, PartialEq)]
struct Team {
    /// (role name, display name), unique both ways.
    roles: Vec<(String, String)>,
    claude_md: bool,
    hooks: bool,
    devcontainer: bool,
    unmanaged: Vec<String>,
}

impl Team {
    fn initial() -> Team {
        Team {
            roles: vec![
                ("product".into(), "Product".into()),
                ("qa".into(), "QA".into()),
            ],
            claude_md: true,
            hooks: true,
            devcontainer: true,
            unmanaged: Vec::new(),
        }
    }

    fn render(&self) -> String {
        let mut s = String::from("[team]\nname = \"fuzz\"\n");
        for (name, display) in &self.roles {
            s.push_str(&format!(
                "\n[[roles]]\nname = \"{name}\"\ndisplay_name = \"{display}\"\n"
            ));
        }
        let list: Vec<String> = self.unmanaged.iter().map(|u| format!("{u:?}")).collect();
        s.push_str(&format!(
            "\n[install]\nclaude_md = {}\nhooks = {}\ndevcontainer = {}\nunmanaged = [{}]\n",
            self.claude_md,
            self.hooks,
            self.devcontainer,
            list.join(", ")
        ));
        s
    }

    fn display_taken(&self, d: &str) -> bool {
        self.roles.iter().any(|(_, x)| x.eq_ignore_ascii_case(d))
    }
}

/// splitmix64: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One random change to the world, before moot runs again.
#[derive(Debug, Clone)]
enum Step {
    AddRole(String, String),
    RemoveRole(String),
    /// A role's display name changes; with `Some`, the same edit adds a
    /// role that takes the old name (the two-roles-one-agent sequence).
    Rename(String, String, Option<String>),
    ToggleClaudeMd,
    ToggleHooks,
    ToggleDevcontainer,
    ToggleUnmanaged(String),
    /// The user appends a marker line to a file.
    UserAppend(PathBuf, String),
    /// The user adds a key to settings.json.
    UserSettings(String),
    UserDelete(PathBuf),
}

/// Files the user may touch: everything in the workspace but git's, moot's
/// own state, team.toml and moot.lock.
fn user_files(root: &Path) -> Vec<PathBuf> {
    tree(root)
        .into_iter()
        .filter(|(p, (d, _))| {
            d != "dir"
                && !p.starts_with(".git")
                && !p.starts_with(".moot")
                && p != Path::new("team.toml")
                && p != Path::new("moot.lock")
        })
        .map(|(p, _)| p)
        .collect()
}

fn random_step(rng: &mut Rng, team: &Team, root: &Path, n: usize) -> Step {
    let free_name = ROLE_NAMES
        .iter()
        .find(|r| !team.roles.iter().any(|(n, _)| n == *r));
    let free_display: Vec<&str> = DISPLAY_NAMES
        .iter()
        .copied()
        .filter(|d| !team.display_taken(d))
        .collect();
    let files = user_files(root);
    loop {
        let step = match rng.below(16) {
            0 | 1 if free_name.is_some() && !free_display.is_empty() => Step::AddRole(
                free_name.unwrap().to_string(),
                rng.pick(&free_display).to_string(),
            ),
            2 if team.roles.len() > 1 => Step::RemoveRole(rng.pick(&team.roles).0.clone()),
            3 | 4 if !free_display.is_empty() => {
                let role = rng.pick(&team.roles).0.clone();
                let to = rng.pick(&free_display).to_string();
                let add = free_name
                    .filter(|_| rng.below(2) == 0)
                    .map(|n| n.to_string());
                Step::Rename(role, to, add)
            }
            5 => Step::ToggleClaudeMd,
            6 => Step::ToggleHooks,
            7 => Step::ToggleDevcontainer,
            8 | 9 => Step::ToggleUnmanaged(rng.pick(&UNMANAGED).to_string()),
            // Listed paths come back more often: unmanaged-and-back.
            10 | 11 if !team.unmanaged.is_empty() => {
                Step::ToggleUnmanaged(rng.pick(&team.unmanaged).clone())
            }
            12 | 13 if !files.is_empty() => {
                let p = rng.pick(&files).clone();
                if p == Path::new(".claude/settings.json") {
                    Step::UserSettings(format!("user_{n}"))
                } else {
                    Step::UserAppend(p, format!("user edit {n}"))
                }
            }
            14 if !files.is_empty() => {
                let p = rng.pick(&files).clone();
                // Without moot's .gitignore the key file may not be
                // written (a block the user caused and must fix by hand).
                if p == Path::new(".gitignore") && unmanaged(team, ".gitignore") {
                    continue;
                }
                Step::UserDelete(p)
            }
            15 => Step::UserSettings(format!("user_{n}")),
            _ => continue,
        };
        return step;
    }
}

/// What the user wrote that must survive: (path, text it must contain).
type Markers = Vec<(PathBuf, String)>;

/// Whether a step is the user's (not a team.toml edit).
fn is_user_step(step: &Step) -> bool {
    matches!(
        step,
        Step::UserAppend(..) | Step::UserSettings(_) | Step::UserDelete(_)
    )
}

/// Applies a step to the model and the workspace.
fn perform(step: &Step, team: &mut Team, root: &Path, markers: &mut Markers) {
    match step {
        Step::AddRole(n, d) => team.roles.push((n.clone(), d.clone())),
        Step::RemoveRole(n) => team.roles.retain(|(r, _)| r != n),
        Step::Rename(role, to, add) => {
            let i = team.roles.iter().position(|(r, _)| r == role).unwrap();
            let old = std::mem::replace(&mut team.roles[i].1, to.clone());
            if let Some(n) = add {
                team.roles.push((n.clone(), old));
            }
        }
        Step::ToggleClaudeMd => team.claude_md = !team.claude_md,
        Step::ToggleHooks => team.hooks = !team.hooks,
        Step::ToggleDevcontainer => team.devcontainer = !team.devcontainer,
        Step::ToggleUnmanaged(p) => {
            if let Some(i) = team.unmanaged.iter().position(|u| u == p) {
                team.unmanaged.remove(i);
            } else {
                team.unmanaged.push(p.clone());
            }
        }
        Step::UserAppend(p, line) => {
            let path = root.join(p);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.extend_from_slice(format!("\n# {line}\n").as_bytes());
            std::fs::write(&path, bytes).unwrap();
            markers.push((p.clone(), line.clone()));
        }
        Step::UserSettings(key) => {
            let p = PathBuf::from(".claude/settings.json");
            let path = root.join(&p);
            let mut v: serde_json::Value = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_else(|| serde_json::json!({}));
            v[key] = serde_json::json!(key.len());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
            markers.push((p, format!("\"{key}\"")));
        }
        Step::UserDelete(p) => {
            std::fs::remove_file(root.join(p)).unwrap();
            markers.retain(|(m, _)| m != p);
        }
    }
    if !is_user_step(step) {
        std::fs::write(root.join("team.toml"), team.render()).unwrap();
    }
}

fn lost_markers(root: &Path, markers: &Markers) -> Vec<String> {
    markers
        .iter()
        .filter(|(p, m)| {
            std::fs::read(root.join(p))
                .map(|b| !String::from_utf8_lossy(&b).contains(m.as_str()))
                .unwrap_or(true)
        })
        .map(|(p, m)| format!("{} lost {m:?}", p.display()))
        .collect()
}

// ---------------------------------------------------------------------
// moot in process (offline): the same calls the commands make, without
// printing, so hundreds of sequences run in seconds.

fn printer() -> Printer {
    Printer::new(ColorChoice::Never, Verbosity::Quiet)
}

fn offline() -> PlanOptions {
    PlanOptions {
        offline: true,
        ..PlanOptions::default()
    }
}

fn plan_offline(root: &Path) -> Result<Plan, String> {
    let p = printer();
    let ws = Workspace::open(Some(root)).map_err(|e| e.to_string())?;
    let s = observe(ws, offline(), Connection::later(None), None, &p).map_err(|e| e.to_string())?;
    moot::plan::build(&s.desired, &s.observed, &s.options).map_err(|e| e.to_string())
}

/// `moot apply --offline --yes`: Ok(plan applied), Err(why not).
fn apply_offline(root: &Path) -> Result<Plan, String> {
    let p = printer();
    let ws = Workspace::open(Some(root)).map_err(|e| e.to_string())?;
    let lock = WorkspaceLock::acquire(&ws.root).map_err(|e| e.to_string())?;
    let s = observe(ws, offline(), Connection::later(None), Some(&lock), &p)
        .map_err(|e| e.to_string())?;
    let plan = moot::plan::build(&s.desired, &s.observed, &s.options).map_err(|e| e.to_string())?;
    if !plan.blocked.is_empty() {
        return Err(format!("blocked: {:?}", plan.blocked));
    }
    if !plan.actions.is_empty() {
        execute(&s, &plan, 1, &p).map_err(|e| e.to_string())?;
    }
    Ok(plan)
}

/// Whether team.toml lists `path` (or a directory above it) as unmanaged.
fn unmanaged(team: &Team, path: &str) -> bool {
    team.unmanaged.iter().any(|u| {
        let u = u.trim_end_matches('/');
        path.strip_prefix(u)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The invariants after one step, offline. `Err` names the violation.
fn settle_offline(root: &Path, team: &Team, markers: &Markers) -> Result<(), String> {
    let first = apply_offline(root)?;
    let touched: Vec<String> = first
        .actions
        .iter()
        .map(|a| a.target.to_string())
        .chain(first.drift.iter().map(|d| d.target.to_string()))
        .filter(|t| unmanaged(team, t))
        .collect();
    if !touched.is_empty() {
        return Err(format!("unmanaged paths acted on or drifted: {touched:?}"));
    }
    let settled = tree(root);
    let again = apply_offline(root)?;
    if !again.actions.is_empty() {
        return Err(format!("a second apply had actions: {:?}", kinds(&again)));
    }
    let plan = plan_offline(root)?;
    if !plan.actions.is_empty() {
        return Err(format!("plan after apply has actions: {:?}", kinds(&plan)));
    }
    same_tree(&settled, root, "a second apply or a plan")?;
    let lost = lost_markers(root, markers);
    if !lost.is_empty() {
        return Err(format!("user text lost: {lost:?}"));
    }
    // Drift is the user's doing: a file nobody edited is never drift.
    for d in &plan.drift {
        let path = PathBuf::from(d.target.to_string());
        if !markers.iter().any(|(p, _)| *p == path) {
            return Err(format!("drift on a file the user never edited: {d:?}"));
        }
    }
    Ok(())
}

fn kinds(plan: &Plan) -> Vec<String> {
    plan.actions
        .iter()
        .map(|a| format!("{} {} ({})", a.kind, a.target, a.reason))
        .collect()
}

fn same_tree(before: &Tree, root: &Path, what: &str) -> Result<(), String> {
    let now = tree(root);
    if &now == before {
        Ok(())
    } else {
        Err(format!(
            "{what} changed files: {:?}",
            tree_diff(before, &now)
        ))
    }
}

/// A scratch directory, in memory where the system has one: apply syncs
/// every file it writes, and thousands of applies on a disk spend their
/// time waiting for it.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::tempdir_in(shm)
    {
        return d;
    }
    tempfile::tempdir().unwrap()
}

/// A workspace of the model's initial team, applied once.
fn start_offline() -> (tempfile::TempDir, Team) {
    let dir = scratch();
    let team = Team::initial();
    std::fs::write(dir.path().join("team.toml"), team.render()).unwrap();
    settle_offline(dir.path(), &team, &Vec::new()).expect("the initial apply settles");
    (dir, team)
}

fn fuzz_settings() -> (u64, usize, usize) {
    let var = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let cases = var("MOOT_FUZZ_CASES").unwrap_or(0) as usize;
    let seed = var("MOOT_FUZZ_SEED").unwrap_or(0x6d6f_6f74);
    let steps = var("MOOT_FUZZ_STEPS").unwrap_or(6) as usize;
    (seed, cases, steps)
}

/// Runs one sequence; on a violation, panics with the seed and the steps
/// that led to it (a reproducer).
fn run_offline_sequence(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let (dir, mut team) = start_offline();
    let root = dir.path();
    let mut markers = Markers::new();
    let mut done: Vec<Step> = Vec::new();
    for n in 0..steps {
        let step = random_step(&mut rng, &team, root, n);
        let before_team = team.clone();
        perform(&step, &mut team, root, &mut markers);
        done.push(step.clone());
        let fail = |why: String| -> ! {
            panic!("seed {seed:#x}: after steps {done:#?}\n{why}");
        };
        if let Err(why) = settle_offline(root, &team, &markers) {
            if is_user_step(&step) || !why.starts_with("blocked") {
                fail(why);
            }
            // A refused team.toml edit changes nothing; taking it back
            // settles again.
            team = before_team;
            std::fs::write(root.join("team.toml"), team.render()).unwrap();
            if let Err(why) = settle_offline(root, &team, &markers) {
                fail(format!("after taking the edit back: {why}"));
            }
        }
    }
}

#[test]
fn random_sequences_settle_offline() {
    let (seed, cases, steps) = fuzz_settings();
    let cases = if cases == 0 { 200 } else { cases };
    for i in 0..cases as u64 {
        run_offline_sequence(seed.wrapping_add(i), steps);
    }
    // The binary agrees with the in-process runs: check and plan on the
    // last kind of workspace the driver makes.
    let (dir, _) = start_offline();
    let home = tempfile::tempdir().unwrap();
    let before = tree(dir.path());
    let check = support::moot(dir.path(), home.path(), None)
        .arg("check")
        .output()
        .unwrap();
    let plan = support::moot(dir.path(), home.path(), None)
        .args(["plan", "--offline", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    same_tree(&before, dir.path(), "check and plan").unwrap();
}

/// Runs fixed steps through the driver, offline; the first violation.
fn run_steps(steps: &[Step]) -> Result<(), String> {
    let (dir, mut team) = start_offline();
    let mut markers = Markers::new();
    for (i, step) in steps.iter().enumerate() {
        perform(step, &mut team, dir.path(), &mut markers);
        settle_offline(dir.path(), &team, &markers)
            .map_err(|e| format!("step {i} {step:?}: {e}"))?;
    }
    Ok(())
}

/// A moot-written file listed under unmanaged, while team.toml changes what
/// moot would write, then managed again: updated, not drift for ever.
#[test]
fn unmanaged_and_back_converges() {
    run_steps(&[
        Step::ToggleUnmanaged("moot.toml".into()),
        Step::AddRole("ops".into(), "Ops".into()),
        Step::ToggleUnmanaged("moot.toml".into()),
    ])
    .unwrap();
}

/// A directory under unmanaged covers what is in it: an edit there is never
/// drift, and turning the part off removes nothing in it.
#[test]
fn an_unmanaged_directory_covers_its_files() {
    run_steps(&[
        Step::ToggleUnmanaged(".devcontainer/".into()),
        Step::UserAppend(".devcontainer/devcontainer.json".into(), "mine".into()),
        Step::ToggleDevcontainer,
    ])
    .unwrap();
    run_steps(&[
        Step::ToggleUnmanaged(".claude/skills".into()),
        Step::UserDelete(".claude/skills/handoff/SKILL.md".into()),
    ])
    .unwrap();
}

// ---------------------------------------------------------------------
// Online: the binary against the in-process sandbox.

support::world_over_test_env!(Online);

impl Online {
    fn new(team: &Team) -> Online {
        let names: Vec<&str> = team.roles.iter().map(|(_, d)| d.as_str()).collect();
        let env = support::TestEnv::bare(SandboxConfig::with_agents(names)).in_dir(scratch());
        env.write_team(&team.render());
        Online { env }
    }

    /// The platform gets an agent for every display name team.toml asks
    /// for and no agent has (the user creates agents on mootup.io).
    fn provide_agents(&self, team: &Team) {
        for (_, d) in &team.roles {
            if self.sandbox().agent(d).is_none() {
                self.sandbox().add_agent(d);
            }
        }
    }

    fn key_file(&self, rel: &str) -> serde_json::Map<String, serde_json::Value> {
        std::fs::read(self.root().join(rel))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["actors"].as_object().cloned())
            .unwrap_or_default()
    }

    /// Every agent moot.lock binds (current or retired) whose live key is
    /// held in neither key file: a lost key.
    fn lost_keys(&self) -> Vec<String> {
        let Some(lock) = moot::observed::lockfile::Lock::load(self.root()).unwrap() else {
            return Vec::new();
        };
        let held: Vec<String> = [".moot/actors.json", ".moot/retired.json"]
            .iter()
            .flat_map(|f| self.key_file(f).into_values())
            .filter_map(|e| e["api_key"].as_str().map(str::to_string))
            .collect();
        let ids = lock
            .roles
            .values()
            .map(|r| r.actor_id.clone())
            .chain(lock.retired.values().map(|r| r.actor_id.clone()));
        ids.filter(|id| {
            self.sandbox()
                .live_key(id)
                .is_some_and(|k| !held.contains(&k))
        })
        .collect()
    }

    /// The invariants after one step, online.
    fn settle(&self, team: &Team, markers: &Markers) -> Result<(), String> {
        let before = tree(self.root());
        let rotations = self.sandbox().rotation_count();
        let out = self.moot(&["apply", "--yes"]);
        if !out.status.success() {
            same_tree(&before, self.root(), "a refused apply")?;
            if self.sandbox().rotation_count() != rotations {
                return Err("a refused apply rotated keys".into());
            }
            return Err(format!("blocked: {}", text(&out)));
        }
        let settled = tree(self.root());
        let rotations = self.sandbox().rotation_count();
        let again = self.moot(&["apply", "--yes", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&again.stdout)
            .map_err(|e| format!("second apply: {e}: {}", text(&again)))?;
        if v["actions"].as_array().is_none_or(|a| !a.is_empty()) {
            return Err(format!("a second apply had actions: {:#}", v["actions"]));
        }
        if self.sandbox().rotation_count() != rotations {
            return Err("a second apply rotated keys".into());
        }
        for d in v["drift"].as_array().into_iter().flatten() {
            let t = d["target"].as_str().unwrap_or_default();
            let user = markers.iter().any(|(p, _)| p == Path::new(t));
            if !user || unmanaged(team, t) {
                return Err(format!("drift nobody caused: {d}"));
            }
        }
        let check = self.moot(&["check"]).status.code();
        let plan = self.moot(&["plan", "--offline", "--detailed-exitcode"]);
        if check != plan.status.code() {
            return Err(format!(
                "check {check:?} and plan {:?} disagree",
                plan.status.code()
            ));
        }
        same_tree(&settled, self.root(), "a second apply, plan or check")?;
        let lost = lost_markers(self.root(), markers);
        if !lost.is_empty() {
            return Err(format!("user text lost: {lost:?}"));
        }
        let keys = self.lost_keys();
        if !keys.is_empty() {
            return Err(format!("live keys held nowhere: {keys:?}"));
        }
        Ok(())
    }
}

fn run_online_sequence(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let mut team = Team::initial();
    let env = Online::new(&team);
    let mut markers = Markers::new();
    env.settle(&team, &markers)
        .expect("the initial apply settles");
    let mut done: Vec<Step> = Vec::new();
    for n in 0..steps {
        let step = random_step(&mut rng, &team, env.root(), n);
        let before_team = team.clone();
        perform(&step, &mut team, env.root(), &mut markers);
        env.provide_agents(&team);
        done.push(step.clone());
        let fail = |why: String| -> ! {
            panic!("online seed {seed:#x}: after steps {done:#?}\n{why}");
        };
        if let Err(why) = env.settle(&team, &markers) {
            if is_user_step(&step) || !why.starts_with("blocked") {
                fail(why);
            }
            team = before_team;
            std::fs::write(env.root().join("team.toml"), team.render()).unwrap();
            if let Err(why) = env.settle(&team, &markers) {
                fail(format!("after taking the edit back: {why}"));
            }
        }
    }
}

#[test]
fn random_sequences_settle_online() {
    let (seed, cases, steps) = fuzz_settings();
    let cases = if cases == 0 { 6 } else { cases.div_ceil(10) };
    for i in 0..cases as u64 {
        run_online_sequence(seed.wrapping_add(0x1000 + i), steps);
    }
}

// ---------------------------------------------------------------------
// The minimal sequences, through the binary.

fn two_roles() -> Team {
    Team::initial()
}

fn applied(env: &Online) {
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
}

fn write_team(env: &Online, team: &Team) {
    std::fs::write(env.root().join("team.toml"), team.render()).unwrap();
}

#[test]
fn a_removed_role_is_retired_and_putting_it_back_restores_its_key() {
    let mut team = two_roles();
    let env = Online::new(&team);
    applied(&env);
    let qa_key = env.sandbox().live_key("QA").unwrap();
    team.roles.retain(|(r, _)| r != "qa");
    write_team(&env, &team);
    applied(&env);

    // The runtime sees current roles only; the key is kept aside, 0600.
    assert!(!env.key_file(".moot/actors.json").contains_key("qa"));
    let retired = env.key_file(".moot/retired.json");
    assert_eq!(retired["qa"]["api_key"], qa_key.as_str());
    let mode = |p: &str| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(env.root().join(p)).unwrap().mode() & 0o777
    };
    assert_eq!(mode(".moot/retired.json"), 0o600);
    assert_eq!(mode(".moot"), 0o700);
    let lock = std::fs::read_to_string(env.root().join("moot.lock")).unwrap();
    assert!(lock.contains("[retired.qa]"), "{lock}");
    assert!(!lock.contains(&qa_key));
    // A note, not drift; and never the key.
    let check = env.moot(&["check"]);
    let plan = env.moot(&["plan", "--detailed-exitcode"]);
    assert!(!text(&plan).contains(&qa_key) && !text(&check).contains(&qa_key));
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!("retired_check", support::transcript(&check));
        insta::assert_snapshot!("retired_plan", support::transcript(&plan));
    });

    // Put back: the same agent and the same key, proven live, no rotation.
    let rotations = env.sandbox().rotation_count();
    write_team(&env, &two_roles());
    applied(&env);
    assert_eq!(env.sandbox().rotation_count(), rotations);
    assert_eq!(
        env.key_file(".moot/actors.json")["qa"]["api_key"],
        qa_key.as_str()
    );
    assert!(!env.root().join(".moot/retired.json").exists());
    assert_eq!(
        env.moot(&["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );
}

#[test]
fn a_renamed_role_and_a_new_role_with_its_old_name_never_share_an_agent() {
    let mut team = two_roles();
    let env = Online::new(&team);
    applied(&env);
    let qa_id = env.sandbox().agent("QA").unwrap().actor_id;
    team.roles[1].1 = "Tester".into();
    team.roles.push(("checker".into(), "QA".into()));
    write_team(&env, &team);
    let out = env.moot(&["apply", "--yes"]);
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "old_name_taken_by_a_new_role",
            support::blocked_transcript(&out)
        );
    });
    assert_eq!(env.sandbox().agent(&qa_id).unwrap().display_name, "QA");
    // With an agent of its own on the platform, it settles.
    env.sandbox().add_agent("QA");
    applied(&env);
    assert_eq!(env.sandbox().agent(&qa_id).unwrap().display_name, "Tester");
    let lock = moot::observed::lockfile::Lock::load(env.root())
        .unwrap()
        .unwrap();
    assert_eq!(lock.roles["qa"].actor_id, qa_id);
    assert_ne!(lock.roles["checker"].actor_id, qa_id);
    assert_eq!(
        env.moot(&["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );
}

#[test]
fn a_lock_binding_two_roles_to_one_agent_is_refused_by_name() {
    let team = two_roles();
    let env = Online::new(&team);
    applied(&env);
    let lock_path = env.root().join("moot.lock");
    let mut lock = moot::observed::lockfile::Lock::load(env.root())
        .unwrap()
        .unwrap();
    let product = lock.roles["product"].actor_id.clone();
    lock.roles["qa"].actor_id = product.clone();
    std::fs::write(&lock_path, lock.render()).unwrap();
    let rotations = env.sandbox().rotation_count();
    let mut said = String::new();
    for args in [&["apply", "--yes"][..], &["check"][..]] {
        let out = env.moot(args);
        said += &format!("# moot {}\n{}", args.join(" "), support::transcript(&out));
    }
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("two_roles_bound_to_one_agent", said));
    assert_eq!(env.sandbox().rotation_count(), rotations);
    assert_eq!(env.sandbox().agent("QA").unwrap().display_name, "QA");
}

#[test]
fn suggestions_go_once_the_path_is_unmanaged_or_no_longer_desired() {
    let mut team = two_roles();
    let env = Online::new(&team);
    applied(&env);
    let root = env.root();
    let hook = ".claude/hooks/git-guard.sh";
    for p in ["moot.toml", hook] {
        let mut bytes = std::fs::read(root.join(p)).unwrap();
        bytes.extend_from_slice(b"\n# mine\n");
        std::fs::write(root.join(p), bytes).unwrap();
    }
    applied(&env);
    let staged = |p: &str| root.join(".moot/suggested").join(p);
    assert!(staged("moot.toml").is_file());
    assert!(staged(hook).is_file());
    team.unmanaged.push("moot.toml".into());
    team.hooks = false;
    write_team(&env, &team);
    applied(&env);
    assert!(!staged("moot.toml").exists());
    assert!(!staged(hook).exists());
    assert!(
        std::fs::read_to_string(root.join(hook))
            .unwrap()
            .contains("# mine")
    );
    assert!(
        std::fs::read_to_string(root.join("moot.toml"))
            .unwrap()
            .contains("# mine")
    );
    assert_eq!(
        env.moot(&["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );
}

#[test]
fn an_offline_saved_plan_applies_in_a_fresh_clone() {
    let dir = scratch();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("team.toml"), two_roles().render()).unwrap();
    let plan_file = home.path().join("plan.json");
    let out = support::moot(dir.path(), home.path(), None)
        .args(["plan", "--offline", "--out"])
        .arg(&plan_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(!dir.path().join(".moot").exists());
    let out = support::moot(dir.path(), home.path(), None)
        .arg("apply")
        .arg(&plan_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.path().join("moot.toml").is_file());
}

#[test]
fn offline_drift_names_no_staged_copy() {
    let dir = scratch();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("team.toml"), two_roles().render()).unwrap();
    settle_offline(dir.path(), &two_roles(), &Vec::new()).unwrap();
    std::fs::write(dir.path().join("moot.toml"), "# mine\n").unwrap();
    let out = support::moot(dir.path(), home.path(), None)
        .arg("check")
        .output()
        .unwrap();
    support::snapshot_settings(&[(dir.path(), "[WS]"), (home.path(), "[HOME]")]).bind(|| {
        insta::assert_snapshot!("offline_drift", support::transcript(&out));
    });
    assert!(!dir.path().join(".moot/suggested").exists());
}
