//! `moot templates`: the built-in archetypes, their roles and what each is
//! for, on stdout.

use crate::Outcome;
use crate::commands::init::archetype;
use crate::desired::bundle::{ARCHETYPES, DEFAULT_ARCHETYPE};
use crate::error::Result;
use crate::printer::Printer;

pub fn run(printer: &Printer) -> Result<Outcome> {
    printer.data(&listing()?);
    Ok(Outcome::Success)
}

/// One entry per archetype: name (default marked) and roles in pipeline
/// order, then the first line of its description, indented.
pub fn listing() -> Result<String> {
    let mut rows = Vec::new();
    for name in ARCHETYPES {
        let t = archetype(name)?;
        let label = if name == DEFAULT_ARCHETYPE {
            format!("{name} (default)")
        } else {
            name.to_string()
        };
        let roles: Vec<&str> = t.team.roles.iter().map(|r| r.name.as_str()).collect();
        let description = t
            .team
            .team
            .description
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default()
            .to_string();
        rows.push((label, roles.join(", "), description));
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for (label, roles, description) in rows {
        out.push_str(&format!("{label:<width$}{roles}\n"));
        if !description.is_empty() {
            out.push_str(&format!("{:width$}{description}\n", ""));
        }
    }
    Ok(out)
}
