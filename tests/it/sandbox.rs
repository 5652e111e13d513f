//! The real `moot-sandbox` binary over HTTP: start it, read its URL from the
//! first stdout line, exercise the rules, stop it with SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use moot::observed::api::{ApiClient, ApiError, ClientOptions};
use moot::secret::Secret;

const PAT: &str = "mootup_pat_sandbox";

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("moot-sandbox"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn moot-sandbox");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "first line: {url:?}");
        Server { child, url }
    }

    fn client(&self, token: &str) -> ApiClient {
        let opts = ClientOptions {
            retries: 0,
            ..ClientOptions::BUILTIN
        };
        ApiClient::new(&self.url, Some(Secret::new(token)), opts).unwrap()
    }

    /// SIGTERM, then the exit status (within 5 s).
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id() as libc::pid_t;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "moot-sandbox ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn rotation_invalidates_the_old_key_and_the_new_one_works() {
    let server = Server::start(&[]);
    let rt = rt();
    let human = server.client(PAT);
    let (me, agents) = rt.block_on(human.me_and_agents()).unwrap();
    assert_eq!(me.actor_type, "human");
    assert!(me.default_space_id.is_some());
    let names: Vec<_> = agents.iter().map(|a| a.display_name.as_str()).collect();
    assert_eq!(names, ["Product", "Spec", "Implementation", "QA"]);
    assert!(agents.iter().all(|a| a.api_key_prefix.is_none()), "keyless");

    let product = &agents[0];
    let first = rt
        .block_on(human.rotate_key(&product.actor_id, false))
        .unwrap();
    assert!(first.api_key.expose().starts_with("convo_key_"));
    assert_eq!(
        first.api_key_prefix.as_deref(),
        Some(first.api_key.prefix())
    );
    let as_agent = server.client(first.api_key.expose());
    let agent_me = rt.block_on(as_agent.me()).unwrap();
    assert_eq!(agent_me.actor_id, product.actor_id);
    assert_eq!(
        agent_me.api_key_prefix.as_deref(),
        Some(first.api_key.prefix())
    );

    // An agent key may not list agents.
    let err = rt.block_on(as_agent.my_agents()).unwrap_err();
    assert!(matches!(err, ApiError::Forbidden { .. }), "{err:?}");
    assert!(err.hint().unwrap().contains("agent key"));

    let second = rt
        .block_on(human.rotate_key(&product.actor_id, false))
        .unwrap();
    assert_ne!(first.api_key, second.api_key);
    let err = rt.block_on(as_agent.me()).unwrap_err();
    assert!(
        matches!(err, ApiError::Unauthorized { .. }),
        "old key: {err:?}"
    );
    let again = rt
        .block_on(server.client(second.api_key.expose()).me())
        .unwrap();
    assert_eq!(again.display_name, "Product");

    // Unknown ids and unknown tokens.
    let err = rt
        .block_on(human.rotate_key("agt_nope", false))
        .unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }), "{err:?}");
    let err = rt
        .block_on(
            server
                .client("mootup_pat_bogus")
                .rotate_key(&product.actor_id, false),
        )
        .unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");

    // Rename, health, and no GET on spaces.
    let renamed = rt
        .block_on(human.rename(&agents[1].actor_id, "Specs"))
        .unwrap();
    assert_eq!(renamed.display_name, "Specs");
    rt.block_on(human.health()).unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(format!(
                "{}/api/spaces/{}",
                server.url,
                me.default_space_id.unwrap()
            ))
            .bearer_auth(PAT)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status.as_u16(), 404);

    assert!(server.terminate().success());
}

#[test]
fn a_connected_agent_needs_force() {
    let server = Server::start(&["--agents", "Product,QA", "--connected", "qa"]);
    let rt = rt();
    let human = server.client(PAT);
    let agents = rt.block_on(human.my_agents()).unwrap();
    let qa = agents.iter().find(|a| a.display_name == "QA").unwrap();
    assert_eq!(qa.is_connected, Some(true));
    let err = rt
        .block_on(human.rotate_key(&qa.actor_id, false))
        .unwrap_err();
    assert!(matches!(err, ApiError::Conflict { .. }), "{err:?}");
    let key = rt.block_on(human.rotate_key(&qa.actor_id, true)).unwrap();
    assert!(!key.api_key.is_empty());
    assert!(server.terminate().success());
}

#[test]
fn fail_rotate_answers_500_and_changes_nothing() {
    let server = Server::start(&["--fail-rotate", "SPEC"]);
    let rt = rt();
    let human = server.client(PAT);
    let agents = rt.block_on(human.my_agents()).unwrap();
    let spec = agents.iter().find(|a| a.display_name == "Spec").unwrap();
    let err = rt
        .block_on(human.rotate_key(&spec.actor_id, false))
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Server { status: 500, .. }),
        "{err:?}"
    );
    let after = rt.block_on(human.my_agents()).unwrap();
    let spec_after = after.iter().find(|a| a.display_name == "Spec").unwrap();
    assert_eq!(spec_after.api_key_prefix, None);
    assert_eq!(spec_after.updated_at, spec.updated_at);
    // Others rotate fine.
    rt.block_on(human.rotate_key(&agents[0].actor_id, false))
        .unwrap();
    assert!(server.terminate().success());
}

#[test]
fn ticket_mode_answers_with_a_ticket_the_client_exchanges_once() {
    let server = Server::start(&["--ticket-mode", "-v"]);
    let rt = rt();
    let human = server.client(PAT);
    let agents = rt.block_on(human.my_agents()).unwrap();
    let key = rt
        .block_on(human.rotate_key(&agents[0].actor_id, false))
        .unwrap();
    assert!(key.api_key.expose().starts_with("convo_key_"));
    let me = rt
        .block_on(server.client(key.api_key.expose()).me())
        .unwrap();
    assert_eq!(me.actor_id, agents[0].actor_id);

    // The raw answer carries a ticket and no key; a ticket works once.
    let raw: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!(
                "{}/api/actors/{}/rotate-key",
                server.url, agents[1].actor_id
            ))
            .bearer_auth(PAT)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert!(raw.get("api_key").is_none(), "{raw}");
    let ticket = raw["registration_ticket_id"].as_str().unwrap().to_string();
    let anon = ApiClient::new(&server.url, None, ClientOptions::BUILTIN).unwrap();
    rt.block_on(anon.exchange_ticket(&ticket)).unwrap();
    let err = rt.block_on(anon.exchange_ticket(&ticket)).unwrap_err();
    assert!(matches!(err, ApiError::TicketUsed { .. }), "{err:?}");

    let mut server = server;
    let stderr = server.child.stderr.take().unwrap();
    let status = server.terminate();
    assert!(status.success());
    let log = std::io::read_to_string(stderr).unwrap();
    assert!(
        log.contains("POST /api/registration-tickets/(ticket)/exchange -> 409"),
        "{log}"
    );
    assert!(
        !log.contains(&ticket) && !log.contains("convo_key_") && !log.contains(PAT),
        "{log}"
    );
}

#[test]
fn agent_count_generates_agents_and_bad_flags_fail() {
    let server = Server::start(&["--agent-count", "25", "--token", "mootup_pat_other"]);
    let rt = rt();
    let agents = rt
        .block_on(server.client("mootup_pat_other").my_agents())
        .unwrap();
    assert_eq!(agents.len(), 25);
    assert_eq!(agents[24].display_name, "Agent 25");
    assert!(server.terminate().success());

    let out = Command::new(assert_cmd::cargo::cargo_bin("moot-sandbox"))
        .args(["--connected", "Nobody"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no URL when it cannot start");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Nobody"));
}

#[test]
fn help_says_it_is_not_a_production_server() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("moot-sandbox"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT a production server"));
}

#[test]
fn the_in_process_handle_exposes_state() {
    let sb =
        moot::sandbox::Sandbox::start(moot::sandbox::SandboxConfig::with_agents(["Product", "QA"]));
    let rt = rt();
    let human = ApiClient::new(
        sb.url(),
        Some(Secret::new(sb.token())),
        ClientOptions::BUILTIN,
    )
    .unwrap();
    let qa = sb.agent("qa").unwrap();
    assert_eq!(sb.rotation_count(), 0);
    let key = rt.block_on(human.rotate_key(&qa.actor_id, false)).unwrap();
    assert_eq!(sb.rotation_count(), 1);
    assert_eq!(sb.live_key("QA").as_deref(), Some(key.api_key.expose()));
    sb.set_connected("QA", true);
    let err = rt
        .block_on(human.rotate_key(&qa.actor_id, false))
        .unwrap_err();
    assert!(matches!(err, ApiError::Conflict { .. }));
    sb.set_fail_rotate("Product", true);
    let product = sb.agent("Product").unwrap();
    let err = rt
        .block_on(human.rotate_key(&product.actor_id, false))
        .unwrap_err();
    assert!(matches!(err, ApiError::Server { .. }));
    let librarian = sb.add_agent("Librarian");
    assert_eq!(librarian.api_key_prefix, None);
    let agents = rt.block_on(human.my_agents()).unwrap();
    assert!(agents.iter().any(|a| a.actor_id == librarian.actor_id));
    sb.stop();
}

#[test]
fn an_expired_ticket_answers_410() {
    let mut cfg = moot::sandbox::SandboxConfig::with_agents(["Product"]);
    cfg.ticket_mode = true;
    cfg.ticket_ttl = Duration::ZERO;
    let sb = moot::sandbox::Sandbox::start(cfg);
    let human = ApiClient::new(
        sb.url(),
        Some(Secret::new(sb.token())),
        ClientOptions::BUILTIN,
    )
    .unwrap();
    let product = sb.agent("product").unwrap();
    let err = rt()
        .block_on(human.rotate_key(&product.actor_id, false))
        .unwrap_err();
    assert!(matches!(err, ApiError::TicketExpired { .. }), "{err:?}");
    assert!(err.to_string().contains("410"));
    // The rotation did happen: the old key (none) is gone, a new one is live.
    assert!(sb.live_key("Product").is_some());
}
