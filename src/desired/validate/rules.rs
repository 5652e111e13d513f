//! The rules types cannot say: safe and unique role names, references to
//! roles, allowed harnesses, models, efforts and skills, safe `[install]`
//! paths, the schema version. They run on the spanned document so every
//! problem points at its key or value; values of the wrong type were
//! reported by `schema` and are skipped here.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, Path};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Found, did_you_mean};
use crate::desired::bundle::SKILLS;
use crate::desired::team::{Effort, Harness, MODEL_ALIASES, is_valid_model, role_key, title_case};

fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

fn get_table<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    match get(table, key)?.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

/// A string value and its span.
fn get_str<'a>(table: &'a DeTable<'_>, key: &str) -> Option<(&'a str, Range<usize>)> {
    let v = get(table, key)?;
    match v.get_ref() {
        DeValue::String(s) => Some((s.as_ref(), v.span())),
        _ => None,
    }
}

/// The string items of an array value, with their spans.
fn str_items<'a>(table: &'a DeTable<'_>, key: &str) -> Vec<(&'a str, Range<usize>)> {
    match get(table, key).map(|v| v.get_ref()) {
        Some(DeValue::Array(items)) => items
            .iter()
            .filter_map(|i| match i.get_ref() {
                DeValue::String(s) => Some((s.as_ref(), i.span())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The string values of a table value, with their spans.
fn str_values<'a>(table: &'a DeTable<'_>, key: &str) -> Vec<(&'a str, Range<usize>)> {
    match get(table, key).map(|v| v.get_ref()) {
        Some(DeValue::Table(t)) => t
            .iter()
            .filter_map(|(_, v)| match v.get_ref() {
                DeValue::String(s) => Some((s.as_ref(), v.span())),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub(crate) fn check(doc: &DeTable<'_>, found: &mut Found<'_>) {
    schema_version(doc, found);
    team_name(doc, found);
    let roles = roles(doc, found);
    references(doc, &roles, found);
    install(doc, found);
}

fn schema_version(doc: &DeTable<'_>, found: &mut Found<'_>) {
    if let Some((v, span)) = get_str(doc, "toml_schema_version")
        && v != "1"
    {
        found.push(
            span,
            format!("toml_schema_version \"{v}\" is not supported: only \"1\" exists"),
            "set `toml_schema_version = \"1\"` (a file written for a newer format needs a newer moot)",
        );
    }
}

fn team_name(doc: &DeTable<'_>, found: &mut Found<'_>) {
    if let Some(team) = get_table(doc, "team")
        && let Some((name, span)) = get_str(team, "name")
        && name.trim().is_empty()
    {
        found.push(
            span,
            "the team name is empty",
            "give the team a name: `name = \"my-team\"` in [team]",
        );
    }
}

/// Whether a role name is safe as a file-name and URL part.
pub fn is_safe_role_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A safe name close to `name`, to suggest.
fn sanitize(name: &str) -> String {
    let s: String = name
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches(['_', '-']).to_string();
    if s.is_empty() { "my_role".into() } else { s }
}

/// Checks every role and returns the names of the roles defined (each once).
fn roles(doc: &DeTable<'_>, found: &mut Found<'_>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut first_by_name: HashMap<String, Range<usize>> = HashMap::new();
    let mut first_by_key: HashMap<String, String> = HashMap::new();
    let Some(DeValue::Array(items)) = get(doc, "roles").map(|v| v.get_ref()) else {
        return names;
    };
    for item in items.iter() {
        let DeValue::Table(role) = item.get_ref() else {
            continue;
        };
        if let Some((name, span)) = get_str(role, "name") {
            role_name(name, span.clone(), found);
            if let Some(first) = first_by_name.get(name) {
                let (line, col) = found.position(first.start);
                found.push(
                    span,
                    format!("duplicate role `{name}` (first defined at {line}:{col})"),
                    "role names must be unique: rename or remove one of them",
                );
            } else {
                first_by_name.insert(name.to_string(), span.clone());
                names.push(name.to_string());
                role_key_collision(role, name, span, &mut first_by_key, found);
            }
        }
        role_values(role, found);
    }
    names
}

fn role_name(name: &str, span: Range<usize>, found: &mut Found<'_>) {
    if name.is_empty() {
        found.push(
            span,
            "the role name is empty",
            "a role name is its identifier: lower-case letters, digits, `_` and `-`, e.g. `name = \"qa\"`",
        );
    } else if !is_safe_role_name(name) {
        found.push(
            span,
            format!("role name `{name}` is not a safe identifier"),
            format!(
                "a role name becomes part of file names and URLs: use only lower-case letters, \
                 digits, `_` and `-` (not first), e.g. `{}`; put the human-friendly name in \
                 `display_name`",
                sanitize(name)
            ),
        );
    }
}

/// Two roles whose keys (lower-cased display names) are the same would
/// share one entry in `.moot/actors.json` and `moot.toml`.
fn role_key_collision(
    role: &DeTable<'_>,
    name: &str,
    name_span: Range<usize>,
    first_by_key: &mut HashMap<String, String>,
    found: &mut Found<'_>,
) {
    let display = get_str(role, "display_name").filter(|(d, _)| !d.trim().is_empty());
    let key = match display {
        Some((d, _)) => role_key(d),
        None => role_key(&title_case(name)),
    };
    match first_by_key.get(&key) {
        Some(other) => found.push(
            display.map_or(name_span, |(_, s)| s),
            format!("roles `{other}` and `{name}` have the same key `{key}` (the lower-cased display name)"),
            format!("give role `{name}` a different `display_name`: each role needs its own key"),
        ),
        None => {
            first_by_key.insert(key, name.to_string());
        }
    }
}

fn role_values(role: &DeTable<'_>, found: &mut Found<'_>) {
    if let Some((h, span)) = get_str(role, "harness")
        && !Harness::ALL.iter().any(|a| a.as_str() == h)
    {
        let allowed = Harness::ALL.map(Harness::as_str);
        found.push(
            span,
            format!("unknown harness `{h}`{}", did_you_mean(h, allowed)),
            format!("allowed harnesses: {}", allowed.join(", ")),
        );
    }
    if let Some((m, span)) = get_str(role, "model")
        && !is_valid_model(m)
    {
        found.push(
            span,
            format!("unknown model `{m}`{}", did_you_mean(m, MODEL_ALIASES)),
            format!(
                "use an alias ({}) or a full model id starting with `claude-`, e.g. `claude-opus-4-1`",
                MODEL_ALIASES.join(", ")
            ),
        );
    }
    if let Some((e, span)) = get_str(role, "effort")
        && !Effort::ALL.iter().any(|a| a.as_str() == e)
    {
        let allowed = Effort::ALL.map(Effort::as_str);
        found.push(
            span,
            format!("unknown effort `{e}`{}", did_you_mean(e, allowed)),
            format!("allowed efforts: {}", allowed.join(", ")),
        );
    }
}

/// Pipeline, `[git.ownership]` and `[resources.owners]` name roles.
fn references(doc: &DeTable<'_>, roles: &[String], found: &mut Found<'_>) {
    let mut refs = Vec::new();
    if let Some(workflow) = get_table(doc, "workflow") {
        refs.extend(
            str_items(workflow, "pipeline")
                .into_iter()
                .map(|r| ("[workflow] pipeline", r)),
        );
    }
    if let Some(git) = get_table(doc, "git") {
        refs.extend(
            str_values(git, "ownership")
                .into_iter()
                .map(|r| ("[git.ownership]", r)),
        );
    }
    if let Some(resources) = get_table(doc, "resources") {
        refs.extend(
            str_values(resources, "owners")
                .into_iter()
                .map(|r| ("[resources.owners]", r)),
        );
    }
    for (place, (name, span)) in refs {
        if roles.iter().any(|r| r == name) {
            continue;
        }
        let defined = if roles.is_empty() {
            "no roles are defined yet".to_string()
        } else {
            format!("defined roles: {}", roles.join(", "))
        };
        found.push(
            span,
            format!(
                "{place} names role `{name}`, which is not defined{}",
                did_you_mean(name, roles.iter().map(String::as_str))
            ),
            defined,
        );
    }
}

fn install(doc: &DeTable<'_>, found: &mut Found<'_>) {
    let Some(install) = get_table(doc, "install") else {
        return;
    };
    for (skill, span) in str_items(install, "skills") {
        if !SKILLS.contains(&skill) {
            found.push(
                span,
                format!("unknown skill `{skill}`{}", did_you_mean(skill, SKILLS)),
                format!("skills in the bundle: {}", SKILLS.join(", ")),
            );
        }
    }
    for (path, span) in str_items(install, "unmanaged") {
        if let Some(problem) = unsafe_path(path) {
            found.push(
                span,
                format!("unmanaged path `{path}` {problem}"),
                "write a path relative to the workspace root, without `..`, e.g. `.claude/hooks/git-guard.sh`",
            );
        }
    }
}

/// `C:...`: absolute on Windows, and never meant as a relative path.
fn has_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Why a workspace-relative path is not acceptable, if it is not.
fn unsafe_path(path: &str) -> Option<&'static str> {
    let p = Path::new(path);
    if path.trim().is_empty() {
        Some("is empty")
    } else if p.is_absolute() || path.starts_with(['/', '\\']) || has_drive(path) {
        Some("is absolute")
    } else if p.components().any(|c| c == Component::ParentDir)
        || path.split(['/', '\\']).any(|c| c == "..")
    {
        Some("contains `..`")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_role_names() {
        for ok in ["qa", "implementation_a", "loop-4", "a1", "_x"] {
            assert!(is_safe_role_name(ok), "{ok}");
        }
        for bad in ["", "-qa", "..", "a/b", "a b", "QA", "é", "a.b"] {
            assert!(!is_safe_role_name(bad), "{bad}");
        }
        assert_eq!(sanitize("Quality Assurance"), "quality_assurance");
        assert_eq!(sanitize("../"), "my_role");
    }

    #[test]
    fn unsafe_paths() {
        assert_eq!(unsafe_path("/etc/passwd"), Some("is absolute"));
        assert_eq!(unsafe_path("C:\\x"), Some("is absolute"));
        assert_eq!(unsafe_path("a/../b"), Some("contains `..`"));
        assert_eq!(unsafe_path(".."), Some("contains `..`"));
        assert_eq!(unsafe_path(""), Some("is empty"));
        assert_eq!(unsafe_path(".claude/hooks/x.sh"), None);
        assert_eq!(unsafe_path("a..b/c"), None);
    }
}
