//! `moot.lock`: what moot last rendered and wrote. Committed, so it never
//! holds a secret: per file its path, policy, sha256 and mode; per role its
//! actor_id; per retired role (removed from team.toml, its agent kept) its
//! actor_id and display name; the space and API it was made against; the
//! bundle version.

use std::path::Path;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::desired::Policy;
use crate::desired::validate::line_col;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::mode::Mode;
use crate::paths::{GIT_DIR, MOOT_DIR};

pub use crate::paths::LOCK_PATH;
pub const LOCK_VERSION: u32 = 1;

// Not the workspace lock `.moot/lock`: that is `apply::wslock::WorkspaceLock`.
/// moot.lock: what moot last rendered and wrote (committed; no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Format version; only 1 exists.
    pub version: u32,
    /// The content bundle moot rendered from.
    pub bundle_version: String,
    pub api_url: String,
    pub space_id: String,
    pub space_name: String,
    /// Role name -> the agent it is bound to.
    #[serde(default)]
    pub roles: IndexMap<String, LockRole>,
    /// Roles removed from team.toml whose agent stays on the platform: role
    /// name -> the agent, so putting the role back binds it again. Absent
    /// when empty, so a lock without retired roles reads as before.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub retired: IndexMap<String, RetiredRole>,
    /// Files moot wrote, sorted by path.
    #[serde(default)]
    pub files: Vec<LockEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockRole {
    pub actor_id: String,
}

/// A retired role's agent: kept on the platform, its key kept aside in
/// `.moot/retired.json`, out of the runtime's key file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetiredRole {
    pub actor_id: String,
    /// The agent's name on the platform when last seen (absent when the role
    /// was retired offline, where the platform is not asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// One retired binding, as a flat record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredBinding<'a> {
    pub role: &'a str,
    pub actor_id: &'a str,
    pub display_name: Option<&'a str>,
}

/// Roles that moot.lock binds to one agent (a hand-merged lock): one agent
/// can hold one key for one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedAgent {
    pub actor_id: String,
    /// Current and retired role names, in lock order.
    pub roles: Vec<String>,
}

/// One file entry of moot.lock (`[[files]]`): what moot wrote at a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    pub path: String,
    pub policy: Policy,
    /// sha256 of the bytes moot wrote, lower-case hex.
    #[schemars(with = "String", regex(pattern = r"^[0-9a-fA-F]{64}$"))]
    pub sha256: Digest,
    /// Octal file mode, e.g. "0755".
    #[serde(with = "crate::mode::octal")]
    #[schemars(with = "String", regex(pattern = r"^[0-7]{3,4}$"))]
    pub mode: Mode,
}

/// Where the `i`th `[[files]]` entry's path is written: parsed again with
/// spans, only when an entry is refused.
fn entry_pos(src: &str, i: usize) -> (usize, usize) {
    #[derive(Deserialize)]
    struct Paths {
        #[serde(default)]
        files: Vec<SpannedPath>,
    }
    #[derive(Deserialize)]
    struct SpannedPath {
        path: serde_spanned::Spanned<String>,
    }
    toml::from_str::<Paths>(src)
        .ok()
        .and_then(|p| p.files.get(i).map(|f| f.path.span().start))
        .map_or((1, 1), |offset| line_col(src, offset))
}

impl Lock {
    pub fn file(&self, path: &str) -> Option<&LockEntry> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The retired roles (removed from team.toml, agent kept), in lock
    /// order: what a "delete retired agents" rule acts on.
    pub fn retired_bindings(&self) -> Vec<RetiredBinding<'_>> {
        self.retired
            .iter()
            .map(|(role, r)| RetiredBinding {
                role,
                actor_id: &r.actor_id,
                display_name: r.display_name.as_deref(),
            })
            .collect()
    }

    /// Agents bound to more than one role (current or retired).
    pub fn shared_agents(&self) -> Vec<SharedAgent> {
        let mut by_agent: IndexMap<&str, Vec<String>> = IndexMap::new();
        let current = self.roles.iter().map(|(r, l)| (r, &l.actor_id));
        let retired = self.retired.iter().map(|(r, l)| (r, &l.actor_id));
        for (role, id) in current.chain(retired) {
            let roles = by_agent.entry(id.as_str()).or_default();
            if !roles.contains(role) {
                roles.push(role.clone());
            }
        }
        by_agent
            .into_iter()
            .filter(|(_, roles)| roles.len() > 1)
            .map(|(id, roles)| SharedAgent {
                actor_id: id.to_string(),
                roles,
            })
            .collect()
    }

    /// Parses and validates; `path` is for messages.
    pub fn parse(src: &str, path: &Path) -> Result<Lock> {
        let hint = "moot.lock is written by `moot apply`; restore it from git \
                    (`git checkout -- moot.lock`) or delete it and run `moot apply` again";
        let lock: Lock = toml::from_str(src).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(src, s.start)).unwrap_or((1, 1));
            Error::user(
                format!(
                    "{}:{line}:{col}: invalid lock file: {}",
                    path.display(),
                    e.message()
                ),
                hint,
            )
        })?;
        if lock.version != LOCK_VERSION {
            return Err(Error::user(
                format!(
                    "{}: lock format version {} is not supported (this moot reads version {LOCK_VERSION})",
                    path.display(),
                    lock.version
                ),
                "upgrade moot, or delete moot.lock and run `moot apply` again",
            ));
        }
        let at = |i: usize| {
            let (line, col) = entry_pos(src, i);
            format!("{}:{line}:{col}", path.display())
        };
        let mut seen = std::collections::HashMap::new();
        for (i, f) in lock.files.iter().enumerate() {
            if let Some(first) = seen.insert(f.path.as_str(), i) {
                let (line, _) = entry_pos(src, first);
                return Err(Error::user(
                    format!(
                        "{}: `{}` is listed twice in [[files]] (first at line {line})",
                        at(i),
                        f.path
                    ),
                    "a hand-merged moot.lock? keep one entry per path (or restore moot.lock \
                     from git, or delete it and run `moot apply` again)",
                ));
            }
            if crate::observed::workspace::check_relative(&f.path).is_err()
                || f.path.starts_with(&format!("{MOOT_DIR}/"))
                || f.path == GIT_DIR
                || f.path.starts_with(&format!("{GIT_DIR}/"))
                || f.path == LOCK_PATH
                || f.path == crate::workspace::TEAM_FILE
            {
                return Err(Error::user(
                    format!("{}: invalid path `{}` in lock file", at(i), f.path),
                    hint,
                ));
            }
        }
        Ok(lock)
    }

    pub fn load(root: &Path) -> Result<Option<Lock>> {
        let path = root.join(LOCK_PATH);
        // moot.lock comes from the checkout: never read through a link, and
        // never block on a FIFO planted in its place.
        let Some(bytes) = crate::fsutil::read_regular(&path)? else {
            return Ok(None);
        };
        let src = String::from_utf8(bytes).map_err(|_| {
            Error::user(
                format!("{}: not UTF-8", path.display()),
                "restore moot.lock from git or delete it",
            )
        })?;
        Lock::parse(&src, Path::new(LOCK_PATH)).map(Some)
    }

    /// The committed text: a header, then TOML. Deterministic.
    pub fn render(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# moot.lock: what moot last wrote. Generated by `moot apply`; do not edit.\n\
             # It holds no secret and is meant to be committed.\n\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Lock {
        let mut roles = IndexMap::new();
        roles.insert(
            "product".into(),
            LockRole {
                actor_id: "agt_1".into(),
            },
        );
        Lock {
            version: 1,
            bundle_version: "0.1.0+abc".into(),
            api_url: "https://mootup.io".into(),
            space_id: "spc_1".into(),
            space_name: "spc_1".into(),
            roles,
            retired: IndexMap::new(),
            files: vec![LockEntry {
                path: "moot.toml".into(),
                policy: Policy::Managed,
                sha256: Digest::of(b"x"),
                mode: Mode::FILE,
            }],
        }
    }

    #[test]
    fn round_trips() {
        let l = sample();
        let text = l.render();
        assert_eq!(Lock::parse(&text, Path::new("moot.lock")).unwrap(), l);
    }

    #[test]
    fn retired_roles_round_trip_and_older_locks_read() {
        let mut l = sample();
        let plain = l.render();
        assert!(!plain.contains("retired"), "{plain}");
        l.retired.insert(
            "qa".into(),
            RetiredRole {
                actor_id: "agt_2".into(),
                display_name: Some("QA".into()),
            },
        );
        let text = l.render();
        assert_eq!(Lock::parse(&text, Path::new("moot.lock")).unwrap(), l);
        assert_eq!(
            l.retired_bindings(),
            [RetiredBinding {
                role: "qa",
                actor_id: "agt_2",
                display_name: Some("QA")
            }]
        );
        // A version 1 lock written before retired roles existed.
        assert!(
            Lock::parse(&plain, Path::new("moot.lock"))
                .unwrap()
                .retired
                .is_empty()
        );
    }

    #[test]
    fn shared_agents_name_every_role_bound_to_one_agent() {
        let mut l = sample();
        assert!(l.shared_agents().is_empty());
        l.roles.insert(
            "qa".into(),
            LockRole {
                actor_id: "agt_1".into(),
            },
        );
        assert_eq!(
            l.shared_agents(),
            [SharedAgent {
                actor_id: "agt_1".into(),
                roles: vec!["product".into(), "qa".into()]
            }]
        );
    }

    #[test]
    fn rejects_bad_paths_and_versions() {
        let mut l = sample();
        l.files[0].path = "../x".into();
        assert!(Lock::parse(&l.render(), Path::new("moot.lock")).is_err());
        let mut l = sample();
        l.version = 9;
        assert!(Lock::parse(&l.render(), Path::new("moot.lock")).is_err());
        let err = Lock::parse("version = 1\nbogus = [", Path::new("moot.lock")).unwrap_err();
        assert!(err.to_string().contains("moot.lock:2:"), "{err}");
    }

    #[test]
    fn a_bad_sha256_or_mode_is_refused_at_its_value() {
        let text = sample().render();
        let sha = Digest::of(b"x").to_string();
        for (from, to, what) in [
            (sha.as_str(), "abc", "64 hex digits"),
            (sha.as_str(), &"g".repeat(64), "64 hex digits"),
            ("\"0644\"", "\"0x1f\"", "octal digits"),
            ("\"0644\"", "\"07777\"", "octal digits"),
            ("\"0644\"", "420", "invalid type"),
        ] {
            let bad = text.replace(from, to);
            let err = Lock::parse(&bad, Path::new("moot.lock")).unwrap_err();
            // The span starts at the value, its opening quote included.
            let at = bad
                .find(&format!("= {to}"))
                .or(bad.find(&format!("= \"{to}")))
                .unwrap()
                + 2;
            let (line, col) = line_col(&bad, at);
            let message = err.to_string();
            assert!(
                message.starts_with(&format!("moot.lock:{line}:{col}: invalid lock file")),
                "{message}"
            );
            assert!(message.contains(what), "{message}");
        }
        // Either case of hex and a three-digit mode read; written back canonical.
        let loose = text
            .replace(&sha, &sha.to_uppercase())
            .replace("\"0644\"", "\"644\"");
        let lock = Lock::parse(&loose, Path::new("moot.lock")).unwrap();
        assert_eq!(lock, sample());
        assert_eq!(lock.render(), text);
    }

    #[test]
    fn a_duplicated_files_entry_is_refused_with_its_position() {
        let mut l = sample();
        l.files.push(l.files[0].clone());
        let text = l.render();
        let err = Lock::parse(&text, Path::new("moot.lock")).unwrap_err();
        let second = text.rfind("path = ").unwrap();
        let (line, col) = line_col(&text, second + "path = ".len());
        assert!(
            err.to_string().starts_with(&format!(
                "moot.lock:{line}:{col}: `moot.toml` is listed twice"
            )),
            "{err}"
        );
        assert!(err.hint().unwrap().contains("one entry per path"));
        let mut l = sample();
        l.files[0].path = "team.toml".into();
        let text = l.render();
        let err = Lock::parse(&text, Path::new("moot.lock")).unwrap_err();
        let line = text.lines().position(|l| l.contains("team.toml")).unwrap() + 1;
        assert!(
            err.to_string().starts_with(&format!("moot.lock:{line}:")),
            "{err}"
        );
    }
}
