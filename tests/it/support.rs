//! Helpers shared by the end-to-end suites: the test environment
//! ([`TestEnv`]: an API, a HOME and a workspace), running the binary with a
//! cleared environment, hashing a workspace, scanning outputs and artefacts
//! for leaked secrets, and showing a run for an insta snapshot with what
//! changes from run to run (paths, ports, pids, request ids) filtered.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// The binary with the environment cleared, as the end-to-end suites run
/// it: `-C ws`, a private HOME, NO_COLOR, and (when given) the credentials
/// (token, API URL).
pub fn moot(ws: &Path, home: &Path, creds: Option<(&str, &str)>) -> Command {
    Command::from_std(moot_std(ws, home, creds))
}

/// The same as a `std::process::Command`, for tests that spawn it and
/// keep it running (concurrent applies, kills).
pub fn moot_std(ws: &Path, home: &Path, creds: Option<(&str, &str)>) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("moot"));
    c.arg("-C")
        .arg(ws)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1");
    if let Some((token, url)) = creds {
        c.env("MOOT_TOKEN", token).env("MOOT_API_URL", url);
    }
    c
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One entry of a workspace snapshot: content digest (or "dir", or
/// "link:<target>") and mode bits.
pub type Tree = BTreeMap<PathBuf, (String, u32)>;

/// Every file, directory and symlink under `root` with its content hash and
/// mode. `.moot/lock` (the workspace lock, empty between applies) and the
/// `.moot` directory entry itself (created by the lock) are left out.
pub fn tree(root: &Path) -> Tree {
    snapshot(root, true)
}

/// Every entry under `root`, `.moot/lock` and `.moot` included: for
/// checkouts where those are the attacker's, not moot's.
pub fn full_tree(root: &Path) -> Tree {
    snapshot(root, false)
}

fn snapshot(root: &Path, skip_lock: bool) -> Tree {
    fn walk(root: &Path, dir: &Path, skip_lock: bool, out: &mut Tree) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if skip_lock && rel == Path::new(".moot/lock") {
                continue;
            }
            let m = std::fs::symlink_metadata(&p).unwrap();
            let mode = m.mode() & 0o7777;
            if m.file_type().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(rel, (format!("link:{}", target.display()), 0));
            } else if m.is_dir() {
                walk(root, &p, skip_lock, out);
                if !skip_lock || rel != Path::new(".moot") {
                    out.insert(rel, ("dir".into(), mode));
                }
            } else if m.is_file() {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(rel, (digest(&bytes), mode));
            } else {
                // A FIFO or device: never opened (it could block).
                out.insert(rel, (format!("special:{}", m.ino()), mode));
            }
        }
    }
    let mut out = Tree::new();
    walk(root, root, skip_lock, &mut out);
    out
}

/// Makes a FIFO at `path`.
pub fn mkfifo(path: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success(), "mkfifo {}", path.display());
}

pub fn digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// The paths on which two snapshots differ, for a readable failure.
pub fn tree_diff(a: &Tree, b: &Tree) -> Vec<String> {
    let mut keys: Vec<&PathBuf> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{} ({:?} -> {:?})", k.display(), a.get(k), b.get(k)))
        .collect()
}

/// Secrets that must never appear outside `.moot/actors.json`.
#[derive(Debug, Default, Clone)]
pub struct Secrets(pub Vec<String>);

impl Secrets {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Secrets {
        Secrets(
            items
                .into_iter()
                .map(Into::into)
                .filter(|s: &String| !s.is_empty())
                .collect(),
        )
    }

    pub fn push(&mut self, s: impl Into<String>) {
        let s = s.into();
        if !s.is_empty() && !self.0.contains(&s) {
            self.0.push(s);
        }
    }

    /// The first secret `haystack` contains, by position in the list
    /// (never the secret itself, so a failure message leaks nothing).
    pub fn found_in(&self, haystack: &[u8]) -> Option<usize> {
        self.0.iter().position(|s| {
            let needle = s.as_bytes();
            haystack.windows(needle.len()).any(|w| w == needle)
        })
    }

    /// Panics when an output of a run holds a secret.
    pub fn assert_output_clean(&self, what: &str, out: &Output) {
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            if let Some(i) = self.found_in(bytes) {
                panic!("{what}: secret #{i} leaked on {stream}");
            }
        }
    }

    /// Panics when any file under the workspace other than
    /// `.moot/actors.json` holds a secret (links are not followed).
    pub fn assert_workspace_clean(&self, what: &str, root: &Path) {
        if let Some((path, i)) = self.leak_in_workspace(root) {
            panic!("{what}: secret #{i} leaked into {}", path.display());
        }
    }

    pub fn leak_in_workspace(&self, root: &Path) -> Option<(PathBuf, usize)> {
        for rel in tree(root).keys() {
            if rel == Path::new(".moot/actors.json") {
                continue;
            }
            let p = root.join(rel);
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if !m.is_file() {
                continue;
            }
            let bytes = std::fs::read(&p).unwrap_or_default();
            if let Some(i) = self.found_in(&bytes) {
                return Some((rel.clone(), i));
            }
        }
        None
    }
}

/// `.moot/txn` or a `*.moot-tmp.*` file anywhere under `root`.
pub fn staging_litter(root: &Path) -> Vec<String> {
    let mut litter = Vec::new();
    for area in [".moot/txn", ".moot/txn.done"] {
        if root.join(area).exists() {
            litter.push(area.to_string());
        }
    }
    for rel in tree(root).keys() {
        let name = rel.file_name().unwrap_or_default().to_string_lossy();
        if name.contains(".moot-tmp.") {
            litter.push(rel.display().to_string());
        }
    }
    litter
}

/// Copies a directory tree, keeping modes and symlinks.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let src = e.path();
        let dst = to.join(e.file_name());
        let m = std::fs::symlink_metadata(&src).unwrap();
        if m.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if m.is_dir() {
            copy_tree(&src, &dst);
            std::fs::set_permissions(&dst, m.permissions()).unwrap();
        } else {
            std::fs::copy(&src, &dst).unwrap();
            std::fs::set_permissions(&dst, m.permissions()).unwrap();
        }
    }
}

/// Checks the output of `moot apply --offline` run without `--yes` and
/// with stdin not a terminal, the way tests repair an interrupted apply:
/// apply repairs under its lock, then stops at the confirmation (or has
/// nothing to do), so nothing but the repair changes.
pub fn assert_repair_only(label: &str, out: &Output) {
    let said = text(out);
    let stopped = out.status.success()
        || said.contains("refusing to apply without confirmation")
        || said.contains("the plan is blocked");
    assert!(stopped, "{label}: the repairing apply failed: {said}");
}

/// The loop-4 team most end-to-end tests start from.
pub const LOOP4: [&str; 4] = ["Product", "Spec", "Implementation", "QA"];

/// The API a [`TestEnv`]'s runs talk to.
pub enum Api {
    /// The in-process sandbox (today's platform, stateful).
    Sandbox(moot_sandbox::Sandbox),
    /// A wiremock server the test scripts route by route.
    Mock(crate::common::MockApi),
    /// A server the test owns itself (an async test's wiremock), by URL,
    /// with the fixtures' token.
    Url(String),
    /// None: runs get no token and no API URL.
    Offline,
}

/// One test's world: an API, a HOME and a workspace, each workspace and
/// HOME in its own tempdir, and the binary run against them with a cleared
/// environment. Built as `TestEnv::on(api)`, then `.in_dir(..)`, `.var(..)`
/// and `.initialised()` as the test needs.
pub struct TestEnv {
    pub api: Api,
    pub home: tempfile::TempDir,
    pub ws: tempfile::TempDir,
    /// Set in the environment of every run.
    vars: Vec<(String, String)>,
}

impl TestEnv {
    /// A sandbox serving the loop-4 agents, the workspace after `moot init`.
    pub fn loop4() -> TestEnv {
        TestEnv::sandboxed(moot_sandbox::SandboxConfig::with_agents(LOOP4))
    }

    /// A sandbox started from `cfg`, the workspace after `moot init`.
    pub fn sandboxed(cfg: moot_sandbox::SandboxConfig) -> TestEnv {
        TestEnv::bare(cfg).initialised()
    }

    /// A sandbox started from `cfg` and an empty workspace.
    pub fn bare(cfg: moot_sandbox::SandboxConfig) -> TestEnv {
        TestEnv::on(Api::Sandbox(moot_sandbox::Sandbox::start(cfg)))
    }

    /// A wiremock server answering `me` and `agents` (see
    /// [`crate::common::MockApi::account`]), the workspace after `moot init`.
    pub fn mocked(me: serde_json::Value, agents: serde_json::Value) -> TestEnv {
        TestEnv::on(Api::Mock(crate::common::MockApi::account(me, agents))).initialised()
    }

    /// `api` and an empty workspace.
    pub fn on(api: Api) -> TestEnv {
        TestEnv {
            api,
            home: tempfile::tempdir().unwrap(),
            ws: tempfile::tempdir().unwrap(),
            vars: Vec::new(),
        }
    }

    /// The workspace in `ws` instead of a fresh tempdir.
    pub fn in_dir(mut self, ws: tempfile::TempDir) -> TestEnv {
        self.ws = ws;
        self
    }

    /// Every run gets `key=value` in its environment.
    pub fn var(mut self, key: &str, value: &str) -> TestEnv {
        self.vars.push((key.to_string(), value.to_string()));
        self
    }

    /// After a successful `moot init`.
    pub fn initialised(self) -> TestEnv {
        let out = self.moot(&["init"]);
        assert!(out.status.success(), "{}", text(&out));
        self
    }

    /// The sandbox this env runs against; panics on any other API.
    pub fn sandbox(&self) -> &moot_sandbox::Sandbox {
        match &self.api {
            Api::Sandbox(s) => s,
            Api::Mock(_) | Api::Url(_) | Api::Offline => panic!("not a sandbox env"),
        }
    }

    /// The wiremock server this env runs against; panics on any other API.
    pub fn mock(&self) -> &crate::common::MockApi {
        match &self.api {
            Api::Mock(m) => m,
            Api::Sandbox(_) | Api::Url(_) | Api::Offline => panic!("not a wiremock env"),
        }
    }

    /// The workspace by its canonical path, as moot names it in messages.
    pub fn canonical_root(&self) -> PathBuf {
        std::fs::canonicalize(self.root()).unwrap()
    }

    pub fn root(&self) -> &Path {
        self.ws.path()
    }

    pub fn write_team(&self, src: &str) {
        std::fs::write(self.root().join("team.toml"), src).unwrap();
    }

    /// The binary with no token and no API URL at all.
    pub fn moot_offline(&self, args: &[&str]) -> Output {
        self.offline_cmd(args).output().unwrap()
    }

    /// `moot ARGS` with no token and no API URL, to add stdin or variables.
    pub fn offline_cmd(&self, args: &[&str]) -> Command {
        let mut c = moot(self.root(), self.home.path(), None);
        c.envs(self.vars.iter().map(|(k, v)| (k, v))).args(args);
        c
    }

    /// The token and API URL of every run (none offline).
    pub fn creds(&self) -> Option<(String, String)> {
        let fixture = |url: String| Some((crate::common::TOKEN.to_string(), url));
        match &self.api {
            Api::Sandbox(s) => Some((s.token().to_string(), s.url().to_string())),
            Api::Mock(m) => fixture(m.uri()),
            Api::Url(url) => fixture(url.clone()),
            Api::Offline => None,
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        Command::from_std(self.std_cmd(args))
    }

    /// The run as a `std::process::Command`, to spawn and keep running.
    pub fn std_cmd(&self, args: &[&str]) -> std::process::Command {
        let creds = self.creds();
        let creds = creds.as_ref().map(|(t, u)| (t.as_str(), u.as_str()));
        let mut c = moot_std(self.root(), self.home.path(), creds);
        c.envs(self.vars.iter().map(|(k, v)| (k, v))).args(args);
        c
    }

    /// `moot ARGS` with `vars` added to the environment of this run.
    pub fn run(&self, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut c = self.std_cmd(args);
        c.envs(vars.iter().copied());
        c.output().unwrap()
    }

    /// `moot ARGS`, which must succeed; its stdout and stderr.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.moot(args);
        assert!(out.status.success(), "moot {args:?}: {}", text(&out));
        text(&out)
    }

    pub fn moot(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Every key the workspace holds in `.moot/actors.json`, sorted.
    pub fn held_keys(&self) -> Vec<String> {
        let Ok(text) = std::fs::read_to_string(self.root().join(".moot/actors.json")) else {
            return Vec::new();
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut keys: Vec<String> = v["actors"]
            .as_object()
            .unwrap()
            .values()
            .map(|a| a["api_key"].as_str().unwrap().to_string())
            .collect();
        keys.sort();
        keys
    }

    /// The sandbox's live key of each loop-4 agent, sorted.
    pub fn live_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = LOOP4
            .iter()
            .filter_map(|n| self.sandbox().live_key(n))
            .collect();
        keys.sort();
        keys
    }
}

/// A module's own world around a [`TestEnv`]: the struct `$name { env }` and
/// its `Deref` to the env, so the module writes only what is its own.
macro_rules! world_over_test_env {
    ($name:ident) => {
        struct $name {
            env: $crate::support::TestEnv,
        }

        impl std::ops::Deref for $name {
            type Target = $crate::support::TestEnv;
            fn deref(&self) -> &$crate::support::TestEnv {
                &self.env
            }
        }
    };
}
pub(crate) use world_over_test_env;

/// A run as its snapshot shows it: the exit code, then stdout and stderr,
/// each under its own heading (so a line that moves between them shows).
pub fn transcript(out: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status
            .code()
            .map_or_else(|| "signal".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The exit code and stderr of a run: for a failed apply, whose stdout
/// is the plan it started from.
pub fn stderr_transcript(out: &Output) -> String {
    let whole = transcript(out);
    let (code, rest) = whole.split_once('\n').unwrap();
    let stderr = rest.split_once("--- stderr\n").unwrap().1;
    format!("{code}\n--- stderr\n{stderr}")
}

/// [`transcript`] without the diffs a plan shows under its file actions
/// (the lines indented by eight spaces): for a snapshot about the actions,
/// not about the bundle's text.
pub fn transcript_without_diffs(out: &Output) -> String {
    let mut shown: String = transcript(out)
        .lines()
        .filter(|l| !l.starts_with("        "))
        .map(|l| format!("{l}\n"))
        .collect();
    if !out.stderr.ends_with(b"\n") && !out.stderr.is_empty() {
        shown.pop();
    }
    shown
}

/// [`stderr_transcript`] and, before it, the "Blocked" section of the plan
/// on stdout: for an apply refused by what its plan blocks.
pub fn blocked_transcript(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let blocked: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Blocked"))
        .take_while(|l| !l.is_empty())
        .collect();
    format!(
        "--- stdout (blocked)\n{}\n{}",
        blocked.join("\n"),
        stderr_transcript(out)
    )
}

/// insta settings that keep a snapshot of a run the same from one run to
/// the next: each path in `paths` (its canonical form too) becomes its
/// label, the checkout `[REPO]`, a local server's port (a fresh one per
/// test) `PORT`, a
/// process id `[PID]` and a server's request id `req_[ID]`.
pub fn snapshot_settings(paths: &[(&Path, &str)]) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(true);
    s.set_omit_expression(true);
    for (path, label) in paths {
        let mut forms = vec![path.to_path_buf()];
        if let Ok(c) = std::fs::canonicalize(path)
            && c != *path
        {
            forms.push(c);
        }
        for p in forms {
            s.add_filter(&regex_escape(&p.display().to_string()), *label);
        }
    }
    // The checkout (fixtures are read from it).
    s.add_filter(&regex_escape(env!("CARGO_MANIFEST_DIR")), "[REPO]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT");
    // The process holding a lock.
    s.add_filter(r"\(pid \d+\)", "(pid [PID])");
    // Request ids: a server's own, fresh per request.
    s.add_filter(r"\breq_[0-9a-f]{8,}\b", "req_[ID]");
    s
}

/// `text` matched literally by insta's (regex) filters.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl TestEnv {
    /// `text` with this env's workspace and HOME paths replaced by `[WS]`
    /// and `[HOME]`, for a snapshot that gathers the runs of several envs.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (path, label) in [(self.root(), "[WS]"), (self.home.path(), "[HOME]")] {
            if let Ok(c) = std::fs::canonicalize(path) {
                text = text.replace(&c.display().to_string(), label);
            }
            text = text.replace(&path.display().to_string(), label);
        }
        text
    }

    /// [`snapshot_settings`] for this env's workspace (`[WS]`) and HOME
    /// (`[HOME]`).
    pub fn snapshot_settings(&self) -> insta::Settings {
        snapshot_settings(&[(self.root(), "[WS]"), (self.home.path(), "[HOME]")])
    }
}
