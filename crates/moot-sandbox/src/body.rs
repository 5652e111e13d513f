//! Request bodies, checked as the platform's Pydantic models check them:
//! every problem reported at once (422), unknown fields refused, lengths
//! counted in characters.

use serde_json::{Map, Value};

use crate::refusal::{Problem, Refusal};

/// `POST /api/agents`.
#[derive(Debug, PartialEq)]
pub struct CreateAgent {
    pub role: String,
    pub agent_profile: Option<String>,
}

/// `PATCH /api/actors/{id}`: None leaves a field alone.
#[derive(Debug, PartialEq, Default)]
pub struct ActorChanges {
    pub display_name: Option<String>,
    /// Some(None) clears the metadata.
    pub metadata: Option<Option<Value>>,
    /// Some(None) clears the focus.
    pub focus_space_id: Option<Option<String>>,
}

pub const ROLE_MAX: usize = 64;
pub const AGENT_PROFILE_MAX: usize = 512;
pub const DISPLAY_NAME_MAX: usize = 500;
const ID_MAX: usize = 200;

pub fn create_agent(bytes: &[u8]) -> Result<CreateAgent, Refusal> {
    let obj = object(bytes)?;
    let mut problems = extra_fields(&obj, &["role", "agent_profile"]);
    let role = match obj.get("role") {
        None => {
            problems.push(Problem::new("role", "missing", "Field required"));
            None
        }
        Some(v) => string(&mut problems, "role", v, 1, ROLE_MAX),
    };
    let agent_profile = match obj.get("agent_profile") {
        None | Some(Value::Null) => None,
        Some(v) => string(&mut problems, "agent_profile", v, 0, AGENT_PROFILE_MAX),
    };
    match role {
        Some(role) if problems.is_empty() => Ok(CreateAgent {
            role,
            agent_profile,
        }),
        _ => Err(Refusal::validation(problems)),
    }
}

pub fn actor_changes(bytes: &[u8]) -> Result<ActorChanges, Refusal> {
    let obj = object(bytes)?;
    let mut problems = extra_fields(&obj, &["display_name", "metadata", "focus_space_id"]);
    let mut changes = ActorChanges::default();
    match obj.get("display_name") {
        None | Some(Value::Null) => {}
        Some(v) => {
            let name = v.as_str().map(str::trim).map(Value::from);
            let v = name.as_ref().unwrap_or(v);
            changes.display_name = string(&mut problems, "display_name", v, 1, DISPLAY_NAME_MAX);
        }
    }
    match obj.get("metadata") {
        None => {}
        Some(Value::Null) => changes.metadata = Some(None),
        Some(v @ Value::Object(_)) => changes.metadata = Some(Some(v.clone())),
        Some(_) => problems.push(Problem::new(
            "metadata",
            "dict_type",
            "Input should be a valid dictionary",
        )),
    }
    match obj.get("focus_space_id") {
        None => {}
        Some(Value::Null) => changes.focus_space_id = Some(None),
        Some(v) => {
            changes.focus_space_id =
                string(&mut problems, "focus_space_id", v, 0, ID_MAX).map(Some);
        }
    }
    if problems.is_empty() {
        Ok(changes)
    } else {
        Err(Refusal::validation(problems))
    }
}

fn object(bytes: &[u8]) -> Result<Map<String, Value>, Refusal> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(Refusal::validation(vec![Problem::new(
            "body",
            "model_attributes_type",
            "Input should be a valid dictionary or object",
        )])),
        Err(_) => Err(Refusal::validation(vec![Problem::new(
            "body",
            "json_invalid",
            "JSON decode error",
        )])),
    }
}

fn extra_fields(obj: &Map<String, Value>, known: &[&str]) -> Vec<Problem> {
    obj.keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| Problem::new(k, "extra_forbidden", "Extra inputs are not permitted"))
        .collect()
}

/// A string of `min..=max` characters, or a problem recorded.
fn string(
    problems: &mut Vec<Problem>,
    field: &str,
    value: &Value,
    min: usize,
    max: usize,
) -> Option<String> {
    let Some(s) = value.as_str() else {
        problems.push(Problem::new(
            field,
            "string_type",
            "Input should be a valid string",
        ));
        return None;
    };
    let len = s.chars().count();
    if len < min {
        let msg = format!("String should have at least {min} character{}", plural(min));
        problems.push(Problem::new(field, "string_too_short", msg));
        return None;
    }
    if len > max {
        let msg = format!("String should have at most {max} character{}", plural(max));
        problems.push(Problem::new(field, "string_too_long", msg));
        return None;
    }
    Some(s.to_string())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `field:kind` of each problem of a 422.
    fn kinds(r: Refusal) -> Vec<String> {
        assert_eq!(r.status, 422);
        let problems = r.problems.expect("a 422 lists its problems");
        problems
            .iter()
            .map(|p| {
                let field = p["loc"].as_array().unwrap().last().unwrap().clone();
                format!(
                    "{}:{}",
                    field.as_str().unwrap(),
                    p["type"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn create_agent_takes_a_role_and_an_optional_profile() {
        assert_eq!(
            create_agent(br#"{"role": "qa"}"#).unwrap(),
            CreateAgent {
                role: "qa".into(),
                agent_profile: None
            }
        );
        let long_ok = format!(
            r#"{{"role": "{}", "agent_profile": "{}"}}"#,
            "r".repeat(64),
            "p".repeat(512)
        );
        assert!(create_agent(long_ok.as_bytes()).is_ok());
        let too_long = format!(
            r#"{{"role": "{}", "agent_profile": "{}"}}"#,
            "r".repeat(65),
            "p".repeat(513)
        );
        assert_eq!(
            kinds(create_agent(too_long.as_bytes()).unwrap_err()),
            ["role:string_too_long", "agent_profile:string_too_long"]
        );
        assert_eq!(
            kinds(create_agent(br#"{"role": "", "tenant_id": "t"}"#).unwrap_err()),
            ["tenant_id:extra_forbidden", "role:string_too_short"]
        );
        assert_eq!(kinds(create_agent(b"{}").unwrap_err()), ["role:missing"]);
        assert_eq!(
            kinds(create_agent(br#"{"role": 7}"#).unwrap_err()),
            ["role:string_type"]
        );
        assert_eq!(
            kinds(create_agent(b"[]").unwrap_err()),
            ["body:model_attributes_type"]
        );
        assert_eq!(
            kinds(create_agent(b"{").unwrap_err()),
            ["body:json_invalid"]
        );
    }

    #[test]
    fn actor_changes_limit_the_display_name_to_500_characters() {
        let ok = format!(r#"{{"display_name": "{}"}}"#, "é".repeat(500));
        assert_eq!(
            actor_changes(ok.as_bytes())
                .unwrap()
                .display_name
                .unwrap()
                .chars()
                .count(),
            500
        );
        let long = format!(r#"{{"display_name": "{}"}}"#, "é".repeat(501));
        assert_eq!(
            kinds(actor_changes(long.as_bytes()).unwrap_err()),
            ["display_name:string_too_long"]
        );
        assert_eq!(
            kinds(
                actor_changes(br#"{"display_name": "  ", "agent_profile": "x", "metadata": 1}"#)
                    .unwrap_err()
            ),
            [
                "agent_profile:extra_forbidden",
                "display_name:string_too_short",
                "metadata:dict_type"
            ]
        );
        let c =
            actor_changes(br#"{"display_name": " QA ", "metadata": null, "focus_space_id": null}"#)
                .unwrap();
        assert_eq!(c.display_name.as_deref(), Some("QA"));
        assert_eq!(c.metadata, Some(None));
        assert_eq!(c.focus_space_id, Some(None));
        assert_eq!(actor_changes(b"{}").unwrap(), ActorChanges::default());
    }
}
