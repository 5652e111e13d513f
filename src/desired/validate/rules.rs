//! The rules types cannot say: safe and unique role names, references to
//! roles, allowed harnesses, models, efforts and skills, safe `[install]`
//! paths, the schema version. They run on the spanned document so every
//! problem points at its key or value; values of the wrong type were
//! reported by `schema` and are skipped here.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Found, did_you_mean};
use crate::desired::bundle::SKILLS;
use crate::desired::team::{
    Effort, Harness, MODEL_ALIASES, PermissionMode, UNSUPPORTED_HARNESSES, is_env_name,
    is_model_token, is_valid_model, role_key, title_case,
};

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
    harness_table(doc, &roles, found);
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

/// `name` lower-cased, with every character a role name may not hold
/// turned into `_` (what a suggestion or an imported name starts from).
pub(crate) fn role_chars(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A safe name close to `name`, to suggest.
fn sanitize(name: &str) -> String {
    let s = role_chars(name);
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
    let harness = role_harness(role, found);
    if let Some((m, span)) = get_str(role, "model") {
        role_model(harness, m, span, routes_elsewhere(role), found);
    }
    if let Some((e, span)) = get_str(role, "effort") {
        role_effort(harness, e, span, found);
    }
    role_env(role, found);
}

/// The role's harness (claude-code when unset); `None` when it is not one
/// moot can set up, which is reported here.
fn role_harness(role: &DeTable<'_>, found: &mut Found<'_>) -> Option<Harness> {
    let Some((h, span)) = get_str(role, "harness") else {
        return Some(Harness::default());
    };
    if let Some(known) = Harness::ALL.into_iter().find(|a| a.as_str() == h) {
        return Some(known);
    }
    let allowed = Harness::ALL.map(Harness::as_str);
    if UNSUPPORTED_HARNESSES.contains(&h) {
        found.push(
            span,
            format!("harness `{h}` is not one moot can set up yet"),
            format!(
                "moot renders the files a role needs for {} only (docs/harnesses.md); \
                 run this role in one of them",
                allowed.join(", ")
            ),
        );
    } else {
        found.push(
            span,
            format!("unknown harness `{h}`{}", did_you_mean(h, allowed)),
            format!("allowed harnesses: {}", allowed.join(", ")),
        );
    }
    None
}

/// Whether a role's `[roles.env]` points Claude Code at another endpoint
/// (`ANTHROPIC_BASE_URL`, a proxy or another provider), which then decides
/// which model names exist.
fn routes_elsewhere(role: &DeTable<'_>) -> bool {
    get_table(role, "env").is_some_and(|env| get(env, "ANTHROPIC_BASE_URL").is_some())
}

fn role_model(
    harness: Option<Harness>,
    m: &str,
    span: Range<usize>,
    routed: bool,
    found: &mut Found<'_>,
) {
    match harness {
        Some(Harness::ClaudeCode) if routed && !is_model_token(m) => found.push(
            span,
            format!("model `{m}` is not a single model name"),
            "a model name has only letters, digits and `_ . : + / [ ] -` (no spaces)",
        ),
        Some(Harness::ClaudeCode) if !routed && !is_valid_model(m) => found.push(
            span,
            format!("unknown model `{m}`{}", did_you_mean(m, MODEL_ALIASES)),
            format!(
                "use an alias ({}) or a full model id starting with `claude-`, e.g. `claude-opus-4-1`; \
                 another provider's model needs `ANTHROPIC_BASE_URL` in the role's [roles.env]",
                MODEL_ALIASES.join(", ")
            ),
        ),
        Some(Harness::Codex) if MODEL_ALIASES.contains(&m) => found.push(
            span,
            format!("`{m}` is a Claude Code alias, which Codex does not know"),
            "give a Codex model name, e.g. `model = \"gpt-5-codex\"`, or leave `model` out for Codex's default",
        ),
        Some(Harness::Codex | Harness::Cursor) if !is_model_token(m) => found.push(
            span,
            format!("model `{m}` is not a single model name"),
            "a model name has only letters, digits and `_ . : + / [ ] -` (no spaces), e.g. `gpt-5-codex`",
        ),
        _ => {}
    }
}

fn role_effort(harness: Option<Harness>, e: &str, span: Range<usize>, found: &mut Found<'_>) {
    let Some(harness) = harness else {
        return;
    };
    let Some(efforts) = harness.efforts() else {
        found.push(
            span,
            format!(
                "harness `{}` has no reasoning-effort setting",
                harness.as_str()
            ),
            "remove `effort` from this role; choose the model instead",
        );
        return;
    };
    if efforts.iter().any(|a| a.as_str() == e) {
        return;
    }
    let allowed: Vec<&str> = efforts.iter().map(|a| a.as_str()).collect();
    let known_elsewhere = Effort::ALL.iter().any(|a| a.as_str() == e);
    let message = if known_elsewhere {
        format!(
            "effort `{e}` is not one harness `{}` accepts",
            harness.as_str()
        )
    } else {
        format!(
            "unknown effort `{e}`{}",
            did_you_mean(e, allowed.iter().copied())
        )
    };
    found.push(
        span,
        message,
        format!(
            "allowed efforts for {}: {}",
            harness.as_str(),
            allowed.join(", ")
        ),
    );
}

/// Variables the runtime sets for every agent itself: a role's `env` that
/// named one would replace the agent's identity.
const RUNTIME_ENV: [&str; 5] = [
    "CONVO_ROLE",
    "CONVO_API_URL",
    "CONVO_WORKTREE",
    "CONVO_TMUX_SESSION",
    "CONVO_API_KEY",
];

/// Whether a variable name says it holds a secret.
fn names_a_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD"]
        .iter()
        .any(|w| upper.split('_').any(|part| part == *w))
}

fn role_env(role: &DeTable<'_>, found: &mut Found<'_>) {
    let Some(DeValue::Table(env)) = get(role, "env").map(|v| v.get_ref()) else {
        return;
    };
    for (k, v) in env.iter() {
        let name = k.get_ref().as_ref();
        if !is_env_name(name) {
            found.push(
                k.span(),
                format!("`{name}` is not an environment variable name"),
                "use letters, digits and `_`, not starting with a digit, e.g. `OPENAI_BASE_URL`",
            );
        } else if RUNTIME_ENV.contains(&name) {
            found.push(
                k.span(),
                format!("`{name}` is set by the runtime for every agent"),
                "remove it from `env`: the runtime sets it from the role and moot.lock's keys",
            );
        }
        let DeValue::String(value) = v.get_ref() else {
            continue;
        };
        env_value(name, value, v.span(), found);
    }
}

/// `${secret:NAME}` references must be ones the runtime resolves (any other
/// `${secret:...}` would reach the agent as literal text), and a variable
/// named like a secret must take its value from one.
fn env_value(name: &str, value: &str, span: Range<usize>, found: &mut Found<'_>) {
    let mut rest = value;
    let mut references = 0;
    while let Some(at) = rest.find("${secret:") {
        let tail = &rest[at + "${secret:".len()..];
        let end = tail.find('}').unwrap_or(tail.len());
        let secret = &tail[..end];
        let ok = end < tail.len()
            && !secret.is_empty()
            && secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            found.push(
                span.clone(),
                format!("`{name}` has a malformed secret reference"),
                "write `${secret:NAME}` with NAME made of letters, digits, `.`, `_` and `-`; \
                 the runtime reads the file NAME from its secrets directory",
            );
            return;
        }
        references += 1;
        rest = &tail[end + 1..];
    }
    if references == 0 && !value.is_empty() && names_a_secret(name) {
        found.push(
            span,
            format!("`{name}` holds a literal value, and team.toml and moot.toml are committed"),
            format!(
                "put the value in a file of the runtime's secrets directory (~/.secrets/ in the \
                 devcontainer) and write `{name} = \"${{secret:FILE}}\"`"
            ),
        );
    }
}

/// `[harness]`: allowed permission modes, a stagger of zero or more
/// seconds, and a human interface the runtime can start first.
fn harness_table(doc: &DeTable<'_>, roles: &[String], found: &mut Found<'_>) {
    let table = get_table(doc, "harness");
    if let Some((m, span)) = table.and_then(|t| get_str(t, "permission_mode"))
        && !PermissionMode::ALL.iter().any(|a| a.as_str() == m)
    {
        let allowed = PermissionMode::ALL.map(PermissionMode::as_str);
        found.push(
            span,
            format!("unknown permission_mode `{m}`{}", did_you_mean(m, allowed)),
            format!("allowed modes: {}", allowed.join(", ")),
        );
    }
    if let Some(v) = table.and_then(|t| get(t, "launch_stagger_seconds")) {
        let seconds = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            _ => Some(0.0), // reported by `schema`
        };
        if !seconds.is_some_and(|s| s.is_finite() && s >= 0.0) {
            found.push(
                v.span(),
                "launch_stagger_seconds must be a number of seconds, 0 or more",
                "write e.g. `launch_stagger_seconds = 2` (0 launches every agent at once)",
            );
        }
    }
    human_interface(doc, table, roles, found);
}
/// `[harness] human_interface` names a role; and in a team with
/// claude-code roles, the human-interface role is one of them: on a first
/// start the runtime launches it alone so the human can log in to Claude
/// Code, and refuses any other harness there.
fn human_interface(
    doc: &DeTable<'_>,
    table: Option<&DeTable<'_>>,
    roles: &[String],
    found: &mut Found<'_>,
) {
    let configured = table.and_then(|t| get_str(t, "human_interface"));
    if let Some((name, span)) = &configured
        && !roles.iter().any(|r| r == name)
    {
        found.push(
            span.clone(),
            format!(
                "[harness] human_interface names role `{name}`, which is not defined{}",
                did_you_mean(name, roles.iter().map(String::as_str))
            ),
            format!("defined roles: {}", roles.join(", ")),
        );
        return;
    }
    // (name, harness, span of its `harness` value) per role.
    let seats = role_harnesses(doc);
    if !seats.iter().any(|(_, h, _)| *h == "claude-code") {
        return;
    }
    let chosen = match &configured {
        Some((name, _)) => Some(*name),
        None if roles.iter().any(|r| r == "product") => Some("product"),
        None => seats.first().map(|(n, _, _)| *n),
    };
    let Some((name, harness, harness_span)) = seats.iter().find(|(n, _, _)| Some(*n) == chosen)
    else {
        return;
    };
    // An unknown harness was reported with the role.
    if *harness == "claude-code" || !Harness::ALL.iter().any(|h| h.as_str() == *harness) {
        return;
    }
    let span = match (&configured, harness_span) {
        (Some((_, s)), _) => s.clone(),
        (None, Some(s)) => s.clone(),
        (None, None) => return,
    };
    let claude_role = seats
        .iter()
        .find(|(_, h, _)| *h == "claude-code")
        .map_or("", |(n, _, _)| *n);
    found.push(
        span,
        format!(
            "the human-interface role `{name}` uses {harness}, but the team has claude-code roles"
        ),
        format!(
            "on a first start the runtime launches the human-interface role alone to log in to \
             Claude Code: set `human_interface = \"{claude_role}\"` under [harness] (a claude-code \
             role), or run this role in claude-code"
        ),
    );
}

type Seat<'a> = (&'a str, &'a str, Option<Range<usize>>);

/// Each named role's name and harness (claude-code when unset).
fn role_harnesses<'a>(doc: &'a DeTable<'_>) -> Vec<Seat<'a>> {
    let Some(DeValue::Array(items)) = get(doc, "roles").map(|v| v.get_ref()) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| match i.get_ref() {
            DeValue::Table(t) => {
                let (name, _) = get_str(t, "name")?;
                let harness = get_str(t, "harness");
                Some((
                    name,
                    harness.as_ref().map_or("claude-code", |(h, _)| *h),
                    harness.map(|(_, s)| s),
                ))
            }
            _ => None,
        })
        .collect()
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
                "write a path relative to the workspace root, with `/` between plain names (no `.`, `..` or `\\`), e.g. `.claude/hooks/git-guard.sh`",
            );
        }
    }
}

/// Why an `unmanaged` path is not acceptable, if it is not: judged in the
/// form render uses (a leading `./` and a trailing `/` dropped).
fn unsafe_path(path: &str) -> Option<crate::relpath::Why> {
    crate::relpath::check(crate::relpath::normalize_user(path)).err()
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
        use crate::relpath::Why;
        assert_eq!(unsafe_path("/etc/passwd"), Some(Why::Absolute));
        assert_eq!(unsafe_path("C:\\x"), Some(Why::Absolute));
        assert_eq!(unsafe_path("a/../b"), Some(Why::ParentDir));
        assert_eq!(unsafe_path(".."), Some(Why::ParentDir));
        assert_eq!(unsafe_path(""), Some(Why::Empty));
        assert_eq!(unsafe_path("a/./b"), Some(Why::NotCanonical));
        assert_eq!(unsafe_path("./a/"), None);
        assert_eq!(unsafe_path(".claude/hooks/x.sh"), None);
        assert_eq!(unsafe_path("a..b/c"), None);
    }

    /// team.toml's `unmanaged` (once spelled canonically, as render does)
    /// and the workspace reader (moot.lock, journals, writes) accept and
    /// refuse the same paths: the former two validators disagreed on
    /// `a/./b`, `a//b`, `\\x` and `C:x`.
    #[test]
    fn unmanaged_and_workspace_agree() {
        use crate::observed::workspace::check_relative;
        for path in [
            "a",
            "a/b",
            ".claude/x",
            "a/./b",
            "a//b",
            "\\x",
            "C:x",
            "a\\b",
            "..",
            "a/..",
            "/x",
            "",
            "a\0b",
        ] {
            assert_eq!(
                unsafe_path(path).is_none(),
                check_relative(path).is_ok(),
                "{path:?}"
            );
        }
    }
}
