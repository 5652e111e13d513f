//! What the sandbox starts with (humans, agents) and its switches: the
//! platform's behaviour (Revision 2 unless `legacy`), its limits, and the
//! faults tests inject.

use std::time::Duration;

use serde::Deserialize;

use crate::limit::ExchangeRate;

/// The default personal access token of the seeded human.
pub const DEFAULT_TOKEN: &str = "mootup_pat_sandbox";

/// The agents the default human sponsors: the loop-4 roles, keyless.
pub const DEFAULT_AGENTS: &[&str] = &["Product", "Spec", "Implementation", "QA"];

/// What the sandbox starts with, and its switches. The default is today's
/// platform ("Revision 2": agents get keys through registration tickets,
/// `POST /api/agents`, `DELETE`, `GET /api/spaces/{id}`, the error
/// envelope) with no exchange rate limit, so tests that do not study the
/// limit are not slowed by it (the binary applies the platform's limit by
/// default).
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Humans, each with a personal access token and the agents they sponsor.
    pub humans: Vec<HumanSeed>,
    /// Agents (display name or actor id, case-insensitive) whose rotation
    /// answers 500 without rotating.
    pub fail_rotate: Vec<String>,
    /// Agents (display name or actor id) that start connected.
    pub connected: Vec<String>,
    /// Roles (case-insensitive) whose `POST /api/agents` answers 500 and
    /// creates nothing.
    pub fail_create: Vec<String>,
    /// Roles whose `POST /api/agents` creates the agent but answers 500, as
    /// when the answer is lost on the way back.
    pub lose_create: Vec<String>,
    /// Added to every request before it is handled.
    pub latency: Duration,
    /// rotate-key and first-key answer with a `registration_ticket_id`
    /// instead of the key (always so on today's platform; a legacy server
    /// answers the key itself unless this is set).
    pub ticket_mode: bool,
    /// How long a registration ticket lives (the platform: 5 minutes).
    pub ticket_ttl: Duration,
    /// The exchange's rate limit per client address; None: unlimited.
    pub exchange_rate: Option<ExchangeRate>,
    /// The server of the older contract: no `POST /api/agents`, no
    /// `DELETE /api/actors/{id}`, no `GET /api/spaces/{id}`, errors as
    /// `{"detail": ...}`.
    pub legacy: bool,
    /// Serve `POST /api/agents` (off: 404, as on a server without it).
    pub agents_endpoint: bool,
    /// Serve `POST /api/agents/{id}/first-key` (off: 404).
    pub first_key_endpoint: bool,
    /// The status `GET /api/spaces/{id}` reports (`active`, `archived`, ...).
    pub space_status: String,
    /// Log one line per request on stderr (never a token or a key).
    pub verbose: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            humans: vec![HumanSeed::default()],
            fail_rotate: Vec::new(),
            connected: Vec::new(),
            fail_create: Vec::new(),
            lose_create: Vec::new(),
            latency: Duration::ZERO,
            ticket_mode: true,
            ticket_ttl: Duration::from_secs(5 * 60),
            exchange_rate: None,
            legacy: false,
            agents_endpoint: true,
            first_key_endpoint: true,
            space_status: "active".into(),
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
        crate::state::State::new(self).map(drop)
    }

    /// The server of the older contract (see [`SandboxConfig::legacy`]):
    /// rotate-key answers the key itself.
    pub fn legacy(mut self) -> Self {
        self.legacy = true;
        self.ticket_mode = false;
        self
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
