//! A JSON text as byte spans: where each object member and array element
//! starts and ends, so moot can insert and remove entries without
//! re-printing what is around them. The text is validated by serde_json
//! first (syntax and nesting depth), so the scanner only walks valid JSON.

use std::collections::HashSet;

use serde_json::Value;
use serde_json::ser::{PrettyFormatter, Serializer};

use super::MergeError;

pub(super) struct Doc<'a> {
    text: &'a str,
    /// Where the top-level value starts.
    pub root: usize,
    eol: &'static str,
    /// One level of indentation, as the file indents (two spaces if it
    /// does not).
    unit: String,
    /// Written on one line: insertions stay on one line too.
    one_line: bool,
}

/// An object member: key from `start`, value from `value` to `end`.
pub(super) struct Member {
    pub key: String,
    pub start: usize,
    pub value: usize,
    pub end: usize,
}

/// Replace `start..end` with `with`.
pub(super) struct Edit {
    pub start: usize,
    pub end: usize,
    pub with: String,
}

/// What to insert: an array element, or an object member.
pub(super) enum Item {
    Element(Value),
    Member(String, Value),
}

impl<'a> Doc<'a> {
    pub fn parse(text: &'a str) -> Result<Doc<'a>, MergeError> {
        if text.starts_with('\u{feff}') {
            return Err(MergeError::Bom);
        }
        // IgnoredAny checks the syntax without converting numbers, so a
        // valid `1e400` is not refused as out of range.
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| MergeError::Syntax {
            line: e.line(),
            column: e.column(),
            message: syntax_message(&e),
        })?;
        let unit = text
            .split('\n')
            .skip(1)
            .map(|l| &l[..l.len() - l.trim_start_matches([' ', '\t']).len()])
            .find(|ws| !ws.is_empty())
            .unwrap_or("  ")
            .to_string();
        let doc = Doc {
            text,
            root: 0,
            eol: if text.contains("\r\n") { "\r\n" } else { "\n" },
            unit,
            one_line: !text.trim_end().contains('\n'),
        };
        let root = doc.skip_ws(0);
        let doc = Doc { root, ..doc };
        doc.check_duplicates(root)?;
        Ok(doc)
    }

    fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while matches!(self.bytes().get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    }

    fn string_end(&self, start: usize) -> usize {
        let b = self.bytes();
        let mut j = start + 1;
        while j < b.len() {
            match b[j] {
                b'\\' => j += 2,
                b'"' => return j + 1,
                _ => j += 1,
            }
        }
        b.len()
    }

    /// Where the value starting at `i` ends (exclusive).
    fn value_end(&self, i: usize) -> usize {
        let b = self.bytes();
        match b[i] {
            b'"' => self.string_end(i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                while j < b.len() {
                    match b[j] {
                        b'"' => {
                            j = self.string_end(j);
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return j + 1;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                b.len()
            }
            _ => {
                let mut j = i;
                while j < b.len()
                    && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                {
                    j += 1;
                }
                j
            }
        }
    }

    /// The members of the object whose `{` is at `open`.
    fn members(&self, open: usize) -> Vec<Member> {
        let mut out = Vec::new();
        let mut i = self.skip_ws(open + 1);
        while self.bytes()[i] == b'"' {
            let key_end = self.string_end(i);
            let key = serde_json::from_str(&self.text[i..key_end]).unwrap_or_default();
            let value = self.skip_ws(self.skip_ws(key_end) + 1);
            let end = self.value_end(value);
            out.push(Member {
                key,
                start: i,
                value,
                end,
            });
            i = self.skip_ws(end);
            if self.bytes()[i] != b',' {
                break;
            }
            i = self.skip_ws(i + 1);
        }
        out
    }

    /// The elements (start, end) of the array whose `[` is at `open`.
    fn elements(&self, open: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut i = self.skip_ws(open + 1);
        while self.bytes()[i] != b']' {
            let end = self.value_end(i);
            out.push((i, end));
            i = self.skip_ws(end);
            if self.bytes()[i] != b',' {
                break;
            }
            i = self.skip_ws(i + 1);
        }
        out
    }

    pub fn object_at(&self, i: usize, not: &str) -> Result<Vec<Member>, MergeError> {
        match self.bytes().get(i) {
            Some(b'{') => Ok(self.members(i)),
            _ => Err(MergeError::Shape(not.to_string())),
        }
    }

    pub fn array_at(&self, i: usize, not: &str) -> Result<Vec<(usize, usize)>, MergeError> {
        match self.bytes().get(i) {
            Some(b'[') => Ok(self.elements(i)),
            _ => Err(MergeError::Shape(not.to_string())),
        }
    }

    /// The value at `start..end`, parsed (Null if it does not parse).
    pub fn value(&self, start: usize, end: usize) -> Value {
        serde_json::from_str(&self.text[start..end]).unwrap_or(Value::Null)
    }

    fn check_duplicates(&self, i: usize) -> Result<(), MergeError> {
        match self.bytes().get(i) {
            Some(b'{') => {
                let mut seen = HashSet::new();
                for m in self.members(i) {
                    if !seen.insert(m.key.clone()) {
                        let (line, column) = self.line_col(m.start);
                        return Err(MergeError::DuplicateKey {
                            line,
                            column,
                            key: crate::printer::clean_line(&m.key).into_owned(),
                        });
                    }
                    self.check_duplicates(m.value)?;
                }
                Ok(())
            }
            Some(b'[') => self
                .elements(i)
                .into_iter()
                .try_for_each(|(s, _)| self.check_duplicates(s)),
            _ => Ok(()),
        }
    }

    fn line_col(&self, at: usize) -> (usize, usize) {
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// The whitespace that starts the line holding `i`.
    fn line_indent(&self, i: usize) -> &str {
        let start = self.text[..i].rfind('\n').map_or(0, |p| p + 1);
        let line = &self.text[start..];
        &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
    }

    /// Inserts `items` at the end of the container at `open` (whose
    /// current items span `spans`), laid out like its existing items.
    pub fn append(&self, open: usize, spans: &[(usize, usize)], items: &[Item]) -> Edit {
        let close = self.value_end(open) - 1;
        if let (Some(&(first, _)), Some(&(_, last))) = (spans.first(), spans.last()) {
            let gap = &self.text[open + 1..first];
            let (sep, indent, pretty) = match gap.rfind('\n') {
                Some(p) => (
                    format!(",{}{}", self.eol, &gap[p + 1..]),
                    &gap[p + 1..],
                    true,
                ),
                None => (",".to_string(), "", false),
            };
            let with = items
                .iter()
                .map(|it| format!("{sep}{}", self.render(it, indent, pretty)))
                .collect();
            return Edit {
                start: last,
                end: last,
                with,
            };
        }
        if self.one_line {
            let with = items
                .iter()
                .map(|it| self.render(it, "", false))
                .collect::<Vec<_>>()
                .join(",");
            return Edit {
                start: close,
                end: close,
                with,
            };
        }
        // Inserted before the closing bracket: whatever the user had
        // between the brackets stays.
        let outer = self.line_indent(open);
        let inner = format!("{outer}{}", self.unit);
        let body = items
            .iter()
            .map(|it| self.render(it, &inner, true))
            .collect::<Vec<_>>()
            .join(&format!(",{}{inner}", self.eol));
        Edit {
            start: close,
            end: close,
            with: format!("{}{inner}{body}{}{outer}", self.eol, self.eol),
        }
    }

    /// Removes the items at `gone` (indices into `spans`) of the container
    /// at `open`, with the separators that went with them.
    pub fn remove(&self, open: usize, spans: &[(usize, usize)], gone: &[usize]) -> Vec<Edit> {
        if gone.len() == spans.len() {
            let close = self.value_end(open) - 1;
            return vec![Edit {
                start: open + 1,
                end: close,
                with: String::new(),
            }];
        }
        let first_kept = (0..spans.len()).find(|i| !gone.contains(i)).unwrap_or(0);
        gone.iter()
            .map(|&i| {
                let (start, end) = if i > first_kept {
                    // From the end of the item before: its comma and our
                    // leading whitespace go.
                    (spans[i - 1].1, spans[i].1)
                } else {
                    (spans[i].0, spans[i + 1].0)
                };
                Edit {
                    start,
                    end,
                    with: String::new(),
                }
            })
            .collect()
    }

    fn render(&self, item: &Item, indent: &str, pretty: bool) -> String {
        let (key, value) = match item {
            Item::Element(v) => (None, v),
            Item::Member(k, v) => (Some(serde_json::to_string(k).unwrap_or_default()), v),
        };
        let body = if pretty {
            let mut buf = Vec::new();
            let fmt = PrettyFormatter::with_indent(self.unit.as_bytes());
            let mut ser = Serializer::with_formatter(&mut buf, fmt);
            let _ = serde::Serialize::serialize(value, &mut ser);
            String::from_utf8(buf)
                .unwrap_or_default()
                .replace('\n', &format!("{}{indent}", self.eol))
        } else {
            serde_json::to_string(value).unwrap_or_default()
        };
        match key {
            Some(k) if pretty => format!("{k}: {body}"),
            Some(k) => format!("{k}:{body}"),
            None => body,
        }
    }
}

/// serde_json's message without its " at line L column C" tail (the
/// error names the line and column itself).
fn syntax_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&tail).unwrap_or(&full).to_string()
}
