//! Why a request was refused, and how the refusal is written on the wire:
//! the platform's envelope `{code, message, request_id, detail}` (422s carry
//! FastAPI's list of problems under `detail`; other refusals repeat the
//! message there, for clients that read only `detail`), or, for a legacy
//! server, FastAPI's bare `{"detail": ...}`.

use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    /// Stable, machine-readable (`ticket_expired`, `validation_error`, ...).
    pub code: &'static str,
    pub message: String,
    /// The 422 problem list; None for every other refusal.
    pub problems: Option<Vec<Value>>,
    /// Seconds to wait, for a 429 (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl Refusal {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
            problems: None,
            retry_after: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Refusal::new(404, "not_found", format!("{what} not found"))
    }

    /// 422 with one FastAPI-style problem per entry.
    pub fn validation(problems: Vec<Problem>) -> Self {
        let message = problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.msg))
            .collect::<Vec<_>>()
            .join("; ");
        Refusal {
            problems: Some(problems.iter().map(Problem::to_json).collect()),
            ..Refusal::new(422, "validation_error", message)
        }
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Refusal {
            retry_after: Some(retry_after),
            ..Refusal::new(
                429,
                "rate_limited",
                "Too many ticket exchanges from this address; retry later",
            )
        }
    }

    /// The body: the envelope, or `{"detail": ...}` for a legacy server.
    pub fn body(&self, request_id: &str, legacy: bool) -> Value {
        let detail = match &self.problems {
            Some(problems) => Value::Array(problems.clone()),
            None => Value::String(self.message.clone()),
        };
        if legacy {
            return json!({ "detail": detail });
        }
        json!({
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
            "detail": detail,
        })
    }
}

/// One problem of a 422, as FastAPI reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The body field (`role`, `display_name`, ...), or `body` for the whole.
    pub field: String,
    /// Pydantic's error type (`missing`, `string_too_long`, ...).
    pub kind: &'static str,
    pub msg: String,
}

impl Problem {
    pub fn new(field: &str, kind: &'static str, msg: impl Into<String>) -> Self {
        Problem {
            field: field.to_string(),
            kind,
            msg: msg.into(),
        }
    }

    fn to_json(&self) -> Value {
        let loc = if self.field == "body" {
            json!(["body"])
        } else {
            json!(["body", self.field])
        };
        json!({ "type": self.kind, "loc": loc, "msg": self.msg })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_and_legacy_bodies() {
        let r = Refusal::new(410, "ticket_expired", "The ticket has expired");
        assert_eq!(
            r.body("req_1", false),
            json!({"code": "ticket_expired", "message": "The ticket has expired",
                   "request_id": "req_1", "detail": "The ticket has expired"})
        );
        assert_eq!(
            r.body("req_1", true),
            json!({"detail": "The ticket has expired"})
        );
        let v = Refusal::validation(vec![Problem::new("role", "missing", "Field required")]);
        assert_eq!(v.status, 422);
        assert_eq!(v.message, "role: Field required");
        assert_eq!(
            v.body("req_2", false)["detail"],
            json!([{"type": "missing", "loc": ["body", "role"], "msg": "Field required"}])
        );
    }
}
