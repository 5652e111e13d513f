//! Every (method, path) the client can call, in one list. A call is made
//! only through one of these constants, so the list is complete by
//! construction; `schemas/api-endpoints.json` records the platform's
//! published routes and a test holds this list against it.

use reqwest::Method;

use super::{ApiError, Call, IdKind, segment};

/// One route of the API. `{name}` marks a path parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
}

pub const HEALTH: Endpoint = Endpoint::new("GET", "/health");
pub const ME: Endpoint = Endpoint::new("GET", "/api/actors/me");
pub const MY_AGENTS: Endpoint = Endpoint::new("GET", "/api/actors/me/agents");
pub const SPACE: Endpoint = Endpoint::new("GET", "/api/spaces/{space_id}");
pub const CREATE_AGENT: Endpoint = Endpoint::new("POST", "/api/agents");
pub const FIRST_KEY: Endpoint = Endpoint::new("POST", "/api/agents/{agent_id}/first-key");
pub const ROTATE_KEY: Endpoint = Endpoint::new("POST", "/api/actors/{actor_id}/rotate-key");
pub const EXCHANGE: Endpoint =
    Endpoint::new("POST", "/api/registration-tickets/{ticket_id}/exchange");
pub const PATCH_ACTOR: Endpoint = Endpoint::new("PATCH", "/api/actors/{actor_id}");
pub const DELETE_ACTOR: Endpoint = Endpoint::new("DELETE", "/api/actors/{actor_id}");

/// Every route moot calls.
pub const ENDPOINTS: [Endpoint; 10] = [
    HEALTH,
    ME,
    MY_AGENTS,
    SPACE,
    CREATE_AGENT,
    FIRST_KEY,
    ROTATE_KEY,
    EXCHANGE,
    PATCH_ACTOR,
    DELETE_ACTOR,
];

impl Endpoint {
    const fn new(method: &'static str, path: &'static str) -> Self {
        Endpoint { method, path }
    }

    fn method(&self) -> Method {
        Method::from_bytes(self.method.as_bytes()).unwrap_or(Method::GET)
    }

    /// The path with each `{parameter}` replaced, in order, by an encoded
    /// argument.
    pub(super) fn fill(&self, args: &[&str]) -> Result<String, ApiError> {
        let mut out = String::with_capacity(self.path.len() + 32);
        let mut args = args.iter();
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            out.push_str(&rest[..open]);
            let arg = args.next().ok_or_else(|| ApiError::InvalidUrl {
                url: self.path.into(),
                reason: "a path parameter is missing".into(),
            })?;
            // A ticket id is as good as a key: its errors never show it.
            let kind = match &rest[open..close] {
                "{ticket_id}" => IdKind::Ticket,
                _ => IdKind::Actor,
            };
            out.push_str(&segment(arg, kind)?);
            rest = &rest[close..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The call as errors show it, and the real path to send.
    pub(super) fn call(&self, args: &[&str]) -> Result<(Call, String), ApiError> {
        let path = self.fill(args)?;
        Ok((Call::new(self.method(), path.clone()), path))
    }

    /// Like `call`, with the parameters left as `(name)` in what errors show:
    /// for a path that carries a secret (a ticket id).
    pub(super) fn masked_call(&self, args: &[&str]) -> Result<(Call, String), ApiError> {
        let path = self.fill(args)?;
        let shown = self.path.replace("{ticket_id}", "(ticket)");
        Ok((Call::new(self.method(), shown), path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_parameters_in_order_and_encodes_them() {
        assert_eq!(
            ROTATE_KEY.fill(&["agt_1"]).unwrap(),
            "/api/actors/agt_1/rotate-key"
        );
        assert_eq!(ME.fill(&[]).unwrap(), "/api/actors/me");
        assert_eq!(PATCH_ACTOR.fill(&["a/b"]).unwrap(), "/api/actors/a%2Fb");
        assert!(PATCH_ACTOR.fill(&[]).is_err());
        assert!(PATCH_ACTOR.fill(&[".."]).is_err());
    }

    #[test]
    fn a_ticket_never_shows() {
        let (call, path) = EXCHANGE.masked_call(&["tkt_secret"]).unwrap();
        assert!(!call.to_string().contains("tkt_secret"));
        assert!(path.contains("tkt_secret"));
    }
}
