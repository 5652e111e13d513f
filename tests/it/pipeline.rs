//! How the key pipeline starts: a rotation kills the agent's key at its
//! mint, so rotations start one at a time and a plan whose first mint fails
//! has killed one key at most; first keys kill none, so they start together.

use crate::support::{LOOP4, TestEnv, text};

/// The rotate-key calls the sandbox has seen.
fn rotations(env: &TestEnv) -> usize {
    env.sandbox()
        .requests()
        .iter()
        .filter(|r| r.contains("/rotate-key"))
        .count()
}

#[test]
fn a_rotation_that_fails_at_its_mint_stops_the_others_before_theirs() {
    let env = TestEnv::loop4();
    let out = env.moot(&["apply", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let held = env.held_keys();
    assert_eq!(held.len(), 4);
    // The first rotation in team order fails with a 500, before any key dies.
    env.sandbox().set_fail_rotate(LOOP4[0], true);
    let before = rotations(&env);

    let out = env.moot(&["apply", "--yes", "--rotate-all", "--concurrency", "4"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        rotations(&env) - before,
        1,
        "no other agent's key may die after the first mint failed: {}",
        text(&out)
    );
    assert_eq!(env.held_keys(), held, "a failed rotation persists nothing");
    assert_eq!(env.live_keys(), held, "every other agent keeps its key");
}

#[test]
fn first_keys_do_not_wait_for_one_another() {
    // Four keyless agents, --concurrency 4: the four first-keys go out
    // together. A slow start would send the fourth only after two
    // exchanges (one ticket, then two, then the window allows a fourth).
    let env = TestEnv::loop4();
    let out = env.moot(&["apply", "--yes", "--concurrency", "4"]);
    assert!(out.status.success(), "{}", text(&out));
    let requests = env.sandbox().requests();
    let last_first_key = requests
        .iter()
        .rposition(|r| r.contains("/first-key"))
        .expect("first-key calls");
    let exchanges_before_last_first_key = requests[..last_first_key]
        .iter()
        .filter(|r| r.contains("/exchange"))
        .count();
    assert!(
        exchanges_before_last_first_key < 2,
        "first keys were minted one exchange at a time: {requests:#?}"
    );
    assert_eq!(env.held_keys(), env.live_keys());
}
