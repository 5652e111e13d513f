//! What can go wrong talking to the API, and what to tell the user.

use std::fmt;
use std::time::Duration;

use reqwest::Method;

/// What went wrong talking to the API. Every message names the call
/// (`METHOD /path`) and the HTTP status where there is one.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{call}: HTTP 401 Unauthorized: the server rejected the token")]
    Unauthorized { call: Call },

    #[error("{call}: HTTP 403 Forbidden{}", detail_suffix(.detail))]
    Forbidden { call: Call, detail: Option<String> },

    #[error("{call}: HTTP 404 Not Found{}", detail_suffix(.detail))]
    NotFound { call: Call, detail: Option<String> },

    #[error("{call}: HTTP 409 Conflict: the agent is connected{}", detail_suffix(.detail))]
    Conflict { call: Call, detail: Option<String> },

    #[error("{call}: HTTP 409 Conflict: the agent already has a key{}", detail_suffix(.detail))]
    AlreadyKeyed { call: Call, detail: Option<String> },

    #[error("{call}: HTTP 429 Too Many Requests{}", retry_suffix(.retry_after))]
    RateLimited {
        call: Call,
        retry_after: Option<Duration>,
    },

    #[error("{call}: HTTP 410 Gone: the registration ticket expired")]
    TicketExpired { call: Call },

    #[error("{call}: HTTP 409 Conflict: the registration ticket was already used")]
    TicketUsed { call: Call },

    /// Any other 4xx (400, 405, 422, ...).
    #[error("{call}: HTTP {status}{}", detail_suffix(.detail))]
    Rejected {
        call: Call,
        status: u16,
        detail: Option<String>,
    },

    #[error("{call}: HTTP {status}: server error{}", detail_suffix(.detail))]
    Server {
        call: Call,
        status: u16,
        detail: Option<String>,
    },

    #[error("{call}: no complete answer within {} s", .after.as_secs_f64())]
    Timeout { call: Call, after: Duration },

    #[error("{call}: cannot connect to {base_url}: {reason}")]
    Connect {
        call: Call,
        base_url: String,
        reason: String,
    },

    /// A transport failure that is neither a timeout nor a refused connection.
    #[error("{call}: network error: {reason}")]
    Network { call: Call, reason: String },

    #[error("{call}: HTTP {status}: unexpected answer ({reason}){}", snippet_suffix(.snippet))]
    InvalidBody {
        call: Call,
        status: u16,
        reason: String,
        snippet: Option<String>,
    },

    #[error("{call}: HTTP {status}: the answer is larger than {limit} bytes")]
    BodyTooLarge {
        call: Call,
        status: u16,
        limit: usize,
    },

    #[error(
        "{call}: HTTP {status}: the server answered without a usable api_key \
         (and no registration_ticket_id); no key was stored"
    )]
    EmptyKey { call: Call, status: u16 },

    #[error("invalid API URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// An id (from the server's answers) that cannot be put in a request;
    /// nothing was sent.
    #[error(
        "the {kind} {} cannot be used in a request ({reason}); nothing was sent",
        shown.as_deref().map(|s| format!("`{s}`")).unwrap_or_else(|| "(not shown)".into())
    )]
    InvalidId {
        kind: IdKind,
        /// The id, cleaned and cut; None for a ticket id (a secret).
        shown: Option<String>,
        reason: &'static str,
    },

    /// The token cannot be sent in an `Authorization` header (a newline,
    /// a control character); nothing was sent.
    #[error(
        "{call}: the token holds a character not allowed in an HTTP header (a newline?); nothing was sent"
    )]
    InvalidToken { call: Call },

    /// An environment variable that tunes the client holds a bad value.
    #[error("{name}={value:?} is not {expected}")]
    InvalidSetting {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// Which kind of id [`ApiError::InvalidId`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Actor,
    Ticket,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::Actor => "agent id",
            IdKind::Ticket => "registration ticket id",
        })
    }
}

/// The method and the path of a call, as errors show it (ticket ids masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub method: Method,
    pub path: String,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

fn detail_suffix(detail: &Option<String>) -> String {
    detail
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

fn retry_suffix(after: &Option<Duration>) -> String {
    after
        .map(|d| format!(" (retry after {} s)", d.as_secs()))
        .unwrap_or_default()
}

fn snippet_suffix(snippet: &Option<String>) -> String {
    snippet
        .as_deref()
        .map(|s| format!("; the body starts: {s:?}"))
        .unwrap_or_default()
}

/// What to do about an id moot refused to put in a URL.
fn invalid_id_hint(kind: IdKind) -> &'static str {
    match kind {
        IdKind::Actor => {
            "the platform listed an agent with an id moot cannot send back; check that \
             MOOT_API_URL is the Moot API, or remove that agent on the platform"
        }
        IdKind::Ticket => {
            "the server answered with a registration ticket moot cannot exchange; the key \
             may have been rotated: run `moot plan` to see where things stand"
        }
    }
}

impl ApiError {
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            ApiError::Unauthorized { .. } => {
                "your token was rejected; run `moot login` (or fix MOOT_TOKEN)".to_string()
            }
            ApiError::Forbidden { call, .. } if call.path == super::endpoints::MY_AGENTS.path => {
                "the token is probably an agent key, not a personal access token; \
                 log in with a `mootup_pat_` token: `moot login`"
                    .to_string()
            }
            ApiError::Forbidden { .. } => {
                "the token is not allowed to do this; is it your personal access token \
                 and are you the agent's sponsor?"
                    .to_string()
            }
            ApiError::NotFound { .. } => {
                "the agent may have been deleted on the platform, or belongs to another \
                 account; run `moot plan` to see the current state"
                    .to_string()
            }
            ApiError::Conflict { .. } => {
                "agent is connected; use `--replace ROLE` to force (it will be disconnected)"
                    .to_string()
            }
            ApiError::AlreadyKeyed { .. } => {
                "someone gave the agent a key after the plan was made; run `moot plan` again"
                    .to_string()
            }
            ApiError::RateLimited { .. } => {
                "the server limits how fast it answers; wait a minute and run moot again"
                    .to_string()
            }
            ApiError::TicketExpired { .. } | ApiError::TicketUsed { .. } => {
                "the new key is lost; rotate it again with `--replace ROLE`".to_string()
            }
            ApiError::Rejected { .. } => return None,
            ApiError::Server { call, .. } if call.method == Method::POST => {
                "the server failed; the key may or may not have been rotated: run `moot plan` \
                 to see where things stand"
                    .to_string()
            }
            ApiError::Server { .. } => "the Moot server failed; try again later".to_string(),
            ApiError::Timeout { .. } => {
                "the server is slow or unreachable; set MOOT_HTTP_TIMEOUT (seconds) to wait longer"
                    .to_string()
            }
            ApiError::Connect { .. } | ApiError::Network { .. } => {
                "check MOOT_API_URL (or --api-url) and that the server is up".to_string()
            }
            ApiError::InvalidBody { .. } | ApiError::BodyTooLarge { .. } => {
                "something other than the Moot API answered (a proxy, a captive portal?); \
                 check MOOT_API_URL"
                    .to_string()
            }
            ApiError::EmptyKey { .. } => {
                "the old key may already be invalid; rotate again with `--replace ROLE`".to_string()
            }
            ApiError::InvalidUrl { .. } => {
                "use a URL like https://mootup.io (MOOT_API_URL or --api-url)".to_string()
            }
            ApiError::InvalidId { kind, .. } => invalid_id_hint(*kind).to_string(),
            ApiError::InvalidToken { .. } => {
                "copy the token again without line breaks (MOOT_TOKEN, or `moot login`)".to_string()
            }
            ApiError::InvalidSetting { name, .. } => {
                format!("fix or unset {name}")
            }
        };
        Some(hint)
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Forbidden { .. } => Some(403),
            ApiError::NotFound { .. } => Some(404),
            ApiError::Conflict { .. }
            | ApiError::TicketUsed { .. }
            | ApiError::AlreadyKeyed { .. } => Some(409),
            ApiError::RateLimited { .. } => Some(429),
            ApiError::TicketExpired { .. } => Some(410),
            ApiError::Rejected { status, .. }
            | ApiError::Server { status, .. }
            | ApiError::InvalidBody { status, .. }
            | ApiError::BodyTooLarge { status, .. }
            | ApiError::EmptyKey { status, .. } => Some(*status),
            ApiError::Timeout { .. }
            | ApiError::Connect { .. }
            | ApiError::Network { .. }
            | ApiError::InvalidUrl { .. }
            | ApiError::InvalidId { .. }
            | ApiError::InvalidToken { .. }
            | ApiError::InvalidSetting { .. } => None,
        }
    }
}

impl ApiError {
    /// The server does not know the route (a 404 or 405): an older server.
    pub fn is_unknown_route(&self) -> bool {
        matches!(self.status(), Some(404 | 405))
    }
}

impl Call {
    pub(super) fn new(method: Method, path: String) -> Self {
        Call { method, path }
    }
}
