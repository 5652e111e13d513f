//! Fuzzing of what a hostile checkout controls: moot.lock and the journal
//! under `.moot/txn/` (and `.moot/lock`). Parsing never panics, and
//! `moot check` and `moot plan --offline` on such a checkout never change
//! anything inside the workspace or outside it, and never hang.

use crate::support;

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use moot::apply::txn::Journal;
use moot::observed::lockfile::Lock;
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{full_tree, moot, text, tree_diff};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Paths an attacker would name: moot's own, the user's, and escapes.
fn hostile_path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("team.toml".to_string()),
        Just("moot.lock".to_string()),
        Just("moot.toml".to_string()),
        Just(".git".to_string()),
        Just(".git/config".to_string()),
        Just("./.git/HEAD".to_string()),
        Just(".devcontainer/Dockerfile".to_string()),
        Just(".devcontainer/post-create.sh".to_string()),
        Just(".claude/hooks/git-guard.sh".to_string()),
        Just(".claude/skills/mine/SKILL.md".to_string()),
        Just(".claude/skills/doc-curation/SKILL.md".to_string()),
        Just(".moot/txn/journal.json".to_string()),
        Just(".moot/actors.json".to_string()),
        Just("../outside/victim".to_string()),
        Just("/etc/passwd".to_string()),
        Just("".to_string()),
        "[a-z./]{1,24}",
    ]
}

fn digest() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{64}",
        // The sha256 of a file the checkout holds (public, in git).
        Just(support::digest(b"FROM rust:1\n")),
        Just(support::digest(b"# my skill\n")),
    ]
}

fn mode() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0o644),
        Just(0o755),
        Just(0o600),
        Just(0),
        Just(0o6777),
        Just(0o1777),
        any::<u32>()
    ]
}

/// A moot.lock an attacker wrote: valid TOML, hostile entries (duplicates
/// included), sometimes cut short.
fn hostile_lock() -> impl Strategy<Value = String> {
    let entry = (
        hostile_path(),
        prop_oneof![Just("managed"), Just("seed"), Just("lines"), Just("bogus")],
        digest(),
        mode(),
    );
    (
        prop::collection::vec(entry, 0..6),
        any::<bool>(),
        0usize..400,
    )
        .prop_map(|(entries, dup, cut)| {
            let mut s = String::from(
                "version = 1\nbundle_version = \"x\"\napi_url = \"https://mootup.io\"\n\
                 space_id = \"spc_1\"\nspace_name = \"spc_1\"\n",
            );
            for (path, policy, sha, mode) in &entries {
                s.push_str(&format!(
                    "\n[[files]]\npath = {}\npolicy = \"{policy}\"\nsha256 = \"{sha}\"\nmode = \"{:04o}\"\n",
                    toml_str(path),
                    mode & 0o7777
                ));
            }
            if dup && let Some((path, policy, sha, mode)) = entries.first() {
                s.push_str(&format!(
                    "\n[[files]]\npath = {}\npolicy = \"{policy}\"\nsha256 = \"{sha}\"\nmode = \"{:04o}\"\n",
                    toml_str(path),
                    mode & 0o7777
                ));
            }
            if cut < s.len() && cut % 3 == 0 {
                let mut at = cut;
                while !s.is_char_boundary(at) {
                    at -= 1;
                }
                s.truncate(at);
            }
            s
        })
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A journal an attacker wrote: any state, entries naming hostile paths
/// with hostile modes, staged copies and backups anywhere.
fn hostile_journal() -> impl Strategy<Value = Value> {
    let entry = (
        prop_oneof![Just("write"), Just("chmod"), Just("remove")],
        hostile_path(),
        prop::option::of(hostile_path()),
        prop_oneof![
            Just(".moot/txn/backup/0".to_string()),
            Just("../outside/victim".to_string()),
            hostile_path()
        ],
        any::<bool>(),
        prop::option::of(mode()),
    )
        .prop_map(|(kind, target, staged, backup, had, old_mode)| {
            json!({"kind": kind, "target": target, "staged": staged, "backup": backup,
                   "had_original": had, "old_mode": old_mode})
        });
    (
        prop_oneof![Just("prepared"), Just("committed")],
        prop::collection::vec(entry, 0..5),
        prop::collection::vec(hostile_path(), 0..3),
        prop_oneof![Just(String::new()), "[0-9a-f]{64}"],
    )
        .prop_map(|(state, entries, dirs, seal)| {
            json!({"state": state, "pid": 1, "entries": entries,
                   "created_dirs": dirs, "seal": seal})
        })
}

/// What `.moot/lock` is in the checkout.
#[derive(Debug, Clone, Copy)]
enum LockKind {
    Absent,
    Regular,
    LinkOut,
    Dangling,
    Fifo,
}

fn lock_kind() -> impl Strategy<Value = LockKind> {
    prop_oneof![
        Just(LockKind::Absent),
        Just(LockKind::Regular),
        Just(LockKind::LinkOut),
        Just(LockKind::Dangling),
        Just(LockKind::Fifo),
    ]
}

/// A workspace `moot apply --offline` converged, copied for each case.
fn template() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, tempfile::TempDir)> = OnceLock::new();
    let (ws, _home) = DIR.get_or_init(|| {
        let ws = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        for args in [&["init"][..], &["apply", "--offline", "--yes"][..]] {
            let out = moot(ws.path(), home.path(), None)
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", text(&out));
        }
        (ws, home)
    });
    ws.path()
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn lock_parser_never_panics_on_any_text(text in "(?s).{0,300}") {
        let _ = Lock::parse(&text, Path::new("moot.lock"));
    }

    #[test]
    fn lock_parser_never_panics_on_hostile_locks(text in hostile_lock()) {
        if let Ok(lock) = Lock::parse(&text, Path::new("moot.lock")) {
            // What it accepts names no path twice and nothing protected.
            let mut paths: Vec<&str> = lock.files.iter().map(|f| f.path.as_str()).collect();
            let n = paths.len();
            paths.sort_unstable();
            paths.dedup();
            prop_assert_eq!(paths.len(), n);
            for p in paths {
                prop_assert!(p != "team.toml" && p != "moot.lock" && p != ".git");
                prop_assert!(!p.starts_with(".git/") && !p.starts_with(".moot/"));
            }
        }
    }

    #[test]
    fn journal_parser_never_panics(text in "(?s).{0,300}", j in hostile_journal()) {
        let _ = serde_json::from_str::<Journal>(&text);
        let _ = serde_json::from_value::<Journal>(j);
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// The binary, end to end: whatever moot.lock, journal and `.moot/lock`
    /// a checkout carries, `moot check` and `moot plan --offline` exit 0, 1
    /// or 2 without panicking or hanging, and change nothing inside the
    /// workspace or in the directory next to it.
    #[test]
    fn check_and_plan_touch_nothing_on_hostile_checkouts(
        lock in prop::option::of(hostile_lock()),
        journal in prop::option::of(hostile_journal()),
        lock_kind in lock_kind(),
    ) {
        let base = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let root = base.path().join("ws");
        let outside = base.path().join("outside");
        support::copy_tree(template(), &root);
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("victim"), "precious\n").unwrap();
        std::fs::write(root.join(".devcontainer/Dockerfile"), "FROM rust:1\n").unwrap();
        if let Some(lock) = &lock {
            std::fs::write(root.join("moot.lock"), lock).unwrap();
        }
        if let Some(j) = &journal {
            std::fs::create_dir_all(root.join(".moot/txn/backup")).unwrap();
            std::fs::write(root.join(".moot/txn/backup/0"), "planted\n").unwrap();
            std::fs::write(root.join(".moot/txn/journal.json"), j.to_string()).unwrap();
        }
        std::fs::create_dir_all(root.join(".moot")).unwrap();
        let lock_path = root.join(".moot/lock");
        match lock_kind {
            LockKind::Absent => {}
            LockKind::Regular => std::fs::write(&lock_path, "").unwrap(),
            LockKind::LinkOut => std::os::unix::fs::symlink(outside.join("victim"), &lock_path).unwrap(),
            LockKind::Dangling => std::os::unix::fs::symlink(outside.join("new"), &lock_path).unwrap(),
            LockKind::Fifo => support::mkfifo(&lock_path),
        }
        let inside = full_tree(&root);
        let outer = full_tree(&outside);
        for args in [&["check"][..], &["plan", "--offline"][..]] {
            let out = moot(&root, home.path(), None)
                .args(args)
                .timeout(Duration::from_secs(60))
                .output()
                .unwrap();
            let code = out.status.code();
            prop_assert!(matches!(code, Some(0..=2)), "{:?}: exit {:?}\n{}", args, code, text(&out));
            if journal.is_some() {
                prop_assert_eq!(code, Some(1), "{:?}: a journal must be reported", args);
            }
            let d = tree_diff(&inside, &full_tree(&root));
            prop_assert!(d.is_empty(), "{:?} changed the workspace: {:?}", args, d);
            let d = tree_diff(&outer, &full_tree(&outside));
            prop_assert!(d.is_empty(), "{:?} changed a file outside: {:?}", args, d);
        }
    }
}
