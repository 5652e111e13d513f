//! Files: rendered files by policy, staged suggestions, leftovers from
//! moot.lock, `.claude/settings.json` and `.gitignore`.

use crate::desired::bundle;
use crate::desired::render::{GITIGNORE_PATH, SETTINGS_PATH};
use crate::desired::{DesiredFile, DesiredState, Policy};
use crate::digest::Digest;
use crate::mode::Mode;
use crate::observed::lockfile::{LOCK_PATH, Lock, LockEntry};
use crate::observed::workspace::FileState;
use crate::plan::action::{ActionKind, Op, Target};
use crate::plan::builder::{Builder, Observed, PlanOptions, SUGGESTED_DIR, suggested_path};
use crate::plan::{diff, gitignore, settings_merge};

/// `.gitignore`: moot's lines appended when missing.
pub(super) fn plan_gitignore(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
) -> Option<usize> {
    let target = Target::Path(GITIGNORE_PATH.into());
    let (current, mode) = match obs.files.get(GITIGNORE_PATH) {
        FileState::Absent => (None, Mode::FILE),
        FileState::File { content, mode, .. } => (Some(content.as_slice()), *mode),
        other => {
            b.block(
                target,
                format!(".gitignore is {}", describe(other)),
                "make .gitignore a regular file, or list it under [install] unmanaged",
            );
            return None;
        }
    };
    let bytes = current.unwrap_or(b"");
    let missing = gitignore::missing(bytes, &desired.gitignore_lines);
    let old_entry = obs.lock.as_ref().and_then(|l| l.file(GITIGNORE_PATH));
    if missing.is_empty() {
        match old_entry {
            Some(e) => b.keep_lock_entry(Some(e)),
            None => b.record(GITIGNORE_PATH, Policy::Lines, bytes, mode),
        }
        return None;
    }
    // A write carries text: the user's bytes that are not UTF-8 could not
    // be kept as they are, so moot asks instead of re-encoding them.
    let Ok(new) = String::from_utf8(gitignore::append(bytes, &missing)) else {
        let (line, column) = first_invalid_utf8(bytes);
        b.block(
            target,
            format!(
                ".gitignore:{line}:{column}: not UTF-8, so moot cannot add {} without \
                 changing your bytes",
                missing.join(", ")
            ),
            format!(
                "add these lines to .gitignore yourself: {}; or save it as UTF-8",
                missing.join(" ")
            ),
        );
        return None;
    };
    b.record(GITIGNORE_PATH, Policy::Lines, new.as_bytes(), mode);
    let (kind, reason) = if current.is_none() {
        (ActionKind::Create, format!("ignore {}", missing.join(", ")))
    } else {
        (
            ActionKind::AppendLines,
            format!("add {}", missing.join(", ")),
        )
    };
    Some(b.push(
        kind,
        target,
        reason,
        Some(diff::unified(GITIGNORE_PATH, current, new.as_bytes())),
        Op::Write {
            path: GITIGNORE_PATH.into(),
            content: new,
            mode,
        },
    ))
}

/// The 1-based line and column (in bytes) of the first byte that is not
/// UTF-8.
pub(super) fn first_invalid_utf8(bytes: &[u8]) -> (usize, usize) {
    let at = std::str::from_utf8(bytes)
        .err()
        .map_or(0, |e| e.valid_up_to());
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = at
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}

pub(super) fn describe(state: &FileState) -> String {
    match state {
        FileState::Absent => "absent".into(),
        FileState::File { .. } => "a file".into(),
        FileState::Dir => "a directory".into(),
        FileState::Symlink => "a symlink (moot does not write through links)".into(),
        FileState::Unsafe(r) => format!("not writable safely: {r}"),
    }
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One rendered file, by the W/D/B rules of docs/design.md ("The plan";
/// seed files: never written over). `old` is what moot.lock records for it. Returns whether
/// the file will equal moot's version once the plan is applied.
pub(super) fn plan_file(
    b: &mut Builder,
    f: &DesiredFile,
    old: Option<&LockEntry>,
    obs: &Observed,
    opts: &PlanOptions,
    online: bool,
    stage_nodes: &mut Vec<usize>,
) -> bool {
    let (w_sha, w_mode, w_content) = match obs.files.get(&f.path) {
        FileState::Absent => {
            plan_new_file(b, f);
            return true;
        }
        FileState::File {
            sha256,
            mode,
            content,
        } => (*sha256, *mode, content.as_slice()),
        other => {
            b.block(
                Target::Path(f.path.clone()),
                format!("{} is {}", f.path, describe(other)),
                format!(
                    "replace it with a regular file (or remove it), or list `{}` under [install] unmanaged",
                    f.path
                ),
            );
            return false;
        }
    };
    let d_sha = Digest::of(&f.content);
    if w_sha == d_sha {
        b.record_sha(&f.path, f.policy, d_sha, f.mode);
        plan_run_bit(b, f, w_mode);
        return true;
    }
    let untouched = old.is_some_and(|o| o.sha256 == w_sha);
    let on_disk = OnDisk {
        content: w_content,
        old,
        online,
    };
    match f.policy {
        Policy::Seed => {
            b.keep_lock_entry(old);
            // Unless the user edited their copy and the template did not
            // change, moot's new text is offered for review.
            if old.is_none_or(|o| o.sha256 != d_sha) {
                stage_seed(b, f, obs, &on_disk, stage_nodes);
            }
            false
        }
        _ if untouched || opts.overwrites(&f.path) => {
            plan_update(b, f, w_content, untouched);
            true
        }
        _ => {
            plan_edited(b, f, obs, &on_disk, stage_nodes);
            false
        }
    }
}

/// What is on disk for a file that differs from moot's version.
struct OnDisk<'a> {
    content: &'a [u8],
    /// What moot.lock records moot wrote there last.
    old: Option<&'a LockEntry>,
    online: bool,
}

fn write_op(f: &DesiredFile) -> Op {
    Op::Write {
        path: f.path.clone(),
        content: text_of(&f.content),
        mode: f.mode,
    }
}

/// A file that does not exist yet.
fn plan_new_file(b: &mut Builder, f: &DesiredFile) {
    b.record(&f.path, f.policy, &f.content, f.mode);
    let reason = match f.policy {
        Policy::Seed => "new; yours to edit afterwards".to_string(),
        _ if f.mode.bits() & 0o111 != 0 => format!("new, mode {}", f.mode),
        _ => "new".to_string(),
    };
    b.push(
        ActionKind::Create,
        Target::Path(f.path.clone()),
        reason,
        // Derived when shown: Action::diff.
        None,
        write_op(f),
    );
}

/// Only the owner's run bit counts, as for git (which records 100755 or
/// 100644 from it and nothing else): a clone made under another umask
/// (0600/0700, 0664/0775) is not drift; a script that lost its run bit (or
/// a data file that gained one) is.
fn plan_run_bit(b: &mut Builder, f: &DesiredFile, w_mode: Mode) {
    if f.policy == Policy::Managed && w_mode.owner_executable() != f.mode.owner_executable() {
        b.push(
            ActionKind::Chmod,
            Target::Path(f.path.clone()),
            format!("mode {w_mode} -> {}", f.mode),
            None,
            Op::Chmod {
                path: f.path.clone(),
                mode: f.mode,
            },
        );
    }
}

/// A seed file whose template changed (or that predates moot): the user's
/// copy is kept, moot's offered for review (online only).
fn stage_seed(
    b: &mut Builder,
    f: &DesiredFile,
    obs: &Observed,
    on_disk: &OnDisk,
    stage_nodes: &mut Vec<usize>,
) {
    if !on_disk.online {
        return;
    }
    let reason = match on_disk.old {
        Some(_) => format!("the {} template changed; your copy is kept", f.path),
        None => format!(
            "{} predates moot; moot's version is offered for review",
            f.path
        ),
    };
    stage(b, f, obs, on_disk.content, reason, stage_nodes);
}

/// A managed file moot may write: unchanged since moot wrote it, or the
/// user asked for moot's version (`--overwrite`).
fn plan_update(b: &mut Builder, f: &DesiredFile, w_content: &[u8], untouched: bool) {
    b.record(&f.path, f.policy, &f.content, f.mode);
    let (reason, destructive) = if untouched {
        ("team.toml or the bundle changed".to_string(), false)
    } else {
        ("--overwrite: replaces your edits".to_string(), true)
    };
    let id = b.push(
        ActionKind::Update,
        Target::Path(f.path.clone()),
        reason,
        Some(diff::unified(&f.path, Some(w_content), &f.content)),
        write_op(f),
    );
    b.nodes[id].destructive = destructive;
}

/// A managed file the user edited (or that predates moot): never written
/// over; drift, and moot's version staged for review (online).
fn plan_edited(
    b: &mut Builder,
    f: &DesiredFile,
    obs: &Observed,
    on_disk: &OnDisk,
    stage_nodes: &mut Vec<usize>,
) {
    b.keep_lock_entry(on_disk.old);
    let why = if on_disk.old.is_some() {
        "edited since moot wrote it"
    } else {
        "exists and differs from what moot would write"
    };
    // Staging is online only: offline there is no staged copy to point at.
    let hint = if on_disk.online {
        format!(
            "moot keeps your version and stages its own at {}; accept it with \
             `moot apply --overwrite {}` (review it with `moot diff {}`), or list the \
             path under [install] unmanaged in team.toml",
            suggested_path(&f.path),
            f.path,
            f.path
        )
    } else {
        format!(
            "moot keeps your version (an online `moot apply` stages moot's under \
             {SUGGESTED_DIR}/ for review); accept moot's with `moot apply --overwrite`, \
             or list `{}` under [install] unmanaged in team.toml",
            f.path
        )
    };
    b.drift(Target::Path(f.path.clone()), why, hint);
    if on_disk.online {
        let reason = format!("{} {why}", f.path);
        stage(b, f, obs, on_disk.content, reason, stage_nodes);
    }
}

/// A staged suggestion for a file that this plan leaves equal to moot's
/// version has served its purpose (accepted, by `--overwrite` or by hand):
/// removed, so `.moot/suggested/` only ever holds what awaits review.
pub(super) fn drop_suggestion(b: &mut Builder, f: &DesiredFile, obs: &Observed) {
    let path = suggested_path(&f.path);
    if let FileState::File { .. } = obs.files.get(&path) {
        b.push(
            ActionKind::Remove,
            Target::Path(path.clone()),
            format!(
                "{} now matches moot's version; the suggestion is done with",
                f.path
            ),
            None,
            Op::Remove { path },
        );
    }
}

/// Staged suggestions that no longer serve: their path is now unmanaged
/// (the user resolved the drift the documented way) or no longer desired
/// (`claude_md = false`, a role removed). Removed, like accepted ones.
pub(super) fn drop_stale_suggestions(b: &mut Builder, desired: &DesiredState, obs: &Observed) {
    let prefix = format!("{SUGGESTED_DIR}/");
    for (path, state) in &obs.files.files {
        let Some(base) = path.strip_prefix(&prefix) else {
            continue;
        };
        if !matches!(state, FileState::File { .. }) {
            continue;
        }
        let why = if desired.is_unmanaged(base) {
            format!("{base} is listed under [install] unmanaged")
        } else if desired.file(base).is_none() {
            format!("moot no longer writes {base}")
        } else {
            continue;
        };
        b.push(
            ActionKind::Remove,
            Target::Path(path.clone()),
            format!("{why}; the suggestion is done with"),
            None,
            Op::Remove { path: path.clone() },
        );
    }
}

/// Stages `f`'s content for review, unless the same suggestion is there.
fn stage(
    b: &mut Builder,
    f: &DesiredFile,
    obs: &Observed,
    current: &[u8],
    reason: String,
    stage_nodes: &mut Vec<usize>,
) {
    let path = suggested_path(&f.path);
    match obs.files.get(&path) {
        FileState::File { content, .. } if *content == f.content => {}
        FileState::Absent | FileState::File { .. } => {
            let id = b.push(
                ActionKind::Stage,
                Target::Path(path.clone()),
                reason,
                Some(diff::unified(&f.path, Some(current), &f.content)),
                Op::Write {
                    path,
                    content: text_of(&f.content),
                    mode: f.mode,
                },
            );
            stage_nodes.push(id);
        }
        other => b.plan.notes.push(format!(
            "cannot stage a suggestion at {path}: it is {}",
            describe(other)
        )),
    }
}

/// Files moot.lock lists that are no longer desired.
pub(super) fn plan_leftovers(b: &mut Builder, desired: &DesiredState, obs: &Observed, lock: &Lock) {
    for entry in &lock.files {
        let p = entry.path.as_str();
        if desired.is_unmanaged(p) {
            // Kept, so that when the path is managed again a file nobody
            // edited is still known as moot's (not drift for ever).
            b.keep_lock_entry(Some(entry));
            continue;
        }
        let desired_here = desired.file(p).is_some()
            || p == SETTINGS_PATH && !desired.settings_hooks.is_empty()
            || p == GITIGNORE_PATH
            || p == LOCK_PATH;
        if desired_here {
            continue;
        }
        if !matches!(entry.policy, Policy::Managed | Policy::Seed) {
            // Merged and lines files are the user's: never removed. A seed
            // file goes only while it is exactly what moot wrote (below).
            continue;
        }
        // Only bytes this team.toml and bundle render for this very path can
        // be moot's: a hand-made entry carrying the sha256 of a user's own
        // committed file must never remove it.
        let Some(rendered) = desired.renderable.get(p) else {
            b.plan.notes.push(format!(
                "moot.lock lists {p}, which moot never writes; it is left alone and dropped from moot.lock"
            ));
            continue;
        };
        match obs.files.get(p) {
            FileState::Absent => {}
            FileState::File { sha256, .. } if *sha256 == entry.sha256 && sha256 == rendered => {
                b.push(
                    ActionKind::Remove,
                    Target::Path(p.to_string()),
                    "no longer desired; unchanged since moot wrote it",
                    None,
                    Op::Remove {
                        path: p.to_string(),
                    },
                );
            }
            FileState::File { sha256, .. } if *sha256 == entry.sha256 => {
                b.plan.notes.push(format!(
                    "{p} is no longer desired but is not what this moot renders for it; left in place"
                ))
            }
            FileState::File { .. } => b.plan.notes.push(format!(
                "{p} is no longer desired but was edited since moot wrote it; left in place"
            )),
            other => b.plan.notes.push(format!(
                "{p} is no longer desired and is now {}; left in place",
                describe(other)
            )),
        }
    }
}

/// `.claude/settings.json`: moot's hook entries merged in.
pub(super) fn plan_settings(
    b: &mut Builder,
    desired: &DesiredState,
    obs: &Observed,
) -> Option<usize> {
    let target = Target::Path(SETTINGS_PATH.into());
    let old = obs.lock.as_ref().and_then(|l| l.file(SETTINGS_PATH));
    let (current, mode) = match obs.files.get(SETTINGS_PATH) {
        FileState::Absent => (None, Mode::FILE),
        FileState::File { content, mode, .. } => match std::str::from_utf8(content) {
            Ok(t) => (Some(t), *mode),
            Err(_) => {
                let (line, column) = first_invalid_utf8(content);
                b.block(
                    target,
                    format!("line {line}, column {column}: not UTF-8 text (JSON must be UTF-8)"),
                    "save the file as UTF-8, or move it aside; moot never replaces a \
                     settings.json it cannot read",
                );
                return None;
            }
        },
        other => {
            b.block(
                target,
                format!(".claude/settings.json is {}", describe(other)),
                "make it a regular file, or list it under [install] unmanaged",
            );
            return None;
        }
    };
    match settings_merge::merge(current, &desired.settings_hooks) {
        Err(e) => {
            b.block(target, e.to_string(), e.hint());
            None
        }
        Ok(None) => {
            match old {
                Some(e) => b.keep_lock_entry(Some(e)),
                None => b.record(
                    SETTINGS_PATH,
                    Policy::Merged,
                    current.unwrap_or("").as_bytes(),
                    mode,
                ),
            }
            None
        }
        Ok(Some(merged)) => {
            b.record(SETTINGS_PATH, Policy::Merged, merged.as_bytes(), mode);
            let (kind, reason) = if current.is_none() {
                (ActionKind::Create, "register moot's hooks")
            } else {
                (
                    ActionKind::Merge,
                    "add moot's hook entries; your keys and hooks are kept",
                )
            };
            Some(b.push(
                kind,
                target,
                reason,
                Some(diff::unified(
                    SETTINGS_PATH,
                    current.map(str::as_bytes),
                    merged.as_bytes(),
                )),
                Op::Write {
                    path: SETTINGS_PATH.into(),
                    content: merged,
                    mode,
                },
            ))
        }
    }
}

/// `[install] hooks = false`: the scripts are removed (they are leftovers of
/// moot.lock), so moot's entries leave `.claude/settings.json` with them;
/// the user's keys and hooks stay. settings.json is then no longer moot's
/// and drops out of moot.lock.
pub(super) fn plan_settings_without_hooks(b: &mut Builder, obs: &Observed) -> Option<usize> {
    let FileState::File { content, mode, .. } = obs.files.get(SETTINGS_PATH) else {
        return None;
    };
    // Unreadable or invalid: nothing of moot's can be seen in it, and moot
    // has nothing to write, so it is left alone.
    let text = std::str::from_utf8(content).ok()?;
    let commands: Vec<String> = bundle::HOOKS.iter().map(|h| h.command()).collect();
    let new = settings_merge::unmerge(text, &commands).ok()??;
    if settings_merge::is_empty_settings(&new) {
        // Nothing but moot's entries was in it: the file goes with them.
        return Some(b.push(
            ActionKind::Remove,
            Target::Path(SETTINGS_PATH.into()),
            "held only moot's hook entries, which are no longer installed",
            None,
            Op::Remove {
                path: SETTINGS_PATH.into(),
            },
        ));
    }
    Some(b.push(
        ActionKind::Merge,
        Target::Path(SETTINGS_PATH.into()),
        "remove moot's hook entries ([install] hooks = false)",
        Some(diff::unified(SETTINGS_PATH, Some(content), new.as_bytes())),
        Op::Write {
            path: SETTINGS_PATH.into(),
            content: new,
            mode: *mode,
        },
    ))
}
