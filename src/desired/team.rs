//! The team.toml model: every key of the archetype format plus our own
//! `[install]` table, with the defaults earlier tools applied.
//!
//! Parsing and validation (with file:line:column for every error) live in
//! `validate.rs`; this file is the shape only, and the source of
//! `schemas/team.schema.json`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The desired state a repository commits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamFile {
    /// Only "1" exists.
    #[serde(default = "default_schema_version")]
    pub toml_schema_version: String,
    #[serde(default)]
    pub archetype: Archetype,
    pub team: TeamInfo,
    /// Ordered: the order is the pipeline order.
    pub roles: Vec<Role>,
    #[serde(default)]
    pub workflow: Workflow,
    #[serde(default)]
    pub git: Git,
    #[serde(default)]
    pub resources: Resources,
    /// moot's own table: which parts of the bundle to install.
    #[serde(default)]
    pub install: Install,
}

fn default_schema_version() -> String {
    "1".into()
}

/// Where this file came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Archetype {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub version: String,
    /// Set when the user's copy diverges from the archetype.
    #[serde(default)]
    pub diverged_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInfo {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_version")]
    pub version: String,
    #[serde(default)]
    pub origin: String,
}

fn default_version() -> String {
    "1.0".into()
}

/// The agent harness a role runs in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Harness {
    #[default]
    ClaudeCode,
    Codex,
    Cursor,
    Aider,
}

impl Harness {
    pub const ALL: [Harness; 4] = [
        Harness::ClaudeCode,
        Harness::Codex,
        Harness::Cursor,
        Harness::Aider,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Harness::ClaudeCode => "claude-code",
            Harness::Codex => "codex",
            Harness::Cursor => "cursor",
            Harness::Aider => "aider",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Effort {
    Low,
    Medium,
    High,
    Xhigh,
    Max,
}

impl Effort {
    pub const ALL: [Effort; 5] = [
        Effort::Low,
        Effort::Medium,
        Effort::High,
        Effort::Xhigh,
        Effort::Max,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Effort::Low => "low",
            Effort::Medium => "medium",
            Effort::High => "high",
            Effort::Xhigh => "xhigh",
            Effort::Max => "max",
        }
    }
}

/// Model aliases the runtime accepts besides a full `claude-...` id.
pub const MODEL_ALIASES: [&str; 8] = [
    "opus",
    "sonnet",
    "haiku",
    "best",
    "default",
    "opusplan",
    "sonnet[1m]",
    "opus[1m]",
];

/// Whether the runtime accepts `model`.
pub fn is_valid_model(model: &str) -> bool {
    MODEL_ALIASES.contains(&model)
        || (model.starts_with("claude-")
            && model.len() > "claude-".len()
            && model
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '[' | ']' | '_')))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// The role's identifier: `[a-z0-9_-]`, used in file names and URLs.
    pub name: String,
    /// Default: the name in title case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub harness: Harness,
    /// A model alias (opus, sonnet, ...) or a full `claude-...` id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
    /// Terminal colour for this role's pane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    #[serde(default)]
    pub responsibilities: String,
    #[serde(default)]
    pub startup_prompt: String,
}

impl Role {
    /// The display name, defaulting to the name in title case
    /// (`implementation_a` -> `Implementation A`).
    pub fn display_name(&self) -> String {
        match &self.display_name {
            Some(d) if !d.trim().is_empty() => d.trim().to_string(),
            _ => title_case(&self.name),
        }
    }

    /// The key the runtime uses in `.moot/actors.json` and `moot.toml`:
    /// the lower-cased display name with spaces turned into `_`.
    pub fn key(&self) -> String {
        role_key(&self.display_name())
    }
}

pub fn role_key(display_name: &str) -> String {
    display_name.trim().to_lowercase().replace(' ', "_")
}

pub fn title_case(name: &str) -> String {
    name.split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    #[serde(default)]
    pub description: String,
    /// Role names in pipeline order.
    #[serde(default)]
    pub pipeline: Vec<String>,
    /// Thread kind -> message prefix.
    #[serde(default)]
    pub threads: IndexMap<String, String>,
    #[serde(default)]
    pub handoff: Handoff,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    #[serde(default = "default_handoff_method")]
    pub method: String,
    #[serde(default)]
    pub includes: Vec<String>,
}

impl Default for Handoff {
    fn default() -> Self {
        Handoff {
            method: default_handoff_method(),
            includes: Vec::new(),
        }
    }
}

fn default_handoff_method() -> String {
    "mention".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Git {
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_strategy")]
    pub strategy: String,
    #[serde(default = "default_feature_branch")]
    pub feature_branch: String,
    #[serde(default = "default_agent_branch")]
    pub agent_branch: String,
    #[serde(default = "default_merge")]
    pub merge_to_main: String,
    /// Resource -> role name.
    #[serde(default)]
    pub ownership: IndexMap<String, String>,
}

impl Default for Git {
    fn default() -> Self {
        Git {
            description: String::new(),
            strategy: default_strategy(),
            feature_branch: default_feature_branch(),
            agent_branch: default_agent_branch(),
            merge_to_main: default_merge(),
            ownership: IndexMap::new(),
        }
    }
}

fn default_strategy() -> String {
    "worktree".into()
}
fn default_feature_branch() -> String {
    "feat/{slug}".into()
}
fn default_agent_branch() -> String {
    "{role}/{slug}".into()
}
fn default_merge() -> String {
    "squash".into()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    #[serde(default)]
    pub description: String,
    /// Resource -> role name.
    #[serde(default)]
    pub owners: IndexMap<String, String>,
}

/// Which parts of the content bundle moot installs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Install {
    /// Skill names; default: the skills that fit the roles present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<String>>,
    #[serde(default = "yes")]
    pub claude_md: bool,
    #[serde(default = "yes")]
    pub hooks: bool,
    #[serde(default = "yes")]
    pub devcontainer: bool,
    /// Workspace-relative paths moot never touches.
    #[serde(default)]
    pub unmanaged: Vec<String>,
}

impl Default for Install {
    fn default() -> Self {
        Install {
            skills: None,
            claude_md: true,
            hooks: true,
            devcontainer: true,
            unmanaged: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

impl TeamFile {
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    /// The role the human talks to: `product` when present, else the first.
    pub fn human_interface(&self) -> &str {
        self.role("product")
            .or(self.roles.first())
            .map_or("", |r| r.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_and_key_defaults() {
        assert_eq!(title_case("implementation_a"), "Implementation A");
        assert_eq!(role_key("Implementation A"), "implementation_a");
        assert!(is_valid_model("claude-opus-4-1"));
        assert!(is_valid_model("sonnet[1m]"));
        assert!(!is_valid_model("gpt-5"));
        assert!(!is_valid_model("claude-"));
    }
}
