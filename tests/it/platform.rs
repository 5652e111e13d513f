//! Today's platform against wiremock: the endpoint contract, first-key and
//! its fallback, create and delete, the error envelope, and the ticket
//! exchange under a rate limit.

use crate::common;

use std::time::Duration;

use common::{TOKEN, actor_json, error_envelope};
use moot::observed::api::{ApiClient, ApiError, ClientOptions, ENDPOINTS, Minted};
use moot::secret::Secret;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer) -> ApiClient {
    let opts = ClientOptions {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        retries: 0,
    };
    ApiClient::new(&server.uri(), Some(Secret::new(TOKEN)), opts).unwrap()
}

#[test]
fn every_call_is_in_the_contract_file() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/api-endpoints.json");
    let contract: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let listed: Vec<(String, String)> = contract["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_string(),
                e["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ours: Vec<(String, String)> = ENDPOINTS
        .iter()
        .map(|e| (e.method.to_string(), e.path.to_string()))
        .collect();
    for call in &ours {
        assert!(listed.contains(call), "{call:?} is not in the contract");
    }
    for call in &listed {
        assert!(
            ours.contains(call),
            "{call:?} is in the contract but never called"
        );
    }
}

#[tokio::test]
async fn first_key_returns_a_ticket_and_409_means_already_keyed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/agents/agt_1/first-key"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"registration_ticket_id": "tkt_1", "agent_id": "agt_1"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/agents/agt_1/first-key"))
        .respond_with(ResponseTemplate::new(409).set_body_json(error_envelope(
            "agent_has_key",
            "agent already has a key",
            "req_42",
        )))
        .mount(&server)
        .await;
    let c = client(&server);
    match c.mint_first_key("agt_1").await.unwrap() {
        Minted::Ticket(t) => assert_eq!(t.actor_id, "agt_1"),
        Minted::Key(_) => panic!("expected a ticket"),
    }
    let err = c.mint_first_key("agt_1").await.unwrap_err();
    assert!(matches!(err, ApiError::AlreadyKeyed { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("agent already has a key") && text.contains("req_42"),
        "{text}"
    );
    assert!(!text.contains("tkt_1"));
}

#[tokio::test]
async fn an_unknown_first_key_route_is_told_apart() {
    let server = MockServer::start().await;
    let err = client(&server).mint_first_key("agt_1").await.unwrap_err();
    assert!(err.is_unknown_route(), "{err}");
}

#[tokio::test]
async fn create_sends_only_the_role_and_returns_the_agent_and_its_ticket() {
    let server = MockServer::start().await;
    let mut body = actor_json("agt_9", "qa", "agent");
    body["registration_ticket_id"] = json!("tkt_9");
    Mock::given(method("POST"))
        .and(path("/api/agents"))
        .and(body_json(json!({"role": "qa"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    let created = client(&server).create_agent("qa", None).await.unwrap();
    assert_eq!(created.actor.actor_id, "agt_9");
    assert!(matches!(created.minted, Minted::Ticket(_)));
}

#[tokio::test]
async fn delete_and_space() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/api/actors/agt_3"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status": "deleted", "actor_id": "agt_3"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/spaces/spc_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "space_id": "spc_1", "description": null, "status": "archived",
            "links": [], "created_at": "2025-01-01T00:00:00Z", "ended_at": null
        })))
        .mount(&server)
        .await;
    let c = client(&server);
    c.delete_actor("agt_3").await.unwrap();
    let space = c.space("spc_1").await.unwrap().unwrap();
    assert_eq!(space.status.as_deref(), Some("archived"));
    // An older server: no such route, not an error.
    assert_eq!(c.space("spc_other").await.unwrap(), None);
}

#[tokio::test]
async fn a_429_on_exchange_carries_retry_after_in_seconds_or_as_a_date() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/registration-tickets/tkt_1/exchange"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
        .mount(&server)
        .await;
    let err = client(&server).exchange_ticket("tkt_1").await.unwrap_err();
    match err {
        ApiError::RateLimited { retry_after, .. } => {
            assert_eq!(retry_after, Some(Duration::from_secs(7)))
        }
        other => panic!("{other}"),
    }
    let now = std::time::SystemTime::now();
    let later = httpdate_in(now, 30);
    let d = moot::observed::api::parse_retry_after(&later, now).unwrap();
    assert!(
        d <= Duration::from_secs(30) && d >= Duration::from_secs(29),
        "{d:?}"
    );
    assert_eq!(moot::observed::api::parse_retry_after("soon", now), None);
}

fn httpdate_in(now: std::time::SystemTime, secs: u64) -> String {
    httpdate::fmt_http_date(now + Duration::from_secs(secs))
}
