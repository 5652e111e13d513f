//! The binary end to end in a tempdir against the in-process moot-sandbox
//! (real HTTP on loopback): plan, apply, check, the transaction's
//! all-or-nothing property at every injected fault, locking, conflicts,
//! saved plans, and that no key ever leaks into an output or artefact.

use crate::support;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use moot_sandbox::SandboxConfig;
use support::text;

/// Registration tickets an apply minted and could not exchange yet.
const PENDING: &str = ".moot/pending-tickets.json";

use support::LOOP4;

type Env = support::TestEnv;

/// path -> (content hash or "dir", mode, mtime). `.moot/lock` is the
/// workspace lock, machine-local and empty between applies.
fn tree(root: &Path, with_mtime: bool) -> BTreeMap<PathBuf, (String, u32, i64)> {
    fn walk(
        root: &Path,
        dir: &Path,
        out: &mut BTreeMap<PathBuf, (String, u32, i64)>,
        with_mtime: bool,
    ) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if rel == Path::new(".moot/lock") {
                continue;
            }
            let m = std::fs::symlink_metadata(&p).unwrap();
            let mtime = if with_mtime {
                m.mtime_nsec() + m.mtime() * 1_000_000_000
            } else {
                0
            };
            if m.is_dir() {
                walk(root, &p, out, with_mtime);
                if rel != Path::new(".moot") {
                    out.insert(rel, ("dir".into(), m.mode() & 0o7777, mtime));
                }
            } else {
                let bytes = std::fs::read(&p).unwrap();
                let digest = format!("{:x}", sha2_digest(&bytes));
                out.insert(rel, (digest, m.mode() & 0o7777, mtime));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out, with_mtime);
    out
}

fn sha2_digest(bytes: &[u8]) -> u128 {
    // Any stable digest will do for comparisons; fold sha256 to 128 bits.
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    u128::from_be_bytes(d[..16].try_into().unwrap())
}

fn assert_no_secret(haystack: &str, keys: &[String], token: &str) {
    assert!(!haystack.contains(token), "the token leaked");
    for k in keys {
        assert!(!haystack.contains(k.as_str()), "a key leaked");
    }
}

/// Every artefact moot writes that is not the key file itself.
fn artefacts(root: &Path) -> String {
    let mut all = String::new();
    for (p, _) in tree(root, false) {
        if p == Path::new(".moot/actors.json") {
            continue;
        }
        if let Ok(t) = std::fs::read_to_string(root.join(&p)) {
            all.push_str(&t);
        }
    }
    all
}

#[test]
fn plan_on_a_fresh_workspace_changes_nothing_and_rotates_nothing() {
    let env = Env::loop4();
    let before = tree(env.root(), true);
    let out = env.moot(&["plan", "--detailed-exitcode"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("fresh_plan", support::transcript(&out)));
    assert_eq!(
        tree(env.root(), true),
        before,
        "plan wrote to the workspace"
    );
    assert_eq!(env.sandbox().rotation_count(), 0);

    let out = env.moot(&["plan", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["changes"], true);
    let kinds: Vec<&str> = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "issue-key").count(), 4);
    assert!(kinds.contains(&"create"));
    assert_eq!(kinds.last(), Some(&"write-lock"));
    assert_eq!(tree(env.root(), true), before);
}

#[test]
fn check_is_offline_and_reports_drift_on_a_fresh_workspace() {
    let env = Env::loop4();
    // No token, no API: check must not need either.
    let out = env
        .cmd(&["check"])
        .env_remove("MOOT_TOKEN")
        .env("MOOT_API_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("fresh_check", support::transcript(&out)));
}

#[test]
fn apply_converges_and_a_second_apply_does_nothing() {
    let env = Env::loop4();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let keys = env.held_keys();
    assert_eq!(keys.len(), 4);
    let mut live = env.live_keys();
    live.sort();
    let mut held = keys.clone();
    held.sort();
    assert_eq!(held, live, "every role holds its agent's live key");

    // Each key works as the agent it belongs to.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for key in &keys {
        let client = moot::observed::api::ApiClient::new(
            env.sandbox().url(),
            Some(moot::secret::Secret::new(key.clone())),
            Default::default(),
        )
        .unwrap();
        let me = rt.block_on(client.me()).unwrap();
        assert_eq!(me.actor_type, "agent");
    }

    let root = env.root();
    let mode = |p: &str| {
        std::fs::metadata(root.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode(".moot"), 0o700);
    assert_eq!(mode(".moot/actors.json"), 0o600);
    assert_eq!(mode(".claude/hooks/git-guard.sh"), 0o755);
    assert_eq!(mode(".devcontainer/post-create.sh"), 0o755);
    assert!(
        std::fs::read_to_string(root.join(".gitignore"))
            .unwrap()
            .contains(".moot/")
    );
    assert_eq!(support::staging_litter(root), Vec::<String>::new());
    let settings = std::fs::read_to_string(root.join(".claude/settings.json")).unwrap();
    assert!(settings.contains("git-guard.sh"));

    assert_no_secret(&text(&out), &keys, env.sandbox().token());
    assert_no_secret(&artefacts(root), &keys, env.sandbox().token());

    let out = env.moot(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let rotations = env.sandbox().rotation_count();
    let before = tree(root, true);
    let out = env.moot(&["apply", "--yes"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("second_apply", support::transcript(&out)));
    assert_eq!(
        env.sandbox().rotation_count(),
        rotations,
        "no mutating call"
    );
    assert_eq!(tree(root, true), before);
    let out = env.moot(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn a_failed_rotation_persists_nothing_and_names_the_rotated_agents() {
    let env = Env::sandboxed(SandboxConfig::with_agents(LOOP4));
    assert!(env.moot(&["apply", "--yes"]).status.success());
    env.sandbox().set_fail_rotate("implementation", true);
    let before = tree(env.root(), false);
    let out = env.moot(&["apply", "--yes", "--rotate-all", "--concurrency", "1"]);
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!("failed_rotation", support::stderr_transcript(&out));
    });
    assert_eq!(tree(env.root(), false), before, "the workspace changed");
    assert_no_secret(&text(&out), &env.live_keys(), env.sandbox().token());
}

#[test]
fn apply_without_a_terminal_needs_yes() {
    let env = Env::loop4();
    let before = tree(env.root(), false);
    let out = env.moot(&["apply"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("apply_needs_yes", support::stderr_transcript(&out)));
    assert_eq!(tree(env.root(), false), before);
    assert_eq!(env.sandbox().rotation_count(), 0);
}

/// The commit point moves the transaction's area aside, journal and all:
/// an apply killed right after it is finished, so `check` passes at once
/// (no "interrupted apply"), and the next apply only removes what it left.
#[test]
fn an_apply_killed_after_its_commit_point_is_finished_and_its_leftover_is_removed() {
    let mut k = 1;
    let env = loop {
        let env = Env::loop4();
        let out = env
            .cmd(&["apply", "--yes", "--concurrency", "1"])
            .env("MOOT_FAULT_AT", k.to_string())
            .env("MOOT_FAULT_MODE", "kill")
            .output()
            .unwrap();
        assert!(!out.status.success(), "k={k}: no crash point was reached");
        if env.root().join(".moot/txn.done").exists() {
            break env;
        }
        k += 1;
        assert!(k < 80, "no kill left a committed area");
    };
    assert!(!env.root().join(".moot/txn").exists());
    let check = env.moot(&["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    assert_eq!(env.held_keys().len(), 4);
    assert_eq!(env.held_keys(), env.live_keys());
    let again = env.moot(&["apply", "--yes"]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(support::staging_litter(env.root()), Vec::<String>::new());
}

/// For every effectful step k, a failure there leaves the workspace exactly
/// as before; a SIGKILL there leaves it as before or, once the next moot
/// command has repaired it, converged. Never a mix.
#[test]
fn every_injected_fault_is_all_or_nothing() {
    for mode in ["error", "kill"] {
        let mut k = 1;
        loop {
            let env = Env::loop4();
            let before = tree(env.root(), false);
            let out = env
                .cmd(&["apply", "--yes", "--concurrency", "1"])
                .env("MOOT_FAULT_AT", k.to_string())
                .env("MOOT_FAULT_MODE", mode)
                .output()
                .unwrap();
            if out.status.success() {
                assert!(k > 10, "the fault never fired");
                break;
            }
            let keys = env.live_keys();
            assert_no_secret(&text(&out), &keys, env.sandbox().token());
            if mode == "error" {
                assert_eq!(out.status.code(), Some(1), "k={k}: {}", text(&out));
                // A ticket minted before the failure is kept (its key would
                // be lost otherwise), and nothing else.
                let mut now = tree(env.root(), false);
                let kept = now.remove(Path::new(PENDING)).is_some();
                assert_eq!(now, before, "k={k} ({mode})");
                if kept {
                    let again = env.moot(&["apply", "--yes"]);
                    assert!(again.status.success(), "k={k}: {}", text(&again));
                    assert!(!env.root().join(PENDING).exists(), "k={k}");
                }
            } else {
                let interrupted = env.root().join(".moot/txn/journal.json").exists();
                // plan and check refuse to run over an interrupted apply;
                // apply repairs it, under its lock.
                if interrupted {
                    let check = env.moot(&["check"]);
                    assert_eq!(check.status.code(), Some(1), "k={k}: {}", text(&check));
                    assert!(
                        text(&check).contains("run `moot apply`"),
                        "{}",
                        text(&check)
                    );
                }
                let plan = env.moot(&["apply", "--offline"]);
                support::assert_repair_only(&format!("k={k}"), &plan);
                if interrupted {
                    let said = String::from_utf8_lossy(&plan.stderr);
                    assert!(
                        said.contains("repaired an interrupted apply"),
                        "k={k}: the repair was not reported: {said}"
                    );
                }
                let mut after = tree(env.root(), false);
                if after.remove(Path::new(PENDING)).is_some() {
                    // Killed with a ticket minted and not yet stored: the
                    // next online apply redeems it (or says it is gone).
                    let again = env.moot(&["apply", "--yes"]);
                    assert!(again.status.success(), "k={k}: {}", text(&again));
                    assert!(!env.root().join(PENDING).exists(), "k={k}");
                } else if after != before {
                    let check = env.moot(&["check"]);
                    assert_eq!(
                        check.status.code(),
                        Some(0),
                        "k={k}: a mix: {}",
                        text(&check)
                    );
                    assert_eq!(env.held_keys().len(), 4, "k={k}");
                }
                if String::from_utf8_lossy(&plan.stderr).contains("rolled back") {
                    assert_eq!(
                        after, before,
                        "k={k}: rolled back but not to the before-state"
                    );
                }
                let litter = support::staging_litter(env.root());
                assert!(litter.is_empty(), "k={k}: staging litter {litter:?}");
            }
            k += 1;
        }
    }
}

#[test]
fn a_second_concurrent_apply_fails_at_once_naming_the_lock() {
    let mut cfg = SandboxConfig::with_agents(LOOP4);
    cfg.latency = std::time::Duration::from_millis(400);
    let env = Env::sandboxed(cfg);
    let mut first = apply_process(&env)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first holds the lock.
    let lock = env.root().join(".moot/lock");
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&lock)
        .map(|s| s.trim().is_empty())
        .unwrap_or(true)
    {
        assert!(
            t0.elapsed().as_secs() < 10,
            "first apply never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let second = env.moot(&["apply", "--yes"]);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("holds the workspace lock") && err.contains(&first.id().to_string()),
        "{err}"
    );
    assert!(first.wait().unwrap().success());
}

#[test]
fn user_edits_are_kept_and_staged_and_overwrite_replaces_them() {
    let env = Env::loop4();
    let root = env.root();
    let edits = [
        "CLAUDE.md",
        ".claude/skills/handoff/SKILL.md",
        ".claude/hooks/git-guard.sh",
        ".devcontainer/post-create.sh",
    ];
    for p in edits {
        std::fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
        std::fs::write(root.join(p), format!("my own {p}\n")).unwrap();
    }
    std::fs::write(
        root.join(".claude/settings.json"),
        r#"{"model": "opus", "hooks": {"PreToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "my-lint.sh"}]}]}}"#,
    )
    .unwrap();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    for p in edits {
        assert_eq!(
            std::fs::read_to_string(root.join(p)).unwrap(),
            format!("my own {p}\n"),
            "{p}"
        );
        assert!(
            root.join(".moot/suggested").join(p).is_file(),
            "{p} not staged"
        );
    }
    let report = std::fs::read_to_string(root.join(".moot/apply-report.md")).unwrap();
    assert!(report.contains("--overwrite"), "{report}");
    let settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(".claude/settings.json")).unwrap())
            .unwrap();
    assert_eq!(settings["model"], "opus");
    let pre = settings["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre[0]["hooks"][0]["command"], "my-lint.sh");
    let ours = pre
        .iter()
        .filter(|g| g.to_string().contains("git-guard.sh"))
        .count();
    assert_eq!(ours, 1);

    // The edited managed files are drift until accepted.
    let out = env.moot(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // Staging the same suggestion again is not an action.
    let out = env.moot(&["plan", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["kind"] != "stage"),
        "{v}"
    );
    let out = env.moot(&["apply", "--yes", "--overwrite"]);
    assert!(out.status.success(), "{}", text(&out));
    for p in &edits[1..] {
        assert_ne!(
            std::fs::read_to_string(root.join(p)).unwrap(),
            format!("my own {p}\n"),
            "{p}"
        );
    }
    // Accepted suggestions are cleaned up; the seed's stays for review.
    for p in &edits[1..] {
        assert!(!root.join(".moot/suggested").join(p).exists(), "{p}");
    }
    assert!(root.join(".moot/suggested/CLAUDE.md").is_file());
    let out = env.moot(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // CLAUDE.md is a seed: the user's to keep, never drift.
    assert_eq!(
        std::fs::read_to_string(root.join("CLAUDE.md")).unwrap(),
        "my own CLAUDE.md\n"
    );
    let out = env.moot(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_no_secret(&artefacts(root), &env.held_keys(), env.sandbox().token());
}

#[test]
fn a_saved_plan_applies_once_and_is_refused_when_stale() {
    let env = Env::loop4();
    let root = env.root();
    let planfile = env.home.path().join("team.plan");
    let out = env.moot(&["plan", "--out", planfile.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    // The world moves on: the plan must be refused, changing nothing.
    std::fs::write(root.join("notes.txt"), "unrelated\n").unwrap();
    std::fs::write(root.join("CLAUDE.md"), "mine\n").unwrap();
    let before = tree(root, false);
    let out = env.moot(&["apply", planfile.to_str().unwrap()]);
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!("saved_plan_stale_files", support::stderr_transcript(&out))
    });
    assert_eq!(tree(root, false), before);
    std::fs::remove_file(root.join("CLAUDE.md")).unwrap();

    let out = env.moot(&["plan", "--out", planfile.to_str().unwrap()]);
    assert!(out.status.success());
    // Applied without a prompt (no --yes, no terminal).
    let out = env.moot(&["apply", planfile.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let saved = std::fs::read_to_string(&planfile).unwrap();
    assert_no_secret(&saved, &env.held_keys(), env.sandbox().token());
    // The remote side changed (keys issued): the same plan is now stale.
    let out = env.moot(&["apply", planfile.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn key_not_held_here_is_drift_until_replaced() {
    let env = Env::loop4();
    assert!(env.moot(&["apply", "--yes"]).status.success());
    std::fs::remove_file(env.root().join(".moot/actors.json")).unwrap();
    let out = env.moot(&["plan", "--detailed-exitcode"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("keys_not_held", support::transcript(&out)));
    let rotations = env.sandbox().rotation_count();
    let out = env.moot(&["apply", "--yes", "--replace", "qa"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(env.sandbox().rotation_count(), rotations + 1);
    assert_eq!(env.held_keys().len(), 1);
    let out = env.moot(&["apply", "--yes", "--replace", "nobody"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("replace_unknown_role", support::transcript(&out)));
}

/// `moot apply --yes --concurrency 1`, to spawn and leave running.
fn apply_process(env: &Env) -> std::process::Command {
    let mut c = env.std_cmd(&["apply", "--yes", "--concurrency", "1"]);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c
}

#[test]
fn of_four_concurrent_applies_exactly_one_proceeds() {
    let mut cfg = SandboxConfig::with_agents(LOOP4);
    cfg.latency = std::time::Duration::from_millis(150);
    let env = Env::sandboxed(cfg);
    let children: Vec<std::process::Child> = (0..4)
        .map(|_| apply_process(&env).spawn().unwrap())
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let applied = outputs
        .iter()
        .filter(|o| o.status.success() && text(o).contains("Applied:"))
        .count();
    assert_eq!(
        applied,
        1,
        "{:#?}",
        outputs.iter().map(text).collect::<Vec<_>>()
    );
    for o in &outputs {
        let t = text(o);
        assert!(
            t.contains("Applied:")
                || t.contains("holds the workspace lock")
                || t.contains("No changes."),
            "{t}"
        );
        assert!(!t.contains("panicked"));
    }
    assert_eq!(env.sandbox().rotation_count(), 4, "each key rotated once");
    assert_eq!(env.moot(&["check"]).status.code(), Some(0));
}

/// The same flow against wiremock: the plan reads `me` and `me/agents`
/// (full 16-field Actors) and never calls rotate-key.
#[test]
fn plan_against_wiremock_never_rotates() {
    use crate::common;
    use wiremock::Mock;
    use wiremock::matchers::{method, path_regex};
    let actor = |id: &str, name: &str, kind: &str| {
        let agent = kind == "agent";
        serde_json::json!({
            "actor_id": id, "display_name": name, "actor_type": kind,
            "sponsor_id": if agent { serde_json::json!("usr_1") } else { serde_json::Value::Null },
            "tenant_id": "tnt_1", "is_admin": false,
            "email": if agent { serde_json::Value::Null } else { serde_json::json!("ada@example.com") },
            "agent_profile": null, "api_key_prefix": null,
            "default_space_id": if agent { serde_json::Value::Null } else { serde_json::json!("spc_1") },
            "is_connected": if agent { serde_json::json!(false) } else { serde_json::Value::Null },
            "focus_space_id": null, "metadata": null, "last_seen_at": null,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        })
    };
    let agents: Vec<serde_json::Value> = LOOP4
        .iter()
        .enumerate()
        .map(|(i, n)| actor(&format!("agt_{i}"), n, "agent"))
        .collect();
    let api = common::MockApi::account(actor("usr_1", "Ada", "human"), agents.into());
    api.mount(
        Mock::given(method("POST"))
            .and(path_regex(r"^/api/actors/.*/rotate-key$"))
            .respond_with(wiremock::ResponseTemplate::new(500))
            .expect(0),
    );
    let env = Env::on(support::Api::Mock(api)).initialised();
    let before = tree(env.root(), true);
    let out = env.moot(&["plan", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions = v["actions"].as_array().unwrap();
    for (i, role) in ["product", "spec", "implementation", "qa"]
        .iter()
        .enumerate()
    {
        assert_eq!(actions[i]["kind"], "issue-key");
        assert_eq!(actions[i]["target"], format!("agent:{role}"));
    }
    let creates = actions.iter().filter(|a| a["kind"] == "create").count();
    assert!(creates >= 15, "{creates}");
    assert_eq!(tree(env.root(), true), before);
    env.mock().verify();
}

/// Runs `moot ARGS` on a pseudo-terminal (util-linux `script`), typing
/// `answer` at the prompt.
fn on_terminal(env: &Env, args: &str, answer: &str) -> Output {
    // The env's run, its command line handed to `script`.
    let args: Vec<&str> = args.split(' ').collect();
    let run = env.std_cmd(&args);
    let line: Vec<String> = std::iter::once(run.get_program())
        .chain(run.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut c = std::process::Command::new("script");
    c.args(["-qec", &line.join(" "), "/dev/null"]).env_clear();
    for (k, v) in run.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.env("TERM", "dumb")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(answer.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn apply_on_a_terminal_asks_first() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("util-linux `script` is needed for the terminal test");
    }
    let env = Env::loop4();
    let before = tree(env.root(), false);
    let out = on_terminal(&env, "apply", "n\n");
    let t = text(&out);
    assert!(t.contains("Apply these 24 actions? [y/N]"), "{t}");
    assert!(t.contains("apply cancelled"), "{t}");
    assert_eq!(tree(env.root(), false), before);
    assert_eq!(env.sandbox().rotation_count(), 0);

    let out = on_terminal(&env, "apply", "y\n");
    let t = text(&out);
    assert!(t.contains("Applied: 4 keys issued"), "{t}");
    assert_eq!(env.held_keys().len(), 4);
    assert_no_secret(&t, &env.held_keys(), env.sandbox().token());
}

#[test]
fn a_renamed_role_renames_its_agent_and_keeps_its_key() {
    let env = Env::loop4();
    assert!(env.moot(&["apply", "--yes"]).status.success());
    let qa_key = env.sandbox().live_key("QA").unwrap();
    let team = env.root().join("team.toml");
    let text_before = std::fs::read_to_string(&team).unwrap();
    let edited = text_before.replacen("display_name = \"QA\"", "display_name = \"Quality\"", 1);
    assert_ne!(edited, text_before, "loop-4 names its qa role \"QA\"");
    std::fs::write(&team, edited).unwrap();

    let out = env.moot(&["plan", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rename = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "rename-agent")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(rename["target"], "agent:qa");
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        env.sandbox().agent("Quality").is_some(),
        "renamed on the platform"
    );
    assert_eq!(
        env.sandbox().live_key("Quality").unwrap(),
        qa_key,
        "not rotated"
    );
    let actors = std::fs::read_to_string(env.root().join(".moot/actors.json")).unwrap();
    assert!(actors.contains("\"Quality\""));
    assert_eq!(env.moot(&["check"]).status.code(), Some(0));
}

#[test]
fn ticket_answers_are_exchanged_for_keys() {
    let mut cfg = SandboxConfig::with_agents(LOOP4);
    cfg.ticket_mode = true;
    let env = Env::sandboxed(cfg);
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut held = env.held_keys();
    let mut live = env.live_keys();
    held.sort();
    live.sort();
    assert_eq!(held.len(), 4);
    assert_eq!(held, live);
    assert!(held.iter().all(|k| !k.is_empty()));
}

#[test]
fn a_connected_agent_without_a_key_gets_one_without_replace() {
    // A keyless agent has no key to lose: connected or not, it gets its
    // first key, and no 409 stops the apply after other keys were issued.
    let mut cfg = SandboxConfig::with_agents(LOOP4);
    cfg.connected = vec!["QA".into()];
    let env = Env::sandboxed(cfg);
    let out = env.moot(&["apply", "--yes", "--concurrency", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut held = env.held_keys();
    let mut live = env.live_keys();
    held.sort();
    live.sort();
    assert_eq!(held.len(), 4);
    assert_eq!(held, live);
    assert_eq!(env.moot(&["check"]).status.code(), Some(0));
}

/// Keys share their first 8 characters (`convo_ke`), so the prefix alone
/// cannot tell a live key from a dead one: moot proves each held key with
/// `GET /api/actors/me`.
#[test]
fn a_key_rotated_elsewhere_is_drift_and_stales_a_saved_plan() {
    let env = Env::loop4();
    assert!(env.moot(&["apply", "--yes"]).status.success());
    // product's key is rotated on another machine; the workspace keeps the
    // old, now dead, key.
    assert!(env.sandbox().rotate_elsewhere("Product"));
    let out = env.moot(&["plan", "--detailed-exitcode"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("key_rotated_elsewhere", support::transcript(&out)));
    assert!(
        env.moot(&["apply", "--yes", "--replace", "product"])
            .status
            .success()
    );
    assert_eq!(
        env.moot(&["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );

    // A rotation outside moot after a plan was saved makes that plan stale.
    let planfile = env.home.path().join("p.plan");
    let planfile = planfile.to_str().unwrap();
    assert!(
        env.moot(&["plan", "--out", planfile, "--replace", "spec"])
            .status
            .success()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = moot::observed::api::ApiClient::new(
        env.sandbox().url(),
        Some(moot::secret::Secret::new(env.sandbox().token())),
        Default::default(),
    )
    .unwrap();
    let qa = env.sandbox().agent("QA").unwrap();
    rt.block_on(client.rotate_key(&qa.actor_id, true)).unwrap();
    let out = env.moot(&["apply", planfile]);
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!("saved_plan_stale_keys", support::stderr_transcript(&out))
    });
}

/// What moot renders depends on team.toml and the bundle only: a clone in a
/// differently named directory (as on CI) checks clean.
#[test]
fn a_clone_elsewhere_checks_clean() {
    let env = Env::loop4();
    assert!(env.moot(&["apply", "--yes"]).status.success());
    let other = tempfile::tempdir().unwrap();
    let clone = other.path().join("a-different-name");
    let out = std::process::Command::new("cp")
        .arg("-a")
        .arg(env.root())
        .arg(&clone)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::remove_dir_all(clone.join(".moot")).unwrap();
    // No credentials at all, as on a CI checkout.
    let out = support::moot(&clone, env.home.path(), None)
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn usage_errors_exit_1_with_a_hint_not_2() {
    let env = Env::loop4();
    for args in [
        &["check", "--bogus"][..],
        &["plan", "--offline", "--replace", "qa"],
        &["apply", "--concurrency", "0"],
        &["--color", "sometimes", "plan"],
        &[],
    ] {
        let out = env.moot(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("hint:"),
            "{args:?}"
        );
    }
    let out = env.moot(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
}

/// `[install] hooks = false` and fewer skills: the scripts and skills moot
/// wrote go, with their now-empty directories, and moot's entries leave
/// settings.json while the user's stay.
#[test]
fn turning_parts_off_removes_them_cleanly() {
    let env = Env::loop4();
    let root = env.root();
    std::fs::create_dir_all(root.join(".claude")).unwrap();
    std::fs::write(
        root.join(".claude/settings.json"),
        r#"{"model": "opus", "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "my-stop.sh"}]}]}}"#,
    )
    .unwrap();
    assert!(env.moot(&["apply", "--yes"]).status.success());
    let team = root.join("team.toml");
    let mut toml = std::fs::read_to_string(&team).unwrap();
    toml.push_str("\n[install]\nhooks = false\nskills = [\"handoff\"]\n");
    std::fs::write(&team, toml).unwrap();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !root.join(".claude/hooks").exists(),
        "emptied directory left"
    );
    assert!(!root.join(".claude/skills/verify").exists());
    assert!(root.join(".claude/skills/handoff/SKILL.md").is_file());
    let settings = std::fs::read_to_string(root.join(".claude/settings.json")).unwrap();
    assert!(!settings.contains(".claude/hooks/"), "{settings}");
    assert!(
        settings.contains("my-stop.sh") && settings.contains("\"model\""),
        "{settings}"
    );
    assert_eq!(env.moot(&["check"]).status.code(), Some(0));
    assert_eq!(
        env.moot(&["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );
}
