//! The plan's vocabulary: action kinds, targets, what apply executes, and
//! the blocked and drift lists.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::mode::Mode;

/// The `kind` values of docs/plan-format.md (`actions[].kind`), in that spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    CreateAgent,
    IssueKey,
    RotateKey,
    RenameAgent,
    DeleteAgent,
    Create,
    Update,
    Remove,
    Chmod,
    Stage,
    Merge,
    AppendLines,
    WriteSecrets,
    WriteLock,
}

impl ActionKind {
    /// The kind's spelling (`crate::kinds` holds the rest of its spec).
    pub const fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// Whether the action talks to the API (apply's remote phase).
    pub const fn is_remote(self) -> bool {
        self.spec().remote.is_some()
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `agent:<role>` or a workspace-relative path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Agent(String),
    Path(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Agent(r) => write!(f, "agent:{r}"),
            Target::Path(p) => f.write_str(p),
        }
    }
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.strip_prefix("agent:") {
            Some(r) => Target::Agent(r.to_string()),
            None => Target::Path(s),
        })
    }
}

/// What apply does for an action. Holds no secret: keys are produced by the
/// remote phase and exist only in memory until the local transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Op {
    /// Create an agent (`POST /api/agents`), take its first key from the
    /// ticket, and name it.
    CreateAgent {
        role: String,
        role_key: String,
        display_name: String,
        /// Sent only when declared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_profile: Option<String>,
    },
    /// Delete an agent moot.lock binds to a role team.toml no longer has.
    DeleteAgent {
        role: String,
        actor_id: String,
        display_name: String,
    },
    /// Give an agent a key: issue-key (first-key, falling back to
    /// rotate-key on servers without it) and rotate-key.
    RotateKey {
        role: String,
        role_key: String,
        actor_id: String,
        display_name: String,
        /// Send `X-Force-Rotate: true` (--replace/--rotate-all, and a
        /// connected agent that has no key: it has nothing to lose).
        force: bool,
    },
    Rename {
        role: String,
        actor_id: String,
        from: String,
        to: String,
    },
    /// Write `content` to `path` with `mode` (create, update, stage, merge,
    /// append-lines, write-lock).
    Write {
        path: String,
        content: String,
        mode: Mode,
    },
    Chmod {
        path: String,
        mode: Mode,
    },
    Remove {
        path: String,
    },
    /// Compose `.moot/actors.json` from the held keys of roles not rotated
    /// and the keys the remote phase issued.
    WriteSecrets(SecretsSpec),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsSpec {
    pub space_id: String,
    pub space_name: String,
    pub api_url: String,
    /// In team.toml order.
    pub roles: Vec<SecretRole>,
    /// Retired roles whose held key is kept aside in `.moot/retired.json`
    /// (keyed by role name there), in moot.lock order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired: Vec<SecretRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRole {
    pub role: String,
    /// The key in actors.json.
    pub key: String,
    pub actor_id: String,
    pub display_name: String,
    pub source: KeySource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeySource {
    /// Rotated in this apply.
    Issued,
    /// Kept from the current actors.json (entry under the same role key).
    Held,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub id: usize,
    pub kind: ActionKind,
    pub target: Target,
    pub destructive: bool,
    pub depends_on: Vec<usize>,
    pub reason: String,
    /// Unified diff for text files; absent for secrets and remote actions,
    /// and for new files, whose diff [`Action::diff`] derives from their
    /// content when it is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    pub op: Op,
}

impl Action {
    /// The unified diff of the text this action changes. A new file's
    /// (every line added) is built here, when a printer asks for it (`-v`,
    /// `--json`), not with the plan: most of a first apply's actions are
    /// new files, and neither `apply` nor a plain `plan` shows their diffs.
    pub fn diff(&self) -> Option<std::borrow::Cow<'_, str>> {
        if let Some(d) = &self.diff {
            return Some(d.as_str().into());
        }
        match &self.op {
            Op::Write { path, content, .. } if self.kind == ActionKind::Create => {
                Some(crate::plan::diff::unified(path, None, content.as_bytes()).into())
            }
            _ => None,
        }
    }
}

/// An item the plan reports rather than acts on: a target, why, and what
/// the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub target: Target,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Something apply cannot do until the user acts (apply refuses).
pub type Blocked = Finding;

/// A difference apply will not fix by itself (without a flag).
pub type Drift = Finding;

/// The plan: actions in dependency order (ids are positions), plus what is
/// blocked, what drifted, and notes for the reader.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Plan {
    pub offline: bool,
    pub actions: Vec<Action>,
    pub blocked: Vec<Blocked>,
    pub drift: Vec<Drift>,
    /// Warnings that are neither actions nor drift.
    pub notes: Vec<String>,
}

impl Plan {
    /// `--detailed-exitcode` (and `moot check`) exits 2 when this is true: the
    /// README's "Exit codes", docs/plan-format.md's `changes`.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty() || !self.blocked.is_empty() || !self.drift.is_empty()
    }

    pub fn count(&self, kind: ActionKind) -> usize {
        self.actions.iter().filter(|a| a.kind == kind).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_op_carries_its_mode_as_a_number_of_permission_bits() {
        let op = Op::Chmod {
            path: "x.sh".into(),
            mode: Mode::EXECUTABLE,
        };
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(json, r#"{"op":"chmod","path":"x.sh","mode":493}"#);
        assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op);
        // A saved plan's op with a file-type bit (0o100755) is not an op.
        let typed = json.replace("493", "33261");
        assert!(serde_json::from_str::<Op>(&typed).is_err());
    }
}
