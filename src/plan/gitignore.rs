//! `.gitignore`: moot ensures the paths it needs ignored are ignored, by
//! the rules as git reads them (last matching pattern wins, negations,
//! anchoring, directory-only patterns, `\` escapes, trailing spaces, and
//! "a file in an excluded directory cannot be re-included"), and appends a
//! line at the end for each one that is not. The user's lines are never
//! reordered, removed or re-encoded: the append keeps every byte before it.
//!
//! Only the top-level `.gitignore` counts: `.git/info/exclude` and
//! `core.excludesFile` are not part of a clone, so a key file ignored only
//! there would be committed from the next clone.

/// One pattern line, parsed as git does.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    /// The glob, without `!`, the leading `/` and the trailing `/`.
    glob: Vec<char>,
    negated: bool,
    dir_only: bool,
    /// Held a `/` before its end: matched against the whole path from the
    /// top, not against the last component at any depth.
    anchored: bool,
    /// 1-based line number in the file, for messages.
    line: usize,
}

/// The rules of a `.gitignore` text (bytes that are not UTF-8 cannot match
/// any path moot asks about, so a lossy reading decides the same).
fn rules(text: &[u8]) -> Vec<Rule> {
    let text = String::from_utf8_lossy(text);
    text.split('\n')
        .enumerate()
        .filter_map(|(i, raw)| rule(raw, i + 1))
        .collect()
}

fn rule(raw: &str, line: usize) -> Option<Rule> {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    if raw.starts_with('#') {
        return None;
    }
    let mut text = trim_trailing_spaces(raw);
    let negated = text.starts_with('!');
    if negated {
        text = &text[1..];
    }
    let dir_only = text.ends_with('/');
    let text = text.strip_suffix('/').unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    let anchored = text.contains('/');
    let text = text.strip_prefix('/').unwrap_or(text);
    Some(Rule {
        glob: text.chars().collect(),
        negated,
        dir_only,
        anchored,
        line,
    })
}

/// Trailing spaces are dropped unless escaped with a backslash.
fn trim_trailing_spaces(s: &str) -> &str {
    let mut end = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            end = i + c.len_utf8();
        } else if c == '\\' {
            escaped = true;
            end = i + 1;
        } else if c != ' ' {
            end = i + c.len_utf8();
        }
    }
    &s[..end]
}

/// How git decides one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No pattern matches: the path is not ignored.
    Unmatched,
    /// Ignored by the pattern on this line (of the path or a parent).
    Ignored { line: usize },
    /// Matched, last, by the negation on this line: not ignored.
    ReIncluded { line: usize },
}

impl Verdict {
    pub fn is_ignored(self) -> bool {
        matches!(self, Verdict::Ignored { .. })
    }
}

/// Whether `path` (relative to the top, `/`-separated; `is_dir` for a
/// directory) is ignored by `text`. A parent directory that is ignored
/// ignores everything below it, whatever a later negation says: git does
/// not look inside an excluded directory.
pub fn verdict(text: &[u8], path: &str, is_dir: bool) -> Verdict {
    let rules = rules(text);
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    // A parent's negation is what left the path unignored, when nothing
    // closer matches: it is the line to name.
    let mut reason = Verdict::Unmatched;
    for n in 1..=parts.len() {
        let prefix = parts[..n].join("/");
        let dir = n < parts.len() || is_dir;
        match decide(&rules, &prefix, dir) {
            v @ Verdict::Ignored { .. } => return v,
            v @ Verdict::ReIncluded { .. } => reason = v,
            Verdict::Unmatched => {}
        }
    }
    reason
}

/// The last rule matching `path` itself decides.
fn decide(rules: &[Rule], path: &str, is_dir: bool) -> Verdict {
    let full: Vec<char> = path.chars().collect();
    let base: Vec<char> = path.rsplit('/').next().unwrap_or(path).chars().collect();
    for r in rules.iter().rev() {
        if r.dir_only && !is_dir {
            continue;
        }
        let subject = if r.anchored { &full } else { &base };
        if wildmatch(&r.glob, subject) {
            return if r.negated {
                Verdict::ReIncluded { line: r.line }
            } else {
                Verdict::Ignored { line: r.line }
            };
        }
    }
    Verdict::Unmatched
}

/// git's wildmatch with `WM_PATHNAME`: `*` and `?` stop at `/`, `**`
/// between slashes (or at either end) crosses them, `[...]` classes, `\`
/// escapes. Memoised on the (pattern, text) positions actually visited, so
/// a pattern full of stars stays polynomial and a huge pattern costs
/// nothing until it is walked.
fn wildmatch(pat: &[char], text: &[char]) -> bool {
    wm(pat, text, 0, 0, &mut Memo::new())
}

type Memo = std::collections::HashMap<(usize, usize), bool>;

fn wm(p: &[char], t: &[char], pi: usize, ti: usize, memo: &mut Memo) -> bool {
    if let Some(&v) = memo.get(&(pi, ti)) {
        return v;
    }
    let v = wm_step(p, t, pi, ti, memo);
    memo.insert((pi, ti), v);
    v
}

fn wm_step(p: &[char], t: &[char], pi: usize, ti: usize, memo: &mut Memo) -> bool {
    let Some(&c) = p.get(pi) else {
        return ti == t.len();
    };
    match c {
        '*' => {
            let double = p.get(pi + 1) == Some(&'*');
            let mut next = pi + 1;
            while p.get(next) == Some(&'*') {
                next += 1;
            }
            let at_start = pi == 0 || p[pi - 1] == '/';
            if double && at_start && next == p.len() {
                return true;
            }
            if double && at_start && p.get(next) == Some(&'/') {
                // `**/`: zero or more whole directories.
                if wm(p, t, next + 1, ti, memo) {
                    return true;
                }
                return (ti..t.len())
                    .filter(|&i| t[i] == '/')
                    .any(|i| wm(p, t, next + 1, i + 1, memo));
            }
            let mut i = ti;
            loop {
                if wm(p, t, next, i, memo) {
                    return true;
                }
                if i == t.len() || t[i] == '/' {
                    return false;
                }
                i += 1;
            }
        }
        '?' => ti < t.len() && t[ti] != '/' && wm(p, t, pi + 1, ti + 1, memo),
        '[' => match class(p, pi, t.get(ti).copied()) {
            Some((true, end)) => wm(p, t, end, ti + 1, memo),
            _ => false,
        },
        '\\' if pi + 1 < p.len() => {
            ti < t.len() && t[ti] == p[pi + 1] && wm(p, t, pi + 2, ti + 1, memo)
        }
        _ => ti < t.len() && t[ti] == c && wm(p, t, pi + 1, ti + 1, memo),
    }
}

/// A `[...]` class at `p[start]` against `c`: whether it matches and where
/// the pattern continues; `None` when the class is not closed (git then
/// matches nothing).
fn class(p: &[char], start: usize, c: Option<char>) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negated = matches!(p.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    loop {
        let &ch = p.get(i)?;
        if ch == ']' && !first {
            break;
        }
        first = false;
        if ch == '[' && p.get(i + 1) == Some(&':') {
            let close =
                (i + 2..p.len().saturating_sub(1)).find(|&j| p[j] == ':' && p[j + 1] == ']')?;
            let name: String = p[i + 2..close].iter().collect();
            hit |= c.is_some_and(|c| named_class(&name, c));
            i = close + 2;
            continue;
        }
        let (lo, next) = if ch == '\\' {
            (*p.get(i + 1)?, i + 2)
        } else {
            (ch, i + 1)
        };
        if p.get(next) == Some(&'-') && p.get(next + 1).is_some_and(|&e| e != ']') {
            let (hi, after) = if p[next + 1] == '\\' {
                (*p.get(next + 2)?, next + 3)
            } else {
                (p[next + 1], next + 2)
            };
            hit |= c.is_some_and(|c| lo <= c && c <= hi);
            i = after;
        } else {
            hit |= c == Some(lo);
            i = next;
        }
    }
    let matched = c.is_some_and(|c| c != '/' && hit != negated);
    Some((matched, i + 1))
}

fn named_class(name: &str, c: char) -> bool {
    match name {
        "alnum" => c.is_ascii_alphanumeric(),
        "alpha" => c.is_ascii_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "lower" => c.is_ascii_lowercase(),
        "upper" => c.is_ascii_uppercase(),
        "space" => c.is_ascii_whitespace(),
        "punct" => c.is_ascii_punctuation(),
        "xdigit" => c.is_ascii_hexdigit(),
        "blank" => c == ' ' || c == '\t',
        "cntrl" => c.is_ascii_control(),
        "graph" => c.is_ascii_graphic(),
        "print" => c.is_ascii_graphic() || c == ' ',
        _ => false,
    }
}

/// The path a wanted line (`.moot/`, `.claude/settings.local.json`) is
/// about, and whether it is a directory.
fn subject(line: &str) -> (&str, bool) {
    let trimmed = line.trim().trim_start_matches('/');
    match trimmed.strip_suffix('/') {
        Some(dir) => (dir, true),
        None => (trimmed, false),
    }
}

/// The lines of `wanted` whose path `current` does not ignore.
pub fn missing<'a>(current: &[u8], wanted: &'a [String]) -> Vec<&'a str> {
    wanted
        .iter()
        .map(String::as_str)
        .filter(|w| {
            let (path, dir) = subject(w);
            !verdict(current, path, dir).is_ignored()
        })
        .collect()
}

pub use crate::paths::SECRET_PATHS;

/// The first secret path `current` leaves unignored, with git's verdict
/// on it (to name the line that re-includes it, if one does).
pub fn unignored_secret(current: &[u8]) -> Option<(&'static str, Verdict)> {
    SECRET_PATHS
        .iter()
        .map(|p| (*p, verdict(current, p, false)))
        .find(|(_, v)| !v.is_ignored())
}

/// `current` with the missing lines appended under a `# moot` comment.
/// Every byte of `current` is kept; the lines end as the file's do (CRLF
/// when its first line does).
pub fn append(current: &[u8], missing: &[&str]) -> Vec<u8> {
    let mut out = current.to_vec();
    if missing.is_empty() {
        return out;
    }
    let eol: &[u8] = match current.iter().position(|&b| b == b'\n') {
        Some(i) if i > 0 && current[i - 1] == b'\r' => b"\r\n",
        _ => b"\n",
    };
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(eol);
    }
    if !out.is_empty() {
        out.extend_from_slice(eol);
    }
    out.extend_from_slice(b"# moot (agent keys and machine-local state)");
    out.extend_from_slice(eol);
    for l in missing {
        out.extend_from_slice(l.as_bytes());
        out.extend_from_slice(eol);
    }
    out
}

#[cfg(test)]
mod tests;
