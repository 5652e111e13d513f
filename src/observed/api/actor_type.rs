//! What kind of actor the API returned: a person or an agent, or a kind
//! this moot does not know yet (kept as the server's text, so a newer
//! server's actors are listed and round-trip, never mistaken for either).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ActorType {
    Human,
    Agent,
    /// Any other `actor_type`, exactly as the server wrote it.
    Other(String),
}

impl ActorType {
    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            ActorType::Human => "human",
            ActorType::Agent => "agent",
            ActorType::Other(text) => text,
        }
    }
}

impl From<String> for ActorType {
    fn from(text: String) -> Self {
        match text.as_str() {
            "human" => ActorType::Human,
            "agent" => ActorType::Agent,
            _ => ActorType::Other(text),
        }
    }
}

impl From<&str> for ActorType {
    fn from(text: &str) -> Self {
        ActorType::from(text.to_string())
    }
}

impl From<ActorType> for String {
    fn from(kind: ActorType) -> Self {
        match kind {
            ActorType::Other(text) => text,
            known @ (ActorType::Human | ActorType::Agent) => known.as_str().to_string(),
        }
    }
}

/// By wire text: `Other("agent")`, however it was built, is an agent.
impl PartialEq for ActorType {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ActorType {}

/// Compares with the wire text, as the `String` it replaces did.
impl PartialEq<&str> for ActorType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for ActorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_kinds_round_trip_their_text() {
        for (text, kind) in [
            ("human", ActorType::Human),
            ("agent", ActorType::Agent),
            ("service", ActorType::Other("service".into())),
            ("Agent", ActorType::Other("Agent".into())),
        ] {
            let json = serde_json::to_string(text).unwrap();
            let parsed: ActorType = serde_json::from_str(&json).unwrap();
            // The variant, not only the text: "agent" is never Other.
            assert_eq!(
                std::mem::discriminant(&parsed),
                std::mem::discriminant(&kind)
            );
            assert_eq!(parsed, kind);
            assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
        }
    }

    #[test]
    fn an_unknown_kind_is_neither_person_nor_agent() {
        let kind = ActorType::from("robot");
        assert_ne!(kind, ActorType::Human);
        assert_ne!(kind, ActorType::Agent);
        assert_eq!(kind.to_string(), "robot");
    }
}
