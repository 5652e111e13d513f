//! schemas/actor.schema.json describes what the sandbox answers and what the
//! wiremock fixtures of the API client tests serve.

use crate::common;

use moot::observed::api::{Actor, ApiClient, ClientOptions};
use moot::secret::Secret;
use moot_sandbox::{AgentSeed, Sandbox, SandboxConfig};
use serde_json::{Value, json};

fn schema() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/actor.schema.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn validator() -> jsonschema::Validator {
    let schema = schema();
    jsonschema::meta::validate(&schema).expect("a valid draft 2020-12 schema");
    jsonschema::draft202012::new(&schema).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, instance: &Value) {
    let errors: Vec<String> = v.iter_errors(instance).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?} in {instance}");
}

async fn post(url: &str, token: &str, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new().post(url).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap().json().await.unwrap()
}

async fn get(url: &str, token: &str) -> Value {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The schema lists the 18 fields in the order the server renders them
/// (the sandbox's Actor), and the older 16-field Actor of the fixtures is a
/// prefix of that order.
#[test]
fn the_schema_has_the_18_fields_and_the_required_ones() {
    let schema = schema();
    let props = schema["properties"].as_object().unwrap();
    assert_eq!(props.len(), 18);
    let schema_keys: Vec<_> = props.keys().map(String::as_str).collect();
    let sb = Sandbox::start(SandboxConfig::default());
    let rendered = serde_json::to_value(sb.agent("Product").unwrap()).unwrap();
    let rendered: Vec<_> = rendered.as_object().unwrap().keys().cloned().collect();
    assert_eq!(rendered, schema_keys, "same fields, same order");
    let fixture = common::actor_json("agt_1", "Product", "agent");
    let keys: Vec<_> = fixture
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, schema_keys[..keys.len()], "fixtures: a prefix");
    assert_eq!(
        schema["required"],
        json!(["actor_id", "display_name", "actor_type"])
    );
}

#[test]
fn wiremock_fixtures_validate_and_deserialize() {
    let v = validator();
    for fixture in common::all_fixtures() {
        assert_valid(&v, &fixture);
        let actor: Actor = serde_json::from_value(fixture.clone()).unwrap();
        assert_eq!(serde_json::to_value(&actor).unwrap(), fixture, "round trip");
    }
    assert!(
        !v.is_valid(&json!({"actor_id": "agt_1"})),
        "required fields"
    );
    assert!(!v.is_valid(&json!({
        "actor_id": "a", "display_name": "b", "actor_type": "agent",
        "created_at": "x", "updated_at": "y", "is_connected": "yes"
    })));
}

#[test]
fn the_sandbox_answers_match_the_schema() {
    let v = validator();
    let mut cfg = SandboxConfig::default();
    cfg.humans[0].agents.push(AgentSeed {
        display_name: "Keyed".into(),
        api_key: Some("convo_key_seeded".into()),
        metadata: Some(json!({"x": 1})),
        ..AgentSeed::default()
    });
    let sb = Sandbox::start(cfg);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let me = get(&format!("{}/api/actors/me", sb.url()), sb.token()).await;
        assert_valid(&v, &me);
        let agents = get(&format!("{}/api/actors/me/agents", sb.url()), sb.token()).await;
        let agents = agents.as_array().unwrap();
        assert_eq!(agents.len(), 5);
        for agent in agents {
            assert_valid(&v, agent);
            assert_eq!(agent.as_object().unwrap().len(), 18);
        }
        let as_agent = get(&format!("{}/api/actors/me", sb.url()), "convo_key_seeded").await;
        assert_valid(&v, &as_agent);

        let id = agents[0]["actor_id"].as_str().unwrap();
        // rotate-key and POST /api/agents answer the Actor and a ticket.
        let url = format!("{}/api/actors/{id}/rotate-key", sb.url());
        let mut rotated = post(&url, sb.token(), None).await;
        assert!(rotated.get("api_key").is_none(), "{rotated}");
        assert!(rotated["registration_ticket_id"].is_string(), "{rotated}");
        rotated
            .as_object_mut()
            .unwrap()
            .remove("registration_ticket_id");
        assert_valid(&v, &rotated);
        assert_eq!(rotated.as_object().unwrap().len(), 18);
        let url = format!("{}/api/agents", sb.url());
        let mut created = post(&url, sb.token(), Some(json!({"role": "librarian"}))).await;
        created
            .as_object_mut()
            .unwrap()
            .remove("registration_ticket_id");
        assert_valid(&v, &created);
        assert_eq!(created.as_object().unwrap().len(), 18);

        let client = ApiClient::new(
            sb.url(),
            Some(Secret::new(sb.token())),
            ClientOptions::BUILTIN,
        )
        .unwrap();
        let renamed = client.rename(id, "Product Owner").await.unwrap();
        assert_valid(&v, &serde_json::to_value(renamed).unwrap());
    });
}
