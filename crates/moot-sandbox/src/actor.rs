//! The Actor as the platform renders it (Revision 2: 18 fields, in this
//! order). The sandbox's own model: it does not share moot's client type, so
//! the stand-in keeps answering what the server answers even when the client
//! chooses to read less.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub actor_id: String,
    pub display_name: String,
    pub actor_type: String,
    pub sponsor_id: Option<String>,
    pub tenant_id: Option<String>,
    pub is_admin: bool,
    pub email: Option<String>,
    pub agent_profile: Option<String>,
    pub api_key_prefix: Option<String>,
    pub default_space_id: Option<String>,
    pub is_connected: Option<bool>,
    pub focus_space_id: Option<String>,
    pub metadata: Option<serde_json::Value>,
    pub last_seen_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Scopes of an OAuth-issued credential; null for key and PAT actors.
    pub oauth_scopes: Option<Vec<String>>,
    /// The OAuth client an actor was created through; null otherwise.
    pub oauth_client_id: Option<String>,
}

impl Actor {
    pub fn is_agent(&self) -> bool {
        self.actor_type == "agent"
    }

    pub fn is_human(&self) -> bool {
        self.actor_type == "human"
    }
}
