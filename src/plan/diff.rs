//! Unified diffs for the plan, truncated so a large file cannot drown the
//! output.

use similar::TextDiff;

/// At most this many diff lines per file; the rest is summarised.
pub const MAX_DIFF_LINES: usize = 60;

/// A unified diff from `old` (None: the file does not exist) to `new`.
/// Binary or non-UTF-8 content gets a one-line summary.
pub fn unified(path: &str, old: Option<&[u8]>, new: &[u8]) -> String {
    let (Ok(new_text), Ok(old_text)) = (
        std::str::from_utf8(new),
        std::str::from_utf8(old.unwrap_or(b"")),
    ) else {
        return format!("(binary content, {} bytes)\n", new.len());
    };
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

/// Keeps the first `max` lines and says how many were left out.
pub fn truncate(text: &str, max: usize) -> String {
    let total = text.lines().count();
    if total <= max {
        return text.to_string();
    }
    let mut out: String = text.lines().take(max).flat_map(|l| [l, "\n"]).collect();
    out.push_str(&format!("... ({} more diff lines)\n", total - max));
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
}
