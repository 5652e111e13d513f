//! The sandbox's in-memory state and the rules it enforces.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::actor::Actor;
use crate::config::{AgentSeed, HumanSeed, SandboxConfig};
use crate::limit::Limiter;
use crate::refusal::Refusal;
use crate::routes::Surface;

/// The state behind a lock, plus the switches that never change.
pub struct Shared {
    state: Mutex<State>,
    /// The exchange's rate limit, apart from the state so that a refused
    /// exchange does not wait on the state's lock.
    pub(crate) limiter: Option<Mutex<Limiter>>,
    pub(crate) latency: Duration,
    pub(crate) verbose: bool,
    pub(crate) surface: Surface,
}

impl Shared {
    pub(crate) fn new(cfg: &SandboxConfig) -> Result<Self, String> {
        Ok(Shared {
            state: Mutex::new(State::new(cfg)?),
            limiter: cfg.exchange_rate.map(|r| Mutex::new(Limiter::new(r))),
            latency: cfg.latency,
            verbose: cfg.verbose,
            surface: Surface {
                legacy: cfg.legacy,
                agents_endpoint: cfg.agents_endpoint,
                first_key_endpoint: cfg.first_key_endpoint,
            },
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A handler that panicked leaves consistent data (every change is
        // made after its checks), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) struct Record {
    pub actor: Actor,
    pub key: Option<String>,
    /// Deleted actors stay as tombstones so that indices stay valid; every
    /// lookup skips them and they hold no key.
    pub deleted: bool,
}

pub(crate) struct Ticket {
    pub actor: usize,
    pub key: String,
    pub minted: Instant,
    pub used: bool,
}

/// A space: each human's default space.
pub(crate) struct Space {
    pub space_id: String,
    pub status: String,
    pub created_at: String,
    /// Set when the space is not active.
    pub ended_at: Option<String>,
}

/// What tests read to assert on the calls a client made.
#[derive(Debug, Default, Clone)]
pub(crate) struct Counters {
    /// Keys issued (rotate-key, first-key, create), per actor id.
    pub keys_issued: HashMap<String, u64>,
    pub tickets_minted: u64,
    pub tickets_exchanged: u64,
    /// Exchanges answered 429.
    pub rate_limited: u64,
    /// Requests other than GET and HEAD, whatever their answer.
    pub mutating_calls: u64,
    /// `METHOD path -> status` of every request (ticket ids masked).
    pub requests: Vec<String>,
}

pub(crate) struct State {
    pub actors: Vec<Record>,
    /// Personal access tokens and live agent keys -> index in `actors`.
    pub tokens: HashMap<String, usize>,
    pub tickets: HashMap<String, Ticket>,
    pub spaces: Vec<Space>,
    space_status: String,
    /// Lower-cased display names or ids.
    pub fail_rotate: Vec<String>,
    /// Lower-cased roles whose creation answers 500 without creating.
    pub fail_create: Vec<String>,
    /// Lower-cased roles whose creation happens but answers 500.
    pub lose_create: Vec<String>,
    pub ticket_mode: bool,
    pub ticket_ttl: Duration,
    pub counters: Counters,
    next_agent: usize,
}

/// What a key-issuing call hands out: the key itself (legacy rotate-key) or
/// a ticket to exchange for it.
pub(crate) enum Issued {
    Key(usize, String),
    Ticket(usize, String),
}

fn lower(names: &[String]) -> Vec<String> {
    names.iter().map(|f| f.to_lowercase()).collect()
}

impl State {
    pub(crate) fn new(cfg: &SandboxConfig) -> Result<Self, String> {
        let mut state = State {
            actors: Vec::new(),
            tokens: HashMap::new(),
            tickets: HashMap::new(),
            spaces: Vec::new(),
            space_status: cfg.space_status.clone(),
            fail_rotate: lower(&cfg.fail_rotate),
            fail_create: lower(&cfg.fail_create),
            lose_create: lower(&cfg.lose_create),
            ticket_mode: cfg.ticket_mode,
            ticket_ttl: cfg.ticket_ttl,
            counters: Counters::default(),
            next_agent: 1,
        };
        for (n, seed) in cfg.humans.iter().enumerate() {
            let human = state.seed_human(n + 1, seed)?;
            for agent in &seed.agents {
                state.seed_agent(n + 1, human, agent)?;
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

    /// Adds the `n`th human of the seed; returns its index.
    fn seed_human(&mut self, n: usize, seed: &HumanSeed) -> Result<usize, String> {
        if !seed.token.starts_with("mootup_pat_") {
            return Err(format!(
                "human {n}: a personal access token must start with `mootup_pat_`"
            ));
        }
        if self.tokens.contains_key(&seed.token) {
            return Err(format!("human {n}: the token is used twice"));
        }
        let now = now_iso();
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
        if self.live().any(|(_, r)| r.actor.actor_id == actor.actor_id) {
            return Err(format!("actor id {} is used twice", actor.actor_id));
        }
        if let Some(space_id) = &actor.default_space_id {
            self.spaces.push(Space {
                space_id: space_id.clone(),
                status: String::new(),
                created_at: now,
                ended_at: None,
            });
            let status = self.space_status.clone();
            self.set_space_status(space_id, &status);
        }
        let human = self.actors.len();
        self.tokens.insert(seed.token.clone(), human);
        self.actors.push(Record {
            actor,
            key: None,
            deleted: false,
        });
        Ok(human)
    }

    fn seed_agent(&mut self, n: usize, human: usize, agent: &AgentSeed) -> Result<(), String> {
        if agent.display_name.trim().is_empty() {
            return Err(format!("human {n}: an agent has no display_name"));
        }
        if let Some(key) = &agent.api_key
            && self.tokens.contains_key(key)
        {
            return Err(format!(
                "agent {}: its key is used twice",
                agent.display_name
            ));
        }
        let i = self.add_agent(human, agent);
        let id = &self.actors[i].actor.actor_id;
        if self.actors[..i].iter().any(|r| r.actor.actor_id == *id) {
            return Err(format!("actor id {id} is used twice"));
        }
        Ok(())
    }

    /// Adds an agent sponsored by the human at `sponsor`; returns its index.
    pub(crate) fn add_agent(&mut self, sponsor: usize, seed: &AgentSeed) -> usize {
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
            deleted: false,
        });
        i
    }

    /// Every actor not deleted, with its index.
    pub(crate) fn live(&self) -> impl Iterator<Item = (usize, &Record)> {
        self.actors.iter().enumerate().filter(|(_, r)| !r.deleted)
    }

    /// An agent by actor id, or by display name (case-insensitive).
    pub(crate) fn find(&self, name_or_id: &str) -> Option<usize> {
        let agents = || self.live().filter(|(_, r)| r.actor.is_agent());
        agents()
            .find(|(_, r)| r.actor.actor_id == name_or_id)
            .or_else(|| {
                agents().find(|(_, r)| r.actor.display_name.eq_ignore_ascii_case(name_or_id))
            })
            .map(|(i, _)| i)
    }

    /// The agents the human at `human` sponsors, in creation order.
    pub(crate) fn agents_of(&self, human: usize) -> impl Iterator<Item = &Actor> {
        let id = self.actors[human].actor.actor_id.clone();
        self.live()
            .map(|(_, r)| &r.actor)
            .filter(move |a| a.is_agent() && a.sponsor_id.as_deref() == Some(id.as_str()))
    }

    pub(crate) fn caller(&self, token: Option<&str>) -> Result<usize, Refusal> {
        let token =
            token.ok_or_else(|| Refusal::new(401, "not_authenticated", "Not authenticated"))?;
        self.tokens.get(token).copied().ok_or_else(|| {
            Refusal::new(401, "invalid_credentials", "Invalid or expired credentials")
        })
    }

    /// The caller, if it is a human (agents may not manage agents).
    pub(crate) fn human_caller(&self, token: Option<&str>) -> Result<usize, Refusal> {
        let caller = self.caller(token)?;
        if !self.actors[caller].actor.is_human() {
            return Err(Refusal::new(
                403,
                "forbidden",
                "Only human users can manage agents",
            ));
        }
        Ok(caller)
    }

    /// The agent `id` if `caller` sponsors it; 404 otherwise (the backend
    /// does not say whether someone else's agent exists).
    pub(crate) fn sponsored(&self, caller: usize, id: &str) -> Result<usize, Refusal> {
        let caller_id = &self.actors[caller].actor.actor_id;
        self.live()
            .find(|(_, r)| {
                r.actor.actor_id == id
                    && r.actor.is_agent()
                    && r.actor.sponsor_id.as_deref() == Some(caller_id.as_str())
            })
            .map(|(i, _)| i)
            .ok_or_else(|| Refusal::not_found("Actor"))
    }

    fn listed(list: &[String], actor: &Actor) -> bool {
        list.iter().any(|f| {
            f.eq_ignore_ascii_case(&actor.display_name) || f.eq_ignore_ascii_case(&actor.actor_id)
        })
    }

    /// rotate-key: the new key is live and the old one dead at once.
    pub(crate) fn rotate(
        &mut self,
        caller: usize,
        id: &str,
        force: bool,
    ) -> Result<Issued, Refusal> {
        let i = self.sponsored(caller, id)?;
        if Self::listed(&self.fail_rotate, &self.actors[i].actor) {
            return Err(Refusal::new(500, "internal_error", "Internal Server Error"));
        }
        if self.actors[i].actor.is_connected == Some(true) && !force {
            return Err(Refusal::new(
                409,
                "agent_connected",
                "Agent is connected; send X-Force-Rotate: true to rotate anyway",
            ));
        }
        // The old key no longer works, so the agent's session is gone.
        self.actors[i].actor.is_connected = Some(false);
        Ok(self.issue(i))
    }

    /// first-key: only for an agent that has none, so it can never destroy
    /// a key someone issued meanwhile.
    pub(crate) fn first_key(&mut self, caller: usize, id: &str) -> Result<Issued, Refusal> {
        let i = self.sponsored(caller, id)?;
        if self.actors[i].key.is_some() {
            return Err(Refusal::new(
                409,
                "agent_has_key",
                "Agent already has an API key",
            ));
        }
        Ok(self.issue(i))
    }

    /// POST /api/agents: a new keyless agent named after its role, then its
    /// first key behind a ticket.
    pub(crate) fn create(
        &mut self,
        caller: usize,
        role: &str,
        agent_profile: Option<String>,
    ) -> Result<usize, Refusal> {
        let role_lower = role.to_lowercase();
        if self.fail_create.contains(&role_lower) {
            return Err(Refusal::new(500, "internal_error", "Internal Server Error"));
        }
        let seed = AgentSeed {
            agent_profile,
            ..AgentSeed::named(role)
        };
        let i = self.add_agent(caller, &seed);
        if self.lose_create.contains(&role_lower) {
            // Created, but the answer is lost on the way back.
            return Err(Refusal::new(500, "internal_error", "Internal Server Error"));
        }
        Ok(i)
    }

    /// DELETE /api/actors/{id}: the agent, its key and its tickets go.
    pub(crate) fn delete(&mut self, caller: usize, id: &str) -> Result<(), Refusal> {
        let i = self.sponsored(caller, id)?;
        if let Some(key) = self.actors[i].key.take() {
            self.tokens.remove(&key);
        }
        self.tickets.retain(|_, t| t.actor != i);
        self.actors[i].deleted = true;
        Ok(())
    }

    /// A key for the agent at `i`, handed out directly or behind a ticket.
    pub(crate) fn issue(&mut self, i: usize) -> Issued {
        let key = self.issue_key(i);
        if self.ticket_mode {
            Issued::Ticket(i, self.mint_ticket(i, key))
        } else {
            Issued::Key(i, key)
        }
    }

    pub(crate) fn mint_ticket(&mut self, i: usize, key: String) -> String {
        let ticket = format!("rtk_{}", random_hex(24));
        self.tickets.insert(
            ticket.clone(),
            Ticket {
                actor: i,
                key,
                minted: Instant::now(),
                used: false,
            },
        );
        self.counters.tickets_minted += 1;
        ticket
    }

    pub(crate) fn issue_key(&mut self, i: usize) -> String {
        if let Some(old) = self.actors[i].key.take() {
            self.tokens.remove(&old);
        }
        let key = format!("convo_key_{}", random_hex(32));
        self.tokens.insert(key.clone(), i);
        let actor = &mut self.actors[i].actor;
        actor.api_key_prefix = Some(prefix(&key));
        actor.updated_at = now_iso();
        *self
            .counters
            .keys_issued
            .entry(actor.actor_id.clone())
            .or_default() += 1;
        self.actors[i].key = Some(key.clone());
        key
    }

    pub(crate) fn exchange(&mut self, ticket: &str) -> Result<(usize, String), Refusal> {
        let ttl = self.ticket_ttl;
        let t = self.tickets.get_mut(ticket).ok_or_else(|| {
            Refusal::new(404, "ticket_not_found", "Registration ticket not found")
        })?;
        if t.used {
            return Err(Refusal::new(
                409,
                "ticket_already_used",
                "Registration ticket was already used",
            ));
        }
        if t.minted.elapsed() >= ttl {
            return Err(Refusal::new(
                410,
                "ticket_expired",
                "Registration ticket has expired",
            ));
        }
        t.used = true;
        self.counters.tickets_exchanged += 1;
        Ok((t.actor, t.key.clone()))
    }

    /// Tickets never exchanged whose lifetime is over.
    pub(crate) fn tickets_expired(&self) -> u64 {
        let ttl = self.ticket_ttl;
        self.tickets
            .values()
            .filter(|t| !t.used && t.minted.elapsed() >= ttl)
            .count() as u64
    }

    /// Sets a space's status; a space that is not active has ended.
    pub(crate) fn set_space_status(&mut self, id: &str, status: &str) -> bool {
        let Some(space) = self.spaces.iter_mut().find(|s| s.space_id == id) else {
            return false;
        };
        space.status = status.to_string();
        space.ended_at = (status != "active").then(now_iso);
        true
    }

    pub(crate) fn space(&self, id: &str) -> Option<&Space> {
        self.spaces.iter().find(|s| s.space_id == id)
    }

    /// Keys issued in all (rotate-key, first-key, create).
    pub(crate) fn keys_issued_total(&self) -> u64 {
        self.counters.keys_issued.values().sum()
    }
}

fn prefix(key: &str) -> String {
    key.chars().take(8).collect()
}

/// Hex from std's randomly keyed hasher: unpredictable enough for a test
/// server, without a dependency.
pub(crate) fn random_hex(len: usize) -> String {
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
