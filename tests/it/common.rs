//! Fixtures shared by the integration tests.

use serde_json::{Value, json};

/// A full 18-field Actor body, as today's `Actor.model_dump()` gives it.
pub fn actor_json(actor_id: &str, display_name: &str, actor_type: &str) -> Value {
    let agent = actor_type == "agent";
    json!({
        "actor_id": actor_id,
        "display_name": display_name,
        "actor_type": actor_type,
        "sponsor_id": if agent { json!("usr_owner") } else { Value::Null },
        "tenant_id": "tnt_1",
        "is_admin": false,
        "email": if agent { Value::Null } else { json!("ada@example.com") },
        "agent_profile": if agent { json!("devcontainer") } else { Value::Null },
        "api_key_prefix": if agent { json!("convo_ke") } else { Value::Null },
        "default_space_id": if agent { Value::Null } else { json!("spc_home") },
        "is_connected": if agent { json!(false) } else { Value::Null },
        "focus_space_id": if agent { json!("spc_home") } else { Value::Null },
        "metadata": if agent { json!({"role": display_name.to_lowercase()}) } else { Value::Null },
        "last_seen_at": if agent { json!("2025-01-02T03:04:05.000006+00:00") } else { Value::Null },
        "created_at": "2025-01-01T00:00:00+00:00",
        "updated_at": "2025-01-02T00:00:00+00:00",
        "oauth_scopes": Value::Null,
        "oauth_client_id": Value::Null,
    })
}

/// The platform's error envelope.
pub fn error_envelope(code: &str, message: &str, request_id: &str) -> Value {
    json!({"code": code, "message": message, "request_id": request_id, "detail": Value::Null})
}

/// Every fixture shape the API client tests serve.
pub fn all_fixtures() -> Vec<Value> {
    vec![
        actor_json("usr_owner", "Ada", "human"),
        actor_json("agt_1", "Product", "agent"),
        actor_json("agt_2", "QA", "agent"),
    ]
}

pub const TOKEN: &str = "mootup_pat_test_0123456789";
