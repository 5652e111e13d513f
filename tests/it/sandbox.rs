//! moot's API client against the in-process moot-sandbox: the rules the
//! client relies on (keys invalidated at once, tickets used once, 401/403/404
//! and 409), over real HTTP. The sandbox binary's flags and process behaviour
//! are tested in its own package (`crates/moot-sandbox/tests`).

use std::time::Duration;

use moot::observed::api::{ApiClient, ApiError, ClientOptions};
use moot::secret::Secret;
use moot_sandbox::{Sandbox, SandboxConfig};

const PAT: &str = "mootup_pat_sandbox";

fn client(sb: &Sandbox, token: &str) -> ApiClient {
    let opts = ClientOptions {
        retries: 0,
        ..ClientOptions::BUILTIN
    };
    ApiClient::new(sb.url(), Some(Secret::new(token)), opts).unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn rotation_invalidates_the_old_key_and_the_new_one_works() {
    let server = Sandbox::start(SandboxConfig::default());
    let rt = rt();
    let human = client(&server, PAT);
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
    let as_agent = client(&server, first.api_key.expose());
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
        .block_on(client(&server, second.api_key.expose()).me())
        .unwrap();
    assert_eq!(again.display_name, "Product");

    // Unknown ids and unknown tokens.
    let err = rt
        .block_on(human.rotate_key("agt_nope", false))
        .unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }), "{err:?}");
    let err = rt
        .block_on(client(&server, "mootup_pat_bogus").rotate_key(&product.actor_id, false))
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
                server.url(),
                me.default_space_id.unwrap()
            ))
            .bearer_auth(PAT)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status.as_u16(), 404);
}

#[test]
fn ticket_mode_answers_with_a_ticket_the_client_exchanges_once() {
    let server = Sandbox::start(SandboxConfig {
        ticket_mode: true,
        ..SandboxConfig::default()
    });
    let rt = rt();
    let human = client(&server, PAT);
    let agents = rt.block_on(human.my_agents()).unwrap();
    let key = rt
        .block_on(human.rotate_key(&agents[0].actor_id, false))
        .unwrap();
    assert!(key.api_key.expose().starts_with("convo_key_"));
    let me = rt
        .block_on(client(&server, key.api_key.expose()).me())
        .unwrap();
    assert_eq!(me.actor_id, agents[0].actor_id);

    // The raw answer carries a ticket and no key; a ticket works once.
    let raw: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!(
                "{}/api/actors/{}/rotate-key",
                server.url(),
                agents[1].actor_id
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
    let anon = ApiClient::new(server.url(), None, ClientOptions::BUILTIN).unwrap();
    rt.block_on(anon.exchange_ticket(&ticket)).unwrap();
    let err = rt.block_on(anon.exchange_ticket(&ticket)).unwrap_err();
    assert!(matches!(err, ApiError::TicketUsed { .. }), "{err:?}");
}

#[test]
fn the_in_process_handle_exposes_state() {
    let sb = Sandbox::start(SandboxConfig::with_agents(["Product", "QA"]));
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
    let mut cfg = SandboxConfig::with_agents(["Product"]);
    cfg.ticket_mode = true;
    cfg.ticket_ttl = Duration::ZERO;
    let sb = Sandbox::start(cfg);
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
