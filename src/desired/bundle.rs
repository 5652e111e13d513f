//! The content bundle compiled into the binary: archetypes, CLAUDE.md,
//! skills, hooks, settings entries and the devcontainer. Compiled in so the
//! binary works from any directory and a build is one reproducible artefact.

use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

static BUNDLE: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Built-in archetypes, in the order `moot templates` lists them.
pub const ARCHETYPES: [&str; 7] = [
    "loop-3",
    "loop-4",
    "loop-4-codex",
    "loop-4-observer",
    "loop-4-parallel",
    "loop-4-split-leader",
    "loop-6",
];

pub const DEFAULT_ARCHETYPE: &str = "loop-4";

/// Every skill the bundle ships.
pub const SKILLS: [&str; 8] = [
    "product-workflow",
    "leader-workflow",
    "spec-checklist",
    "librarian-workflow",
    "handoff",
    "verify",
    "doc-curation",
    "memory-audit",
];

/// Hook scripts with the Claude Code event and matcher that run them.
pub const HOOKS: [HookSpec; 4] = [
    HookSpec {
        script: "auto-orient.sh",
        event: "SessionStart",
        matcher: "",
    },
    HookSpec {
        script: "git-guard.sh",
        event: "PreToolUse",
        matcher: "Bash",
    },
    HookSpec {
        script: "grep-baseline-diff.sh",
        event: "PostToolUse",
        matcher: "Grep",
    },
    HookSpec {
        script: "handoff-status-check.sh",
        event: "Stop",
        matcher: "",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookSpec {
    pub script: &'static str,
    pub event: &'static str,
    pub matcher: &'static str,
}

impl HookSpec {
    /// The command string settings.json registers; also how moot recognises
    /// its own entry among the user's.
    pub fn command(&self) -> String {
        format!("$CLAUDE_PROJECT_DIR/.claude/hooks/{}", self.script)
    }
}

/// Devcontainer files; `.j2` ones are rendered, the rest copied.
pub const DEVCONTAINER_FILES: [&str; 5] = [
    "devcontainer.json.j2",
    "post-create.sh.j2",
    "run-moot-mcp.sh",
    "run-moot-channel.sh",
    "run-moot-notify.sh",
];

/// A file of the bundle, as UTF-8 text. The bundle is ours and checked by
/// tests, so a missing file is a build defect, reported as an internal error.
pub fn text(path: &str) -> Result<&'static str, crate::error::Error> {
    BUNDLE
        .get_file(path)
        .and_then(|f| f.contents_utf8())
        .ok_or_else(|| crate::error::Error::Internal(format!("bundle file {path} missing")))
}

pub fn archetype_source(name: &str) -> Option<&'static str> {
    BUNDLE
        .get_file(format!("teams/{name}/team.toml"))
        .and_then(|f| f.contents_utf8())
}

/// Skills that fit a role, by its name (a role named `implementation_a`
/// is an implementer). Every team gets `handoff` and `memory-audit`.
pub fn skills_for_role(role: &str) -> &'static [&'static str] {
    let base = role.split(['_', '-']).next().unwrap_or(role);
    match base {
        "product" => &["product-workflow"],
        "leader" | "lead" => &["leader-workflow"],
        "spec" => &["spec-checklist"],
        "librarian" => &["librarian-workflow", "doc-curation"],
        "qa" | "implementation" => &["verify"],
        _ => &[],
    }
}

/// The bundle's version: the crate version plus a digest of every file, so
/// a changed template is a new version even without a release.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut files = Vec::new();
        collect(&BUNDLE, &mut files);
        files.sort_by(|a, b| a.0.cmp(b.0));
        let mut h = Sha256::new();
        for (path, contents) in files {
            h.update(path.as_bytes());
            h.update([0]);
            h.update(contents);
            h.update([0]);
        }
        let digest = h.finalize();
        let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}+{short}", env!("CARGO_PKG_VERSION"))
    })
}

fn collect<'a>(dir: &'a Dir<'a>, out: &mut Vec<(&'a str, &'a [u8])>) {
    for f in dir.files() {
        out.push((f.path().to_str().unwrap_or_default(), f.contents()));
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}
