//! Saved plans (`moot plan --out FILE`, `moot apply FILE`): the actions plus
//! fingerprints of the observed state they were made from, so apply can
//! refuse a plan whose world has moved on. No secret is ever saved: key
//! actions carry actor ids, and the key file's content is composed at apply
//! time.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::plan::planner::{Observed, PlanOptions};

pub const SAVED_FORMAT: &str = "moot-plan";
pub const SAVED_VERSION: u32 = 1;

/// Digests of what the plan was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// team.toml, the bundle, every scanned file, the key file's shape.
    pub local: String,
    /// The caller and its agents (None offline).
    pub remote: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: String,
    pub format_version: u32,
    pub moot_version: String,
    /// The workspace the plan was made for (absolute).
    pub workspace: String,
    pub api_url: String,
    pub options: PlanOptions,
    pub fingerprint: Fingerprint,
    pub plan: Plan,
}

impl SavedPlan {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn load(path: &Path) -> Result<SavedPlan> {
        let hint = "make a new one with `moot plan --out FILE`";
        // Never blocks on a FIFO, never follows a link.
        let bytes = crate::fsutil::read_regular(path)?
            .ok_or_else(|| Error::user(format!("plan file {} not found", path.display()), hint))?;
        let saved: SavedPlan = serde_json::from_slice(&bytes).map_err(|e| {
            Error::user(
                format!(
                    "{}:{}:{}: not a moot plan file ({})",
                    path.display(),
                    e.line(),
                    e.column(),
                    first_line(&e.to_string())
                ),
                hint,
            )
        })?;
        if saved.format != SAVED_FORMAT || saved.format_version != SAVED_VERSION {
            return Err(Error::user(
                format!(
                    "{}: plan format {} v{} is not supported (this moot reads {SAVED_FORMAT} v{SAVED_VERSION})",
                    path.display(),
                    saved.format,
                    saved.format_version
                ),
                hint,
            ));
        }
        Ok(saved)
    }
}

fn first_line(s: &str) -> String {
    s.split(" at line").next().unwrap_or(s).to_string()
}

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Fingerprints the observed state (and the desired inputs). Key prefixes
/// enter only through the hash.
pub fn fingerprint(
    obs: &Observed,
    team_sha: &str,
    bundle_version: &str,
    api_url: &str,
) -> Fingerprint {
    let mut h = Sha256::new();
    let mut line = |s: &str| {
        h.update(s.as_bytes());
        h.update(b"\n");
    };
    line(&format!("team {team_sha}"));
    line(&format!("bundle {bundle_version}"));
    for (p, st) in &obs.files.files {
        line(&format!("file {p} {}", st.fingerprint()));
    }
    line(&format!("lock {:?}", obs.lock));
    if let Some(held) = &obs.held {
        line(&format!(
            "held {} {} {}",
            held.space_id, held.space_name, held.api_url
        ));
        for (k, v) in &held.roles {
            line(&format!(
                "held-role {k} {} {} {}",
                v.actor_id, v.display_name, v.prefix
            ));
        }
    }
    if let Some(retired) = &obs.retired_keys {
        for (k, v) in &retired.roles {
            line(&format!(
                "retired-key {k} {} {} {}",
                v.actor_id, v.display_name, v.prefix
            ));
        }
    }
    line(&format!(
        "modes {:?} {:?} {}",
        obs.actors_file_mode, obs.moot_dir_mode, obs.moot_tracked
    ));
    let local = hex(h.finalize());
    let remote = obs.remote.as_ref().map(|r| {
        let mut h = Sha256::new();
        h.update(format!("api {api_url}\n").as_bytes());
        h.update(format!("me {} {:?}\n", r.me.actor_id, r.me.default_space_id).as_bytes());
        let mut agents: Vec<_> = r.agents.iter().collect();
        agents.sort_by(|a, b| a.actor_id.cmp(&b.actor_id));
        for a in agents {
            h.update(
                format!(
                    "agent {} {} {:?} {:?}\n",
                    a.actor_id, a.display_name, a.api_key_prefix, a.is_connected
                )
                .as_bytes(),
            );
        }
        // Whether a key the workspace holds still works is the platform's
        // answer (proved with `GET /api/actors/me`), not the files': a key
        // rotated elsewhere makes the plan stale on the remote side.
        let held = obs.held.iter().flat_map(|h| h.roles.iter());
        let retired = obs.retired_keys.iter().flat_map(|r| r.roles.iter());
        for (k, v) in held {
            h.update(format!("held-live {k} {:?}\n", v.live).as_bytes());
        }
        for (k, v) in retired {
            h.update(format!("retired-live {k} {:?}\n", v.live).as_bytes());
        }
        hex(h.finalize())
    });
    Fingerprint { local, remote }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The options object is part of the saved plan's format: its keys, in
    /// this order, and the two that older plans lack.
    #[test]
    fn options_keep_the_saved_plan_bytes() {
        let opts = PlanOptions {
            offline: true,
            overwrite: false,
            overwrite_paths: vec!["CLAUDE.md".into()],
            rotate_all: false,
            replace: vec!["Spec".into()],
            prune: true,
        };
        assert_eq!(
            serde_json::to_string(&opts).unwrap(),
            r#"{"offline":true,"overwrite":false,"overwrite_paths":["CLAUDE.md"],"rotate_all":false,"replace":["Spec"],"prune":true}"#
        );
        let plain = PlanOptions::default();
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"offline":false,"overwrite":false,"rotate_all":false,"replace":[],"prune":false}"#
        );
    }

    #[test]
    fn options_saved_before_prune_and_paths_still_load() {
        let old = r#"{"offline":false,"overwrite":true,"rotate_all":true,"replace":[]}"#;
        let opts: PlanOptions = serde_json::from_str(old).unwrap();
        assert_eq!(
            opts,
            PlanOptions {
                overwrite: true,
                rotate_all: true,
                ..PlanOptions::default()
            }
        );
    }
}
