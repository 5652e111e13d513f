//! The API client against wiremock: every call and every error class.

use crate::common;

use std::time::Duration;

use common::{TOKEN, actor_json};
use moot::observed::api::{ApiClient, ApiError, ClientOptions, MAX_BODY_BYTES};
use moot::secret::Secret;
use serde_json::json;
use wiremock::matchers::{body_json, header, header_exists};
use wiremock::{MockServer, Request, ResponseTemplate};

fn opts() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        retries: 2,
    }
}

fn client(server: &MockServer) -> ApiClient {
    ApiClient::new(&server.uri(), Some(Secret::new(TOKEN)), opts()).unwrap()
}

fn no_secret(text: &str) {
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    assert!(!text.contains("convo_key_"), "key leaked: {text}");
}

/// The message and the hint, checked for leaks.
fn shown(err: &ApiError) -> String {
    let text = format!("{err}\nhint: {}", err.hint().unwrap_or_default());
    no_secret(&text);
    text
}

/// Snapshots what `err` shows (a local server's port filtered).
macro_rules! assert_shown {
    ($name:expr, $err:expr) => {
        crate::support::snapshot_settings(&[]).bind(|| insta::assert_snapshot!($name, shown($err)))
    };
}

fn json_response(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

#[tokio::test]
async fn me_sends_the_bearer_token_and_parses_all_fields() {
    let server = MockServer::start().await;
    common::route("GET", "/api/actors/me")
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_response(200, actor_json("usr_owner", "Ada", "human")))
        .expect(1)
        .mount(&server)
        .await;
    let me = client(&server).me().await.unwrap();
    assert_eq!(me.actor_id, "usr_owner");
    assert!(me.is_human());
    assert_eq!(me.default_space_id.as_deref(), Some("spc_home"));
    assert_eq!(me.tenant_id.as_deref(), Some("tnt_1"));
    assert_eq!(me.is_connected, None);
}

#[tokio::test]
async fn my_agents_keeps_only_agents() {
    let server = MockServer::start().await;
    common::serve(
        &server,
        "GET",
        "/api/actors/me/agents",
        json_response(
            200,
            json!([
                actor_json("agt_1", "Product", "agent"),
                actor_json("usr_x", "Someone", "human"),
                actor_json("agt_2", "QA", "agent"),
            ]),
        ),
    )
    .await;
    let agents = client(&server).my_agents().await.unwrap();
    let names: Vec<_> = agents.iter().map(|a| a.display_name.as_str()).collect();
    assert_eq!(names, ["Product", "QA"]);
    assert_eq!(agents[0].api_key_prefix.as_deref(), Some("convo_ke"));
    assert_eq!(agents[0].metadata, Some(json!({"role": "product"})));
}

#[tokio::test]
async fn me_and_agents_fetches_both() {
    let server = MockServer::start().await;
    common::serve_once(
        &server,
        "GET",
        "/api/actors/me",
        json_response(200, actor_json("usr_owner", "Ada", "human")),
    )
    .await;
    common::serve_once(
        &server,
        "GET",
        "/api/actors/me/agents",
        json_response(200, json!([actor_json("agt_1", "Product", "agent")])),
    )
    .await;
    let (me, agents) = client(&server).me_and_agents().await.unwrap();
    assert_eq!(me.display_name, "Ada");
    assert_eq!(agents.len(), 1);
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_optional_ones_may_be_missing() {
    let server = MockServer::start().await;
    let mut full = actor_json("usr_owner", "Ada", "human");
    full["brand_new_field"] = json!({"nested": [1, 2]});
    common::serve(&server, "GET", "/api/actors/me", json_response(200, full)).await;
    common::serve(
        &server,
        "GET",
        "/api/actors/me/agents",
        json_response(
            200,
            json!([{
                "actor_id": "agt_1", "display_name": "Product", "actor_type": "agent",
                "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
                "is_admin": null
            }]),
        ),
    )
    .await;
    let c = client(&server);
    assert_eq!(c.me().await.unwrap().actor_id, "usr_owner");
    let agents = c.my_agents().await.unwrap();
    assert_eq!(agents[0].api_key_prefix, None);
    assert_eq!(agents[0].is_connected, None);
    assert!(!agents[0].is_admin);
}

#[tokio::test]
async fn rotate_key_returns_the_key_without_force_header() {
    let server = MockServer::start().await;
    let mut body = actor_json("agt_1", "Product", "agent");
    body["api_key"] = json!("convo_key_new123");
    body["api_key_prefix"] = json!("convo_ke");
    common::route("POST", "/api/actors/agt_1/rotate-key")
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_response(200, body))
        .expect(1)
        .mount(&server)
        .await;
    let key = client(&server).rotate_key("agt_1", false).await.unwrap();
    assert_eq!(key.actor_id, "agt_1");
    assert_eq!(key.api_key.expose(), "convo_key_new123");
    assert_eq!(key.api_key_prefix.as_deref(), Some("convo_ke"));
    assert_eq!(key.display_name.as_deref(), Some("Product"));
    no_secret(&format!("{key:?}"));
    let received = server.received_requests().await.unwrap();
    assert!(received[0].headers.get("x-force-rotate").is_none());
}

#[tokio::test]
async fn rotate_key_with_force_sends_the_header() {
    let server = MockServer::start().await;
    let mut body = actor_json("agt_1", "Product", "agent");
    body["api_key"] = json!("convo_key_forced");
    common::route("POST", "/api/actors/agt_1/rotate-key")
        .and(header("x-force-rotate", "true"))
        .respond_with(json_response(200, body))
        .expect(1)
        .mount(&server)
        .await;
    let key = client(&server).rotate_key("agt_1", true).await.unwrap();
    assert_eq!(key.api_key.expose(), "convo_key_forced");
}

#[tokio::test]
async fn rotate_key_exchanges_a_registration_ticket_without_auth() {
    let server = MockServer::start().await;
    let mut body = actor_json("agt_1", "Product", "agent");
    body["registration_ticket_id"] = json!("rtk_secret_ticket");
    common::serve_once(
        &server,
        "POST",
        "/api/actors/agt_1/rotate-key",
        json_response(200, body),
    )
    .await;
    common::serve_once(
        &server,
        "POST",
        "/api/registration-tickets/rtk_secret_ticket/exchange",
        json_response(
            200,
            json!({"actor_id": "agt_1", "api_key": "convo_key_fromticket",
                   "display_name": "Product", "actor_type": "agent", "api_key_prefix": "convo_ke"}),
        ),
    )
    .await;
    let key = client(&server).rotate_key("agt_1", false).await.unwrap();
    assert_eq!(key.api_key.expose(), "convo_key_fromticket");
    let received = server.received_requests().await.unwrap();
    let exchange = received
        .iter()
        .find(|r| r.url.path().contains("registration-tickets"))
        .unwrap();
    assert!(exchange.headers.get("authorization").is_none());
}

#[tokio::test]
async fn exchange_ticket_errors_never_show_the_ticket() {
    let server = MockServer::start().await;
    common::serve(
        &server,
        "POST",
        "/api/registration-tickets/rtk_old/exchange",
        json_response(410, json!({"detail": "ticket_expired"})),
    )
    .await;
    common::serve(
        &server,
        "POST",
        "/api/registration-tickets/rtk_used/exchange",
        json_response(409, json!({"detail": "ticket_already_used"})),
    )
    .await;
    let c = client(&server);
    let expired = c.exchange_ticket("rtk_old").await.unwrap_err();
    assert!(
        matches!(expired, ApiError::TicketExpired { .. }),
        "{expired:?}"
    );
    assert!(!shown(&expired).contains("rtk_old"), "{expired}");
    assert_shown!("ticket_expired", &expired);
    let used = c.exchange_ticket("rtk_used").await.unwrap_err();
    assert!(matches!(used, ApiError::TicketUsed { .. }), "{used:?}");
    assert!(!shown(&used).contains("rtk_used"), "{used}");
    assert_shown!("ticket_used", &used);
}

#[tokio::test]
async fn rotate_key_without_a_usable_key_is_an_error() {
    let server = MockServer::start().await;
    let mut empty = actor_json("agt_1", "Product", "agent");
    empty["api_key"] = json!("");
    common::serve(
        &server,
        "POST",
        "/api/actors/agt_1/rotate-key",
        json_response(200, empty),
    )
    .await;
    common::serve(
        &server,
        "POST",
        "/api/actors/agt_2/rotate-key",
        json_response(200, actor_json("agt_2", "QA", "agent")),
    )
    .await;
    common::serve(
        &server,
        "POST",
        "/api/registration-tickets/rtk_1/exchange",
        json_response(
            200,
            json!({"actor_id": "agt_3", "api_key": null, "display_name": "Spec"}),
        ),
    )
    .await;
    let c = client(&server);
    for id in ["agt_1", "agt_2"] {
        let err = c.rotate_key(id, false).await.unwrap_err();
        assert!(
            matches!(err, ApiError::EmptyKey { status: 200, .. }),
            "{err:?}"
        );
        assert_shown!(format!("empty_key_{id}"), &err);
    }
    let err = c.exchange_ticket("rtk_1").await.unwrap_err();
    assert!(matches!(err, ApiError::EmptyKey { .. }), "{err:?}");
}

#[tokio::test]
async fn rotate_key_answered_for_another_actor_is_refused() {
    let server = MockServer::start().await;
    let mut body = actor_json("agt_other", "Spec", "agent");
    body["api_key"] = json!("convo_key_wrong");
    common::serve(
        &server,
        "POST",
        "/api/actors/agt_1/rotate-key",
        json_response(200, body),
    )
    .await;
    let err = client(&server)
        .rotate_key("agt_1", false)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::InvalidBody { .. }), "{err:?}");
    shown(&err);
}

#[tokio::test]
async fn rotate_key_is_sent_exactly_once_even_on_503() {
    let server = MockServer::start().await;
    common::serve_once(
        &server,
        "POST",
        "/api/actors/agt_1/rotate-key",
        ResponseTemplate::new(503).set_body_string("upstream down"),
    )
    .await;
    let err = client(&server)
        .rotate_key("agt_1", false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Server { status: 503, .. }),
        "{err:?}"
    );
    assert_shown!("rotate_key_503", &err);
}

#[tokio::test]
async fn rotate_key_conflict_says_the_agent_is_connected() {
    let server = MockServer::start().await;
    common::serve_once(
        &server,
        "POST",
        "/api/actors/agt_1/rotate-key",
        json_response(409, json!({"detail": "Agent is connected"})),
    )
    .await;
    let err = client(&server)
        .rotate_key("agt_1", false)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Conflict { .. }), "{err:?}");
    assert_shown!("rotate_key_409", &err);
}

#[tokio::test]
async fn rename_patches_once_and_is_never_retried() {
    let server = MockServer::start().await;
    common::route("PATCH", "/api/actors/agt_1")
        .and(body_json(json!({"display_name": "Product Owner"})))
        .respond_with(json_response(
            200,
            actor_json("agt_1", "Product Owner", "agent"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    common::serve_once(
        &server,
        "PATCH",
        "/api/actors/agt_2",
        ResponseTemplate::new(502),
    )
    .await;
    let c = client(&server);
    let renamed = c.rename("agt_1", "Product Owner").await.unwrap();
    assert_eq!(renamed.display_name, "Product Owner");
    let err = c.rename("agt_2", "QA Lead").await.unwrap_err();
    assert!(
        matches!(err, ApiError::Server { status: 502, .. }),
        "{err:?}"
    );
    assert_shown!("rename_502", &err);
}

#[tokio::test]
async fn health_needs_no_token() {
    let server = MockServer::start().await;
    common::serve_once(
        &server,
        "GET",
        "/health",
        ResponseTemplate::new(200).set_body_string("ok"),
    )
    .await;
    client(&server).health().await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert!(received[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn get_is_retried_after_503_then_succeeds() {
    let server = MockServer::start().await;
    common::route("GET", "/api/actors/me")
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    common::serve_once(
        &server,
        "GET",
        "/api/actors/me",
        json_response(200, actor_json("usr_owner", "Ada", "human")),
    )
    .await;
    let me = client(&server).me().await.unwrap();
    assert_eq!(me.display_name, "Ada");
}

#[tokio::test]
async fn get_gives_up_after_the_retries() {
    let server = MockServer::start().await;
    common::route("GET", "/api/actors/me/agents")
        .respond_with(ResponseTemplate::new(504))
        .expect(3)
        .mount(&server)
        .await;
    let err = client(&server).my_agents().await.unwrap_err();
    assert!(
        matches!(err, ApiError::Server { status: 504, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_500_on_get_is_not_retried() {
    let server = MockServer::start().await;
    common::serve_once(
        &server,
        "GET",
        "/api/actors/me",
        json_response(500, json!({"detail": "boom"})),
    )
    .await;
    let err = client(&server).me().await.unwrap_err();
    assert_shown!("get_500", &err);
}

#[tokio::test]
async fn status_codes_map_to_errors_with_hints() {
    let server = MockServer::start().await;
    common::serve(
        &server,
        "GET",
        "/api/actors/me",
        json_response(401, json!({"detail": format!("invalid token {TOKEN}")})),
    )
    .await;
    common::serve(
        &server,
        "GET",
        "/api/actors/me/agents",
        json_response(403, json!({"detail": "not a human"})),
    )
    .await;
    common::serve(
        &server,
        "POST",
        "/api/actors/agt_gone/rotate-key",
        json_response(404, json!({"detail": "Actor not found"})),
    )
    .await;
    common::serve(
        &server,
        "PATCH",
        "/api/actors/agt_1",
        json_response(422, json!({"detail": [{"msg": "bad"}]})),
    )
    .await;
    let c = client(&server);

    let err = c.me().await.unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    assert_shown!("status_401", &err);

    let err = c.my_agents().await.unwrap_err();
    assert!(matches!(err, ApiError::Forbidden { .. }), "{err:?}");
    assert_shown!("status_403", &err);

    let err = c.rotate_key("agt_gone", false).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound { .. }), "{err:?}");
    assert_shown!("status_404", &err);
    assert_eq!(err.status(), Some(404));

    let err = c.rename("agt_1", "x").await.unwrap_err();
    assert!(
        matches!(err, ApiError::Rejected { status: 422, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_html_body_is_invalid_and_shows_the_status_and_a_redacted_excerpt() {
    let server = MockServer::start().await;
    let html = format!(
        "<html><body>Login required. session={TOKEN} key=convo_key_leak</body></html>{}",
        "x".repeat(1000)
    );
    common::serve(
        &server,
        "GET",
        "/api/actors/me",
        ResponseTemplate::new(200).set_body_string(html),
    )
    .await;
    let err = client(&server).me().await.unwrap_err();
    assert!(
        matches!(err, ApiError::InvalidBody { status: 200, .. }),
        "{err:?}"
    );
    assert_shown!("html_body", &err);
}

#[tokio::test]
async fn a_wrong_shape_is_invalid() {
    let server = MockServer::start().await;
    common::serve(
        &server,
        "GET",
        "/api/actors/me/agents",
        json_response(200, json!({"agents": []})),
    )
    .await;
    let mut secretive = actor_json("agt_1", "Product", "agent");
    secretive["api_key"] = json!(["convo_key_in_a_list"]);
    secretive["actor_id"] = json!(42);
    common::serve(
        &server,
        "POST",
        "/api/registration-tickets/rtk/exchange",
        json_response(200, secretive),
    )
    .await;
    let c = client(&server);
    let err = c.my_agents().await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidBody { .. }), "{err:?}");
    let err = c.exchange_ticket("rtk").await.unwrap_err();
    assert!(
        matches!(err, ApiError::InvalidBody { snippet: None, .. }),
        "{err:?}"
    );
    shown(&err);
}

#[tokio::test]
async fn path_segments_are_percent_encoded() {
    let server = MockServer::start().await;
    let mut body = actor_json("a/../b", "Odd", "agent");
    body["api_key"] = json!("convo_key_odd");
    common::serve_once(
        &server,
        "POST",
        "/api/actors/a%2F%2E%2E%2Fb/rotate-key",
        json_response(200, body),
    )
    .await;
    common::serve_once(
        &server,
        "PATCH",
        "/api/actors/%2E%2E%2F%2E%2E%2Fhealth",
        json_response(200, actor_json("../../health", "X", "agent")),
    )
    .await;
    let c = client(&server);
    let key = c.rotate_key("a/../b", false).await.unwrap();
    assert_eq!(key.actor_id, "a/../b");
    c.rename("../../health", "X").await.unwrap();
    // A bare `..` cannot be made safe (URL parsers treat %2E%2E as `..`).
    let err = c.rotate_key("..", false).await.unwrap_err();
    assert!(matches!(err, ApiError::InvalidId { .. }), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = MockServer::start().await;
    common::serve(
        &server,
        "GET",
        "/api/actors/me",
        json_response(200, actor_json("usr_owner", "Ada", "human"))
            .set_delay(Duration::from_millis(600)),
    )
    .await;
    let quick = ClientOptions {
        connect_timeout: Duration::from_millis(200),
        timeout: Duration::from_millis(150),
        retries: 2,
    };
    let c = ApiClient::new(&server.uri(), Some(Secret::new(TOKEN)), quick).unwrap();
    let err = c.me().await.unwrap_err();
    assert!(matches!(err, ApiError::Timeout { .. }), "{err:?}");
    assert_shown!("timeout", &err);
    let sent = server.received_requests().await.unwrap().len();
    assert_eq!(sent, 1, "timeouts are not retried");
}

#[tokio::test]
async fn connection_refused_names_the_url_and_hints_at_moot_api_url() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let no_retry = ClientOptions {
        retries: 0,
        ..opts()
    };
    let c = ApiClient::new(&url, Some(Secret::new(TOKEN)), no_retry).unwrap();
    let err = c.me().await.unwrap_err();
    assert!(matches!(err, ApiError::Connect { .. }), "{err:?}");
    // The snapshot hides ports: the URL named is the one asked for.
    assert!(shown(&err).contains(&url), "{err}");
    assert_shown!("connection_refused", &err);
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn a_body_over_the_cap_is_an_error() {
    let server = MockServer::start().await;
    common::serve(
        &server,
        "GET",
        "/api/actors/me/agents",
        ResponseTemplate::new(200).set_body_string("[".repeat(MAX_BODY_BYTES + 1)),
    )
    .await;
    let err = client(&server).my_agents().await.unwrap_err();
    assert!(
        matches!(err, ApiError::BodyTooLarge { status: 200, .. }),
        "{err:?}"
    );
    assert_shown!("body_over_the_cap", &err);
}

#[tokio::test]
async fn the_token_header_is_marked_and_never_debugged() {
    let server = MockServer::start().await;
    common::route("GET", "/api/actors/me")
        .and(header_exists("authorization"))
        .respond_with(|_: &Request| json_response(200, actor_json("usr_owner", "Ada", "human")))
        .mount(&server)
        .await;
    let c = client(&server);
    no_secret(&format!("{c:?}"));
    c.me().await.unwrap();
}

#[test]
fn invalid_base_urls_are_refused() {
    let mut said = String::new();
    for url in [
        "mootup.io",
        "ftp://mootup.io",
        "https://user:pw@mootup.io",
        "",
    ] {
        let err = ApiClient::new(url, None, ClientOptions::BUILTIN).unwrap_err();
        assert!(matches!(err, ApiError::InvalidUrl { .. }), "{url}: {err:?}");
        said += &format!("# {url:?}\n{}\n", shown(&err));
    }
    crate::support::snapshot_settings(&[])
        .bind(|| insta::assert_snapshot!("invalid_base_urls", said));
    let c = ApiClient::new("https://mootup.io/", None, ClientOptions::BUILTIN).unwrap();
    assert_eq!(c.base_url(), "https://mootup.io");
}

#[test]
fn default_options_are_5s_30s_2_retries() {
    assert_eq!(
        ClientOptions::BUILTIN,
        ClientOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            retries: 2
        }
    );
}
