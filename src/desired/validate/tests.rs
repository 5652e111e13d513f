use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::desired::team::{Effort, Harness};

const VALID: &str = include_str!("../../../tests/fixtures/valid-team/team.toml");

const MINIMAL: &str = "[team]\nname = \"t\"\n\n[[roles]]\nname = \"product\"\n";

fn parse(src: &str) -> Result<TeamFile, TeamError> {
    parse_team(src, Path::new("team.toml"))
}

/// The only diagnostic of an invalid source.
fn one(src: &str) -> Diagnostic {
    let err = parse(src).expect_err("should be invalid");
    assert_eq!(err.diagnostics.len(), 1, "expected one problem: {err}");
    err.diagnostics[0].clone()
}

fn assert_at(d: &Diagnostic, line: usize, column: usize, fragment: &str) {
    assert!(
        d.message.contains(fragment),
        "message {:?} lacks {fragment:?}",
        d.message
    );
    assert_eq!((d.line, d.column), (line, column), "{}", d.message);
    assert!(!d.hint.is_empty());
}

#[test]
fn valid_fixture_parses_with_values() {
    let team = parse(VALID).unwrap();
    assert_eq!(team.team.name, "loop-4");
    assert_eq!(team.roles.len(), 4);
    assert_eq!(team.roles[3].harness, Harness::Codex);
    assert_eq!(team.roles[2].effort, Some(Effort::Xhigh));
    assert_eq!(team.workflow.pipeline[0], "product");
    assert!(!team.install.devcontainer);
}

#[test]
fn minimal_file_gets_defaults() {
    let team = parse(MINIMAL).unwrap();
    assert_eq!(team.toml_schema_version, "1");
    assert_eq!(team.team.version, "1.0");
    assert_eq!(team.roles[0].harness, Harness::ClaudeCode);
    assert_eq!(
        team.workflow.handoff.method,
        crate::desired::team::HandoffMethod::Mention
    );
    assert_eq!(team.git.feature_branch, "feat/{slug}");
    assert!(team.install.hooks && team.install.skills.is_none());
}

#[test]
fn syntax_error() {
    let d = one("[team]\nname = \"t\n");
    assert_at(&d, 2, 10, "invalid TOML");
    let d = one("[team\nname = \"t\"\n");
    assert_at(&d, 1, 6, "invalid TOML");
}

#[test]
fn duplicate_key_is_a_syntax_error() {
    let d = one("[team]\nname = \"a\"\nname = \"b\"\n[[roles]]\nname = \"x\"\n");
    assert_at(&d, 3, 1, "duplicate key");
}

#[test]
fn missing_team_and_roles() {
    let err = parse("toml_schema_version = \"1\"\n").unwrap_err();
    let msgs: Vec<_> = err.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("[team]"));
    assert!(msgs[1].contains("no roles"));
    assert!(err.diagnostics.iter().all(|d| (d.line, d.column) == (1, 1)));
}

#[test]
fn empty_roles_array() {
    let d = one("roles = []\n[team]\nname = \"t\"\n");
    assert_at(&d, 1, 9, "at least one");
}

#[test]
fn missing_role_name_points_at_header() {
    let d = one("[team]\nname = \"t\"\n\n[[roles]]\nmodel = \"opus\"\n");
    assert_at(&d, 4, 1, "missing required key `name` in [[roles]]");
}

#[test]
fn missing_team_name() {
    let d = one("[team]\ndescription = \"x\"\n[[roles]]\nname = \"a\"\n");
    assert_at(&d, 1, 1, "missing required key `name` in [team]");
}

#[test]
fn empty_team_name() {
    let d = one("[team]\nname = \" \"\n[[roles]]\nname = \"a\"\n");
    assert_at(&d, 2, 8, "team name is empty");
}

#[test]
fn wrong_types() {
    let d = one(&format!("{MINIMAL}model = 4\n"));
    assert_at(
        &d,
        6,
        9,
        "`model` in [[roles]] must be a string, not an integer",
    );
    let d = one(&format!("{MINIMAL}[install]\nhooks = \"yes\"\n"));
    assert_at(&d, 7, 9, "must be a boolean");
    let d = one(&format!(
        "{MINIMAL}[workflow]\npipeline = [\"product\", 3]\n"
    ));
    assert_at(&d, 7, 24, "array of strings");
    let d = one(&format!("{MINIMAL}[workflow.threads]\nfeature = 1\n"));
    assert_at(
        &d,
        7,
        11,
        "`feature` in [workflow.threads] must be a string",
    );
    let d = one("[team]\nname = \"t\"\n[roles]\nname = \"a\"\n");
    assert_at(
        &d,
        3,
        1,
        "`roles` in the top level must be an array of tables",
    );
    assert!(d.hint.contains("[[roles]]"));
}

#[test]
fn unknown_key_suggests_closest() {
    let d = one(&format!("{MINIMAL}displayname = \"P\"\n"));
    assert_at(
        &d,
        6,
        1,
        "unknown key `displayname` in [[roles]]; did you mean `display_name`?",
    );
    assert!(d.hint.contains("display_name"));
    let d = one(&format!("{MINIMAL}[gti]\nstrategy = \"worktree\"\n"));
    assert_at(
        &d,
        6,
        2,
        "unknown key `gti` in the top level; did you mean `git`?",
    );
    let d = one(&format!("{MINIMAL}[workflow.handoff]\nmethd = \"x\"\n"));
    assert_at(&d, 7, 1, "in [workflow.handoff]; did you mean `method`?");
    let d = one(&format!("{MINIMAL}[install]\nzzz = true\n"));
    assert!(!d.message.contains("did you mean"), "{}", d.message);
    assert!(d.hint.contains("skills, claude_md"));
}

#[test]
fn closest_words() {
    assert_eq!(closest("gti", ["git", "team"]), Some("git"));
    assert_eq!(
        closest("displayname", ["name", "display_name"]),
        Some("display_name")
    );
    assert_eq!(closest("Harness", ["harness", "theme"]), Some("harness"));
    assert_eq!(closest("zzz", ["skills", "hooks"]), None);
    assert_eq!(closest("a", ["b"]), None);
}

#[test]
fn free_form_maps_accept_any_key() {
    let src = format!("{MINIMAL}[workflow.threads]\nanything_goes = \"[X]\"\n");
    parse(&src).unwrap();
}

#[test]
fn duplicate_role_names() {
    let d = one(&format!("{MINIMAL}[[roles]]\nname = \"product\"\n"));
    assert_at(&d, 7, 8, "duplicate role `product` (first defined at 5:8)");
}

#[test]
fn role_key_collision() {
    let src = format!("{MINIMAL}[[roles]]\nname = \"pm\"\ndisplay_name = \"Product\"\n");
    let d = one(&src);
    assert_at(
        &d,
        8,
        16,
        "roles `product` and `pm` have the same key `product`",
    );
    // implementation_a's default display name `Implementation A` -> key
    // `implementation_a`, the same as a role displayed that way.
    let src = "[team]\nname = \"t\"\n[[roles]]\nname = \"implementation_a\"\n[[roles]]\nname = \"impl\"\ndisplay_name = \"implementation a\"\n";
    assert_at(&one(src), 7, 16, "same key `implementation_a`");
}

#[test]
fn unsafe_role_names() {
    for (name, frag) in [
        ("..", "not a safe identifier"),
        ("a/b", "not a safe identifier"),
        ("Product Owner", "not a safe identifier"),
        ("-x", "not a safe identifier"),
        ("", "role name is empty"),
    ] {
        let d = one(&format!(
            "[team]\nname = \"t\"\n[[roles]]\nname = \"{name}\"\n"
        ));
        assert_at(&d, 4, 8, frag);
    }
    let d = one("[team]\nname = \"t\"\n[[roles]]\nname = \"Product Owner\"\n");
    assert!(d.hint.contains("`product_owner`"), "{}", d.hint);
}

#[test]
fn references_to_missing_roles() {
    let src = format!(
        "{MINIMAL}[workflow]\npipeline = [\"product\", \"prodct\"]\n[git.ownership]\nmain = \"qa\"\n[resources.owners]\ngit = \"nobody\"\n"
    );
    let err = parse(&src).unwrap_err();
    assert_eq!(err.diagnostics.len(), 3, "{err}");
    assert_at(
        &err.diagnostics[0],
        7,
        24,
        "[workflow] pipeline names role `prodct`, which is not defined; did you mean `product`?",
    );
    assert_at(&err.diagnostics[1], 9, 8, "[git.ownership] names role `qa`");
    assert_at(
        &err.diagnostics[2],
        11,
        7,
        "[resources.owners] names role `nobody`",
    );
    assert_eq!(err.diagnostics[2].hint, "defined roles: product");
}

#[test]
fn harness_model_effort() {
    let d = one(&format!("{MINIMAL}harness = \"claude\"\n"));
    assert_at(
        &d,
        6,
        11,
        "unknown harness `claude`; did you mean `claude-code`?",
    );
    assert_eq!(d.hint, "allowed harnesses: claude-code, codex, cursor");
    let d = one(&format!("{MINIMAL}model = \"gpt-5\"\n"));
    assert_at(&d, 6, 9, "unknown model `gpt-5`");
    assert!(d.hint.contains("opus, sonnet"));
    let d = one(&format!("{MINIMAL}effort = \"extreme\"\n"));
    assert_at(&d, 6, 10, "unknown effort `extreme`");
    assert!(d.hint.contains("low, medium, high, xhigh, max"));
}

#[test]
fn schema_version() {
    let d = one(&format!("toml_schema_version = \"2\"\n{MINIMAL}"));
    assert_at(&d, 1, 23, "toml_schema_version \"2\" is not supported");
    let d = one(&format!("toml_schema_version = 1\n{MINIMAL}"));
    assert_at(&d, 1, 23, "must be a string");
}

#[test]
fn install_skills_and_paths() {
    let src = format!(
        "{MINIMAL}[install]\nskills = [\"handoff\", \"verfy\"]\nunmanaged = [\"/etc/x\", \"a/../../b\", \"ok/path\"]\n"
    );
    let err = parse(&src).unwrap_err();
    assert_eq!(err.diagnostics.len(), 3, "{err}");
    assert_at(
        &err.diagnostics[0],
        7,
        22,
        "unknown skill `verfy`; did you mean `verify`?",
    );
    assert!(err.diagnostics[0].hint.contains("product-workflow"));
    assert_at(
        &err.diagnostics[1],
        8,
        14,
        "unmanaged path `/etc/x` is absolute",
    );
    assert_at(&err.diagnostics[2], 8, 24, "contains `..`");
}

#[test]
fn every_problem_is_reported_in_source_order() {
    let src = "toml_schema_version = \"3\"\n[team]\nnam = \"t\"\n[[roles]]\nname = \"A\"\nharness = \"vim\"\n[[roles]]\nname = \"A\"\n[workflow]\npipeline = [\"b\"]\n";
    let err = parse(src).unwrap_err();
    let lines: Vec<_> = err.diagnostics.iter().map(|d| d.line).collect();
    assert_eq!(lines, [1, 2, 3, 5, 6, 8, 8, 10], "{err}");
    let text = err.to_string();
    assert!(text.starts_with("team.toml:1:23: "), "{text}");
    assert!(text.contains("\nerror: team.toml:10:13: "), "{text}");
    let hint = err.hint().unwrap();
    assert!(hint.starts_with("1:23: "), "{hint}");
    assert!(hint.contains("\nhint: 10:13: defined roles: "), "{hint}");
}

#[test]
fn single_error_display_and_hint() {
    let err = parse(&format!("{MINIMAL}model = \"gpt\"\n")).unwrap_err();
    assert!(err.to_string().starts_with("team.toml:6:9: unknown model"));
    assert!(!err.hint().unwrap().starts_with("6:9"));
    let rendered = crate::printer::render_error(
        &crate::error::Error::Team(err),
        &crate::printer::Styles::plain(),
    );
    assert!(rendered.starts_with("error: team.toml:6:9: "), "{rendered}");
    assert!(rendered.contains("\n\nhint: "), "{rendered}");
}

#[test]
fn columns_count_characters() {
    assert_eq!(line_col("é = 1\nab", 7), (2, 1));
    assert_eq!(line_col("éa", 1), (1, 1));
    assert_eq!(line_col("ab", 99), (1, 3));
    let d = one(&format!("{MINIMAL}theme = \"é\"\nmodel = \"x\"\n"));
    assert_eq!((d.line, d.column), (7, 9));
}

#[test]
fn load_team_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("team.toml");
    let err = load_team(&missing).unwrap_err();
    assert!(err.to_string().contains("not found"));
    assert!(err.hint().unwrap().contains("moot init"));
    std::fs::write(&missing, b"\xff\xfe").unwrap();
    assert!(
        load_team(&missing)
            .unwrap_err()
            .to_string()
            .contains("UTF-8")
    );
    std::fs::write(&missing, MINIMAL).unwrap();
    assert_eq!(load_team(&missing).unwrap().roles.len(), 1);
}

/// The key lists `schema.rs` checks must be those of the serde model.
#[test]
fn schema_tables_match_the_model() {
    let schema = serde_json::to_value(schemars::schema_for!(TeamFile)).unwrap();
    for table in schema::ALL_TABLES {
        let node = if table.schema_def.is_empty() {
            &schema
        } else {
            &schema["$defs"][table.schema_def]
        };
        let props: Vec<&str> = node["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("no properties for {}", table.name))
            .keys()
            .map(String::as_str)
            .collect();
        let ours: Vec<&str> = table.fields.iter().map(|f| f.key).collect();
        assert_eq!(ours, props, "keys of {}", table.name);
        let required: Vec<&str> = node["required"]
            .as_array()
            .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let ours: Vec<&str> = table
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.key)
            .collect();
        assert_eq!(ours, required, "required keys of {}", table.name);
    }
}

/// Valid source mangled at random: errors, never a panic.
fn mangled() -> impl Strategy<Value = String> {
    (0..VALID.len(), 0..40usize, ".{0,8}").prop_map(|(at, len, insert)| {
        let mut s: Vec<char> = VALID.chars().collect();
        let at = at.min(s.len());
        let end = (at + len).min(s.len());
        s.splice(at..end, insert.chars());
        s.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_panic_on_random_strings(src in "\\PC{0,200}") {
        let _ = parse(&src);
    }

    #[test]
    fn no_panic_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let src = String::from_utf8_lossy(&bytes);
        let _ = parse(&src);
    }

    #[test]
    fn no_panic_on_mangled_files(src in mangled()) {
        if let Err(e) = parse(&src) {
            prop_assert!(!e.diagnostics.is_empty());
            for d in &e.diagnostics {
                prop_assert!(d.line >= 1 && d.column >= 1 && !d.hint.is_empty());
            }
        }
    }
}

#[test]
fn harnesses_moot_cannot_set_up_are_refused() {
    let d = one(&format!("{MINIMAL}harness = \"aider\"\n"));
    assert_at(&d, 6, 11, "harness `aider` is not one moot can set up yet");
    assert!(d.hint.contains("claude-code, codex, cursor"), "{}", d.hint);
    assert!(d.hint.contains("docs/harnesses.md"), "{}", d.hint);
}

#[test]
fn model_and_effort_follow_the_harness() {
    // Codex: no Claude aliases, any single model name, no `max` effort
    // (its model_reasoning_effort stops at xhigh).
    let d = one(&format!("{MINIMAL}harness = \"codex\"\nmodel = \"opus\"\n"));
    assert_at(&d, 7, 9, "`opus` is a Claude Code alias");
    let team = parse(&format!(
        "{MINIMAL}harness = \"codex\"\nmodel = \"gpt-5-codex\"\neffort = \"xhigh\"\n"
    ))
    .unwrap();
    assert_eq!(team.roles[0].model.as_deref(), Some("gpt-5-codex"));
    let d = one(&format!("{MINIMAL}harness = \"codex\"\neffort = \"max\"\n"));
    assert_at(&d, 7, 10, "effort `max` is not one harness `codex` accepts");
    assert_eq!(
        d.hint,
        "allowed efforts for codex: low, medium, high, xhigh"
    );
    let d = one(&format!(
        "{MINIMAL}harness = \"codex\"\nmodel = \"gpt 5\"\n"
    ));
    assert_at(&d, 7, 9, "model `gpt 5` is not a single model name");
    // Cursor has no effort setting; Claude Code keeps its own model rule.
    let d = one(&format!(
        "{MINIMAL}harness = \"cursor\"\neffort = \"high\"\n"
    ));
    assert_at(
        &d,
        7,
        10,
        "harness `cursor` has no reasoning-effort setting",
    );
    let d = one(&format!("{MINIMAL}model = \"gpt-5-codex\"\n"));
    assert_at(&d, 6, 9, "unknown model `gpt-5-codex`");
    // Claude Code routed to another endpoint takes that endpoint's names.
    parse(&format!(
        "{MINIMAL}model = \"deepseek-v4-pro\"\n[roles.env]\nANTHROPIC_BASE_URL = \"http://127.0.0.1:8090\"\n"
    ))
    .unwrap();
    // The runtime's own name for a codex effort points at `effort`.
    let d = one(&format!("{MINIMAL}model_reasoning_effort = \"high\"\n"));
    assert_at(
        &d,
        6,
        1,
        "unknown key `model_reasoning_effort` in [[roles]]",
    );
    assert!(d.hint.starts_with("write `effort = "), "{}", d.hint);
}

#[test]
fn role_env_names_values_and_secret_references() {
    let ok = parse(&format!(
        "{MINIMAL}[roles.env]\nOPENAI_BASE_URL = \"http://127.0.0.1:8090/v1\"\nOPENAI_API_KEY = \"${{secret:openai.key}}\"\n"
    ))
    .unwrap();
    assert_eq!(
        ok.roles[0].env.get("OPENAI_API_KEY").map(String::as_str),
        Some("${secret:openai.key}")
    );
    let src = format!(
        "{MINIMAL}[roles.env]\n\"1X\" = \"a\"\nCONVO_ROLE = \"qa\"\nOPENAI_API_KEY = \"sk-live-123\"\nA = \"${{secret:a/b}}\"\nB = \"${{secret:x\"\nC = 3\n"
    );
    let err = parse(&src).unwrap_err();
    let found: Vec<(usize, usize, &str)> = err
        .diagnostics
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (7, 1, "`1X` is not an environment variable name"),
            (8, 1, "`CONVO_ROLE` is set by the runtime for every agent"),
            (
                9,
                18,
                "`OPENAI_API_KEY` holds a literal value, and team.toml and moot.toml are committed"
            ),
            (10, 5, "`A` has a malformed secret reference"),
            (11, 5, "`B` has a malformed secret reference"),
            (12, 5, "`C` in [roles.env] must be a string, not an integer"),
        ],
        "{err}"
    );
    // The value itself is never echoed: it may be a secret.
    assert!(!err.to_string().contains("sk-live-123"));
    assert!(!err.hint().unwrap().contains("sk-live-123"));
}

#[test]
fn harness_table() {
    let team = parse(&format!(
        "[harness]\npermission_mode = \"acceptEdits\"\nlaunch_stagger_seconds = 0.5\n{MINIMAL}"
    ))
    .unwrap();
    assert_eq!(team.harness.launch_stagger_seconds, Some(0.5));
    let src = format!(
        "[harness]\npermission_mode = \"bypass\"\nlaunch_stagger_seconds = -1\nhuman_interface = \"prodct\"\nkind = 1\n{MINIMAL}"
    );
    let err = parse(&src).unwrap_err();
    assert_eq!(err.diagnostics.len(), 4, "{err}");
    assert_at(
        &err.diagnostics[0],
        2,
        19,
        "unknown permission_mode `bypass`",
    );
    assert!(err.diagnostics[0].hint.contains("bypassPermissions"));
    assert_at(
        &err.diagnostics[1],
        3,
        26,
        "launch_stagger_seconds must be a number of seconds",
    );
    assert_at(
        &err.diagnostics[2],
        4,
        19,
        "names role `prodct`, which is not defined",
    );
    assert_at(&err.diagnostics[3], 5, 1, "unknown key `kind` in [harness]");
    let d = one(&format!(
        "[harness]\nlaunch_stagger_seconds = \"2\"\n{MINIMAL}"
    ));
    assert_at(&d, 2, 26, "must be a number, not a string");
}

#[test]
fn human_interface_must_log_in_to_claude_code_when_the_team_has_claude_roles() {
    let two = "[team]\nname = \"t\"\n[[roles]]\nname = \"product\"\nharness = \"codex\"\n[[roles]]\nname = \"qa\"\n";
    let d = one(two);
    assert_at(&d, 5, 11, "the human-interface role `product` uses codex");
    assert!(d.hint.contains("human_interface = \"qa\""), "{}", d.hint);
    // Naming a claude-code role fixes it; a Codex-only team needs nothing.
    parse(&format!("[harness]\nhuman_interface = \"qa\"\n{two}")).unwrap();
    parse("[team]\nname = \"t\"\n[[roles]]\nname = \"product\"\nharness = \"codex\"\n").unwrap();
    let d = one(&format!("[harness]\nhuman_interface = \"product\"\n{two}"));
    assert_at(&d, 2, 19, "the human-interface role `product` uses codex");
}

#[test]
fn runtime_key_names_point_at_team_toml_s() {
    let d = one(&format!("[harness]\nlaunch_stager_seconds = 1\n{MINIMAL}"));
    assert_at(
        &d,
        2,
        1,
        "unknown key `launch_stager_seconds` in [harness]; did you mean `launch_stagger_seconds`?",
    );
    let d = one(&format!("[harness]\ntype = \"codex\"\n{MINIMAL}"));
    assert_at(&d, 2, 1, "unknown key `type` in [harness]");
    assert!(d.hint.contains("[[roles]]"), "{}", d.hint);
    let d = one(&format!(
        "[harness]\npermissions = \"dangerously-skip\"\n{MINIMAL}"
    ));
    assert!(d.hint.contains("permission_mode"), "{}", d.hint);
    let d = one("[team]\nname = \"t\"\nharness = \"codex\"\n[[roles]]\nname = \"p\"\n");
    assert_at(&d, 3, 1, "unknown key `harness` in [team]");
    assert!(
        d.hint
            .starts_with("a role's harness goes in its [[roles]] table"),
        "{}",
        d.hint
    );
}

#[test]
fn git_and_handoff_strings_are_typed_and_kept_as_written() {
    use crate::desired::team::{GitStrategy, HandoffMethod, MergeToMain};
    let team = parse(MINIMAL).unwrap();
    assert_eq!(team.git.strategy, GitStrategy::Worktree);
    assert_eq!(team.git.merge_to_main, MergeToMain::Squash);
    assert_eq!(team.workflow.handoff.method, HandoffMethod::Mention);

    // The runtime owns these values: one moot does not know is kept, and
    // written back exactly as the user wrote it.
    let src = format!(
        "{MINIMAL}\n[workflow.handoff]\nmethod = \"thread\"\n\n[git]\nstrategy = \"branch\"\nmerge_to_main = \"rebase\"\n"
    );
    let team = parse(&src).unwrap();
    assert_eq!(team.git.strategy, GitStrategy::Other("branch".into()));
    assert_eq!(team.git.merge_to_main.as_str(), "rebase");
    assert_eq!(
        serde_json::to_value(&team.workflow.handoff).unwrap()["method"],
        "thread"
    );
}

#[test]
fn syntax_hints_follow_what_the_source_shows_there() {
    let hint = |src: &str| one(src).hint;
    assert!(hint("[team]\nname = \"a\"\nname = \"b\"\n").contains("only once"));
    assert!(hint("[team]\nname = loop\n").contains("in quotes"));
    assert!(hint("[team]\nname =\n").starts_with("write a value after `=`"));
    assert!(hint("[team\nname = \"t\"\n").starts_with("close the bracket"));
    assert!(hint("x = \"\\q\"\n").contains("https://toml.io"));
}
