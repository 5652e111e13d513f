//! The content bundle rendered for every built-in archetype: valid,
//! deterministic, tidy; loop-4's output pinned by snapshots.

use std::path::Path;

use moot::desired::bundle::{self, ARCHETYPES};
use moot::desired::{DesiredState, RemoteFacts, TeamFile, parse_team, render};

fn facts() -> RemoteFacts {
    RemoteFacts {
        api_url: "https://mootup.io".into(),
        space_id: "spc_demo".into(),
        space_name: "spc_demo".into(),
    }
}

fn team(name: &str) -> TeamFile {
    let path = format!(
        "{}/templates/teams/{name}/team.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let src = std::fs::read_to_string(&path).unwrap();
    parse_team(&src, Path::new(&path)).unwrap_or_else(|e| panic!("{e}"))
}

fn text<'a>(state: &'a DesiredState, path: &str) -> &'a str {
    let f = state
        .file(path)
        .unwrap_or_else(|| panic!("{path} not rendered"));
    std::str::from_utf8(&f.content).unwrap()
}

#[test]
fn every_archetype_is_complete_and_consistent() {
    let expected_roles: [&[&str]; 7] = [
        &["leader", "implementation", "qa"],
        &["product", "spec", "implementation", "qa"],
        &["product", "spec", "implementation", "qa"],
        &["product", "spec", "implementation", "qa", "librarian"],
        &[
            "product",
            "spec",
            "implementation_a",
            "implementation_b",
            "qa",
        ],
        &["product", "lead", "spec", "implementation", "qa"],
        &[
            "product",
            "leader",
            "spec",
            "implementation",
            "qa",
            "librarian",
        ],
    ];
    for (name, roles) in ARCHETYPES.iter().zip(expected_roles) {
        let t = team(name);
        assert_eq!(t.toml_schema_version, "1");
        assert_eq!(t.archetype.id, format!("mootup/{name}"));
        assert_eq!(t.archetype.version, "1.0");
        assert_eq!(t.team.name, *name);
        assert!(!t.team.description.is_empty(), "{name}: description");
        let names: Vec<&str> = t.roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, roles, "{name}: roles");
        for r in &t.roles {
            let model = r.model.as_deref().unwrap();
            let want = match (*name, r.name.as_str()) {
                ("loop-4-codex", "implementation") => "gpt-5-codex",
                (_, "leader" | "qa" | "librarian") => "sonnet",
                _ => "opus",
            };
            assert_eq!(model, want, "{name}/{}: model", r.name);
            let harness = match (*name, r.name.as_str()) {
                ("loop-4-observer", "librarian") => "cursor",
                ("loop-4-codex", "implementation") => "codex",
                _ => "claude-code",
            };
            assert_eq!(r.harness.as_str(), harness, "{name}/{}: harness", r.name);
            assert!(r.display_name.is_some() && r.theme.is_some());
            assert!(
                r.responsibilities.trim().lines().count() >= 3,
                "{name}/{}: responsibilities",
                r.name
            );
            assert!(
                r.startup_prompt.contains("orientation"),
                "{name}/{}: startup prompt must orient first",
                r.name
            );
        }
        assert!(!t.workflow.description.is_empty());
        assert!(!t.workflow.pipeline.is_empty());
        for key in ["feature", "question", "bug"] {
            assert!(t.workflow.threads.contains_key(key), "{name}: thread {key}");
        }
        assert!(!t.workflow.handoff.includes.is_empty());
        assert!(!t.git.description.is_empty() && !t.git.ownership.is_empty());
        assert!(!t.resources.description.is_empty() && !t.resources.owners.is_empty());
        let refs = t
            .workflow
            .pipeline
            .iter()
            .chain(t.git.ownership.values())
            .chain(t.resources.owners.values());
        for r in refs {
            assert!(t.role(r).is_some(), "{name}: {r} is not a role");
        }
        assert_eq!(
            bundle::archetype_source(name),
            Some(
                std::fs::read_to_string(format!(
                    "{}/templates/teams/{name}/team.toml",
                    env!("CARGO_MANIFEST_DIR")
                ))
                .unwrap()
                .as_str()
            )
        );
    }
}

#[test]
fn every_archetype_renders_valid_deterministic_files() {
    for name in ARCHETYPES {
        let t = team(name);
        let a = render(&t, &facts(), "demo-project").unwrap_or_else(|e| panic!("{name}: {e}"));
        let b = render(&t, &facts(), "demo-project").unwrap();
        assert_eq!(a, b, "{name}: rendering is not deterministic");

        let dc: serde_json::Value =
            serde_json::from_str(text(&a, ".devcontainer/devcontainer.json"))
                .unwrap_or_else(|e| panic!("{name}: devcontainer.json: {e}"));
        assert_eq!(dc["runArgs"][1], "moot-demo-project");

        let mt: toml::Table = toml::from_str(text(&a, "moot.toml")).unwrap();
        let agents = mt["agents"].as_table().unwrap();
        for r in &t.roles {
            assert!(
                agents.contains_key(&r.key()),
                "{name}: [agents.{}]",
                r.key()
            );
        }
        assert_eq!(agents.len(), t.roles.len());

        let claude = text(&a, "CLAUDE.md");
        for r in &t.roles {
            assert!(
                claude.contains(&format!("(`{}`)", r.name)),
                "{name}: CLAUDE.md lacks {}",
                r.name
            );
        }
        assert!(claude.contains("spc_demo"));

        for f in &a.files {
            let s = std::str::from_utf8(&f.content).unwrap();
            for (i, line) in s.lines().enumerate() {
                assert_eq!(
                    line,
                    line.trim_end(),
                    "{name}: {}:{}: trailing whitespace",
                    f.path,
                    i + 1
                );
            }
            assert!(
                s.ends_with('\n'),
                "{name}: {} lacks a final newline",
                f.path
            );
            assert!(
                !s.ends_with("\n\n"),
                "{name}: {} ends with a blank line",
                f.path
            );
            assert!(!s.contains("TODO"), "{name}: {} has a TODO", f.path);
            if f.path.ends_with(".md") {
                assert!(
                    !s.contains("\n\n\n"),
                    "{name}: {} has a double blank line",
                    f.path
                );
            }
        }
    }
}

#[test]
fn offline_fresh_workspace_renders_placeholders() {
    let state = render(&team("loop-4"), &RemoteFacts::default(), "demo-project").unwrap();
    let claude = text(&state, "CLAUDE.md");
    assert!(claude.contains("- Space: (not yet provisioned — run `moot apply`)"));
    assert!(claude.contains("- API: (not yet provisioned — run `moot apply`)"));
    serde_json::from_str::<serde_json::Value>(text(&state, ".devcontainer/devcontainer.json"))
        .unwrap();
}

#[test]
fn bundle_file_names_match_the_bundle_lists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for skill in bundle::SKILLS {
        let s = std::fs::read_to_string(root.join(format!("skills/{skill}/SKILL.md"))).unwrap();
        assert!(
            s.starts_with(&format!("---\nname: {skill}\ndescription: ")),
            "{skill}: front matter"
        );
        let lines = s.lines().count();
        assert!((30..=90).contains(&lines), "{skill}: {lines} lines");
    }
    for hook in &bundle::HOOKS {
        let s = std::fs::read_to_string(root.join(format!("hooks/{}", hook.script))).unwrap();
        assert!(s.starts_with("#!/usr/bin/env bash\n"), "{}", hook.script);
        assert!(s.contains("set -euo pipefail"), "{}", hook.script);
    }
    for f in bundle::DEVCONTAINER_FILES {
        assert!(root.join(format!("devcontainer/{f}")).is_file(), "{f}");
    }
    let mut dirs: Vec<String> = std::fs::read_dir(root.join("teams"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    dirs.sort();
    let mut want: Vec<String> = ARCHETYPES.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(dirs, want);
}

#[test]
fn loop4_snapshots() {
    let state = render(&team("loop-4"), &facts(), "demo-project").unwrap();
    insta::assert_snapshot!("loop4_claude_md", text(&state, "CLAUDE.md"));
    insta::assert_snapshot!("loop4_moot_toml", text(&state, "moot.toml"));
    insta::assert_snapshot!(
        "loop4_devcontainer_json",
        text(&state, ".devcontainer/devcontainer.json")
    );
}
