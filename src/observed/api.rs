//! The Moot API client.

use serde::{Deserialize, Serialize};

/// `Actor.model_dump()`: 16 fields. Unknown fields are ignored and optional
/// ones may be missing (the backend adds fields over time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub actor_id: String,
    pub display_name: String,
    pub actor_type: String,
    #[serde(default)]
    pub sponsor_id: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub agent_profile: Option<String>,
    #[serde(default)]
    pub api_key_prefix: Option<String>,
    #[serde(default)]
    pub default_space_id: Option<String>,
    #[serde(default)]
    pub is_connected: Option<bool>,
    #[serde(default)]
    pub focus_space_id: Option<String>,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
    #[serde(default)]
    pub last_seen_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("HTTP {status} from {url}")]
    Status { status: u16, url: String },
}

impl ApiError {
    pub fn hint(&self) -> Option<String> {
        None
    }
}
