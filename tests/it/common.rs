//! Fixtures shared by the integration tests.

use serde_json::{Value, json};

/// A full 18-field Actor body, as today's `Actor.model_dump()` gives it.
pub fn actor_json(actor_id: &str, display_name: &str, actor_type: &str) -> Value {
    let agent = actor_type == "agent";
    json!({
        "actor_id": actor_id,
        "display_name": display_name,
        "actor_type": actor_type,
        "sponsor_id": if agent { json!("usr_owner") } else { Value::Null },
        "tenant_id": "tnt_1",
        "is_admin": false,
        "email": if agent { Value::Null } else { json!("ada@example.com") },
        "agent_profile": if agent { json!("devcontainer") } else { Value::Null },
        "api_key_prefix": if agent { json!("convo_ke") } else { Value::Null },
        "default_space_id": if agent { Value::Null } else { json!("spc_home") },
        "is_connected": if agent { json!(false) } else { Value::Null },
        "focus_space_id": if agent { json!("spc_home") } else { Value::Null },
        "metadata": if agent { json!({"role": display_name.to_lowercase()}) } else { Value::Null },
        "last_seen_at": if agent { json!("2025-01-02T03:04:05.000006+00:00") } else { Value::Null },
        "created_at": "2025-01-01T00:00:00+00:00",
        "updated_at": "2025-01-02T00:00:00+00:00",
        "oauth_scopes": Value::Null,
        "oauth_client_id": Value::Null,
    })
}

/// The platform's error envelope.
pub fn error_envelope(code: &str, message: &str, request_id: &str) -> Value {
    json!({"code": code, "message": message, "request_id": request_id, "detail": Value::Null})
}

/// Every fixture shape the API client tests serve.
pub fn all_fixtures() -> Vec<Value> {
    vec![
        actor_json("usr_owner", "Ada", "human"),
        actor_json("agt_1", "Product", "agent"),
        actor_json("agt_2", "QA", "agent"),
    ]
}

pub const TOKEN: &str = "mootup_pat_test_0123456789";

/// A stateful stand-in for today's platform behind wiremock, for the
/// end-to-end tests of create, first-key, prune and the ticket exchange
/// under a rate limit (each key passes through a ticket).
pub mod fake {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use serde_json::{Value, json};
    use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

    use super::{TOKEN, actor_json, error_envelope};

    #[derive(Debug, Clone)]
    pub struct Agent {
        pub id: String,
        pub name: String,
        pub key: Option<String>,
        pub deleted: bool,
    }

    #[derive(Debug, Default)]
    pub struct State {
        pub agents: Vec<Agent>,
        tickets: HashMap<String, (usize, String, Instant, bool)>,
        /// Revision 2 routes: POST /api/agents, GET /api/spaces/{id}.
        pub revision2: bool,
        pub space_status: String,
        /// At most one exchange per this interval (429 otherwise).
        pub exchange_every: Option<Duration>,
        /// Send `Retry-After` (seconds) with a 429.
        pub retry_after_header: Option<u64>,
        last_exchange: Option<Instant>,
        pub lifetime: Duration,
        /// Answer every exchange with this status instead.
        pub exchange_status: Option<u16>,
        /// POST /api/agents creates the agent, then answers 500.
        pub create_lost: bool,
        /// POST /api/agents is unknown (405).
        pub no_create: bool,
        /// Answer PATCH with this status instead.
        pub patch_status: Option<u16>,
        /// Answer first-key with this status instead.
        pub first_key_status: Option<u16>,
        pub mints: HashMap<String, u32>,
        pub limited: u32,
        pub expired: u32,
        pub mutations: u32,
        next: u32,
    }

    #[derive(Clone)]
    pub struct Fake(pub Arc<Mutex<State>>);

    impl Fake {
        pub async fn start(names: &[&str], revision2: bool) -> (MockServer, Fake) {
            let state = State {
                agents: names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| Agent {
                        id: format!("agt_{i}"),
                        name: n.to_string(),
                        key: None,
                        deleted: false,
                    })
                    .collect(),
                revision2,
                space_status: "active".into(),
                lifetime: Duration::from_secs(300),
                next: names.len() as u32,
                ..State::default()
            };
            let fake = Fake(Arc::new(Mutex::new(state)));
            let server = MockServer::start().await;
            Mock::given(wiremock::matchers::any())
                .respond_with(fake.clone())
                .mount(&server)
                .await;
            (server, fake)
        }

        pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
            f(&mut self.0.lock().unwrap())
        }

        pub fn live_key(&self, name: &str) -> Option<String> {
            self.with(|s| {
                s.agents
                    .iter()
                    .find(|a| a.name == name && !a.deleted)
                    .and_then(|a| a.key.clone())
            })
        }
    }

    fn agent_body(a: &Agent) -> Value {
        let mut v = actor_json(&a.id, &a.name, "agent");
        v["api_key_prefix"] = a.key.as_ref().map_or(Value::Null, |k| json!(&k[..8]));
        v
    }

    fn err(status: u16, code: &str) -> ResponseTemplate {
        ResponseTemplate::new(status).set_body_json(error_envelope(code, code, "req_fake"))
    }

    impl State {
        fn find(&self, id: &str) -> Option<usize> {
            self.agents.iter().position(|a| a.id == id && !a.deleted)
        }

        fn ticket_for(&mut self, i: usize) -> String {
            self.next += 1;
            let key = format!("convo_key_{:032x}", self.next as u128 * 7919);
            let ticket = format!("tkt_{:024x}", self.next as u128 * 104_729);
            self.agents[i].key = Some(key.clone());
            *self.mints.entry(self.agents[i].name.clone()).or_default() += 1;
            self.tickets
                .insert(ticket.clone(), (i, key, Instant::now(), false));
            ticket
        }

        fn exchange(&mut self, ticket: &str) -> ResponseTemplate {
            if let Some(s) = self.exchange_status {
                return err(s, "forced");
            }
            if let (Some(every), Some(last)) = (self.exchange_every, self.last_exchange)
                && last.elapsed() < every
            {
                self.limited += 1;
                let mut r = err(429, "rate_limited");
                if let Some(secs) = self.retry_after_header {
                    r = r.insert_header("retry-after", secs.to_string().as_str());
                }
                return r;
            }
            self.last_exchange = Some(Instant::now());
            let lifetime = self.lifetime;
            let Some(t) = self.tickets.get_mut(ticket) else {
                return err(404, "ticket_not_found");
            };
            if t.3 {
                return err(409, "ticket_already_used");
            }
            if t.2.elapsed() > lifetime {
                self.expired += 1;
                return err(410, "ticket_expired");
            }
            t.3 = true;
            let (i, key) = (t.0, t.1.clone());
            let a = &self.agents[i];
            ResponseTemplate::new(200).set_body_json(json!({
                "actor_id": a.id, "api_key": key, "display_name": a.name,
                "actor_type": "agent", "api_key_prefix": &key[..8],
            }))
        }

        fn answer(&mut self, req: &Request) -> ResponseTemplate {
            let path = req.url.path().to_string();
            let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            let auth = req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .trim_start_matches("Bearer ")
                .to_string();
            let method = req.method.as_str();
            if let ["api", "registration-tickets", t, "exchange"] = parts.as_slice()
                && method == "POST"
            {
                let t = t.to_string();
                return self.exchange(&t);
            }
            if auth != TOKEN {
                if let Some(a) = self
                    .agents
                    .iter()
                    .find(|a| !a.deleted && a.key.as_deref() == Some(auth.as_str()))
                    && path == "/api/actors/me"
                {
                    return ResponseTemplate::new(200).set_body_json(agent_body(a));
                }
                return err(401, "unauthorized");
            }
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            match (method, parts.as_slice()) {
                ("GET", ["api", "actors", "me"]) => ResponseTemplate::new(200)
                    .set_body_json(actor_json("usr_owner", "Ada", "human")),
                ("GET", ["api", "actors", "me", "agents"]) => {
                    let list: Vec<Value> = self
                        .agents
                        .iter()
                        .filter(|a| !a.deleted)
                        .map(agent_body)
                        .collect();
                    ResponseTemplate::new(200).set_body_json(list)
                }
                ("GET", ["api", "spaces", id]) if self.revision2 => ResponseTemplate::new(200)
                    .set_body_json(json!({"space_id": id, "description": null,
                        "status": self.space_status, "links": [],
                        "created_at": "2025-01-01T00:00:00Z", "ended_at": null})),
                ("POST", ["api", "agents"]) if self.no_create => err(405, "method_not_allowed"),
                ("POST", ["api", "agents"]) if self.revision2 => self.create(&body),
                ("POST", ["api", "agents", id, "first-key"]) => self.first_key(id),
                ("POST", ["api", "actors", id, "rotate-key"]) => self.rotate(id),
                ("PATCH", ["api", "actors", id]) => self.patch(id, &body),
                ("DELETE", ["api", "actors", id]) => self.delete(id),
                _ => err(404, "not_found"),
            }
        }

        fn create(&mut self, body: &Value) -> ResponseTemplate {
            self.mutations += 1;
            let role = body["role"].as_str().unwrap_or("agent").to_string();
            self.next += 1;
            self.agents.push(Agent {
                id: format!("agt_new{}", self.next),
                name: role,
                key: None,
                deleted: false,
            });
            let i = self.agents.len() - 1;
            let ticket = self.ticket_for(i);
            if self.create_lost {
                return err(500, "internal");
            }
            let mut v = agent_body(&self.agents[i]);
            v["registration_ticket_id"] = json!(ticket);
            ResponseTemplate::new(201).set_body_json(v)
        }

        fn first_key(&mut self, id: &str) -> ResponseTemplate {
            if let Some(status) = self.first_key_status {
                return err(status, "first_key");
            }
            self.mutations += 1;
            let Some(i) = self.find(id) else {
                return err(404, "not_found");
            };
            if self.agents[i].key.is_some() {
                return err(409, "agent_has_key");
            }
            let ticket = self.ticket_for(i);
            ResponseTemplate::new(200)
                .set_body_json(json!({"registration_ticket_id": ticket, "agent_id": id}))
        }

        fn rotate(&mut self, id: &str) -> ResponseTemplate {
            self.mutations += 1;
            let Some(i) = self.find(id) else {
                return err(404, "not_found");
            };
            let ticket = self.ticket_for(i);
            let mut v = agent_body(&self.agents[i]);
            v["registration_ticket_id"] = json!(ticket);
            ResponseTemplate::new(200).set_body_json(v)
        }

        fn patch(&mut self, id: &str, body: &Value) -> ResponseTemplate {
            if let Some(status) = self.patch_status {
                return err(status, "validation_error");
            }
            self.mutations += 1;
            let Some(i) = self.find(id) else {
                return err(404, "not_found");
            };
            if let Some(n) = body["display_name"].as_str() {
                self.agents[i].name = n.to_string();
            }
            ResponseTemplate::new(200).set_body_json(agent_body(&self.agents[i]))
        }

        fn delete(&mut self, id: &str) -> ResponseTemplate {
            self.mutations += 1;
            let Some(i) = self.find(id) else {
                return err(404, "not_found");
            };
            self.agents[i].deleted = true;
            ResponseTemplate::new(200).set_body_json(json!({"status": "deleted", "actor_id": id}))
        }
    }

    impl Respond for Fake {
        fn respond(&self, req: &Request) -> ResponseTemplate {
            self.0.lock().unwrap().answer(req)
        }
    }
}

/// One route of a wiremock server, the start of every mock the tests mount:
/// add matchers or `.respond_with(..)` to it.
pub fn route(verb: &str, at: impl Into<String>) -> wiremock::MockBuilder {
    use wiremock::matchers::{method, path};
    wiremock::Mock::given(method(verb)).and(path(at.into()))
}

/// Serves `response` on one route of `server` for the rest of the test.
pub async fn serve(
    server: &wiremock::MockServer,
    verb: &str,
    at: &str,
    response: wiremock::ResponseTemplate,
) {
    route(verb, at).respond_with(response).mount(server).await;
}

/// Serves `response` on one route, and the test fails on drop of `server`
/// unless the route was called exactly once.
pub async fn serve_once(
    server: &wiremock::MockServer,
    verb: &str,
    at: &str,
    response: wiremock::ResponseTemplate,
) {
    route(verb, at)
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

/// A wiremock server for the synchronous tests that run the binary: it owns
/// the runtime that mounts mocks and reads what the server received (the
/// server itself answers from its own thread).
pub struct MockApi {
    // Dropped before the runtime: the server's verification on drop may
    // still need it.
    server: wiremock::MockServer,
    rt: tokio::runtime::Runtime,
}

/// The priority of the account routes [`MockApi::account`] serves, below
/// wiremock's default (5), so any route a test mounts answers instead.
const FALLBACK: u8 = 10;

impl MockApi {
    /// A server with no route: every request is answered 404.
    pub fn start() -> MockApi {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(wiremock::MockServer::start());
        MockApi { server, rt }
    }

    /// A server answering `GET /api/actors/me` with `me` and
    /// `GET /api/actors/me/agents` with `agents`, as fallbacks.
    pub fn account(me: serde_json::Value, agents: serde_json::Value) -> MockApi {
        let api = MockApi::start();
        let ok = |body| wiremock::ResponseTemplate::new(200).set_body_json(body);
        api.mount(
            route("GET", "/api/actors/me")
                .respond_with(ok(me))
                .with_priority(FALLBACK),
        );
        api.mount(
            route("GET", "/api/actors/me/agents")
                .respond_with(ok(agents))
                .with_priority(FALLBACK),
        );
        api
    }

    /// Mounts `mock` as it is (wiremock's default priority beats the
    /// account fallbacks).
    pub fn mount(&self, mock: wiremock::Mock) {
        self.rt.block_on(mock.mount(&self.server));
    }

    /// Serves `response` on one route from now on.
    pub fn serve(&self, verb: &str, at: &str, response: wiremock::ResponseTemplate) {
        self.rt.block_on(serve(&self.server, verb, at, response));
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<wiremock::Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }

    /// Panics unless every mock mounted with `.expect(..)` was called as
    /// expected.
    pub fn verify(&self) {
        self.rt.block_on(self.server.verify());
    }
}
