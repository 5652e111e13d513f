//! Attacks on the transaction and key-safety guarantees (symlinks, planted
//! journals, hostile lock entries and server answers, races with the remote
//! phase, crashes during an update apply): each must hold.

use crate::common;
use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use support::{moot, text, tree, tree_diff};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

const LOOP4: [&str; 4] = ["Product", "Spec", "Implementation", "QA"];

// ---------------------------------------------------------------------------
// Against the in-process sandbox.

support::world_over_test_env!(Env);

impl Env {
    fn new() -> Env {
        Env {
            env: support::TestEnv::loop4(),
        }
    }

    /// The workspace by its canonical path, as moot names it.
    fn root(&self) -> PathBuf {
        self.canonical_root()
    }
}

fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(root).unwrap().display().to_string());
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Guarantee 4: a symlinked `.moot` must not redirect any write, least of
/// all the key file. Today apply writes `.moot/actors.json` (the agent
/// keys), the journal, the staging area and the report into the link's
/// target, outside the workspace.
#[test]
fn symlinked_moot_dir_does_not_receive_the_keys() {
    let env = Env::new();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), env.root().join(".moot")).unwrap();

    let out = env.moot(&["apply", "--yes"]);

    let written = listing(outside.path());
    assert!(
        written.is_empty(),
        "moot wrote through the symlinked .moot into {}: {written:?}\n(exit {:?})\n{}",
        outside.path().display(),
        out.status.code(),
        text(&out)
    );
}

/// Guarantees 2 and 4: the journal is an input like any other (anything
/// that can write `.moot/` can plant one, and `moot check` runs repair on
/// a CI checkout). Its paths are never checked: `moot check`, a read-only
/// command, deletes a file outside the workspace and moves another one in.
#[test]
fn a_planted_journal_cannot_make_repair_touch_files_outside_the_workspace() {
    let env = Env::new();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "not yours").unwrap();
    let rel_secret = format!(
        "../{}/secret.txt",
        outside.path().file_name().unwrap().to_string_lossy()
    );

    let root = env.root();
    std::fs::create_dir_all(root.join(".moot/txn")).unwrap();
    let journal = json!({
        "state": "prepared",
        "pid": 1,
        "entries": [
            // "created by the apply": rollback deletes the target.
            {"kind": "write", "target": victim.display().to_string(), "staged": null,
             "backup": ".moot/txn/backup/0", "had_original": false, "old_mode": null},
            // "moved aside": rollback renames the backup onto the target.
            {"kind": "remove", "target": "stolen.txt", "staged": null,
             "backup": rel_secret, "had_original": true, "old_mode": 420},
        ],
        "created_dirs": [],
    });
    std::fs::write(
        root.join(".moot/txn/journal.json"),
        serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();

    let out = env.moot_offline(&["check"]);

    assert!(
        victim.exists(),
        "`moot check` deleted {} outside the workspace\n{}",
        victim.display(),
        text(&out)
    );
    assert!(
        secret.exists() && !root.join("stolen.txt").exists(),
        "`moot check` moved {} into the workspace\n{}",
        secret.display(),
        text(&out)
    );
}

/// Guarantee 4 (and the files table: team.toml is "never written by
/// plan/apply"): moot.lock is committed, so it comes from whoever wrote the
/// last commit. A lock entry naming team.toml (or any other workspace file
/// whose content is known, e.g. anything in git) as a managed file makes
/// `moot apply` delete it.
#[test]
fn a_lock_entry_cannot_make_apply_delete_team_toml() {
    let env = Env::new();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = env.root();
    let team = std::fs::read(root.join("team.toml")).unwrap();
    let mut lock = std::fs::read_to_string(root.join("moot.lock")).unwrap();
    lock.push_str(&format!(
        "\n[[files]]\npath = \"team.toml\"\npolicy = \"managed\"\nsha256 = \"{}\"\nmode = \"0644\"\n",
        support::digest(&team)
    ));
    // `.moot/` paths are refused by Lock::parse, but not `./.moot/`.
    let report = std::fs::read(root.join(".moot/apply-report.md")).unwrap();
    lock.push_str(&format!(
        "\n[[files]]\npath = \"./.moot/apply-report.md\"\npolicy = \"managed\"\nsha256 = \"{}\"\nmode = \"0600\"\n",
        support::digest(&report)
    ));
    std::fs::write(root.join("moot.lock"), lock).unwrap();

    let out = env.moot(&["apply", "--offline", "--yes"]);

    assert!(
        root.join("team.toml").exists(),
        "apply deleted team.toml because moot.lock listed it\n{}",
        text(&out)
    );
    assert!(
        root.join(".moot/apply-report.md").exists(),
        "apply deleted a file under .moot/ named `./.moot/...` in moot.lock\n{}",
        text(&out)
    );
}

// ---------------------------------------------------------------------------
// Against wiremock, with a hook that runs while a rotation is in flight:
// the window between observing the workspace and the local transaction.

type Hook = Box<dyn FnOnce() + Send>;

#[derive(Clone, Default)]
struct RotateHook {
    hook: Arc<Mutex<Option<Hook>>>,
    count: Arc<AtomicUsize>,
}

impl RotateHook {
    fn arm(&self, f: impl FnOnce() + Send + 'static) {
        *self.hook.lock().unwrap() = Some(Box::new(f));
    }
}

impl Respond for RotateHook {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        if let Some(f) = self.hook.lock().unwrap().take() {
            f();
        }
        let id = req.url.path().split('/').nth(3).unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!({
            "actor_id": id,
            "api_key": format!("convo_key_REVIEW_{n:04}_0123456789abcdef"),
            "api_key_prefix": "convo_ke",
        }))
    }
}

fn agent(id: &str, name: &str) -> Value {
    let mut a = common::actor_json(id, name, "agent");
    a["api_key_prefix"] = Value::Null; // keyless: every apply issues keys
    a
}

/// A wiremock account of keyless agents whose rotations `rotate` answers,
/// and an initialised workspace.
struct Mocked {
    env: support::TestEnv,
    rotate: RotateHook,
}

impl std::ops::Deref for Mocked {
    type Target = support::TestEnv;
    fn deref(&self) -> &support::TestEnv {
        &self.env
    }
}

impl Mocked {
    fn new(agents: Value) -> Mocked {
        let api = common::MockApi::account(common::actor_json("usr_owner", "Ada", "human"), agents);
        let rotate = RotateHook::default();
        api.mount(
            Mock::given(method("POST"))
                .and(path_regex("^/api/actors/[^/]+/rotate-key$"))
                .respond_with(rotate.clone()),
        );
        Mocked {
            env: support::TestEnv::on(support::Api::Mock(api)).initialised(),
            rotate,
        }
    }

    fn loop4() -> Mocked {
        Mocked::new(json!([
            agent("agt_1", "Product"),
            agent("agt_2", "Spec"),
            agent("agt_3", "Implementation"),
            agent("agt_4", "QA"),
        ]))
    }

    /// The workspace by its canonical path, as moot names it.
    fn root(&self) -> PathBuf {
        self.canonical_root()
    }

    /// Serves a new agent list (over the first).
    fn set_agents(&self, agents: Value) {
        self.mock().serve(
            "GET",
            "/api/actors/me/agents",
            ResponseTemplate::new(200).set_body_json(agents),
        );
    }
}

/// Guarantee 4 ("a target replaced by a symlink between plan and apply"):
/// the symlink checks are done once, when the workspace is observed; the
/// local transaction writes by path much later (after every rotation, which
/// can take seconds). A `.claude` that becomes a symlink in that window
/// receives every `.claude/` file.
#[test]
fn a_parent_that_becomes_a_symlink_during_the_remote_phase_is_not_written_through() {
    let m = Mocked::loop4();
    let outside = tempfile::tempdir().unwrap();
    let link = m.root().join(".claude");
    let target = outside.path().to_path_buf();
    m.rotate.arm(move || {
        std::os::unix::fs::symlink(&target, &link).unwrap();
    });

    let out = m.moot(&["apply", "--yes", "--concurrency", "1"]);

    let written = listing(outside.path());
    assert!(
        written.is_empty(),
        "apply wrote through a .claude symlink made after it observed the workspace: {written:?}\n(exit {:?})\n{}",
        out.status.code(),
        text(&out)
    );
}

/// Same window, for a chmod: `set_permissions` follows a symlink, so a hook
/// replaced by a link during the remote phase gets the link target chmodded
/// (here an outside file made world-executable and -readable).
#[test]
fn a_chmod_target_that_becomes_a_symlink_is_not_followed() {
    let m = Mocked::loop4();
    let out = m.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = m.root();
    let hook = std::fs::read_dir(root.join(".claude/hooks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "sh"))
        .expect("a hook script");
    // The hook lost its run bit: the plan chmods it back.
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o644)).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let private = outside.path().join("private");
    std::fs::write(&private, "private").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (h, p) = (hook.clone(), private.clone());
    m.rotate.arm(move || {
        std::fs::remove_file(&h).unwrap();
        std::os::unix::fs::symlink(&p, &h).unwrap();
    });

    let out = m.moot(&["apply", "--yes", "--concurrency", "1"]);

    let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o7777;
    assert_eq!(
        mode,
        0o600,
        "apply chmodded a file outside the workspace through a symlink\n{}",
        text(&out)
    );
}

/// Guarantee 1: when apply fails after keys were rotated, the message names
/// the agents whose keys were rotated (their old keys no longer work). The
/// key file is composed after the remote phase, and an error there (here:
/// the key file changed under the apply and no longer parses) is returned
/// bare: four keys burnt, and not a word about it.
#[test]
fn a_failure_composing_the_key_file_after_rotations_names_the_rotated_agents() {
    let m = Mocked::loop4();
    let out = m.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = m.root();
    let before = tree(&root);
    let actors = root.join(".moot/actors.json");
    m.rotate.arm(move || {
        std::fs::write(&actors, b"{ half-written").unwrap();
    });
    let rotations_before = m.rotate.count.load(Ordering::SeqCst);

    let out = m.moot(&["apply", "--yes", "--concurrency", "1"]);

    let rotated = m.rotate.count.load(Ordering::SeqCst) - rotations_before;
    assert_eq!(rotated, 4, "{}", text(&out));
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "key_file_broken_after_rotations",
            support::stderr_transcript(&out)
        );
    });
    // (Nothing else was persisted; only the file the hook broke differs.)
    let diff = tree_diff(&before, &tree(&root));
    assert_eq!(diff.len(), 1, "{diff:?}");
}

/// Guarantee 4 (output): names that come from the server reach the
/// terminal verbatim. An agent bound by moot.lock whose display name holds
/// ANSI escapes (clear screen, set window title) and a newline is printed
/// raw by `moot plan`, and written raw into .moot/apply-report.md.
#[test]
fn server_display_names_cannot_inject_terminal_escapes() {
    let m = Mocked::loop4();
    let out = m.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[1;1HProduct\nPlan: 0 to add";
    m.set_agents(json!([
        agent("agt_1", hostile),
        agent("agt_2", "Spec"),
        agent("agt_3", "Implementation"),
        agent("agt_4", "QA"),
    ]));

    let out = m.moot(&["plan"]);
    let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
    assert!(
        !all.contains(&0x1b) && !all.contains(&0x07),
        "a control character from the server reached the terminal:\n{:?}",
        String::from_utf8_lossy(&all)
    );
    m.snapshot_settings()
        .bind(|| insta::assert_snapshot!("hostile_display_name", support::transcript(&out)));

    let _ = m.moot(&["apply", "--yes"]);
    let report = std::fs::read(m.root().join(".moot/apply-report.md")).unwrap_or_default();
    assert!(
        !report.contains(&0x1b),
        "a control character from the server was written into the apply report"
    );
}

// ---------------------------------------------------------------------------
// Crash consistency on a second apply (updates, a chmod, removals, an
// overwritten key file), which the existing fault test (fresh workspace
// only) does not reach.

#[test]
fn every_injected_fault_in_an_update_apply_is_all_or_nothing() {
    for mode in ["error", "kill"] {
        let mut k = 1;
        loop {
            let env = Env::new();
            let out = env.moot(&["apply", "--yes"]);
            assert!(out.status.success(), "{}", text(&out));
            let root = env.root();
            let team = std::fs::read_to_string(root.join("team.toml")).unwrap();
            // product gets another model (moot.toml changes); a skill an
            // older bundle wrote is no longer desired (removed); a hook
            // loses its run bit (chmod); --rotate-all rewrites the key file.
            let team = team.replacen("model = \"opus\"", "model = \"sonnet\"", 1);
            std::fs::write(root.join("team.toml"), team).unwrap();
            // (doc-curation: in the bundle, not selected for loop-4.)
            let skill = std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("templates/skills/doc-curation/SKILL.md"),
            )
            .unwrap();
            std::fs::create_dir_all(root.join(".claude/skills/doc-curation")).unwrap();
            std::fs::write(root.join(".claude/skills/doc-curation/SKILL.md"), &skill).unwrap();
            let mut lock = std::fs::read_to_string(root.join("moot.lock")).unwrap();
            lock.push_str(&format!(
                "\n[[files]]\npath = \".claude/skills/doc-curation/SKILL.md\"\npolicy = \"managed\"\nsha256 = \"{}\"\nmode = \"0644\"\n",
                support::digest(&skill)
            ));
            std::fs::write(root.join("moot.lock"), lock).unwrap();
            std::fs::set_permissions(
                root.join(".claude/hooks/git-guard.sh"),
                std::fs::Permissions::from_mode(0o644),
            )
            .unwrap();
            let before = tree(&root);
            let out = moot(
                env.ws.path(),
                env.home.path(),
                Some((env.sandbox().token(), env.sandbox().url())),
            )
            .args(["apply", "--yes", "--rotate-all", "--concurrency", "1"])
            .env("MOOT_FAULT_AT", k.to_string())
            .env("MOOT_FAULT_MODE", mode)
            .output()
            .unwrap();
            if out.status.success() {
                assert!(k > 10, "the fault never fired: {}", text(&out));
                assert!(
                    !root.join(".claude/skills/doc-curation/SKILL.md").exists(),
                    "the leftover skill was not removed"
                );
                eprintln!("{mode}: converged at k={k}");
                break;
            }
            assert!(
                text(&out).contains("injected"),
                "k={k}: failed without the fault: {}",
                text(&out)
            );
            if mode == "error" {
                assert_eq!(out.status.code(), Some(1), "k={k}: {}", text(&out));
                // A ticket minted before the failure is kept for the next
                // apply to redeem; nothing else may differ.
                let mut now = tree(&root);
                now.remove(Path::new(".moot/pending-tickets.json"));
                let d = tree_diff(&before, &now);
                assert!(d.is_empty(), "k={k} ({mode}): {d:?}\n{}", text(&out));
            } else {
                let repair = env.moot_offline(&["apply", "--offline"]);
                support::assert_repair_only(&format!("k={k}"), &repair);
                let mut after = tree(&root);
                if after
                    .remove(Path::new(".moot/pending-tickets.json"))
                    .is_some()
                {
                    // Killed with a ticket minted and not yet stored: the
                    // next online apply redeems it (or says it is gone).
                    let again = env.moot(&["apply", "--yes"]);
                    assert!(again.status.success(), "k={k}: {}", text(&again));
                } else if after != before {
                    let check = env.moot(&["plan", "--detailed-exitcode"]);
                    assert_eq!(
                        check.status.code(),
                        Some(0),
                        "k={k}: a mix: {:?}\n{}",
                        tree_diff(&before, &after),
                        text(&check)
                    );
                }
                let litter = support::staging_litter(&root);
                assert!(litter.is_empty(), "k={k}: litter {litter:?}");
            }
            k += 1;
        }
    }
}

/// Guarantee 2 ("a crash at any point is rolled back, never a mix"): only
/// apply repairs, and only under the workspace lock. While another apply
/// holds the lock, a second apply refuses and plan and check only report
/// the journal: the dead apply's journal and backups are never discarded,
/// and the next apply restores the workspace, saying what it restores.
#[test]
fn an_apply_never_discards_the_journal_of_an_apply_that_died_meanwhile() {
    let env = Env::new();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = env.root();
    let before = tree(&root);

    // An apply killed after it journalled: a real, sealed journal.
    std::fs::remove_file(root.join(".claude/skills/verify/SKILL.md")).unwrap();
    let mut k = 1;
    let journal = root.join(".moot/txn/journal.json");
    while !journal.exists() {
        let _ = moot(env.ws.path(), env.home.path(), None)
            .args(["apply", "--offline", "--yes"])
            .env("MOOT_FAULT_AT", k.to_string())
            .env("MOOT_FAULT_MODE", "kill")
            .output()
            .unwrap();
        k += 1;
        assert!(k < 40, "no fault left a journal");
    }
    let crashed = tree(&root);

    // Another apply holds the lock.
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(root.join(".moot/lock"))
        .or_else(|_| std::fs::File::create(root.join(".moot/lock")))
        .unwrap();
    held.try_lock().unwrap();
    let mut said = String::new();
    for cmd in [
        &["apply", "--offline", "--yes"][..],
        &["check"][..],
        &["plan", "--offline"][..],
    ] {
        let out = env.moot_offline(cmd);
        said += &format!("# moot {}\n{}", cmd.join(" "), support::transcript(&out));
    }
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("interrupted_apply_while_locked", said));
    let d = tree_diff(&crashed, &tree(&root));
    assert!(
        d.iter().all(|p| p.contains(".moot/lock")),
        "the journal's state changed while the lock was held: {d:?}"
    );
    held.unlock().unwrap();
    drop(held);

    let repair = env.moot_offline(&["apply", "--offline"]);
    support::assert_repair_only("repair", &repair);
    let said = text(&repair);
    assert!(
        said.contains("restoring the workspace as it was before it"),
        "{said}"
    );
    assert!(!root.join(".moot/txn").exists());
    let d = tree_diff(&before, &tree(&root));
    assert!(
        d.iter()
            .all(|p| p.contains("verify/SKILL.md") || p.contains("apply-report")),
        "neither as before the crashed apply nor converged: {d:?}\n{said}"
    );
}

/// Guarantee 1: a rotation whose answer never arrives (timeout, reset) may
/// well have rotated the key on the server: the request was sent. Like a
/// 5xx on POST (whose hint says "the key may or may not have been
/// rotated"), the message must say that this agent's key may be gone and
/// how to reissue it. Today it says only that the server is slow.
#[test]
fn a_rotation_that_times_out_is_named_as_possibly_rotated() {
    struct Slow(Arc<AtomicUsize>);
    impl Respond for Slow {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            self.0.fetch_add(1, Ordering::SeqCst);
            let id = req.url.path().split('/').nth(3).unwrap_or_default();
            ResponseTemplate::new(200)
                .set_body_json(
                    json!({"actor_id": id, "api_key": "convo_key_SLOW_0123456789abcdef"}),
                )
                .set_delay(std::time::Duration::from_secs(3))
        }
    }
    let m = Mocked::loop4();
    let slow = Arc::new(AtomicUsize::new(0));
    m.mock().mount(
        common::route("POST", "/api/actors/agt_1/rotate-key")
            .respond_with(Slow(slow.clone()))
            .with_priority(1),
    );
    let out = m.run(
        &["apply", "--yes", "--concurrency", "1"],
        &[("MOOT_HTTP_TIMEOUT", "1")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // Holds: sent exactly once, never retried.
    assert_eq!(slow.load(Ordering::SeqCst), 1);
    // The timed-out rotation may have burnt product's key: the message says so.
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!("rotation_timed_out", support::stderr_transcript(&out));
    });
}

// ---------------------------------------------------------------------------
// Hostile checkouts: `moot check` runs in CI on a pull request, so every
// file of the workspace, `.moot/` included, is the attacker's.

/// The key case: `.moot/lock` a symlink to a file outside the workspace,
/// plus a planted journal asking for team.toml to go, a script to become
/// setuid and `.git` mode 000. `moot check` and `moot plan` report the
/// journal (exit 1, "run `moot apply`") and change nothing, inside or
/// outside; apply refuses the link before anything else.
#[test]
fn check_on_a_hostile_checkout_changes_nothing_inside_or_outside() {
    let env = Env::new();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = env.root();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("victim"), "precious\n").unwrap();
    let _ = std::fs::remove_file(root.join(".moot/lock"));
    std::os::unix::fs::symlink(outside.path().join("victim"), root.join(".moot/lock")).unwrap();
    std::fs::create_dir_all(root.join(".moot/txn/backup")).unwrap();
    let journal = json!({
        "state": "prepared", "pid": 1,
        "entries": [
            {"kind": "write", "target": "team.toml", "staged": null,
             "backup": ".moot/txn/backup/0", "had_original": false, "old_mode": null},
            {"kind": "chmod", "target": ".claude/hooks/git-guard.sh", "staged": null,
             "backup": ".moot/txn/backup/1", "had_original": true, "old_mode": 0o6777},
            {"kind": "chmod", "target": ".git", "staged": null,
             "backup": ".moot/txn/backup/2", "had_original": true, "old_mode": 0},
        ],
        "created_dirs": [],
    });
    std::fs::write(
        root.join(".moot/txn/journal.json"),
        serde_json::to_vec(&journal).unwrap(),
    )
    .unwrap();
    let inside = support::full_tree(&root);
    let outer = support::full_tree(outside.path());

    let mut said = String::new();
    for cmd in [&["check"][..], &["plan", "--offline"][..], &["plan"][..]] {
        let out = env.moot(cmd);
        said += &format!("# moot {}\n{}", cmd.join(" "), support::transcript(&out));
        let d = tree_diff(&inside, &support::full_tree(&root));
        assert!(d.is_empty(), "{cmd:?} changed the workspace: {d:?}");
        let d = tree_diff(&outer, &support::full_tree(outside.path()));
        assert!(d.is_empty(), "{cmd:?} changed a file outside: {d:?}");
    }
    let out = env.moot(&["apply", "--yes"]);
    said += &format!("# moot apply --yes\n{}", support::transcript(&out));
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("hostile_checkout", said));
    assert!(tree_diff(&inside, &support::full_tree(&root)).is_empty());
    assert!(tree_diff(&outer, &support::full_tree(outside.path())).is_empty());
}

/// Only a journal moot can prove it wrote is acted on. Even one sealed
/// with this user's key (as if the key had leaked, or moot had a bug) is
/// refused when it names what moot never writes or a mode moot never
/// restores: team.toml, `.git`, setuid or 000.
#[test]
fn apply_restores_only_moots_own_files_and_modes() {
    use moot::apply::seal::SealKey;
    use moot::apply::txn::{Entry, EntryKind, Journal, JournalState};
    let env = Env::new();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = env.root();
    // A real apply that journalled made the key.
    std::fs::remove_file(root.join(".claude/skills/verify/SKILL.md")).unwrap();
    let out = env.moot(&["apply", "--offline", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let key = SealKey::read(&env.home.path().join(".moot/journal.key"))
        .unwrap()
        .expect("apply made a journal key");
    let entry = |kind, target: &str, old_mode: Option<u32>| Entry {
        kind,
        target: target.into(),
        staged: None,
        backup: ".moot/txn/backup/0".into(),
        had_original: true,
        old_mode: old_mode.map(moot::mode::Mode::of),
        written_sha256: None,
    };
    let bad = [
        (
            "remove team.toml",
            entry(EntryKind::Remove, "team.toml", None),
        ),
        (
            "chmod .git 0644",
            entry(EntryKind::Chmod, ".git", Some(0o644)),
        ),
        (
            "chmod git-guard.sh 6755",
            entry(EntryKind::Chmod, ".claude/hooks/git-guard.sh", Some(0o6755)),
        ),
        (
            "chmod git-guard.sh 0000",
            entry(EntryKind::Chmod, ".claude/hooks/git-guard.sh", Some(0)),
        ),
        (
            "chmod moot.lock 0644",
            entry(EntryKind::Chmod, "moot.lock", Some(0o644)),
        ),
    ];
    let mut said = String::new();
    for (what, e) in bad {
        let mut j = Journal {
            state: JournalState::Prepared,
            pid: 1,
            entries: vec![e.clone()],
            created_dirs: vec![],
            seal: String::new(),
        };
        j.seal = key.seal(&serde_json::to_vec(&j).unwrap());
        std::fs::create_dir_all(root.join(".moot/txn")).unwrap();
        std::fs::write(
            root.join(".moot/txn/journal.json"),
            serde_json::to_vec(&j).unwrap(),
        )
        .unwrap();
        let before = tree(&root);
        let out = env.moot(&["apply", "--offline", "--yes"]);
        said += &format!("# {what}\n{}", support::transcript(&out));
        let d = tree_diff(&before, &tree(&root));
        assert!(d.is_empty(), "{e:?}: {d:?}");
        std::fs::remove_dir_all(root.join(".moot/txn")).unwrap();
    }
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("journals_refused", said));
}

/// Whatever the local transaction refuses blocks the plan before any
/// remote call: a symlinked moot.lock or apply report used to let apply
/// rotate every key, then refuse the link and discard the new keys.
#[test]
fn a_symlinked_lock_or_report_stops_apply_before_any_rotation() {
    let env = Env::new();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = env.root();
    let keys = std::fs::read(root.join(".moot/actors.json")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let mut said = String::new();
    for name in ["moot.lock", ".moot/apply-report.md"] {
        let there = outside.path().join("moved");
        std::fs::copy(root.join(name), &there).unwrap();
        std::fs::remove_file(root.join(name)).unwrap();
        std::os::unix::fs::symlink(&there, root.join(name)).unwrap();
        let out = env.moot(&["apply", "--yes", "--rotate-all"]);
        said += &format!("# {name}\n{}", support::blocked_transcript(&out));
        assert_eq!(std::fs::read(root.join(".moot/actors.json")).unwrap(), keys);
        std::fs::remove_file(root.join(name)).unwrap();
        std::fs::copy(&there, root.join(name)).unwrap();
        // The held keys still work: nothing was rotated.
        let plan = env.moot(&["plan", "--detailed-exitcode"]);
        assert_eq!(plan.status.code(), Some(0), "{name}: {}", text(&plan));
    }
    env.snapshot_settings()
        .bind(|| insta::assert_snapshot!("symlinked_lock_or_report", said));
}

/// A hostile moot.lock names a user's own committed files (with their
/// public sha256) as moot's leftovers: they are never removed, because no
/// team.toml renders those bytes at those paths.
#[test]
fn a_hostile_lock_entry_cannot_remove_the_users_files() {
    let env = Env::new();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = env.root();
    let mine: [(&str, &[u8]); 3] = [
        (".devcontainer/Dockerfile", b"FROM rust:1\n"),
        (".claude/skills/mine/SKILL.md", b"# my skill\n"),
        // A bundle path, but not moot's bytes.
        (".claude/skills/doc-curation/SKILL.md", b"# my notes\n"),
    ];
    let mut lock = std::fs::read_to_string(root.join("moot.lock")).unwrap();
    for (p, bytes) in mine {
        std::fs::create_dir_all(root.join(p).parent().unwrap()).unwrap();
        std::fs::write(root.join(p), bytes).unwrap();
        lock.push_str(&format!(
            "\n[[files]]\npath = \"{p}\"\npolicy = \"managed\"\nsha256 = \"{}\"\nmode = \"0644\"\n",
            support::digest(bytes)
        ));
    }
    std::fs::write(root.join("moot.lock"), lock).unwrap();
    let out = env.moot(&["apply", "--offline", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    for (p, bytes) in mine {
        assert_eq!(
            std::fs::read(root.join(p)).unwrap(),
            bytes,
            "{p} was removed"
        );
    }
}

/// A managed file edited while apply is in its remote phase is checked by
/// content right before its rename: the user's edit is kept, moot's
/// version staged for review and reported, never silently overwritten.
#[test]
fn a_file_edited_during_the_remote_phase_is_kept_and_moots_version_staged() {
    let m = Mocked::loop4();
    let out = m.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = m.root();
    let team = std::fs::read_to_string(root.join("team.toml")).unwrap();
    let team = team.replacen("model = \"opus\"", "model = \"sonnet\"", 1);
    assert!(team.contains("sonnet"));
    std::fs::write(root.join("team.toml"), team).unwrap();
    let edit = root.join("moot.toml");
    m.rotate.arm(move || {
        let mut t = std::fs::read_to_string(&edit).unwrap();
        t.push_str("# my local tweak\n");
        std::fs::write(&edit, t).unwrap();
    });
    let out = m.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let now = std::fs::read_to_string(root.join("moot.toml")).unwrap();
    assert!(
        now.contains("# my local tweak"),
        "the edit was overwritten:\n{now}"
    );
    let staged = std::fs::read_to_string(root.join(".moot/suggested/moot.toml")).unwrap();
    assert!(staged.contains("sonnet") && !staged.contains("my local tweak"));
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "edited_during_remote_phase",
            support::transcript_without_diffs(&out)
        )
    });
    let report = std::fs::read_to_string(root.join(".moot/apply-report.md")).unwrap();
    assert!(
        report.contains("moot.toml changed while apply ran"),
        "{report}"
    );
    // The next plan sees the edit as drift, as for any edit.
    let plan = m.moot(&["plan", "--offline"]);
    m.snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "edited_during_remote_phase_plan",
            support::transcript(&plan)
        )
    });
}

/// Modes are changed through a no-follow descriptor: a loosened `.moot`
/// (a directory) and key file are still put back to 0700 and 0600.
#[test]
fn loosened_modes_of_moot_dir_and_key_file_are_fixed() {
    let env = Env::new();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let root = env.root();
    let set = |p: &str, m: u32| {
        std::fs::set_permissions(root.join(p), std::fs::Permissions::from_mode(m)).unwrap()
    };
    set(".moot", 0o755);
    set(".moot/actors.json", 0o644);
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let mode = |p: &str| {
        std::fs::metadata(root.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode(".moot"), 0o700);
    assert_eq!(mode(".moot/actors.json"), 0o600);
}
