//! `moot import`: write team.toml from the team another client set up: the
//! Python client's `moot.toml` (roles in order, display names, harness,
//! model, effort, theme, startup prompt, human interface, template, space,
//! API URL) and `.moot/actors.json` (the roles and display names, when
//! there is no moot.toml, or roles moot.toml lacks). No network; the only
//! write is team.toml. Every value says where it came from; a value
//! team.toml cannot hold is reported, never dropped silently.
//!
//! Both inputs are treated as hostile: read without following a link, only
//! when a regular file, under a size cap; errors name file:line:column.

use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::Outcome;
use crate::cli::{GlobalArgs, ImportArgs};
use crate::desired::parse_team;
use crate::desired::team::{Effort, Harness, is_valid_model, role_key};
use crate::desired::validate::{is_safe_role_name, line_col};
use crate::error::{Error, Result};
use crate::observed::actors_file::ActorsFile;
use crate::observed::untrusted;
use crate::printer::{Printer, clean_line};
use crate::workspace::{TEAM_FILE, init_dir};

use crate::paths::{ACTORS_PATH, MOOT_DIR, MOOT_TOML_PATH};
/// Far above any real team's files; a cap so a hostile file cannot exhaust memory.
const INPUT_CAP: u64 = 1 << 20;

/// One role as team.toml will hold it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedRole {
    pub name: String,
    pub display_name: String,
    pub harness: Option<Harness>,
    pub model: Option<String>,
    pub effort: Option<Effort>,
    pub theme: Option<String>,
    pub startup_prompt: String,
    /// Where the role was defined (`moot.toml:6:9`), for messages.
    pub defined_at: String,
}

/// Where one value of team.toml came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// `team.name`, `roles.product.model`, ...
    pub field: String,
    pub value: String,
    /// `moot.toml:12:9`, `.moot/actors.json: actors.qa`, `default`.
    pub from: String,
}

/// A value of the inputs that team.toml does not hold, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Where it is: `moot.toml:3:1 [convo] space_id`.
    pub at: String,
    pub why: String,
}

/// What import makes of the inputs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Imported {
    pub team_name: String,
    pub roles: Vec<ImportedRole>,
    pub origins: Vec<Origin>,
    pub notes: Vec<Note>,
}

pub fn run(args: &ImportArgs, global: &GlobalArgs, printer: &Printer) -> Result<Outcome> {
    let dir = init_dir(global.dir.as_deref())?;
    let target = dir.join(TEAM_FILE);
    let existed = std::fs::symlink_metadata(&target).is_ok();
    if existed && !args.force {
        return Err(Error::user(
            format!("{} already exists", target.display()),
            "pass `--force` to replace it with the imported team (its current content is lost: commit it first)",
        ));
    }
    let toml_src = read_moot_toml(&dir)?;
    let actors = read_actors(&dir)?;
    if toml_src.is_none() && actors.is_none() {
        return Err(Error::user(
            format!(
                "nothing to import in {}: no {MOOT_TOML_PATH} and no {ACTORS_PATH}",
                dir.display()
            ),
            "run `moot import` in a workspace set up by mootup or moot-cli, or `moot init` to start from an archetype",
        ));
    }
    let fallback_name = dir_team_name(&dir);
    let imported = import(toml_src.as_deref(), actors.as_ref(), &fallback_name)?;
    let text = render(&imported);
    // Every value was checked on the way in (names, keys, harness, model,
    // effort): a team.toml moot cannot read back is a bug in import.
    parse_team(&text, Path::new(TEAM_FILE))
        .map_err(|e| Error::Internal(format!("moot import wrote an invalid team.toml: {e}")))?;
    crate::fsutil::write_atomic(&target, text.as_bytes(), 0o644)?;
    printer.data(&report(&imported, &target, existed));
    Ok(Outcome::Success)
}

/// Reads moot.toml as untrusted UTF-8 text.
fn read_moot_toml(dir: &Path) -> Result<Option<String>> {
    let hint = "replace it with a regular file, or move it aside and use `moot init`";
    let Some(file) = untrusted::read(&dir.join(MOOT_TOML_PATH), INPUT_CAP, MOOT_TOML_PATH, hint)?
    else {
        return Ok(None);
    };
    String::from_utf8(file.bytes).map(Some).map_err(|e| {
        let (line, col) = line_col_bytes(e.as_bytes(), e.utf8_error().valid_up_to());
        Error::user(
            format!("{MOOT_TOML_PATH}:{line}:{col}: not UTF-8 text"),
            "TOML files must be UTF-8; re-save it with UTF-8 encoding",
        )
    })
}

fn line_col_bytes(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = String::from_utf8_lossy(&bytes[..offset.min(bytes.len())]);
    line_col(&before, before.len())
}

/// Reads `.moot/actors.json` (never printing a key).
fn read_actors(dir: &Path) -> Result<Option<ActorsFile>> {
    let hint =
        "move it aside (the keys in it stay valid on the platform) and run `moot import` again";
    if !untrusted::check_dir(&dir.join(MOOT_DIR), MOOT_DIR, hint)? {
        return Ok(None);
    }
    let path = dir.join(ACTORS_PATH);
    let Some(file) = untrusted::read(&path, INPUT_CAP, ACTORS_PATH, hint)? else {
        return Ok(None);
    };
    ActorsFile::parse(&file.bytes, Path::new(ACTORS_PATH)).map(Some)
}

/// A team name from the workspace directory, when no template names one.
fn dir_team_name(dir: &Path) -> String {
    let name = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    if name.trim().is_empty() {
        "team".into()
    } else {
        name.trim().to_string()
    }
}

/// The pure part: the team from moot.toml (if any) completed by actors.json.
pub fn import(
    moot_toml: Option<&str>,
    actors: Option<&ActorsFile>,
    fallback_name: &str,
) -> Result<Imported> {
    let mut out = match moot_toml {
        Some(src) => from_moot_toml(src)?,
        None => Imported::default(),
    };
    if let Some(actors) = actors {
        add_from_actors(&mut out, actors, moot_toml.is_some());
    }
    if out.roles.is_empty() {
        return Err(Error::user(
            format!(
                "nothing to import: {MOOT_TOML_PATH} lists no [agents.*] and {ACTORS_PATH} no actors"
            ),
            "add the team's agents to moot.toml, or start from an archetype with `moot init`",
        ));
    }
    check_unique(&out.roles)?;
    if out.team_name.is_empty() {
        out.team_name = fallback_name.to_string();
        out.origins.push(Origin {
            field: "team.name".into(),
            value: fallback_name.to_string(),
            from: "the workspace directory's name".into(),
        });
    }
    Ok(out)
}

/// Two roles may share neither a name nor a runtime key (the lower-cased
/// display name): the runtime could not tell their agents apart.
fn check_unique(roles: &[ImportedRole]) -> Result<()> {
    for (i, a) in roles.iter().enumerate() {
        for b in &roles[..i] {
            let clash = if a.name == b.name {
                format!("both become role `{}`", clean_line(&a.name))
            } else if role_key(&a.display_name) == role_key(&b.display_name) {
                format!(
                    "their display names (\"{}\", \"{}\") are the same to the runtime",
                    clean_line(&b.display_name),
                    clean_line(&a.display_name)
                )
            } else {
                continue;
            };
            return Err(Error::user(
                format!(
                    "{} and {}: two agents that {clash}",
                    clean_line(&b.defined_at),
                    clean_line(&a.defined_at)
                ),
                "give each agent its own key and display_name in moot.toml, then run `moot import` again",
            ));
        }
    }
    Ok(())
}

/// The typed view of a spanned value, or an error at its position.
struct Src<'a> {
    text: &'a str,
}

impl Src<'_> {
    fn at(&self, span: std::ops::Range<usize>) -> String {
        let (line, col) = line_col(self.text, span.start);
        format!("{MOOT_TOML_PATH}:{line}:{col}")
    }

    fn string(&self, v: &Spanned<DeValue<'_>>, key: &str) -> Result<String> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            other => Err(Error::user(
                format!(
                    "{}: `{key}` must be a string, not {}",
                    self.at(v.span()),
                    other.type_str()
                ),
                format!("put the value in quotes (`{key} = \"...\"`), or remove the line"),
            )),
        }
    }

    fn table<'t, 'i>(&self, v: &'t Spanned<DeValue<'i>>, key: &str) -> Result<&'t DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Ok(t),
            other => Err(Error::user(
                format!(
                    "{}: `{key}` must be a table, not {}",
                    self.at(v.span()),
                    other.type_str()
                ),
                format!("write it as a `[{key}]` section"),
            )),
        }
    }
}

/// The `[harness]` defaults the runtime applies to every agent.
#[derive(Default)]
struct HarnessDefaults {
    kind: Option<(String, String)>,
    model: Option<(String, String)>,
    effort: Option<(String, String)>,
    human_interface: Option<(String, String)>,
}

fn from_moot_toml(text: &str) -> Result<Imported> {
    let doc = DeTable::parse(text).map_err(|e| {
        let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        Error::user(
            format!(
                "{MOOT_TOML_PATH}:{line}:{col}: not valid TOML: {}",
                clean_line(e.message().trim())
            ),
            "fix the syntax at that position (moot import reads moot.toml as the runtime does)",
        )
    })?;
    let src = Src { text };
    let mut out = Imported::default();
    let mut defaults = HarnessDefaults::default();
    let mut agents = None;
    for (k, v) in doc.get_ref() {
        match k.get_ref().as_ref() {
            "convo" => convo(&src, src.table(v, "convo")?, &mut out)?,
            "harness" => defaults = harness(&src, src.table(v, "harness")?, &mut out)?,
            "agents" => agents = Some(src.table(v, "agents")?),
            other => out.notes.push(Note {
                at: format!("{} [{}]", src.at(k.span()), clean_line(other)),
                why: "a table moot does not know; team.toml has no place for it".into(),
            }),
        }
    }
    if let Some(agents) = agents {
        for (k, v) in agents {
            let key = k.get_ref().to_string();
            let table = src.table(v, &format!("agents.{key}"))?;
            let role = agent(&src, &key, k.span(), table, &defaults, &mut out)?;
            out.roles.push(role);
        }
    }
    human_interface(&mut out, defaults.human_interface);
    Ok(out)
}

fn convo(src: &Src<'_>, t: &DeTable<'_>, out: &mut Imported) -> Result<()> {
    for (k, v) in t {
        let key = k.get_ref().as_ref();
        let at = src.at(v.span());
        match key {
            "template" => {
                let value = src.string(v, "convo.template")?;
                if !value.trim().is_empty() {
                    out.team_name = value.trim().to_string();
                    out.origins.push(Origin {
                        field: "team.name".into(),
                        value: value.trim().to_string(),
                        from: format!("{at} [convo] template"),
                    });
                }
            }
            "space_id" | "api_url" => {
                let value = src.string(v, &format!("convo.{key}"))?;
                let why = if key == "space_id" {
                    "team.toml names no space: moot uses your account's default space (as `moot init` of mootup did); `moot plan` shows which"
                } else {
                    "team.toml names no API: moot uses MOOT_API_URL or the URL stored by `moot login --api-url`"
                };
                out.notes.push(Note {
                    at: format!("{at} [convo] {key} = \"{}\"", clean_line(&value)),
                    why: why.into(),
                });
            }
            other => out.notes.push(Note {
                at: format!("{} [convo] {}", src.at(k.span()), clean_line(other)),
                why: "a key moot does not know; team.toml has no place for it".into(),
            }),
        }
    }
    Ok(())
}

fn harness(src: &Src<'_>, t: &DeTable<'_>, out: &mut Imported) -> Result<HarnessDefaults> {
    let mut d = HarnessDefaults::default();
    for (k, v) in t {
        let key = k.get_ref().as_ref();
        let at = format!("{} [harness] {key}", src.at(v.span()));
        let slot = match key {
            "type" => &mut d.kind,
            "model" => &mut d.model,
            "effort" => &mut d.effort,
            "human_interface" => &mut d.human_interface,
            "permissions" => {
                let value = src.string(v, "harness.permissions")?;
                if value != "dangerously-skip" {
                    out.notes.push(Note {
                        at: format!("{at} = \"{}\"", clean_line(&value)),
                        why: "team.toml cannot change it: moot's moot.toml always says \"dangerously-skip\"".into(),
                    });
                }
                continue;
            }
            other => {
                out.notes.push(Note {
                    at: format!("{} [harness] {}", src.at(k.span()), clean_line(other)),
                    why: "a key moot does not know; team.toml has no place for it".into(),
                });
                continue;
            }
        };
        *slot = Some((src.string(v, &format!("harness.{key}"))?, at));
    }
    Ok(d)
}

/// One `[agents.<key>]` table as a role.
fn agent(
    src: &Src<'_>,
    key: &str,
    key_span: std::ops::Range<usize>,
    t: &DeTable<'_>,
    d: &HarnessDefaults,
    out: &mut Imported,
) -> Result<ImportedRole> {
    let name = role_name(key);
    let at_key = src.at(key_span);
    if name != key {
        out.notes.push(Note {
            at: format!("{at_key} [agents.{}]", clean_line(key)),
            why: format!("not a safe role name; imported as `{name}`"),
        });
    }
    let mut role = ImportedRole {
        name: name.clone(),
        defined_at: at_key.clone(),
        ..ImportedRole::default()
    };
    let value_of = |field: &str| -> Result<Option<(String, String)>> {
        let Some((_, v)) = t.iter().find(|(k, _)| k.get_ref().as_ref() == field) else {
            return Ok(None);
        };
        let value = src.string(v, &format!("agents.{key}.{field}"))?;
        Ok(Some((
            value,
            format!("{} [agents.{key}] {field}", src.at(v.span())),
        )))
    };
    let display = value_of("display_name")?;
    let harness = value_of("harness")?.or_else(|| d.kind.clone());
    let model = value_of("model")?.or_else(|| d.model.clone());
    let effort = value_of("effort")?.or_else(|| d.effort.clone());
    let theme = value_of("theme")?;
    let prompt = value_of("startup_prompt")?;
    let profile = value_of("profile")?;
    let mut origin = |field: &str, value: &str, from: &str| {
        out.origins.push(Origin {
            field: format!("roles.{name}.{field}"),
            value: clean_line(value).into_owned(),
            from: from.to_string(),
        });
    };
    origin("name", &name, &format!("{at_key} [agents.{key}]"));
    role.display_name = match display {
        Some((v, at)) if !v.trim().is_empty() => {
            origin("display_name", v.trim(), &at);
            v.trim().to_string()
        }
        _ => {
            // The runtime's own default: Python's str.title() of the key.
            let v = python_title(key);
            origin(
                "display_name",
                &v,
                &format!("{at_key} the runtime's default for [agents.{key}]"),
            );
            v
        }
    };
    if let Some((v, at)) = theme {
        origin("theme", &v, &at);
        role.theme = Some(v);
    }
    if let Some((v, at)) = prompt.filter(|(v, _)| !v.trim().is_empty()) {
        origin("startup_prompt", "(text)", &at);
        role.startup_prompt = v.trim().to_string();
    }
    if let Some((v, at)) = profile.filter(|(v, _)| v != "devcontainer") {
        out.notes.push(Note {
            at: format!("{at} = \"{}\"", clean_line(&v)),
            why: "team.toml cannot change it: moot's moot.toml always says \"devcontainer\"".into(),
        });
    }
    checked_values(&mut role, harness, model, effort, out);
    Ok(role)
}

/// Harness, model and effort, each kept only when team.toml accepts it.
fn checked_values(
    role: &mut ImportedRole,
    harness: Option<(String, String)>,
    model: Option<(String, String)>,
    effort: Option<(String, String)>,
    out: &mut Imported,
) {
    let name = role.name.clone();
    let mut keep = |field: &str, value: &str, at: &str, ok: bool, allowed: &str| {
        if ok {
            out.origins.push(Origin {
                field: format!("roles.{name}.{field}"),
                value: clean_line(value).into_owned(),
                from: at.to_string(),
            });
        } else {
            out.notes.push(Note {
                at: format!("{at} = \"{}\"", clean_line(value)),
                why: format!("not a {field} team.toml accepts ({allowed}); left out"),
            });
        }
    };
    if let Some((v, at)) = harness {
        let h = Harness::ALL.into_iter().find(|h| h.as_str() == v);
        keep(
            "harness",
            &v,
            &at,
            h.is_some(),
            "claude-code, codex, cursor, aider",
        );
        role.harness = h;
    }
    if let Some((v, at)) = model {
        let ok = is_valid_model(&v);
        keep(
            "model",
            &v,
            &at,
            ok,
            "an alias such as opus or sonnet, or a claude-... id",
        );
        role.model = ok.then_some(v);
    }
    if let Some((v, at)) = effort {
        let e = Effort::ALL.into_iter().find(|e| e.as_str() == v);
        keep(
            "effort",
            &v,
            &at,
            e.is_some(),
            "low, medium, high, xhigh, max",
        );
        role.effort = e;
    }
}

/// team.toml has no human-interface key: moot picks `product`, else the
/// first role. Say so when moot.toml chose another.
fn human_interface(out: &mut Imported, chosen: Option<(String, String)>) {
    let Some((hi, at)) = chosen else { return };
    let implied = out
        .roles
        .iter()
        .find(|r| r.name == "product")
        .or(out.roles.first())
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let matches = out
        .roles
        .iter()
        .any(|r| r.name == implied && (r.name == hi || role_key(&r.display_name) == hi));
    if matches {
        out.origins.push(Origin {
            field: "human interface".into(),
            value: clean_line(&hi).into_owned(),
            from: format!(
                "{at} (team.toml implies it: `product` when present, else the first role)"
            ),
        });
    } else {
        out.notes.push(Note {
            at: format!("{at} = \"{}\"", clean_line(&hi)),
            why: format!(
                "team.toml cannot choose the human interface: moot uses `product` when present, else the first role (here `{implied}`)"
            ),
        });
    }
}

/// Roles from actors.json: all of them without moot.toml; otherwise only
/// those moot.toml lacks (so their keys stay in the key file).
fn add_from_actors(out: &mut Imported, actors: &ActorsFile, have_toml: bool) {
    for (key, entry) in &actors.actors {
        if entry.api_key.expose().trim().is_empty() {
            // Both earlier clients stored "" when the platform answered a
            // rotation with a ticket instead of a key.
            out.notes.push(Note {
                at: format!("{ACTORS_PATH}: actors.{} api_key = \"\"", clean_line(key)),
                why: format!(
                    "no key is held for this agent; `moot plan` reports it as `key not held here` \
                     and `moot apply --replace {}` issues one",
                    role_name(key)
                ),
            });
        }
        let display = entry.display_name.trim();
        let known = out.roles.iter().find(|r| {
            r.name == *key || role_key(&r.display_name) == *key || r.display_name == display
        });
        if let Some(r) = known {
            if !display.is_empty() && r.display_name != display {
                out.notes.push(Note {
                    at: format!("{ACTORS_PATH}: actors.{} display_name = \"{}\"", clean_line(key), clean_line(display)),
                    why: format!(
                        "moot.toml names it \"{}\", which team.toml keeps; `moot plan` renames the agent if the platform differs",
                        clean_line(&r.display_name)
                    ),
                });
            }
            continue;
        }
        let name = role_name(key);
        let display_name = if display.is_empty() {
            python_title(key)
        } else {
            display.to_string()
        };
        let from = format!("{ACTORS_PATH}: actors.{}", clean_line(key));
        if have_toml {
            out.notes.push(Note {
                at: from.clone(),
                why: format!("an agent moot.toml does not list; imported as role `{name}` so its key is kept (remove the role from team.toml to drop it)"),
            });
        }
        if name != *key {
            out.notes.push(Note {
                at: from.clone(),
                why: format!("not a safe role name; imported as `{name}`"),
            });
        }
        for (field, value) in [
            ("name", name.as_str()),
            ("display_name", display_name.as_str()),
        ] {
            out.origins.push(Origin {
                field: format!("roles.{name}.{field}"),
                value: clean_line(value).into_owned(),
                from: from.clone(),
            });
        }
        out.roles.push(ImportedRole {
            name,
            display_name,
            defined_at: from,
            ..ImportedRole::default()
        });
    }
    for (key, value) in [("space_id", &actors.space_id), ("api_url", &actors.api_url)] {
        if !value.is_empty() && !have_toml {
            out.notes.push(Note {
                at: format!("{ACTORS_PATH}: {key} = \"{}\"", clean_line(value)),
                why: "team.toml names no space or API: moot uses your account's default space and MOOT_API_URL or `moot login --api-url`".into(),
            });
        }
    }
}

/// A role name team.toml accepts, from a runtime key.
fn role_name(key: &str) -> String {
    if is_safe_role_name(key) {
        return key.to_string();
    }
    let s = crate::desired::validate::role_chars(key);
    let s = s.trim_start_matches('-').to_string();
    if s.is_empty() { "role".into() } else { s }
}

/// Python's `str.title()`, which the runtime uses for a missing display name.
fn python_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if prev_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphabetic();
    }
    out
}

/// team.toml text, every string quoted by the TOML writer.
pub fn render(imported: &Imported) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::from(
        "# Written by `moot import` from the team this workspace already had.\n\
         # This file is yours now: moot plan/apply make the workspace match it.\n\
         toml_schema_version = \"1\"\n\n[team]\n",
    );
    out.push_str(&format!("name = {}\n", q(&imported.team_name)));
    out.push_str("origin = \"moot import\"\n");
    for r in &imported.roles {
        out.push_str(&format!("\n[[roles]]\nname = {}\n", q(&r.name)));
        out.push_str(&format!("display_name = {}\n", q(&r.display_name)));
        if let Some(h) = r.harness {
            out.push_str(&format!("harness = {}\n", q(h.as_str())));
        }
        if let Some(m) = &r.model {
            out.push_str(&format!("model = {}\n", q(m)));
        }
        if let Some(e) = r.effort {
            out.push_str(&format!("effort = {}\n", q(e.as_str())));
        }
        if let Some(t) = &r.theme {
            out.push_str(&format!("theme = {}\n", q(t)));
        }
        if !r.startup_prompt.is_empty() {
            out.push_str(&format!("startup_prompt = {}\n", q(&r.startup_prompt)));
        }
    }
    out
}

/// What was written, where each value came from, and what was left out.
fn report(imported: &Imported, target: &Path, replaced: bool) -> String {
    let roles: Vec<&str> = imported.roles.iter().map(|r| r.name.as_str()).collect();
    let mut out = format!(
        "{} {} ({} role{}: {})\n\nWhere each value came from:\n",
        if replaced { "Replaced" } else { "Wrote" },
        target.display(),
        roles.len(),
        if roles.len() == 1 { "" } else { "s" },
        clean_line(&roles.join(", "))
    );
    let width = imported
        .origins
        .iter()
        .map(|o| o.field.len())
        .max()
        .unwrap_or(0);
    for o in &imported.origins {
        out.push_str(&format!(
            "  {:width$} = {}  <- {}\n",
            clean_line(&o.field),
            o.value,
            clean_line(&o.from)
        ));
    }
    if !imported.notes.is_empty() {
        out.push_str("\nNot imported (team.toml cannot hold these):\n");
        for n in &imported.notes {
            out.push_str(&format!("  {}\n    {}\n", n.at, clean_line(&n.why)));
        }
    }
    out.push_str(
        "\nNext: `moot plan` adopts the agents and the keys this workspace holds (no key is issued \
         or rotated); files moot did not write are staged as suggestions for you to review.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOOTUP: &str = include_str!("../../tests/fixtures/mootup-0.3.0/moot.toml");

    #[test]
    fn mootup_workspace_imports_roles_in_order_with_their_values() {
        let got = import(Some(MOOTUP), None, "dir").unwrap();
        let names: Vec<&str> = got.roles.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["product", "spec", "implementation", "qa", "tech_writer"]
        );
        assert_eq!(got.team_name, "loop-4");
        let qa = &got.roles[3];
        assert_eq!(qa.display_name, "QA");
        assert_eq!(qa.model.as_deref(), Some("sonnet"));
        assert_eq!(qa.theme.as_deref(), Some("green"));
        assert_eq!(qa.harness, Some(Harness::ClaudeCode));
        assert_eq!(got.roles[4].display_name, "Tech Writer");
        assert_eq!(got.roles[4].model, None);
        // space and API URL cannot live in team.toml: reported, with position.
        assert!(
            got.notes
                .iter()
                .any(|n| n.at.starts_with("moot.toml:4:12 [convo] space_id")),
            "{:?}",
            got.notes
        );
        assert!(got.notes.iter().any(|n| n.at.contains("[convo] api_url")));
        let text = render(&got);
        let team = parse_team(&text, Path::new("team.toml")).unwrap();
        assert_eq!(team.roles.len(), 5);
        assert_eq!(team.human_interface(), "product");
    }

    #[test]
    fn report_says_where_each_value_came_from() {
        let got = import(Some(MOOTUP), None, "dir").unwrap();
        insta::assert_snapshot!(report(&got, Path::new("team.toml"), false));
        insta::assert_snapshot!("mootup_team_toml", render(&got));
    }

    #[test]
    fn values_team_toml_cannot_hold_are_reported() {
        let src = "[convo]\ntemplate = \"custom\"\nextra = 1\n\n[agents.lead]\ndisplay_name = \"Lead\"\n\
                   profile = \"host\"\nmodel = \"gpt-9\"\neffort = \"huge\"\nharness = \"vim\"\n\n\
                   [agents.qa]\n\n[harness]\ntype = \"cursor\"\nhuman_interface = \"qa\"\npermissions = \"ask\"\n";
        let got = import(Some(src), None, "dir").unwrap();
        let lead = &got.roles[0];
        assert_eq!(
            (lead.model.as_ref(), lead.effort, lead.harness),
            (None, None, None)
        );
        // The [harness] type is the runtime's default for agents without one.
        assert_eq!(got.roles[1].harness, Some(Harness::Cursor));
        assert_eq!(got.roles[1].display_name, "Qa");
        let notes: Vec<String> = got
            .notes
            .iter()
            .map(|n| format!("{} {}", n.at, n.why))
            .collect();
        for needle in [
            "extra",
            "\"host\"",
            "\"gpt-9\"",
            "\"huge\"",
            "\"vim\"",
            "human_interface = \"qa\"",
            "\"ask\"",
        ] {
            assert!(
                notes.iter().any(|n| n.contains(needle)),
                "{needle} not reported: {notes:#?}"
            );
        }
        parse_team(&render(&got), Path::new("team.toml")).unwrap();
    }

    #[test]
    fn bad_input_names_line_and_column() {
        let err = import(Some("[agents.qa]\nmodel = 3\n"), None, "d").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("moot.toml:2:9: `agents.qa.model` must be a string"),
            "{err}"
        );
        let err = import(Some("[agents]\nqa = \"x\"\n"), None, "d").unwrap_err();
        assert!(err.to_string().starts_with("moot.toml:2:6:"), "{err}");
        let err = import(Some("[convo\n"), None, "d").unwrap_err();
        assert!(err.to_string().starts_with("moot.toml:1:"), "{err}");
        assert!(err.hint().is_some());
        let err = import(Some("[convo]\n"), None, "d").unwrap_err();
        assert!(err.to_string().contains("nothing to import"), "{err}");
        let two = "[agents.a]\ndisplay_name = \"Lead\"\n[agents.b]\ndisplay_name = \"lead\"\n";
        let err = import(Some(two), None, "d").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("moot.toml:1:9 and moot.toml:3:9: two agents"),
            "{err}"
        );
        let err = import(Some("[agents.\"A b\"]\n[agents.a_b]\n"), None, "d").unwrap_err();
        assert!(err.to_string().contains("both become role `a_b`"), "{err}");
    }

    #[test]
    fn actors_json_alone_gives_roles_and_display_names() {
        let bytes = include_bytes!("../../tests/fixtures/moot-cli-js/.moot/actors.json");
        let actors = ActorsFile::parse(bytes, Path::new(ACTORS_PATH)).unwrap();
        let got = import(None, Some(&actors), "my-repo").unwrap();
        let roles: Vec<(&str, &str)> = got
            .roles
            .iter()
            .map(|r| (r.name.as_str(), r.display_name.as_str()))
            .collect();
        assert_eq!(
            roles,
            [
                ("product", "Product"),
                ("spec", "Spec"),
                ("implementation", "Implementation"),
                ("qa", "QA")
            ]
        );
        assert_eq!(got.team_name, "my-repo");
        let text = render(&got);
        assert!(!text.contains("convo_key"), "a key reached team.toml");
        assert!(!format!("{got:?}").contains("convo_key"));
        parse_team(&text, Path::new("team.toml")).unwrap();
    }

    #[test]
    fn actors_missing_from_moot_toml_are_kept_and_reported() {
        let bytes =
            br#"{"actors": {"qa": {"actor_id": "agt_1", "api_key": "k", "display_name": "QA"},
            "Odd Key": {"actor_id": "agt_2", "api_key": "k", "display_name": "Odd Key"}}}"#;
        let actors = ActorsFile::parse(bytes, Path::new(ACTORS_PATH)).unwrap();
        let got = import(
            Some("[agents.qa]\ndisplay_name = \"QA\"\n"),
            Some(&actors),
            "d",
        )
        .unwrap();
        assert_eq!(got.roles.len(), 2);
        assert_eq!(got.roles[1].name, "odd_key");
        assert_eq!(got.roles[1].display_name, "Odd Key");
        assert!(got.notes.iter().any(|n| n.why.contains("does not list")));
        assert!(!got.notes.iter().any(|n| n.why.contains("no key is held")));
        let bytes =
            br#"{"actors": {"qa": {"actor_id": "agt_1", "api_key": "", "display_name": "QA"}}}"#;
        let actors = ActorsFile::parse(bytes, Path::new(ACTORS_PATH)).unwrap();
        let got = import(None, Some(&actors), "d").unwrap();
        assert!(
            got.notes
                .iter()
                .any(|n| n.at.contains("actors.qa api_key")
                    && n.why.contains("moot apply --replace qa")),
            "{:?}",
            got.notes
        );
    }
}
