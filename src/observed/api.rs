//! The Moot API client (`schemas/api-endpoints.json` records the routes
//! and their answers, `schemas/actor.schema.json` the Actor).
//!
//! One `reqwest` connection pool behind an `Arc`, so clones are cheap and
//! share it. Reads (`GET`) retry transient failures; calls that change state
//! on the server (create, first-key, rotate-key, `PATCH`, `DELETE`, ticket
//! exchange) are sent exactly once, because repeating a rotation would burn
//! the key the first attempt may already have issued (a 429 on an exchange
//! is returned as `RateLimited`: the caller decides to wait and ask again).
//! Every route is one constant of `endpoints.rs`. Bodies are read with a size cap. No token or key
//! ever appears in an error message: paths that carry a ticket id are shown
//! with the id masked, and body excerpts are redacted.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

mod actor_type;
pub mod endpoints;
mod error;
mod platform;
mod redact;

pub use actor_type::ActorType;
pub use endpoints::{ENDPOINTS, Endpoint};
pub use error::{ApiError, Call, IdKind};
use platform::check_owner;
pub use platform::{Created, Minted, Space, Ticket};
pub use redact::{redact, redact_url};
use redact::{snippet, truncate};

/// `Actor.model_dump()`: 18 fields. Only `actor_id`, `display_name` and
/// `actor_type` are required; unknown fields are ignored and the others may
/// be missing (the backend adds fields over time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub actor_id: String,
    pub display_name: String,
    pub actor_type: ActorType,
    #[serde(default)]
    pub sponsor_id: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_false")]
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
    /// Empty when the server left it out.
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
    #[serde(default)]
    pub oauth_scopes: Option<Vec<String>>,
    #[serde(default)]
    pub oauth_client_id: Option<String>,
}

impl Actor {
    pub fn is_agent(&self) -> bool {
        self.actor_type == ActorType::Agent
    }

    pub fn is_human(&self) -> bool {
        self.actor_type == ActorType::Human
    }
}

fn null_as_false<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

/// A key the server issued (by rotate-key or a ticket exchange). Never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedKey {
    pub actor_id: String,
    pub api_key: Secret,
    /// As the server reported it; computed from the key when it did not.
    pub api_key_prefix: Option<String>,
    pub display_name: Option<String>,
}

/// The largest body moot reads; a bigger one is an error, not an OOM.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How much of an unexpected body an error message shows.
const SNIPPET_BYTES: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// For the whole call, body included.
    pub timeout: Duration,
    /// Extra attempts for a read after a transient failure.
    pub retries: u32,
}

impl ClientOptions {
    /// 5 s to connect, 30 s per call, 2 retries; no environment involved.
    pub const BUILTIN: ClientOptions = ClientOptions {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(30),
        retries: 2,
    };

    /// The longest `MOOT_HTTP_TIMEOUT` accepted: a day. Larger values are
    /// surely a mistake, and `Duration` cannot hold some of them at all.
    pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;

    /// The built-in values overridden by `MOOT_HTTP_TIMEOUT` (seconds, may be
    /// fractional, above 0 and at most a day) and `MOOT_HTTP_RETRIES`; a value
    /// that is not a number in range is an error, not silently ignored.
    pub fn from_env() -> Result<Self, ApiError> {
        let mut opts = Self::BUILTIN;
        if let Some(raw) = env_value("MOOT_HTTP_TIMEOUT") {
            let secs = raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= Self::MAX_TIMEOUT_SECS)
                .ok_or_else(|| ApiError::InvalidSetting {
                    name: "MOOT_HTTP_TIMEOUT",
                    value: shown_setting(&raw),
                    expected: "a number of seconds above 0 and at most 86400",
                })?;
            opts.timeout = Duration::from_secs_f64(secs);
            opts.connect_timeout = opts.connect_timeout.min(opts.timeout);
        }
        if let Some(raw) = env_value("MOOT_HTTP_RETRIES") {
            let n = raw
                .trim()
                .parse::<u32>()
                .ok()
                .ok_or_else(|| ApiError::InvalidSetting {
                    name: "MOOT_HTTP_RETRIES",
                    value: shown_setting(&raw),
                    expected: "a whole number from 0 to 10",
                })?;
            opts.retries = n.min(10);
        }
        Ok(opts)
    }
}

/// The built-in values, without the environment: commands call
/// [`ClientOptions::from_env`], which can refuse a bad value.
impl Default for ClientOptions {
    fn default() -> Self {
        Self::BUILTIN
    }
}

/// A bad setting as an error shows it: redacted (a token pasted into the
/// wrong variable) and cut short.
fn shown_setting(raw: &str) -> String {
    truncate(&redact(raw, &[]), 40)
}

/// A set, non-empty variable (an empty one means "not set", as in shells).
fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Which call this is: decides how 403/409 read and whether to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Rotate,
    FirstKey,
    Exchange,
    Write,
}

/// Everything in a path segment except unreserved letters, digits, `-`, `_`
/// and `~` is escaped: `/` cannot add a segment and `.` cannot make one.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    token: Option<Secret>,
    opts: ClientOptions,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("base_url", &self.inner.base_url)
            .field("token", &self.inner.token)
            .field("opts", &self.inner.opts)
            .finish()
    }
}

impl ApiClient {
    pub fn new(
        base_url: &str,
        token: Option<Secret>,
        opts: ClientOptions,
    ) -> Result<Self, ApiError> {
        let base_url = normalize_base_url(base_url)?;
        let http = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .user_agent(concat!("moot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::InvalidUrl {
                url: redact_url(&base_url),
                reason: format!("cannot set up the HTTP client: {e}"),
            })?;
        Ok(ApiClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                token,
                opts,
            }),
        })
    }

    /// The same server and connection pool, authenticating with `token`
    /// (e.g. an agent key, to prove with `me()` that it is live).
    pub fn with_token(&self, token: Secret) -> ApiClient {
        ApiClient {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                base_url: self.inner.base_url.clone(),
                token: Some(token),
                opts: self.inner.opts,
            }),
        }
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub async fn me(&self) -> Result<Actor, ApiError> {
        let (call, _) = endpoints::ME.call(&[])?;
        let (status, body) = self.send(&call, Kind::Read, None, true, false).await?;
        parse(&call, status, &body, self.redact_list())
    }

    /// Every agent the caller sponsors (403 when the caller is an agent).
    pub async fn my_agents(&self) -> Result<Vec<Actor>, ApiError> {
        let (call, _) = endpoints::MY_AGENTS.call(&[])?;
        let (status, body) = self.send(&call, Kind::Read, None, true, false).await?;
        let actors: Vec<Actor> = parse(&call, status, &body, self.redact_list())?;
        Ok(actors.into_iter().filter(Actor::is_agent).collect())
    }

    pub async fn me_and_agents(&self) -> Result<(Actor, Vec<Actor>), ApiError> {
        tokio::try_join!(self.me(), self.my_agents())
    }

    /// Issues a new key for the agent, invalidating the old one at once:
    /// [`ApiClient::mint_rotation`], then the ticket (if the answer held one)
    /// is exchanged here.
    pub async fn rotate_key(&self, actor_id: &str, force: bool) -> Result<IssuedKey, ApiError> {
        match self.mint_rotation(actor_id, force).await? {
            Minted::Key(key) => Ok(key),
            Minted::Ticket(t) => {
                let key = self.exchange_ticket(t.id.expose()).await?;
                check_owner(key, actor_id)
            }
        }
    }

    /// Trades a registration ticket for the key it holds (no auth header).
    /// A 429 is `ApiError::RateLimited`: the ticket was not used.
    pub async fn exchange_ticket(&self, ticket_id: &str) -> Result<IssuedKey, ApiError> {
        // The ticket is as good as a key for five minutes: never show it.
        let (call, real_path) = endpoints::EXCHANGE.masked_call(&[ticket_id])?;
        let (status, body) = self
            .send_to(&call, &real_path, Kind::Exchange, None, false, false)
            .await?;
        let answer: Exchanged = parse_secret_bearing(&call, status, &body)?;
        let api_key = answer
            .api_key
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| ApiError::EmptyKey {
                call: call.clone(),
                status: status.as_u16(),
            })?;
        let api_key = Secret::new(api_key);
        Ok(IssuedKey {
            actor_id: answer.actor_id,
            api_key_prefix: answer
                .api_key_prefix
                .or_else(|| Some(api_key.prefix().to_string())),
            api_key,
            display_name: answer.display_name,
        })
    }

    /// Renames an agent (`PATCH`, never retried).
    pub async fn rename(&self, actor_id: &str, display_name: &str) -> Result<Actor, ApiError> {
        let (call, _) = endpoints::PATCH_ACTOR.call(&[actor_id])?;
        let body = serde_json::json!({ "display_name": display_name });
        let (status, bytes) = self
            .send(&call, Kind::Write, Some(body), true, false)
            .await?;
        parse(&call, status, &bytes, self.redact_list())
    }

    /// `GET /health`, without credentials.
    pub async fn health(&self) -> Result<(), ApiError> {
        let (call, _) = endpoints::HEALTH.call(&[])?;
        self.send(&call, Kind::Read, None, false, false).await?;
        Ok(())
    }

    fn redact_list(&self) -> Vec<&str> {
        self.inner.token.iter().map(Secret::expose).collect()
    }

    async fn send(
        &self,
        call: &Call,
        kind: Kind,
        json: Option<serde_json::Value>,
        auth: bool,
        force: bool,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let path = call.path.clone();
        self.send_to(call, &path, kind, json, auth, force).await
    }

    /// Sends the call (retrying reads on transient failures) and returns a
    /// 2xx status with its body; anything else becomes an `ApiError`.
    async fn send_to(
        &self,
        call: &Call,
        path: &str,
        kind: Kind,
        json: Option<serde_json::Value>,
        auth: bool,
        force: bool,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let url = format!("{}{path}", self.inner.base_url);
        let attempts = if kind == Kind::Read {
            self.inner.opts.retries + 1
        } else {
            1
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .attempt(call, &url, kind, json.as_ref(), auth, force)
                .await;
            let transient = match &result {
                Err(ApiError::Connect { .. }) => true,
                Err(ApiError::Server { status, .. }) => matches!(status, 502..=504),
                _ => false,
            };
            if !transient || attempt >= attempts {
                return result;
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    async fn attempt(
        &self,
        call: &Call,
        url: &str,
        kind: Kind,
        json: Option<&serde_json::Value>,
        auth: bool,
        force: bool,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let mut req = self
            .inner
            .http
            .request(call.method.clone(), url)
            .header(ACCEPT, "application/json");
        if auth && let Some(token) = &self.inner.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| ApiError::InvalidToken { call: call.clone() })?;
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
        }
        if force {
            req = req.header("X-Force-Rotate", "true");
        }
        if let Some(json) = json {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(json.to_string());
        }
        let mut resp = req.send().await.map_err(|e| self.transport(call, e))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large(call, status));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(call, e))? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large(call, status));
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok((status, body));
        }
        let secrets = self.redact_list();
        Err(status_error(
            call,
            kind,
            status,
            &body,
            &secrets,
            retry_after,
        ))
    }

    fn transport(&self, call: &Call, e: reqwest::Error) -> ApiError {
        // reqwest reports a connect timeout as a connect error whose
        // source is a timeout: `is_timeout` walks the sources (typed, not
        // by message), `is_connect` says which limit it was.
        if e.is_timeout() {
            let after = if e.is_connect() {
                self.inner.opts.connect_timeout
            } else {
                self.inner.opts.timeout
            };
            return ApiError::Timeout {
                call: call.clone(),
                after,
            };
        }
        let reason = error_chain(&e);
        if e.is_connect() {
            return ApiError::Connect {
                call: call.clone(),
                base_url: redact_url(&self.inner.base_url),
                reason,
            };
        }
        ApiError::Network {
            call: call.clone(),
            reason,
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    // 100 ms, 300 ms, 900 ms, ... capped at 2 s.
    let ms = 100u64.saturating_mul(3u64.saturating_pow(attempt.saturating_sub(1)));
    Duration::from_millis(ms.min(2_000))
}

fn too_large(call: &Call, status: StatusCode) -> ApiError {
    ApiError::BodyTooLarge {
        call: call.clone(),
        status: status.as_u16(),
        limit: MAX_BODY_BYTES,
    }
}

/// The innermost useful reason ("Connection refused (os error 111)"),
/// without the URL reqwest puts in front (it holds nothing secret, but the
/// call is already named).
fn error_chain(e: &reqwest::Error) -> String {
    let mut reason = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = Some(s.to_string());
        source = s.source();
    }
    redact(&reason.unwrap_or_else(|| e.to_string()), &[])
}

fn status_error(
    call: &Call,
    kind: Kind,
    status: StatusCode,
    body: &[u8],
    secrets: &[&str],
    retry_after: Option<Duration>,
) -> ApiError {
    let call = call.clone();
    let detail = error_detail(body, secrets);
    match (status.as_u16(), kind) {
        (429, _) => ApiError::RateLimited { call, retry_after },
        // An exchange carries no token: a 401/403 refuses the ticket.
        (s @ (401 | 403), Kind::Exchange) => ApiError::Rejected {
            call,
            status: s,
            detail,
        },
        (409, Kind::FirstKey) => ApiError::AlreadyKeyed { call, detail },
        (401, _) => ApiError::Unauthorized { call },
        (403, _) => ApiError::Forbidden { call, detail },
        (404, _) => ApiError::NotFound { call, detail },
        (409, Kind::Exchange) => ApiError::TicketUsed { call },
        (410, Kind::Exchange) => ApiError::TicketExpired { call },
        (409, Kind::Rotate) => ApiError::Conflict { call, detail },
        (s @ 500..=599, _) => ApiError::Server {
            call,
            status: s,
            detail,
        },
        (s, _) => ApiError::Rejected {
            call,
            status: s,
            detail,
        },
    }
}

/// The server's explanation of an error: the envelope's `message` (with
/// its `request_id`, which support asks for), an older server's
/// `{"detail": ...}`, or a short redacted excerpt of whatever else came back.
fn error_detail(body: &[u8], secrets: &[&str]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut detail = match (value.get("message"), value.get("detail")) {
            (Some(m), _) if !m.is_null() => text(m),
            (_, Some(d)) => text(d),
            _ => value.to_string(),
        };
        detail = truncate(&detail, SNIPPET_BYTES);
        if let Some(id) = value.get("request_id").and_then(serde_json::Value::as_str) {
            detail.push_str(&format!("; request id {}", truncate(id, 80)));
        }
        return Some(crate::printer::clean_line(&redact(&detail, secrets)).into_owned());
    }
    Some(snippet(body, secrets))
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 10.2.3); a date
/// in the past means now. None when neither parses.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

fn parse<T: serde::de::DeserializeOwned>(
    call: &Call,
    status: StatusCode,
    body: &[u8],
    secrets: Vec<&str>,
) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::InvalidBody {
        call: call.clone(),
        status: status.as_u16(),
        reason: if e.is_syntax() || e.is_eof() {
            "not JSON".into()
        } else {
            redact(&e.to_string(), &secrets)
        },
        snippet: Some(snippet(body, &secrets)),
    })
}

/// Like `parse`, for answers that carry a key: a JSON body of the wrong shape
/// is never quoted (it may hold the key); a non-JSON one (a proxy's HTML
/// page) is, redacted.
fn parse_secret_bearing<T: serde::de::DeserializeOwned>(
    call: &Call,
    status: StatusCode,
    body: &[u8],
) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|_| {
        let is_json = serde_json::from_slice::<serde_json::Value>(body).is_ok();
        ApiError::InvalidBody {
            call: call.clone(),
            status: status.as_u16(),
            reason: if is_json {
                "JSON of the wrong shape".into()
            } else {
                "not JSON".into()
            },
            snippet: (!is_json).then(|| snippet(body, &[])),
        }
    })
}

#[derive(Deserialize)]
struct Exchanged {
    actor_id: String,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    api_key_prefix: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

fn non_empty_str(v: Option<&serde_json::Value>) -> Option<&str> {
    v.and_then(serde_json::Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The longest id moot puts in a path: real ids are a few dozen
/// characters; a huge one would fail as an over-long request line.
const MAX_ID_BYTES: usize = 256;

/// One path segment, percent-encoded. Empty, `.` and `..` are refused: the
/// URL parser treats `%2E%2E` like `..`, so no encoding makes them safe.
/// So is an id too long to send. Refused before anything is sent.
fn segment(id: &str, kind: IdKind) -> Result<String, ApiError> {
    let reason = if id.is_empty() || id == "." || id == ".." {
        Some("it cannot be one segment of a URL path")
    } else if id.len() > MAX_ID_BYTES {
        Some("it is longer than 256 bytes")
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(ApiError::InvalidId {
            kind,
            // A ticket id is as good as a key: never shown.
            shown: match kind {
                IdKind::Actor => {
                    Some(crate::printer::clean_line(&redact::truncate(id, 40)).into_owned())
                }
                IdKind::Ticket => None,
            },
            reason,
        });
    }
    Ok(utf8_percent_encode(id, SEGMENT).to_string())
}

/// `raw` as the client would use it (scheme, host, no credentials, no
/// query), or why not: for URLs read from files, checked before use.
pub fn normalize_base_url(raw: &str) -> Result<String, ApiError> {
    let invalid = |reason: &str| ApiError::InvalidUrl {
        url: redact_url(raw),
        reason: reason.to_string(),
    };
    let trimmed = raw.trim();
    let url = reqwest::Url::parse(trimmed).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials do not belong in the URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("no query or fragment allowed"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_and_dot_segments_refused() {
        let a = IdKind::Actor;
        assert_eq!(segment("agt_1", a).unwrap(), "agt_1");
        assert_eq!(segment("a/../b", a).unwrap(), "a%2F%2E%2E%2Fb");
        assert!(segment("..", a).is_err());
        assert!(segment(".", a).is_err());
        assert!(segment("", a).is_err());
        assert!(segment(&"a".repeat(257), a).is_err());
        let e = segment("..", IdKind::Ticket).unwrap_err();
        assert!(matches!(e, ApiError::InvalidId { shown: None, .. }));
    }

    #[test]
    fn base_url_is_normalized() {
        assert_eq!(
            normalize_base_url("https://mootup.io/").unwrap(),
            "https://mootup.io"
        );
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080/prefix/").unwrap(),
            "http://127.0.0.1:8080/prefix"
        );
        assert!(normalize_base_url("mootup.io").is_err());
        assert!(normalize_base_url("ftp://x").is_err());
        assert!(normalize_base_url("https://u:p@x").is_err());
    }

    #[test]
    fn backoff_grows() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(300));
        assert_eq!(backoff(5), Duration::from_millis(2000));
    }
}
