//! The calls that create, key and delete agents, and read the space
//! (`schemas/api-endpoints.json` lists them; docs/design.md "Tickets under
//! the rate limit" says why they are shaped so).
//! Every key the platform issues to an agent passes through a registration
//! ticket; these calls return the ticket (`Minted::Ticket`) and leave the
//! exchange to the caller, which paces it under the server's rate limit.
//! Older servers answer with the key itself (`Minted::Key`).

use reqwest::StatusCode;
use serde::Deserialize;

use super::{
    Actor, ApiClient, ApiError, Call, IssuedKey, Kind, endpoints, non_empty_str, parse,
    parse_secret_bearing,
};
use crate::secret::Secret;

/// A registration ticket: a bearer secret for its lifetime.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub actor_id: String,
    pub id: Secret,
}

/// What a key-issuing call answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Minted {
    Key(IssuedKey),
    Ticket(Ticket),
}

/// `POST /api/agents`: the new agent and its first key (or ticket).
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub actor: Actor,
    pub minted: Minted,
}

/// `GET /api/spaces/{id}` (no name field: the name stays the id).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Space {
    pub space_id: String,
    #[serde(default)]
    pub status: Option<String>,
}

impl ApiClient {
    /// `POST /api/actors/{id}/rotate-key`, sent once: the old key dies.
    pub async fn mint_rotation(&self, actor_id: &str, force: bool) -> Result<Minted, ApiError> {
        let (call, _) = endpoints::ROTATE_KEY.call(&[actor_id])?;
        let (status, body) = self.send(&call, Kind::Rotate, None, true, force).await?;
        minted(&call, status, &body, actor_id)
    }

    /// `POST /api/agents/{id}/first-key`, sent once: never replaces a key
    /// (409 `AlreadyKeyed` when the agent has one).
    pub async fn mint_first_key(&self, agent_id: &str) -> Result<Minted, ApiError> {
        let (call, _) = endpoints::FIRST_KEY.call(&[agent_id])?;
        let (status, body) = self.send(&call, Kind::FirstKey, None, true, false).await?;
        minted(&call, status, &body, agent_id)
    }

    /// `POST /api/agents` with the role (and the profile only when one is
    /// declared). Sent once: a lost answer is never retried, the next plan
    /// finds the agent by name instead.
    pub async fn create_agent(
        &self,
        role: &str,
        agent_profile: Option<&str>,
    ) -> Result<Created, ApiError> {
        let (call, _) = endpoints::CREATE_AGENT.call(&[])?;
        let mut body = serde_json::json!({ "role": role });
        if let Some(p) = agent_profile {
            body["agent_profile"] = serde_json::Value::String(p.to_string());
        }
        let (status, bytes) = self
            .send(&call, Kind::Write, Some(body), true, false)
            .await?;
        let value: serde_json::Value = parse_secret_bearing(&call, status, &bytes)?;
        let actor: Actor =
            serde_json::from_value(value.clone()).map_err(|_| ApiError::InvalidBody {
                call: call.clone(),
                status: status.as_u16(),
                reason: "the answer is not an agent".into(),
                snippet: None,
            })?;
        let minted = minted_value(&call, status, &value, &actor.actor_id)?;
        Ok(Created { actor, minted })
    }

    /// `DELETE /api/actors/{id}`.
    pub async fn delete_actor(&self, actor_id: &str) -> Result<(), ApiError> {
        let (call, _) = endpoints::DELETE_ACTOR.call(&[actor_id])?;
        self.send(&call, Kind::Write, None, true, false).await?;
        Ok(())
    }

    /// The space, or None from a server that has no such route (older
    /// servers know only PATCH there: 404 or 405).
    pub async fn space(&self, space_id: &str) -> Result<Option<Space>, ApiError> {
        let (call, _) = endpoints::SPACE.call(&[space_id])?;
        match self.send(&call, Kind::Read, None, true, false).await {
            Ok((status, body)) => parse(&call, status, &body, self.redact_list()).map(Some),
            Err(e) if e.is_unknown_route() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn minted(
    call: &Call,
    status: StatusCode,
    body: &[u8],
    actor_id: &str,
) -> Result<Minted, ApiError> {
    let value: serde_json::Value = parse_secret_bearing(call, status, body)?;
    minted_value(call, status, &value, actor_id)
}

/// The key or the ticket in an answer; an answer for another actor is
/// refused (storing it under this role would hand the role someone else's
/// key).
fn minted_value(
    call: &Call,
    status: StatusCode,
    value: &serde_json::Value,
    actor_id: &str,
) -> Result<Minted, ApiError> {
    let field = |name: &str| non_empty_str(value.get(name));
    let owner = field("actor_id").or(field("agent_id")).unwrap_or(actor_id);
    if owner != actor_id {
        return Err(ApiError::InvalidBody {
            call: call.clone(),
            status: status.as_u16(),
            reason: format!("the key issued is for actor {owner}, not {actor_id}"),
            snippet: None,
        });
    }
    if let Some(key) = field("api_key") {
        let api_key = Secret::new(key);
        return Ok(Minted::Key(IssuedKey {
            actor_id: actor_id.to_string(),
            api_key_prefix: field("api_key_prefix")
                .map(str::to_string)
                .or_else(|| Some(api_key.prefix().to_string())),
            api_key,
            display_name: field("display_name").map(str::to_string),
        }));
    }
    match field("registration_ticket_id") {
        Some(t) => Ok(Minted::Ticket(Ticket {
            actor_id: actor_id.to_string(),
            id: Secret::new(t),
        })),
        None => Err(ApiError::EmptyKey {
            call: call.clone(),
            status: status.as_u16(),
        }),
    }
}

/// A key from an exchange must belong to the agent the ticket was for.
pub(super) fn check_owner(key: IssuedKey, actor_id: &str) -> Result<IssuedKey, ApiError> {
    if key.actor_id == actor_id {
        return Ok(key);
    }
    let (call, _) = endpoints::EXCHANGE.masked_call(&["x"])?;
    Err(ApiError::InvalidBody {
        call,
        status: 200,
        reason: format!(
            "the key issued is for actor {}, not {actor_id}",
            key.actor_id
        ),
        snippet: None,
    })
}
