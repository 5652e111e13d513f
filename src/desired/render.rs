//! Rendering: (team.toml, remote facts) -> every file moot wants, with its
//! policy and mode. Deterministic: the same input gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::Environment;
use serde::Serialize;

use crate::desired::bundle::{self, HookSpec};
use crate::desired::team::{Harness, Role, TeamFile};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::mode::Mode;

/// How moot treats a path (the README's "Files moot manages").
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
    pub mode: Mode,
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

pub use crate::paths::{
    ACTORS_PATH, AGENTS_MD_PATH, AGENTS_SKILLS_DIR, CLAUDE_MD_PATH, GITIGNORE_PATH, MOOT_TOML_PATH,
    SETTINGS_PATH,
};

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
    /// Every managed file this team.toml and bundle can render, with every
    /// part of `[install]` turned on: path -> sha256 of its content. A file
    /// moot.lock lists but no longer desired is removed only when its bytes
    /// are one of these (moot.lock is committed, so anyone can edit it; a
    /// pattern of paths would let it name the user's own files).
    pub renderable: BTreeMap<String, Digest>,
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

/// Which harnesses the team's roles use: each decides a set of files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Harnesses {
    pub claude: bool,
    pub codex: bool,
    pub cursor: bool,
}

impl Harnesses {
    pub fn of(team: &TeamFile) -> Harnesses {
        Harnesses {
            claude: team.uses(Harness::ClaudeCode),
            codex: team.uses(Harness::Codex),
            cursor: team.uses(Harness::Cursor),
        }
    }

    /// Codex and Cursor both read AGENTS.md and `.agents/skills/`.
    pub fn agents(self) -> bool {
        self.codex || self.cursor
    }
}

/// Renders the desired state. `project_name` (CLAUDE.md and the
/// devcontainer mention it) is team.toml's `[team] name` for the CLI: it
/// must not depend on where the workspace is checked out.
pub fn render(team: &TeamFile, facts: &RemoteFacts, project_name: &str) -> Result<DesiredState> {
    let mut state = render_once(team, facts, project_name, Harnesses::of(team))?;
    state.renderable = state
        .files
        .iter()
        .filter(|f| matches!(f.policy, Policy::Managed | Policy::Seed))
        .map(|f| (f.path.clone(), Digest::of(&f.content)))
        .collect();
    Ok(state)
}

/// Adds to `state.renderable` what moot could render for this team with
/// every harness, and with every part of `[install]` turned on: moot.lock
/// is committed, so a leftover entry may only remove a file whose bytes
/// moot itself would write there. Seeds (whose text follows `[install]`)
/// come from the team as it is; managed files from the team with every
/// part on. Two more renders, so only done when moot.lock lists a path
/// this team no longer renders (`observe` asks).
pub fn add_renderable(
    state: &mut DesiredState,
    team: &TeamFile,
    facts: &RemoteFacts,
    project_name: &str,
) -> Result<()> {
    let all = Harnesses {
        claude: true,
        codex: true,
        cursor: true,
    };
    let mut every_part = team.clone();
    every_part.install.skills = Some(bundle::SKILLS.iter().map(|s| s.to_string()).collect());
    every_part.install.hooks = true;
    every_part.install.devcontainer = true;
    let seeds = render_once(team, facts, project_name, all)?.files;
    let managed = render_once(&every_part, facts, project_name, all)?.files;
    state.renderable.extend(
        seeds
            .into_iter()
            .filter(|f| f.policy == Policy::Seed)
            .chain(managed.into_iter().filter(|f| f.policy == Policy::Managed))
            .map(|f| (f.path, Digest::of(&f.content))),
    );
    Ok(())
}

fn render_once(
    team: &TeamFile,
    facts: &RemoteFacts,
    project_name: &str,
    used: Harnesses,
) -> Result<DesiredState> {
    let ctx = context(team, facts, project_name, used);
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    let render_tpl = |path: &str| -> Result<Vec<u8>> {
        let src = bundle::text(path)?;
        env.render_str(src, &ctx)
            .map(String::into_bytes)
            .map_err(|e| Error::Internal(format!("rendering bundle file {path}: {e}")))
    };

    let mut files = vec![DesiredFile {
        path: MOOT_TOML_PATH.into(),
        policy: Policy::Managed,
        mode: Mode::FILE,
        content: moot_toml(team, facts).into_bytes(),
    }];
    instructions(team, used, &render_tpl, &mut files)?;
    for dir in skill_dirs(used) {
        for skill in selected_skills(team) {
            files.push(DesiredFile {
                path: format!("{dir}/{skill}/SKILL.md"),
                policy: Policy::Managed,
                mode: Mode::FILE,
                content: bundle::text(&format!("skills/{skill}/SKILL.md"))?.into(),
            });
        }
    }
    let settings_hooks = claude_hooks(team, used, &mut files)?;
    if team.install.devcontainer {
        devcontainer(&render_tpl, &mut files)?;
    }
    let unmanaged: BTreeSet<String> = team
        .install
        .unmanaged
        .iter()
        .map(|p| crate::relpath::normalize_user(p).to_string())
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));

    use crate::paths::{MOOT_DIR, SETTINGS_LOCAL_PATH, WORKTREES_DIR};
    let mut gitignore_lines = vec![format!("{MOOT_DIR}/")];
    if team.git.strategy == crate::desired::team::GitStrategy::Worktree {
        gitignore_lines.push(format!("{WORKTREES_DIR}/"));
    }
    if used.claude {
        gitignore_lines.push(SETTINGS_LOCAL_PATH.into());
    }

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
        renderable: BTreeMap::new(),
    })
}

/// CLAUDE.md and AGENTS.md: one text, seeded for whichever harness reads it.
fn instructions(
    team: &TeamFile,
    used: Harnesses,
    render_tpl: &dyn Fn(&str) -> Result<Vec<u8>>,
    files: &mut Vec<DesiredFile>,
) -> Result<()> {
    let wanted = [
        (used.claude && team.install.claude_md, CLAUDE_MD_PATH),
        (used.agents() && team.install.agents_md, AGENTS_MD_PATH),
    ];
    for (wanted, path) in wanted {
        if wanted {
            files.push(DesiredFile {
                path: path.into(),
                policy: Policy::Seed,
                mode: Mode::FILE,
                content: render_tpl("claude/CLAUDE.md.j2")?,
            });
        }
    }
    Ok(())
}

/// Claude Code's hook scripts and their settings.json entries, when a role
/// runs in Claude Code: no other harness runs them.
fn claude_hooks(
    team: &TeamFile,
    used: Harnesses,
    files: &mut Vec<DesiredFile>,
) -> Result<Vec<HookEntry>> {
    let mut entries = Vec::new();
    if !(used.claude && team.install.hooks) {
        return Ok(entries);
    }
    for hook in &bundle::HOOKS {
        files.push(DesiredFile {
            path: format!("{}/{}", crate::paths::CLAUDE_HOOKS_DIR, hook.script),
            policy: Policy::Managed,
            mode: Mode::EXECUTABLE,
            content: bundle::text(&format!("hooks/{}", hook.script))?.into(),
        });
        entries.push(HookEntry::from(hook));
    }
    Ok(entries)
}

/// Where the harnesses in use discover skills: Claude Code in
/// `.claude/skills/`, Codex and Cursor in `.agents/skills/`. Copies, not
/// links: moot never writes through a link, and a copy is a plain managed
/// file that `moot check` can verify byte for byte.
fn skill_dirs(used: Harnesses) -> Vec<&'static str> {
    let mut dirs = Vec::new();
    if used.claude {
        dirs.push(crate::paths::CLAUDE_SKILLS_DIR);
    }
    if used.agents() {
        dirs.push(AGENTS_SKILLS_DIR);
    }
    dirs
}

/// The devcontainer: one for the whole team, installing and registering
/// every harness the roles use (the template reads `harnesses`).
fn devcontainer(
    render_tpl: &dyn Fn(&str) -> Result<Vec<u8>>,
    files: &mut Vec<DesiredFile>,
) -> Result<()> {
    for name in bundle::DEVCONTAINER_FILES {
        let src = format!("devcontainer/{name}");
        let (target, content) = match name.strip_suffix(".j2") {
            Some(stem) => (stem, render_tpl(&src)?),
            None => (name, bundle::text(&src)?.as_bytes().to_vec()),
        };
        let mode = if target.ends_with(".sh") {
            Mode::EXECUTABLE
        } else {
            Mode::FILE
        };
        files.push(DesiredFile {
            path: format!(".devcontainer/{target}"),
            policy: Policy::Managed,
            mode,
            content,
        });
    }
    Ok(())
}

/// The template context: team.toml's tables, the remote facts, and which
/// harnesses are in use.
fn context(
    team: &TeamFile,
    facts: &RemoteFacts,
    project_name: &str,
    used: Harnesses,
) -> minijinja::Value {
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
    let pairs = |m: &indexmap::IndexMap<String, String>| -> Vec<minijinja::Value> {
        m.iter()
            .map(|(k, v)| minijinja::Value::from_serialize(Pair { key: k, value: v }))
            .collect()
    };
    minijinja::context! {
        project_name => project_name,
        project_slug => slug(project_name),
        team => &team.team,
        archetype => &team.archetype,
        roles => &roles,
        pipeline => &team.workflow.pipeline,
        workflow_description => team.workflow.description.trim(),
        threads => pairs(&team.workflow.threads),
        handoff => &team.workflow.handoff,
        git => minijinja::context! {
            description => team.git.description.trim(),
            strategy => team.git.strategy.as_str(),
            feature_branch => &team.git.feature_branch,
            agent_branch => &team.git.agent_branch,
            merge_to_main => team.git.merge_to_main.as_str(),
            ownership => pairs(&team.git.ownership),
        },
        resources => minijinja::context! {
            description => team.resources.description.trim(),
            owners => pairs(&team.resources.owners),
        },
        human_interface => team.human_interface(),
        harnesses => used,
        // The runtime starts each agent in .worktrees/<key>; keys that are
        // not plain names are never valid roles for the run-moot wrappers.
        worktree_keys => team
            .roles
            .iter()
            .map(|r| r.key())
            .filter(|k| crate::desired::validate::is_safe_role_name(k))
            .collect::<Vec<_>>(),
        harness_names => Harness::ALL
            .iter()
            .filter(|h| team.uses(**h))
            .map(|h| h.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        generated => generated_paths(team),
        space_id => &facts.space_id,
        space_name => &facts.space_name,
        api_url => &facts.api_url,
    }
}

/// "`moot.toml`, `.claude/skills/`, ...": what the instructions tell agents
/// not to edit. The same for every harness: the instructions are a seed,
/// and a copy left when the last role of a harness goes must still be what
/// moot renders, so that moot can prove it is its own and remove it. For
/// the same reason the instructions' role table names no harness or model
/// (moot.toml carries those).
fn generated_paths(team: &TeamFile) -> String {
    let mut paths = vec!["`moot.toml`", "`.claude/skills/`"];
    if team.install.hooks {
        paths.push("`.claude/hooks/`");
    }
    paths.push("`.agents/skills/`");
    match paths.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
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

/// `moot.toml` in the runtime's exact format (docs/harnesses.md, "The files
/// the runtime reads").
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
        agent_table(&mut out, r);
    }
    out.push_str("\n[harness]\n");
    out.push_str("type = \"claude-code\"\n");
    out.push_str("permissions = \"dangerously-skip\"\n");
    if let Some(mode) = team.harness.permission_mode {
        out.push_str(&format!("permission_mode = {}\n", q(mode.as_str())));
    }
    if let Some(seconds) = team.harness.launch_stagger_seconds {
        out.push_str(&format!(
            "launch_stagger_seconds = {}\n",
            toml::Value::Float(seconds)
        ));
    }
    let human = team
        .role(team.human_interface())
        .map(|r| r.key())
        .unwrap_or_default();
    out.push_str(&format!("human_interface = {}\n", q(&human)));
    out
}

/// One `[agents.<key>]` table. A role's effort goes where its harness's
/// launcher reads it: `effort` (claude --effort) for Claude Code,
/// `model_reasoning_effort` (codex -c model_reasoning_effort=...) for Codex.
fn agent_table(out: &mut String, r: &Role) {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    out.push_str(&format!("\n[agents.{}]\n", toml_key(&r.key())));
    out.push_str(&format!("display_name = {}\n", q(&r.display_name())));
    out.push_str("profile = \"devcontainer\"\n");
    out.push_str(&format!("startup_prompt = {}\n", q(&r.launch_prompt())));
    if r.harness != Harness::ClaudeCode {
        out.push_str(&format!("harness = {}\n", q(r.harness.as_str())));
    }
    if let Some(m) = &r.model {
        out.push_str(&format!("model = {}\n", q(m)));
    }
    if let Some(e) = r.effort {
        let key = match r.harness {
            Harness::Codex => "model_reasoning_effort",
            Harness::ClaudeCode | Harness::Cursor => "effort",
        };
        out.push_str(&format!("{key} = {}\n", q(e.as_str())));
    }
    if let Some(t) = &r.theme {
        out.push_str(&format!("theme = {}\n", q(t)));
    }
    if !r.env.is_empty() {
        out.push_str(&format!("\n[agents.{}.env]\n", toml_key(&r.key())));
        for (k, v) in &r.env {
            out.push_str(&format!("{} = {}\n", toml_key(k), q(v)));
        }
    }
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

    /// Only the `worktree` strategy puts agents in `.worktrees/`, so only
    /// it ignores that directory; another value is rendered as written.
    #[test]
    fn only_the_worktree_strategy_ignores_worktrees() {
        let base = "[team]\nname = \"demo\"\n\n[[roles]]\nname = \"product\"\n";
        for (git, ignored) in [("", true), ("[git]\nstrategy = \"branch\"\n", false)] {
            let src = format!("{base}{git}");
            let team = crate::desired::parse_team(&src, std::path::Path::new("team.toml")).unwrap();
            let d = render(&team, &RemoteFacts::default(), "demo").unwrap();
            let has = d.gitignore_lines.iter().any(|l| l == ".worktrees/");
            assert_eq!(has, ignored, "{git}");
        }
    }
}
