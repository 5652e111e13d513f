//! A string that must never be printed: tokens and agent keys.

use std::fmt;

/// Holds a token or an agent key. `Debug` and `Display` print a fixed
/// placeholder so that a secret cannot leak through a log line, an error
/// message or a derived `Debug` of a containing struct.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for the one place that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first 8 characters: what the server reports as `api_key_prefix`.
    pub fn prefix(&self) -> &str {
        let end = self
            .0
            .char_indices()
            .nth(8)
            .map_or(self.0.len(), |(i, _)| i);
        &self.0[..end]
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_value() {
        let s = Secret::new("convo_key_abcdef123456");
        assert_eq!(format!("{s} {s:?}"), "(sensitive) (sensitive)");
        assert_eq!(s.prefix(), "convo_ke");
        assert_eq!(Secret::new("abc").prefix(), "abc");
    }
}
