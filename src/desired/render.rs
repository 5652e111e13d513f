//! Rendering: (team.toml, remote facts) -> every file moot wants, with its
//! policy and mode. Deterministic: the same input gives the same bytes.

use std::collections::BTreeSet;

use minijinja::Environment;
use serde::Serialize;

use crate::desired::bundle::{self, HookSpec};
use crate::desired::team::TeamFile;
use crate::error::{Error, Result};

/// How moot treats a path (cli.md, "Files in a workspace").
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// moot owns the content; user edits are staged, never overwritten.
    Managed,
    /// Created once; the user owns it afterwards.
    Seed,
    /// moot ensures its entries exist; the rest is the user's.
    Merged,
    /// moot ensures its lines exist; appends, never reorders.
    Lines,
    /// Holds agent keys: 0600 in a 0700 `.moot/`.
    Secret,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Managed => "managed",
            Policy::Seed => "seed",
            Policy::Merged => "merged",
            Policy::Lines => "lines",
            Policy::Secret => "secret",
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Facts about the remote side the files mention. Online they come from the
/// API; offline from moot.lock; on a fresh offline workspace they are empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RemoteFacts {
    pub api_url: String,
    pub space_id: String,
    /// There is no endpoint to read a space's name (GET /api/spaces/{id}
    /// does not exist), so this is the space id unless known otherwise.
    pub space_name: String,
}

/// A file with content moot renders in full (managed and seed policies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredFile {
    /// Workspace-relative, `/`-separated.
    pub path: String,
    pub policy: Policy,
    pub mode: u32,
    pub content: Vec<u8>,
}

/// A role as the key reconciliation needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesiredRole {
    pub name: String,
    /// The runtime's key (`.moot/actors.json`, `moot.toml`).
    pub key: String,
    pub display_name: String,
}

/// A hook entry moot ensures in `.claude/settings.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookEntry {
    pub event: String,
    pub matcher: String,
    pub command: String,
}

impl From<&HookSpec> for HookEntry {
    fn from(h: &HookSpec) -> Self {
        HookEntry {
            event: h.event.into(),
            matcher: h.matcher.into(),
            command: h.command(),
        }
    }
}

pub const SETTINGS_PATH: &str = ".claude/settings.json";
pub const GITIGNORE_PATH: &str = ".gitignore";
pub const ACTORS_PATH: &str = ".moot/actors.json";
pub const MOOT_TOML_PATH: &str = "moot.toml";
pub const CLAUDE_MD_PATH: &str = "CLAUDE.md";

/// Everything moot wants in the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredState {
    /// Managed and seed files, sorted by path.
    pub files: Vec<DesiredFile>,
    /// Entries for `.claude/settings.json` (empty when hooks are off).
    pub settings_hooks: Vec<HookEntry>,
    /// Lines `.gitignore` must contain.
    pub gitignore_lines: Vec<String>,
    pub roles: Vec<DesiredRole>,
    pub facts: RemoteFacts,
    pub bundle_version: String,
    /// Paths moot never touches (`[install] unmanaged`).
    pub unmanaged: BTreeSet<String>,
}

impl DesiredState {
    pub fn file(&self, path: &str) -> Option<&DesiredFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }

    /// Whether `path` is listed under `[install] unmanaged`, or lies under
    /// a directory listed there (`.devcontainer` covers everything in it).
    pub fn is_unmanaged(&self, path: &str) -> bool {
        self.unmanaged.iter().any(|u| {
            path.strip_prefix(u.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

#[derive(Serialize)]
struct RoleCtx<'a> {
    name: &'a str,
    key: String,
    display_name: String,
    harness: &'static str,
    model: Option<&'a str>,
    effort: Option<&'static str>,
    theme: Option<&'a str>,
    responsibilities: &'a str,
    startup_prompt: &'a str,
}

#[derive(Serialize)]
struct Pair<'a> {
    key: &'a str,
    value: &'a str,
}

/// Renders the desired state. `project_name` (CLAUDE.md and the
/// devcontainer mention it) is team.toml's `[team] name` for the CLI: it
/// must not depend on where the workspace is checked out.
pub fn render(team: &TeamFile, facts: &RemoteFacts, project_name: &str) -> Result<DesiredState> {
    let roles: Vec<RoleCtx> = team
        .roles
        .iter()
        .map(|r| RoleCtx {
            name: &r.name,
            key: r.key(),
            display_name: r.display_name(),
            harness: r.harness.as_str(),
            model: r.model.as_deref(),
            effort: r.effort.map(|e| e.as_str()),
            theme: r.theme.as_deref(),
            responsibilities: r.responsibilities.trim(),
            startup_prompt: r.startup_prompt.trim(),
        })
        .collect();
    let pairs = |m: &'_ indexmap::IndexMap<String, String>| -> Vec<(String, String)> {
        m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let ctx = minijinja::context! {
        project_name => project_name,
        project_slug => slug(project_name),
        team => &team.team,
        archetype => &team.archetype,
        roles => &roles,
        pipeline => &team.workflow.pipeline,
        workflow_description => team.workflow.description.trim(),
        threads => pairs(&team.workflow.threads).iter().map(|(k, v)| Pair { key: k, value: v }).collect::<Vec<_>>(),
        handoff => &team.workflow.handoff,
        git => minijinja::context! {
            description => team.git.description.trim(),
            strategy => &team.git.strategy,
            feature_branch => &team.git.feature_branch,
            agent_branch => &team.git.agent_branch,
            merge_to_main => &team.git.merge_to_main,
            ownership => pairs(&team.git.ownership).iter().map(|(k, v)| Pair { key: k, value: v }).collect::<Vec<_>>(),
        },
        resources => minijinja::context! {
            description => team.resources.description.trim(),
            owners => pairs(&team.resources.owners).iter().map(|(k, v)| Pair { key: k, value: v }).collect::<Vec<_>>(),
        },
        human_interface => team.human_interface(),
        space_id => &facts.space_id,
        space_name => &facts.space_name,
        api_url => &facts.api_url,
    };

    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let render_tpl = |path: &str| -> Result<Vec<u8>> {
        let src = bundle::text(path)?;
        env.render_str(src, &ctx)
            .map(String::into_bytes)
            .map_err(|e| Error::Internal(format!("rendering bundle file {path}: {e}")))
    };

    let mut files = Vec::new();
    files.push(DesiredFile {
        path: MOOT_TOML_PATH.into(),
        policy: Policy::Managed,
        mode: 0o644,
        content: moot_toml(team, facts).into_bytes(),
    });
    if team.install.claude_md {
        files.push(DesiredFile {
            path: CLAUDE_MD_PATH.into(),
            policy: Policy::Seed,
            mode: 0o644,
            content: render_tpl("claude/CLAUDE.md.j2")?,
        });
    }
    for skill in selected_skills(team) {
        files.push(DesiredFile {
            path: format!(".claude/skills/{skill}/SKILL.md"),
            policy: Policy::Managed,
            mode: 0o644,
            content: bundle::text(&format!("skills/{skill}/SKILL.md"))?.into(),
        });
    }
    let mut settings_hooks = Vec::new();
    if team.install.hooks {
        for hook in &bundle::HOOKS {
            files.push(DesiredFile {
                path: format!(".claude/hooks/{}", hook.script),
                policy: Policy::Managed,
                mode: 0o755,
                content: bundle::text(&format!("hooks/{}", hook.script))?.into(),
            });
            settings_hooks.push(HookEntry::from(hook));
        }
    }
    if team.install.devcontainer {
        for name in bundle::DEVCONTAINER_FILES {
            let src = format!("devcontainer/{name}");
            let (target, content) = match name.strip_suffix(".j2") {
                Some(stem) => (stem, render_tpl(&src)?),
                None => (name, bundle::text(&src)?.as_bytes().to_vec()),
            };
            let mode = if target.ends_with(".sh") {
                0o755
            } else {
                0o644
            };
            files.push(DesiredFile {
                path: format!(".devcontainer/{target}"),
                policy: Policy::Managed,
                mode,
                content,
            });
        }
    }
    let unmanaged: BTreeSet<String> = team
        .install
        .unmanaged
        .iter()
        .map(|p| p.trim_start_matches("./").trim_end_matches('/').to_string())
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));

    let mut gitignore_lines = vec![".moot/".to_string()];
    if team.git.strategy == "worktree" {
        gitignore_lines.push(".worktrees/".into());
    }
    gitignore_lines.push(".claude/settings.local.json".into());

    Ok(DesiredState {
        files,
        settings_hooks,
        gitignore_lines,
        roles: team
            .roles
            .iter()
            .map(|r| DesiredRole {
                name: r.name.clone(),
                key: r.key(),
                display_name: r.display_name(),
            })
            .collect(),
        facts: facts.clone(),
        bundle_version: bundle::version().to_string(),
        unmanaged,
    })
}

/// Skills to install: `[install] skills` when given, else those that fit the
/// roles present plus the ones every team uses, in bundle order.
pub fn selected_skills(team: &TeamFile) -> Vec<&'static str> {
    match &team.install.skills {
        Some(list) => bundle::SKILLS
            .iter()
            .copied()
            .filter(|s| list.iter().any(|l| l == s))
            .collect(),
        None => {
            let wanted: BTreeSet<&str> = team
                .roles
                .iter()
                .flat_map(|r| bundle::skills_for_role(&r.name).iter().copied())
                .chain(["handoff", "memory-audit"])
                .collect();
            bundle::SKILLS
                .iter()
                .copied()
                .filter(|s| wanted.contains(s))
                .collect()
        }
    }
}

/// `moot.toml` in the runtime's exact format (api-contract.md).
pub fn moot_toml(team: &TeamFile, facts: &RemoteFacts) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let api_url = if facts.api_url.is_empty() {
        crate::DEFAULT_API_URL
    } else {
        facts.api_url.as_str()
    };
    let template = if team.archetype.id.is_empty() {
        team.team.name.as_str()
    } else {
        team.archetype
            .id
            .rsplit('/')
            .next()
            .unwrap_or(&team.archetype.id)
    };
    let mut out = String::from("# Generated by moot from team.toml; edit team.toml instead.\n\n");
    out.push_str("[convo]\n");
    out.push_str(&format!("api_url = {}\n", q(api_url)));
    out.push_str(&format!("template = {}\n", q(template)));
    out.push_str(&format!("space_id = {}\n", q(&facts.space_id)));
    for r in &team.roles {
        out.push_str(&format!("\n[agents.{}]\n", toml_key(&r.key())));
        out.push_str(&format!("display_name = {}\n", q(&r.display_name())));
        out.push_str("profile = \"devcontainer\"\n");
        let prompt = r
            .startup_prompt
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        out.push_str(&format!("startup_prompt = {}\n", q(&prompt)));
        if r.harness != crate::desired::team::Harness::ClaudeCode {
            out.push_str(&format!("harness = {}\n", q(r.harness.as_str())));
        }
        if let Some(m) = &r.model {
            out.push_str(&format!("model = {}\n", q(m)));
        }
        if let Some(e) = r.effort {
            out.push_str(&format!("effort = {}\n", q(e.as_str())));
        }
        if let Some(t) = &r.theme {
            out.push_str(&format!("theme = {}\n", q(t)));
        }
    }
    out.push_str("\n[harness]\n");
    out.push_str("type = \"claude-code\"\n");
    out.push_str("permissions = \"dangerously-skip\"\n");
    let human = team
        .role(team.human_interface())
        .map(|r| r.key())
        .unwrap_or_default();
    out.push_str(&format!("human_interface = {}\n", q(&human)));
    out
}

/// Whether `path` is one moot renders for some team.toml. moot.lock is
/// committed, so anyone can edit it: an entry outside this set can never
/// make moot remove a file (team.toml, say).
pub fn could_render(path: &str) -> bool {
    let depth = path.matches('/').count();
    path == MOOT_TOML_PATH
        || path == CLAUDE_MD_PATH
        || (path.starts_with(".claude/skills/") && path.ends_with("/SKILL.md") && depth == 3)
        || (path.starts_with(".claude/hooks/") && path.ends_with(".sh") && depth == 2)
        || (path.starts_with(".devcontainer/") && depth == 1)
}

/// A TOML key: bare when TOML allows it, else quoted (a display name like
/// "Product (EU)" or "Q.A" gives a role key that needs quotes).
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        toml::Value::String(key.to_string()).to_string()
    }
}

/// A name safe for a container: lower-case `[a-z0-9-]`.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "workspace".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_tables_with_unusual_display_names_stay_valid_toml() {
        let src = r#"
[team]
name = "demo"

[[roles]]
name = "product"
display_name = "Product (EU)"

[[roles]]
name = "qa"
display_name = "Q.A"
"#;
        let team = crate::desired::parse_team(src, std::path::Path::new("team.toml")).unwrap();
        let text = moot_toml(&team, &RemoteFacts::default());
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        let agents = parsed["agents"].as_table().unwrap();
        assert!(agents.contains_key("product_(eu)"), "{text}");
        assert!(agents.contains_key("q.a"), "{text}");
        assert_eq!(agents["q.a"]["display_name"].as_str(), Some("Q.A"));
    }
}
