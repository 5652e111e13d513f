//! What kind of TOML syntax error the source shows at an error's span, read
//! from the source itself rather than from the parser's wording (which is
//! the toml crate's to change): the hint for a syntax error depends on it.

use std::ops::Range;

/// The kinds of syntax error a hint is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SyntaxClass {
    /// A key (or table header) that the table already has.
    RepeatedKey,
    /// A value that is not quoted, a number, a boolean or a date.
    UnquotedValue,
    /// `key =` with nothing after it.
    MissingValue,
    /// A string, array, inline table or header still open where it must end.
    Unclosed,
    /// Anything else.
    Other,
}

impl SyntaxClass {
    /// Reads the source at `span` (the parser's error position).
    pub(crate) fn at(src: &str, span: Range<usize>) -> SyntaxClass {
        let start = floor_boundary(src, span.start);
        let end = floor_boundary(src, span.end.max(start));
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let before = &src[line_start..start];
        let after = src[end..].trim_start_matches([' ', '\t']);
        if start == end {
            return if unclosed_at(src, start) {
                SyntaxClass::Unclosed
            } else if before.trim_end().ends_with('=')
                && (after.is_empty() || after.starts_with(['\r', '\n', '#']))
            {
                SyntaxClass::MissingValue
            } else {
                SyntaxClass::Other
            };
        }
        let header = before.trim_start().starts_with('[') && !before.contains('=');
        if after.starts_with(['=', '.']) || (header && after.starts_with(']')) {
            SyntaxClass::RepeatedKey
        } else if before.contains('=') {
            SyntaxClass::UnquotedValue
        } else {
            SyntaxClass::Other
        }
    }

    pub(crate) fn hint(self) -> &'static str {
        match self {
            SyntaxClass::RepeatedKey => {
                "a key (or table header) may appear only once in a table; merge or remove \
                 the repeated one"
            }
            SyntaxClass::UnquotedValue => {
                "strings must be in quotes: `key = \"value\"`; use \"\"\"...\"\"\" for multi-line text"
            }
            SyntaxClass::MissingValue => {
                "write a value after `=` (strings in quotes: `key = \"value\"`)"
            }
            SyntaxClass::Unclosed => "close the bracket or quote that is still open",
            SyntaxClass::Other => {
                "fix the TOML syntax at that position (TOML reference: https://toml.io)"
            }
        }
    }
}

/// The largest char boundary at or below `offset` (spans are byte offsets).
fn floor_boundary(src: &str, offset: usize) -> usize {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Whether the innermost string or bracket open at `offset` is never
/// closed where TOML needs it closed: a one-line string before its line
/// ends, anything else before the end of the source. A bad escape inside a
/// string that does close, or a bracket closed later, is something else.
fn unclosed_at(src: &str, offset: usize) -> bool {
    let s = src.as_bytes();
    let mut lexer = Lexer::default();
    let mut i = 0;
    while i < offset {
        i += lexer.step(s, i).0;
    }
    let depth = lexer.open.len();
    if depth == 0 {
        return false;
    }
    while i < s.len() {
        let (taken, closed) = lexer.step(s, i);
        if lexer.open.len() < depth {
            return !closed;
        }
        i += taken;
    }
    true
}

/// An opening delimiter in TOML source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delim {
    Basic,
    Literal,
    MultiBasic,
    MultiLiteral,
    Bracket,
    Brace,
}

/// Just enough of a TOML lexer to know which strings and brackets are open:
/// comments skipped, escapes honoured, a one-line string ended by its line.
#[derive(Debug, Default)]
struct Lexer {
    open: Vec<Delim>,
}

impl Lexer {
    /// Consumes the token at `s[i]`: how many bytes it took, and whether it
    /// closed a delimiter with its proper closer (a newline ending a
    /// one-line string does not count).
    fn step(&mut self, s: &[u8], i: usize) -> (usize, bool) {
        let rest = &s[i..];
        let close = |lexer: &mut Lexer, taken| {
            lexer.open.pop();
            (taken, true)
        };
        match self.open.last() {
            Some(Delim::Basic) => match rest[0] {
                b'\\' => (2.min(rest.len()), false),
                b'"' => close(self, 1),
                b'\n' => {
                    self.open.pop();
                    (1, false)
                }
                _ => (1, false),
            },
            Some(Delim::Literal) => match rest[0] {
                b'\'' => close(self, 1),
                b'\n' => {
                    self.open.pop();
                    (1, false)
                }
                _ => (1, false),
            },
            Some(Delim::MultiBasic) if rest[0] == b'\\' => (2.min(rest.len()), false),
            Some(Delim::MultiBasic) if rest.starts_with(b"\"\"\"") => close(self, 3),
            Some(Delim::MultiLiteral) if rest.starts_with(b"'''") => close(self, 3),
            Some(Delim::MultiBasic | Delim::MultiLiteral) => (1, false),
            Some(Delim::Bracket | Delim::Brace) | None => self.outside_strings(rest),
        }
    }

    fn outside_strings(&mut self, rest: &[u8]) -> (usize, bool) {
        let opens = |lexer: &mut Lexer, delim, taken| {
            lexer.open.push(delim);
            (taken, false)
        };
        let closes = |lexer: &mut Lexer, delim| {
            if lexer.open.last() == Some(&delim) {
                lexer.open.pop();
                (1, true)
            } else {
                (1, false)
            }
        };
        match rest[0] {
            b'#' => (
                rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len()),
                false,
            ),
            b'"' if rest.starts_with(b"\"\"\"") => opens(self, Delim::MultiBasic, 3),
            b'\'' if rest.starts_with(b"'''") => opens(self, Delim::MultiLiteral, 3),
            b'"' => opens(self, Delim::Basic, 1),
            b'\'' => opens(self, Delim::Literal, 1),
            b'[' => opens(self, Delim::Bracket, 1),
            b'{' => opens(self, Delim::Brace, 1),
            b']' => closes(self, Delim::Bracket),
            b'}' => closes(self, Delim::Brace),
            _ => (1, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The class at the first syntax error the toml crate reports.
    fn class(src: &str) -> SyntaxClass {
        let (_, errors) = toml::de::DeTable::parse_recoverable(src);
        let span = errors[0].span().expect("a span");
        SyntaxClass::at(src, span)
    }

    #[test]
    fn a_repeated_key_or_header() {
        assert_eq!(
            class("[team]\nname = \"t\"\nname = \"u\"\n"),
            SyntaxClass::RepeatedKey
        );
        assert_eq!(
            class("[team]\n[team]\nname = \"x\"\n"),
            SyntaxClass::RepeatedKey
        );
        assert_eq!(
            class("[[roles]]\nname = \"p\"\n[roles]\n"),
            SyntaxClass::RepeatedKey
        );
        assert_eq!(class("a.b = 1\na.b.c = 2\n"), SyntaxClass::RepeatedKey);
        assert_eq!(class("x = {a = 1, a = 2}\n"), SyntaxClass::RepeatedKey);
    }

    #[test]
    fn an_unquoted_value() {
        assert_eq!(class("[team]\nname = loop\n"), SyntaxClass::UnquotedValue);
        assert_eq!(class("[team]\nname = 1x\n"), SyntaxClass::UnquotedValue);
        assert_eq!(class("x = [a, b]\n"), SyntaxClass::UnquotedValue);
    }

    #[test]
    fn a_missing_value() {
        assert_eq!(class("[team]\nname =\n"), SyntaxClass::MissingValue);
        assert_eq!(class("name = # later\n"), SyntaxClass::MissingValue);
        assert_eq!(class("name ="), SyntaxClass::MissingValue);
    }

    #[test]
    fn an_unclosed_string_bracket_or_header() {
        for src in [
            "[team]\nname = \"t\nx = 1\n",
            "[team]\nname = 'abc\n",
            "[team]\nname = \"\"\"abc\n",
            "[team]\nname = '''abc\n",
            "[team\nname = \"t\"\n\n[[roles]]\nname = \"product\"\n",
            "[[roles]\nname = \"x\"\n",
            "[team]\nname = [1, 2\n",
            "[team]\nname = {a = 1\n",
            "[team]\nname = \"a [b\n",
        ] {
            assert_eq!(class(src), SyntaxClass::Unclosed, "{src:?}");
        }
    }

    #[test]
    fn anything_else() {
        for src in [
            // A bad escape inside a string that closes.
            "x = \"\\q\"\n",
            // A missing `=`, a stray value, a stray bracket.
            "[team]\nname \"x\"\n",
            "[team]\nname = \"x\" y\n",
            "[team]\nname = \"a\"\n]\n",
            "= 1\n",
        ] {
            assert_eq!(class(src), SyntaxClass::Other, "{src:?}");
        }
    }

    #[test]
    fn comments_and_strings_do_not_open_anything() {
        // The `[` in a comment and the `"` in a literal string are text.
        let src = "# [x\nname = 'a\"b'\n";
        assert!(!unclosed_at(src, src.len()));
        assert!(unclosed_at("# ok\nname = [1,\n", 15));
    }

    #[test]
    fn an_offset_past_the_source_or_inside_a_character_is_safe() {
        assert_eq!(SyntaxClass::at("é", 1..1), SyntaxClass::Other);
        assert_eq!(SyntaxClass::at("x", 9..12), SyntaxClass::Other);
    }
}
