//! `moot login` end to end against an in-process sandbox, HOME in a tempdir.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use moot_sandbox::{AgentSeed, SandboxConfig};

use crate::support::{Api, TestEnv};

const AGENT_KEY: &str = "convo_key_agentsecret0001";

/// A sandbox whose user has one agent with a key, and an empty HOME.
fn online() -> TestEnv {
    let mut cfg = SandboxConfig::default();
    cfg.humans[0].agents.push(AgentSeed {
        display_name: "Keyed".into(),
        api_key: Some(AGENT_KEY.into()),
        ..AgentSeed::default()
    });
    TestEnv::bare(cfg)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs and checks that no secret appears in the output.
fn run(mut cmd: assert_cmd::Command, secrets: &[&str]) -> Run {
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret),
            "secret in stdout: {}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(secret),
            "secret in stderr: {}",
            run.stderr
        );
    }
    run
}

impl Run {
    /// As `support::transcript` shows a run, for a snapshot.
    fn shown(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn login_from_stdin_stores_a_private_credentials_file() {
    let env = online();
    let (sb, home) = (env.sandbox(), &env.home);
    let mut cmd = env.offline_cmd(&[]);
    cmd.args(["login", "--token", "-", "--api-url", sb.url()])
        .write_stdin(format!("  {}\n", sb.token()));
    let r = run(cmd, &[sb.token()]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("logged_in", r.shown()));
    let file = home.path().join(".moot/credentials");
    assert_eq!(mode(&home.path().join(".moot")), 0o700);
    assert_eq!(mode(&file), 0o600);
    let stored: toml::Table = toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(stored["default"]["token"].as_str(), Some(sb.token()));
    assert_eq!(stored["default"]["api_url"].as_str(), Some(sb.url()));
    assert_eq!(stored["default"]["user_id"].as_str(), Some("usr_sandbox_1"));
    // No temp file left behind.
    let names: Vec<_> = std::fs::read_dir(home.path().join(".moot"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["credentials"]);
}

#[test]
fn a_rejected_token_exits_1_with_a_hint() {
    let env = online();
    let (sb, home) = (env.sandbox(), &env.home);
    let wrong = "mootup_pat_wrong_token_123";
    let mut cmd = env.offline_cmd(&[]);
    cmd.args(["login", "--token", "-", "--api-url", sb.url()])
        .write_stdin(wrong);
    let r = run(cmd, &[wrong]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("token_rejected", r.shown()));
    assert!(!home.path().join(".moot/credentials").exists());
}

#[test]
fn an_agent_key_is_refused_before_any_request() {
    let env = online();
    let (sb, home) = (env.sandbox(), &env.home);
    let mut cmd = env.offline_cmd(&[]);
    cmd.args(["login", "--token", "-", "--api-url", sb.url()])
        .write_stdin(AGENT_KEY);
    let r = run(cmd, &[AGENT_KEY]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("agent_key_refused", r.shown()));
    assert!(!home.path().join(".moot").exists());
}

#[test]
fn a_token_that_is_not_a_pat_is_refused() {
    let env = TestEnv::on(Api::Offline);
    let mut cmd = env.offline_cmd(&[]);
    cmd.args(["login", "--token", "-", "--api-url", "http://127.0.0.1:9"])
        .write_stdin("ghp_notmoot");
    let r = run(cmd, &["ghp_notmoot"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("not_a_pat", r.shown()));
}

#[test]
fn no_token_and_no_terminal_says_to_use_stdin() {
    let env = TestEnv::on(Api::Offline);
    let mut cmd = env.offline_cmd(&[]);
    cmd.args(["login", "--api-url", "http://127.0.0.1:9"])
        .write_stdin("");
    let r = run(cmd, &[]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("no_token_no_terminal", r.shown()));
}

#[test]
fn other_profiles_and_unknown_keys_are_kept() {
    let env = online();
    let (sb, home) = (env.sandbox(), &env.home);
    let dir = home.path().join(".moot");
    std::fs::create_dir(&dir).unwrap();
    let other = "mootup_pat_other_profile_token";
    std::fs::write(
        dir.join("credentials"),
        format!(
            "[work]\napi_url = \"https://work.example\"\ntoken = \"{other}\"\nuser_id = \"usr_w\"\n\n\
             [default]\nfavourite_colour = \"teal\"\ntoken = \"mootup_pat_stale\"\n"
        ),
    )
    .unwrap();
    let mut cmd = env.offline_cmd(&[]);
    cmd.args(["login", "--token", "-", "--api-url", sb.url()])
        .write_stdin(sb.token());
    let r = run(cmd, &[sb.token(), other, "mootup_pat_stale"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let file = dir.join("credentials");
    assert_eq!(mode(&file), 0o600);
    let stored: toml::Table = toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(stored["work"]["token"].as_str(), Some(other));
    assert_eq!(
        stored["work"]["api_url"].as_str(),
        Some("https://work.example")
    );
    assert_eq!(stored["default"]["favourite_colour"].as_str(), Some("teal"));
    assert_eq!(stored["default"]["token"].as_str(), Some(sb.token()));
}

#[test]
fn a_named_profile_is_stored_under_its_name() {
    let env = online();
    let (sb, home) = (env.sandbox(), &env.home);
    let mut cmd = env.offline_cmd(&[]);
    cmd.args(["login", "--token", "-", "--profile", "demo"])
        .env("MOOT_API_URL", sb.url())
        .write_stdin(sb.token());
    let r = run(cmd, &[sb.token()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(home.path().join(".moot/credentials")).unwrap();
    let stored: toml::Table = toml::from_str(&text).unwrap();
    assert!(stored.contains_key("demo") && !stored.contains_key("default"));
}

#[test]
fn a_malformed_credentials_file_is_named_with_line_and_column() {
    let env = online();
    let (sb, home) = (env.sandbox(), &env.home);
    let dir = home.path().join(".moot");
    std::fs::create_dir(&dir).unwrap();
    let old = "mootup_pat_in_a_broken_file";
    std::fs::write(
        dir.join("credentials"),
        format!("[default]\ntoken = \"{old}\nbroken\n"),
    )
    .unwrap();
    let mut cmd = env.offline_cmd(&[]);
    cmd.args(["login", "--token", "-", "--api-url", sb.url()])
        .write_stdin(sb.token());
    let r = run(cmd, &[sb.token(), old]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("malformed_credentials", r.shown()));
}

#[test]
fn an_unreachable_server_names_the_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let env = TestEnv::on(Api::Offline);
    let token = "mootup_pat_unreachable_0001";
    let mut cmd = env.offline_cmd(&[]);
    cmd.args(["login", "--token", "-"])
        .env("MOOT_API_URL", format!("http://127.0.0.1:{port}"))
        .env("MOOT_HTTP_RETRIES", "0")
        .write_stdin(token);
    let r = run(cmd, &[token]);
    // The snapshot hides ports: the one named is the one asked for.
    assert!(
        r.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        r.stderr
    );
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("server_unreachable", r.shown()));
}
