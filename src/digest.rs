//! The sha256 of a file's bytes: what moot.lock records per file, what the
//! transaction's journal records per write, and what the planner compares.
//! Parsed once from text (64 hex digits); written as lower-case hex, the
//! form every file moot writes has always used.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;

/// A sha256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

/// Text that is not 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a sha256 is 64 hex digits")]
pub struct InvalidDigest;

impl Digest {
    /// The sha256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        Digest(Sha256::digest(bytes).into())
    }

    /// 64 hex digits, in either case.
    pub fn parse(text: &str) -> Result<Digest, InvalidDigest> {
        let text = text.as_bytes();
        if text.len() != 64 {
            return Err(InvalidDigest);
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
            let digit = |c: u8| (c as char).to_digit(16).ok_or(InvalidDigest);
            *byte = (digit(pair[0])? << 4 | digit(pair[1])?) as u8;
        }
        Ok(Digest(out))
    }
}

/// Lower-case hex, 64 digits.
impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = InvalidDigest;

    fn from_str(text: &str) -> Result<Digest, InvalidDigest> {
        Digest::parse(text)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        Digest::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn hashes_and_prints_lower_case_hex() {
        assert_eq!(Digest::of(b"abc").to_string(), ABC);
        assert_eq!(
            format!("{:?}", Digest::of(b"abc")),
            format!("Digest({ABC})")
        );
    }

    #[test]
    fn parses_either_case_and_nothing_else() {
        assert_eq!(Digest::parse(ABC), Ok(Digest::of(b"abc")));
        assert_eq!(Digest::parse(&ABC.to_uppercase()), Ok(Digest::of(b"abc")));
        for bad in [
            "",
            &ABC[1..],
            &format!("{ABC}0"),
            &ABC.replace('b', "g"),
            "é",
        ] {
            assert_eq!(Digest::parse(bad), Err(InvalidDigest), "{bad:?}");
        }
        // 64 bytes, but not 64 hex digits.
        let wide = format!("{}é", &ABC[..62]);
        assert_eq!(wide.len(), 64);
        assert_eq!(Digest::parse(&wide), Err(InvalidDigest));
    }

    #[test]
    fn serde_is_the_hex_text() {
        let json = serde_json::to_string(&Digest::of(b"abc")).unwrap();
        assert_eq!(json, format!("\"{ABC}\""));
        assert_eq!(
            serde_json::from_str::<Digest>(&json).unwrap(),
            Digest::of(b"abc")
        );
        let err = serde_json::from_str::<Digest>("\"abc\"").unwrap_err();
        assert!(err.to_string().contains("64 hex digits"), "{err}");
    }
}
