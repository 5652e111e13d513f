//! Each role's harness decides what moot renders: golden files for a
//! Claude-only, a Codex-only and a mixed team; each applied against the
//! in-process sandbox and then clean under `moot check`; a role switched
//! from claude-code to codex and back leaving nothing behind; and the
//! moot.toml of each loaded by the published runtime's own config loader
//! (mootup 0.5.19) when `MOOT_RUNTIME_PYTHON` names a Python with it.

use crate::support;

use std::path::{Path, PathBuf};

use moot::desired::{DesiredState, RemoteFacts, parse_team, render};
use moot_sandbox::SandboxConfig;

const CLAUDE_ONLY: &str = r#"
[team]
name = "claude-team"

[[roles]]
name = "product"
model = "opus"
effort = "high"
startup_prompt = """
You are Product. Call the Moot orientation tool first.
Read CLAUDE.md, then the `product-workflow` skill.
"""

[[roles]]
name = "implementation"
model = "sonnet"
startup_prompt = "Read CLAUDE.md, then the `verify` skill."
"#;

const CODEX_ONLY: &str = r#"
[team]
name = "codex-team"

[harness]
permission_mode = "bypassPermissions"
launch_stagger_seconds = 0.5

[[roles]]
name = "product"
harness = "codex"
model = "gpt-5-codex"
effort = "high"
startup_prompt = """
You are Product. Call the Moot orientation tool first.
Read CLAUDE.md, then the `product-workflow` skill.
"""

[[roles]]
name = "implementation"
harness = "codex"
effort = "xhigh"
startup_prompt = "Read AGENTS.md, then the `verify` skill."

[roles.env]
OPENAI_BASE_URL = "http://127.0.0.1:8090/v1"
OPENAI_API_KEY = "${secret:openai}"
"#;

const MIXED: &str = r#"
[team]
name = "mixed-team"

[harness]
permission_mode = "acceptEdits"
launch_stagger_seconds = 3

[[roles]]
name = "product"
model = "opus"
effort = "max"
startup_prompt = "Read CLAUDE.md, then the `product-workflow` skill."

[[roles]]
name = "implementation"
harness = "codex"
model = "gpt-5-codex"
effort = "medium"
startup_prompt = "Read CLAUDE.md, then the `verify` skill."

[roles.env]
ANTHROPIC_API_KEY = "${secret:anthropic}"

[[roles]]
name = "librarian"
harness = "cursor"
model = "sonnet-4"
startup_prompt = "Read CLAUDE.md, then the `librarian-workflow` skill."
"#;

const TEAMS: [(&str, &str); 3] = [
    ("claude_only", CLAUDE_ONLY),
    ("codex_only", CODEX_ONLY),
    ("mixed", MIXED),
];

fn facts() -> RemoteFacts {
    RemoteFacts {
        api_url: "https://mootup.io".into(),
        space_id: "spc_demo".into(),
        space_name: "spc_demo".into(),
    }
}

fn rendered(src: &str) -> DesiredState {
    let team = parse_team(src, Path::new("team.toml")).unwrap_or_else(|e| panic!("{e}"));
    render(&team, &facts(), &team.team.name).unwrap()
}

fn text<'a>(state: &'a DesiredState, path: &str) -> &'a str {
    let f = state
        .file(path)
        .unwrap_or_else(|| panic!("{path} not rendered"));
    std::str::from_utf8(&f.content).unwrap()
}

/// Every rendered path with its policy and mode, the settings.json entries
/// and the .gitignore lines: what a harness gets, at a glance.
fn inventory(state: &DesiredState) -> String {
    let mut out = String::new();
    for f in &state.files {
        out.push_str(&format!("{} {} {:o}\n", f.path, f.policy, f.mode.bits()));
    }
    for h in &state.settings_hooks {
        out.push_str(&format!(
            ".claude/settings.json hook {} {}\n",
            h.event, h.command
        ));
    }
    for l in &state.gitignore_lines {
        out.push_str(&format!(".gitignore line {l}\n"));
    }
    out
}

#[test]
fn golden_files_per_harness() {
    for (name, src) in TEAMS {
        let state = rendered(src);
        insta::assert_snapshot!(format!("{name}_inventory"), inventory(&state));
        insta::assert_snapshot!(format!("{name}_moot_toml"), text(&state, "moot.toml"));
        insta::assert_snapshot!(
            format!("{name}_devcontainer_json"),
            text(&state, ".devcontainer/devcontainer.json")
        );
        insta::assert_snapshot!(
            format!("{name}_post_create_sh"),
            text(&state, ".devcontainer/post-create.sh")
        );
        let instructions = state
            .file("AGENTS.md")
            .or(state.file("CLAUDE.md"))
            .map(|f| String::from_utf8_lossy(&f.content).into_owned())
            .unwrap();
        insta::assert_snapshot!(format!("{name}_instructions_md"), instructions);
    }
}

#[test]
fn each_harness_gets_its_own_files_and_only_those() {
    let claude = rendered(CLAUDE_ONLY);
    // What moot could render for it with every part and harness on (the
    // set a leftover is judged against).
    let claude_all = {
        let team = parse_team(CLAUDE_ONLY, Path::new("team.toml")).unwrap();
        let mut state = rendered(CLAUDE_ONLY);
        moot::desired::render::add_renderable(&mut state, &team, &facts(), &team.team.name)
            .unwrap();
        state
    };
    let codex = rendered(CODEX_ONLY);
    let mixed = rendered(MIXED);
    let paths =
        |s: &DesiredState| -> Vec<String> { s.files.iter().map(|f| f.path.clone()).collect() };

    // Claude Code alone: nothing of Codex's.
    assert!(
        paths(&claude)
            .iter()
            .all(|p| !p.starts_with(".agents/") && p != "AGENTS.md")
    );
    // Codex alone: no Claude hooks it cannot run, no settings.json entries.
    assert!(
        paths(&codex)
            .iter()
            .all(|p| !p.starts_with(".claude/") && p != "CLAUDE.md"),
        "{:?}",
        paths(&codex)
    );
    assert!(codex.settings_hooks.is_empty());
    assert!(
        !codex
            .gitignore_lines
            .iter()
            .any(|l| l.starts_with(".claude/"))
    );
    // Codex finds the same skills (copies, byte for byte) and the same text.
    for skill in ["handoff", "memory-audit", "product-workflow", "verify"] {
        let path = format!(".agents/skills/{skill}/SKILL.md");
        assert_eq!(
            text(&codex, &path),
            text(&claude, &format!(".claude/skills/{skill}/SKILL.md"))
        );
        // A leftover copy may be removed later: moot knows it renders it.
        assert!(claude_all.renderable.contains_key(&path), "{path}");
    }
    assert!(!claude_all.renderable.contains_key(".agents/config.toml"));
    // A mixed team: both sets, one instructions text, one devcontainer
    // installing every harness.
    assert_eq!(text(&mixed, "AGENTS.md"), text(&mixed, "CLAUDE.md"));
    let dc: serde_json::Value =
        serde_json::from_str(text(&mixed, ".devcontainer/devcontainer.json")).unwrap();
    let mounts = dc["mounts"].as_array().unwrap();
    assert_eq!(mounts.len(), 3, "{mounts:?}");
    let post = text(&mixed, ".devcontainer/post-create.sh");
    for needle in [
        "claude mcp add --scope user convo",
        "@openai/codex",
        "[mcp_servers",
        "cursor.com/install",
        ".cursor/mcp.json",
    ] {
        assert!(post.contains(needle), "post-create.sh lacks {needle}");
    }
    let codex_post = text(&codex, ".devcontainer/post-create.sh");
    assert!(!codex_post.contains("claude mcp") && !codex_post.contains("cursor.com"));
    // Startup prompts name the file the role's harness reads.
    let mt: toml::Table = toml::from_str(text(&mixed, "moot.toml")).unwrap();
    let prompt = |role: &str| {
        mt["agents"][role]["startup_prompt"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(prompt("product").starts_with("Read CLAUDE.md"));
    assert!(prompt("implementation").starts_with("Read AGENTS.md"));
    assert!(prompt("librarian").starts_with("Read AGENTS.md"));
    let mt: toml::Table = toml::from_str(text(&claude, "moot.toml")).unwrap();
    assert!(!mt.to_string().contains("AGENTS.md"));
}

#[test]
fn rendered_shell_scripts_parse() {
    for (name, src) in TEAMS {
        let state = rendered(src);
        for f in state.files.iter().filter(|f| f.path.ends_with(".sh")) {
            let dir = tempfile::tempdir().unwrap();
            let script = dir.path().join("s.sh");
            std::fs::write(&script, &f.content).unwrap();
            let out = std::process::Command::new("bash")
                .arg("-n")
                .arg(&script)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: {}: {}",
                f.path,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

// ---- end to end against the sandbox ----

support::world_over_test_env!(Ws);

impl Ws {
    fn new(agents: &[&str]) -> Ws {
        Ws {
            env: support::TestEnv::bare(SandboxConfig::with_agents(agents.iter().copied())),
        }
    }

    /// `moot apply --yes`, then `moot check` must be clean (exit 0).
    fn apply_and_check(&self, what: &str) -> String {
        let out = self.moot(&["apply", "--yes"]);
        assert!(
            out.status.success(),
            "{what}: apply: {}",
            support::text(&out)
        );
        let check = self.moot(&["check"]);
        assert_eq!(
            check.status.code(),
            Some(0),
            "{what}: check after apply: {}",
            support::text(&check)
        );
        support::text(&out)
    }

    /// Every file outside `.moot/` (machine-local: keys, staging, lock).
    fn files(&self) -> support::Tree {
        support::tree(self.root())
            .into_iter()
            .filter(|(p, _)| !p.starts_with(".moot"))
            .collect()
    }

    fn has(&self, path: &str) -> bool {
        self.root().join(path).exists()
    }
}

#[test]
fn each_team_applies_and_checks_clean() {
    for (name, src) in TEAMS {
        let team = parse_team(src, Path::new("team.toml")).unwrap();
        let names: Vec<String> = team.roles.iter().map(|r| r.display_name()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let ws = Ws::new(&names);
        ws.write_team(src);
        ws.apply_and_check(name);
        let state = rendered(src);
        for f in &state.files {
            let on_disk = std::fs::read(ws.root().join(&f.path)).unwrap();
            // The space id comes from the sandbox, so compare paths only for
            // files that mention it.
            if !String::from_utf8_lossy(&f.content).contains("spc_demo") {
                assert_eq!(on_disk, f.content, "{name}: {}", f.path);
            }
        }
        let claude = team.uses(moot::desired::team::Harness::ClaudeCode);
        assert_eq!(ws.has(".claude"), claude, "{name}: .claude/");
        assert_eq!(ws.has("CLAUDE.md"), claude, "{name}: CLAUDE.md");
        assert_eq!(
            ws.has("AGENTS.md"),
            name != "claude_only",
            "{name}: AGENTS.md"
        );
        assert_eq!(ws.has(".agents/skills"), name != "claude_only");
    }
}

/// CLAUDE_ONLY without its Claude model aliases, which Codex refuses.
fn switchable() -> String {
    CLAUDE_ONLY
        .replace("model = \"opus\"\n", "")
        .replace("model = \"sonnet\"\n", "")
}

fn with_harness(src: &str, role: &str, harness: &str) -> String {
    let needle = format!("name = \"{role}\"\n");
    assert!(src.contains(&needle));
    src.replace(&needle, &format!("{needle}harness = \"{harness}\"\n"))
}

#[test]
fn switching_roles_to_codex_and_back_leaves_nothing_behind() {
    let ws = Ws::new(&["Product", "Implementation"]);
    let claude = switchable();
    ws.write_team(&claude);
    ws.apply_and_check("claude");
    let before = ws.files();

    // One role on Codex: Codex's files join Claude's.
    ws.write_team(&with_harness(&claude, "implementation", "codex"));
    ws.apply_and_check("implementation on codex");
    assert!(ws.has("AGENTS.md") && ws.has(".agents/skills/verify/SKILL.md"));
    assert!(ws.has("CLAUDE.md") && ws.has(".claude/hooks/git-guard.sh"));

    // Every role on Codex: nothing of Claude Code's is left, not even an
    // empty settings.json.
    let all_codex = with_harness(
        &with_harness(&claude, "implementation", "codex"),
        "product",
        "codex",
    );
    ws.write_team(&all_codex);
    ws.apply_and_check("all on codex");
    let left: Vec<PathBuf> = ws
        .files()
        .into_keys()
        .filter(|p| p.starts_with(".claude") || p == Path::new("CLAUDE.md"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");

    // And back: exactly the files of the start, byte for byte.
    ws.write_team(&claude);
    ws.apply_and_check("back to claude");
    let after = ws.files();
    let mut diff = support::tree_diff(&before, &after);
    diff.retain(|p| !p.starts_with("team.toml "));
    assert!(diff.is_empty(), "differs from the start: {diff:#?}");
}

#[test]
fn a_file_the_user_edited_stays_when_its_harness_goes() {
    let ws = Ws::new(&["Product", "Implementation"]);
    let claude = switchable();
    ws.write_team(&with_harness(&claude, "implementation", "codex"));
    ws.apply_and_check("implementation on codex");
    let agents_md = ws.root().join("AGENTS.md");
    let mut mine = std::fs::read_to_string(&agents_md).unwrap();
    mine.push_str("\nMy own note for Codex.\n");
    std::fs::write(&agents_md, &mine).unwrap();
    let skill = ws.root().join(".agents/skills/verify/SKILL.md");
    std::fs::write(&skill, "my verify\n").unwrap();

    ws.write_team(&claude);
    let out = ws.apply_and_check("back to claude");
    assert_eq!(std::fs::read_to_string(&agents_md).unwrap(), mine);
    assert_eq!(std::fs::read_to_string(&skill).unwrap(), "my verify\n");
    assert!(
        out.contains("AGENTS.md is no longer desired but was edited"),
        "{out}"
    );
    // The unedited skills went.
    assert!(!ws.has(".agents/skills/handoff/SKILL.md"));
}

// ---- the published runtime loads what moot writes ----

/// The runtime's Python, or `None` (with a note) when none is configured.
fn runtime_python() -> Option<String> {
    match std::env::var("MOOT_RUNTIME_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!(
                "note: MOOT_RUNTIME_PYTHON is not set: skipping the check against mootup 0.5.19's \
                 config loader (.ci/run sets it up)"
            );
            None
        }
    }
}

/// Loads moot.toml with the runtime's own `MootConfig`, resolves every
/// role's env the way its launcher does, and prints what it read as JSON.
const LOAD: &str = r#"
import json, sys
from importlib.metadata import version
from pathlib import Path
from moot.config import MootConfig
import moot.launch as launch
c = MootConfig(Path(sys.argv[1]))
print(json.dumps({
    "version": version("mootup"),
    "permission_mode": c.permission_mode,
    "launch_stagger_seconds": c.launch_stagger_seconds,
    "human_interface": c.human_interface,
    "agents": {r: {
        "harness": a.harness, "model": a.model, "effort": a.effort,
        "model_reasoning_effort": a.model_reasoning_effort,
        "startup_prompt": a.startup_prompt,
        "env": {k: launch._resolve_secret_refs(v, r, k) for k, v in a.env.items()},
    } for r, a in c.agents.items()},
}))
"#;

#[test]
fn the_published_runtime_loads_each_moot_toml() {
    let Some(python) = runtime_python() else {
        return;
    };
    let secrets = tempfile::tempdir().unwrap();
    std::fs::write(secrets.path().join("openai"), "sk-from-file\n").unwrap();
    std::fs::write(secrets.path().join("anthropic"), "ak-from-file\n").unwrap();
    let mut loaded = serde_json::Map::new();
    for (name, src) in TEAMS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("moot.toml");
        std::fs::write(&path, text(&rendered(src), "moot.toml")).unwrap();
        let out = std::process::Command::new(&python)
            .arg("-c")
            .arg(LOAD)
            .arg(&path)
            .env("MOOT_SECRETS_DIR", secrets.path())
            .output()
            .unwrap_or_else(|e| panic!("running {python}: {e}"));
        assert!(
            out.status.success(),
            "{name}: mootup could not load moot.toml: {}",
            support::text(&out)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["version"], "0.5.19", "{name}: the runtime under test");
        loaded.insert(name.to_string(), v);
    }
    let agent = |team: &str, role: &str, key: &str| loaded[team]["agents"][role][key].clone();
    assert_eq!(agent("claude_only", "product", "harness"), "claude-code");
    assert_eq!(agent("claude_only", "product", "effort"), "high");
    assert_eq!(agent("codex_only", "product", "harness"), "codex");
    assert_eq!(
        agent("codex_only", "product", "model_reasoning_effort"),
        "high"
    );
    assert_eq!(
        agent("codex_only", "product", "effort"),
        serde_json::Value::Null
    );
    assert_eq!(
        agent("codex_only", "implementation", "model_reasoning_effort"),
        "xhigh"
    );
    assert_eq!(
        agent("codex_only", "implementation", "env")["OPENAI_API_KEY"],
        "sk-from-file"
    );
    assert_eq!(
        agent("codex_only", "product", "startup_prompt"),
        "You are Product. Call the Moot orientation tool first. Read AGENTS.md, then the `product-workflow` skill."
    );
    assert_eq!(loaded["codex_only"]["permission_mode"], "bypassPermissions");
    assert_eq!(loaded["codex_only"]["launch_stagger_seconds"], 0.5);
    assert_eq!(loaded["claude_only"]["launch_stagger_seconds"], 2.0);
    assert_eq!(loaded["mixed"]["permission_mode"], "acceptEdits");
    assert_eq!(loaded["mixed"]["launch_stagger_seconds"], 3.0);
    assert_eq!(loaded["mixed"]["human_interface"], "product");
    assert_eq!(agent("mixed", "product", "effort"), "max");
    assert_eq!(
        agent("mixed", "implementation", "model_reasoning_effort"),
        "medium"
    );
    assert_eq!(
        agent("mixed", "implementation", "env")["ANTHROPIC_API_KEY"],
        "ak-from-file"
    );
    assert_eq!(agent("mixed", "librarian", "harness"), "cursor");
}

#[test]
fn every_combination_of_harnesses_renders_valid_files() {
    let all = ["claude-code", "codex", "cursor"];
    for mask in 1..8u8 {
        let used: Vec<&str> = (0..3)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| all[i])
            .collect();
        // The first role is the human interface: claude-code when present.
        let mut src = String::from("[team]\nname = \"combo\"\n");
        for (i, h) in used.iter().enumerate() {
            src.push_str(&format!("[[roles]]\nname = \"r{i}\"\nharness = \"{h}\"\n"));
        }
        let state = rendered(&src);
        let dc: serde_json::Value =
            serde_json::from_str(text(&state, ".devcontainer/devcontainer.json"))
                .unwrap_or_else(|e| panic!("{used:?}: devcontainer.json: {e}"));
        assert_eq!(
            dc["mounts"].as_array().map(Vec::len),
            Some(used.len()),
            "{used:?}: one volume per harness"
        );
        let script = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(script.path(), text(&state, ".devcontainer/post-create.sh")).unwrap();
        let out = std::process::Command::new("bash")
            .arg("-n")
            .arg(script.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{used:?}: {}", support::text(&out));
        let claude = used.contains(&"claude-code");
        let agents = used.contains(&"codex") || used.contains(&"cursor");
        assert_eq!(state.file("CLAUDE.md").is_some(), claude, "{used:?}");
        assert_eq!(state.file("AGENTS.md").is_some(), agents, "{used:?}");
        assert_eq!(
            state.file(".agents/skills/handoff/SKILL.md").is_some(),
            agents,
            "{used:?}"
        );
        assert_eq!(!state.settings_hooks.is_empty(), claude, "{used:?}");
    }
}

// ---- the devcontainer's post-create, run with stand-ins for the network ----

/// A directory of stand-in commands: package managers, installers and the
/// harness CLIs, each logging its arguments to `$HOME/calls.log`.
fn stand_ins(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let log = r#"printf '%s %s\n' "$(basename "$0")" "$*" >>"$HOME/calls.log""#;
    let scripts = [
        ("sudo", format!("#!/bin/sh\n{log}\nexec \"$@\"\n")),
        ("apt-get", format!("#!/bin/sh\n{log}\n")),
        ("tmux", format!("#!/bin/sh\n{log}\n")),
        ("npm", format!("#!/bin/sh\n{log}\n")),
        ("claude", format!("#!/bin/sh\n{log}\n")),
        // The installer's script, piped to bash.
        (
            "curl",
            format!("#!/bin/sh\n{log}\necho 'echo cursor installer ran'\n"),
        ),
        // `python3 -m venv DIR` makes DIR/bin/python, itself a stand-in.
        (
            "python3",
            format!(
                "#!/bin/sh\n{log}\nif [ \"$1 $2\" = '-m venv' ]; then mkdir -p \"$3/bin\"; \
                 printf '#!/bin/sh\\n{log}\\n' >\"$3/bin/python\"; chmod +x \"$3/bin/python\"; fi\n"
            ),
        ),
    ];
    for (name, body) in scripts {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn post_create_registers_every_harness_once_and_keeps_other_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let (home, ws, bin) = (
        tmp.path().join("home"),
        tmp.path().join("ws"),
        tmp.path().join("bin"),
    );
    for d in [&home, &ws, &bin] {
        std::fs::create_dir_all(d).unwrap();
    }
    stand_ins(&bin);
    let state = rendered(MIXED);
    for f in state
        .files
        .iter()
        .filter(|f| f.path.starts_with(".devcontainer/"))
    {
        let p = ws.join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &f.content).unwrap();
    }
    // Someone's own servers, there before the container was rebuilt.
    std::fs::create_dir_all(home.join(".cursor")).unwrap();
    std::fs::write(
        home.join(".cursor/mcp.json"),
        r#"{"mcpServers": {"mine": {"command": "my-server"}}}"#,
    )
    .unwrap();
    let run = || {
        let out = std::process::Command::new("bash")
            .arg(ws.join(".devcontainer/post-create.sh"))
            .current_dir(&ws)
            .env_clear()
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .env("HOME", &home)
            .env("MOOT_WORKSPACE", &ws)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", support::text(&out));
    };
    run();
    run(); // a second creation (volumes kept) adds nothing twice

    let codex: toml::Table =
        toml::from_str(&std::fs::read_to_string(home.join(".codex/config.toml")).unwrap()).unwrap();
    let dc = ws.join(".devcontainer");
    assert_eq!(
        codex["mcp_servers"]["convo"]["command"].as_str(),
        Some(dc.join("run-moot-mcp.sh").to_str().unwrap())
    );
    assert_eq!(
        codex["mcp_servers"]["convo-channel"]["command"].as_str(),
        Some(dc.join("run-moot-channel.sh").to_str().unwrap())
    );
    let projects = codex["projects"].as_table().unwrap();
    for key in ["", "/.worktrees/product", "/.worktrees/implementation"] {
        let dir = format!("{}{key}", ws.display());
        assert_eq!(
            projects[&dir]["trust_level"].as_str(),
            Some("trusted"),
            "{dir}"
        );
    }
    let cursor: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.join(".cursor/mcp.json")).unwrap())
            .unwrap();
    assert_eq!(cursor["mcpServers"]["mine"]["command"], "my-server");
    assert_eq!(
        cursor["mcpServers"]["convo"]["command"],
        dc.join("run-moot-mcp.sh").to_str().unwrap()
    );
    let calls = std::fs::read_to_string(home.join("calls.log")).unwrap();
    let adds: Vec<&str> = calls
        .lines()
        .filter(|l| l.starts_with("claude mcp add"))
        .collect();
    let once = [
        format!(
            "claude mcp add --scope user convo -- {}/run-moot-mcp.sh",
            dc.display()
        ),
        format!(
            "claude mcp add --scope user convo-channel -- {}/run-moot-channel.sh",
            dc.display()
        ),
    ];
    let twice: Vec<&str> = once.iter().chain(once.iter()).map(String::as_str).collect();
    assert_eq!(adds, twice, "{calls}");
    assert!(
        calls.contains("npm install --global --silent @openai/codex"),
        "{calls}"
    );
    assert!(
        calls.contains("curl -fsS https://cursor.com/install"),
        "{calls}"
    );
    use std::os::unix::fs::MetadataExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
    assert_eq!(mode(&home.join(".secrets")), 0o700);
    assert_eq!(mode(&home.join(".codex/config.toml")), 0o600);
    assert_eq!(mode(&home.join(".cursor/mcp.json")), 0o600);
}
