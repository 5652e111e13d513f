//! schemas/plan.schema.json (hand-written) describes `moot plan --json` and
//! `moot apply --json`, schemas/check.schema.json `moot check --format
//! json` (with the plan's definitions); schemas/lock.schema.json is generated from
//! `moot::observed::lockfile::Lock` and kept in step here:
//! `MOOT_UPDATE_SCHEMAS=1 cargo test --test it schemas` rewrites it.

use std::path::Path;

use indexmap::IndexMap;
use moot::desired::Policy;
use moot::mode::Mode;
use moot::observed::lockfile::{Lock, LockEntry, LockRole, RetiredRole};
use moot::plan::action::{
    Action, ActionKind, Blocked, Drift, KeySource, Op, Plan, SecretRole, SecretsSpec, Target,
};
use moot::printer::json::plan_value;
use moot_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

fn manifest(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn load(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(manifest(rel)).unwrap()).unwrap()
}

fn validator(rel: &str) -> jsonschema::Validator {
    let schema = load(rel);
    jsonschema::meta::validate(&schema).expect("a valid draft 2020-12 schema");
    jsonschema::draft202012::new(&schema).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = v.iter_errors(instance).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?} in {instance:#}");
}

// ---------------------------------------------------------------- lock

fn generated_lock_schema() -> String {
    let schema = schemars::schema_for!(Lock);
    let mut text = serde_json::to_string_pretty(&schema).unwrap();
    text.push('\n');
    text
}

#[test]
fn lock_schema_is_up_to_date() {
    let path = manifest("schemas/lock.schema.json");
    let want = generated_lock_schema();
    if std::env::var_os("MOOT_UPDATE_SCHEMAS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date; run `MOOT_UPDATE_SCHEMAS=1 cargo test --test it schemas` and commit it",
        path.display()
    );
}

fn sample_lock() -> Lock {
    let mut roles = IndexMap::new();
    roles.insert(
        "product".to_string(),
        LockRole {
            actor_id: "agt_1".into(),
        },
    );
    Lock {
        version: 1,
        bundle_version: "0.1.0+abc".into(),
        api_url: "https://mootup.io".into(),
        space_id: "spc_1".into(),
        space_name: "spc_1".into(),
        roles,
        retired: IndexMap::from([(
            "qa".to_string(),
            RetiredRole {
                actor_id: "agt_2".into(),
                display_name: Some("QA".into()),
            },
        )]),
        files: vec![
            LockEntry {
                path: ".claude/hooks/git-guard.sh".into(),
                policy: Policy::Managed,
                sha256: "a".repeat(64).parse().unwrap(),
                mode: Mode::EXECUTABLE,
            },
            LockEntry {
                path: "CLAUDE.md".into(),
                policy: Policy::Seed,
                sha256: "b".repeat(64).parse().unwrap(),
                mode: Mode::FILE,
            },
        ],
    }
}

/// The schema and the parser agree: a rendered lock (read back as TOML)
/// validates, and shapes the parser refuses are refused by the schema too.
#[test]
fn lock_schema_accepts_a_rendered_lock_and_rejects_bad_shapes() {
    let v = jsonschema::draft202012::new(&serde_json::from_str(&generated_lock_schema()).unwrap())
        .unwrap();
    let text = sample_lock().render();
    let value: Value = toml::from_str(&text).unwrap();
    assert_valid(&v, &value);

    let mut unknown = value.clone();
    unknown["api_key"] = json!("convo_key_x");
    assert!(
        !v.is_valid(&unknown),
        "no unknown field (deny_unknown_fields)"
    );
    let mut bad_policy = value.clone();
    bad_policy["files"][0]["policy"] = json!("owned");
    assert!(!v.is_valid(&bad_policy));
    let mut missing = value.clone();
    missing.as_object_mut().unwrap().remove("space_id");
    assert!(!v.is_valid(&missing));
}

// ---------------------------------------------------------------- plan

fn action(id: usize, kind: ActionKind, target: Target, diff: Option<&str>, op: Op) -> Action {
    Action {
        id,
        kind,
        target,
        destructive: kind == ActionKind::RotateKey,
        depends_on: (0..id).take(2).collect(),
        reason: format!("reason for {kind}"),
        diff: diff.map(str::to_string),
        op,
    }
}

fn write(path: &str) -> Op {
    Op::Write {
        path: path.into(),
        content: "x\n".into(),
        mode: Mode::FILE,
    }
}

/// One action of each of the 12 kinds, blocked and drift items with and
/// without hints, and notes.
fn every_kind_plan() -> Plan {
    let agent = |r: &str| Target::Agent(r.into());
    let path = |p: &str| Target::Path(p.into());
    let rotate = |role: &str, force: bool| Op::RotateKey {
        role: role.into(),
        role_key: role.into(),
        actor_id: format!("agt_{role}"),
        display_name: role.to_uppercase(),
        force,
    };
    let diff = Some("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
    let kinds = [
        (
            ActionKind::IssueKey,
            agent("product"),
            None,
            rotate("product", false),
        ),
        (ActionKind::RotateKey, agent("qa"), None, rotate("qa", true)),
        (
            ActionKind::RenameAgent,
            agent("spec"),
            None,
            Op::Rename {
                role: "spec".into(),
                actor_id: "agt_spec".into(),
                from: "Specs".into(),
                to: "Spec".into(),
            },
        ),
        (
            ActionKind::AppendLines,
            path(".gitignore"),
            diff,
            write(".gitignore"),
        ),
        (
            ActionKind::Create,
            path("moot.toml"),
            diff,
            write("moot.toml"),
        ),
        (
            ActionKind::Update,
            path(".claude/skills/verify/SKILL.md"),
            diff,
            write(".claude/skills/verify/SKILL.md"),
        ),
        (
            ActionKind::Remove,
            path(".claude/skills/old/SKILL.md"),
            None,
            Op::Remove {
                path: ".claude/skills/old/SKILL.md".into(),
            },
        ),
        (
            ActionKind::Chmod,
            path(".claude/hooks/git-guard.sh"),
            None,
            Op::Chmod {
                path: ".claude/hooks/git-guard.sh".into(),
                mode: Mode::EXECUTABLE,
            },
        ),
        (
            ActionKind::Stage,
            path(".moot/suggested/CLAUDE.md"),
            diff,
            write(".moot/suggested/CLAUDE.md"),
        ),
        (
            ActionKind::Merge,
            path(".claude/settings.json"),
            diff,
            write(".claude/settings.json"),
        ),
        (
            ActionKind::WriteSecrets,
            path(".moot/actors.json"),
            None,
            Op::WriteSecrets(SecretsSpec {
                space_id: "spc_1".into(),
                space_name: "spc_1".into(),
                api_url: "https://mootup.io".into(),
                roles: vec![SecretRole {
                    role: "product".into(),
                    key: "product".into(),
                    actor_id: "agt_product".into(),
                    display_name: "Product".into(),
                    source: KeySource::Issued,
                }],
                retired: vec![SecretRole {
                    role: "qa".into(),
                    key: "qa".into(),
                    actor_id: "agt_qa".into(),
                    display_name: "QA".into(),
                    source: KeySource::Held,
                }],
            }),
        ),
        (
            ActionKind::WriteLock,
            path("moot.lock"),
            diff,
            write("moot.lock"),
        ),
    ];
    Plan {
        offline: false,
        actions: kinds
            .into_iter()
            .enumerate()
            .map(|(i, (k, t, d, op))| action(i, k, t, d, op))
            .collect(),
        blocked: vec![Blocked {
            target: agent("librarian"),
            reason: "no agent named \"Librarian\" on the platform".into(),
            hint: Some("add it on the platform".into()),
        }],
        drift: vec![
            Drift {
                target: agent("implementation"),
                reason: "key not held here".into(),
                hint: Some("run `moot apply --replace implementation`".into()),
            },
            Drift {
                target: path("CLAUDE.md"),
                reason: "edited".into(),
                hint: None,
            },
        ],
        notes: vec!["a note".into()],
    }
}

#[test]
fn plan_value_of_every_kind_validates() {
    let v = validator("schemas/plan.schema.json");
    let plan = every_kind_plan();
    let value = plan_value(&plan);
    assert_valid(&v, &value);

    let kinds: Vec<&str> = value["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    let schema = load("schemas/plan.schema.json");
    let mut listed: Vec<&str> = schema["$defs"]["kind"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let mut ours: Vec<&str> = ActionKind::ALL.iter().map(|k| k.as_str()).collect();
    ours.sort_unstable();
    listed.sort_unstable();
    assert_eq!(
        ours, listed,
        "the schema lists exactly the registry's kinds"
    );
    for k in &kinds {
        assert!(listed.contains(k), "{k}");
    }

    // No `op` (apply's internals) leaks into the JSON.
    for a in value["actions"].as_array().unwrap() {
        assert!(a.get("op").is_none(), "{a}");
    }

    // An empty plan, offline, as `moot check` sees a clean workspace.
    let empty = plan_value(&Plan {
        offline: true,
        ..Plan::default()
    });
    assert_valid(&v, &empty);
    assert_eq!(empty["changes"], json!(false));
}

#[test]
fn apply_result_extras_validate_and_come_together() {
    let v = validator("schemas/plan.schema.json");
    let mut value = plan_value(&every_kind_plan());
    value["applied"] = json!(true);
    value["keys_issued"] = json!(["agent:product", "agent:qa"]);
    value["agents_renamed"] = json!(["agent:spec"]);
    assert_valid(&v, &value);

    let mut partial = value.clone();
    partial.as_object_mut().unwrap().remove("agents_renamed");
    assert!(
        !v.is_valid(&partial),
        "the three apply members come together"
    );
    let mut bad = value.clone();
    bad["keys_issued"] = json!(["product"]);
    assert!(!v.is_valid(&bad), "keys_issued holds agent targets");
}

#[test]
fn plan_schema_rejects_bad_shapes() {
    let v = validator("schemas/plan.schema.json");
    let good = plan_value(&every_kind_plan());
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut x = good.clone();
        f(&mut x);
        x
    };
    let bad = [
        (
            "format_version 2",
            mutate(&|x| x["format_version"] = json!(2)),
        ),
        (
            "unknown kind",
            mutate(&|x| x["actions"][0]["kind"] = json!("delete")),
        ),
        (
            "absolute path",
            mutate(&|x| x["actions"][4]["target"] = json!("/etc/passwd")),
        ),
        (
            "dot-dot",
            mutate(&|x| x["actions"][4]["target"] = json!("a/../../b")),
        ),
        (
            "empty target",
            mutate(&|x| x["actions"][4]["target"] = json!("")),
        ),
        (
            "agent kind on a path",
            mutate(&|x| x["actions"][0]["target"] = json!("moot.toml")),
        ),
        (
            "file kind on an agent",
            mutate(&|x| x["actions"][4]["target"] = json!("agent:qa")),
        ),
        (
            "bad role",
            mutate(&|x| x["actions"][0]["target"] = json!("agent:Product")),
        ),
        (
            "diff on a key action",
            mutate(&|x| x["actions"][0]["diff"] = json!("+x")),
        ),
        (
            "negative dep",
            mutate(&|x| x["actions"][1]["depends_on"] = json!([-1])),
        ),
        (
            "missing reason",
            mutate(&|x| {
                x["actions"][0].as_object_mut().unwrap().remove("reason");
            }),
        ),
        (
            "unknown member",
            mutate(&|x| x["actions"][0]["api_key"] = json!("convo_key_x")),
        ),
        (
            "missing notes",
            mutate(&|x| {
                x.as_object_mut().unwrap().remove("notes");
            }),
        ),
        (
            "unknown top-level",
            mutate(&|x| x["token"] = json!("mootup_pat_x")),
        ),
        (
            "drift without reason",
            mutate(&|x| x["drift"] = json!([{"target": "CLAUDE.md"}])),
        ),
    ];
    for (what, value) in bad {
        assert!(!v.is_valid(&value), "schema accepted: {what}");
    }
}

// ------------------------------------------- the real binary, end to end

fn moot(ws: &Path, home: &Path, sb: &Sandbox, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("moot")
        .unwrap()
        .arg("-C")
        .arg(ws)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("MOOT_TOKEN", sb.token())
        .env("MOOT_API_URL", sb.url())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout_json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// What the binary prints with `--json` (online, offline, apply) and the
/// moot.lock it writes all match their schemas.
#[test]
fn binary_output_matches_the_schemas() {
    let plan_v = validator("schemas/plan.schema.json");
    // The generated schema, not the file: `MOOT_UPDATE_SCHEMAS=1` may be
    // rewriting the file while this runs; the test above keeps them equal.
    let lock_v =
        jsonschema::draft202012::new(&serde_json::from_str(&generated_lock_schema()).unwrap())
            .unwrap();
    let sb = Sandbox::start(SandboxConfig::with_agents([
        "Product",
        "Spec",
        "Implementation",
        "QA",
    ]));
    let ws = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let init = moot(ws.path(), home.path(), &sb, &["init"]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );

    let plan = stdout_json(&moot(ws.path(), home.path(), &sb, &["plan", "--json"]));
    assert_valid(&plan_v, &plan);
    assert_eq!(plan["changes"], json!(true));
    let kinds: Vec<&str> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"issue-key") && kinds.contains(&"write-secrets"));
    assert_eq!(kinds.last(), Some(&"write-lock"), "moot.lock last");
    for (i, a) in plan["actions"].as_array().unwrap().iter().enumerate() {
        assert_eq!(a["id"], json!(i), "ids are positions");
        for d in a["depends_on"].as_array().unwrap() {
            assert!(d.as_u64().unwrap() < i as u64, "dependency order");
        }
    }

    let offline = stdout_json(&moot(
        ws.path(),
        home.path(),
        &sb,
        &["plan", "--offline", "--json"],
    ));
    assert_valid(&plan_v, &offline);
    assert_eq!(offline["offline"], json!(true));

    let applied = stdout_json(&moot(
        ws.path(),
        home.path(),
        &sb,
        &["apply", "--yes", "--json"],
    ));
    assert_valid(&plan_v, &applied);
    assert_eq!(applied["applied"], json!(true));
    assert_eq!(applied["keys_issued"].as_array().unwrap().len(), 4);
    let text = String::from_utf8_lossy(
        &moot(ws.path(), home.path(), &sb, &["apply", "--yes", "--json"]).stdout,
    )
    .into_owned();
    let again: Value = serde_json::from_str(&text).unwrap();
    assert_valid(&plan_v, &again);
    assert_eq!(again["applied"], json!(false));
    assert_eq!(again["changes"], json!(false));
    for key in sb_keys(&sb) {
        assert!(!text.contains(&key), "a key in apply --json output");
    }

    let lock_text = std::fs::read_to_string(ws.path().join("moot.lock")).unwrap();
    let lock: Value = toml::from_str(&lock_text).unwrap();
    assert_valid(&lock_v, &lock);
    assert_eq!(lock["roles"].as_object().unwrap().len(), 4);
}

fn sb_keys(sb: &Sandbox) -> Vec<String> {
    ["Product", "Spec", "Implementation", "QA"]
        .iter()
        .filter_map(|n| sb.live_key(n))
        .collect()
}

// ---------------------------------------------------------------- check

/// schemas/check.schema.json refers to plan.schema.json's definitions: the
/// `moot check --format json` object of a plan with every kind validates,
/// and the same shapes the plan schema refuses are refused here.
#[test]
fn check_value_of_every_kind_validates() {
    let check = load("schemas/check.schema.json");
    jsonschema::meta::validate(&check).expect("a valid draft 2020-12 schema");
    let v = jsonschema::options()
        .with_resource(
            "https://mootup.io/schemas/moot/plan.schema.json",
            jsonschema::Resource::from_contents(load("schemas/plan.schema.json")),
        )
        .build(&check)
        .unwrap();
    let value = moot::commands::check::check_value(&every_kind_plan());
    assert_valid(&v, &value);
    assert_eq!(value["changes"], json!(true));
    let mut bad = value.clone();
    bad["actions"][0]["kind"] = json!("teleport");
    assert!(!v.is_valid(&bad));
    let mut bad = value.clone();
    bad.as_object_mut().unwrap().remove("drift");
    assert!(!v.is_valid(&bad));
    let mut bad = value;
    bad["drift"][0]["api_key"] = json!("convo_key_x");
    assert!(!v.is_valid(&bad));
}

/// The schema's per-kind rules (agent targets, no diff) match the registry.
#[test]
fn the_schema_follows_the_kinds_registry() {
    let schema = load("schemas/plan.schema.json");
    let rules = schema["$defs"]["action"]["allOf"].as_array().unwrap();
    let listed = |i: usize| -> Vec<String> {
        let mut v: Vec<String> = rules[i]["if"]["properties"]["kind"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let ours = |f: fn(moot::kinds::KindSpec) -> bool| -> Vec<String> {
        let mut v: Vec<String> = ActionKind::ALL
            .iter()
            .filter(|k| f(k.spec()))
            .map(|k| k.as_str().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(listed(0), ours(|s| s.agent_target), "agent-target kinds");
    assert_eq!(listed(1), ours(|s| s.no_diff), "kinds without a diff");
}
