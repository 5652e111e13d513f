//! The planner on plain values: one test per rule of docs/design.md ("The
//! plan") and of the README's "Files moot manages".

use std::collections::BTreeSet;

use indexmap::IndexMap;

use super::action::{Action, ActionKind, KeySource, Op, Plan, Target};
use super::planner::{Observed, PlanOptions, RemoteState, build, suggested_path};
use crate::desired::render::{DesiredRole, HookEntry, RemoteFacts};
use crate::desired::{DesiredFile, DesiredState, Policy};
use crate::digest::Digest;
use crate::mode::Mode;
use crate::observed::actors_file::{HeldKey, HeldKeys};
use crate::observed::api::Actor;
use crate::observed::lockfile::{Lock, LockEntry, LockRole};
use crate::observed::workspace::{FileState, LocalFiles};

const HOOK: &str = ".claude/hooks/git-guard.sh";
const SETTINGS: &str = ".claude/settings.json";

fn desired() -> DesiredState {
    let files = vec![
        DesiredFile {
            path: HOOK.into(),
            policy: Policy::Managed,
            mode: Mode::EXECUTABLE,
            content: b"#!/bin/sh\necho guard\n".to_vec(),
        },
        DesiredFile {
            path: "CLAUDE.md".into(),
            policy: Policy::Seed,
            mode: Mode::FILE,
            content: b"# Team\n".to_vec(),
        },
        DesiredFile {
            path: "moot.toml".into(),
            policy: Policy::Managed,
            mode: Mode::FILE,
            content: b"[convo]\n".to_vec(),
        },
    ];
    DesiredState {
        files: files.clone(),
        settings_hooks: vec![HookEntry {
            event: "PreToolUse".into(),
            matcher: "Bash".into(),
            command: "$CLAUDE_PROJECT_DIR/.claude/hooks/git-guard.sh".into(),
        }],
        gitignore_lines: vec![".moot/".into()],
        roles: ["product", "qa"]
            .iter()
            .map(|n| DesiredRole {
                name: n.to_string(),
                key: n.to_string(),
                display_name: crate::desired::team::title_case(n).replace("Qa", "QA"),
            })
            .collect(),
        facts: RemoteFacts {
            api_url: "https://mootup.io".into(),
            space_id: "spc_1".into(),
            space_name: "spc_1".into(),
        },
        bundle_version: "0.1.0+test".into(),
        unmanaged: BTreeSet::new(),
        renderable: files
            .iter()
            .filter(|f| matches!(f.policy, Policy::Managed | Policy::Seed))
            .map(|f| (f.path.clone(), Digest::of(&f.content)))
            .collect(),
    }
}

fn actor(id: &str, name: &str, prefix: Option<&str>) -> Actor {
    Actor {
        actor_id: id.into(),
        display_name: name.into(),
        actor_type: "agent".into(),
        sponsor_id: Some("usr_1".into()),
        tenant_id: Some("ten_1".into()),
        is_admin: false,
        email: None,
        agent_profile: None,
        api_key_prefix: prefix.map(str::to_string),
        default_space_id: None,
        is_connected: Some(false),
        focus_space_id: None,
        metadata: None,
        last_seen_at: None,
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        oauth_scopes: None,
        oauth_client_id: None,
    }
}

fn remote(agents: Vec<Actor>) -> Option<RemoteState> {
    let mut me = actor("usr_1", "Ada", None);
    me.actor_type = "human".into();
    me.default_space_id = Some("spc_1".into());
    Some(RemoteState {
        me,
        agents,
        space: None,
    })
}

/// Online, no files, these agents.
fn with_agents(agents: Vec<Actor>) -> Observed {
    Observed {
        remote: remote(agents),
        ..Observed::default()
    }
}

fn file(content: &[u8], mode: u32) -> FileState {
    FileState::File {
        sha256: Digest::of(content),
        mode: Mode::of(mode),
        content: content.to_vec(),
    }
}

fn obs_with(files: &[(&str, FileState)]) -> Observed {
    Observed {
        files: LocalFiles {
            files: files
                .iter()
                .map(|(p, s)| (p.to_string(), s.clone()))
                .collect(),
        },
        remote: remote(vec![
            actor("agt_p", "Product", None),
            actor("agt_q", "QA", None),
        ]),
        ..Observed::default()
    }
}

fn lock_with(files: &[(&str, &[u8], u32)]) -> Lock {
    Lock {
        version: 1,
        bundle_version: "old".into(),
        api_url: "https://mootup.io".into(),
        space_id: "spc_1".into(),
        space_name: "spc_1".into(),
        roles: IndexMap::new(),
        retired: IndexMap::new(),
        files: files
            .iter()
            .map(|(p, c, m)| LockEntry {
                path: p.to_string(),
                policy: Policy::Managed,
                sha256: Digest::of(c),
                mode: Mode::of(*m),
            })
            .collect(),
    }
}

fn kinds_for(plan: &crate::plan::Plan, target: &str) -> Vec<ActionKind> {
    plan.actions
        .iter()
        .filter(|a| a.target.to_string() == target)
        .map(|a| a.kind)
        .collect()
}

fn online() -> PlanOptions {
    PlanOptions::default()
}

fn offline() -> PlanOptions {
    PlanOptions {
        offline: true,
        ..online()
    }
}

/// The online plan for `d` over these files (and the two keyless agents).
fn plan_of(d: &DesiredState, files: &[(&str, FileState)]) -> Plan {
    build(d, &obs_with(files), &online()).unwrap()
}

/// `.claude/settings.json` holding these bytes.
fn settings_file(bytes: &[u8]) -> (&'static str, FileState) {
    (SETTINGS, file(bytes, 0o644))
}

/// Online, a file on disk at `path` and moot.lock's entry for it.
fn obs_locked(path: &str, on_disk: &[u8], locked: &[u8], mode: u32) -> Observed {
    let mut obs = obs_with(&[(path, file(on_disk, mode))]);
    obs.lock = Some(lock_with(&[(path, locked, mode)]));
    obs
}

/// The offline plan (no remote state) for `d` over these files.
fn offline_plan_of(d: &DesiredState, files: &[(&str, FileState)]) -> Plan {
    let mut obs = obs_with(files);
    obs.remote = None;
    build(d, &obs, &offline()).unwrap()
}

/// The one action on `target` (as the plan prints it).
fn action_on<'p>(plan: &'p Plan, target: &str) -> &'p Action {
    let found = plan.actions.iter().find(|a| a.target.to_string() == target);
    found.unwrap_or_else(|| panic!("no action on {target}: {plan:#?}"))
}

/// The first action of this kind.
fn action_of(plan: &Plan, kind: ActionKind) -> &Action {
    let found = plan.actions.iter().find(|a| a.kind == kind);
    found.unwrap_or_else(|| panic!("no {kind} action: {plan:#?}"))
}

/// The text a file action writes.
fn written(a: &Action) -> &str {
    match &a.op {
        Op::Write { content, .. } => content,
        other => panic!("{} writes no text: {other:?}", a.target),
    }
}

/// Whether the plan is blocked on this path.
fn blocks_path(plan: &Plan, path: &str) -> bool {
    let target = Target::Path(path.into());
    plan.blocked.iter().any(|b| b.target == target)
}

#[test]
fn fresh_workspace_issues_every_key_and_creates_every_file() {
    let plan = build(&desired(), &obs_with(&[]), &online()).unwrap();
    assert_eq!(kinds_for(&plan, "agent:product"), [ActionKind::IssueKey]);
    assert_eq!(kinds_for(&plan, "agent:qa"), [ActionKind::IssueKey]);
    for p in [
        HOOK,
        "CLAUDE.md",
        "moot.toml",
        ".gitignore",
        ".claude/settings.json",
    ] {
        assert_eq!(kinds_for(&plan, p), [ActionKind::Create], "{p}");
    }
    assert_eq!(
        kinds_for(&plan, ".moot/actors.json"),
        [ActionKind::WriteSecrets]
    );
    assert_eq!(plan.actions.last().unwrap().kind, ActionKind::WriteLock);
    assert!(plan.blocked.is_empty() && plan.drift.is_empty());
    // ids are positions and every dependency comes earlier.
    for (i, a) in plan.actions.iter().enumerate() {
        assert_eq!(a.id, i);
        assert!(a.depends_on.iter().all(|&d| d < i), "{a:?}");
    }
}

#[test]
fn required_edges_hold() {
    let plan = build(&desired(), &obs_with(&[]), &online()).unwrap();
    let pos = |t: &str| {
        plan.actions
            .iter()
            .position(|a| a.target.to_string() == t)
            .unwrap()
    };
    let secrets = &plan.actions[pos(".moot/actors.json")];
    assert!(secrets.depends_on.contains(&pos(".gitignore")));
    assert!(secrets.depends_on.contains(&pos("agent:product")));
    assert!(
        plan.actions[pos(".claude/settings.json")]
            .depends_on
            .contains(&pos(HOOK))
    );
    let lock = plan.actions.last().unwrap();
    assert_eq!(lock.depends_on.len(), plan.actions.len() - 1);
}

#[test]
fn in_sync_file_is_no_action_and_wrong_mode_is_chmod() {
    let d = desired();
    let hook = d.file(HOOK).unwrap().content.clone();
    let plan = plan_of(&d, &[(HOOK, file(&hook, 0o755))]);
    assert!(kinds_for(&plan, HOOK).is_empty());
    let plan = plan_of(&d, &[(HOOK, file(&hook, 0o644))]);
    assert_eq!(kinds_for(&plan, HOOK), [ActionKind::Chmod]);
    // A clone under umask 002: only the run bits count, as in git.
    let toml = d.file("moot.toml").unwrap().content.clone();
    let plan = plan_of(
        &d,
        &[
            (HOOK, file(&hook, 0o775)),
            ("moot.toml", file(&toml, 0o664)),
        ],
    );
    assert!(kinds_for(&plan, HOOK).is_empty());
    assert!(kinds_for(&plan, "moot.toml").is_empty());
    let plan = plan_of(&d, &[("moot.toml", file(&toml, 0o755))]);
    assert_eq!(kinds_for(&plan, "moot.toml"), [ActionKind::Chmod]);
}

#[test]
fn untouched_file_with_changed_desire_is_updated() {
    let plan = build(
        &desired(),
        &obs_locked(HOOK, b"old", b"old", 0o755),
        &online(),
    )
    .unwrap();
    assert_eq!(kinds_for(&plan, HOOK), [ActionKind::Update]);
    assert!(plan.drift.is_empty());
}

#[test]
fn user_edit_is_staged_not_overwritten_and_is_drift() {
    let d = desired();
    let mut obs = obs_locked(HOOK, b"mine", b"old", 0o755);
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(kinds_for(&plan, HOOK).is_empty());
    assert_eq!(kinds_for(&plan, &suggested_path(HOOK)), [ActionKind::Stage]);
    assert_eq!(plan.drift.len(), 1);
    assert_eq!(plan.drift[0].target, Target::Path(HOOK.into()));
    // The lock keeps what moot wrote, so the edit stays visible.
    let lock = written(plan.actions.last().unwrap());
    assert!(lock.contains(&Digest::of(b"old").to_string()));

    // Staging the same suggestion again is not an action; it is still drift.
    let hook = d.file(HOOK).unwrap().content.clone();
    obs.files
        .files
        .insert(suggested_path(HOOK), file(&hook, 0o755));
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(kinds_for(&plan, &suggested_path(HOOK)).is_empty());
    assert_eq!(plan.drift.len(), 1);

    // --overwrite replaces it, marked destructive.
    let opts = PlanOptions {
        overwrite: true,
        ..online()
    };
    let plan = build(&d, &obs, &opts).unwrap();
    let a = action_on(&plan, HOOK);
    assert_eq!(a.kind, ActionKind::Update);
    assert!(a.destructive);
    assert!(plan.drift.is_empty());
}

#[test]
fn overwrite_with_paths_takes_moots_version_of_those_only() {
    let d = desired();
    let mut obs = obs_locked(HOOK, b"mine", b"old", 0o755);
    let edited = file(b"mine", 0o644);
    obs.files.files.insert("moot.toml".into(), edited);
    let opts = PlanOptions {
        overwrite_paths: vec![HOOK.into()],
        ..online()
    };
    let plan = build(&d, &obs, &opts).unwrap();
    assert_eq!(kinds_for(&plan, HOOK), [ActionKind::Update]);
    // The other edited file stays the user's, staged and drift, and the
    // hint names the one path that accepts it.
    assert!(kinds_for(&plan, "moot.toml").is_empty());
    assert_eq!(
        kinds_for(&plan, &suggested_path("moot.toml")),
        [ActionKind::Stage]
    );
    assert_eq!(plan.drift.len(), 1);
    let hint = plan.drift[0].hint.as_deref().unwrap();
    assert!(hint.contains("moot apply --overwrite moot.toml"), "{hint}");
}

#[test]
fn file_predating_moot_is_staged() {
    let plan = plan_of(&desired(), &[(HOOK, file(b"theirs", 0o755))]);
    assert_eq!(kinds_for(&plan, &suggested_path(HOOK)), [ActionKind::Stage]);
    assert!(plan.drift[0].reason.contains("differs"));
}

#[test]
fn offline_drift_is_reported_but_nothing_staged_under_moot() {
    let plan = offline_plan_of(&desired(), &[(HOOK, file(b"mine", 0o755))]);
    assert_eq!(plan.drift.len(), 1);
    assert!(
        plan.actions
            .iter()
            .all(|a| !a.target.to_string().starts_with(".moot"))
    );
    assert!(plan.actions.iter().all(|a| !a.kind.is_remote()));
    assert!(plan.notes.iter().any(|n| n.contains("offline")));
}

#[test]
fn seed_edits_are_never_drift() {
    let d = desired();
    let mut obs = obs_with(&[("CLAUDE.md", file(b"my notes", 0o644))]);
    let mut lock = lock_with(&[]);
    lock.files.push(LockEntry {
        path: "CLAUDE.md".into(),
        policy: Policy::Seed,
        sha256: Digest::of(b"# Team\n"),
        mode: Mode::FILE,
    });
    obs.lock = Some(lock.clone());
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(kinds_for(&plan, "CLAUDE.md").is_empty());
    assert!(kinds_for(&plan, &suggested_path("CLAUDE.md")).is_empty());
    assert!(plan.drift.is_empty());

    // A changed template is offered as a suggestion, never written over.
    lock.files[0].sha256 = Digest::of(b"# Old team\n");
    obs.lock = Some(lock);
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(kinds_for(&plan, "CLAUDE.md").is_empty());
    assert_eq!(
        kinds_for(&plan, &suggested_path("CLAUDE.md")),
        [ActionKind::Stage]
    );
    assert!(plan.drift.is_empty());
}

#[test]
fn leftovers_are_removed_only_when_unchanged() {
    let old = ".claude/skills/old/SKILL.md";
    let mut d = desired();
    d.renderable.insert(old.into(), Digest::of(b"skill"));
    let mut obs = obs_locked(old, b"skill", b"skill", 0o644);
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(kinds_for(&plan, old), [ActionKind::Remove]);

    obs.files.files.insert(old.into(), file(b"edited", 0o644));
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(kinds_for(&plan, old).is_empty());
    assert!(plan.notes.iter().any(|n| n.contains(old)));
}

/// moot.lock is committed, so a pull request can add entries to it: an
/// entry is only ever a removal when the file holds exactly what this
/// team.toml and bundle render for that very path, whatever sha256 the
/// entry carries and whatever the path looks like.
#[test]
fn a_hostile_lock_entry_never_removes_a_users_file() {
    let d = desired();
    let cases: [(&str, &[u8]); 3] = [
        // Not renderable at all, though it looks like moot's.
        (".devcontainer/Dockerfile", b"FROM rust\n"),
        (".claude/skills/mine/SKILL.md", b"my own skill\n"),
        // Renderable, but these bytes are not what moot renders there.
        (HOOK, b"#!/bin/sh\necho mine\n"),
    ];
    for (path, bytes) in cases {
        let mut d = d.clone();
        d.files.retain(|f| f.path != path);
        let plan = build(&d, &obs_locked(path, bytes, bytes, 0o644), &online()).unwrap();
        assert!(kinds_for(&plan, path).is_empty(), "{path}: {plan:?}");
        assert!(plan.notes.iter().any(|n| n.contains(path)), "{path}");
    }
}

/// `.moot` with a loose mode gets a chmod, which the transaction does
/// (through a no-follow descriptor): not blocked.
#[test]
fn a_loose_moot_dir_mode_is_fixed_not_blocked() {
    let mut obs = obs_with(&[(".moot", FileState::Dir)]);
    obs.moot_dir_mode = Some(0o755);
    let plan = build(&desired(), &obs, &online()).unwrap();
    assert_eq!(kinds_for(&plan, ".moot"), [ActionKind::Chmod]);
    assert!(plan.blocked.is_empty(), "{:?}", plan.blocked);
}

/// Anything the local transaction would refuse (a symlinked or directory
/// target, a symlinked apply report) blocks the plan, so apply stops
/// before any remote call.
#[test]
fn what_the_transaction_refuses_blocks_the_plan() {
    use crate::plan::planner::REPORT_PATH;
    for state in [
        FileState::Symlink,
        FileState::Dir,
        FileState::Unsafe("`.moot` is a symlink".into()),
    ] {
        for path in [REPORT_PATH, "moot.lock"] {
            let plan = plan_of(&desired(), &[(path, state.clone())]);
            assert!(blocks_path(&plan, path), "{state:?}: {:?}", plan.blocked);
        }
    }
}

#[test]
fn unmanaged_paths_are_never_touched() {
    let mut d = desired();
    d.unmanaged.insert(HOOK.into());
    let plan = plan_of(&d, &[(HOOK, file(b"mine", 0o600))]);
    assert!(
        plan.actions
            .iter()
            .all(|a| !a.target.to_string().contains("git-guard"))
    );
    assert!(plan.drift.is_empty());
}

#[test]
fn symlinks_and_unsafe_paths_are_blocked() {
    let plan = plan_of(&desired(), &[(HOOK, FileState::Symlink)]);
    assert_eq!(plan.blocked[0].target, Target::Path(HOOK.into()));
    let unsafe_path = FileState::Unsafe("x is a symlink".into());
    let plan = plan_of(&desired(), &[("moot.toml", unsafe_path)]);
    assert!(blocks_path(&plan, "moot.toml"));
}

#[test]
fn settings_merge_cases() {
    let d = desired();
    let plan = plan_of(&d, &[settings_file(b"{}")]);
    assert_eq!(kinds_for(&plan, SETTINGS), [ActionKind::Merge]);
    let plan = plan_of(&d, &[settings_file(b"{\"hooks\": ")]);
    assert!(plan.blocked[0].reason.contains("not valid JSON"));
    assert!(kinds_for(&plan, SETTINGS).is_empty());
    let merged = crate::plan::settings_merge::merge(Some("{\"a\":1}"), &d.settings_hooks)
        .unwrap()
        .unwrap();
    let plan = plan_of(&d, &[settings_file(merged.as_bytes())]);
    assert!(kinds_for(&plan, SETTINGS).is_empty());
}

#[test]
fn gitignore_lines_are_appended() {
    let plan = plan_of(&desired(), &[(".gitignore", file(b"target/\n", 0o644))]);
    let a = action_on(&plan, ".gitignore");
    assert_eq!(a.kind, ActionKind::AppendLines);
    let content = written(a);
    assert!(content.starts_with("target/\n") && content.ends_with(".moot/\n"));
    let plan = plan_of(&desired(), &[(".gitignore", file(b"/.moot\n", 0o644))]);
    assert!(kinds_for(&plan, ".gitignore").is_empty());
}

fn held(role: &str, id: &str, prefix: &str) -> HeldKeys {
    let mut roles = IndexMap::new();
    roles.insert(
        role.to_string(),
        HeldKey {
            actor_id: id.into(),
            display_name: crate::desired::team::title_case(role),
            prefix: prefix.into(),
            live: None,
        },
    );
    HeldKeys {
        space_id: "spc_1".into(),
        space_name: "spc_1".into(),
        api_url: "https://mootup.io".into(),
        roles,
    }
}

/// product's agent has a key, held here with `prefix`; qa's has none.
fn product_keyed_and_held(prefix: &str) -> Observed {
    let agents = vec![
        actor("agt_p", "Product", Some(prefix)),
        actor("agt_q", "QA", None),
    ];
    Observed {
        held: Some(held("product", "agt_p", prefix)),
        ..with_agents(agents)
    }
}

#[test]
fn key_table_rows() {
    let d = desired();
    // Missing agent: blocked.
    let obs = with_agents(vec![actor("agt_p", "product", None)]);
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(plan.blocked.len(), 1);
    assert_eq!(plan.blocked[0].target, Target::Agent("qa".into()));
    // Matched case-insensitively, so the name differs: rename.
    assert!(kinds_for(&plan, "agent:product").contains(&ActionKind::RenameAgent));

    // Has a key, held with the same prefix: nothing.
    let mut obs = with_agents(vec![
        actor("agt_p", "Product", Some("convo_ab")),
        actor("agt_q", "QA", Some("convo_cd")),
    ]);
    obs.held = Some(held("product", "agt_p", "convo_ab"));
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(kinds_for(&plan, "agent:product").is_empty());
    // Has a key not held here: drift, not rotated.
    assert!(kinds_for(&plan, "agent:qa").is_empty());
    assert_eq!(plan.drift[0].target, Target::Agent("qa".into()));
    assert_eq!(plan.drift[0].reason, "key not held here");
    // Prefix differs: drift too.
    obs.held = Some(held("product", "agt_p", "convo_zz"));
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(plan.drift.len(), 2);

    // --replace: rotate-key, destructive, forced; warns when connected.
    obs.remote.as_mut().unwrap().agents[1].is_connected = Some(true);
    let opts = PlanOptions {
        replace: vec!["qa".into()],
        ..online()
    };
    let plan = build(&d, &obs, &opts).unwrap();
    let a = action_on(&plan, "agent:qa");
    assert_eq!(a.kind, ActionKind::RotateKey);
    assert!(a.destructive && a.reason.contains("connected"));
    assert!(matches!(a.op, Op::RotateKey { force: true, .. }));
    // --rotate-all rotates every role.
    let opts = PlanOptions {
        rotate_all: true,
        ..online()
    };
    let plan = build(&d, &obs, &opts).unwrap();
    assert_eq!(plan.count(ActionKind::RotateKey), 2);
}

#[test]
fn lock_actor_id_wins_over_display_name() {
    let d = desired();
    let mut obs = with_agents(vec![
        actor("agt_old", "Product Owner", None),
        actor("agt_p2", "Product", None),
        actor("agt_q", "QA", None),
    ]);
    obs.lock = Some(lock_binding(&[("product", "agt_old")]));
    let plan = build(&d, &obs, &online()).unwrap();
    let rename = action_of(&plan, ActionKind::RenameAgent);
    assert!(matches!(&rename.op, Op::Rename { actor_id, .. } if actor_id == "agt_old"));
}

#[test]
fn held_keys_of_other_roles_are_kept() {
    let d = desired();
    let obs = product_keyed_and_held("convo_ab");
    let plan = build(&d, &obs, &online()).unwrap();
    let sources: Vec<(&str, KeySource)> = secrets_spec(&plan)
        .unwrap()
        .roles
        .iter()
        .map(|r| (r.role.as_str(), r.source))
        .collect();
    assert_eq!(
        sources,
        [("product", KeySource::Held), ("qa", KeySource::Issued)]
    );
}

#[test]
fn secrets_blocked_when_moot_dir_is_tracked() {
    let mut obs = obs_with(&[]);
    obs.moot_tracked = true;
    let plan = build(&desired(), &obs, &online()).unwrap();
    assert!(
        plan.blocked
            .iter()
            .any(|b| b.reason.contains("tracked by git"))
    );
    assert_eq!(plan.count(ActionKind::WriteSecrets), 0);
}

#[test]
fn converged_workspace_has_no_changes() {
    let d = desired();
    // Apply the fresh plan's writes to a simulated disk, then plan again.
    let obs0 = obs_with(&[]);
    let plan = build(&d, &obs0, &online()).unwrap();
    let mut files = Vec::new();
    let mut lock_text = String::new();
    for a in &plan.actions {
        if let Op::Write {
            path,
            content,
            mode,
        } = &a.op
        {
            if path == "moot.lock" {
                lock_text = content.clone();
            }
            files.push((path.clone(), file(content.as_bytes(), mode.bits())));
        }
    }
    let mut obs = obs_with(&[]);
    for (p, s) in files {
        obs.files.files.insert(p, s);
    }
    obs.lock = Some(Lock::parse(&lock_text, std::path::Path::new("moot.lock")).unwrap());
    obs.remote = keyed_agents();
    obs.held = Some(both_held_live());
    obs.actors_file_mode = Some(0o600);
    obs.moot_dir_mode = Some(0o700);
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(!plan.has_changes(), "{plan:#?}");
    // And offline, from the lock alone.
    obs.remote = None;
    let plan = build(&d, &obs, &offline()).unwrap();
    assert!(!plan.has_changes(), "{plan:#?}");
}

/// Golden snapshots of the human rendering (no colour), with hashes and the
/// bundle version filtered so a template edit does not churn them.
mod snapshots {
    use super::*;
    use crate::printer::{Styles, human};

    pub(super) fn render(plan: &Plan) -> String {
        human::render_plan(plan, &Styles::plain(), false)
    }

    pub(super) fn settings() -> insta::Settings {
        let mut s = insta::Settings::clone_current();
        s.add_filter(r"[0-9a-f]{64}", "[sha256]");
        s
    }

    #[test]
    fn fresh_workspace() {
        let plan = build(&desired(), &obs_with(&[]), &online()).unwrap();
        settings().bind(|| insta::assert_snapshot!(render(&plan)));
    }

    #[test]
    fn drift_blocked_and_updates() {
        let d = desired();
        let mut obs = obs_with(&[
            (HOOK, file(b"mine\n", 0o755)),
            ("moot.toml", file(b"[convo]\nold = 1\n", 0o644)),
            settings_file(b"{\"hooks\": ["),
            (".gitignore", file(b"target/\n", 0o644)),
        ]);
        obs.lock = Some(lock_with(&[
            (HOOK, b"old\n", 0o755),
            ("moot.toml", b"[convo]\nold = 1\n", 0o644),
        ]));
        obs.remote = remote(vec![actor("agt_p", "Product", Some("convo_ab"))]);
        let plan = build(&d, &obs, &online()).unwrap();
        settings().bind(|| insta::assert_snapshot!(render(&plan)));
    }

    #[test]
    fn no_changes() {
        let plan = crate::plan::Plan::default();
        insta::assert_snapshot!(render(&plan));
    }
}

#[test]
fn renaming_a_role_keeps_its_held_key_under_the_new_runtime_key() {
    let mut d = desired();
    d.roles[1].display_name = "Quality".into();
    d.roles[1].key = "quality".into();
    let mut obs = with_agents(vec![
        actor("agt_p", "Product", None),
        actor("agt_q", "QA", Some("convo_cd")),
    ]);
    obs.held = Some(both_held_live());
    // The role is bound to its agent by moot.lock (its name changed).
    obs.lock = Some(lock_binding(&[("qa", "agt_q")]));
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(
        plan.drift.is_empty() && plan.blocked.is_empty(),
        "{plan:#?}"
    );
    assert_eq!(kinds_for(&plan, "agent:qa"), [ActionKind::RenameAgent]);
    let spec = secrets_spec(&plan).unwrap();
    let qa = spec.roles.iter().find(|r| r.role == "qa").unwrap();
    assert_eq!((qa.key.as_str(), qa.source), ("quality", KeySource::Held));
}

#[test]
fn a_key_file_another_client_wrote_binds_its_agents_without_moot_lock() {
    // No moot.lock (moot never ran here); the agent was renamed on the
    // platform since the other client wrote .moot/actors.json, so only the
    // key file's actor_id ties the role to it.
    let d = desired();
    let mut obs = obs_with(&[]);
    obs.remote = keyed_agents();
    obs.remote.as_mut().unwrap().agents[1].display_name = "QA Bot".into();
    obs.held = Some(both_held_live());
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(
        plan.drift.is_empty() && plan.blocked.is_empty(),
        "{plan:#?}"
    );
    assert_eq!(kinds_for(&plan, "agent:qa"), [ActionKind::RenameAgent]);
    let lock = written(plan.actions.last().unwrap());
    assert!(lock.contains("agt_q"), "{lock}");

    // The entry may be under the role's name rather than moot's runtime
    // key (the other client keyed a display name moot trims: " QA ").
    let mut d = desired();
    d.roles[1].name = "_qa_".into();
    let mut h = obs.held.clone().unwrap();
    let entry = h.roles.shift_remove("qa").unwrap();
    h.roles.insert("_qa_".into(), entry);
    obs.held = Some(h);
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(plan.blocked.is_empty(), "{plan:#?}");
    assert_eq!(kinds_for(&plan, "agent:_qa_"), [ActionKind::RenameAgent]);
}

#[test]
fn a_held_key_that_no_longer_authenticates_is_not_held() {
    let d = desired();
    // Same prefix as the live key (every `convo_key_...` shares it), but the
    // key was rotated elsewhere: GET /me with it answered 401.
    let mut obs = product_keyed_and_held("convo_ke");
    obs.held.as_mut().unwrap().roles[0].live = Some(false);
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(plan.drift.len(), 1);
    assert_eq!(plan.drift[0].target, Target::Agent("product".into()));
    assert_eq!(plan.drift[0].reason, "key not held here");
}

#[test]
fn an_unmanaged_key_file_is_never_written_and_blocks_new_keys() {
    let mut d = desired();
    d.unmanaged.insert(".moot/actors.json".into());
    let plan = build(&d, &obs_with(&[]), &online()).unwrap();
    assert_eq!(plan.count(ActionKind::WriteSecrets), 0);
    assert!(plan.blocked.iter().any(|b| b.reason.contains("unmanaged")));
}

#[test]
fn hooks_off_takes_our_entries_out_of_settings() {
    let mut d = desired();
    let ours = d.settings_hooks.clone();
    d.settings_hooks.clear();
    let merged = crate::plan::settings_merge::merge(Some("{\"a\": 1}"), &ours)
        .unwrap()
        .unwrap();
    let plan = plan_of(&d, &[settings_file(merged.as_bytes())]);
    let a = action_on(&plan, SETTINGS);
    assert_eq!(a.kind, ActionKind::Merge);
    let content = written(a);
    assert!(
        !content.contains("git-guard") && content.contains("\"a\": 1"),
        "{content}"
    );
}

#[test]
fn a_seed_file_no_longer_desired_goes_only_while_it_is_moot_s_text() {
    // AGENTS.md after the last Codex role left: moot wrote it and nobody
    // touched it, so it goes; edited, it is the user's and stays.
    let seed = "AGENTS.md";
    let mut obs = obs_locked(seed, b"# Team\n", b"# Team\n", 0o644);
    obs.lock.as_mut().unwrap().files[0].policy = Policy::Seed;
    let mut d = desired();
    d.renderable.insert(seed.into(), Digest::of(b"# Team\n"));
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(kinds_for(&plan, seed), [ActionKind::Remove]);

    obs.files
        .files
        .insert(seed.into(), file(b"# Team\nmine\n", 0o644));
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(kinds_for(&plan, seed).is_empty());
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("AGENTS.md") && n.contains("edited"))
    );
}

#[test]
fn a_settings_file_holding_only_moot_s_hooks_goes_with_them() {
    let mut d = desired();
    let ours = d.settings_hooks.clone();
    d.settings_hooks.clear();
    let created = crate::plan::settings_merge::merge(None, &ours)
        .unwrap()
        .unwrap();
    let plan = plan_of(&d, &[settings_file(created.as_bytes())]);
    assert_eq!(kinds_for(&plan, SETTINGS), [ActionKind::Remove]);
    // A file with nothing of moot's in it is not touched, even an empty one.
    let plan = plan_of(&d, &[settings_file(b"{}\n")]);
    assert!(kinds_for(&plan, SETTINGS).is_empty());
}

fn with_space(obs: &mut Observed, status: &str) {
    obs.remote.as_mut().unwrap().space = Some(crate::observed::api::Space {
        space_id: "spc_1".into(),
        status: Some(status.into()),
    });
}

#[test]
fn a_missing_agent_is_created_where_the_server_can_and_blocked_where_not() {
    let d = desired();
    let mut obs = with_agents(vec![actor("agt_p", "Product", None)]);
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(plan.blocked[0].target, Target::Agent("qa".into()));
    assert!(kinds_for(&plan, "agent:qa").is_empty());

    with_space(&mut obs, "active");
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(plan.blocked.is_empty(), "{:?}", plan.blocked);
    assert_eq!(kinds_for(&plan, "agent:qa"), [ActionKind::CreateAgent]);
    let secrets = action_of(&plan, ActionKind::WriteSecrets);
    let create = action_of(&plan, ActionKind::CreateAgent);
    assert!(secrets.depends_on.contains(&create.id));

    // An agent named after the role (a creation whose answer was lost) is
    // adopted and named, not created again.
    obs.remote
        .as_mut()
        .unwrap()
        .agents
        .push(actor("agt_lost", "qa", Some("convo_ke")));
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(kinds_for(&plan, "agent:qa"), [ActionKind::RenameAgent]);
}

#[test]
fn a_connected_keyless_agent_gets_its_first_key_forced() {
    let d = desired();
    let mut obs = obs_with(&[]);
    obs.remote.as_mut().unwrap().agents[1].is_connected = Some(true);
    let plan = build(&d, &obs, &online()).unwrap();
    let qa = action_on(&plan, "agent:qa");
    assert_eq!(qa.kind, ActionKind::IssueKey);
    assert!(!qa.destructive);
    assert!(matches!(qa.op, Op::RotateKey { force: true, .. }));
    let product = action_on(&plan, "agent:product");
    assert!(matches!(product.op, Op::RotateKey { force: false, .. }));
}

fn lock_binding(roles: &[(&str, &str)]) -> Lock {
    let mut lock = lock_with(&[]);
    for (r, id) in roles {
        lock.roles.insert(
            r.to_string(),
            LockRole {
                actor_id: id.to_string(),
            },
        );
    }
    lock
}

#[test]
fn prune_deletes_only_agents_bound_to_removed_roles() {
    let d = desired();
    let mut obs = obs_with(&[]);
    obs.remote.as_mut().unwrap().agents.extend([
        actor("agt_old", "Old", Some("convo_ke")),
        actor("agt_stranger", "Stranger", None),
    ]);
    obs.lock = Some(lock_binding(&[
        ("product", "agt_p"),
        ("qa", "agt_q"),
        ("old", "agt_old"),
        ("gone", "agt_deleted_meanwhile"),
    ]));
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(plan.count(ActionKind::DeleteAgent), 0);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("`old`") && n.contains("agt_old") && n.contains("--prune")),
        "{:?}",
        plan.notes
    );
    let opts = PlanOptions {
        prune: true,
        ..online()
    };
    let plan = build(&d, &obs, &opts).unwrap();
    let deletes: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::DeleteAgent)
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].target, Target::Agent("old".into()));
    assert!(deletes[0].destructive);
    assert!(matches!(&deletes[0].op, Op::DeleteAgent { actor_id, .. } if actor_id == "agt_old"));
}

#[test]
fn display_names_the_api_refuses_block_the_plan() {
    let mut d = desired();
    d.roles[1].display_name = "Q".repeat(501);
    let obs = obs_with(&[]);
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(plan.blocked.len(), 1);
    assert!(plan.blocked[0].reason.contains("at most 500"));
    assert!(plan.count(ActionKind::RenameAgent) == 0);

    d.roles[1].display_name = "Q\u{7}A".into();
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(plan.blocked[0].reason.contains("control character"));
    assert!(plan.blocked[0].hint.as_deref().unwrap().contains("`qa`"));
}

#[test]
fn an_inactive_space_blocks() {
    let d = desired();
    let mut obs = obs_with(&[]);
    with_space(&mut obs, "archived");
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(plan.blocked.iter().any(|b| b.reason.contains("archived")));
    with_space(&mut obs, "active");
    assert!(build(&d, &obs, &online()).unwrap().blocked.is_empty());
}

#[test]
fn pending_tickets_are_redeemed_not_reissued() {
    use super::planner::PendingInfo;
    let d = desired();
    let mut obs = with_agents(vec![
        actor("agt_p", "Product", Some("convo_ke")),
        actor("agt_q", "QA", Some("convo_ke")),
    ]);
    obs.pending = vec![
        PendingInfo {
            role: "product".into(),
            actor_id: "agt_p".into(),
            live: true,
        },
        PendingInfo {
            role: "qa".into(),
            actor_id: "agt_q".into(),
            live: false,
        },
    ];
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(kinds_for(&plan, "agent:product").is_empty());
    let spec = secrets_spec(&plan).unwrap();
    assert_eq!(spec.roles.len(), 1);
    assert_eq!(spec.roles[0].source, KeySource::Issued);
    let qa = plan
        .drift
        .iter()
        .find(|f| f.target == Target::Agent("qa".into()))
        .unwrap();
    assert!(qa.hint.as_deref().unwrap().contains("--replace qa"));

    // Offline (moot check): both are drift.
    let plan = build(&d, &obs, &offline()).unwrap();
    assert_eq!(plan.drift.len(), 2);
}

#[test]
fn create_and_delete_agents_snapshot() {
    let d = desired();
    let mut obs = with_agents(vec![
        actor("agt_p", "Product", None),
        actor("agt_old", "Old", Some("convo_ke")),
    ]);
    with_space(&mut obs, "active");
    obs.lock = Some(lock_binding(&[("product", "agt_p"), ("old", "agt_old")]));
    let opts = PlanOptions {
        prune: true,
        ..online()
    };
    let plan = build(&d, &obs, &opts).unwrap();
    snapshots::settings().bind(|| insta::assert_snapshot!(snapshots::render(&plan)));
}

/// Both agents keyed, both keys held here, moot.lock binding these roles.
fn keyed_and_bound(bindings: &[(&str, &str)]) -> Observed {
    Observed {
        held: Some(both_held_live()),
        lock: Some(lock_binding(bindings)),
        remote: keyed_agents(),
        ..obs_with(&[])
    }
}

fn role(name: &str, display: &str) -> DesiredRole {
    DesiredRole {
        name: name.into(),
        key: display.to_lowercase(),
        display_name: display.into(),
    }
}

fn secrets_spec(plan: &crate::plan::Plan) -> Option<&crate::plan::action::SecretsSpec> {
    plan.actions.iter().find_map(|a| match &a.op {
        Op::WriteSecrets(spec) => Some(spec),
        _ => None,
    })
}

fn new_lock(plan: &crate::plan::Plan) -> Option<Lock> {
    plan.actions.iter().find_map(|a| match &a.op {
        Op::Write { path, content, .. } if path == "moot.lock" => {
            Some(Lock::parse(content, std::path::Path::new("moot.lock")).unwrap())
        }
        _ => None,
    })
}

fn both_held_live() -> HeldKeys {
    let mut h = held("product", "agt_p", "convo_ab");
    let mut qa = h.roles["product"].clone();
    qa.actor_id = "agt_q".into();
    qa.display_name = "QA".into();
    qa.prefix = "convo_cd".into();
    h.roles.insert("qa".into(), qa);
    for k in h.roles.values_mut() {
        k.live = Some(true);
    }
    h
}

fn keyed_agents() -> Option<RemoteState> {
    remote(vec![
        actor("agt_p", "Product", Some("convo_ab")),
        actor("agt_q", "QA", Some("convo_cd")),
    ])
}

#[test]
fn a_renamed_role_and_a_new_role_taking_its_old_name_never_share_an_agent() {
    // qa is renamed QA -> Tester and, in the same edit, a role named QA is
    // added: the agent called QA is qa's (moot.lock), so it is not free.
    let mut d = desired();
    d.roles = vec![
        role("product", "Product"),
        role("qa", "Tester"),
        role("checker", "QA"),
    ];
    let obs = keyed_and_bound(&[("product", "agt_p"), ("qa", "agt_q")]);
    let plan = build(&d, &obs, &online()).unwrap();
    let renames: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::RenameAgent)
        .map(|a| a.target.to_string())
        .collect();
    assert_eq!(renames, ["agent:qa"]);
    let blocked: Vec<_> = plan
        .blocked
        .iter()
        .filter(|b| b.target == Target::Agent("checker".into()))
        .collect();
    assert_eq!(blocked.len(), 1, "{:?}", plan.blocked);
    let why = &blocked[0].reason;
    for word in ["agt_q", "`qa`", "`checker`", "Tester"] {
        assert!(why.contains(word), "{word} in {why}");
    }
    let spec = secrets_spec(&plan);
    assert!(spec.is_none_or(|s| s.roles.iter().all(|r| r.role != "checker")));
}

#[test]
fn a_lock_binding_two_roles_to_one_agent_is_blocked_online_and_offline() {
    let d = desired();
    let obs = keyed_and_bound(&[("product", "agt_p"), ("qa", "agt_p")]);
    for opts in [online(), offline()] {
        let plan = build(&d, &obs, &opts).unwrap();
        assert_eq!(plan.blocked.len(), 1, "{:?}", plan.blocked);
        let why = &plan.blocked[0].reason;
        for word in ["`product`", "`qa`", "agt_p"] {
            assert!(why.contains(word), "{word} in {why}");
        }
        assert!(plan.actions.iter().all(|a| !a.kind.is_remote()));
    }
}

#[test]
fn a_removed_role_is_retired_with_its_binding_and_key_kept_aside() {
    let mut d = desired();
    d.roles.retain(|r| r.name == "product");
    let obs = keyed_and_bound(&[("product", "agt_p"), ("qa", "agt_q")]);
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(plan.drift.is_empty() && plan.blocked.is_empty());
    assert!(plan.notes.iter().any(|n| n.contains("`qa` is retired")));
    let spec = secrets_spec(&plan).expect("the key file changes");
    let roles: Vec<_> = spec.roles.iter().map(|r| r.role.as_str()).collect();
    assert_eq!(roles, ["product"]);
    let retired: Vec<_> = spec
        .retired
        .iter()
        .map(|r| (r.role.as_str(), r.actor_id.as_str(), r.source))
        .collect();
    assert_eq!(retired, [("qa", "agt_q", KeySource::Held)]);
    let lock = new_lock(&plan).unwrap();
    assert_eq!(lock.roles.keys().collect::<Vec<_>>(), ["product"]);
    let bindings = lock.retired_bindings();
    assert_eq!(bindings.len(), 1);
    assert_eq!(
        (
            bindings[0].role,
            bindings[0].actor_id,
            bindings[0].display_name
        ),
        ("qa", "agt_q", Some("QA"))
    );
    assert!(plan.actions.iter().all(|a| !a.kind.is_remote()));
}

#[test]
fn a_retired_role_put_back_gets_its_agent_and_kept_key_without_a_new_key() {
    let d = desired();
    let mut obs = obs_with(&[]);
    obs.remote = keyed_agents();
    let mut held_now = both_held_live();
    let kept = held_now.roles.shift_remove("qa").unwrap();
    obs.held = Some(held_now);
    let mut retired = held("qa", "agt_q", "convo_cd");
    retired.roles.insert("qa".into(), kept);
    obs.retired_keys = Some(retired);
    let mut lock = lock_binding(&[("product", "agt_p")]);
    lock.retired.insert(
        "qa".into(),
        crate::observed::lockfile::RetiredRole {
            actor_id: "agt_q".into(),
            display_name: Some("QA".into()),
        },
    );
    obs.lock = Some(lock);
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(plan.drift.is_empty(), "{:?}", plan.drift);
    assert!(plan.actions.iter().all(|a| !a.kind.is_remote()));
    let spec = secrets_spec(&plan).unwrap();
    let qa = spec.roles.iter().find(|r| r.role == "qa").unwrap();
    assert_eq!(
        (qa.actor_id.as_str(), qa.source),
        ("agt_q", KeySource::Held)
    );
    assert!(spec.retired.is_empty());
    let lock = new_lock(&plan).unwrap();
    assert_eq!(lock.roles["qa"].actor_id, "agt_q");
    assert!(lock.retired.is_empty());

    // A retired key that no longer authenticates is not restored.
    obs.retired_keys.as_mut().unwrap().roles["qa"].live = Some(false);
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(plan.drift[0].reason, "key not held here");
}

#[test]
fn offline_a_removed_role_stays_in_moot_lock_as_retired() {
    let mut d = desired();
    d.roles.retain(|r| r.name == "product");
    let obs = Observed {
        remote: None,
        lock: Some(lock_binding(&[("product", "agt_p"), ("qa", "agt_q")])),
        ..obs_with(&[])
    };
    let opts = offline();
    let plan = build(&d, &obs, &opts).unwrap();
    assert!(plan.drift.is_empty());
    assert!(plan.notes.iter().any(|n| n.contains("`qa` is retired")));
    let lock = new_lock(&plan).unwrap();
    assert_eq!(lock.retired["qa"].actor_id, "agt_q");
    // Put back offline: bound again from the retired entry.
    let mut obs2 = obs.clone();
    obs2.lock = Some(lock);
    let plan = build(&desired(), &obs2, &opts).unwrap();
    let lock = new_lock(&plan).unwrap();
    assert_eq!(lock.roles["qa"].actor_id, "agt_q");
    assert!(lock.retired.is_empty());
}

#[test]
fn an_unmanaged_directory_covers_everything_under_it() {
    let mut d = desired();
    d.unmanaged.insert(".claude/hooks".into());
    let obs = obs_with(&[(HOOK, file(b"mine", 0o600))]);
    let plan = build(&d, &obs, &online()).unwrap();
    assert!(kinds_for(&plan, HOOK).is_empty(), "{:?}", plan.actions);
    assert!(plan.drift.is_empty());
    // Absent, it is not created either; a sibling name is not covered.
    let plan = build(&d, &obs_with(&[]), &online()).unwrap();
    assert!(kinds_for(&plan, HOOK).is_empty());
    let mut d = desired();
    d.unmanaged.insert(".claude/hoo".into());
    let plan = build(&d, &obs_with(&[]), &online()).unwrap();
    assert_eq!(kinds_for(&plan, HOOK), [ActionKind::Create]);
}

#[test]
fn suggestions_that_no_longer_serve_are_removed() {
    let mut d = desired();
    d.unmanaged.insert("moot.toml".into());
    let gone = suggested_path(".claude/skills/gone/SKILL.md");
    let obs = obs_with(&[
        ("moot.toml", file(b"mine", 0o644)),
        (&suggested_path("moot.toml"), file(b"[convo]\n", 0o644)),
        (&gone, file(b"old", 0o644)),
        (
            &suggested_path(HOOK),
            file(b"#!/bin/sh\necho guard\n", 0o755),
        ),
        (HOOK, file(b"mine", 0o755)),
    ]);
    let plan = build(&d, &obs, &online()).unwrap();
    assert_eq!(
        kinds_for(&plan, &suggested_path("moot.toml")),
        [ActionKind::Remove]
    );
    assert_eq!(kinds_for(&plan, &gone), [ActionKind::Remove]);
    // Still awaiting review: kept.
    assert!(kinds_for(&plan, &suggested_path(HOOK)).is_empty());
}

#[test]
fn a_moot_written_file_unmanaged_and_back_is_updated_not_drift() {
    let old = b"[convo]\nold\n";
    let mut obs = obs_locked("moot.toml", old, old, 0o644);
    let mut d = desired();
    d.unmanaged.insert("moot.toml".into());
    let plan = build(&d, &obs, &online()).unwrap();
    let lock = new_lock(&plan).unwrap();
    assert!(lock.file("moot.toml").is_some(), "the entry is kept");
    // Managed again, with other content desired: the untouched file is
    // updated, not reported as drift.
    obs.lock = Some(lock);
    let plan = build(&desired(), &obs, &online()).unwrap();
    assert_eq!(kinds_for(&plan, "moot.toml"), [ActionKind::Update]);
    assert!(plan.drift.is_empty());
}

#[test]
fn offline_drift_does_not_point_at_a_staged_copy() {
    let mine = [(HOOK, file(b"mine", 0o755))];
    let plan = offline_plan_of(&desired(), &mine);
    let hint = plan.drift[0].hint.as_deref().unwrap();
    assert!(!hint.contains(&suggested_path(HOOK)), "{hint}");
    assert!(!hint.contains("stages its own"), "{hint}");
    let plan = plan_of(&desired(), &mine);
    let hint = plan.drift[0].hint.as_deref().unwrap();
    assert!(hint.contains(&suggested_path(HOOK)), "{hint}");
}
