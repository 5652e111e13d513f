//! `.claude/settings.json` merging: moot ensures its hook entries exist and
//! keeps every other key and entry of the user's, in order, byte for byte.
//! The file is never re-printed: moot's entries are spliced into the
//! user's text (after the last element of the array or object they belong
//! to, indented and ended as the file is), and taken out the same way, so
//! numbers like `1e2` or 2^64, key order, spacing and CRLF stay as written.
//! What cannot be merged safely is refused with its line and column: a
//! byte order mark, a duplicate key (which copy would Claude Code read?),
//! invalid JSON, a `hooks` of the wrong shape.
//!
//! An entry is recognised as moot's by its command string, so a user who
//! moved it or changed its matcher is not given a duplicate.

use serde_json::{Map, Value};

use crate::desired::render::HookEntry;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("line {line}, column {column}: not valid JSON: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "line 1, column 1: the file starts with a byte order mark (U+FEFF), which JSON \
         does not allow"
    )]
    Bom,
    #[error(
        "line {line}, column {column}: the key `{key}` appears twice in one object \
         (readers disagree on which one counts)"
    )]
    DuplicateKey {
        line: usize,
        column: usize,
        key: String,
    },
    #[error("{0}")]
    Shape(String),
}

impl MergeError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            MergeError::Bom => "save .claude/settings.json as UTF-8 without a byte order mark \
                                (the first three bytes EF BB BF go), then run moot again"
                .into(),
            MergeError::DuplicateKey { key, .. } => {
                format!("keep one `{key}` in that object and delete the other, then run moot again")
            }
            MergeError::Syntax { .. } | MergeError::Shape(_) => {
                "fix the file (moot never replaces a settings.json it cannot read), \
                 or list it under [install] unmanaged"
                    .into()
            }
        }
    }
}

/// The merged document, or `None` when every entry is already present.
/// `existing` is the file's text (`None`: the file does not exist).
pub fn merge(existing: Option<&str>, entries: &[HookEntry]) -> Result<Option<String>, MergeError> {
    // Nothing of the user's to keep (absent, blank, or `{}`): a fresh file.
    let text = match existing {
        Some(t) if !matches!(t.trim(), "" | "{}") => t,
        _ => return Ok(Some(fresh(entries))),
    };
    let doc = Doc::parse(text)?;
    let root = doc.object_at(doc.root, "the top level is not a JSON object")?;
    let mut edits = Vec::new();
    let Some(hooks) = root.iter().find(|m| m.key == "hooks") else {
        if entries.is_empty() {
            return Ok(None);
        }
        let item = member("hooks", &hooks_value(entries));
        edits.push(doc.append(doc.root, &root_spans(&root), &[item]));
        return Ok(Some(apply(text, edits)));
    };
    let events = doc.object_at(hooks.value, "`hooks` is not an object")?;
    let mut new_events: Vec<(String, Vec<Value>)> = Vec::new();
    for (event, groups) in grouped(entries) {
        let Some(m) = events.iter().find(|m| m.key == event) else {
            new_events.push((event, groups));
            continue;
        };
        let list = doc.array_at(m.value, &format!("`hooks.{event}` is not an array"))?;
        let mut missing = Vec::new();
        for group in groups {
            let command = group["hooks"][0]["command"].as_str().unwrap_or_default();
            let present = list
                .iter()
                .any(|&(s, e)| has_command(&doc.value(s, e), command));
            if !present {
                missing.push(group);
            }
        }
        if !missing.is_empty() {
            let items: Vec<Item> = missing.into_iter().map(Item::Element).collect();
            edits.push(doc.append(m.value, &list, &items));
        }
    }
    if !new_events.is_empty() {
        let items: Vec<Item> = new_events
            .into_iter()
            .map(|(event, groups)| member(&event, &Value::Array(groups)))
            .collect();
        edits.push(doc.append(hooks.value, &root_spans(&events), &items));
    }
    if edits.is_empty() {
        return Ok(None);
    }
    Ok(Some(apply(text, edits)))
}

/// The document without moot's hook entries (recognised by `commands`),
/// or `None` when it has none. Used when `[install] hooks = false`: the
/// scripts go, so the entries pointing at them must go too. A group left
/// with no hook, and an event left with no group, by this removal are
/// removed with them; everything else of the user's stays, byte for byte.
pub fn unmerge(existing: &str, commands: &[String]) -> Result<Option<String>, MergeError> {
    if existing.trim().is_empty() {
        return Ok(None);
    }
    let doc = Doc::parse(existing)?;
    let Ok(root) = doc.object_at(doc.root, "") else {
        return Ok(None);
    };
    let Some(hooks) = root.iter().find(|m| m.key == "hooks") else {
        return Ok(None);
    };
    let Ok(events) = doc.object_at(hooks.value, "") else {
        return Ok(None);
    };
    let ours = |s: usize, e: usize| {
        doc.value(s, e)
            .get("command")
            .and_then(Value::as_str)
            .is_some_and(|c| commands.iter().any(|m| m == c))
    };
    let mut edits = Vec::new();
    let mut emptied_events = Vec::new();
    for (ei, m) in events.iter().enumerate() {
        let Ok(groups) = doc.array_at(m.value, "") else {
            continue;
        };
        let mut emptied_groups = Vec::new();
        let mut group_edits = Vec::new();
        for (gi, &(gs, _)) in groups.iter().enumerate() {
            let Ok(fields) = doc.object_at(gs, "") else {
                continue;
            };
            let Some(inner) = fields.iter().find(|f| f.key == "hooks") else {
                continue;
            };
            let Ok(list) = doc.array_at(inner.value, "") else {
                continue;
            };
            let gone: Vec<usize> = (0..list.len())
                .filter(|&i| ours(list[i].0, list[i].1))
                .collect();
            if gone.is_empty() {
                continue;
            }
            if gone.len() == list.len() {
                emptied_groups.push(gi);
            } else {
                group_edits.extend(doc.remove(inner.value, &list, &gone));
            }
        }
        if !emptied_groups.is_empty() && emptied_groups.len() == groups.len() {
            emptied_events.push(ei);
            continue;
        }
        edits.extend(group_edits);
        if !emptied_groups.is_empty() {
            edits.extend(doc.remove(m.value, &groups, &emptied_groups));
        }
    }
    if !emptied_events.is_empty() {
        edits.extend(doc.remove(hooks.value, &root_spans(&events), &emptied_events));
    }
    if edits.is_empty() {
        return Ok(None);
    }
    Ok(Some(apply(existing, edits)))
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

/// A new file holding only moot's entries, pretty-printed.
fn fresh(entries: &[HookEntry]) -> String {
    let mut root = Map::new();
    if !entries.is_empty() {
        root.insert("hooks".into(), hooks_value(entries));
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default();
    text.push('\n');
    text
}

/// moot's groups by event, events in the order they first appear.
fn grouped(entries: &[HookEntry]) -> Vec<(String, Vec<Value>)> {
    let mut out: Vec<(String, Vec<Value>)> = Vec::new();
    for e in entries {
        let g = group(e);
        match out.iter_mut().find(|(ev, _)| *ev == e.event) {
            Some((_, list)) => list.push(g),
            None => out.push((e.event.clone(), vec![g])),
        }
    }
    out
}

fn hooks_value(entries: &[HookEntry]) -> Value {
    Value::Object(
        grouped(entries)
            .into_iter()
            .map(|(ev, groups)| (ev, Value::Array(groups)))
            .collect(),
    )
}

fn group(entry: &HookEntry) -> Value {
    let mut group = Map::new();
    if !entry.matcher.is_empty() {
        group.insert("matcher".into(), Value::String(entry.matcher.clone()));
    }
    let mut hook = Map::new();
    hook.insert("type".into(), Value::String("command".into()));
    hook.insert("command".into(), Value::String(entry.command.clone()));
    group.insert("hooks".into(), Value::Array(vec![Value::Object(hook)]));
    Value::Object(group)
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

fn member(key: &str, value: &Value) -> Item {
    Item::Member(key.to_string(), value.clone())
}

fn root_spans(members: &[Member]) -> Vec<(usize, usize)> {
    members.iter().map(|m| (m.start, m.end)).collect()
}

/// Applies non-overlapping edits, last first so offsets stay valid.
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse(e.start));
    let mut out = text.to_string();
    for e in edits {
        out.replace_range(e.start..e.end, &e.with);
    }
    out
}

mod doc;
use doc::{Doc, Edit, Item, Member};

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
    fn the_user_bytes_are_kept() {
        let user = "{\r\n\t\"big\": 18446744073709551616123,\r\n\t\"e\": 1e2,\r\n\t\"z\": -0.0,\r\n\t\"a\": \"caf\\u00e9\",\r\n\t\"hooks\": {\r\n\t\t\"Stop\": [ ]\r\n\t}\r\n}\r\n";
        let out = merge(Some(user), &ours()).unwrap().unwrap();
        // Only insertions: the user's text is a subsequence, in one piece
        // up to the first insertion.
        let diff = similar::TextDiff::from_chars(user, out.as_str());
        assert!(
            diff.ops()
                .iter()
                .all(|op| op.tag() != similar::DiffTag::Delete
                    && op.tag() != similar::DiffTag::Replace),
            "{out}"
        );
        assert!(out.starts_with("{\r\n\t\"big\": 18446744073709551616123,\r\n\t\"e\": 1e2,"));
        assert!(!out.replace("\r\n", "").contains('\n'), "CRLF kept:\n{out}");
        assert!(
            out.contains("\r\n\t\t\t{\r\n\t\t\t\t\"matcher\""),
            "tabs followed:\n{out}"
        );
        assert_eq!(merge(Some(&out), &ours()).unwrap(), None);
        let commands: Vec<String> = ours().iter().map(|h| h.command.clone()).collect();
        let back = unmerge(&out, &commands).unwrap().unwrap();
        assert!(
            back.starts_with("{\r\n\t\"big\": 18446744073709551616123,"),
            "{back}"
        );
        assert!(!back.contains("git-guard"));
    }

    #[test]
    fn a_one_line_file_stays_one_line() {
        let user = r#"{"a":1,"hooks":{"Stop":[{"hooks":[{"type":"command","command":"x"}]}]}}"#;
        let out = merge(Some(user), &ours()).unwrap().unwrap();
        assert!(!out.contains('\n'), "{out}");
        assert!(out.starts_with(
            r#"{"a":1,"hooks":{"Stop":[{"hooks":[{"type":"command","command":"x"}]},"#
        ));
        let commands: Vec<String> = ours().iter().map(|h| h.command.clone()).collect();
        assert_eq!(unmerge(&out, &commands).unwrap().unwrap(), user);
    }

    #[test]
    fn what_cannot_be_merged_safely_is_refused_with_its_place() {
        assert_eq!(merge(Some("\u{feff}{}"), &ours()), Err(MergeError::Bom));
        let dup = "{\n  \"hooks\": {},\n  \"model\": \"a\",\n  \"model\": \"b\"\n}";
        assert_eq!(
            merge(Some(dup), &ours()),
            Err(MergeError::DuplicateKey {
                line: 4,
                column: 3,
                key: "model".into()
            })
        );
        let nested = r#"{"hooks": {"Stop": [{"hooks": [], "hooks": []}]}}"#;
        assert!(matches!(
            merge(Some(nested), &ours()),
            Err(MergeError::DuplicateKey { line: 1, .. })
        ));
        assert!(MergeError::Bom.to_string().contains("byte order mark"));
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
