//! Assembling the observed state: scanning the workspace's files, reading
//! the key files and proving their keys over the network, and the tickets an
//! interrupted apply left. The command layer connects and calls these.

use std::path::Path;

use crate::desired::DesiredState;
use crate::desired::render::{ACTORS_PATH, GITIGNORE_PATH, SETTINGS_PATH};
use crate::error::{Error, Result};
use crate::observed::actors_file::{ActorsFile, HeldKeys, RETIRED_KEYS_PATH};
use crate::observed::api::ApiClient;
use crate::observed::lockfile::{LOCK_PATH, Lock};
use crate::observed::workspace::LocalFiles;
use crate::plan::builder::{PendingInfo, RemoteState, SUGGESTED_DIR, suggested_path};
use crate::plan::planner::REPORT_PATH;

/// Scans every local file the plan may look at.
pub fn scan_files(
    root: &Path,
    desired: &DesiredState,
    lock: Option<&Lock>,
    is_online: bool,
    lock_made_moot_dir: bool,
) -> Result<LocalFiles> {
    let mut paths: Vec<String> = desired.files.iter().map(|f| f.path.clone()).collect();
    if is_online {
        paths.extend(desired.files.iter().map(|f| suggested_path(&f.path)));
        // Every staged suggestion, so those that no longer serve are seen.
        paths.extend(staged_suggestions(root));
        paths.push(crate::paths::MOOT_DIR.into());
    }
    paths.extend([SETTINGS_PATH, GITIGNORE_PATH, LOCK_PATH, REPORT_PATH].map(String::from));
    if let Some(l) = lock {
        // Only entries moot could have written are looked at: the others
        // are never acted on, so a hand-made moot.lock cannot make moot
        // read whatever file it names.
        paths.extend(
            l.files
                .iter()
                .filter(|f| desired.renderable.contains_key(&f.path))
                .map(|f| f.path.clone()),
        );
    }
    let mut files = LocalFiles::scan(root, paths.iter().map(String::as_str))?;
    if lock_made_moot_dir {
        // Created by apply's lock a moment ago: not part of the observed
        // state (a saved plan being checked saw no such directory). Only
        // where it was looked at: offline it is not, and adding it would
        // make every offline saved plan of a fresh clone look stale.
        if let Some(state) = files.files.get_mut(crate::paths::MOOT_DIR) {
            *state = crate::observed::workspace::FileState::Absent;
        }
    }
    Ok(files)
}

/// The held and retired keys, each proven over the network (online only:
/// offline no key is read at all).
pub fn held_and_retired_keys(
    root: &Path,
    online: Option<(&ApiClient, &tokio::runtime::Runtime)>,
    remote: Option<&RemoteState>,
) -> Result<(Option<HeldKeys>, Option<u32>, Option<HeldKeys>)> {
    Ok(match (online, remote) {
        (Some((client, runtime)), Some(r)) => {
            let (held, mode) = match read_actors(root)? {
                Some((file, mode)) => {
                    let mut held = HeldKeys::from(&file);
                    verify_held_keys(client, runtime, &r.agents, &file, &mut held)?;
                    (Some(held), Some(mode))
                }
                None => (None, None),
            };
            // Retired roles' keys are proven like held ones: putting a role
            // back restores its key only if it still works.
            let retired = match read_key_file(root, RETIRED_KEYS_PATH)? {
                Some((file, _)) => {
                    let mut held = HeldKeys::from(&file);
                    verify_held_keys(client, runtime, &r.agents, &file, &mut held)?;
                    Some(held)
                }
                None => None,
            };
            (held, mode, retired)
        }
        _ => (None, None, None),
    })
}

/// The tickets an interrupted apply left, without their ids.
pub fn pending_info(root: &Path) -> Result<Vec<PendingInfo>> {
    let now = std::time::SystemTime::now();
    Ok(crate::apply::pending::load(root)?
        .into_iter()
        .filter(|t| !t.exchanged)
        .map(|t| PendingInfo {
            live: !t.expired(now),
            role: t.role,
            actor_id: t.actor_id,
        })
        .collect())
}

/// Proves each held key whose prefix matches its agent's by calling
/// `GET /api/actors/me` with it, concurrently. A 401 (or an answer as
/// another actor) marks it dead; any other failure is an error, since the
/// plan would otherwise rest on a guess.
fn verify_held_keys(
    client: &ApiClient,
    runtime: &tokio::runtime::Runtime,
    agents: &[crate::observed::api::Actor],
    file: &ActorsFile,
    held: &mut HeldKeys,
) -> Result<()> {
    // A bounded number in flight: a team of hundreds must not open
    // hundreds of connections at once.
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for (role_key, h) in &held.roles {
        let matches = agents.iter().any(|a| {
            a.actor_id == h.actor_id
                && !h.prefix.is_empty()
                && a.api_key_prefix.as_deref() == Some(h.prefix.as_str())
        });
        let Some(entry) = file.actors.get(role_key).filter(|_| matches) else {
            continue;
        };
        let client = client.with_token(entry.api_key.clone());
        let (role_key, actor_id) = (role_key.clone(), h.actor_id.clone());
        let limit = limit.clone();
        tasks.spawn_on(
            async move {
                let _permit = limit.acquire_owned().await;
                let answer = client.me().await;
                (role_key, actor_id, answer)
            },
            runtime.handle(),
        );
    }
    let results = runtime.block_on(async {
        let mut out = Vec::new();
        while let Some(done) = tasks.join_next().await {
            out.push(done);
        }
        out
    });
    for done in results {
        let (role_key, actor_id, answer) =
            done.map_err(|e| Error::Internal(format!("key check task failed: {e}")))?;
        let live = match answer {
            Ok(me) => me.actor_id == actor_id,
            // The key is refused (401), or accepted but not allowed to
            // act (403): either way it does not work for this role, which
            // the plan reports as that role's drift, with the command to
            // rotate it. Neither says anything about the personal token.
            Err(
                crate::observed::api::ApiError::Unauthorized { .. }
                | crate::observed::api::ApiError::Forbidden { .. },
            ) => false,
            Err(e) => return Err(e.into()),
        };
        if let Some(h) = held.roles.get_mut(&role_key) {
            h.live = Some(live);
        }
    }
    Ok(())
}

/// The key file and its mode, if present. A symlink is refused: keys are
/// never read from, or written through, a link.
pub fn read_actors(root: &Path) -> Result<Option<(ActorsFile, u32)>> {
    read_key_file(root, ACTORS_PATH)
}

/// A key file (`.moot/actors.json` or `.moot/retired.json`) and its mode.
pub fn read_key_file(root: &Path, rel: &str) -> Result<Option<(ActorsFile, u32)>> {
    // One no-follow, non-blocking open; the mode comes from that same
    // descriptor, so a file swapped after a look cannot lend its mode.
    let Some(file) = crate::observed::untrusted::read(
        &root.join(rel),
        KEY_FILE_CAP,
        "agent keys",
        "remove it (moot never reads keys through a link); `moot apply --rotate-all` issues fresh keys",
    )?
    else {
        return Ok(None);
    };
    let parsed = ActorsFile::parse(&file.bytes, Path::new(rel))?;
    Ok(Some((parsed, file.mode)))
}

/// A key file holds a few hundred bytes per role; anything near this is
/// not one.
const KEY_FILE_CAP: u64 = 4 << 20;

/// Workspace-relative paths of the files under `.moot/suggested/`. Links
/// are not followed and only regular files are listed; an unreadable or
/// odd entry is skipped (it is only ever a candidate for removal).
fn staged_suggestions(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, rel: &str, depth: usize, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let Ok(ft) = e.file_type() else { continue };
            let child = format!("{rel}/{name}");
            if ft.is_dir() && depth < 16 {
                walk(&e.path(), &child, depth + 1, out);
            } else if ft.is_file() {
                out.push(child);
            }
        }
    }
    let mut out = Vec::new();
    let dir = root.join(SUGGESTED_DIR);
    if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
        walk(&dir, SUGGESTED_DIR, 0, &mut out);
    }
    out.sort();
    out
}
