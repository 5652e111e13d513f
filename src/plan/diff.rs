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
    let diff = TextDiff::from_lines(old_text, new_text);
    let full = diff
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &format!("b/{path}"))
        .to_string();
    truncate(&full, MAX_DIFF_LINES)
}

/// Keeps the first `max` lines, each cut at [`MAX_LINE_CHARS`], and says
/// how many were left out.
pub fn truncate(text: &str, max: usize) -> String {
    let total = text.lines().count();
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
