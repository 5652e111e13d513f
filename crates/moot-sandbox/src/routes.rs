//! The sandbox's HTTP surface: the endpoints api-contract.md lists and no
//! other. Errors answer FastAPI-style `{"detail": "..."}`.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, patch, post};
use serde_json::{Value, json};

use crate::state::{Issued, Refusal, Shared};

type Answer = (StatusCode, axum::Json<Value>);

/// A handler's answer where any step may refuse (`?` on a `Refusal` mapped
/// with `refuse`): the refusal is the response.
type Handled = Result<Answer, Answer>;

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/actors/me", get(me))
        .route("/api/actors/me/agents", get(my_agents))
        .route("/api/actors/{id}", patch(patch_actor))
        .route("/api/actors/{id}/rotate-key", post(rotate_key))
        .route("/api/actors/{id}/release", post(release))
        .route("/api/agents/{id}/first-key", post(first_key))
        .route(
            "/api/registration-tickets/{id}/exchange",
            post(exchange_ticket),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            latency_and_log,
        ))
        .with_state(shared)
}

/// Adds the configured latency and, with `-v`, logs the request (the path
/// with any ticket id masked; headers are never logged).
async fn latency_and_log(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    let start = Instant::now();
    let line = shared
        .verbose
        .then(|| format!("{} {}", req.method(), mask_path(req.uri().path())));
    let response = next.run(req).await;
    if let Some(line) = line {
        eprintln!(
            "{line} -> {} ({} ms)",
            response.status().as_u16(),
            start.elapsed().as_millis()
        );
    }
    response
}

fn mask_path(path: &str) -> String {
    match path.strip_prefix("/api/registration-tickets/") {
        Some(rest) => {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            format!("/api/registration-tickets/(ticket){tail}")
        }
        None => path.to_string(),
    }
}

fn refuse((status, detail): Refusal) -> Answer {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(json!({ "detail": detail })),
    )
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

async fn health() -> Answer {
    ok(json!({ "status": "ok" }))
}

async fn not_found() -> Answer {
    refuse((404, "Not Found"))
}

async fn me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Handled {
    let state = shared.lock();
    let caller = state.caller(bearer(&headers)).map_err(refuse)?;
    Ok(ok(actor_json(&state.actors[caller].actor)))
}

async fn my_agents(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Handled {
    let state = shared.lock();
    let caller = state.caller(bearer(&headers)).map_err(refuse)?;
    let me = &state.actors[caller].actor;
    if !me.is_human() {
        return Err(refuse((403, "Only human users can list their agents")));
    }
    let agents: Vec<Value> = state
        .actors
        .iter()
        .filter(|r| r.actor.is_agent() && r.actor.sponsor_id.as_deref() == Some(&me.actor_id))
        .map(|r| actor_json(&r.actor))
        .collect();
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
    let caller = state.caller(bearer(&headers)).map_err(refuse)?;
    let issued = state.rotate(caller, &id, force).map_err(refuse)?;
    Ok(ok(issued_json(&state.actors, issued)))
}

async fn first_key(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Handled {
    let mut state = shared.lock();
    let caller = state.caller(bearer(&headers)).map_err(refuse)?;
    let issued = state.first_key(caller, &id).map_err(refuse)?;
    Ok(ok(issued_json(&state.actors, issued)))
}

/// The Actor plus `api_key`, or plus `registration_ticket_id` in ticket mode.
fn issued_json(actors: &[crate::state::Record], issued: Issued) -> Value {
    let (i, field, value) = match issued {
        Issued::Key(i, key) => (i, "api_key", key),
        Issued::Ticket(i, ticket) => (i, "registration_ticket_id", ticket),
    };
    let mut body = actor_json(&actors[i].actor);
    body[field] = Value::String(value);
    body
}

async fn exchange_ticket(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Answer {
    let mut state = shared.lock();
    match state.exchange(&id) {
        Ok((i, key)) => {
            let a = &state.actors[i].actor;
            ok(json!({
                "actor_id": a.actor_id,
                "api_key": key,
                "display_name": a.display_name,
                "actor_type": a.actor_type,
                "api_key_prefix": a.api_key_prefix,
            }))
        }
        Err(r) => refuse(r),
    }
}

async fn patch_actor(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(&body) else {
        return Err(refuse((422, "the body must be a JSON object")));
    };
    let mut state = shared.lock();
    let caller = state.caller(bearer(&headers)).map_err(refuse)?;
    let target = if state.actors[caller].actor.actor_id == id {
        caller
    } else {
        state.sponsored(caller, &id).map_err(refuse)?
    };
    // Check everything before changing anything.
    let display_name = match changes.get("display_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 100 => {
            Some(s.trim().to_string())
        }
        Some(_) => return Err(refuse((422, "display_name must be a non-empty string"))),
    };
    let metadata = match changes.get("metadata") {
        None => None,
        Some(v @ (Value::Object(_) | Value::Null)) => Some(v.clone()),
        Some(_) => return Err(refuse((422, "metadata must be an object or null"))),
    };
    let focus = match changes.get("focus_space_id") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => return Err(refuse((422, "focus_space_id must be a string or null"))),
    };
    let actor = &mut state.actors[target].actor;
    if let Some(name) = display_name {
        actor.display_name = name;
    }
    if let Some(metadata) = metadata {
        actor.metadata = (!metadata.is_null()).then_some(metadata);
    }
    if let Some(focus) = focus {
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
    let caller = state.caller(bearer(&headers)).map_err(refuse)?;
    let i = state.sponsored(caller, &id).map_err(refuse)?;
    state.actors[i].actor.is_connected = Some(false);
    Ok(ok(json!({ "status": "released", "actor_id": id })))
}
