//! The team.toml model: every key of the archetype format plus our own
//! `[install]` table, with the defaults earlier tools applied.
//!
//! Parsing and validation (with file:line:column for every error) live in
//! `validate.rs`; this file is the shape only, and the source of
//! `schemas/team.schema.json`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// team.toml: the agent team a repository hosts, as its owners commit it.
/// `moot plan` and `moot apply` make the Moot platform and the repository's
/// files match it. Reference: docs/team-toml.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamFile {
    /// The format version of this file. Only "1" exists.
    #[serde(default = "default_schema_version")]
    #[schemars(extend("enum" = ["1"]))]
    pub toml_schema_version: String,
    /// The built-in archetype this file was copied from (written by `moot init`).
    #[serde(default)]
    pub archetype: Archetype,
    /// The team's name and description.
    pub team: TeamInfo,
    /// The agents of the team, one `[[roles]]` table each; at least one.
    /// Their order is the pipeline order.
    #[schemars(length(min = 1))]
    pub roles: Vec<Role>,
    /// How work moves between roles.
    #[serde(default)]
    pub workflow: Workflow,
    /// Branching conventions the agents follow.
    #[serde(default)]
    pub git: Git,
    /// Which role owns which shared resource.
    #[serde(default)]
    pub resources: Resources,
    /// How the runtime launches the team (moot.toml's `[harness]`).
    #[serde(default)]
    pub harness: HarnessSettings,
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
    /// The archetype's identifier, e.g. "mootup/loop-4".
    #[serde(default)]
    pub id: String,
    /// The archetype's version this file was copied from.
    #[serde(default)]
    pub version: String,
    /// Set when the user's copy diverges from the archetype.
    #[serde(default)]
    pub diverged_at: String,
}

/// The `[team]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInfo {
    /// The team's name (required, not empty).
    #[schemars(length(min = 1))]
    pub name: String,
    /// What the team is for; `moot templates` shows its first line.
    #[serde(default)]
    pub description: String,
    /// The team definition's own version.
    #[serde(default = "default_version")]
    pub version: String,
    /// Where the team definition comes from (free text).
    #[serde(default)]
    pub origin: String,
}

fn default_version() -> String {
    "1.0".into()
}

/// The agent harness a role runs in: claude-code (default), codex or
/// cursor. Each harness a role uses decides which files moot renders
/// (docs/harnesses.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Harness {
    #[default]
    ClaudeCode,
    Codex,
    Cursor,
}

impl Harness {
    pub const ALL: [Harness; 3] = [Harness::ClaudeCode, Harness::Codex, Harness::Cursor];

    pub fn as_str(self) -> &'static str {
        match self {
            Harness::ClaudeCode => "claude-code",
            Harness::Codex => "codex",
            Harness::Cursor => "cursor",
        }
    }

    /// The reasoning efforts the harness accepts; `None`: it has no such
    /// setting. Codex's `model_reasoning_effort` has no `max`.
    pub fn efforts(self) -> Option<&'static [Effort]> {
        match self {
            Harness::ClaudeCode => Some(&Effort::ALL),
            Harness::Codex => Some(&[Effort::Low, Effort::Medium, Effort::High, Effort::Xhigh]),
            Harness::Cursor => None,
        }
    }
}

/// Harnesses the runtime knows but moot cannot set up: refused by
/// validation rather than accepted and ignored.
pub const UNSUPPORTED_HARNESSES: [&str; 2] = ["aider", "pi"];

/// How hard the model thinks: low, medium, high, xhigh or max.
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

/// Whether a Claude Code role's `model` is one Claude Code resolves.
pub fn is_valid_model(model: &str) -> bool {
    MODEL_ALIASES.contains(&model)
        || (model.starts_with("claude-") && model.len() > "claude-".len() && is_model_token(model))
}

/// Whether `model` is one token the runtime passes on to the harness
/// (letters, digits and `_ . : + / [ ] -`), the rule mootup 0.5.x checks.
pub fn is_model_token(model: &str) -> bool {
    !model.is_empty()
        && model.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '+' | '/' | '[' | ']' | '-')
        })
}

/// A per-role environment variable name the runtime accepts and does not
/// set itself.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One `[[roles]]` table: an agent of the team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// The role's identifier, unique in the file: lower-case letters,
    /// digits, `_` and `-` (not first). Used in file names and URLs, and
    /// in `pipeline`, `[git.ownership]` and `[resources.owners]`.
    #[schemars(regex(pattern = r"^[a-z0-9_][a-z0-9_-]*$"))]
    pub name: String,
    /// The name shown on the platform. Default: the name in title case
    /// (`implementation_a` -> "Implementation A"). Lower-cased with spaces
    /// as `_`, it is the role's key, which must be unique too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The agent harness the role runs in.
    #[serde(default)]
    pub harness: Harness,
    /// The model. claude-code: an alias (opus, sonnet, haiku, best,
    /// default, opusplan, sonnet[1m], opus[1m]) or a full id starting with
    /// `claude-` (any model name when `env` sets ANTHROPIC_BASE_URL).
    /// codex and cursor: the harness's own model name, e.g. `gpt-5-codex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("examples" = ["opus", "sonnet", "claude-opus-4-1", "gpt-5-codex"]))]
    pub model: Option<String>,
    /// Reasoning effort; unset: the harness's default. claude-code: `--effort`;
    /// codex: `model_reasoning_effort` (no `max`); cursor has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<Effort>,
    /// Terminal colour for this role's pane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// What the role does (multi-line; surrounding blank lines are stripped).
    #[serde(default)]
    pub responsibilities: String,
    /// The first prompt the agent receives (multi-line; stripped). Where it
    /// names `CLAUDE.md` or `AGENTS.md`, moot writes the file the role's
    /// harness reads.
    #[serde(default)]
    pub startup_prompt: String,
    /// Environment variables for the agent's session (`[roles.env]`):
    /// NAME = "value". A value may hold `${secret:NAME}`, which the runtime
    /// replaces at launch with the file NAME of its secrets directory, so
    /// no secret is ever committed.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env: IndexMap<String, String>,
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

    /// The startup prompt as one line, naming the instructions file this
    /// role's harness reads (AGENTS.md for codex and cursor, CLAUDE.md for
    /// claude-code), so switching a role's harness needs no prompt edit.
    pub fn launch_prompt(&self) -> String {
        use crate::paths::{AGENTS_MD_PATH, CLAUDE_MD_PATH};
        let (from, to) = match self.harness {
            Harness::ClaudeCode => (AGENTS_MD_PATH, CLAUDE_MD_PATH),
            Harness::Codex | Harness::Cursor => (CLAUDE_MD_PATH, AGENTS_MD_PATH),
        };
        self.startup_prompt
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace(from, to)
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

/// The `[workflow]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    /// How the team works, for the agents (multi-line).
    #[serde(default)]
    pub description: String,
    /// Role names in pipeline order; each must be a defined role.
    #[serde(default)]
    pub pipeline: Vec<String>,
    /// Thread kind -> message prefix, e.g. `feature = "[FEATURE]"`.
    #[serde(default)]
    pub threads: IndexMap<String, String>,
    /// How one role hands work to the next.
    #[serde(default)]
    pub handoff: Handoff,
}

/// The `[workflow.handoff]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    /// How a handoff is signalled. Default "mention".
    #[serde(default)]
    #[schemars(with = "String")]
    pub method: HandoffMethod,
    /// What every handoff message includes.
    #[serde(default)]
    pub includes: Vec<String>,
}

/// Declares a team.toml string field with the values moot knows as
/// variants. The runtime reads these fields, not moot, and its accepted set
/// is not part of the contract, so any other value is kept as written
/// (`Other`) and rendered unchanged rather than refused.
macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? } default $default:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($variant,)+
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$default
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($text => $name::$variant,)+
                    _ => $name::Other(s),
                }
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_string()
            }
        }
    };
}

open_enum!(
    /// `[workflow.handoff] method`: how a handoff is signalled.
    HandoffMethod { Mention = "mention" } default Mention
);
open_enum!(
    /// `[git] strategy`: how agents work side by side. `worktree` makes
    /// moot ignore `.worktrees/` in git.
    GitStrategy { Worktree = "worktree" } default Worktree
);
open_enum!(
    /// `[git] merge_to_main`: how work reaches the main branch.
    MergeToMain { Squash = "squash" } default Squash
);

/// The `[git]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Git {
    /// Git conventions, for the agents (multi-line).
    #[serde(default)]
    pub description: String,
    /// How agents work side by side. Default "worktree".
    #[serde(default)]
    #[schemars(with = "String")]
    pub strategy: GitStrategy,
    /// Feature branch name pattern. Default "feat/{slug}".
    #[serde(default = "default_feature_branch")]
    pub feature_branch: String,
    /// Per-agent branch name pattern. Default "{role}/{slug}".
    #[serde(default = "default_agent_branch")]
    pub agent_branch: String,
    /// How work reaches the main branch. Default "squash".
    #[serde(default)]
    #[schemars(with = "String")]
    pub merge_to_main: MergeToMain,
    /// Resource -> the name of the role that owns it, e.g. `main_branch = "product"`.
    #[serde(default)]
    pub ownership: IndexMap<String, String>,
}

impl Default for Git {
    fn default() -> Self {
        Git {
            description: String::new(),
            strategy: GitStrategy::default(),
            feature_branch: default_feature_branch(),
            agent_branch: default_agent_branch(),
            merge_to_main: MergeToMain::default(),
            ownership: IndexMap::new(),
        }
    }
}

fn default_feature_branch() -> String {
    "feat/{slug}".into()
}
fn default_agent_branch() -> String {
    "{role}/{slug}".into()
}

/// The `[resources]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// Shared resources, for the agents (multi-line).
    #[serde(default)]
    pub description: String,
    /// Resource -> the name of the role that owns it, e.g. `git = "product"`.
    #[serde(default)]
    pub owners: IndexMap<String, String>,
}

/// How Claude Code asks before acting (`--permission-mode`); Codex maps
/// the modes that never ask (auto, bypassPermissions, dontAsk) onto its
/// bypass flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PermissionMode {
    #[serde(rename = "acceptEdits")]
    AcceptEdits,
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "bypassPermissions")]
    BypassPermissions,
    #[serde(rename = "default")]
    Default,
    #[serde(rename = "dontAsk")]
    DontAsk,
    #[serde(rename = "plan")]
    Plan,
}

impl PermissionMode {
    pub const ALL: [PermissionMode; 6] = [
        PermissionMode::AcceptEdits,
        PermissionMode::Auto,
        PermissionMode::BypassPermissions,
        PermissionMode::Default,
        PermissionMode::DontAsk,
        PermissionMode::Plan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PermissionMode::AcceptEdits => "acceptEdits",
            PermissionMode::Auto => "auto",
            PermissionMode::BypassPermissions => "bypassPermissions",
            PermissionMode::Default => "default",
            PermissionMode::DontAsk => "dontAsk",
            PermissionMode::Plan => "plan",
        }
    }
}

/// The `[harness]` table: launch settings the runtime reads from
/// moot.toml's `[harness]`. Unset keys keep the runtime's defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HarnessSettings {
    /// How agents ask before acting. Runtime default: bypassPermissions
    /// (the devcontainer is the sandbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_mode: Option<PermissionMode>,
    /// Seconds between launching one agent and the next on `moot up`
    /// (0: all at once). Runtime default: 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub launch_stagger_seconds: Option<f64>,
    /// The role the human talks to (a role name). Default: `product` when
    /// there is one, else the first role. In a team with claude-code roles
    /// it must be one of them: `moot up` logs in to Claude Code through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_interface: Option<String>,
}

/// The `[install]` table (moot's own): which parts of the content bundle
/// moot installs in the repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Install {
    /// Skills to install (under `.claude/skills/` and `.agents/skills/`, as
    /// the harnesses in use need), from the bundle's skills
    /// (product-workflow, leader-workflow, spec-checklist,
    /// librarian-workflow, handoff, verify, doc-curation, memory-audit).
    /// Unset: the skills that fit the roles present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<String>>,
    /// Seed CLAUDE.md when a role uses claude-code (created once; yours to
    /// edit afterwards). Default true.
    #[serde(default = "yes")]
    pub claude_md: bool,
    /// Seed AGENTS.md when a role uses codex or cursor (created once;
    /// yours to edit afterwards). Default true.
    #[serde(default = "yes")]
    pub agents_md: bool,
    /// Install the Claude Code hook scripts and their settings.json entries
    /// (when a role uses claude-code). Default true.
    #[serde(default = "yes")]
    pub hooks: bool,
    /// Install `.devcontainer/`. Default true.
    #[serde(default = "yes")]
    pub devcontainer: bool,
    /// Workspace-relative paths moot never touches (no absolute path, no `.`, `..` or empty component, no backslash).
    #[serde(default)]
    pub unmanaged: Vec<String>,
}

impl Default for Install {
    fn default() -> Self {
        Install {
            skills: None,
            claude_md: true,
            agents_md: true,
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

    /// The role the human talks to: `[harness] human_interface`, else
    /// `product` when present, else the first.
    pub fn human_interface(&self) -> &str {
        if let Some(name) = &self.harness.human_interface {
            return name;
        }
        self.role("product")
            .or(self.roles.first())
            .map_or("", |r| r.name.as_str())
    }

    /// Whether some role runs in `harness`.
    pub fn uses(&self, harness: Harness) -> bool {
        self.roles.iter().any(|r| r.harness == harness)
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
