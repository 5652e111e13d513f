//! moot-sandbox: a local stand-in for the Moot API, over real HTTP, for
//! demos and end-to-end tests. **It is a test and demo tool, not a
//! production server**: state lives in memory, there is no persistence, no
//! TLS, and tokens are compared in plain text.
//!
//! It serves the endpoints of the platform that moot uses, as the platform
//! stands today ("Revision 2"), with the real shapes and rules: 18-field
//! Actors; `POST /api/agents` (201 and a registration ticket);
//! `POST /api/agents/{id}/first-key` (409 once the agent has a key);
//! rotate-key answering agents with a ticket, the old key dead at once
//! (409 for a connected agent unless `X-Force-Rotate: true`); tickets that
//! live `ticket_ttl` (410), work once (409), 404 when unknown, exchanged
//! under a per-address rate limit (429 and `Retry-After`); rename (display
//! names up to 500 characters), release, `DELETE /api/actors/{id}`,
//! `GET /api/spaces/{id}`; every refusal as the envelope
//! `{code, message, request_id, detail}`. Nothing more: no inspection
//! endpoint; tests look at the state through [`Sandbox`].
//!
//! Switches: a legacy server (the older contract: keys answered directly,
//! no create, delete or space endpoints, `{"detail": ...}` errors), servers
//! without `POST /api/agents` or first-key, a space that is not active; and
//! faults: creations and rotations that fail with 500, a creation whose
//! answer is lost, connected agents, a latency added to every request.

mod actor;
mod body;
mod config;
mod limit;
mod refusal;
mod routes;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use crate::actor::Actor;
pub use crate::config::{
    AgentSeed, DEFAULT_AGENTS, DEFAULT_TOKEN, HumanSeed, SandboxConfig, roles_from_team_toml,
};
pub use crate::limit::ExchangeRate;

use state::Shared;

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
    // The peer address is what the exchange's rate limit keys on.
    let service = routes::router(shared).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
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

    /// Keys issued so far, to every agent (rotate-key, first-key and
    /// create each issue one; a key behind a ticket counts when minted,
    /// since the old key dies then).
    pub fn rotation_count(&self) -> u64 {
        self.shared.lock().keys_issued_total()
    }

    /// Keys issued to this agent (by display name or actor id; a deleted
    /// agent is looked up by its id).
    pub fn keys_issued(&self, name_or_id: &str) -> u64 {
        let state = self.shared.lock();
        let id = state
            .find(name_or_id)
            .map_or(name_or_id, |i| state.actors[i].actor.actor_id.as_str());
        state.counters.keys_issued.get(id).copied().unwrap_or(0)
    }

    /// Registration tickets minted (create, first-key, rotate-key).
    pub fn tickets_minted(&self) -> u64 {
        self.shared.lock().counters.tickets_minted
    }

    /// Tickets exchanged for their key.
    pub fn tickets_exchanged(&self) -> u64 {
        self.shared.lock().counters.tickets_exchanged
    }

    /// Tickets never exchanged whose lifetime is over (each one a key lost).
    pub fn tickets_expired(&self) -> u64 {
        self.shared.lock().tickets_expired()
    }

    /// Exchanges refused with 429 by the rate limit.
    pub fn rate_limited(&self) -> u64 {
        self.shared.lock().counters.rate_limited
    }

    /// Requests other than GET and HEAD, whatever their answer.
    pub fn mutating_calls(&self) -> u64 {
        self.shared.lock().counters.mutating_calls
    }

    /// Every request so far as `METHOD /path -> status` (ticket ids masked).
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().counters.requests.clone()
    }

    /// The first human's default space, if the seed gives it one.
    pub fn space_id(&self) -> Option<String> {
        self.shared.lock().actors[0].actor.default_space_id.clone()
    }

    /// Sets the status `GET /api/spaces/{id}` reports for a space.
    pub fn set_space_status(&self, space_id: &str, status: &str) -> bool {
        self.shared.lock().set_space_status(space_id, status)
    }

    /// The agent with this display name (case-insensitive) or actor id.
    pub fn agent(&self, name_or_id: &str) -> Option<Actor> {
        let state = self.shared.lock();
        state
            .find(name_or_id)
            .map(|i| state.actors[i].actor.clone())
    }

    /// Every agent not deleted, in creation order.
    pub fn agents(&self) -> Vec<Actor> {
        let state = self.shared.lock();
        state
            .live()
            .filter(|(_, r)| r.actor.is_agent())
            .map(|(_, r)| r.actor.clone())
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

    /// Gives the agent a new key outside any client, as another machine's
    /// rotation would: the old key stops working. false: no such agent.
    pub fn rotate_elsewhere(&self, name_or_id: &str) -> bool {
        let mut state = self.shared.lock();
        match state.find(name_or_id) {
            Some(i) => {
                state.issue_key(i);
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
