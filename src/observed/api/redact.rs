//! Masking secrets in text that is about to be shown.

use super::SNIPPET_BYTES;

pub(super) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// The first bytes of a body, lossily decoded and redacted.
pub(super) fn snippet(body: &[u8], secrets: &[&str]) -> String {
    let head = &body[..body.len().min(SNIPPET_BYTES * 2)];
    let text = String::from_utf8_lossy(head);
    let text = redact(&text, secrets);
    crate::printer::clean_line(&truncate(text.trim(), SNIPPET_BYTES)).into_owned()
}

/// Masks anything that looks like a token or a key: the given secrets,
/// words starting with a known token prefix, whatever follows `Bearer `,
/// and long unbroken runs of token characters.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    const PREFIXES: &[&str] = &["mootup_pat_", "convo_", "bearer "];
    const MASK: &str = "(redacted)";
    let mut text = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(secret, MASK);
    }
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(c) = rest.chars().next() {
        if is_token_char(c) {
            let lower = rest
                .get(..rest.len().min(16))
                .unwrap_or(rest)
                .to_ascii_lowercase();
            if let Some(p) = PREFIXES.iter().find(|p| lower.starts_with(*p)) {
                let after = &rest[p.len()..];
                let run = after.find(|c| !is_token_char(c)).unwrap_or(after.len());
                if *p == "bearer " {
                    out.push_str(&rest[..p.len()]);
                }
                out.push_str(MASK);
                rest = &after[run..];
                continue;
            }
        }
        if is_token_char(c) {
            let run = rest.find(|c| !is_token_char(c)).unwrap_or(rest.len());
            let word = &rest[..run];
            if word.len() >= 32 && word.chars().any(|c| c.is_ascii_digit()) {
                out.push_str(MASK);
            } else {
                out.push_str(word);
            }
            rest = &rest[run..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// An API URL as it may be shown: user-info, query and fragment replaced
/// by `(redacted)` (a token is often pasted there), then [`redact`] over
/// the rest (a token pasted as the whole URL, or into its path). Text that
/// does not parse as a URL is only [`redact`]ed. Every message that shows
/// an API URL goes through here.
pub fn redact_url(raw: &str) -> String {
    const MASK: &str = "(redacted)";
    let Ok(url) = reqwest::Url::parse(raw.trim()) else {
        return redact(raw, &[]);
    };
    let mut out = format!("{}://", url.scheme());
    if !url.username().is_empty() || url.password().is_some() {
        out.push_str(MASK);
        out.push('@');
    }
    out.push_str(url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(url.path());
    if url.query().is_some() {
        out.push('?');
        out.push_str(MASK);
    }
    if url.fragment().is_some() {
        out.push('#');
        out.push_str(MASK);
    }
    let shown = redact(&out, &[]);
    if raw.trim().ends_with('/') || url.path() != "/" {
        shown
    } else {
        shown.trim_end_matches('/').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_token_looking_words() {
        let text = "token mootup_pat_abc123 and convo_key_XYZ, Bearer sekrit; ok";
        let out = redact(text, &[]);
        assert!(!out.contains("abc123"), "{out}");
        assert!(!out.contains("XYZ"), "{out}");
        assert!(!out.contains("sekrit"), "{out}");
        assert!(out.contains("ok"));
        let long = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8";
        assert_eq!(redact(long, &[]), "(redacted)");
        assert_eq!(redact("plain words stay", &[]), "plain words stay");
        assert_eq!(redact("x hunter22 y", &["hunter22"]), "x (redacted) y");
    }

    #[test]
    fn urls_lose_credentials_queries_and_tokens() {
        for (raw, shown) in [
            (
                "https://u:hunter2@mootup.io",
                "https://(redacted)@mootup.io",
            ),
            (
                "https://mootup.io/?token=hunter2",
                "https://mootup.io/?(redacted)",
            ),
            (
                "https://mootup.io/api#hunter2",
                "https://mootup.io/api#(redacted)",
            ),
            (
                "https://mootup.io/mootup_pat_hunter2",
                "https://mootup.io/(redacted)",
            ),
            ("mootup_pat_hunter2", "(redacted)"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),
            ("https://mootup.io", "https://mootup.io"),
        ] {
            assert_eq!(redact_url(raw), shown, "{raw}");
        }
    }
}
