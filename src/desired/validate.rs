//! Parsing and validation of team.toml with file:line:column positions.
//!
//! The source is parsed once into a spanned document (`toml::de::DeTable`),
//! which is checked in two passes that both report every problem they find:
//! `schema` (unknown keys, wrong types, missing required keys) and `rules`
//! (what the types cannot say: safe role names, references between roles,
//! allowed values). Only a document with no problem is then deserialised
//! into [`TeamFile`] by serde.

mod rules;
pub(crate) use rules::role_chars;
mod schema;
mod syntax;

pub use rules::is_safe_role_name;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::DeTable;

use crate::desired::team::TeamFile;

/// Where the reference of every key lives; the fallback hint.
const REFERENCE_HINT: &str = "see the team.toml reference in docs/team-toml.md";

/// At most this many syntax errors are reported: past the first few, a
/// parser's recovery mostly reports the consequences of the first.
const MAX_SYNTAX_ERRORS: usize = 5;

/// One problem in a team.toml, at a 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub hint: String,
}

/// A team.toml that cannot be used: every problem found, in source order
/// (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamError {
    pub path: PathBuf,
    pub diagnostics: Vec<Diagnostic>,
}

impl TeamError {
    /// The first problem (in source order).
    pub fn first(&self) -> &Diagnostic {
        // Invariant: a TeamError is only built with at least one diagnostic.
        &self.diagnostics[0]
    }

    /// One hint per problem; with several, each names the line:column it is for.
    pub fn hint(&self) -> Option<String> {
        match self.diagnostics.as_slice() {
            [] => None,
            [one] => Some(one.hint.clone()),
            many => Some(
                many.iter()
                    .map(|d| format!("{}:{}: {}", d.line, d.column, d.hint))
                    .collect::<Vec<_>>()
                    .join("\nhint: "),
            ),
        }
    }
}

impl fmt::Display for TeamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                // The printer puts `error:` before the first line only.
                f.write_str("\nerror: ")?;
            }
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                d.line,
                d.column,
                d.message
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for TeamError {}

/// Reads and validates `path`.
pub fn load_team(path: &Path) -> Result<TeamFile, crate::error::Error> {
    let src = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => crate::error::Error::user(
            format!("{} not found", path.display()),
            "run `moot init` to write one from an archetype",
        ),
        std::io::ErrorKind::InvalidData => crate::error::Error::user(
            format!("{} is not valid UTF-8", path.display()),
            "TOML files must be UTF-8; re-save it with UTF-8 encoding",
        ),
        _ => crate::error::Error::io("reading", path, e),
    })?;
    Ok(parse_team(&src, path)?)
}

/// Parses and validates team.toml source; `path` is only used in messages.
pub fn parse_team(src: &str, path: &Path) -> Result<TeamFile, TeamError> {
    let fail = |diagnostics: Vec<Diagnostic>| TeamError {
        path: path.to_path_buf(),
        diagnostics,
    };

    let (doc, syntax) = DeTable::parse_recoverable(src);
    if !syntax.is_empty() {
        return Err(fail(syntax_diagnostics(src, &syntax)));
    }

    let mut found = Found::new(src);
    schema::check(doc.get_ref(), &mut found);
    rules::check(doc.get_ref(), &mut found);
    if !found.is_empty() {
        return Err(fail(found.finish()));
    }

    // Every key and type was checked above, so serde only fails here on
    // something the checks missed; still report it with its position.
    toml::from_str::<TeamFile>(src).map_err(|e| {
        let mut found = Found::new(src);
        found.push(
            e.span().unwrap_or(0..0),
            e.message().trim().to_string(),
            REFERENCE_HINT,
        );
        fail(found.finish())
    })
}

fn syntax_diagnostics(src: &str, errors: &[toml::de::Error]) -> Vec<Diagnostic> {
    let mut found = Found::new(src);
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        let hint = syntax::SyntaxClass::at(src, span.clone()).hint();
        found.push(span, format!("invalid TOML: {}", e.message().trim()), hint);
    }
    let mut diagnostics = found.finish();
    // Recovery after an error tends to report its consequences on the same
    // line; one error per line reads better.
    diagnostics.dedup_by_key(|d| d.line);
    diagnostics.truncate(MAX_SYNTAX_ERRORS);
    diagnostics
}

/// The problems found so far, with byte spans turned into positions.
pub(crate) struct Found<'s> {
    src: &'s str,
    items: Vec<(usize, Diagnostic)>,
}

impl<'s> Found<'s> {
    fn new(src: &'s str) -> Self {
        Found {
            src,
            items: Vec::new(),
        }
    }

    pub(crate) fn push(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        let (line, column) = line_col(self.src, span.start);
        self.items.push((
            span.start,
            Diagnostic {
                line,
                column,
                message: message.into(),
                hint: hint.into(),
            },
        ));
    }

    /// The 1-based line and column of a byte offset in the source.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        line_col(self.src, offset)
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// In source order; the same message at the same place only once.
    fn finish(mut self) -> Vec<Diagnostic> {
        self.items.sort_by_key(|(offset, _)| *offset);
        let mut out: Vec<Diagnostic> = Vec::with_capacity(self.items.len());
        for (_, d) in self.items {
            if !out.contains(&d) {
                out.push(d);
            }
        }
        if out.is_empty() {
            out.push(Diagnostic {
                line: 1,
                column: 1,
                message: "invalid team.toml".into(),
                hint: REFERENCE_HINT.into(),
            });
        }
        out
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The known word closest to `word`, when it is close enough to be a typo:
/// a few edits away (transpositions count as one), or sharing most letters
/// in order (`displayname` for `display_name`).
pub(crate) fn closest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let len = lower.chars().count();
    let max_edits = (len / 3).max(1).min(len.saturating_sub(1));
    known
        .into_iter()
        .map(|k| {
            let edits = strsim::damerau_levenshtein(&lower, k);
            (edits, strsim::jaro_winkler(&lower, k), k)
        })
        .filter(|(edits, jw, _)| *edits <= max_edits || *jw >= 0.85)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, k)| k)
}

/// `; did you mean `x`?` or nothing.
pub(crate) fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, known).map_or_else(String::new, |k| format!("; did you mean `{k}`?"))
}

#[cfg(test)]
mod tests;
