//! The sandbox's in-memory state and the rules it enforces.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{AgentSeed, SandboxConfig};
use crate::observed::api::Actor;

/// The state behind a lock, plus the switches that never change.
pub struct Shared {
    state: Mutex<State>,
    pub(super) latency: Duration,
    pub(super) verbose: bool,
}

impl Shared {
    pub(super) fn new(cfg: &SandboxConfig) -> Result<Self, String> {
        Ok(Shared {
            state: Mutex::new(State::new(cfg)?),
            latency: cfg.latency,
            verbose: cfg.verbose,
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked leaves consistent data (every change is
        // made after its checks), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(super) struct Record {
    pub actor: Actor,
    pub key: Option<String>,
}

pub(super) struct Ticket {
    pub actor: usize,
    pub key: String,
    pub issued: Instant,
    pub used: bool,
}

pub(super) struct State {
    pub actors: Vec<Record>,
    /// Personal access tokens and live agent keys -> index in `actors`.
    pub tokens: HashMap<String, usize>,
    pub tickets: HashMap<String, Ticket>,
    pub rotations: u64,
    /// Lower-cased display names or ids.
    pub fail_rotate: Vec<String>,
    pub ticket_mode: bool,
    pub ticket_ttl: Duration,
    next_agent: usize,
}

/// Why a request was refused: status and FastAPI-style `detail`.
pub(super) type Refusal = (u16, &'static str);

impl State {
    pub(super) fn new(cfg: &SandboxConfig) -> Result<Self, String> {
        let mut state = State {
            actors: Vec::new(),
            tokens: HashMap::new(),
            tickets: HashMap::new(),
            rotations: 0,
            fail_rotate: cfg.fail_rotate.iter().map(|f| f.to_lowercase()).collect(),
            ticket_mode: cfg.ticket_mode,
            ticket_ttl: cfg.ticket_ttl,
            next_agent: 1,
        };
        let now = now_iso();
        for (n, seed) in cfg.humans.iter().enumerate() {
            let n = n + 1;
            if !seed.token.starts_with("mootup_pat_") {
                return Err(format!(
                    "human {n}: a personal access token must start with `mootup_pat_`"
                ));
            }
            if state.tokens.contains_key(&seed.token) {
                return Err(format!("human {n}: the token is used twice"));
            }
            let actor = Actor {
                actor_id: seed
                    .actor_id
                    .clone()
                    .unwrap_or_else(|| format!("usr_sandbox_{n}")),
                display_name: seed.display_name.clone(),
                actor_type: "human".into(),
                sponsor_id: None,
                tenant_id: seed.tenant_id.clone(),
                is_admin: seed.is_admin,
                email: seed.email.clone(),
                agent_profile: None,
                api_key_prefix: None,
                default_space_id: seed
                    .default_space_id
                    .clone()
                    .unwrap_or_else(|| Some(format!("spc_sandbox_{n}"))),
                is_connected: None,
                focus_space_id: None,
                metadata: None,
                last_seen_at: None,
                created_at: now.clone(),
                updated_at: now.clone(),
                oauth_scopes: None,
                oauth_client_id: None,
            };
            if state
                .actors
                .iter()
                .any(|r| r.actor.actor_id == actor.actor_id)
            {
                return Err(format!("actor id {} is used twice", actor.actor_id));
            }
            let human = state.actors.len();
            state.tokens.insert(seed.token.clone(), human);
            state.actors.push(Record { actor, key: None });
            for agent in &seed.agents {
                if agent.display_name.trim().is_empty() {
                    return Err(format!("human {n}: an agent has no display_name"));
                }
                if let Some(key) = &agent.api_key
                    && state.tokens.contains_key(key)
                {
                    return Err(format!(
                        "agent {}: its key is used twice",
                        agent.display_name
                    ));
                }
                let i = state.add_agent(human, agent);
                if state.actors[..i]
                    .iter()
                    .any(|r| r.actor.actor_id == state.actors[i].actor.actor_id)
                {
                    return Err(format!(
                        "actor id {} is used twice",
                        state.actors[i].actor.actor_id
                    ));
                }
            }
        }
        for name in &cfg.connected {
            let i = state
                .find(name)
                .ok_or_else(|| format!("--connected {name}: no such agent"))?;
            state.actors[i].actor.is_connected = Some(true);
        }
        Ok(state)
    }

    /// Adds an agent sponsored by the human at `sponsor`; returns its index.
    pub(super) fn add_agent(&mut self, sponsor: usize, seed: &AgentSeed) -> usize {
        let now = now_iso();
        let sponsor_actor = &self.actors[sponsor].actor;
        let actor = Actor {
            actor_id: seed
                .actor_id
                .clone()
                .unwrap_or_else(|| format!("agt_sandbox_{:03}", self.next_agent)),
            display_name: seed.display_name.clone(),
            actor_type: "agent".into(),
            sponsor_id: Some(sponsor_actor.actor_id.clone()),
            tenant_id: sponsor_actor.tenant_id.clone(),
            is_admin: false,
            email: None,
            agent_profile: seed.agent_profile.clone(),
            api_key_prefix: seed.api_key.as_deref().map(prefix),
            default_space_id: None,
            is_connected: Some(seed.is_connected),
            focus_space_id: seed
                .focus_space_id
                .clone()
                .or_else(|| sponsor_actor.default_space_id.clone()),
            metadata: seed.metadata.clone(),
            last_seen_at: None,
            created_at: now.clone(),
            updated_at: now,
            oauth_scopes: None,
            oauth_client_id: None,
        };
        self.next_agent += 1;
        let i = self.actors.len();
        if let Some(key) = &seed.api_key {
            self.tokens.insert(key.clone(), i);
        }
        self.actors.push(Record {
            actor,
            key: seed.api_key.clone(),
        });
        i
    }

    /// An agent by actor id, or by display name (case-insensitive).
    pub(super) fn find(&self, name_or_id: &str) -> Option<usize> {
        self.actors
            .iter()
            .position(|r| r.actor.is_agent() && r.actor.actor_id == name_or_id)
            .or_else(|| {
                self.actors.iter().position(|r| {
                    r.actor.is_agent() && r.actor.display_name.eq_ignore_ascii_case(name_or_id)
                })
            })
    }

    pub(super) fn caller(&self, token: Option<&str>) -> Result<usize, Refusal> {
        match token {
            None => Err((401, "Not authenticated")),
            Some(t) => self
                .tokens
                .get(t)
                .copied()
                .ok_or((401, "Invalid or expired credentials")),
        }
    }

    /// The agent `id` if `caller` sponsors it; 404 otherwise (the backend
    /// does not say whether someone else's agent exists).
    pub(super) fn sponsored(&self, caller: usize, id: &str) -> Result<usize, Refusal> {
        let caller_id = &self.actors[caller].actor.actor_id;
        self.actors
            .iter()
            .position(|r| {
                r.actor.actor_id == id
                    && r.actor.is_agent()
                    && r.actor.sponsor_id.as_deref() == Some(caller_id.as_str())
            })
            .ok_or((404, "Actor not found"))
    }

    fn fails_rotation(&self, i: usize) -> bool {
        let actor = &self.actors[i].actor;
        self.fail_rotate.iter().any(|f| {
            f.eq_ignore_ascii_case(&actor.display_name) || f.eq_ignore_ascii_case(&actor.actor_id)
        })
    }

    /// rotate-key: the new key is live and the old one dead at once.
    pub(super) fn rotate(
        &mut self,
        caller: usize,
        id: &str,
        force: bool,
    ) -> Result<Issued, Refusal> {
        let i = self.sponsored(caller, id)?;
        if self.fails_rotation(i) {
            return Err((500, "Internal Server Error"));
        }
        if self.actors[i].actor.is_connected == Some(true) && !force {
            return Err((
                409,
                "Agent is connected; send X-Force-Rotate: true to rotate anyway",
            ));
        }
        let key = self.issue_key(i);
        // The old key no longer works, so the agent's session is gone.
        self.actors[i].actor.is_connected = Some(false);
        if self.ticket_mode {
            let ticket = format!("rtk_{}", random_hex(24));
            self.tickets.insert(
                ticket.clone(),
                Ticket {
                    actor: i,
                    key,
                    issued: Instant::now(),
                    used: false,
                },
            );
            return Ok(Issued::Ticket(i, ticket));
        }
        Ok(Issued::Key(i, key))
    }

    /// first-key: only for an agent that has none.
    pub(super) fn first_key(&mut self, caller: usize, id: &str) -> Result<Issued, Refusal> {
        let i = self.sponsored(caller, id)?;
        if self.actors[i].key.is_some() {
            return Err((409, "Agent already has an API key"));
        }
        let key = self.issue_key(i);
        Ok(Issued::Key(i, key))
    }

    fn issue_key(&mut self, i: usize) -> String {
        if let Some(old) = self.actors[i].key.take() {
            self.tokens.remove(&old);
        }
        let key = format!("convo_key_{}", random_hex(32));
        self.tokens.insert(key.clone(), i);
        let actor = &mut self.actors[i].actor;
        actor.api_key_prefix = Some(prefix(&key));
        actor.updated_at = now_iso();
        self.actors[i].key = Some(key.clone());
        self.rotations += 1;
        key
    }

    pub(super) fn exchange(&mut self, ticket: &str) -> Result<(usize, String), Refusal> {
        let ttl = self.ticket_ttl;
        let t = self
            .tickets
            .get_mut(ticket)
            .ok_or((404, "ticket_not_found"))?;
        if t.used {
            return Err((409, "ticket_already_used"));
        }
        if t.issued.elapsed() >= ttl {
            return Err((410, "ticket_expired"));
        }
        t.used = true;
        Ok((t.actor, t.key.clone()))
    }
}

pub(super) enum Issued {
    Key(usize, String),
    Ticket(usize, String),
}

fn prefix(key: &str) -> String {
    key.chars().take(8).collect()
}

/// Hex from std's randomly keyed hasher: unpredictable enough for a test
/// server, without a dependency.
fn random_hex(len: usize) -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(len);
    out
}

/// Now as ISO-8601 UTC with microseconds, like the backend's timestamps.
pub(super) fn now_iso() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        now.subsec_micros()
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn keys_differ() {
        assert_ne!(random_hex(32), random_hex(32));
        assert_eq!(random_hex(32).len(), 32);
    }
}
