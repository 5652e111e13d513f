//! The sandbox's HTTP surface: the endpoints of the platform that moot uses,
//! and no other (no inspection endpoint: tests look through `Sandbox`).
//! Refusals answer the platform's error envelope (see `refusal`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};

use crate::body;
use crate::limit::retry_after_secs;
use crate::refusal::Refusal;
use crate::state::{Issued, Shared, random_hex};

type Answer = (StatusCode, axum::Json<Value>);

/// A handler's answer; `?` on a refusal makes it the response.
type Handled = Result<Answer, Refusal>;

/// Which routes a server of this configuration has.
pub(crate) struct Surface {
    pub legacy: bool,
    pub agents_endpoint: bool,
    pub first_key_endpoint: bool,
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let surface = &shared.surface;
    let mut actor = patch(patch_actor);
    if !surface.legacy {
        actor = actor.delete(delete_actor);
    }
    let mut router = Router::new()
        .route("/health", get(health))
        .route("/api/actors/me", get(me))
        .route("/api/actors/me/agents", get(my_agents))
        .route("/api/actors/{id}", actor)
        .route("/api/actors/{id}/rotate-key", post(rotate_key))
        .route("/api/actors/{id}/release", post(release))
        .route(
            "/api/registration-tickets/{id}/exchange",
            post(exchange_ticket),
        );
    if surface.agents_endpoint && !surface.legacy {
        router = router.route("/api/agents", post(create_agent));
    }
    if surface.first_key_endpoint {
        router = router.route("/api/agents/{id}/first-key", post(first_key));
    }
    if !surface.legacy {
        router = router.route("/api/spaces/{id}", get(space));
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), observe))
        .with_state(shared)
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let request_id = format!("req_{}", random_hex(16));
        let mut response = (status, axum::Json(self.body(&request_id, false))).into_response();
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("x-request-id", v);
        }
        if let Some(secs) = self.retry_after {
            headers.insert("retry-after", HeaderValue::from(secs));
        }
        // Kept for `observe`, which rewrites the body for a legacy server.
        response.extensions_mut().insert(self);
        response
    }
}

/// Around every request: the configured latency, the legacy body of a
/// refusal, the counters and the request log, and with `-v` one line on
/// stderr (the path with any ticket id masked; headers are never logged).
async fn observe(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let start = Instant::now();
    let mutating = !matches!(*req.method(), Method::GET | Method::HEAD);
    let line = format!("{} {}", req.method(), mask_path(req.uri().path()));
    let mut response = next.run(req).await;
    if shared.surface.legacy
        && let Some(refusal) = response.extensions_mut().remove::<Refusal>()
    {
        let status = response.status();
        let headers = response.headers().clone();
        response = (status, headers, axum::Json(refusal.body("", true))).into_response();
    }
    let line = format!("{line} -> {}", response.status().as_u16());
    if shared.verbose {
        eprintln!("{line} ({} ms)", start.elapsed().as_millis());
    }
    let mut state = shared.lock();
    state.counters.mutating_calls += u64::from(mutating);
    state.counters.requests.push(line);
    response
}

pub(crate) fn mask_path(path: &str) -> String {
    match path.strip_prefix("/api/registration-tickets/") {
        Some(rest) => {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            format!("/api/registration-tickets/(ticket){tail}")
        }
        None => path.to_string(),
    }
}

fn ok(value: Value) -> Answer {
    (StatusCode::OK, axum::Json(value))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn actor_json(actor: &crate::Actor) -> Value {
    serde_json::to_value(actor).expect("an Actor serializes")
}

/// The actor at `i` plus one more field (`api_key` or
/// `registration_ticket_id`).
fn actor_with(actors: &[crate::state::Record], i: usize, field: &str, value: String) -> Value {
    let mut body = actor_json(&actors[i].actor);
    body[field] = Value::String(value);
    body
}

async fn health() -> Answer {
    ok(json!({ "status": "ok" }))
}

async fn not_found() -> Refusal {
    Refusal::new(404, "not_found", "Not Found")
}

async fn method_not_allowed() -> Refusal {
    Refusal::new(405, "method_not_allowed", "Method Not Allowed")
}

async fn me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Handled {
    let state = shared.lock();
    let caller = state.caller(bearer(&headers))?;
    Ok(ok(actor_json(&state.actors[caller].actor)))
}

async fn my_agents(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Handled {
    let state = shared.lock();
    let caller = state.caller(bearer(&headers))?;
    if !state.actors[caller].actor.is_human() {
        return Err(Refusal::new(
            403,
            "forbidden",
            "Only human users can list their agents",
        ));
    }
    let agents: Vec<Value> = state.agents_of(caller).map(actor_json).collect();
    Ok(ok(Value::Array(agents)))
}

async fn rotate_key(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Handled {
    let force = headers
        .get("x-force-rotate")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let mut state = shared.lock();
    let caller = state.caller(bearer(&headers))?;
    let body = match state.rotate(caller, &id, force)? {
        Issued::Key(i, key) => actor_with(&state.actors, i, "api_key", key),
        Issued::Ticket(i, ticket) => actor_with(&state.actors, i, "registration_ticket_id", ticket),
    };
    Ok(ok(body))
}

/// Today: `{registration_ticket_id, agent_id}`; a server that answers keys
/// directly answers the Actor and its `api_key`.
async fn first_key(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Handled {
    let mut state = shared.lock();
    let caller = state.human_caller(bearer(&headers))?;
    let body = match state.first_key(caller, &id)? {
        Issued::Key(i, key) => actor_with(&state.actors, i, "api_key", key),
        Issued::Ticket(i, ticket) => json!({
            "registration_ticket_id": ticket,
            "agent_id": state.actors[i].actor.actor_id,
        }),
    };
    Ok(ok(body))
}

/// 201 with the new agent and the ticket for its first key. Sponsor and
/// tenant come from the token, the display name is the role.
async fn create_agent(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Handled {
    let mut state = shared.lock();
    let caller = state.human_caller(bearer(&headers))?;
    let request = body::create_agent(&bytes)?;
    let i = state.create(caller, &request.role, request.agent_profile)?;
    let key = state.issue_key(i);
    let ticket = state.mint_ticket(i, key);
    let body = actor_with(&state.actors, i, "registration_ticket_id", ticket);
    Ok((StatusCode::CREATED, axum::Json(body)))
}

async fn delete_actor(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Handled {
    let mut state = shared.lock();
    let caller = state.human_caller(bearer(&headers))?;
    state.delete(caller, &id)?;
    Ok(ok(json!({ "status": "deleted", "actor_id": id })))
}

/// No auth (the ticket is the credential), rate-limited per client address
/// before anything else: a 429 uses no ticket.
async fn exchange_ticket(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Handled {
    if let Some(limiter) = &shared.limiter {
        let taken = limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(peer.ip(), Instant::now());
        if let Err(wait) = taken {
            shared.lock().counters.rate_limited += 1;
            return Err(Refusal::rate_limited(retry_after_secs(wait)));
        }
    }
    let mut state = shared.lock();
    let (i, key) = state.exchange(&id)?;
    let a = &state.actors[i].actor;
    Ok(ok(json!({
        "actor_id": a.actor_id,
        "api_key": key,
        "display_name": a.display_name,
        "actor_type": a.actor_type,
        "sponsor_id": a.sponsor_id,
        "tenant_id": a.tenant_id,
        "api_key_prefix": a.api_key_prefix,
    })))
}

async fn patch_actor(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Handled {
    let mut state = shared.lock();
    let caller = state.caller(bearer(&headers))?;
    let target = if state.actors[caller].actor.actor_id == id {
        caller
    } else {
        state.sponsored(caller, &id)?
    };
    // Check everything before changing anything.
    let changes = body::actor_changes(&bytes)?;
    let actor = &mut state.actors[target].actor;
    if let Some(name) = changes.display_name {
        actor.display_name = name;
    }
    if let Some(metadata) = changes.metadata {
        actor.metadata = metadata;
    }
    if let Some(focus) = changes.focus_space_id {
        actor.focus_space_id = focus;
    }
    actor.updated_at = crate::state::now_iso();
    Ok(ok(actor_json(actor)))
}

async fn release(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Handled {
    let mut state = shared.lock();
    let caller = state.caller(bearer(&headers))?;
    let i = state.sponsored(caller, &id)?;
    state.actors[i].actor.is_connected = Some(false);
    Ok(ok(json!({ "status": "released", "actor_id": id })))
}

/// `{space_id, description, status, links, created_at, ended_at}`: the
/// space object has no name.
async fn space(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Handled {
    let state = shared.lock();
    state.caller(bearer(&headers))?;
    let space = state
        .space(&id)
        .ok_or_else(|| Refusal::not_found("Space"))?;
    Ok(ok(json!({
        "space_id": space.space_id,
        "description": "",
        "status": space.status,
        "links": [],
        "created_at": space.created_at,
        "ended_at": space.ended_at,
    })))
}
