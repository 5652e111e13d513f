//! Unified diffs for the plan, bounded so a large file can neither drown
//! the output nor stall planning: the line diff (Myers, O((N+M)·D)) is run
//! only on inputs up to [`MAX_DIFF_INPUT_LINES`] lines and
//! [`MAX_DIFF_INPUT_BYTES`] bytes, bigger changes get a one-line summary,
//! at most [`MAX_DIFF_LINES`] diff lines are shown and each is cut at
//! [`MAX_LINE_CHARS`] characters (a minified JSON file is one long line).

use similar::TextDiff;

/// At most this many diff lines per file; the rest is summarised.
pub const MAX_DIFF_LINES: usize = 60;

/// Above this many lines (old and new together), no line diff is run.
pub const MAX_DIFF_INPUT_LINES: usize = 10_000;

/// Above this many bytes (old and new together), no line diff is run.
pub const MAX_DIFF_INPUT_BYTES: usize = 512 * 1024;

/// A shown diff line is cut after this many characters.
pub const MAX_LINE_CHARS: usize = 400;

/// A unified diff from `old` (None: the file does not exist) to `new`.
/// Binary or non-UTF-8 content, and content too large to diff, get a
/// one-line summary.
pub fn unified(path: &str, old: Option<&[u8]>, new: &[u8]) -> String {
    let (Ok(new_text), Ok(old_text)) = (
        std::str::from_utf8(new),
        std::str::from_utf8(old.unwrap_or(b"")),
    ) else {
        return format!("(binary content, {} bytes)\n", new.len());
    };
    let lines = |t: &str| t.lines().count();
    let (old_lines, new_lines) = (lines(old_text), lines(new_text));
    if old_text.len() + new_text.len() > MAX_DIFF_INPUT_BYTES
        || old_lines + new_lines > MAX_DIFF_INPUT_LINES
    {
        return format!(
            "(too large to show inline: {old_lines} lines, {} bytes -> {new_lines} lines, {} bytes)\n",
            old_text.len(),
            new_text.len()
        );
    }
    let old_name = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_string()
    };
    // The line diff also ends a line at a lone `\r`; such text takes it.
    let lone_cr = |t: &str| t.split("\r\n").any(|part| part.contains('\r'));
    if old_text.is_empty() && !lone_cr(new_text) {
        return all_added(&old_name, path, new_text, new_lines);
    }
    let diff = TextDiff::from_lines(old_text, new_text);
    let full = diff
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &format!("b/{path}"))
        .to_string();
    truncate(&full, MAX_DIFF_LINES)
}

/// The diff from nothing to `new`: every line added, one hunk. Most files
/// of a first apply are new, and this is what the line diff would print
/// for them, without tokenising and diffing the whole text only to keep
/// its first lines.
fn all_added(old_name: &str, path: &str, new: &str, new_lines: usize) -> String {
    if new.is_empty() {
        return String::new();
    }
    let mut full = format!("--- {old_name}\n+++ b/{path}\n@@ -0,0 +1");
    if new_lines != 1 {
        full.push_str(&format!(",{new_lines}"));
    }
    full.push_str(" @@\n");
    // Only what `truncate` keeps is built (the three header lines, then
    // the first added ones); the rest is only counted.
    let mut lines = new.split_inclusive('\n');
    for line in lines.by_ref().take(MAX_DIFF_LINES - 3) {
        full.push('+');
        full.push_str(line);
    }
    let mut rest = lines.count();
    if !new.ends_with('\n') {
        // The marker line after the last one, shown or counted.
        match rest {
            0 => full.push_str("\n\\ No newline at end of file\n"),
            _ => rest += 1,
        }
    }
    truncate_counted(&full, MAX_DIFF_LINES, rest)
}

/// Keeps the first `max` lines, each cut at [`MAX_LINE_CHARS`], and says
/// how many were left out.
pub fn truncate(text: &str, max: usize) -> String {
    truncate_counted(text, max, 0)
}

/// [`truncate`] of a text that `more` lines not given here would follow.
fn truncate_counted(text: &str, max: usize, more: usize) -> String {
    let total = text.lines().count() + more;
    let mut out = String::new();
    for line in text.lines().take(max) {
        match line.char_indices().nth(MAX_LINE_CHARS) {
            Some((cut, _)) => {
                out.push_str(&line[..cut]);
                out.push_str(&format!(" ... ({} more bytes)", line.len() - cut));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    if total > max {
        out.push_str(&format!("... ({} more diff lines)\n", total - max));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_and_truncation() {
        let d = unified("a.txt", Some(b"one\ntwo\n"), b"one\nthree\n");
        assert!(d.contains("-two") && d.contains("+three"), "{d}");
        let big: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let d = unified("big.txt", None, big.as_bytes());
        assert!(d.contains("--- /dev/null"));
        assert!(d.ends_with("more diff lines)\n"), "{d}");
        assert_eq!(d.lines().count(), MAX_DIFF_LINES + 1);
    }

    /// The line diff the fast path for new files stands in for.
    fn by_line_diff(old_name: &str, path: &str, new: &str) -> String {
        let full = TextDiff::from_lines("", new)
            .unified_diff()
            .context_radius(3)
            .header(old_name, &format!("b/{path}"))
            .to_string();
        truncate(&full, MAX_DIFF_LINES)
    }

    #[test]
    fn a_new_files_diff_is_what_the_line_diff_prints() {
        let long = format!("{}\n", "z".repeat(1_000));
        let many: String = (0..200).map(|i| format!("line {i}\n")).collect();
        let cases = [
            "",
            "a",
            "a\n",
            "a\nb",
            "\n",
            "\n\n\n",
            "a\r\nb\r\n",
            "one\ntwo\nthree",
            long.as_str(),
            many.as_str(),
            &many[..many.len() - 1],
            "\u{e9}t\u{e9}\n\u{1F600}\n",
        ];
        for (i, case) in cases.iter().enumerate() {
            for old in [None, Some(&b""[..])] {
                let old_name = if old.is_some() { "a/f" } else { "/dev/null" };
                assert_eq!(
                    unified("f", old, case.as_bytes()),
                    by_line_diff(old_name, "f", case),
                    "case {i}: {case:?}, old {old:?}"
                );
            }
        }
        // Around the cut: 60 lines shown in all, the header included.
        for n in 55..=60 {
            let text: String = (0..n).map(|i| format!("{i}\n")).collect();
            assert_eq!(
                unified("f", None, text.as_bytes()),
                by_line_diff("/dev/null", "f", &text),
                "{n} lines"
            );
            let text = text.trim_end().to_string();
            assert_eq!(
                unified("f", None, text.as_bytes()),
                by_line_diff("/dev/null", "f", &text),
                "{n} lines, no final newline"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_new_text_diffs_as_the_line_diff_does(text in "[ab\\r\\n\u{e9}]{0,400}") {
            proptest::prop_assert_eq!(
                unified("f", None, text.as_bytes()),
                by_line_diff("/dev/null", "f", &text)
            );
        }
    }

    #[test]
    fn large_inputs_are_summarised_and_long_lines_cut() {
        let old: String = (0..6_000).map(|i| format!("{i}\n")).collect();
        let new: String = (0..6_000).map(|i| format!("x{i}\n")).collect();
        let d = unified("big", Some(old.as_bytes()), new.as_bytes());
        assert!(
            d.starts_with("(too large to show inline: 6000 lines"),
            "{d}"
        );
        let long = "y".repeat(10_000);
        let d = unified("min.json", Some(b"{}"), long.as_bytes());
        assert!(d.lines().all(|l| l.len() < MAX_LINE_CHARS + 40), "{d}");
        assert!(d.contains("(9601 more bytes)"), "{d}");
    }
}
