//! `moot login` end to end against an in-process sandbox, HOME in a tempdir.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assert_cmd::Command;
use moot_sandbox::{AgentSeed, Sandbox, SandboxConfig};

const AGENT_KEY: &str = "convo_key_agentsecret0001";

fn sandbox() -> Sandbox {
    let mut cfg = SandboxConfig::default();
    cfg.humans[0].agents.push(AgentSeed {
        display_name: "Keyed".into(),
        api_key: Some(AGENT_KEY.into()),
        ..AgentSeed::default()
    });
    Sandbox::start(cfg)
}

fn moot(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("moot").unwrap();
    cmd.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs and checks that no secret appears in the output.
fn run(mut cmd: Command, secrets: &[&str]) -> Run {
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

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn login_from_stdin_stores_a_private_credentials_file() {
    let sb = sandbox();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = moot(home.path());
    cmd.args(["login", "--token", "-", "--api-url", sb.url()])
        .write_stdin(format!("  {}\n", sb.token()));
    let r = run(cmd, &[sb.token()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "Logged in to {} as Sandbox User (usr_sandbox_1)",
            sb.url()
        )),
        "{}",
        r.stderr
    );
    let file = home.path().join(".moot/credentials");
    assert!(
        r.stderr.contains(&file.display().to_string()),
        "{}",
        r.stderr
    );
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
    let sb = sandbox();
    let home = tempfile::tempdir().unwrap();
    let wrong = "mootup_pat_wrong_token_123";
    let mut cmd = moot(home.path());
    cmd.args(["login", "--token", "-", "--api-url", sb.url()])
        .write_stdin(wrong);
    let r = run(cmd, &[wrong]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("rejected the token"), "{}", r.stderr);
    assert!(r.stderr.contains("HTTP 401"), "{}", r.stderr);
    assert!(r.stderr.contains("\n\nhint: "), "{}", r.stderr);
    assert!(!home.path().join(".moot/credentials").exists());
}

#[test]
fn an_agent_key_is_refused_before_any_request() {
    let sb = sandbox();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = moot(home.path());
    cmd.args(["login", "--token", "-", "--api-url", sb.url()])
        .write_stdin(AGENT_KEY);
    let r = run(cmd, &[AGENT_KEY]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("agent key"), "{}", r.stderr);
    assert!(r.stderr.contains("hint: "), "{}", r.stderr);
    assert!(!home.path().join(".moot").exists());
}

#[test]
fn a_token_that_is_not_a_pat_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = moot(home.path());
    cmd.args(["login", "--token", "-", "--api-url", "http://127.0.0.1:9"])
        .write_stdin("ghp_notmoot");
    let r = run(cmd, &["ghp_notmoot"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("mootup_pat_"), "{}", r.stderr);
}

#[test]
fn no_token_and_no_terminal_says_to_use_stdin() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = moot(home.path());
    cmd.args(["login", "--api-url", "http://127.0.0.1:9"])
        .write_stdin("");
    let r = run(cmd, &[]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--token -"), "{}", r.stderr);
}

#[test]
fn other_profiles_and_unknown_keys_are_kept() {
    let sb = sandbox();
    let home = tempfile::tempdir().unwrap();
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
    let mut cmd = moot(home.path());
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
    let sb = sandbox();
    let home = tempfile::tempdir().unwrap();
    let mut cmd = moot(home.path());
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
    let sb = sandbox();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".moot");
    std::fs::create_dir(&dir).unwrap();
    let old = "mootup_pat_in_a_broken_file";
    std::fs::write(
        dir.join("credentials"),
        format!("[default]\ntoken = \"{old}\nbroken\n"),
    )
    .unwrap();
    let mut cmd = moot(home.path());
    cmd.args(["login", "--token", "-", "--api-url", sb.url()])
        .write_stdin(sb.token());
    let r = run(cmd, &[sb.token(), old]);
    assert_eq!(r.code, 1);
    // file:line:col, then the reason.
    let at = r.stderr.find(".moot/credentials:").expect("names the file") + 18;
    let (line, rest) = r.stderr[at..].split_once(':').unwrap();
    let col = rest.split(':').next().unwrap();
    assert!(line.parse::<u32>().unwrap() >= 2, "{}", r.stderr);
    assert!(col.parse::<u32>().is_ok(), "{}", r.stderr);
    assert!(r.stderr.contains("hint: "), "{}", r.stderr);
}

#[test]
fn an_unreachable_server_names_the_url() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let home = tempfile::tempdir().unwrap();
    let token = "mootup_pat_unreachable_0001";
    let mut cmd = moot(home.path());
    cmd.args(["login", "--token", "-"])
        .env("MOOT_API_URL", format!("http://127.0.0.1:{port}"))
        .env("MOOT_HTTP_RETRIES", "0")
        .write_stdin(token);
    let r = run(cmd, &[token]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("MOOT_API_URL"), "{}", r.stderr);
}
