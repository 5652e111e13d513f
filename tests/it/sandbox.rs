//! moot's API client against the in-process moot-sandbox: the rules the
//! client relies on (keys invalidated at once, tickets used once, 401/403/404
//! and 409), over real HTTP. The sandbox binary's flags and process behaviour
//! are tested in its own package (`crates/moot-sandbox/tests`).

use std::time::Duration;

use serde_json::{Value, json};

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

    // Rename and health.
    let renamed = rt
        .block_on(human.rename(&agents[1].actor_id, "Specs"))
        .unwrap();
    assert_eq!(renamed.display_name, "Specs");
    rt.block_on(human.health()).unwrap();
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

// ---------------------------------------------------------------------------
// The platform's endpoints ("Revision 2") over raw HTTP: shapes and codes.

/// Raw HTTP against a sandbox: every answer as (status, headers, JSON body).
struct Http {
    sb: Sandbox,
    rt: tokio::runtime::Runtime,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Http {
    fn new(cfg: SandboxConfig) -> Http {
        Http {
            sb: Sandbox::start(cfg),
            rt: rt(),
        }
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        self.rt.block_on(async {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let mut req =
                reqwest::Client::new().request(method, format!("{}{path}", self.sb.url()));
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.json().await.unwrap_or(Value::Null);
            Reply {
                status,
                headers,
                body,
            }
        })
    }

    fn post(&self, path: &str, body: Option<Value>) -> Reply {
        self.call("POST", path, Some(PAT), body)
    }

    fn exchange(&self, ticket: &str) -> Reply {
        let path = format!("/api/registration-tickets/{ticket}/exchange");
        self.call("POST", &path, None, None)
    }

    fn id(&self, name: &str) -> String {
        self.sb.agent(name).unwrap().actor_id
    }

    /// first-key for a keyless agent: the ticket.
    fn first_key_ticket(&self, name: &str) -> String {
        let r = self.post(&format!("/api/agents/{}/first-key", self.id(name)), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["registration_ticket_id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// The error envelope, with the code expected; returns the message.
fn assert_envelope(r: &Reply, status: u16, code: &str) -> String {
    assert_eq!(r.status, status, "{}", r.body);
    let obj = r.body.as_object().expect("a JSON object");
    let keys: Vec<_> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["code", "message", "request_id", "detail"],
        "{}",
        r.body
    );
    assert_eq!(r.body["code"], code, "{}", r.body);
    let request_id = r.body["request_id"].as_str().unwrap();
    assert!(request_id.starts_with("req_"), "{request_id}");
    assert_eq!(r.headers["x-request-id"], request_id);
    r.body["message"].as_str().unwrap().to_string()
}

#[test]
fn create_agent_answers_201_with_the_agent_and_a_ticket_for_its_first_key() {
    let h = Http::new(SandboxConfig::default());
    let r = h.post(
        "/api/agents",
        Some(json!({"role": "librarian", "agent_profile": "devcontainer"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.body.as_object().unwrap();
    assert_eq!(
        created.len(),
        19,
        "18 Actor fields and the ticket: {}",
        r.body
    );
    assert!(created.get("api_key").is_none());
    assert_eq!(r.body["display_name"], "librarian");
    assert_eq!(r.body["actor_type"], "agent");
    assert_eq!(r.body["sponsor_id"], "usr_sandbox_1");
    assert_eq!(r.body["tenant_id"], "tnt_sandbox");
    assert_eq!(r.body["agent_profile"], "devcontainer");
    assert_eq!(r.body["oauth_scopes"], Value::Null);
    let id = r.body["actor_id"].as_str().unwrap();
    let ticket = r.body["registration_ticket_id"].as_str().unwrap();

    let x = h.exchange(ticket);
    assert_eq!(x.status, 200, "{}", x.body);
    let keys: Vec<_> = x.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "actor_id",
            "api_key",
            "display_name",
            "actor_type",
            "sponsor_id",
            "tenant_id",
            "api_key_prefix"
        ]
    );
    assert_eq!(x.body["actor_id"], id);
    let key = x.body["api_key"].as_str().unwrap();
    assert_eq!(h.sb.live_key(id).as_deref(), Some(key));
    let me = h.call("GET", "/api/actors/me", Some(key), None);
    assert_eq!(me.body["actor_id"], id);
    assert_eq!(h.sb.keys_issued("librarian"), 1);
    assert_eq!(h.sb.agents().len(), 5, "listed with the seeded four");

    // Roles are not unique on the platform: a second one is a second agent.
    let again = h.post("/api/agents", Some(json!({"role": "librarian"})));
    assert_eq!(again.status, 201);
    assert_ne!(again.body["actor_id"], id);
    assert_eq!(again.body["agent_profile"], Value::Null);
}

#[test]
fn create_agent_refuses_bad_bodies_and_callers_with_the_envelope() {
    let h = Http::new(SandboxConfig::default());
    let cases = [
        (json!({}), "role", "missing"),
        (json!({"role": ""}), "role", "string_too_short"),
        (json!({"role": "r".repeat(65)}), "role", "string_too_long"),
        (
            json!({"role": "qa", "agent_profile": "p".repeat(513)}),
            "agent_profile",
            "string_too_long",
        ),
        (
            json!({"role": "qa", "tenant_id": "tnt_x"}),
            "tenant_id",
            "extra_forbidden",
        ),
        (
            json!({"role": "qa", "sponsor_id": "usr_x"}),
            "sponsor_id",
            "extra_forbidden",
        ),
        (json!(["qa"]), "body", "model_attributes_type"),
    ];
    for (body, field, kind) in cases {
        let r = h.post("/api/agents", Some(body.clone()));
        let message = assert_envelope(&r, 422, "validation_error");
        assert!(message.contains(field), "{message}");
        let problem = &r.body["detail"][0];
        assert_eq!(problem["type"], kind, "{body}: {}", r.body);
        assert_eq!(problem["loc"].as_array().unwrap().last().unwrap(), field);
    }
    // Exactly at the limits is fine.
    let r = h.post(
        "/api/agents",
        Some(json!({"role": "r".repeat(64), "agent_profile": "p".repeat(512)})),
    );
    assert_eq!(r.status, 201, "{}", r.body);

    let no_token = h.call("POST", "/api/agents", None, Some(json!({"role": "qa"})));
    assert_envelope(&no_token, 401, "not_authenticated");
    let ticket = h.first_key_ticket("QA");
    let key = h.exchange(&ticket).body["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let as_agent = h.call(
        "POST",
        "/api/agents",
        Some(&key),
        Some(json!({"role": "qa"})),
    );
    assert_envelope(&as_agent, 403, "forbidden");
    assert_eq!(
        h.sb.agents().len(),
        5,
        "only the one good body created an agent"
    );
}

#[test]
fn first_key_answers_a_ticket_once_and_409_when_the_agent_has_a_key() {
    let mut cfg = SandboxConfig::with_agents(["Product", "QA"]);
    cfg.humans.push(moot_sandbox::HumanSeed {
        token: "mootup_pat_other".into(),
        agents: vec![moot_sandbox::AgentSeed::named("Theirs")],
        ..moot_sandbox::HumanSeed::default()
    });
    let h = Http::new(cfg);
    let product = h.id("Product");
    let path = format!("/api/agents/{product}/first-key");
    let r = h.post(&path, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["registration_ticket_id", "agent_id"]
    );
    assert_eq!(r.body["agent_id"], product);
    // The key exists from now on, so a second first-key cannot replace it,
    // even before the ticket is exchanged.
    let again = h.post(&path, None);
    assert_envelope(&again, 409, "agent_has_key");
    let ticket = r.body["registration_ticket_id"].as_str().unwrap();
    let key = h.exchange(ticket).body["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(h.sb.live_key("Product"), Some(key));
    assert_eq!(h.sb.keys_issued("Product"), 1);

    assert_envelope(
        &h.post("/api/agents/agt_nope/first-key", None),
        404,
        "not_found",
    );
    let theirs = format!("/api/agents/{}/first-key", h.id("Theirs"));
    assert_envelope(&h.post(&theirs, None), 404, "not_found");
    assert_eq!(h.sb.keys_issued("Theirs"), 0);
}

#[test]
fn rotate_key_answers_agents_with_a_ticket_and_kills_the_old_key_at_once() {
    let h = Http::new(SandboxConfig::with_agents(["Product"]));
    let old = h.exchange(&h.first_key_ticket("Product")).body["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let r = h.post(&format!("/api/actors/{}/rotate-key", h.id("Product")), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.get("api_key").is_none(), "{}", r.body);
    assert_eq!(r.body.as_object().unwrap().len(), 19);
    let gone = h.call("GET", "/api/actors/me", Some(&old), None);
    assert_envelope(&gone, 401, "invalid_credentials");
    let ticket = r.body["registration_ticket_id"].as_str().unwrap();
    let new = h.exchange(ticket).body["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        h.call("GET", "/api/actors/me", Some(&new), None).status,
        200
    );
    assert_eq!(h.sb.keys_issued("Product"), 2);
    assert_eq!(h.sb.tickets_minted(), 2);
    assert_eq!(h.sb.tickets_exchanged(), 2);
}

#[test]
fn tickets_live_their_lifetime_work_once_and_404_when_unknown() {
    let cfg = SandboxConfig {
        ticket_ttl: Duration::from_millis(300),
        ..SandboxConfig::with_agents(["Product", "QA"])
    };
    let h = Http::new(cfg);
    let product = h.first_key_ticket("Product");
    let qa = h.first_key_ticket("QA");
    assert_eq!(h.exchange(&qa).status, 200);
    assert_envelope(&h.exchange(&qa), 409, "ticket_already_used");
    assert_envelope(&h.exchange("rtk_unknown"), 404, "ticket_not_found");
    assert_eq!(h.sb.tickets_expired(), 0);
    std::thread::sleep(Duration::from_millis(400));
    assert_envelope(&h.exchange(&product), 410, "ticket_expired");
    assert_eq!(h.sb.tickets_expired(), 1, "the used one does not count");
    // The key behind the dead ticket was issued: the agent has a key nobody
    // holds, and first-key will not issue another.
    assert!(h.sb.live_key("Product").is_some());
    let path = format!("/api/agents/{}/first-key", h.id("Product"));
    assert_envelope(&h.post(&path, None), 409, "agent_has_key");
}

#[test]
fn the_exchange_is_rate_limited_per_address_and_a_429_uses_no_ticket() {
    let cfg = SandboxConfig {
        exchange_rate: Some(moot_sandbox::ExchangeRate {
            per_second: 0.5,
            burst: 1,
        }),
        ..SandboxConfig::with_agents(["Product", "QA"])
    };
    let h = Http::new(cfg);
    let product = h.first_key_ticket("Product");
    let qa = h.first_key_ticket("QA");
    assert_eq!(h.exchange(&product).status, 200);
    let limited = h.exchange(&qa);
    let message = assert_envelope(&limited, 429, "rate_limited");
    assert!(message.contains("retry"), "{message}");
    assert_eq!(limited.headers["retry-after"], "2");
    // Limited before the ticket is even looked up.
    assert_envelope(&h.exchange("rtk_unknown"), 429, "rate_limited");
    assert_eq!(h.sb.rate_limited(), 2);
    std::thread::sleep(Duration::from_secs(2));
    let x = h.exchange(&qa);
    assert_eq!(x.status, 200, "the ticket survived the 429: {}", x.body);
    assert_eq!(h.sb.live_key("QA").as_deref(), x.body["api_key"].as_str());
}

#[test]
fn delete_removes_the_agent_its_key_and_its_tickets() {
    let h = Http::new(SandboxConfig::with_agents(["Product", "QA", "Spec"]));
    let key = h.exchange(&h.first_key_ticket("Product")).body["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let pending = h.first_key_ticket("QA");
    let (product, qa) = (h.id("Product"), h.id("QA"));
    let r = h.call("DELETE", &format!("/api/actors/{product}"), Some(PAT), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"status": "deleted", "actor_id": product}));
    let r = h.call("DELETE", &format!("/api/actors/{qa}"), Some(PAT), None);
    assert_eq!(r.status, 200);

    let listed = h.call("GET", "/api/actors/me/agents", Some(PAT), None);
    let names: Vec<_> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["display_name"].clone())
        .collect();
    assert_eq!(names, ["Spec"]);
    assert!(h.sb.agent("Product").is_none());
    assert_envelope(
        &h.call("GET", "/api/actors/me", Some(&key), None),
        401,
        "invalid_credentials",
    );
    assert_envelope(&h.exchange(&pending), 404, "ticket_not_found");
    let again = h.call("DELETE", &format!("/api/actors/{product}"), Some(PAT), None);
    assert_envelope(&again, 404, "not_found");
    assert_eq!(h.sb.keys_issued(&product), 1, "counters outlive the agent");

    let spec_key = h.exchange(&h.first_key_ticket("Spec")).body["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let spec = h.id("Spec");
    let by_agent = h.call(
        "DELETE",
        &format!("/api/actors/{spec}"),
        Some(&spec_key),
        None,
    );
    assert_envelope(&by_agent, 403, "forbidden");
    assert!(h.sb.agent("Spec").is_some());
}

#[test]
fn rename_takes_display_names_up_to_500_characters() {
    let h = Http::new(SandboxConfig::with_agents(["Product"]));
    let id = h.id("Product");
    let path = format!("/api/actors/{id}");
    let name = "n".repeat(500);
    let r = h.call(
        "PATCH",
        &path,
        Some(PAT),
        Some(json!({"display_name": name})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["display_name"], name);
    assert_eq!(r.body.as_object().unwrap().len(), 18);
    let long = json!({"display_name": "n".repeat(501)});
    let r = h.call("PATCH", &path, Some(PAT), Some(long));
    assert_envelope(&r, 422, "validation_error");
    assert_eq!(r.body["detail"][0]["type"], "string_too_long");
    let profile = json!({"agent_profile": "other"});
    let r = h.call("PATCH", &path, Some(PAT), Some(profile));
    assert_envelope(&r, 422, "validation_error");
    assert_eq!(h.sb.agent(&id).unwrap().display_name, name, "unchanged");
}

#[test]
fn a_space_reports_its_status() {
    let h = Http::new(SandboxConfig::default());
    let space = h.sb.space_id().unwrap();
    let path = format!("/api/spaces/{space}");
    let r = h.call("GET", &path, Some(PAT), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let keys: Vec<_> = r.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "space_id",
            "description",
            "status",
            "links",
            "created_at",
            "ended_at"
        ]
    );
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["ended_at"], Value::Null);
    assert!(h.sb.set_space_status(&space, "archived"));
    let r = h.call("GET", &path, Some(PAT), None);
    assert_eq!(r.body["status"], "archived");
    assert!(r.body["ended_at"].is_string());
    assert_envelope(
        &h.call("GET", "/api/spaces/spc_nope", Some(PAT), None),
        404,
        "not_found",
    );
    assert_envelope(&h.call("GET", &path, None, None), 401, "not_authenticated");

    let cfg = SandboxConfig {
        space_status: "paused".into(),
        ..SandboxConfig::default()
    };
    let paused = Http::new(cfg);
    let path = format!("/api/spaces/{}", paused.sb.space_id().unwrap());
    assert_eq!(
        paused.call("GET", &path, Some(PAT), None).body["status"],
        "paused"
    );
}

#[test]
fn every_refusal_is_an_envelope_with_its_own_request_id() {
    let h = Http::new(SandboxConfig::default());
    let a = h.call("GET", "/api/nothing-here", Some(PAT), None);
    let b = h.call("GET", "/api/nothing-here", Some(PAT), None);
    assert_envelope(&a, 404, "not_found");
    assert_ne!(a.body["request_id"], b.body["request_id"]);
    assert_envelope(
        &h.call("PUT", "/api/actors/me", Some(PAT), None),
        405,
        "method_not_allowed",
    );
    let r = h.call("GET", "/api/actors/me", Some("mootup_pat_bogus"), None);
    assert_envelope(&r, 401, "invalid_credentials");
}

#[test]
fn a_legacy_server_serves_the_older_contract() {
    let h = Http::new(SandboxConfig::with_agents(["Product"]).legacy());
    let r = h.post(&format!("/api/actors/{}/rotate-key", h.id("Product")), None);
    assert_eq!(r.status, 200);
    assert!(
        r.body["api_key"]
            .as_str()
            .unwrap()
            .starts_with("convo_key_")
    );
    assert!(r.body.get("registration_ticket_id").is_none());
    let create = h.post("/api/agents", Some(json!({"role": "qa"})));
    assert_eq!(create.status, 404);
    assert_eq!(create.body, json!({"detail": "Not Found"}));
    let space = format!("/api/spaces/{}", h.sb.space_id().unwrap());
    assert_eq!(h.call("GET", &space, Some(PAT), None).status, 404);
    let delete = h.call(
        "DELETE",
        &format!("/api/actors/{}", h.id("Product")),
        Some(PAT),
        None,
    );
    assert_eq!(delete.status, 405);
    assert_eq!(delete.body, json!({"detail": "Method Not Allowed"}));
}

#[test]
fn switches_remove_endpoints_and_fail_or_lose_creations() {
    let cfg = SandboxConfig {
        agents_endpoint: false,
        first_key_endpoint: false,
        ..SandboxConfig::with_agents(["Product"])
    };
    let h = Http::new(cfg);
    assert_envelope(
        &h.post("/api/agents", Some(json!({"role": "qa"}))),
        404,
        "not_found",
    );
    let first_key = format!("/api/agents/{}/first-key", h.id("Product"));
    assert_envelope(&h.post(&first_key, None), 404, "not_found");
    assert_eq!(h.sb.keys_issued("Product"), 0);

    let cfg = SandboxConfig {
        fail_create: vec!["QA".into()],
        lose_create: vec!["spec".into()],
        ..SandboxConfig::with_agents(["Product"])
    };
    let h = Http::new(cfg);
    let failed = h.post("/api/agents", Some(json!({"role": "qa"})));
    assert_envelope(&failed, 500, "internal_error");
    assert!(
        h.sb.agent("qa").is_none(),
        "a failed create creates nothing"
    );
    let lost = h.post("/api/agents", Some(json!({"role": "spec"})));
    assert_envelope(&lost, 500, "internal_error");
    let spec =
        h.sb.agent("spec")
            .expect("a lost answer still created the agent");
    assert_eq!(spec.api_key_prefix, None, "and issued it no key");
    assert_eq!(h.sb.tickets_minted(), 0);
}

#[test]
fn counters_record_mutating_calls_and_requests_without_ticket_ids() {
    let h = Http::new(SandboxConfig::with_agents(["Product"]));
    h.call("GET", "/api/actors/me/agents", Some(PAT), None);
    assert_eq!(h.sb.mutating_calls(), 0);
    let ticket = h.first_key_ticket("Product");
    h.exchange(&ticket);
    h.post("/api/agents", Some(json!({})));
    assert_eq!(h.sb.mutating_calls(), 3, "refused ones count too");
    let id = h.id("Product");
    assert_eq!(
        h.sb.requests(),
        [
            "GET /api/actors/me/agents -> 200".to_string(),
            format!("POST /api/agents/{id}/first-key -> 200"),
            "POST /api/registration-tickets/(ticket)/exchange -> 200".to_string(),
            "POST /api/agents -> 422".to_string(),
        ]
    );
}

#[test]
fn release_disconnects_the_agent_and_keeps_its_key() {
    let cfg = SandboxConfig {
        connected: vec!["QA".into()],
        ..SandboxConfig::with_agents(["QA"])
    };
    let h = Http::new(cfg);
    let key = h.exchange(&h.first_key_ticket("QA")).body["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    h.sb.set_connected("QA", true);
    let qa = h.id("QA");
    let r = h.post(&format!("/api/actors/{qa}/release"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"status": "released", "actor_id": qa}));
    assert_eq!(h.sb.agent("QA").unwrap().is_connected, Some(false));
    assert_eq!(h.sb.live_key("QA"), Some(key), "the key stays");
    let again = h.post(&format!("/api/actors/{qa}/release"), None);
    assert_eq!(again.status, 200, "idempotent");
    assert_envelope(
        &h.post("/api/actors/agt_nope/release", None),
        404,
        "not_found",
    );
}
