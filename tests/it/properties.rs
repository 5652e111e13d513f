//! Property tests of the pure parts: the settings.json merger, the team.toml
//! parser and the .gitignore appender.

use std::path::Path;

use moot::desired::bundle::HOOKS;
use moot::desired::render::HookEntry;
use moot::plan::gitignore;
use moot::plan::settings_merge::{merge, unmerge};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn ours() -> Vec<HookEntry> {
    HOOKS.iter().map(HookEntry::from).collect()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        Just("hooks".to_string()),
        Just("matcher".to_string()),
        Just("command".to_string()),
        ".{0,6}",
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Exact binary fractions: see merge_keeps_user_floats_exactly for
        // the floats that do not survive a rewrite.
        any::<i32>().prop_map(|n| Value::from(f64::from(n) / 8.0)),
        ".{0,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A command string: sometimes one of ours, usually the user's.
fn command() -> impl Strategy<Value = String> {
    let our: Vec<String> = ours().into_iter().map(|e| e.command).collect();
    prop_oneof![
        3 => "[a-z-]{1,8}\\.sh",
        1 => prop::sample::select(our),
    ]
}

fn hook_group() -> impl Strategy<Value = Value> {
    (
        prop::option::of("[A-Za-z|]{0,8}"),
        prop::collection::vec(command(), 0..3),
        prop::option::of(json_value()),
    )
        .prop_map(|(matcher, cmds, extra)| {
            let mut g = Map::new();
            if let Some(m) = matcher {
                g.insert("matcher".into(), Value::String(m));
            }
            let hooks = cmds
                .into_iter()
                .map(|c| serde_json::json!({"type": "command", "command": c}))
                .collect();
            g.insert("hooks".into(), Value::Array(hooks));
            if let Some(x) = extra {
                g.insert("x-user".into(), x);
            }
            Value::Object(g)
        })
}

fn event() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "SessionStart".to_string(),
            "PreToolUse".to_string(),
            "PostToolUse".to_string(),
            "Stop".to_string(),
            "Notification".to_string(),
        ]),
        "[A-Z][a-z]{0,6}",
    ]
}

/// A plausible settings.json: user keys around a `hooks` object of event
/// arrays (sometimes already holding our entries), or any JSON object.
fn settings() -> impl Strategy<Value = Value> {
    let hooks = prop::collection::vec((event(), prop::collection::vec(hook_group(), 0..3)), 0..5)
        .prop_map(|evs| {
            Value::Object(
                evs.into_iter()
                    .map(|(e, gs)| (e, Value::Array(gs)))
                    .collect(),
            )
        });
    let plausible = (
        prop::collection::vec((key(), json_value()), 0..4),
        prop::option::of(hooks),
        prop::collection::vec((key(), json_value()), 0..3),
    )
        .prop_map(|(pre, hooks, post)| {
            let mut m = Map::new();
            for (k, v) in pre {
                m.insert(k, v);
            }
            if let Some(h) = hooks {
                m.insert("hooks".into(), h);
            }
            for (k, v) in post {
                m.insert(k, v);
            }
            Value::Object(m)
        });
    prop_oneof![
        4 => plausible,
        1 => prop::collection::vec((key(), json_value()), 0..5)
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
    ]
}

/// How often `command` is registered under `event`.
fn count(doc: &Value, event: &str, command: &str) -> usize {
    doc.get("hooks")
        .and_then(|h| h.get(event))
        .and_then(Value::as_array)
        .map(|groups| {
            groups
                .iter()
                .filter_map(|g| g.get("hooks").and_then(Value::as_array))
                .flatten()
                .filter(|h| h.get("command").and_then(Value::as_str) == Some(command))
                .count()
        })
        .unwrap_or(0)
}

/// How a user may have laid a file out.
#[derive(Debug, Clone)]
struct Style {
    /// None: all on one line.
    indent: Option<&'static str>,
    eol: &'static str,
    /// `": "` or `":"`, `", "` or `","` on one line.
    spaced: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop::sample::select(vec![None, Some("  "), Some("    "), Some("\t")]),
        prop::sample::select(vec!["\n", "\r\n"]),
        any::<bool>(),
    )
        .prop_map(|(indent, eol, spaced)| Style {
            indent,
            eol,
            spaced,
        })
}

/// `v` printed in `style`, by hand (serde_json knows one layout only).
fn layout(v: &Value, st: &Style, depth: usize) -> String {
    let (open, close, items): (&str, &str, Vec<String>) = match v {
        Value::Array(a) => (
            "[",
            "]",
            a.iter().map(|x| layout(x, st, depth + 1)).collect(),
        ),
        Value::Object(o) => (
            "{",
            "}",
            o.iter()
                .map(|(k, x)| {
                    let colon = if st.spaced { ": " } else { ":" };
                    format!(
                        "{}{colon}{}",
                        serde_json::to_string(k).unwrap(),
                        layout(x, st, depth + 1)
                    )
                })
                .collect(),
        ),
        scalar => return serde_json::to_string(scalar).unwrap(),
    };
    if items.is_empty() {
        return format!("{open}{close}");
    }
    match st.indent {
        None => {
            let sep = if st.spaced { ", " } else { "," };
            format!("{open}{}{close}", items.join(sep))
        }
        Some(unit) => {
            let inner = format!("{}{}", st.eol, unit.repeat(depth + 1));
            let outer = format!("{}{}", st.eol, unit.repeat(depth));
            format!(
                "{open}{inner}{}{outer}{close}",
                items.join(&format!(",{inner}"))
            )
        }
    }
}

/// Number literals serde_json would re-print differently (or not at all).
const LITERALS: [&str; 6] = [
    "1e2",
    "18446744073709551616123",
    "-0.0",
    "1E+400",
    "0.10",
    "-1.6790874013325047e-276",
];

/// Whether `to` is `from` with text inserted only (no byte of `from`
/// removed or changed).
fn only_insertions(from: &str, to: &str) -> bool {
    similar::TextDiff::from_chars(from, to)
        .ops()
        .iter()
        .all(|op| op.tag() == similar::DiffTag::Equal || op.tag() == similar::DiffTag::Insert)
}

proptest! {
    #![proptest_config(config())]

    /// Byte for byte: a merge only inserts, whatever the layout (one line,
    /// spaces or tabs, CRLF) and whatever the numbers; merging again adds
    /// nothing; taking moot's entries out only deletes, and gives back the
    /// user's very bytes when they had a `hooks` object and none of ours.
    #[test]
    fn merge_keeps_the_users_bytes(
        doc in settings(),
        st in style(),
        literal in prop::sample::select(LITERALS.to_vec()),
    ) {
        let body = layout(&doc, &st, 0);
        // A number serde_json would re-print, as the first member.
        let colon = if st.spaced { ": " } else { ":" };
        let text = match body.strip_prefix('{') {
            Some(rest) if rest.starts_with('}') => format!("{{\"n\"{colon}{literal}}}"),
            Some(rest) => format!("{{\"n\"{colon}{literal},{rest}"),
            None => return Ok(()),
        };
        let text = format!("{text}{}", st.eol);
        let entries = ours();
        let merged = match merge(Some(&text), &entries) {
            Ok(Some(m)) => m,
            Ok(None) | Err(_) => return Ok(()),
        };
        prop_assert!(only_insertions(&text, &merged), "bytes changed:\n{text}\n---\n{merged}");
        prop_assert!(merged.contains(literal));
        prop_assert_eq!(merge(Some(&merged), &entries), Ok(None));
        if st.eol == "\r\n" {
            prop_assert!(!merged.replace("\r\n", "").contains('\n'), "LF in a CRLF file");
        }
        if st.indent.is_none() {
            prop_assert!(!merged.trim_end().contains('\n'), "a one-line file got lines");
        }
        let commands: Vec<String> = entries.iter().map(|e| e.command.clone()).collect();
        let back = unmerge(&merged, &commands).unwrap().unwrap();
        prop_assert!(only_insertions(&back, &merged), "unmerge changed bytes:\n{merged}\n---\n{back}");
        prop_assert!(commands.iter().all(|c| !back.contains(c.as_str())));
        let had_ours = entries.iter().any(|e| text.contains(e.command.as_str()));
        // An event list of ours that was empty goes with our entries (moot
        // cannot tell it from one it emptied).
        let empty_event = entries
            .iter()
            .any(|e| doc["hooks"][&e.event].as_array().is_some_and(Vec::is_empty));
        if doc.get("hooks").is_some_and(Value::is_object) && !had_ours && !empty_event {
            prop_assert_eq!(back, text);
        }
    }

    #[test]
    fn merge_never_panics_on_any_text(text in ".{0,200}") {
        let _ = merge(Some(&text), &ours());
    }

    #[test]
    fn merge_is_idempotent_and_keeps_the_users_settings(doc in settings(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&doc).unwrap()
        } else {
            serde_json::to_string(&doc).unwrap()
        };
        let entries = ours();
        let merged = match merge(Some(&text), &entries) {
            Ok(Some(m)) => m,
            // Nothing to add: every entry was there already.
            Ok(None) => {
                for e in &entries {
                    prop_assert!(count(&doc, &e.event, &e.command) >= 1);
                }
                return Ok(());
            }
            // A shape moot refuses (hooks not an object, an event not an
            // array): refused, not mangled.
            Err(_) => return Ok(()),
        };
        // Idempotent: merging the merged text adds nothing.
        prop_assert_eq!(merge(Some(&merged), &entries), Ok(None));
        let out: Value = serde_json::from_str(&merged).unwrap();

        // The user's keys, in order, then at most `hooks` added at the end.
        let before: Vec<&String> = doc.as_object().unwrap().keys().collect();
        let after: Vec<&String> = out.as_object().unwrap().keys().collect();
        prop_assert_eq!(&after[..before.len()], &before[..]);
        prop_assert!(after.len() == before.len()
            || (after.len() == before.len() + 1 && after.last().unwrap().as_str() == "hooks"));
        // Every value other than `hooks` is untouched.
        for (k, v) in doc.as_object().unwrap() {
            if k != "hooks" {
                prop_assert_eq!(&out[k], v);
            }
        }
        // The user's events and groups come first, unchanged.
        if let Some(h) = doc.get("hooks").and_then(Value::as_object) {
            for (event, groups) in h {
                match groups.as_array() {
                    Some(groups) => {
                        let now = out["hooks"][event].as_array().unwrap();
                        prop_assert_eq!(&now[..groups.len()], &groups[..]);
                    }
                    // Not an event moot registers: left as it was.
                    None => prop_assert_eq!(&out["hooks"][event], groups),
                }
            }
        }
        // Ours: exactly once where the user had none; never duplicated.
        for e in &entries {
            let was = count(&doc, &e.event, &e.command);
            prop_assert_eq!(count(&out, &e.event, &e.command), was.max(1), "{}", e.command);
        }
    }

    #[test]
    fn team_parser_never_panics_on_any_text(text in "(?s).{0,300}") {
        let _ = moot::desired::parse_team(&text, Path::new("team.toml"));
    }

    #[test]
    fn team_parser_never_panics_on_mutated_files(
        base in prop::sample::select(moot::desired::bundle::ARCHETYPES.to_vec()),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..5, "[\\[\\]=\"'#.a-z0-9 \\n{},-]{0,12}"), 1..6),
    ) {
        let mut text = moot::desired::bundle::archetype_source(base).unwrap().to_string();
        for (at, op, s) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            match op {
                0 => text.insert_str(i, &s),
                1 => {
                    let mut j = (i + s.len() + 1).min(text.len());
                    while !text.is_char_boundary(j) {
                        j -= 1;
                    }
                    text.replace_range(i..j, "");
                }
                2 => {
                    // Duplicate the line holding i.
                    let start = text[..i].rfind('\n').map_or(0, |p| p + 1);
                    let end = text[i..].find('\n').map_or(text.len(), |p| i + p);
                    let line = format!("{}\n", &text[start..end]);
                    text.insert_str(start, &line);
                }
                3 => text.truncate(i),
                _ => {
                    let mut j = (i + s.len() + 1).min(text.len());
                    while !text.is_char_boundary(j) {
                        j -= 1;
                    }
                    text.replace_range(i..j, &s);
                }
            }
        }
        let _ = moot::desired::parse_team(&text, Path::new("team.toml"));
    }

    #[test]
    fn gitignore_append_twice_adds_nothing(
        current in "(?s)([#/!a-z.* \\t\\r-]{0,12}\\n?){0,6}",
        wanted in prop::collection::vec("/?[a-z._-]{1,10}/?", 0..4),
    ) {
        let mut wanted = wanted;
        wanted.extend([".moot/".to_string(), ".worktrees/".to_string()]);
        let current = current.as_bytes();
        let first = gitignore::missing(current, &wanted);
        let once = gitignore::append(current, &first);
        prop_assert!(once.starts_with(current), "never reorders or removes");
        let again = gitignore::missing(&once, &wanted);
        prop_assert!(again.is_empty(), "still missing after append: {:?}", again);
        prop_assert_eq!(gitignore::append(&once, &again), once.clone());
    }
}

/// The user's numbers are kept as written. serde_json parses floats
/// without `float_roundtrip` here, so an extreme value can come back a few
/// ulps off when moot rewrites the file.
#[test]
fn merge_keeps_user_floats_exactly() {
    let literal = "-1.6790874013325047e-276";
    let user = format!("{{\"x\": {literal}}}");
    let merged = merge(Some(&user), &ours()).unwrap().unwrap();
    assert!(merged.contains(literal), "{merged}");
}
