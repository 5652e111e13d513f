//! The registry of action kinds: everything the planner, the printers, the
//! JSON output, `moot check` and apply need to know about a kind, declared
//! once per kind in [`ActionKind::spec`]. Adding a kind means adding a
//! variant and its entry here (the compiler finds every match that must
//! learn it: none of them has a catch-all arm), then its planner rule and,
//! for a remote kind, its step in `apply/remote.rs`.

use crate::plan::action::ActionKind;

/// How the human printer colours a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Add,
    Remove,
    Change,
}

/// Where a remote kind runs in apply's remote phase. Phases run in this
/// order: what cannot destroy anything first, so that a refused rename or
/// create never costs a key that was already rotated; deletions next (the
/// next plan reconciles a deletion whatever happens after it); key issuing
/// last, because a new key lives only in memory until the local
/// transaction commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RemotePhase {
    /// Renames and creations.
    Constructive,
    /// Agent deletions.
    Delete,
    /// first-key and rotate-key (tickets minted and exchanged).
    Keys,
}

/// A row of the one-line summary ("4 keys to issue").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryRow {
    /// Singular and plural noun when the count is shown with one.
    pub noun: Option<(&'static str, &'static str)>,
    pub future: &'static str,
    pub past: &'static str,
}

/// Everything known about a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    /// The spelling in plans, JSON and the schema.
    pub name: &'static str,
    /// The printer's symbol.
    pub symbol: &'static str,
    pub tone: Tone,
    /// Whether every action of the kind is irreversible (`update` can be
    /// destructive too, with --overwrite: the planner decides that one).
    pub destructive: bool,
    /// None: a local action (the file transaction).
    pub remote: Option<RemotePhase>,
    /// Targets `agent:<role>` rather than a path.
    pub agent_target: bool,
    /// Never carries a diff.
    pub no_diff: bool,
    /// Shown in the summary line; None for bookkeeping kinds, which the
    /// summary names only when nothing else changes.
    pub summary: Option<SummaryRow>,
    /// What `moot check` tells the user to do about it.
    pub check_fix: &'static str,
}

const APPLY: &str = "run `moot apply`";
const KEYS: Option<(&str, &str)> = Some(("key", "keys"));
const AGENTS: Option<(&str, &str)> = Some(("agent", "agents"));

/// An agent kind: remote, targets `agent:<role>`, no diff.
const fn agent(
    name: &'static str,
    symbol: &'static str,
    tone: Tone,
    destructive: bool,
    phase: RemotePhase,
    row: (
        Option<(&'static str, &'static str)>,
        &'static str,
        &'static str,
    ),
) -> KindSpec {
    KindSpec {
        name,
        symbol,
        tone,
        destructive,
        remote: Some(phase),
        agent_target: true,
        no_diff: true,
        summary: Some(SummaryRow {
            noun: row.0,
            future: row.1,
            past: row.2,
        }),
        check_fix: APPLY,
    }
}

/// A file kind (the local transaction).
const fn local(
    name: &'static str,
    symbol: &'static str,
    tone: Tone,
    no_diff: bool,
    summary: Option<SummaryRow>,
) -> KindSpec {
    KindSpec {
        name,
        symbol,
        tone,
        destructive: false,
        remote: None,
        agent_target: false,
        no_diff,
        summary,
        check_fix: APPLY,
    }
}

const fn row(
    noun: Option<(&'static str, &'static str)>,
    future: &'static str,
    past: &'static str,
) -> Option<SummaryRow> {
    Some(SummaryRow { noun, future, past })
}

impl ActionKind {
    /// Every kind, in the order the summary line lists them.
    pub const ALL: [ActionKind; 14] = [
        ActionKind::CreateAgent,
        ActionKind::IssueKey,
        ActionKind::RotateKey,
        ActionKind::RenameAgent,
        ActionKind::DeleteAgent,
        ActionKind::Create,
        ActionKind::Update,
        ActionKind::Merge,
        ActionKind::AppendLines,
        ActionKind::Remove,
        ActionKind::Chmod,
        ActionKind::Stage,
        ActionKind::WriteSecrets,
        ActionKind::WriteLock,
    ];

    // One row per kind: a table reads best unwrapped.
    #[rustfmt::skip]
    pub const fn spec(self) -> KindSpec {
        use ActionKind as K;
        use RemotePhase as P;
        use Tone::{Add, Change, Remove};
        match self {
            K::CreateAgent => agent("create-agent", "+", Add, false, P::Constructive, (AGENTS, "to create", "created")),
            K::IssueKey => agent("issue-key", "+", Add, false, P::Keys, (KEYS, "to issue", "issued")),
            K::RotateKey => agent("rotate-key", "-/+", Remove, true, P::Keys, (KEYS, "to rotate", "rotated")),
            K::RenameAgent => agent("rename-agent", "~", Change, false, P::Constructive, (AGENTS, "to rename", "renamed")),
            K::DeleteAgent => agent("delete-agent", "-", Remove, true, P::Delete, (AGENTS, "to delete", "deleted")),
            K::Create => local("create", "+", Add, false, row(Some(("file", "files")), "to create", "created")),
            K::Update => local("update", "~", Change, false, row(None, "to update", "updated")),
            K::Merge => local("merge", "~", Change, false, row(None, "to merge", "merged")),
            K::AppendLines => local("append-lines", "~", Change, false, row(None, "to append to", "appended to")),
            K::Remove => local("remove", "-", Remove, true, row(None, "to remove", "removed")),
            K::Chmod => local("chmod", "~", Change, true, row(Some(("mode", "modes")), "to fix", "fixed")),
            K::Stage => local("stage", ">", Change, false, row(None, "to stage", "staged")),
            // Bookkeeping: named in the summary only when nothing else changes.
            K::WriteSecrets => local("write-secrets", "+", Add, true, None),
            K::WriteLock => KindSpec {
                check_fix: "run `moot apply` and commit moot.lock",
                ..local("write-lock", "~", Change, false, None)
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_match_serde() {
        let mut names: Vec<&str> = ActionKind::ALL.iter().map(|k| k.spec().name).collect();
        for k in ActionKind::ALL {
            let json = serde_json::to_value(k).unwrap();
            assert_eq!(json.as_str(), Some(k.spec().name));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ActionKind::ALL.len());
    }

    #[test]
    fn remote_kinds_target_agents_and_carry_no_diff() {
        for k in ActionKind::ALL {
            let s = k.spec();
            if s.remote.is_some() {
                assert!(s.agent_target && s.no_diff, "{}", s.name);
            }
        }
    }
}
