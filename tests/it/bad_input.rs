//! A table of bad inputs, each run through the real binary: broken
//! team.toml, moot.lock, `.moot/actors.json`, `.claude/settings.json` and
//! saved plans; a server (wiremock) that answers badly; and CLI misuse.
//! Every case must exit 1 with `error:` and a `hint:` line, never panic,
//! change no file in the workspace, and leak no token or key.

use crate::common;
use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use support::{Secrets, moot, text, tree, tree_diff};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

/// A key planted in a broken key file: it must never be echoed.
const PLANTED: &str = "convo_key_PLANTED_do_not_echo_7f3a9c";
/// Keys the mock server hands out.
const MOCK_KEY: &str = "convo_key_MOCKISSUED_4d2b8e61";

/// What the workspace starts as before the case breaks something.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    /// `moot init` only (team.toml).
    Fresh,
    /// A copy of a workspace `moot apply` converged against the sandbox.
    Applied,
}

/// Which directory `-C` names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Ws,
    Missing,
    AFile,
}

struct Ctx {
    ws: PathBuf,
    home: PathBuf,
    /// Scratch space outside the workspace.
    other: PathBuf,
    creds: Option<(String, String)>,
}

impl Ctx {
    fn planfile(&self) -> PathBuf {
        self.home.join("p.plan")
    }

    fn run_in(&self, ws: &Path, args: &[&str]) -> Output {
        let creds = self.creds.as_ref().map(|(t, u)| (t.as_str(), u.as_str()));
        moot(ws, &self.home, creds).args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) {
        let out = self.run_in(&self.ws, args);
        assert!(out.status.success(), "setup {args:?}: {}", text(&out));
    }

    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let p = self.ws.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.ws.join(rel)).unwrap()
    }

    /// Replaces the first line of moot.lock starting with `prefix`.
    fn lock_line(&self, prefix: &str, new: &str) {
        let lock = self.read("moot.lock");
        let mut done = false;
        let out: Vec<String> = lock
            .lines()
            .map(|l| {
                if !done && l.starts_with(prefix) {
                    done = true;
                    new.to_string()
                } else {
                    l.to_string()
                }
            })
            .collect();
        assert!(done, "no line starting with {prefix} in moot.lock");
        self.write("moot.lock", out.join("\n") + "\n");
    }

    fn edit_plan(&self, f: impl FnOnce(&mut Value)) {
        let p = self.planfile();
        let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(&p, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    }
}

type AfterCheck = fn(&Ctx) -> Result<(), String>;
type RequestCheck = fn(&[Request]) -> Result<(), String>;

struct Case {
    name: &'static str,
    base: Base,
    dir: Dir,
    /// Run with MOOT_TOKEN/MOOT_API_URL set.
    creds: bool,
    setup: fn(&Ctx),
    /// Each must exit 1. `{plan}` is the saved plan's path.
    fail: &'static [&'static [&'static str]],
    /// Each must exit 0 (and also change nothing).
    succeed: &'static [&'static [&'static str]],
    /// Text stderr must hold (for every failing command).
    says: &'static str,
    /// Extra check after the commands ran.
    after: Option<AfterCheck>,
}

const PLAN: &[&str] = &["plan"];
const APPLY: &[&str] = &["apply", "-y"];
const OFFLINE: &[&str] = &["plan", "--offline"];
const CHECK: &[&str] = &["check"];
const APPLY_PLAN: &[&str] = &["apply", "{plan}"];

const fn case(name: &'static str, base: Base, setup: fn(&Ctx)) -> Case {
    Case {
        name,
        base,
        dir: Dir::Ws,
        creds: true,
        setup,
        fail: &[PLAN, APPLY],
        succeed: &[],
        says: "",
        after: None,
    }
}

impl Case {
    const fn fail(mut self, cmds: &'static [&'static [&'static str]]) -> Case {
        self.fail = cmds;
        self
    }
    const fn succeed(mut self, cmds: &'static [&'static [&'static str]]) -> Case {
        self.succeed = cmds;
        self
    }
    const fn says(mut self, s: &'static str) -> Case {
        self.says = s;
        self
    }
    const fn dir(mut self, d: Dir) -> Case {
        self.dir = d;
        self
    }
    const fn no_creds(mut self) -> Case {
        self.creds = false;
        self
    }
    const fn after(mut self, f: fn(&Ctx) -> Result<(), String>) -> Case {
        self.after = Some(f);
        self
    }
}

fn nothing(_: &Ctx) {}

fn local_cases() -> Vec<Case> {
    use Base::*;
    let lock_cmds: &[&[&str]] = &[PLAN, OFFLINE, APPLY, CHECK];
    vec![
        // team.toml (tests/corpus/team holds the big corpus; these are the
        // file-level oddities it cannot express).
        case("team.toml not UTF-8", Fresh, |c| {
            c.write("team.toml", b"[team]\nname = \"\xff\xfe\"\n")
        })
        .fail(&[PLAN, OFFLINE, APPLY, CHECK])
        .says("UTF-8"),
        case("team.toml empty", Fresh, |c| c.write("team.toml", ""))
            .fail(&[PLAN, OFFLINE, APPLY, CHECK]),
        case("team.toml binary garbage", Fresh, |c| {
            c.write("team.toml", [0u8, 1, 2, 0x7f, b'[', 0, b']'])
        })
        .fail(&[OFFLINE, APPLY]),
        case("team.toml deeply nested arrays", Fresh, |c| {
            let depth = 50_000;
            c.write(
                "team.toml",
                format!("x = {}{}\n", "[".repeat(depth), "]".repeat(depth)),
            )
        })
        .fail(&[OFFLINE]),
        case("team.toml is a directory", Fresh, |c| {
            std::fs::remove_file(c.ws.join("team.toml")).unwrap();
            std::fs::create_dir(c.ws.join("team.toml")).unwrap();
        })
        .fail(&[OFFLINE, APPLY]),
        // moot.lock
        case("moot.lock garbage", Applied, |c| {
            c.write("moot.lock", "\u{1}{{ not toml at all ]]\n")
        })
        .fail(lock_cmds)
        .says("moot.lock"),
        case("moot.lock wrong version", Applied, |c| {
            c.lock_line("version", "version = 2")
        })
        .fail(lock_cmds)
        .says("version 2"),
        case("moot.lock bad sha256", Applied, |c| {
            c.lock_line("sha256", "sha256 = \"not-a-digest\"")
        })
        .fail(lock_cmds)
        .says("sha256"),
        case("moot.lock path with ..", Applied, |c| {
            c.lock_line("path", "path = \"../outside.txt\"")
        })
        .fail(lock_cmds)
        .says("invalid path"),
        case("moot.lock path under .moot/", Applied, |c| {
            c.lock_line("path", "path = \".moot/actors.json\"")
        })
        .fail(lock_cmds)
        .says("invalid path"),
        case("moot.lock absolute path", Applied, |c| {
            c.lock_line("path", "path = \"/etc/passwd\"")
        })
        .fail(lock_cmds)
        .says("invalid path"),
        case("moot.lock unknown key", Applied, |c| {
            c.lock_line("version", "version = 1\nsurprise = true")
        })
        .fail(lock_cmds)
        .says("surprise"),
        case("moot.lock truncated", Applied, |c| {
            let l = c.read("moot.lock");
            let cut = l.len() / 2;
            c.write("moot.lock", &l.as_bytes()[..cut]);
        })
        .fail(lock_cmds),
        case("moot.lock bad mode", Applied, |c| {
            c.lock_line("mode", "mode = \"9999\"")
        })
        .fail(lock_cmds)
        .says("mode"),
        case("moot.lock not UTF-8", Applied, |c| {
            c.write("moot.lock", b"version = 1\n# \xff\xff\n")
        })
        .fail(lock_cmds),
        // .moot/actors.json (read only online)
        case("actors.json not JSON", Applied, |c| {
            c.write(".moot/actors.json", format!("api_key = {PLANTED}\n"))
        })
        .says("actors.json"),
        case("actors.json truncated", Applied, |c| {
            let s = c.read(".moot/actors.json");
            let cut = s.find("\"api_key\"").unwrap() + 30;
            c.write(".moot/actors.json", &s.as_bytes()[..cut]);
        })
        .says("truncated"),
        case("actors.json wrong types", Applied, |c| {
            c.write(
                ".moot/actors.json",
                json!({"actors": {"product": {"actor_id": 5, "api_key": PLANTED}}}).to_string(),
            )
        })
        .says("actors.json"),
        case("actors.json actors is a list", Applied, |c| {
            c.write(
                ".moot/actors.json",
                json!({"actors": [PLANTED, {"api_key": PLANTED}]}).to_string(),
            )
        }),
        case("actors.json api_key is null", Applied, |c| {
            c.write(
                ".moot/actors.json",
                json!({"actors": {"qa": {"actor_id": "x", "api_key": null}}}).to_string(),
            )
        }),
        case("actors.json is a symlink", Applied, |c| {
            let target = c.other.join("keys.json");
            let held = json!({"actors": {"product": {"actor_id": "agt_x", "api_key": PLANTED}}});
            std::fs::write(&target, held.to_string()).unwrap();
            std::fs::remove_file(c.ws.join(".moot/actors.json")).unwrap();
            std::os::unix::fs::symlink(&target, c.ws.join(".moot/actors.json")).unwrap();
        })
        .says("not a regular file"),
        case("actors.json is a directory", Applied, |c| {
            std::fs::remove_file(c.ws.join(".moot/actors.json")).unwrap();
            std::fs::create_dir(c.ws.join(".moot/actors.json")).unwrap();
        }),
        // .claude/settings.json: a blocked plan (plan shows it, apply refuses)
        case("settings.json invalid JSON", Fresh, |c| {
            c.write(".claude/settings.json", "{\"hooks\": [}")
        })
        .fail(&[APPLY])
        .succeed(&[PLAN, OFFLINE])
        .says("blocked"),
        case("settings.json top level is a list", Applied, |c| {
            c.write(".claude/settings.json", "[1, 2]")
        })
        .fail(&[APPLY])
        .succeed(&[PLAN])
        .says("blocked"),
        case("settings.json hooks event not an array", Applied, |c| {
            c.write(
                ".claude/settings.json",
                r#"{"model": "opus", "hooks": {"PreToolUse": 3}}"#,
            )
        })
        .fail(&[APPLY])
        .succeed(&[PLAN])
        .says("blocked"),
        // saved plan files
        case("saved plan not JSON", Fresh, |c| {
            std::fs::write(c.planfile(), "plan: yes\n").unwrap()
        })
        .fail(&[APPLY_PLAN])
        .says("not a moot plan file"),
        case("saved plan wrong format", Fresh, |c| {
            c.ok(&["plan", "--out", c.planfile().to_str().unwrap()]);
            c.edit_plan(|v| v["format"] = json!("terraform-plan"));
        })
        .fail(&[APPLY_PLAN])
        .says("not supported"),
        case("saved plan wrong version", Fresh, |c| {
            c.ok(&["plan", "--out", c.planfile().to_str().unwrap()]);
            c.edit_plan(|v| v["format_version"] = json!(99));
        })
        .fail(&[APPLY_PLAN])
        .says("not supported"),
        case("saved plan truncated", Fresh, |c| {
            c.ok(&["plan", "--out", c.planfile().to_str().unwrap()]);
            let s = std::fs::read(c.planfile()).unwrap();
            std::fs::write(c.planfile(), &s[..s.len() / 3]).unwrap();
        })
        .fail(&[APPLY_PLAN])
        .says("not a moot plan file"),
        case("saved plan for another workspace", Fresh, |c| {
            let other = c.other.join("elsewhere");
            std::fs::create_dir(&other).unwrap();
            let out = c.run_in(&other, &["init"]);
            assert!(out.status.success(), "{}", text(&out));
            let p = c.planfile();
            let out = c.run_in(&other, &["plan", "--out", p.to_str().unwrap()]);
            assert!(out.status.success(), "{}", text(&out));
        })
        .fail(&[APPLY_PLAN])
        .says("was made for the workspace"),
        case("saved plan stale", Fresh, |c| {
            c.ok(&["plan", "--out", c.planfile().to_str().unwrap()]);
            c.write("CLAUDE.md", "mine\n");
        })
        .fail(&[APPLY_PLAN])
        .says("stale"),
        case("saved plan missing", Fresh, nothing).fail(&[APPLY_PLAN]),
        case("saved plan writes outside the workspace", Fresh, |c| {
            c.ok(&["plan", "--offline", "--out", c.planfile().to_str().unwrap()]);
            let escape = format!("../{}-escaped.txt", leaf(&c.other));
            c.edit_plan(|v| {
                let a = &mut v["plan"]["actions"][0];
                a["target"] = json!(escape);
                a["op"]["path"] = json!(escape);
            });
        })
        .fail(&[APPLY_PLAN])
        .after(|c| {
            let escaped =
                c.ws.parent()
                    .unwrap()
                    .join(format!("{}-escaped.txt", leaf(&c.other)));
            if escaped.exists() {
                let _ = std::fs::remove_file(&escaped);
                return Err(format!("wrote {}", escaped.display()));
            }
            Ok(())
        }),
        // Files where moot expects a regular file: never followed, never
        // blocked on (each command runs under a hang guard).
        case("moot.lock is a FIFO", Applied, |c| {
            std::fs::remove_file(c.ws.join("moot.lock")).unwrap();
            support::mkfifo(&c.ws.join("moot.lock"));
        })
        .fail(lock_cmds)
        .says("moot.lock is a FIFO"),
        case("moot.lock is a symlink", Applied, |c| {
            std::fs::rename(c.ws.join("moot.lock"), c.other.join("moot.lock")).unwrap();
            std::os::unix::fs::symlink(c.other.join("moot.lock"), c.ws.join("moot.lock")).unwrap();
        })
        .fail(lock_cmds)
        .says("is a symlink")
        .after(|c| outside_unchanged(c, "moot.lock")),
        case("moot.lock lists a path twice", Applied, |c| {
            let lock = c.read("moot.lock");
            let at = lock.find("[[files]]").unwrap();
            let end = lock[at + 1..]
                .find("[[files]]")
                .map_or(lock.len(), |e| at + 1 + e);
            c.write("moot.lock", format!("{lock}\n{}", &lock[at..end]));
        })
        .fail(lock_cmds)
        .says("is listed twice in [[files]]"),
        case("team.toml is a FIFO", Fresh, |c| {
            std::fs::remove_file(c.ws.join("team.toml")).unwrap();
            support::mkfifo(&c.ws.join("team.toml"));
        })
        .fail(&[PLAN, OFFLINE, APPLY, CHECK])
        .says("team.toml is a FIFO"),
        case("team.toml is a symlink", Fresh, |c| {
            std::fs::rename(c.ws.join("team.toml"), c.other.join("team.toml")).unwrap();
            std::os::unix::fs::symlink(c.other.join("team.toml"), c.ws.join("team.toml")).unwrap();
        })
        .fail(&[OFFLINE, APPLY, CHECK])
        .says("team.toml is a symlink"),
        case("saved plan is a FIFO", Fresh, |c| {
            support::mkfifo(&c.planfile())
        })
        .fail(&[APPLY_PLAN])
        .says("is a FIFO"),
        case("credentials file is a FIFO", Fresh, |c| {
            std::fs::create_dir_all(c.home.join(".moot")).unwrap();
            support::mkfifo(&c.home.join(".moot/credentials"));
        })
        .no_creds()
        .fail(&[PLAN, APPLY])
        .says("is a FIFO"),
        // .moot/ comes from the checkout too.
        case(
            "journal is a FIFO: plan and check report it",
            Applied,
            |c| {
                std::fs::create_dir_all(c.ws.join(".moot/txn")).unwrap();
                support::mkfifo(&c.ws.join(".moot/txn/journal.json"));
            },
        )
        .fail(&[PLAN, OFFLINE, CHECK])
        .says("run `moot apply`"),
        case("journal is a FIFO: apply refuses it", Applied, |c| {
            std::fs::create_dir_all(c.ws.join(".moot/txn")).unwrap();
            support::mkfifo(&c.ws.join(".moot/txn/journal.json"));
        })
        .fail(&[APPLY])
        .says("is a FIFO"),
        case("workspace lock is a FIFO", Applied, |c| {
            support::mkfifo(&c.ws.join(".moot/lock"))
        })
        .fail(&[APPLY])
        .says("is a FIFO"),
        case(
            "workspace lock is a symlink out of the workspace",
            Applied,
            |c| {
                std::fs::write(c.other.join("victim"), "precious\n").unwrap();
                std::os::unix::fs::symlink(c.other.join("victim"), c.ws.join(".moot/lock"))
                    .unwrap();
            },
        )
        .fail(&[APPLY])
        .succeed(&[CHECK, OFFLINE])
        .says("is a symlink")
        .after(|c| match std::fs::read_to_string(c.other.join("victim")) {
            Ok(t) if t == "precious\n" => Ok(()),
            other => Err(format!("the file outside changed: {other:?}")),
        }),
        case("workspace lock is a dangling symlink", Applied, |c| {
            std::os::unix::fs::symlink(c.other.join("created"), c.ws.join(".moot/lock")).unwrap();
        })
        .fail(&[APPLY])
        .succeed(&[CHECK, OFFLINE])
        .says("is a symlink")
        .after(|c| match c.other.join("created").exists() {
            false => Ok(()),
            true => Err("apply created a file outside the workspace".into()),
        }),
        case(
            "a planted journal: plan and check report it",
            Applied,
            |c| c.write(".moot/txn/journal.json", planted_journal()),
        )
        .fail(&[PLAN, OFFLINE, CHECK])
        .says("run `moot apply`"),
        case("a planted journal: apply refuses it", Applied, |c| {
            c.write(".moot/txn/journal.json", planted_journal())
        })
        .fail(&[APPLY])
        .says("moot cannot prove it wrote it"),
        case("journal is a symlink out of the workspace", Applied, |c| {
            std::fs::write(c.other.join("journal"), planted_journal()).unwrap();
            std::fs::create_dir_all(c.ws.join(".moot/txn")).unwrap();
            std::os::unix::fs::symlink(
                c.other.join("journal"),
                c.ws.join(".moot/txn/journal.json"),
            )
            .unwrap();
        })
        .fail(&[APPLY])
        .says("is a symlink"),
        case(
            ".moot/txn is a symlink out of the workspace",
            Applied,
            |c| {
                std::fs::create_dir_all(c.other.join("txn")).unwrap();
                std::fs::write(c.other.join("txn/journal.json"), planted_journal()).unwrap();
                std::os::unix::fs::symlink(c.other.join("txn"), c.ws.join(".moot/txn")).unwrap();
            },
        )
        .fail(&[APPLY, CHECK])
        .says(".moot/txn")
        .after(|c| match c.other.join("txn/journal.json").exists() {
            true => Ok(()),
            false => Err("apply removed a file outside the workspace".into()),
        }),
        case("the apply report is a symlink", Applied, |c| {
            std::fs::remove_file(c.ws.join(".claude/skills/verify/SKILL.md")).unwrap();
            std::fs::write(c.other.join("report"), "mine\n").unwrap();
            let report = c.ws.join(".moot/apply-report.md");
            let _ = std::fs::remove_file(&report);
            std::os::unix::fs::symlink(c.other.join("report"), &report).unwrap();
        })
        .fail(&[APPLY])
        .says("the plan is blocked")
        .after(|c| outside_unchanged(c, "report")),
        // CLI misuse
        case("--replace an unknown role", Fresh, nothing)
            .fail(&[
                &["plan", "--replace", "nobody"],
                &["apply", "-y", "--replace", "nobody"],
            ])
            .says("no role named"),
        case("no credentials at all", Fresh, nothing)
            .no_creds()
            .says("moot login"),
        case("-C names a missing directory", Fresh, nothing)
            .dir(Dir::Missing)
            .fail(&[PLAN, APPLY, CHECK, &["init"]])
            .says("does not exist"),
        case("-C names a file", Fresh, nothing)
            .dir(Dir::AFile)
            .fail(&[PLAN, APPLY, CHECK])
            .says("not a directory"),
        case("apply without --yes and no terminal", Fresh, nothing)
            .fail(&[&["apply"]])
            .says("--yes"),
        case("init over an existing team.toml", Fresh, nothing)
            .fail(&[&["init"], &["init", "--template", "loop-9"]]),
    ]
}

/// A journal a pull request could commit: it asks for team.toml to be
/// "restored" away, a script made setuid and `.git` unreadable.
fn planted_journal() -> String {
    json!({
        "state": "prepared", "pid": 1,
        "entries": [
            {"kind": "remove", "target": "team.toml", "staged": null,
             "backup": ".moot/txn/backup/0", "had_original": false, "old_mode": null},
            {"kind": "chmod", "target": ".claude/hooks/git-guard.sh", "staged": null,
             "backup": ".moot/txn/backup/1", "had_original": true, "old_mode": 0o6777},
            {"kind": "chmod", "target": ".git", "staged": null,
             "backup": ".moot/txn/backup/2", "had_original": true, "old_mode": 0},
        ],
        "created_dirs": [],
    })
    .to_string()
}

/// The file `name` in the scratch space outside the workspace is as the
/// setup left it (a link from the workspace pointed there).
fn outside_unchanged(c: &Ctx, name: &str) -> Result<(), String> {
    let p = c.other.join(name);
    let m = std::fs::symlink_metadata(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    if !m.is_file() || m.permissions().readonly() {
        return Err(format!("{} changed kind or mode", p.display()));
    }
    let text = std::fs::read_to_string(&p).unwrap_or_default();
    if name == "report" && text != "mine\n" {
        return Err(format!("{} was written through the link", p.display()));
    }
    Ok(())
}

/// The content of a regular file (a FIFO is never opened: it would block).
fn read_if_file(p: &Path) -> Option<Vec<u8>> {
    let m = std::fs::symlink_metadata(p).ok()?;
    if m.is_file() {
        std::fs::read(p).ok()
    } else {
        None
    }
}

fn leaf(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Runs one case; returns what went wrong, if anything.
fn run_case(
    case: &Case,
    creds: Option<(&str, &str)>,
    template: Option<&Path>,
    env: &[(&str, &str)],
    secrets: &Secrets,
) -> Result<(), String> {
    let ws_dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let ctx = Ctx {
        ws: ws_dir.path().join("repo"),
        home: home.path().to_path_buf(),
        other: other.path().to_path_buf(),
        creds: creds.map(|(t, u)| (t.to_string(), u.to_string())),
    };
    match (case.base, template) {
        (Base::Applied, Some(t)) => support::copy_tree(t, &ctx.ws),
        (Base::Applied, None) => panic!("{}: no applied template", case.name),
        (Base::Fresh, _) => {
            std::fs::create_dir(&ctx.ws).unwrap();
            ctx.ok(&["init"]);
        }
    }
    (case.setup)(&ctx);
    let dir = match case.dir {
        Dir::Ws => ctx.ws.clone(),
        Dir::Missing => ctx.ws.join("no/such/dir"),
        Dir::AFile => ctx.ws.join("team.toml"),
    };
    let plan = ctx.planfile().display().to_string();
    let before = tree(&ctx.ws);
    let plan_before = read_if_file(&ctx.planfile());
    let mut problems = Vec::new();
    let runs = case
        .fail
        .iter()
        .map(|a| (a, 1))
        .chain(case.succeed.iter().map(|a| (a, 0)));
    for (args, want) in runs {
        let args: Vec<String> = args.iter().map(|a| a.replace("{plan}", &plan)).collect();
        let mut cmd = moot(&dir, &ctx.home, if case.creds { creds } else { None });
        cmd.args(&args);
        // A hang guard, not a speed check: a FIFO read would block forever.
        cmd.timeout(Duration::from_secs(120));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let label = format!("`moot {}`", args.join(" "));
        if out.status.code() != Some(want) {
            problems.push(format!(
                "{label}: exit {:?}, want {want}\n{}",
                out.status.code(),
                text(&out)
            ));
        }
        if err.contains("panicked") || out.status.code() == Some(101) {
            problems.push(format!("{label}: panicked\n{err}"));
        }
        if want == 1 {
            if !err.lines().any(|l| l.starts_with("error:")) {
                problems.push(format!("{label}: no `error:` line\n{err}"));
            }
            if !err.lines().any(|l| l.starts_with("hint:")) {
                problems.push(format!("{label}: no `hint:` line\n{err}"));
            }
            if !case.says.is_empty() && !err.contains(case.says) {
                problems.push(format!("{label}: stderr lacks {:?}\n{err}", case.says));
            }
        }
        if let Some(i) = secrets.found_in(&out.stdout) {
            problems.push(format!("{label}: secret #{i} on stdout"));
        }
        if let Some(i) = secrets.found_in(&out.stderr) {
            problems.push(format!("{label}: secret #{i} on stderr"));
        }
        let now = tree(&ctx.ws);
        if now != before {
            problems.push(format!(
                "{label}: the workspace changed: {:?}",
                tree_diff(&before, &now)
            ));
        }
    }
    if let Some((p, i)) = secrets.leak_in_workspace(&ctx.ws) {
        problems.push(format!("secret #{i} in {}", p.display()));
    }
    if let Some(b) = plan_before
        && read_if_file(&ctx.planfile()) != Some(b)
    {
        problems.push("the saved plan file changed".into());
    }
    if let Some(f) = case.after
        && let Err(e) = f(&ctx)
    {
        problems.push(e);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn run_table(cases: &[Case]) {
    // The workspace each `Base::Applied` case copies: converged against
    // the sandbox.
    let env = support::TestEnv::loop4();
    env.ok(&["apply", "-y"]);
    let sandbox = env.sandbox();
    let rotations = sandbox.rotation_count();
    let mut secrets = Secrets::new([sandbox.token(), PLANTED]);
    for n in ["Product", "Spec", "Implementation", "QA"] {
        secrets.push(sandbox.live_key(n).unwrap());
    }
    let creds = Some((sandbox.token(), sandbox.url()));
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in cases {
        ran += 1;
        if let Err(e) = run_case(case, creds, Some(env.root()), &[], &secrets) {
            failures.push(format!("[{}] {e}", case.name));
        }
        if sandbox.rotation_count() != rotations {
            failures.push(format!("[{}] rotated a key on the server", case.name));
        }
    }
    assert!(ran > 0);
    assert!(
        failures.is_empty(),
        "{} of {ran} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn bad_local_files_and_cli_misuse_fail_cleanly() {
    run_table(&local_cases());
}

// ---------------------------------------------------------------------------
// Server answers (wiremock), against a fresh `moot init` workspace.

fn agent(id: &str, name: &str, keyless: bool) -> Value {
    let mut a = common::actor_json(id, name, "agent");
    if keyless {
        a["api_key_prefix"] = Value::Null;
    }
    a
}

fn loop4(keyless: bool) -> Value {
    json!([
        agent("agt_1", "Product", keyless),
        agent("agt_2", "Spec", keyless),
        agent("agt_3", "Implementation", keyless),
        agent("agt_4", "QA", keyless),
    ])
}

fn me() -> Value {
    common::actor_json("usr_owner", "Ada", "human")
}

/// A rotation that succeeds, echoing the actor id from the path.
struct RotateOk;

impl Respond for RotateOk {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let id = req.url.path().split('/').nth(3).unwrap_or_default();
        let id = percent_decode(id);
        ResponseTemplate::new(200).set_body_json(json!({
            "actor_id": id, "api_key": MOCK_KEY, "api_key_prefix": "convo_ke",
        }))
    }
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct ServerCase {
    name: &'static str,
    /// Mounted before the defaults, so they win.
    mocks: fn() -> Vec<Mock>,
    fail: &'static [&'static [&'static str]],
    succeed: &'static [&'static [&'static str]],
    says: &'static str,
    env: &'static [(&'static str, &'static str)],
    /// Checks the requests the server received.
    requests: Option<RequestCheck>,
}

const fn server(name: &'static str, mocks: fn() -> Vec<Mock>) -> ServerCase {
    ServerCase {
        name,
        mocks,
        fail: &[PLAN, APPLY],
        succeed: &[],
        says: "",
        env: &[],
        requests: None,
    }
}

impl ServerCase {
    /// A failure of the rotation: plan is fine, apply fails.
    const fn at_rotation(mut self) -> ServerCase {
        self.fail = &[APPLY];
        self.succeed = &[PLAN];
        self
    }
    const fn says(mut self, s: &'static str) -> ServerCase {
        self.says = s;
        self
    }
    const fn env(mut self, e: &'static [(&'static str, &'static str)]) -> ServerCase {
        self.env = e;
        self
    }
    const fn requests(mut self, f: fn(&[Request]) -> Result<(), String>) -> ServerCase {
        self.requests = Some(f);
        self
    }
}

fn get_me(t: ResponseTemplate) -> Vec<Mock> {
    vec![common::route("GET", "/api/actors/me").respond_with(t)]
}

fn get_agents(t: ResponseTemplate) -> Vec<Mock> {
    vec![common::route("GET", "/api/actors/me/agents").respond_with(t)]
}

fn rotate(t: ResponseTemplate) -> Vec<Mock> {
    vec![
        Mock::given(method("POST"))
            .and(path_regex("^/api/actors/[^/]+/rotate-key$"))
            .respond_with(t),
    ]
}

fn status(code: u16) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({"detail": "nope"}))
}

/// Agents whose Product has this id (keyless); the others hold keys, so
/// Product's is the only rotation.
fn product_with_id(id: &str) -> Vec<Mock> {
    get_agents(ResponseTemplate::new(200).set_body_json(json!([
        agent(id, "Product", true),
        agent("agt_2", "Spec", false),
        agent("agt_3", "Implementation", false),
        agent("agt_4", "QA", false),
    ])))
}

const TRAVERSAL_ID: &str = "agt/../../api/actors/agt_2";

fn server_cases() -> Vec<ServerCase> {
    const RETRY1: &[(&str, &str)] = &[("MOOT_HTTP_RETRIES", "1")];
    vec![
        server("me answers HTML", || {
            get_me(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "text/html")
                    .set_body_string("<html><body>Welcome to nginx!</body></html>"),
            )
        }),
        server("me answers truncated JSON", || {
            let full = me().to_string();
            get_me(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_string(full[..full.len() / 2].to_string()),
            )
        }),
        server("agents answer wrong types", || {
            let mut a = loop4(true);
            a[1]["actor_id"] = json!(42);
            a[2]["display_name"] = json!(["Implementation"]);
            get_agents(ResponseTemplate::new(200).set_body_json(a))
        }),
        server("agents answer an object, not a list", || {
            get_agents(ResponseTemplate::new(200).set_body_json(json!({"agents": loop4(true)})))
        }),
        server("me 401", || get_me(status(401))).says("moot login"),
        server("agents 403", || get_agents(status(403))),
        server("me 404", || get_me(status(404))),
        server("me 500", || get_me(status(500))),
        server("me 503 (retried, then fails)", || get_me(status(503)))
            .env(RETRY1)
            .requests(|reqs| {
                let n = reqs
                    .iter()
                    .filter(|r| r.url.path() == "/api/actors/me")
                    .count();
                // plan and apply, two attempts each
                (n == 4)
                    .then_some(())
                    .ok_or(format!("{n} GETs of /me, want 4"))
            }),
        server("agents 502", || get_agents(status(502))).env(RETRY1),
        server("me slower than the timeout", || {
            get_me(
                ResponseTemplate::new(200)
                    .set_body_json(me())
                    .set_delay(Duration::from_secs(1)),
            )
        })
        .env(&[("MOOT_HTTP_TIMEOUT", "0.2"), ("MOOT_HTTP_RETRIES", "0")]),
        server("agents answer a 50 MB body", || {
            let mut body = b"[".to_vec();
            body.resize(50 << 20, b' ');
            body.push(b']');
            get_agents(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_bytes(body),
            )
        }),
        server("account without a default space", || {
            let mut m = me();
            m["default_space_id"] = Value::Null;
            get_me(ResponseTemplate::new(200).set_body_json(m))
        })
        .says("no default space"),
        server("me is an agent, not a human", || {
            get_me(ResponseTemplate::new(200).set_body_json(agent("agt_9", "Bot", false)))
        }),
        server("rotate 409", || rotate(status(409))).at_rotation(),
        server("rotate 500", || rotate(status(500))).at_rotation(),
        server("rotate 404", || rotate(status(404))).at_rotation(),
        server("rotate answers HTML", || {
            rotate(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "text/html")
                    .set_body_string(format!("<html>{MOCK_KEY}</html>")),
            )
        })
        .at_rotation(),
        server("rotate answers without api_key", || {
            rotate(ResponseTemplate::new(200).set_body_json(json!({
                "actor_id": "agt_1", "api_key_prefix": "convo_ke"
            })))
        })
        .at_rotation(),
        server("rotate answers an empty api_key", || {
            rotate(ResponseTemplate::new(200).set_body_json(json!({
                "actor_id": "agt_1", "api_key": "", "api_key_prefix": ""
            })))
        })
        .at_rotation(),
        server("rotate answers another actor's key", || {
            rotate(ResponseTemplate::new(200).set_body_json(json!({
                "actor_id": "agt_other", "api_key": MOCK_KEY
            })))
        })
        .at_rotation(),
        server("actor id with / and .. stays one path segment", || {
            let mut m = product_with_id(TRAVERSAL_ID);
            m.push(
                common::route(
                    "POST",
                    "/api/actors/agt%2F%2E%2E%2F%2E%2E%2Fapi%2Factors%2Fagt_2/rotate-key",
                )
                .respond_with(status(409)),
            );
            m
        })
        .at_rotation()
        .requests(|reqs| {
            let posts: Vec<String> = reqs
                .iter()
                .filter(|r| r.method.as_str() == "POST")
                .map(|r| r.url.path().to_string())
                .collect();
            // first-key (unknown to this server), then rotate-key.
            let want = [
                "/api/agents/agt%2F%2E%2E%2F%2E%2E%2Fapi%2Factors%2Fagt_2/first-key",
                "/api/actors/agt%2F%2E%2E%2F%2E%2E%2Fapi%2Factors%2Fagt_2/rotate-key",
            ];
            (posts == want)
                .then_some(())
                .ok_or(format!("POSTs: {posts:?}"))
        }),
        server("actor id `..` is refused", || product_with_id(".."))
            .at_rotation()
            .requests(|reqs| {
                let posts = reqs.iter().filter(|r| r.method.as_str() == "POST").count();
                (posts == 0).then_some(()).ok_or(format!("{posts} POSTs"))
            }),
    ]
}

/// The server of a case: its own routes over the defaults, a human with a
/// space, four keyless agents and rotations that succeed (so a case that
/// fails to fail is seen).
fn case_server(mocks: Vec<Mock>) -> common::MockApi {
    let api = common::MockApi::account(me(), loop4(true));
    api.mount(
        Mock::given(method("POST"))
            .and(path_regex("^/api/actors/.+/rotate-key$"))
            .respond_with(RotateOk)
            .with_priority(10),
    );
    for m in mocks {
        api.mount(m);
    }
    api
}

fn run_server_table() {
    let secrets = Secrets::new([common::TOKEN, MOCK_KEY]);
    let mut failures = Vec::new();
    let mut ran = 0;
    for sc in server_cases().into_iter() {
        ran += 1;
        let server = case_server((sc.mocks)());
        let case = Case {
            name: sc.name,
            base: Base::Fresh,
            dir: Dir::Ws,
            creds: true,
            setup: nothing,
            fail: sc.fail,
            succeed: sc.succeed,
            says: sc.says,
            after: None,
        };
        let uri = server.uri();
        let mut env = vec![("MOOT_HTTP_RETRIES", "1")];
        env.extend_from_slice(sc.env);
        if let Err(e) = run_case(&case, Some((common::TOKEN, &uri)), None, &env, &secrets) {
            failures.push(format!("[{}] {e}", sc.name));
        }
        if let Some(check) = sc.requests
            && let Err(e) = check(&server.requests())
        {
            failures.push(format!("[{}] requests: {e}", sc.name));
        }
        drop(server);
    }
    assert!(ran > 0);
    assert!(
        failures.is_empty(),
        "{} of {ran} server cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn bad_server_answers_fail_cleanly() {
    run_server_table();
}

#[test]
fn the_corpus_is_big_enough() {
    let n = local_cases().len() + server_cases().len();
    assert!(n >= 40, "only {n} cases");
}

/// Online `plan` and `apply` start talking to the platform while they read
/// the workspace; a workspace error still comes first, whatever the
/// connection comes to (here: refused, and no credentials at all).
#[test]
fn a_workspace_error_comes_before_the_platforms() {
    use support::{Api, TestEnv};
    let refused = TestEnv::on(Api::Url("http://127.0.0.1:9".into()));
    let no_token = TestEnv::on(Api::Offline);
    for env in [&refused, &no_token] {
        std::fs::write(
            env.root().join("team.toml"),
            "toml_schema_version = \"1\"\n[team\n",
        )
        .unwrap();
        for cmd in [&["plan"][..], &["apply", "--yes"][..]] {
            let out = env.moot(cmd);
            assert_eq!(out.status.code(), Some(1), "{}", text(&out));
            let said = String::from_utf8_lossy(&out.stderr);
            let first = said.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("error: ") && first.contains("team.toml:2:"),
                "{cmd:?}: {said}"
            );
        }
    }
}
