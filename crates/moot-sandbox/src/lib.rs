//! moot-sandbox: a local stand-in for the Moot API, over real HTTP, for
//! demos and end-to-end tests. **It is a test and demo tool, not a
//! production server**: state lives in memory, there is no persistence, no
//! TLS, and tokens are compared in plain text.
//!
//! It serves the endpoints api-contract.md lists, with the real shapes and
//! rules (401/403/404/409/410, keys invalidated at once on rotation,
//! `X-Force-Rotate`, registration tickets), and nothing more: no phantom
//! endpoints (`GET /api/spaces/{id}` is a 404, as on the real backend) and
//! no inspection endpoint. Tests look at the state through [`Sandbox`].
//!
//! Fault switches: rotations that fail with 500 for chosen agents, agents
//! that are connected (rotation answers 409 unless forced), a latency added
//! to every request, and ticket mode (rotate-key answers with a
//! `registration_ticket_id` instead of the key).

mod actor;
mod routes;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

pub use crate::actor::Actor;

use state::Shared;

/// The default personal access token of the seeded human.
pub const DEFAULT_TOKEN: &str = "mootup_pat_sandbox";

/// The agents the default human sponsors: the loop-4 roles, keyless.
pub const DEFAULT_AGENTS: &[&str] = &["Product", "Spec", "Implementation", "QA"];

/// What the sandbox starts with, and its fault switches.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Humans, each with a personal access token and the agents they sponsor.
    pub humans: Vec<HumanSeed>,
    /// Agents (display name or actor id, case-insensitive) whose rotation
    /// answers 500 without rotating.
    pub fail_rotate: Vec<String>,
    /// Agents (display name or actor id) that start connected.
    pub connected: Vec<String>,
    /// Added to every request before it is handled.
    pub latency: Duration,
    /// rotate-key answers with a `registration_ticket_id` instead of the key.
    pub ticket_mode: bool,
    /// How long a registration ticket lives (the real backend: 5 minutes).
    pub ticket_ttl: Duration,
    /// Log one line per request on stderr (never a token or a key).
    pub verbose: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            humans: vec![HumanSeed::default()],
            fail_rotate: Vec::new(),
            connected: Vec::new(),
            latency: Duration::ZERO,
            ticket_mode: false,
            ticket_ttl: Duration::from_secs(5 * 60),
            verbose: false,
        }
    }
}

impl SandboxConfig {
    /// The default human sponsoring keyless agents with these names.
    pub fn with_agents<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut cfg = SandboxConfig::default();
        cfg.humans[0].agents = names.into_iter().map(AgentSeed::named).collect();
        cfg
    }

    /// The default human sponsoring `Agent 1` .. `Agent n`.
    pub fn with_agent_count(n: usize) -> Self {
        Self::with_agents((1..=n).map(|i| format!("Agent {i}")))
    }

    /// A seed file: `{"humans": [...]}` or `{"human": {...}}`, each human
    /// as [`HumanSeed`] (every field optional).
    pub fn from_seed_json(text: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct SeedFile {
            #[serde(default)]
            human: Option<HumanSeed>,
            #[serde(default)]
            humans: Vec<HumanSeed>,
        }
        let seed: SeedFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut humans = seed.humans;
        humans.extend(seed.human);
        if humans.is_empty() {
            return Err("the seed names no human (`human` or `humans`)".into());
        }
        let cfg = SandboxConfig {
            humans,
            ..SandboxConfig::default()
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks the seed and the switches (unique tokens and ids, known
    /// `connected` agents) without starting anything.
    pub fn validate(&self) -> Result<(), String> {
        state::State::new(self).map(drop)
    }

    /// The first human's token.
    pub fn token(&self) -> &str {
        self.humans
            .first()
            .map_or(DEFAULT_TOKEN, |h| h.token.as_str())
    }
}

/// A human of the seed. Missing ids are generated (`usr_sandbox_1`,
/// `spc_sandbox_1`); `"default_space_id": null` makes an account without a
/// default space.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HumanSeed {
    pub actor_id: Option<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub token: String,
    #[serde(deserialize_with = "explicit_option")]
    pub default_space_id: Option<Option<String>>,
    pub tenant_id: Option<String>,
    pub is_admin: bool,
    pub agents: Vec<AgentSeed>,
}

impl Default for HumanSeed {
    fn default() -> Self {
        HumanSeed {
            actor_id: None,
            display_name: "Sandbox User".into(),
            email: Some("sandbox@example.com".into()),
            token: DEFAULT_TOKEN.into(),
            default_space_id: None,
            tenant_id: Some("tnt_sandbox".into()),
            is_admin: false,
            agents: DEFAULT_AGENTS
                .iter()
                .copied()
                .map(AgentSeed::named)
                .collect(),
        }
    }
}

/// An agent of the seed; keyless unless `api_key` is given.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSeed {
    pub display_name: String,
    pub actor_id: Option<String>,
    pub api_key: Option<String>,
    pub is_connected: bool,
    pub agent_profile: Option<String>,
    pub focus_space_id: Option<String>,
    pub metadata: Option<serde_json::Value>,
}

impl AgentSeed {
    pub fn named(name: impl Into<String>) -> Self {
        AgentSeed {
            display_name: name.into(),
            ..AgentSeed::default()
        }
    }
}

/// Missing -> None (generate), `null` -> Some(None), a value -> Some(Some).
fn explicit_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Serves the sandbox on `listener` until `shutdown` completes.
pub async fn serve(
    cfg: SandboxConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared::new(&cfg).map_err(std::io::Error::other)?);
    serve_shared(shared, listener, shutdown).await
}

async fn serve_shared(
    shared: Arc<Shared>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, routes::router(shared))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A sandbox running on a background thread with its own runtime, for
/// blocking tests. Dropping it stops the server.
pub struct Sandbox {
    url: String,
    token: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sandbox {
    /// Starts on an ephemeral port of 127.0.0.1. Panics if it cannot (a
    /// test tool: there is nothing better to do).
    pub fn start(cfg: SandboxConfig) -> Sandbox {
        Self::try_start(cfg).expect("start moot sandbox")
    }

    pub fn try_start(cfg: SandboxConfig) -> std::io::Result<Sandbox> {
        let shared = Arc::new(Shared::new(&cfg).map_err(std::io::Error::other)?);
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server_state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("moot-sandbox".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            eprintln!("moot-sandbox: {e}");
                            return;
                        }
                    };
                    let shutdown = async move {
                        let _ = stopped.await;
                    };
                    if let Err(e) = serve_shared(server_state, listener, shutdown).await {
                        eprintln!("moot-sandbox: {e}");
                    }
                });
            })?;
        Ok(Sandbox {
            url,
            token: cfg.token().to_string(),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The first human's personal access token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Successful rotations (rotate-key and first-key) so far.
    pub fn rotation_count(&self) -> u64 {
        self.shared.lock().rotations
    }

    /// The agent with this display name (case-insensitive) or actor id.
    pub fn agent(&self, name_or_id: &str) -> Option<Actor> {
        let state = self.shared.lock();
        state
            .find(name_or_id)
            .map(|i| state.actors[i].actor.clone())
    }

    /// Every agent, in seed order.
    pub fn agents(&self) -> Vec<Actor> {
        let state = self.shared.lock();
        state
            .actors
            .iter()
            .filter(|r| r.actor.is_agent())
            .map(|r| r.actor.clone())
            .collect()
    }

    /// The agent's live key, if it has one (tests compare it with the key a
    /// client stored).
    pub fn live_key(&self, name_or_id: &str) -> Option<String> {
        let state = self.shared.lock();
        state
            .find(name_or_id)
            .and_then(|i| state.actors[i].key.clone())
    }

    pub fn set_connected(&self, name_or_id: &str, connected: bool) -> bool {
        let mut state = self.shared.lock();
        match state.find(name_or_id) {
            Some(i) => {
                state.actors[i].actor.is_connected = Some(connected);
                true
            }
            None => false,
        }
    }

    /// Turns the 500-on-rotate fault on or off for an agent.
    pub fn set_fail_rotate(&self, name_or_id: &str, fail: bool) {
        let mut state = self.shared.lock();
        let key = name_or_id.to_lowercase();
        state.fail_rotate.retain(|f| *f != key);
        if fail {
            state.fail_rotate.push(key);
        }
    }

    /// Adds a keyless agent sponsored by the first human (as the platform
    /// does when a user creates one), and returns it.
    pub fn add_agent(&self, display_name: &str) -> Actor {
        let mut state = self.shared.lock();
        let i = state.add_agent(0, &AgentSeed::named(display_name));
        state.actors[i].actor.clone()
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Display names from a team.toml's `[[roles]]` (`display_name`, else the
/// role `name` in title case), for `--roles-from`.
pub fn roles_from_team_toml(text: &str) -> Result<Vec<String>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let roles = table
        .get("roles")
        .and_then(toml::Value::as_array)
        .ok_or("no [[roles]] in the file")?;
    roles
        .iter()
        .map(|role| {
            if let Some(name) = role.get("display_name").and_then(toml::Value::as_str) {
                return Ok(name.to_string());
            }
            role.get("name")
                .and_then(toml::Value::as_str)
                .map(title_case)
                .ok_or_else(|| "a role has no name".to_string())
        })
        .collect()
}

/// Python's `str.title()`: a letter after a non-letter is upper case.
fn title_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut prev_letter = false;
    for c in name.chars() {
        if c.is_alphabetic() {
            if prev_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_letter = true;
        } else {
            out.push(c);
            prev_letter = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_team_toml() {
        let text = r#"
[[roles]]
name = "product"
display_name = "Product"
[[roles]]
name = "qa_lead"
"#;
        assert_eq!(roles_from_team_toml(text).unwrap(), ["Product", "Qa_Lead"]);
    }

    #[test]
    fn seed_json_is_checked() {
        let cfg = SandboxConfig::from_seed_json(
            r#"{"human": {"token": "mootup_pat_x", "default_space_id": null,
                "agents": [{"display_name": "Product", "api_key": "convo_key_1"}]}}"#,
        )
        .unwrap();
        assert_eq!(cfg.token(), "mootup_pat_x");
        assert_eq!(cfg.humans[0].default_space_id, Some(None));
        assert!(SandboxConfig::from_seed_json(r#"{"humans": [{"tokn": "x"}]}"#).is_err());
        assert!(SandboxConfig::from_seed_json("{}").is_err());
    }
}
