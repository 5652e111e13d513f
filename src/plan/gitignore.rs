//! `.gitignore` lines: moot ensures its lines are present, appending at the
//! end, never reordering or removing the user's.

/// Whether `line` (as moot wants it) is already covered by an existing line.
/// `.moot/`, `/.moot/`, `.moot` and `/.moot` all ignore the directory.
fn covered(existing: &[&str], line: &str) -> bool {
    let norm = |s: &str| {
        s.trim()
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_string()
    };
    let want = norm(line);
    existing.iter().any(|e| norm(e) == want)
}

/// The lines of `wanted` missing from `current`.
pub fn missing<'a>(current: &str, wanted: &'a [String]) -> Vec<&'a str> {
    let existing: Vec<&str> = current
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    wanted
        .iter()
        .map(String::as_str)
        .filter(|w| !covered(&existing, w))
        .collect()
}

/// `current` with the missing lines appended under a `# moot` comment.
pub fn append(current: &str, missing: &[&str]) -> String {
    let mut out = current.to_string();
    if missing.is_empty() {
        return out;
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str("# moot (agent keys and machine-local state)\n");
    for l in missing {
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_only_what_is_missing() {
        let wanted = vec![".moot/".to_string(), ".worktrees/".to_string()];
        assert_eq!(missing("target\n/.moot\n", &wanted), vec![".worktrees/"]);
        let out = append("target", &[".worktrees/"]);
        assert_eq!(
            out,
            "target\n\n# moot (agent keys and machine-local state)\n.worktrees/\n"
        );
        assert!(missing(&out, &wanted).iter().all(|l| *l == ".moot/"));
        assert_eq!(
            append("", &[".moot/"]),
            "# moot (agent keys and machine-local state)\n.moot/\n"
        );
    }
}
