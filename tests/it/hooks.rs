//! The hook scripts and devcontainer wrappers of the bundle, run with bash
//! on JSON stdin as Claude Code runs them.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    /// As `support::transcript` shows a run, for a snapshot.
    fn shown(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `templates/<script>` with bash, `stdin` on its standard input, in
/// `dir`, with a clean Moot/Claude environment plus `env`.
fn run(script: &str, stdin: &str, dir: &Path, env: &[(&str, &str)]) -> Out {
    run_args(script, &[], stdin, dir, env)
}

fn run_args(script: &str, args: &[&str], stdin: &str, dir: &Path, env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new("bash");
    cmd.arg(templates().join(script))
        .args(args)
        .current_dir(dir)
        .env_remove("MOOT_ROLE")
        .env_remove("CONVO_ROLE")
        .env_remove("CLAUDE_PROJECT_DIR")
        .env_remove("CONVO_API_URL")
        .env_remove("CONVO_SPACE_ID")
        .env_remove("MOOT_PYTHON")
        .env_remove("MOOT_RUN_ADAPTER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("bash");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A repository with worktrees for `qa` and `implementation`.
fn repo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap().join("repo");
    for d in ["", ".worktrees/qa/src", ".worktrees/implementation"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    (tmp, root)
}

fn guard(root: &Path, cwd: &Path, role: Option<&str>, command: &str) -> Option<String> {
    let input =
        json!({"tool_name": "Bash", "tool_input": {"command": command}, "cwd": cwd}).to_string();
    let env: Vec<(&str, &str)> = role.map(|r| ("MOOT_ROLE", r)).into_iter().collect();
    let out = run("hooks/git-guard.sh", &input, root, &env);
    assert_eq!(out.code, 0, "{command}: {}", out.stderr);
    if out.stdout.is_empty() {
        return None;
    }
    let v: Value = serde_json::from_str(&out.stdout).expect("deny is JSON");
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "PreToolUse");
    assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
    Some(
        v["hookSpecificOutput"]["permissionDecisionReason"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

#[test]
fn git_guard_allows_and_denies() {
    let (_tmp, root) = repo();
    let qa = root.join(".worktrees/qa");
    let main = root.clone();
    let qa_s = qa.display().to_string();
    let root_s = root.display().to_string();
    // (cwd, role, command, denied)
    let cases: Vec<(&Path, Option<&str>, String, bool)> = vec![
        (&qa, Some("qa"), "git commit -m 'fix && push'".into(), false),
        (&qa, Some("qa"), "git push origin HEAD".into(), false),
        (
            &qa,
            Some("qa"),
            "cd src && git add -A && git commit -m x".into(),
            false,
        ),
        (&main, Some("qa"), "git commit -m x".into(), true),
        (
            &main,
            Some("qa"),
            "git status && git log --oneline | head -5".into(),
            false,
        ),
        (
            &main,
            Some("qa"),
            "git diff HEAD~1 && git show HEAD".into(),
            false,
        ),
        (&main, Some("qa"), "git fetch origin".into(), false),
        (&main, Some("qa"), "git branch -a".into(), false),
        (
            &main,
            Some("qa"),
            "git branch --list 'feat/*'".into(),
            false,
        ),
        (&main, Some("qa"), "git branch -D old".into(), true),
        (&main, Some("qa"), "git branch newbranch".into(), true),
        (&main, Some("qa"), "git tag -l".into(), false),
        (&main, Some("qa"), "git tag v1.0".into(), true),
        (
            &main,
            Some("qa"),
            "git -C .worktrees/qa commit -am x".into(),
            false,
        ),
        (
            &qa,
            Some("qa"),
            format!("git -C {root_s} reset --hard HEAD"),
            true,
        ),
        (
            &qa,
            Some("qa"),
            "git -C ../implementation checkout main".into(),
            true,
        ),
        (
            &qa,
            Some("qa"),
            "cd ../implementation && git push".into(),
            true,
        ),
        (
            &qa,
            Some("qa"),
            "cd ../implementation && git log -3".into(),
            false,
        ),
        (
            &qa,
            Some("qa"),
            format!("cd {root_s} && git merge feat/x"),
            true,
        ),
        (
            &qa,
            Some("qa"),
            format!("(cd {root_s}; git rebase main)"),
            true,
        ),
        (&qa, Some("qa"), "cd \"$OTHER\" && git stash".into(), true),
        (&qa, Some("qa"), "git stash list".into(), false),
        (
            &qa,
            Some("qa"),
            "git worktree remove ../implementation".into(),
            true,
        ),
        (&qa, Some("qa"), "git worktree list".into(), false),
        (
            &main,
            Some("qa"),
            "FOO=1 git -c user.name=x cherry-pick abc".into(),
            true,
        ),
        (&main, Some("qa"), "git clean -fdx".into(), true),
        (&main, Some("qa"), "git switch -c feat/y".into(), true),
        (
            &main,
            Some("qa"),
            format!("cd {qa_s} && git switch -c qa/y"),
            false,
        ),
        (&main, Some("qa"), "ls && echo git push".into(), false),
        // No MOOT_ROLE: the worktree the session runs in is its own.
        (&qa, None, "git commit -m x".into(), false),
        (
            &qa,
            None,
            "git -C ../implementation commit -m x".into(),
            true,
        ),
        // A human's session: everything is allowed.
        (&main, None, "git push --force origin main".into(), false),
        (&main, None, "git reset --hard HEAD~3".into(), false),
    ];
    for (cwd, role, command, denied) in &cases {
        let got = guard(&root, cwd, *role, command);
        assert_eq!(
            got.is_some(),
            *denied,
            "{command} (role {role:?}, cwd {}): {got:?}",
            cwd.display()
        );
        if let Some(reason) = got {
            assert!(reason.contains("worktree"), "{reason}");
        }
    }
}

fn orient(cwd: &Path, role: Option<&str>) -> String {
    let input = json!({"session_id": "s", "hook_event_name": "SessionStart", "source": "startup", "cwd": cwd}).to_string();
    let env: Vec<(&str, &str)> = role.map(|r| ("MOOT_ROLE", r)).into_iter().collect();
    let out = run("hooks/auto-orient.sh", &input, cwd, &env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
}

#[test]
fn auto_orient_names_the_role() {
    let (_tmp, root) = repo();
    let said = [
        ("MOOT_ROLE=spec", orient(&root, Some("spec"))),
        (
            "in .worktrees/qa/src",
            orient(&root.join(".worktrees/qa/src"), None),
        ),
        (
            "MOOT_ROLE=implementation in .worktrees/qa",
            orient(&root.join(".worktrees/qa"), Some("implementation")),
        ),
        ("no role", orient(&root, None)),
    ]
    .map(|(what, said)| format!("# {what}\n{said}\n"))
    .concat();
    crate::support::snapshot_settings(&[(&root, "[ROOT]")])
        .bind(|| insta::assert_snapshot!("auto_orient", said));
}

fn transcript(dir: &Path, lines: &[Value]) -> PathBuf {
    let path = dir.join("transcript.jsonl");
    let mut s: String = lines.iter().map(|l| format!("{l}\n")).collect();
    s.push_str("not json at all\n");
    std::fs::write(&path, s).unwrap();
    path
}

fn tool_use(name: &str, input: Value) -> Value {
    json!({"type": "assistant", "message": {"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": name, "input": input}]}})
}

fn stop(dir: &Path, transcript: &Path, active: bool, role: Option<&str>) -> String {
    let input = json!({"session_id": "s", "transcript_path": transcript, "cwd": dir,
        "hook_event_name": "Stop", "stop_hook_active": active})
    .to_string();
    let env: Vec<(&str, &str)> = role.map(|r| ("MOOT_ROLE", r)).into_iter().collect();
    let out = run("hooks/handoff-status-check.sh", &input, dir, &env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
}

#[test]
fn handoff_check_blocks_only_unannounced_work() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let user = json!({"type": "user", "message": {"role": "user", "content": "go"}});
    let edit = tool_use("Edit", json!({"file_path": "src/a.rs"}));
    let commit = tool_use("Bash", json!({"command": "git add -A && git commit -m x"}));
    let share = tool_use(
        "mcp__convo__share",
        json!({"text": "Handoff", "mentions": ["agt_1"]}),
    );
    let mention = json!({"type": "assistant", "message": {"content": [{"type": "text", "text": "Handing off to @qa now."}]}});
    let read = tool_use("Read", json!({"file_path": "src/a.rs"}));

    let t = transcript(dir, &[user.clone(), edit.clone()]);
    let out = stop(dir, &t, false, Some("implementation"));
    let v: Value = serde_json::from_str(&out).expect("block is JSON");
    assert_eq!(v["decision"], "block");
    assert!(v["reason"].as_str().unwrap().contains("handoff"));

    let t = transcript(dir, &[user.clone(), commit.clone()]);
    assert!(!stop(dir, &t, false, Some("implementation")).is_empty());

    // stop_hook_active: never block twice in a row.
    assert_eq!(stop(dir, &t, true, Some("implementation")), "");

    let t = transcript(dir, &[user.clone(), edit.clone(), share.clone()]);
    assert_eq!(stop(dir, &t, false, Some("implementation")), "");

    let t = transcript(dir, &[user.clone(), commit.clone(), mention]);
    assert_eq!(stop(dir, &t, false, Some("implementation")), "");

    // Work after the last handoff needs another one.
    let t = transcript(dir, &[user.clone(), edit.clone(), share, edit.clone()]);
    assert!(!stop(dir, &t, false, Some("implementation")).is_empty());

    // Reading only: nothing to hand off.
    let t = transcript(dir, &[user.clone(), read]);
    assert_eq!(stop(dir, &t, false, Some("implementation")), "");

    // A human's session is not checked; a missing transcript is no error.
    let t = transcript(dir, &[user, edit]);
    assert_eq!(stop(dir, &t, false, None), "");
    assert_eq!(stop(dir, &dir.join("missing.jsonl"), false, Some("qa")), "");
}

fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn grep_hook(project: &Path, cwd: &Path, pattern: &str, response: Value) -> String {
    let input = json!({"tool_name": "Grep", "tool_input": {"pattern": pattern, "path": cwd},
        "tool_response": response, "cwd": cwd, "hook_event_name": "PostToolUse"})
    .to_string();
    let project = project.display().to_string();
    let out = run(
        "hooks/grep-baseline-diff.sh",
        &input,
        cwd,
        &[("CLAUDE_PROJECT_DIR", &project)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
}

#[test]
fn grep_baseline_diff() {
    let (_tmp, root) = repo();
    let pattern = "old_name\\(";
    let dir = root.join(".moot/grep-baseline");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(format!("{}.txt", sha256_hex(pattern))),
        "src/a.rs\nsrc/b.rs\n",
    )
    .unwrap();
    let abs = |p: &str| root.join(p).display().to_string();

    let same = json!({"mode": "files_with_matches", "filenames": [abs("src/b.rs"), abs("src/a.rs")], "numFiles": 2});
    assert_eq!(grep_hook(&root, &root, pattern, same), "");

    let different = json!({"mode": "files_with_matches", "filenames": [abs("src/a.rs"), abs("src/c.rs")], "numFiles": 2});
    let out = grep_hook(&root, &root, pattern, different);
    let v: Value = serde_json::from_str(&out).expect("warning is JSON");
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "PostToolUse");
    let ctx = v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    let settings = crate::support::snapshot_settings(&[(&root, "[ROOT]")]);
    settings.bind(|| insta::assert_snapshot!("grep_baseline_differs", ctx));

    // Content mode, from a worktree: the main checkout's baseline is used.
    let wt = root.join(".worktrees/qa");
    let content = json!({"mode": "content", "numFiles": 0, "filenames": [],
        "content": format!("{}/src/a.rs:3:old_name(1)\nsrc/b.rs:9:  old_name(2)", wt.display())});
    assert_eq!(grep_hook(&wt, &wt, pattern, content), "");

    // Many new files: at most 20 listed.
    let many: Vec<String> = (0..30).map(|i| abs(&format!("gen/f{i:02}.rs"))).collect();
    let out = grep_hook(&root, &root, pattern, json!({"filenames": many}));
    let v: Value = serde_json::from_str(&out).unwrap();
    let ctx = v["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    settings.bind(|| insta::assert_snapshot!("grep_baseline_many_new", ctx));

    // No baseline for this pattern: silent.
    let other = json!({"filenames": [abs("src/z.rs")]});
    assert_eq!(grep_hook(&root, &root, "something_else", other), "");
}

#[test]
fn every_hook_survives_garbage() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = [
        "",
        "not json",
        "{\"unterminated",
        "[1,2,3]",
        "42",
        "null",
        "{}",
        "{\"tool_input\": \"str\", \"transcript_path\": 7, \"cwd\": {}}",
        "\u{0}\u{1}binary\u{7f}",
    ];
    for script in [
        "auto-orient.sh",
        "git-guard.sh",
        "handoff-status-check.sh",
        "grep-baseline-diff.sh",
    ] {
        for input in inputs {
            for role in [None, Some("qa")] {
                let env: Vec<(&str, &str)> = role.map(|r| ("MOOT_ROLE", r)).into_iter().collect();
                let out = run(&format!("hooks/{script}"), input, tmp.path(), &env);
                assert_eq!(out.code, 0, "{script} on {input:?}: {}", out.stderr);
                // Any JSON object is a SessionStart event: auto-orient may speak.
                let event = serde_json::from_str::<serde_json::Map<String, Value>>(input).is_ok();
                if script != "auto-orient.sh" || !event {
                    assert_eq!(out.stdout, "", "{script} on {input:?}");
                }
            }
        }
    }
}

const SECRET: &str = "convo_key_s3cr3t_VALUE_1234";

/// A workspace with moot.toml, `.moot/actors.json` (mode `mode`) and a stub
/// `python3` on PATH that reports what it was given, minus the key itself.
fn runtime_workspace(mode: u32) -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(ws.join(".moot")).unwrap();
    std::fs::write(ws.join("moot.toml"), "[convo]\nspace_id = \"spc_demo\"\n").unwrap();
    let actors = json!({"space_id": "spc_demo", "space_name": "demo", "api_url": "https://mootup.example",
        "actors": {"qa": {"actor_id": "agt_qa", "api_key": SECRET, "display_name": "QA"}}});
    let path = ws.join(".moot/actors.json");
    std::fs::write(&path, actors.to_string()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let stub = bin.join("python3");
    std::fs::write(
        &stub,
        "#!/usr/bin/env bash\n\
         echo \"argv: $*\"\n\
         if [ -n \"${CONVO_API_KEY:-}\" ]; then echo key=set; else echo key=unset; fi\n\
         echo \"agent=$CONVO_AGENT_ID name=$CONVO_AGENT_NAME space=$CONVO_SPACE_ID url=$CONVO_API_URL role=$CONVO_ROLE\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path_var = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    std::fs::create_dir_all(tmp.path().join("home")).unwrap();
    (tmp, ws, path_var)
}

#[test]
fn run_scripts_pass_the_key_only_through_the_environment() {
    let (tmp, ws, path) = runtime_workspace(0o600);
    let home = tmp.path().join("home").display().to_string();
    let env = [("PATH", path.as_str()), ("HOME", home.as_str())];
    let mut said = String::new();
    for name in ["mcp", "channel", "notify"] {
        let script = format!("devcontainer/run-moot-{name}.sh");
        let check = |out: &Out| {
            assert!(
                !out.stdout.contains(SECRET) && !out.stderr.contains(SECRET),
                "{script}: key leaked"
            );
        };

        // Role from MOOT_ROLE.
        let mut show = |what: &str, out: &Out| {
            check(out);
            said += &format!("# {script} {what}\n{}", out.shown());
        };
        let with_role = [env[0], env[1], ("MOOT_ROLE", "qa")];
        show("MOOT_ROLE=qa", &run(&script, "", &ws, &with_role));

        // Role from CONVO_ROLE, as the runtime sets it for every agent it
        // starts (the harness passes its environment to the MCP server).
        let from_runtime = [env[0], env[1], ("CONVO_ROLE", "qa")];
        show("CONVO_ROLE=qa", &run(&script, "", &ws, &from_runtime));

        // Role as the first argument; the rest goes to the runtime.
        let args = ["qa", "--transport", "stdio"];
        show(&args.join(" "), &run_args(&script, &args, "", &ws, &env));

        // No role, an unknown role, a role that is not an identifier.
        for args in [&[][..], &["ghost"][..], &["../qa"][..]] {
            show(
                &format!("{args:?}"),
                &run_args(&script, args, "", &ws, &env),
            );
        }
    }
    crate::support::snapshot_settings(&[(&ws, "[WS]")])
        .bind(|| insta::assert_snapshot!("run_scripts", said));
}

#[test]
fn run_scripts_warn_about_a_readable_key_file() {
    let (tmp, ws, path) = runtime_workspace(0o644);
    let home = tmp.path().join("home").display().to_string();
    let out = run_args(
        "devcontainer/run-moot-mcp.sh",
        &["qa"],
        "",
        &ws,
        &[("PATH", &path), ("HOME", &home)],
    );
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    crate::support::snapshot_settings(&[(&ws, "[WS]")])
        .bind(|| insta::assert_snapshot!("run_script_readable_key_file", out.shown()));
}

#[test]
fn run_scripts_find_the_main_checkout_keys_from_a_worktree() {
    let (tmp, ws, path) = runtime_workspace(0o600);
    let home = tmp.path().join("home").display().to_string();
    let git = |args: &[&str]| {
        let st = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&ws)
            .env("HOME", &home)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    };
    std::fs::write(ws.join(".gitignore"), ".moot/\n.worktrees/\n").unwrap();
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "init"]);
    git(&["worktree", "add", "-q", ".worktrees/qa"]);
    let wt = ws.join(".worktrees/qa");
    assert!(wt.join("moot.toml").is_file() && !wt.join(".moot").exists());
    let out = run_args(
        "devcontainer/run-moot-notify.sh",
        &["qa"],
        "",
        &wt,
        &[("PATH", &path), ("HOME", &home)],
    );
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    crate::support::snapshot_settings(&[(&ws, "[WS]")])
        .bind(|| insta::assert_snapshot!("run_script_from_a_worktree", out.shown()));
}
