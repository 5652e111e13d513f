//! `moot init`: write team.toml from a built-in archetype or a directory
//! holding one. No network; the only write is team.toml, atomically.

use std::fs;
use std::path::Path;

use crate::Outcome;
use crate::cli::{GlobalArgs, InitArgs};
use crate::desired::bundle::{self, ARCHETYPES, DEFAULT_ARCHETYPE};
use crate::desired::validate::did_you_mean;
use crate::desired::{TeamFile, parse_team};
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::workspace::{TEAM_FILE, init_dir};

/// A validated team.toml and where it came from.
#[derive(Debug)]
pub struct Template {
    /// For messages: "archetype `loop-4`" or "path/to/team.toml".
    pub origin: String,
    pub source: String,
    pub team: TeamFile,
}

pub fn run(args: &InitArgs, global: &GlobalArgs, printer: &Printer) -> Result<Outcome> {
    let dir = init_dir(global.dir.as_deref())?;
    let target = dir.join(TEAM_FILE);
    let existed = fs::symlink_metadata(&target).is_ok();
    if existed && !args.force {
        return Err(Error::user(
            format!("{} already exists", target.display()),
            "pass `--force` to replace it (its current content is lost: commit it first)",
        ));
    }
    let template = resolve(&args.template)?;
    let mut contents = template.source.clone();
    if !contents.ends_with('\n') {
        contents.push('\n');
    }
    crate::fsutil::write_atomic(&target, contents.as_bytes(), 0o644)?;

    let roles: Vec<&str> = template
        .team
        .roles
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    printer.status(&format!(
        "{} {} from {} (roles: {})",
        if existed { "replaced" } else { "wrote" },
        target.display(),
        template.origin,
        roles.join(", ")
    ));
    printer.status("next: run `moot login`, then `moot plan`");
    Ok(Outcome::Success)
}

/// `--template NAME|DIR`: a built-in archetype by name, else a directory
/// holding a team.toml. A directory that shares an archetype's name is
/// reached with a path (`./loop-4`).
pub fn resolve(template: &str) -> Result<Template> {
    if ARCHETYPES.contains(&template) {
        return archetype(template);
    }
    let path = Path::new(template);
    let looks_like_path = template.contains(['/', '\\']) || template.starts_with('.');
    if path.exists() || looks_like_path {
        return from_dir(path);
    }
    Err(Error::user(
        format!(
            "unknown template `{template}`{}",
            did_you_mean(template, ARCHETYPES)
        ),
        format!(
            "built-in archetypes: {} (see `moot templates`); or pass a directory holding a team.toml",
            archetype_list()
        ),
    ))
}

fn archetype_list() -> String {
    ARCHETYPES
        .iter()
        .map(|a| {
            if *a == DEFAULT_ARCHETYPE {
                format!("{a} (default)")
            } else {
                (*a).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A built-in archetype, parsed. The bundle is ours, so a missing or
/// invalid one is a bug in moot, not the user's doing.
pub fn archetype(name: &str) -> Result<Template> {
    let path = format!("templates/teams/{name}/team.toml");
    let source = bundle::archetype_source(name)
        .ok_or_else(|| Error::Internal(format!("bundle file {path} missing")))?;
    let team = parse_team(source, Path::new(&path))
        .map_err(|e| Error::Internal(format!("built-in archetype {name} is invalid: {e}")))?;
    Ok(Template {
        origin: format!("archetype `{name}`"),
        source: source.to_string(),
        team,
    })
}

fn from_dir(dir: &Path) -> Result<Template> {
    if dir.is_file() {
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return Err(Error::user(
            format!("template {} is a file, not a directory", dir.display()),
            format!(
                "pass the directory that holds it: `--template {}`",
                parent.display()
            ),
        ));
    }
    if !dir.is_dir() {
        return Err(Error::user(
            format!("template directory {} does not exist", dir.display()),
            format!(
                "`--template` takes an archetype name ({}) or a directory holding a team.toml",
                ARCHETYPES.join(", ")
            ),
        ));
    }
    let file = dir.join(TEAM_FILE);
    // Another repository's file: never followed through a link, never
    // blocked on as a FIFO.
    let Some(bytes) = crate::fsutil::read_regular(&file)? else {
        return Err(Error::user(
            format!("template directory {} holds no {TEAM_FILE}", dir.display()),
            "pass a directory that holds a team.toml, or an archetype name (see `moot templates`)",
        ));
    };
    let source = String::from_utf8(bytes).map_err(|_| {
        Error::user(
            format!("{} is not valid UTF-8", file.display()),
            "TOML files must be UTF-8; re-save it with UTF-8 encoding",
        )
    })?;
    let team = parse_team(&source, &file)?;
    Ok(Template {
        origin: file.display().to_string(),
        source,
        team,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = include_str!("../../tests/fixtures/valid-team/team.toml");

    #[test]
    fn resolve_directory() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve(dir.path().to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("holds no team.toml"), "{err}");
        fs::write(dir.path().join("team.toml"), VALID).unwrap();
        let t = resolve(dir.path().to_str().unwrap()).unwrap();
        assert_eq!(t.team.roles.len(), 4);
        assert_eq!(t.source, VALID);
        let err = resolve(dir.path().join("team.toml").to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("is a file"), "{err}");
        let err = resolve("./does/not/exist").unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
