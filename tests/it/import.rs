//! Meeting a team another client set up, end to end against the in-process
//! sandbox: the workspace mootup 0.3.0's `moot init` wrote
//! (tests/fixtures/mootup-0.3.0) and the one the TypeScript client's `init`
//! leaves (tests/fixtures/moot-cli-js), each with a sandbox seeded so that
//! their keys are live. Then `--overwrite PATH`, `moot diff`, `moot check
//! --format`, the TypeScript client's credentials and `moot logout`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use moot_sandbox::SandboxConfig;
use serde_json::Value;

use crate::support::{self, Secrets, text};

/// The API URL the fixtures were recorded with (the sandbox's of that run).
const RECORDED_URL: &str = "http://127.0.0.1:44473";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

support::world_over_test_env!(Env);

impl Env {
    /// The fixture workspace `name` in a tempdir, against a sandbox seeded
    /// from `name.seed.json`, with the recorded URL replaced by the sandbox's.
    fn new(name: &str) -> Env {
        let seed = std::fs::read_to_string(fixture(&format!("{name}.seed.json"))).unwrap();
        let env = Env {
            env: support::TestEnv::bare(SandboxConfig::from_seed_json(&seed).unwrap()),
        };
        support::copy_tree(&fixture(name), env.root());
        // git does not keep these modes; the clients set them.
        let moot = env.root().join(".moot");
        std::fs::set_permissions(&moot, std::fs::Permissions::from_mode(0o700)).unwrap();
        let actors = moot.join("actors.json");
        std::fs::set_permissions(&actors, std::fs::Permissions::from_mode(0o600)).unwrap();
        for rel in ["moot.toml", ".moot/actors.json"] {
            let p = env.root().join(rel);
            if let Ok(t) = std::fs::read_to_string(&p) {
                std::fs::write(&p, t.replace(RECORDED_URL, env.sandbox().url())).unwrap();
            }
        }
        env
    }

    /// Role key -> (actor id, key) in the workspace's actors.json.
    fn held(&self) -> Vec<(String, String, String)> {
        let text = std::fs::read_to_string(self.root().join(".moot/actors.json")).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        v["actors"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, a)| {
                let s = |f: &str| a[f].as_str().unwrap().to_string();
                (k.clone(), s("actor_id"), s("api_key"))
            })
            .collect()
    }

    fn secrets(&self) -> Secrets {
        let mut s = Secrets::new(self.held().into_iter().map(|(_, _, k)| k));
        s.push(self.sandbox().token());
        s
    }
}

fn ok(out: &Output) {
    assert!(out.status.success(), "{}", text(out));
}

/// import, apply (no key issued, every key kept, agents bound in
/// moot.lock), check (drift: the files moot did not write), apply
/// --overwrite, check exits 0.
fn adopt(env: &Env, fixture: &str, roles: &[&str]) {
    let before = env.held();
    let secrets = env.secrets();
    // Before the import, plan points at it.
    let out = env.moot(&["plan"]);
    env.snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            format!("plan_before_import_{fixture}"),
            support::transcript(&out)
        );
    });
    let out = env.moot(&["import"]);
    ok(&out);
    secrets.assert_output_clean("import", &out);
    let team = std::fs::read_to_string(env.root().join("team.toml")).unwrap();
    let team = moot::desired::parse_team(&team, Path::new("team.toml")).unwrap();
    let names: Vec<&str> = team.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, roles);

    let out = env.moot(&["apply", "-y"]);
    ok(&out);
    secrets.assert_output_clean("apply", &out);
    assert_eq!(
        env.sandbox().rotation_count(),
        0,
        "a key was issued or rotated"
    );
    assert_eq!(env.held(), before, "actors.json's keys changed");
    for (_, actor_id, key) in &before {
        assert_eq!(
            env.sandbox().live_key(actor_id).as_deref(),
            Some(key.as_str())
        );
    }
    let lock = std::fs::read_to_string(env.root().join("moot.lock")).unwrap();
    for (_, actor_id, _) in &before {
        assert!(
            lock.contains(actor_id.as_str()),
            "{actor_id} not bound in moot.lock"
        );
    }

    let out = env.moot(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = env.moot(&["apply", "-y", "--overwrite"]);
    ok(&out);
    let out = env.moot(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(env.sandbox().rotation_count(), 0);
    assert_eq!(env.held(), before);
    secrets.assert_workspace_clean("after adoption", env.root());
}

#[test]
fn mootup_workspace_is_adopted_without_issuing_a_key() {
    let env = Env::new("mootup-0.3.0");
    adopt(
        &env,
        "mootup",
        &["product", "spec", "implementation", "qa", "tech_writer"],
    );
    // The Python client's own files stay the user's.
    assert!(env.root().join(".moot/init-report.md").is_file());
}

#[test]
fn moot_cli_workspace_with_only_actors_json_is_adopted() {
    let env = Env::new("moot-cli-js");
    adopt(
        &env,
        "moot_cli_js",
        &["product", "spec", "implementation", "qa"],
    );
    let gitignore = std::fs::read_to_string(env.root().join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l.trim() == ".moot/"));
}

#[test]
fn import_reports_origins_and_what_team_toml_cannot_hold() {
    let env = Env::new("mootup-0.3.0");
    let out = env.moot(&["import"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("import_origins", support::transcript(&out)));
    // Nothing but team.toml changed.
    let mut before = support::tree(&fixture("mootup-0.3.0"));
    let mut after = support::tree(env.root());
    after.remove(Path::new("team.toml"));
    for t in [&mut before, &mut after] {
        for rel in ["moot.toml", ".moot/actors.json", ".moot"] {
            t.remove(Path::new(rel));
        }
    }
    assert_eq!(support::tree_diff(&before, &after), Vec::<String>::new());
}

#[test]
fn import_refuses_to_replace_team_toml_without_force() {
    let env = Env::new("moot-cli-js");
    std::fs::write(env.root().join("team.toml"), "mine\n").unwrap();
    let out = env.moot(&["import"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("import_needs_force", support::transcript(&out)));
    assert_eq!(
        std::fs::read(env.root().join("team.toml")).unwrap(),
        b"mine\n"
    );
    ok(&env.moot(&["import", "--force"]));
    let t = std::fs::read_to_string(env.root().join("team.toml")).unwrap();
    assert!(t.contains("name = \"implementation\""), "{t}");
}

#[test]
fn import_treats_its_inputs_as_hostile() {
    let env = Env::new("mootup-0.3.0");
    let toml = env.root().join("moot.toml");
    // A type error: file:line:column and a hint; nothing written.
    std::fs::write(&toml, "[agents.qa]\ndisplay_name = [1]\n").unwrap();
    let settings = env.snapshot_settings();
    let out = env.moot(&["import"]);
    settings.bind(|| insta::assert_snapshot!("import_type_error", support::transcript(&out)));
    assert!(!env.root().join("team.toml").exists());
    // A symbolic link is not followed.
    std::fs::remove_file(&toml).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &toml).unwrap();
    let out = env.moot(&["import"]);
    settings.bind(|| insta::assert_snapshot!("import_symlink", support::transcript(&out)));
    // Nor a FIFO (which would block a plain read forever).
    std::fs::remove_file(&toml).unwrap();
    let c = std::ffi::CString::new(toml.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = env.moot(&["import"]);
    settings.bind(|| insta::assert_snapshot!("import_fifo", support::transcript(&out)));
    std::fs::remove_file(&toml).unwrap();
    // A huge one is refused by size.
    std::fs::write(&toml, vec![b'#'; 2 << 20]).unwrap();
    let out = env.moot(&["import"]);
    settings.bind(|| insta::assert_snapshot!("import_too_big", support::transcript(&out)));
    assert!(!env.root().join("team.toml").exists());
}

#[test]
fn one_suggestion_is_accepted_by_path_and_saved_plans_keep_it() {
    let env = Env::new("mootup-0.3.0");
    ok(&env.moot(&["import"]));
    ok(&env.moot(&["apply", "-y"]));

    // moot diff: the user's file against the staged suggestion.
    let out = env.moot(&["diff", "./moot.toml"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("diff_suggestion", support::transcript(&out)));

    // A path that is not a managed file of the plan is refused.
    for bad in ["CLAUDE.md", "nope.txt", ".moot/actors.json"] {
        let out = env.moot(&["plan", "--overwrite", bad]);
        env.snapshot_settings().bind(|| {
            insta::assert_snapshot!(
                format!("overwrite_refused_{}", bad.replace(['.', '/'], "_")),
                support::transcript(&out)
            )
        });
    }

    let plan_file = env.root().join("accept.plan");
    let out = env.moot(&[
        "plan",
        "--overwrite",
        "moot.toml",
        "--out",
        plan_file.to_str().unwrap(),
    ]);
    ok(&out);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    assert_eq!(
        saved["options"]["overwrite_paths"],
        serde_json::json!(["moot.toml"])
    );
    ok(&env.moot(&["apply", plan_file.to_str().unwrap()]));
    let moot_toml = std::fs::read_to_string(env.root().join("moot.toml")).unwrap();
    assert!(moot_toml.starts_with("# Generated by moot"), "{moot_toml}");
    // Only that file: the hooks are still the user's, still drift.
    let out = env.moot(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let drifted: Vec<&str> = v["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    assert!(!drifted.contains(&"moot.toml"), "{drifted:?}");
    assert!(
        drifted.contains(&".claude/hooks/git-guard.sh"),
        "{drifted:?}"
    );
    std::fs::remove_file(&plan_file).unwrap();

    // With nothing staged, diff says it compares with what moot would write.
    std::fs::remove_dir_all(env.root().join(".moot/suggested")).unwrap();
    let out = env.moot(&["diff", ".claude/hooks/git-guard.sh"]);
    // The diff itself is the hook's whole text: only its header is shown.
    let head = Output {
        stdout: out
            .stdout
            .split_inclusive(|b| *b == b'\n')
            .take(2)
            .flatten()
            .copied()
            .collect(),
        ..out
    };
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("diff_nothing_staged", support::transcript(&head)));
}

fn check_validator() -> jsonschema::Validator {
    let load = |rel: &str| -> Value {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let check = load("schemas/check.schema.json");
    jsonschema::meta::validate(&check).expect("a valid draft 2020-12 schema");
    jsonschema::options()
        .with_resource(
            "https://mootup.io/schemas/moot/plan.schema.json",
            jsonschema::Resource::from_contents(load("schemas/plan.schema.json")),
        )
        .build(&check)
        .unwrap()
}

#[test]
fn check_formats_json_and_github_annotations() {
    let env = Env::new("mootup-0.3.0");
    ok(&env.moot(&["import"]));
    ok(&env.moot(&["apply", "-y"]));
    let validator = check_validator();

    let out = env.moot(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(!v["drift"].as_array().unwrap().is_empty());
    let mut bad = v.clone();
    bad["extra"] = Value::Bool(true);
    assert!(!validator.is_valid(&bad));

    // Under GitHub Actions the annotations are the default.
    let out = env
        .cmd(&["check"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let annotations: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(
        annotations.len(),
        v["drift"].as_array().unwrap().len(),
        "{stdout}"
    );
    assert!(
        annotations.iter().any(|l| l.starts_with(
            "::error file=moot.toml,title=moot%3A moot.toml is out of sync with team.toml::"
        )),
        "{stdout}"
    );
    assert!(annotations.iter().all(|l| !l.contains('\r')));
    // --format wins over the environment.
    let out = env
        .cmd(&["check", "--format", "human"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("::error"));

    ok(&env.moot(&["apply", "-y", "--overwrite"]));
    let out = env.moot(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(validator.is_valid(&v));
    assert_eq!(v["changes"], Value::Bool(false));
}

/// The binary with HOME only: no MOOT_TOKEN, so stored logins are used.
fn without_env_token(env: &Env, args: &[&str]) -> Output {
    let mut c = support::moot(env.root(), env.home.path(), None);
    c.args(args).output().unwrap()
}

fn write_private(path: &Path, text: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn typescript_clients_static_token_is_used_and_never_written() {
    let env = Env::new("moot-cli-js");
    ok(&env.moot(&["import"]));
    let file = env.home.path().join(".mootup/credentials.json");
    let url = env.sandbox().url();
    let token = env.sandbox().token();
    let body = format!(
        "{{\n  \"default\": {{\"api_url\": \"{url}\", \"token\": \"nope\", \"user_id\": \"usr_x\", \"credential_type\": \"oauth\", \"refresh_token_ref\": \"r\"}},\n  \
         \"work\": {{\"api_url\": \"{url}\", \"token\": \"{token}\", \"user_id\": \"usr_fixture_js\", \"credential_type\": \"static_token\"}}\n}}\n"
    );
    write_private(&file, &body, 0o600);
    // The default profile is an OAuth login: refused with a hint.
    let out = without_env_token(&env, &["plan"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("oauth_profile_refused", support::transcript(&out)));
    // --profile picks the static-token one.
    let out = without_env_token(&env, &["plan", "--profile", "work"]);
    ok(&out);
    assert!(!text(&out).contains(token));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        body,
        "the file was written"
    );
    assert!(!env.home.path().join(".moot/credentials").exists());
    // Readable by others, or a link: refused.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = without_env_token(&env, &["plan", "--profile", "work"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("client_credentials_readable", support::transcript(&out)));
    let real = env.home.path().join("real.json");
    write_private(&real, &body, 0o600);
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&real, &file).unwrap();
    let out = without_env_token(&env, &["plan", "--profile", "work"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("client_credentials_symlink", support::transcript(&out)));
}

#[test]
fn logout_removes_one_profile_and_keeps_the_rest() {
    let env = Env::new("moot-cli-js");
    let file = env.home.path().join(".moot/credentials");
    write_private(
        &file,
        "[default]\napi_url = \"https://a.example\"\ntoken = \"mootup_pat_a\"\n\n\
         [work]\napi_url = \"https://w.example\"\ntoken = \"mootup_pat_w\"\n",
        0o600,
    );
    let out = without_env_token(&env, &["logout", "--profile", "work"]);
    ok(&out);
    assert!(!text(&out).contains("mootup_pat_"));
    let left: toml::Table = toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(left.keys().collect::<Vec<_>>(), ["default"]);
    assert_eq!(left["default"]["token"].as_str(), Some("mootup_pat_a"));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let out = without_env_token(&env, &["logout", "--profile", "work"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("logout_unknown_profile", support::transcript(&out)));
    ok(&without_env_token(&env, &["logout"]));
    let left: toml::Table = toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(left.is_empty());
}

#[test]
fn moots_own_credentials_file_must_be_private_and_not_a_link() {
    let env = Env::new("moot-cli-js");
    ok(&env.moot(&["import"]));
    let file = env.home.path().join(".moot/credentials");
    let body = format!(
        "[default]\napi_url = \"{}\"\ntoken = \"{}\"\n",
        env.sandbox().url(),
        env.sandbox().token()
    );
    write_private(&file, &body, 0o600);
    ok(&without_env_token(&env, &["plan"]));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = without_env_token(&env, &["plan"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("credentials_readable", support::transcript(&out)));
    assert!(!text(&out).contains(env.sandbox().token()));
    let real = env.home.path().join("elsewhere");
    std::fs::rename(&file, &real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&real, &file).unwrap();
    let out = without_env_token(&env, &["plan"]);
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("credentials_symlink", support::transcript(&out)));
}
