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

const fn row(
    noun: Option<(&'static str, &'static str)>,
    future: &'static str,
    past: &'static str,
) -> Option<SummaryRow> {
    Some(SummaryRow { noun, future, past })
}

const KEYS: Option<(&str, &str)> = Some(("key", "keys"));
const AGENTS: Option<(&str, &str)> = Some(("agent", "agents"));

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

    pub const fn spec(self) -> KindSpec {
        use ActionKind as K;
        let local = KindSpec {
            name: "",
            symbol: "~",
            tone: Tone::Change,
            destructive: false,
            remote: None,
            agent_target: false,
            no_diff: false,
            summary: None,
            check_fix: APPLY,
        };
        let agent = KindSpec {
            agent_target: true,
            no_diff: true,
            ..local
        };
        match self {
            K::CreateAgent => KindSpec {
                name: "create-agent",
                symbol: "+",
                tone: Tone::Add,
                remote: Some(RemotePhase::Constructive),
                summary: row(AGENTS, "to create", "created"),
                ..agent
            },
            K::IssueKey => KindSpec {
                name: "issue-key",
                symbol: "+",
                tone: Tone::Add,
                remote: Some(RemotePhase::Keys),
                summary: row(KEYS, "to issue", "issued"),
                ..agent
            },
            K::RotateKey => KindSpec {
                name: "rotate-key",
                symbol: "-/+",
                tone: Tone::Remove,
                destructive: true,
                remote: Some(RemotePhase::Keys),
                summary: row(KEYS, "to rotate", "rotated"),
                ..agent
            },
            K::RenameAgent => KindSpec {
                name: "rename-agent",
                remote: Some(RemotePhase::Constructive),
                summary: row(AGENTS, "to rename", "renamed"),
                ..agent
            },
            K::DeleteAgent => KindSpec {
                name: "delete-agent",
                symbol: "-",
                tone: Tone::Remove,
                destructive: true,
                remote: Some(RemotePhase::Delete),
                summary: row(AGENTS, "to delete", "deleted"),
                ..agent
            },
            K::Create => KindSpec {
                name: "create",
                symbol: "+",
                tone: Tone::Add,
                summary: row(Some(("file", "files")), "to create", "created"),
                ..local
            },
            K::Update => KindSpec {
                name: "update",
                summary: row(None, "to update", "updated"),
                ..local
            },
            K::Merge => KindSpec {
                name: "merge",
                summary: row(None, "to merge", "merged"),
                ..local
            },
            K::AppendLines => KindSpec {
                name: "append-lines",
                summary: row(None, "to append to", "appended to"),
                ..local
            },
            K::Remove => KindSpec {
                name: "remove",
                symbol: "-",
                tone: Tone::Remove,
                no_diff: true,
                summary: row(None, "to remove", "removed"),
                ..local
            },
            K::Chmod => KindSpec {
                name: "chmod",
                no_diff: true,
                summary: row(Some(("mode", "modes")), "to fix", "fixed"),
                ..local
            },
            K::Stage => KindSpec {
                name: "stage",
                symbol: ">",
                summary: row(None, "to stage", "staged"),
                ..local
            },
            K::WriteSecrets => KindSpec {
                name: "write-secrets",
                symbol: "+",
                tone: Tone::Add,
                no_diff: true,
                ..local
            },
            K::WriteLock => KindSpec {
                name: "write-lock",
                check_fix: "run `moot apply` and commit moot.lock",
                ..local
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
