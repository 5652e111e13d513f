//! `moot init`, `moot templates` and `moot generate`, end to end.

use std::path::Path;

use assert_cmd::Command;
use moot::desired::bundle::{ARCHETYPES, archetype_source};
use moot::desired::{load_team, parse_team};
use predicates::prelude::*;

const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/valid-team");

fn moot(workspace: &Path) -> Command {
    let mut cmd = Command::cargo_bin("moot").unwrap();
    cmd.env_remove("NO_COLOR")
        .args(["--color", "never", "-C"])
        .arg(workspace);
    cmd
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
    let ws = tempfile::tempdir().unwrap();
    moot(ws.path())
        .args(["init", "--template", FIXTURE_DIR])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("wrote "))
        .stderr(predicate::str::contains(
            "roles: product, spec, implementation, qa",
        ))
        .stderr(predicate::str::contains(
            "next: run `moot login`, then `moot plan`",
        ));
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
    let ws = tempfile::tempdir().unwrap();
    let target = ws.path().join("team.toml");
    std::fs::write(&target, "# mine\n").unwrap();
    moot(ws.path())
        .args(["init", "--template", FIXTURE_DIR])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"))
        .stderr(predicate::str::contains("\n\nhint: pass `--force`"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "# mine\n");

    moot(ws.path())
        .args(["init", "--force", "--template", FIXTURE_DIR])
        .assert()
        .success()
        .stderr(predicate::str::contains("replaced "));
    load_team(&target).unwrap();
}

#[test]
fn quiet_init_prints_nothing() {
    let ws = tempfile::tempdir().unwrap();
    moot(ws.path())
        .args(["-q", "init", "--template", FIXTURE_DIR])
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

#[test]
fn unknown_template_name_lists_archetypes() {
    let ws = tempfile::tempdir().unwrap();
    moot(ws.path())
        .args(["init", "--template", "loop-5"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: unknown template `loop-5`; did you mean `loop-",
        ))
        .stderr(predicate::str::contains(
            "hint: built-in archetypes: loop-3, loop-4 (default)",
        ));
    assert!(!ws.path().join("team.toml").exists());
}

#[test]
fn template_directory_without_team_toml() {
    let ws = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    moot(ws.path())
        .args(["init", "--template"])
        .arg(empty.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("holds no team.toml"))
        .stderr(predicate::str::contains("hint: "));
}

#[test]
fn init_into_a_missing_directory() {
    let ws = tempfile::tempdir().unwrap();
    moot(&ws.path().join("nope"))
        .args(["init", "--template", FIXTURE_DIR])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not exist"));
}

/// Pending the bundle branch, like `every_archetype_validates`.
#[test]
fn default_init_and_templates_use_the_bundle() {
    if archetype_source("loop-4").is_none() {
        eprintln!("skipped: the archetype bundle is not merged yet");
        return;
    }
    let ws = tempfile::tempdir().unwrap();
    moot(ws.path()).arg("init").assert().success();
    let team = load_team(&ws.path().join("team.toml")).unwrap();
    assert_eq!(
        team.roles
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["product", "spec", "implementation", "qa"]
    );
    moot(ws.path())
        .arg("templates")
        .assert()
        .success()
        .stdout(predicate::str::contains("loop-4 (default)"))
        .stdout(predicate::str::contains(
            "product, spec, implementation, qa",
        ));
}

#[test]
fn generate_completions_and_man() {
    let ws = tempfile::tempdir().unwrap();
    moot(ws.path())
        .args(["generate", "completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_moot"));
    moot(ws.path())
        .args(["generate", "man"])
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH moot"));
}
