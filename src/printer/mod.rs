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
            eprintln!("{text}");
        }
    }

    /// Extra detail on stderr, only with `--verbose`.
    pub fn verbose(&self, text: &str) {
        if self.verbosity == Verbosity::Verbose {
            eprintln!("{}", self.err_styles.dim.apply_to(text));
        }
    }

    pub fn warn(&self, text: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{} {text}", self.err_styles.warn.apply_to("warning:"));
        }
    }

    /// Errors are printed whatever the verbosity.
    pub fn error(&self, err: &Error) {
        eprintln!("{}", render_error(err, &self.err_styles));
    }
}

/// `error: <message>` then, after a blank line, `hint: <hint>`.
pub fn render_error(err: &Error, styles: &Styles) -> String {
    let mut text = format!(
        "{} {}",
        styles.remove.apply_to("error:"),
        clean_text(&err.to_string())
    );
    if let Some(hint) = err.hint() {
        text.push_str(&format!(
            "\n\n{} {}",
            styles.hint.apply_to("hint:"),
            clean_text(&hint)
        ));
    }
    text
}

/// Text from outside moot (an agent's display name from the server, a
/// file's content in a diff) made safe for a terminal: control characters
/// (escape sequences that could clear the screen or retitle the window,
/// carriage returns that could hide a line) are shown escaped. Newlines
/// and tabs stay.
pub fn clean_text(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One line of text from outside moot: as [`clean_text`], and a newline
/// too is shown escaped, so a name cannot forge a second line.
pub fn clean_line(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect(),
    )
}
