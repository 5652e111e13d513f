//! Kill-and-recover: 50 applies against the sandbox, each SIGKILLed at a
//! pseudo-random moment (a fixed-seed LCG over the length of an
//! uninterrupted apply), each followed by `moot plan --offline`, which
//! repairs what the kill left. The workspace must then be either exactly as
//! before the apply or converged, never a mix, with no staging litter, and
//! no token or key outside `.moot/actors.json`.

use crate::support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use moot_sandbox::SandboxConfig;
use support::{LOOP4, Secrets, TestEnv, Tree, staging_litter, text, tree, tree_diff};

const ITERATIONS: u64 = 50;

/// Numerical Recipes' LCG: deterministic, no rand crate needed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

struct World {
    env: TestEnv,
    before: Tree,
}

impl std::ops::Deref for World {
    type Target = TestEnv;
    fn deref(&self) -> &TestEnv {
        &self.env
    }
}

impl World {
    fn new() -> World {
        let mut cfg = SandboxConfig::with_agents(LOOP4);
        cfg.latency = Duration::from_millis(4);
        let env = TestEnv::sandboxed(cfg);
        let before = tree(env.root());
        World { env, before }
    }

    fn apply_process(&self) -> Command {
        let mut c = self.std_cmd(&["apply", "--yes", "--concurrency", "1"]);
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn secrets(&self) -> Secrets {
        let mut s = Secrets::new([self.sandbox().token()]);
        for k in self.live_keys().into_iter().chain(self.held_keys()) {
            s.push(k);
        }
        s
    }
}

/// How the killed apply ended up, once repaired.
#[derive(Debug, Default)]
struct Tally {
    before: u32,
    converged: u32,
    /// Killed with a minted ticket pending, redeemed by the next apply.
    redeemed: u32,
    finished: u32,
}

#[test]
fn applies_killed_at_random_moments_leave_before_or_converged() {
    // One uninterrupted apply gives the window to kill in.
    let w = World::new();
    let t0 = Instant::now();
    let out = w.apply_process().output().unwrap();
    let full = t0.elapsed();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(w.held_keys().len(), 4);
    let window_us = full.as_micros().max(1) as u64;

    let mut rng = Lcg(0x5eed_2026);
    let mut tally = Tally::default();
    for i in 0..ITERATIONS {
        let w = World::new();
        let delay = Duration::from_micros(rng.next() % window_us);
        let child = w.apply_process().spawn().unwrap();
        std::thread::sleep(delay);
        // SAFETY: kill(2) on our own child's pid, which we have not reaped.
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
        assert_eq!(rc, 0, "i={i}: kill failed");
        let killed = child.wait_with_output().unwrap();
        let label = format!("i={i} delay={delay:?}");
        if killed.status.success() {
            tally.finished += 1;
        }
        let secrets = w.secrets();
        secrets.assert_output_clean(&label, &killed);

        let plan = w.moot(&["apply", "--offline"]);
        support::assert_repair_only(&label, &plan);
        secrets.assert_output_clean(&label, &plan);
        let after = tree(w.root());
        if w.root().join(".moot/pending-tickets.json").exists() {
            // Killed between minting a ticket and storing its key: the
            // next online apply redeems it (a key already exchanged but not
            // yet stored is gone, as any key in memory is at a crash).
            let again = w.moot(&["apply", "--yes"]);
            assert!(again.status.success(), "{label}: {}", text(&again));
            secrets.assert_output_clean(&label, &again);
            assert!(
                !w.root().join(".moot/pending-tickets.json").exists(),
                "{label}: tickets left after redeeming"
            );
            tally.redeemed += 1;
        } else if after != w.before {
            let check = w.moot(&["check"]);
            assert_eq!(
                check.status.code(),
                Some(0),
                "{label}: neither before nor converged: {:?}\n{}",
                tree_diff(&w.before, &after),
                text(&check)
            );
            secrets.assert_output_clean(&label, &check);
            let held = w.held_keys();
            assert_eq!(held.len(), 4, "{label}: converged without 4 keys");
            assert_eq!(held, w.live_keys(), "{label}: held keys are not live");
            tally.converged += 1;
        } else {
            tally.before += 1;
        }
        if String::from_utf8_lossy(&plan.stderr).contains("rolled back") {
            let mut after = after.clone();
            after.remove(std::path::Path::new(".moot/pending-tickets.json"));
            assert_eq!(after, w.before, "{label}: rolled back, not to before");
        }
        let litter = staging_litter(w.root());
        assert!(litter.is_empty(), "{label}: staging litter {litter:?}");
        w.secrets().assert_workspace_clean(&label, w.root());
    }
    eprintln!("window {full:?}: {tally:?}");
    assert_eq!(
        tally.before + tally.converged + tally.redeemed,
        ITERATIONS as u32,
        "{tally:?}"
    );
}
