//! `moot init`, `moot templates` and `moot generate`, end to end.

use std::path::Path;

use assert_cmd::Command;

use crate::support::{self, Api, TestEnv};
use moot::desired::bundle::{ARCHETYPES, archetype_source};
use moot::desired::{load_team, parse_team};
use predicates::prelude::*;

const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/valid-team");

/// An empty workspace and HOME, no API.
fn env() -> TestEnv {
    TestEnv::on(Api::Offline)
}

/// `moot --color never ARGS` in `env`'s workspace.
fn moot(env: &TestEnv, args: &[&str]) -> Command {
    let mut cmd = env.offline_cmd(&["--color", "never"]);
    cmd.args(args);
    cmd
}

/// A run of `cmd` as its snapshot shows it.
fn shown(cmd: &mut Command) -> String {
    support::transcript(&cmd.output().unwrap())
}

/// Pending the bundle branch: fails until templates/teams/<name>/team.toml
/// exist for every archetype `moot templates` lists.
#[test]
fn every_archetype_validates() {
    let mut problems = Vec::new();
    for name in ARCHETYPES {
        let path = format!("templates/teams/{name}/team.toml");
        match archetype_source(name) {
            None => problems.push(format!("{path} is missing from the bundle")),
            Some(src) => {
                if let Err(e) = parse_team(src, Path::new(&path)) {
                    problems.push(format!("{e}\nhint: {}", e.hint().unwrap_or_default()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn init_from_a_template_directory_writes_it_verbatim() {
    let env = env();
    let ws = &env.ws;
    let said = shown(&mut moot(&env, &["init", "--template", FIXTURE_DIR]));
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("init_from_a_directory", said));
    let written = std::fs::read_to_string(ws.path().join("team.toml")).unwrap();
    let fixture = std::fs::read_to_string(Path::new(FIXTURE_DIR).join("team.toml")).unwrap();
    assert_eq!(written, fixture);
    load_team(&ws.path().join("team.toml")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(ws.path().join("team.toml")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    }
    // Nothing else: no temporary file left behind.
    assert_eq!(std::fs::read_dir(ws.path()).unwrap().count(), 1);
}

#[test]
fn second_init_refuses_without_force_and_force_replaces() {
    let env = env();
    let target = env.root().join("team.toml");
    std::fs::write(&target, "# mine\n").unwrap();
    let refused = shown(&mut moot(&env, &["init", "--template", FIXTURE_DIR]));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "# mine\n");
    let forced = shown(&mut moot(
        &env,
        &["init", "--force", "--template", FIXTURE_DIR],
    ));
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!("second_init_refused", refused);
        insta::assert_snapshot!("second_init_forced", forced);
    });
    load_team(&target).unwrap();
}

#[test]
fn quiet_init_prints_nothing() {
    let env = env();
    moot(&env, &["-q", "init", "--template", FIXTURE_DIR])
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

#[test]
fn unknown_template_name_lists_archetypes() {
    let env = env();
    let said = shown(&mut moot(&env, &["init", "--template", "loop-5"]));
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("unknown_template", said));
    assert!(!env.root().join("team.toml").exists());
}

#[test]
fn template_directory_without_team_toml() {
    let env = env();
    let empty = tempfile::tempdir().unwrap();
    let said = shown(moot(&env, &["init", "--template"]).arg(empty.path()));
    support::snapshot_settings(&[(empty.path(), "[TEMPLATE]")])
        .bind(|| insta::assert_snapshot!("template_without_team_toml", said));
}

#[test]
fn init_into_a_missing_directory() {
    let env = env();
    let missing = env.root().join("nope");
    let said = shown(support::moot(&missing, env.home.path(), None).args([
        "--color",
        "never",
        "init",
        "--template",
        FIXTURE_DIR,
    ]));
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("init_into_a_missing_directory", said));
}

/// Pending the bundle branch, like `every_archetype_validates`.
#[test]
fn default_init_and_templates_use_the_bundle() {
    if archetype_source("loop-4").is_none() {
        eprintln!("skipped: the archetype bundle is not merged yet");
        return;
    }
    let env = env();
    moot(&env, &["init"]).assert().success();
    let team = load_team(&env.root().join("team.toml")).unwrap();
    assert_eq!(
        team.roles
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["product", "spec", "implementation", "qa"]
    );
    let said = shown(&mut moot(&env, &["templates"]));
    support::snapshot_settings(&[]).bind(|| insta::assert_snapshot!("templates", said));
}

#[test]
fn generate_completions_and_man() {
    let env = env();
    moot(&env, &["generate", "completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_moot"));
    moot(&env, &["generate", "man"])
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH moot"));
}
