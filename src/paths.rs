//! Every path moot reads or writes by a fixed name, in one place: those
//! relative to the workspace root (written with `/`, as moot.lock and the
//! journal spell them) and those relative to the user's HOME. Code names a
//! path through these constants; messages may spell it out as prose.

// ---- The workspace: what the user commits --------------------------------

/// The desired state, written by the user; its presence marks a workspace.
pub const TEAM_FILE: &str = "team.toml";

/// What moot last rendered and wrote (committed, never holds a secret);
/// written last by every apply.
pub const LOCK_PATH: &str = "moot.lock";

/// The runtime's configuration, rendered from team.toml.
pub const MOOT_TOML_PATH: &str = "moot.toml";

/// Claude Code's project settings (the hooks moot merges into it).
pub const SETTINGS_PATH: &str = ".claude/settings.json";

/// The workspace's git ignore file, to which moot appends the lines it needs.
pub const GITIGNORE_PATH: &str = ".gitignore";

/// The team's instructions for Claude Code.
pub const CLAUDE_MD_PATH: &str = "CLAUDE.md";

/// The team's instructions for Codex (and other harnesses reading AGENTS.md).
pub const AGENTS_MD_PATH: &str = "AGENTS.md";

/// Where Codex (and Cursor) discover a repository's skills.
pub const AGENTS_SKILLS_DIR: &str = ".agents/skills";

/// Where Claude Code discovers a repository's skills.
pub const CLAUDE_SKILLS_DIR: &str = ".claude/skills";

/// The hook scripts moot installs for Claude Code.
pub const CLAUDE_HOOKS_DIR: &str = ".claude/hooks";

/// git's own data: never named by moot.lock nor by a journal.
pub const GIT_DIR: &str = ".git";

/// Where the `worktree` git strategy starts each agent (`.worktrees/<key>`).
pub const WORKTREES_DIR: &str = ".worktrees";

/// Claude Code's per-machine settings, kept out of git.
pub const SETTINGS_LOCAL_PATH: &str = ".claude/settings.local.json";

// ---- The workspace: `.moot/`, machine-local, mode 0700, ignored by git -----

/// moot's machine-local directory: agent keys, the transaction, the lock.
pub const MOOT_DIR: &str = ".moot";

/// The runtime's key file (role -> agent key), mode 0600.
pub const ACTORS_PATH: &str = ".moot/actors.json";

/// Where the live keys of retired roles (removed from team.toml, agent kept)
/// are kept aside: same format as the runtime's key file, keyed by role
/// name, mode 0600, out of `.moot/actors.json` so the runtime only sees
/// current roles.
pub const RETIRED_KEYS_PATH: &str = ".moot/retired.json";

/// Registration tickets minted by an apply not yet committed (mode 0600):
/// after a crash the next apply redeems those still alive, since the
/// agent's old key died when each was minted.
pub const PENDING_PATH: &str = ".moot/pending-tickets.json";

/// The workspace lock: an OS file lock (flock) held by one apply at a time.
pub const WORKSPACE_LOCK_PATH: &str = ".moot/lock";

/// The local transaction's area: staged copies, backups and the journal.
pub const TXN_DIR: &str = ".moot/txn";

/// Where the transaction's area is renamed at the commit point, journal
/// and all, before it is removed: what a crash leaves here is only
/// cleaned up, never repaired from.
pub const TXN_DONE_DIR: &str = ".moot/txn.done";

/// New file contents, written here before they are renamed into place.
pub const TXN_STAGED_DIR: &str = ".moot/txn/staged";

/// The originals moved aside, restored if the transaction rolls back.
pub const TXN_BACKUP_DIR: &str = ".moot/txn/backup";

/// The journal: what the transaction changes and how to undo it; moving
/// it out of TXN_DIR (to TXN_DONE_DIR) is the commit point.
pub const JOURNAL: &str = ".moot/txn/journal.json";

/// Where moot's version of a file is staged for review when the user's
/// version is kept (`moot diff` compares the two).
pub const SUGGESTED_DIR: &str = ".moot/suggested";

/// Where apply writes its report.
pub const REPORT_PATH: &str = ".moot/apply-report.md";

/// The files moot writes secrets to, or stages them in during an apply:
/// git must ignore both.
pub const SECRET_PATHS: [&str; 2] = [ACTORS_PATH, JOURNAL];

// ---- Under the user's HOME ---------------------------------------------

/// moot's stored login (the Python client's format: TOML, one table per
/// profile; mode 0600), relative to HOME.
pub const HOME_CREDENTIALS: &str = ".moot/credentials";

/// The secret that seals each journal, so apply only ever restores a journal
/// it wrote (mode 0600), relative to HOME.
pub const HOME_JOURNAL_KEY: &str = ".moot/journal.key";

/// The TypeScript client's (moot-cli's) credentials, read but never
/// written, relative to HOME.
pub const HOME_MOOTUP_CREDENTIALS: &str = ".mootup/credentials.json";

/// `$HOME/<rel>`, or None when HOME is not set (or empty).
pub fn in_home(rel: &str) -> Option<std::path::PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(std::path::Path::new(&home).join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `.moot/` paths really are under MOOT_DIR, and the transaction's
    /// under TXN_DIR: code relies on the prefix (a journal may name neither).
    #[test]
    fn moot_paths_nest_as_their_names_say() {
        for p in [
            ACTORS_PATH,
            RETIRED_KEYS_PATH,
            PENDING_PATH,
            WORKSPACE_LOCK_PATH,
            TXN_DIR,
            TXN_DONE_DIR,
            SUGGESTED_DIR,
            REPORT_PATH,
        ] {
            assert_eq!(p.split_once('/').map(|(d, _)| d), Some(MOOT_DIR), "{p}");
        }
        for p in [TXN_STAGED_DIR, TXN_BACKUP_DIR, JOURNAL] {
            assert!(p.starts_with(&format!("{TXN_DIR}/")), "{p}");
        }
    }
}
