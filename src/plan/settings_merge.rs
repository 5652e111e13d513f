//! `.claude/settings.json` merging: moot ensures its hook entries exist and
//! keeps every other key and entry of the user's, in order. An entry is
//! recognised as moot's by its command string, so a user who moved it or
//! changed its matcher is not given a duplicate.

use serde_json::{Map, Value};

use crate::desired::render::HookEntry;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Shape(String),
}

/// The merged document, or `None` when every entry is already present.
/// `existing` is the file's text (`None`: the file does not exist).
pub fn merge(existing: Option<&str>, entries: &[HookEntry]) -> Result<Option<String>, MergeError> {
    let mut doc = match existing {
        None => Value::Object(Map::new()),
        Some(text) if text.trim().is_empty() => Value::Object(Map::new()),
        Some(text) => parse(text)?,
    };
    let root = doc
        .as_object_mut()
        .ok_or_else(|| MergeError::Shape("the top level is not a JSON object".into()))?;
    let mut changed = existing.is_none_or(|t| t.trim().is_empty());
    if !entries.is_empty() {
        let hooks = root
            .entry("hooks")
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| MergeError::Shape("`hooks` is not an object".into()))?;
        for entry in entries {
            let list = hooks
                .entry(entry.event.clone())
                .or_insert_with(|| Value::Array(Vec::new()))
                .as_array_mut()
                .ok_or_else(|| {
                    MergeError::Shape(format!("`hooks.{}` is not an array", entry.event))
                })?;
            if list.iter().any(|group| has_command(group, &entry.command)) {
                continue;
            }
            let mut group = Map::new();
            if !entry.matcher.is_empty() {
                group.insert("matcher".into(), Value::String(entry.matcher.clone()));
            }
            let mut hook = Map::new();
            hook.insert("type".into(), Value::String("command".into()));
            hook.insert("command".into(), Value::String(entry.command.clone()));
            group.insert("hooks".into(), Value::Array(vec![Value::Object(hook)]));
            list.push(Value::Object(group));
            changed = true;
        }
    }
    if !changed {
        return Ok(None);
    }
    let mut text =
        serde_json::to_string_pretty(&doc).map_err(|e| MergeError::Shape(e.to_string()))?;
    text.push('\n');
    Ok(Some(text))
}

/// The document without moot's hook entries (recognised by `commands`),
/// or `None` when it has none. Used when `[install] hooks = false`: the
/// scripts go, so the entries pointing at them must go too. A group left
/// with no hook, and an event left with no group, are removed with them;
/// everything else of the user's stays, in order.
pub fn unmerge(existing: &str, commands: &[String]) -> Result<Option<String>, MergeError> {
    if existing.trim().is_empty() {
        return Ok(None);
    }
    let mut doc = parse(existing)?;
    let Some(hooks) = doc.get_mut("hooks").and_then(Value::as_object_mut) else {
        return Ok(None);
    };
    let mut changed = false;
    for list in hooks.values_mut().filter_map(Value::as_array_mut) {
        for group in list.iter_mut() {
            if let Some(inner) = group.get_mut("hooks").and_then(Value::as_array_mut) {
                let before = inner.len();
                inner.retain(|h| {
                    !h.get("command")
                        .and_then(Value::as_str)
                        .is_some_and(|c| commands.iter().any(|m| m == c))
                });
                changed |= inner.len() != before;
            }
        }
        list.retain(|g| {
            g.get("hooks")
                .and_then(Value::as_array)
                .is_none_or(|h| !h.is_empty())
        });
    }
    if !changed {
        return Ok(None);
    }
    hooks.retain(|_, list| list.as_array().is_none_or(|l| !l.is_empty()));
    let mut text =
        serde_json::to_string_pretty(&doc).map_err(|e| MergeError::Shape(e.to_string()))?;
    text.push('\n');
    Ok(Some(text))
}

/// Whether a settings document holds nothing: `{}`, or an empty `hooks`
/// object and nothing else (what `unmerge` leaves of a file moot created).
pub fn is_empty_settings(text: &str) -> bool {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(root)) => root
            .iter()
            .all(|(k, v)| k == "hooks" && v.as_object().is_some_and(serde_json::Map::is_empty)),
        _ => false,
    }
}

/// The file's JSON, or where it stops being JSON.
fn parse(text: &str) -> Result<Value, MergeError> {
    serde_json::from_str::<Value>(text).map_err(|e| MergeError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line")
            .next()
            .unwrap_or_default()
            .to_string(),
    })
}

fn has_command(group: &Value, command: &str) -> bool {
    group
        .get("hooks")
        .and_then(Value::as_array)
        .is_some_and(|hooks| {
            hooks
                .iter()
                .any(|h| h.get("command").and_then(Value::as_str) == Some(command))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Vec<HookEntry> {
        crate::desired::bundle::HOOKS
            .iter()
            .map(HookEntry::from)
            .collect()
    }

    #[test]
    fn absent_and_empty_get_our_entries() {
        let a = merge(None, &ours()).unwrap().unwrap();
        let b = merge(Some("{}"), &ours()).unwrap().unwrap();
        assert_eq!(a, b);
        assert!(a.contains("git-guard.sh"));
        assert_eq!(merge(Some(&a), &ours()).unwrap(), None, "idempotent");
    }

    #[test]
    fn keeps_user_keys_and_hooks_in_order() {
        let user = r#"{"model": "opus", "hooks": {"PreToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "my-lint.sh"}]}]}, "zeta": 1}"#;
        let out = merge(Some(user), &ours()).unwrap().unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["model", "hooks", "zeta"]);
        let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 2);
        assert_eq!(pre[0]["hooks"][0]["command"], "my-lint.sh");
        assert_eq!(merge(Some(&out), &ours()).unwrap(), None);
    }

    #[test]
    fn our_entry_present_elsewhere_is_not_duplicated() {
        let all = merge(None, &ours()).unwrap().unwrap();
        // The user changed our matcher: still recognised by command.
        let edited = all.replace("\"Bash\"", "\"Bash|Shell\"");
        assert_eq!(merge(Some(&edited), &ours()).unwrap(), None);
    }

    #[test]
    fn unmerge_takes_out_only_our_entries() {
        let user = r#"{"hooks": {"PreToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "my-lint.sh"}]}]}}"#;
        let merged = merge(Some(user), &ours()).unwrap().unwrap();
        let commands: Vec<String> = ours().iter().map(|h| h.command.clone()).collect();
        let back = unmerge(&merged, &commands).unwrap().unwrap();
        let v: Value = serde_json::from_str(&back).unwrap();
        let expected: Value = serde_json::from_str(user).unwrap();
        assert_eq!(v, expected);
        assert_eq!(unmerge(&back, &commands).unwrap(), None);
    }

    #[test]
    fn invalid_json_and_shapes_are_refused() {
        assert!(matches!(
            merge(Some("{\"hooks\": [}"), &ours()),
            Err(MergeError::Syntax { line: 1, .. })
        ));
        assert!(matches!(
            merge(Some("[]"), &ours()),
            Err(MergeError::Shape(_))
        ));
        assert!(matches!(
            merge(Some("{\"hooks\": {\"Stop\": 3}}"), &ours()),
            Err(MergeError::Shape(_))
        ));
    }
}
