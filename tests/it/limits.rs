//! Today's platform end to end, against the in-process moot-sandbox over
//! real HTTP: keys through rate-limited ticket exchanges with a short
//! ticket lifetime, agents created and named, retired agents pruned. The
//! time an apply takes is printed, never asserted.

use std::path::Path;
use std::time::{Duration, Instant};

use moot_sandbox::{ExchangeRate, SandboxConfig};
use serde_json::Value;

use crate::support::TestEnv;

const LOOP6: [&str; 6] = [
    "Product",
    "Leader",
    "Spec",
    "Implementation",
    "QA",
    "Librarian",
];

/// The sandbox's tickets live 2.5 s; the platform does not say how long,
/// so moot is told for the test.
fn run_on(cfg: SandboxConfig) -> TestEnv {
    TestEnv::bare(cfg).var("MOOT_TEST_TICKET_LIFETIME", "2.5")
}

fn held_key(ws: &Path, display_name: &str) -> Option<String> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join(".moot/actors.json")).ok()?).ok()?;
    v["actors"]
        .as_object()?
        .values()
        .find(|a| a["display_name"] == display_name)
        .and_then(|a| a["api_key"].as_str())
        .map(str::to_string)
}

/// A team.toml of these roles, display names in title case (`qa` -> QA).
fn team(roles: &[&str]) -> String {
    let mut t = String::from("toml_schema_version = \"1\"\n\n[team]\nname = \"limits\"\n");
    for r in roles {
        let shown = match *r {
            "qa" => "QA".to_string(),
            other => format!("{}{}", other[..1].to_uppercase(), &other[1..]),
        };
        t.push_str(&format!(
            "\n[[roles]]\nname = \"{r}\"\ndisplay_name = \"{shown}\"\n"
        ));
    }
    t
}

fn one_per_second(agents: &[&str]) -> SandboxConfig {
    let mut cfg = SandboxConfig::with_agents(agents.iter().copied());
    cfg.exchange_rate = Some(ExchangeRate {
        per_second: 1.0,
        burst: 1,
    });
    cfg.ticket_ttl = Duration::from_millis(2500);
    cfg
}

/// A loop-6 team from six keyless agents at `--concurrency 16`, under a
/// one-exchange-per-second limit with tickets that die after 2.5 s: every
/// role ends with a live key, each agent got exactly one key, no ticket
/// expired, and a second apply sends nothing that changes state.
#[test]
fn loop6_from_keyless_agents_under_the_exchange_limit() {
    let run = run_on(one_per_second(&LOOP6));
    run.ok(&["init", "--template", "loop-6"]);
    let started = Instant::now();
    let said = run.ok(&["apply", "--yes", "--concurrency", "16"]);
    let took = started.elapsed();
    eprintln!(
        "loop-6 under 1 exchange/s: {:.2} s (floor: 5 s between 6 exchanges)",
        took.as_secs_f64()
    );
    assert!(
        said.contains("the server limits key exchanges"),
        "the wait is not said: {said}"
    );
    for name in LOOP6 {
        assert_eq!(run.sandbox().keys_issued(name), 1, "{name}");
        assert_eq!(
            held_key(run.root(), name),
            run.sandbox().live_key(name),
            "{name}"
        );
        assert!(held_key(run.root(), name).is_some(), "{name}");
    }
    assert_eq!(run.sandbox().tickets_expired(), 0);
    assert!(run.sandbox().rate_limited() > 0, "the limit never bit");

    let calls = run.sandbox().mutating_calls();
    run.ok(&["apply", "--yes"]);
    assert_eq!(
        run.sandbox().mutating_calls(),
        calls,
        "second apply mutated"
    );
    assert_eq!(run.moot(&["check"]).status.code(), Some(0));
}

/// A missing agent is created, named and keyed; a removed role's agent is
/// retired, then deleted by `--prune`; an agent of the same name that
/// moot never bound survives.
#[test]
fn create_name_key_then_prune_only_what_moot_bound() {
    let run = run_on(one_per_second(&["Product", "Spec", "Implementation"]));
    let team_path = run.ws.path().join("team.toml");
    std::fs::write(
        &team_path,
        team(&["product", "spec", "implementation", "qa"]),
    )
    .unwrap();
    let plan = run.moot(&["plan"]);
    run.snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "plan_with_a_missing_agent",
            crate::support::transcript_without_diffs(&plan)
        );
    });
    run.ok(&["apply", "--yes"]);
    let qa = run.sandbox().agent("QA").expect("QA was created and named");
    assert_eq!(run.sandbox().keys_issued(&qa.actor_id), 1);
    assert_eq!(held_key(run.root(), "QA"), run.sandbox().live_key("QA"));
    let calls = run.sandbox().mutating_calls();
    run.ok(&["apply", "--yes"]);
    assert_eq!(
        run.sandbox().mutating_calls(),
        calls,
        "second apply mutated"
    );

    // qa leaves team.toml: retired, its agent kept.
    std::fs::write(&team_path, team(&["product", "spec", "implementation"])).unwrap();
    let said = run.ok(&["apply", "--yes"]);
    assert!(said.contains("retired"), "{said}");
    assert!(run.sandbox().agent(&qa.actor_id).is_some());

    // Someone adds an agent called QA by hand: moot never bound it.
    let stranger = run.sandbox().add_agent("QA");
    run.ok(&["apply", "--yes", "--prune"]);
    assert!(
        run.sandbox().agent(&qa.actor_id).is_none(),
        "bound agent kept"
    );
    assert!(
        run.sandbox().agent(&stranger.actor_id).is_some(),
        "an agent moot never bound was deleted"
    );
    assert_eq!(run.moot(&["check"]).status.code(), Some(0));
}
