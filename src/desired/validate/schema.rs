//! The shape of team.toml as data (every key, its type, whether required),
//! and the pass that checks a spanned document against it: unknown keys
//! (with the closest known key), wrong types, missing required keys.
//!
//! The key lists mirror the serde model in `team.rs`; a unit test checks
//! them against the JSON schema generated from it, so they cannot drift.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Found, did_you_mean};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    Str,
    Bool,
    /// An integer or a float.
    Number,
    /// An array of strings.
    StrList,
    /// A table of free-form keys with string values.
    StrMap,
    Table(&'static Table),
    /// An array of tables (`[[roles]]`).
    TableList(&'static Table),
}

#[derive(Debug)]
pub(crate) struct Table {
    /// How messages name the table: `[team]`, `[[roles]]`, `the top level`.
    pub name: &'static str,
    /// The `$defs` entry of the JSON schema this table mirrors (test only).
    #[cfg_attr(not(test), allow(dead_code))]
    pub schema_def: &'static str,
    pub fields: &'static [Field],
}

#[derive(Debug)]
pub(crate) struct Field {
    pub key: &'static str,
    pub ty: Ty,
    pub required: bool,
}

const fn opt(key: &'static str, ty: Ty) -> Field {
    Field {
        key,
        ty,
        required: false,
    }
}

const fn req(key: &'static str, ty: Ty) -> Field {
    Field {
        key,
        ty,
        required: true,
    }
}

pub(crate) static ROOT: Table = Table {
    name: "the top level",
    schema_def: "",
    fields: &[
        opt("toml_schema_version", Ty::Str),
        opt("archetype", Ty::Table(&ARCHETYPE)),
        req("team", Ty::Table(&TEAM)),
        req("roles", Ty::TableList(&ROLE)),
        opt("workflow", Ty::Table(&WORKFLOW)),
        opt("git", Ty::Table(&GIT)),
        opt("resources", Ty::Table(&RESOURCES)),
        opt("harness", Ty::Table(&HARNESS)),
        opt("install", Ty::Table(&INSTALL)),
    ],
};

pub(crate) static ARCHETYPE: Table = Table {
    name: "[archetype]",
    schema_def: "Archetype",
    fields: &[
        opt("id", Ty::Str),
        opt("version", Ty::Str),
        opt("diverged_at", Ty::Str),
    ],
};

pub(crate) static TEAM: Table = Table {
    name: "[team]",
    schema_def: "TeamInfo",
    fields: &[
        req("name", Ty::Str),
        opt("description", Ty::Str),
        opt("version", Ty::Str),
        opt("origin", Ty::Str),
    ],
};

pub(crate) static ROLE: Table = Table {
    name: "[[roles]]",
    schema_def: "Role",
    fields: &[
        req("name", Ty::Str),
        opt("display_name", Ty::Str),
        opt("harness", Ty::Str),
        opt("model", Ty::Str),
        opt("effort", Ty::Str),
        opt("theme", Ty::Str),
        opt("responsibilities", Ty::Str),
        opt("startup_prompt", Ty::Str),
        opt("env", Ty::StrMap),
    ],
};

pub(crate) static WORKFLOW: Table = Table {
    name: "[workflow]",
    schema_def: "Workflow",
    fields: &[
        opt("description", Ty::Str),
        opt("pipeline", Ty::StrList),
        opt("threads", Ty::StrMap),
        opt("handoff", Ty::Table(&HANDOFF)),
    ],
};

pub(crate) static HANDOFF: Table = Table {
    name: "[workflow.handoff]",
    schema_def: "Handoff",
    fields: &[opt("method", Ty::Str), opt("includes", Ty::StrList)],
};

pub(crate) static GIT: Table = Table {
    name: "[git]",
    schema_def: "Git",
    fields: &[
        opt("description", Ty::Str),
        opt("strategy", Ty::Str),
        opt("feature_branch", Ty::Str),
        opt("agent_branch", Ty::Str),
        opt("merge_to_main", Ty::Str),
        opt("ownership", Ty::StrMap),
    ],
};

pub(crate) static RESOURCES: Table = Table {
    name: "[resources]",
    schema_def: "Resources",
    fields: &[opt("description", Ty::Str), opt("owners", Ty::StrMap)],
};

pub(crate) static HARNESS: Table = Table {
    name: "[harness]",
    schema_def: "HarnessSettings",
    fields: &[
        opt("permission_mode", Ty::Str),
        opt("launch_stagger_seconds", Ty::Number),
        opt("human_interface", Ty::Str),
    ],
};

pub(crate) static INSTALL: Table = Table {
    name: "[install]",
    schema_def: "Install",
    fields: &[
        opt("skills", Ty::StrList),
        opt("claude_md", Ty::Bool),
        opt("agents_md", Ty::Bool),
        opt("hooks", Ty::Bool),
        opt("devcontainer", Ty::Bool),
        opt("unmanaged", Ty::StrList),
    ],
};

/// Every table, for the drift test against the generated JSON schema.
#[cfg(test)]
pub(crate) static ALL_TABLES: [&Table; 10] = [
    &ROOT, &ARCHETYPE, &TEAM, &ROLE, &WORKFLOW, &HANDOFF, &GIT, &RESOURCES, &HARNESS, &INSTALL,
];

/// Checks the whole document against [`ROOT`].
pub(crate) fn check(doc: &DeTable<'_>, found: &mut Found<'_>) {
    check_table(doc, 0..0, &ROOT, found);
}

/// `span` is where the table starts (its header), for "missing key" errors.
fn check_table(
    table: &DeTable<'_>,
    span: std::ops::Range<usize>,
    shape: &Table,
    found: &mut Found<'_>,
) {
    for (key, value) in table.iter() {
        let name = key.get_ref().as_ref();
        match shape.fields.iter().find(|f| f.key == name) {
            Some(field) => check_value(field, shape, value, found),
            None => found.push(
                key.span(),
                format!(
                    "unknown key `{name}` in {}{}",
                    shape.name,
                    did_you_mean(name, shape.fields.iter().map(|f| f.key))
                ),
                unknown_key_hint(name, shape),
            ),
        }
    }
    for field in shape.fields.iter().filter(|f| f.required) {
        if table.iter().any(|(k, _)| k.get_ref().as_ref() == field.key) {
            continue;
        }
        let (message, hint) = missing(shape, field);
        found.push(span.clone(), message, hint);
    }
}

fn unknown_key_hint(name: &str, shape: &Table) -> String {
    if let Some(hint) = runtime_key_hint(name, shape) {
        return hint.to_string();
    }
    // A top-level key written below a table header lands in that table.
    if !std::ptr::eq(shape, &ROOT) && ROOT.fields.iter().any(|f| f.key == name) {
        return format!(
            "`{name}` belongs at the top level, but every key after a table header belongs to \
             that table: move it above the first `[...]` header"
        );
    }
    format!(
        "known keys in {}: {}",
        shape.name,
        shape
            .fields
            .iter()
            .map(|f| f.key)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// moot.toml keys someone who knows the runtime may write in team.toml,
/// and what team.toml says instead.
fn runtime_key_hint(name: &str, shape: &Table) -> Option<&'static str> {
    let role = std::ptr::eq(shape, &ROLE);
    let harness = std::ptr::eq(shape, &HARNESS);
    match name {
        "model_reasoning_effort" if role => Some(
            "write `effort = \"...\"`: for a codex role moot writes it to moot.toml as model_reasoning_effort",
        ),
        "type" if harness => Some(
            "each role says its harness: `harness = \"codex\"` in its [[roles]] table; moot writes the rest of moot.toml's [harness]",
        ),
        "permissions" if harness => {
            Some("moot writes `permissions` itself; how agents ask is `permission_mode = \"...\"`")
        }
        "model" | "effort" | "model_reasoning_effort" if harness => Some(
            "set `model` and `effort` on each role ([[roles]]): team.toml has no team-wide default",
        ),
        // Not the top-level [harness] table: a role's harness is one key.
        "harness" if !role => {
            Some("a role's harness goes in its [[roles]] table: `harness = \"codex\"`")
        }
        _ => None,
    }
}

fn missing(shape: &Table, field: &Field) -> (String, String) {
    match (shape.name, field.key) {
        ("the top level", "team") => (
            "missing required table [team]".into(),
            "add a [team] table with the team's name:\n[team]\nname = \"my-team\"".into(),
        ),
        ("the top level", "roles") => (
            "no roles: team.toml needs at least one [[roles]] table".into(),
            "add a role:\n[[roles]]\nname = \"product\"".into(),
        ),
        (table, key) => (
            format!("missing required key `{key}` in {table}"),
            format!("add `{key} = \"...\"` to this {table} table"),
        ),
    }
}

fn check_value(field: &Field, shape: &Table, value: &Spanned<DeValue<'_>>, found: &mut Found<'_>) {
    let where_ = || format!("`{}` in {}", field.key, shape.name);
    match (field.ty, value.get_ref()) {
        (Ty::Str, DeValue::String(_))
        | (Ty::Bool, DeValue::Boolean(_))
        | (Ty::Number, DeValue::Integer(_) | DeValue::Float(_)) => {}
        (Ty::StrList, DeValue::Array(items)) => {
            for item in items.iter() {
                if !matches!(item.get_ref(), DeValue::String(_)) {
                    found.push(
                        item.span(),
                        format!(
                            "{} must be an array of strings, but this item is {}",
                            where_(),
                            type_name(item.get_ref())
                        ),
                        format!("quote each item: `{} = [\"a\", \"b\"]`", field.key),
                    );
                }
            }
        }
        (Ty::StrMap, DeValue::Table(entries)) => {
            for (k, v) in entries.iter() {
                if !matches!(v.get_ref(), DeValue::String(_)) {
                    found.push(
                        v.span(),
                        format!(
                            "`{}` in [{}] must be a string, not {}",
                            k.get_ref(),
                            table_path(shape, field),
                            type_name(v.get_ref())
                        ),
                        format!("quote the value: `{} = \"...\"`", k.get_ref()),
                    );
                }
            }
        }
        (Ty::Table(inner), DeValue::Table(t)) => check_table(t, value.span(), inner, found),
        (Ty::TableList(inner), DeValue::Array(items)) => {
            if items.is_empty() {
                found.push(
                    value.span(),
                    format!("`{}` is empty: at least one is needed", field.key),
                    format!(
                        "add a {}:\n[[{}]]\nname = \"...\"",
                        field.key.trim_end_matches('s'),
                        field.key
                    ),
                );
            }
            for item in items.iter() {
                match item.get_ref() {
                    DeValue::Table(t) => check_table(t, item.span(), inner, found),
                    other => found.push(
                        item.span(),
                        format!(
                            "each entry of `{}` must be a table, not {}",
                            field.key,
                            type_name(other)
                        ),
                        format!(
                            "write each entry as a `[[{}]]` header followed by its keys",
                            field.key
                        ),
                    ),
                }
            }
        }
        (ty, other) => found.push(
            value.span(),
            format!(
                "{} must be {}, not {}",
                where_(),
                expected(ty),
                type_name(other)
            ),
            type_hint(field.key, ty),
        ),
    }
}

/// `workflow.threads`, `git.ownership`: the dotted path of a map field.
fn table_path(shape: &Table, field: &Field) -> String {
    let parent = shape.name.trim_matches(['[', ']']);
    format!("{parent}.{}", field.key)
}

fn expected(ty: Ty) -> &'static str {
    match ty {
        Ty::Str => "a string",
        Ty::Bool => "a boolean",
        Ty::Number => "a number",
        Ty::StrList => "an array of strings",
        Ty::StrMap => "a table of strings",
        Ty::Table(_) => "a table",
        Ty::TableList(_) => "an array of tables",
    }
}

fn type_hint(key: &str, ty: Ty) -> String {
    match ty {
        Ty::Str => format!("quote the value: `{key} = \"...\"`"),
        Ty::Bool => format!("use `{key} = true` or `{key} = false`"),
        Ty::Number => format!("write a number without quotes: `{key} = 2`"),
        Ty::StrList => format!("use an array of strings: `{key} = [\"a\", \"b\"]`"),
        Ty::StrMap => {
            format!("use a table with string values: `[...{key}]` then `name = \"value\"` lines")
        }
        Ty::Table(t) => format!("use a table: a `{}` header followed by its keys", t.name),
        Ty::TableList(_) => {
            format!(
                "write each entry as a `[[{key}]]` header followed by its keys (note the double brackets)"
            )
        }
    }
}

pub(crate) fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}
