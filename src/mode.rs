//! A file's permission bits: what moot.lock records per file (as octal
//! text, "0644"), what the plan's write and chmod actions and the journal
//! carry (as a number, as they always have), and what moot sets on disk.
//! Never the file-type bits of `st_mode`: a number above 0o7777 is refused
//! where a mode is read from a file.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Permission bits (at most 0o7777).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mode(u32);

/// A mode that is not permission bits, or text that is not 3 or 4 octal
/// digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a file mode is 3 or 4 octal digits (at most 7777)")]
pub struct InvalidMode;

impl Mode {
    /// A file anyone may read.
    pub const FILE: Mode = Mode(0o644);
    /// A file anyone may read and run.
    pub const EXECUTABLE: Mode = Mode(0o755);
    /// A file only its owner may read (keys).
    pub const PRIVATE: Mode = Mode(0o600);
    /// A directory only its owner may enter (`.moot`).
    pub const PRIVATE_DIR: Mode = Mode(0o700);

    /// The permission bits of an `st_mode` (the file type dropped).
    pub const fn of(st_mode: u32) -> Mode {
        Mode(st_mode & 0o7777)
    }

    /// Exactly these bits, or an error if any is not a permission bit.
    pub fn from_bits(bits: u32) -> Result<Mode, InvalidMode> {
        if bits & !0o7777 == 0 {
            Ok(Mode(bits))
        } else {
            Err(InvalidMode)
        }
    }

    /// 3 or 4 octal digits: "644", "0755".
    pub fn parse_octal(text: &str) -> Result<Mode, InvalidMode> {
        if !(3..=4).contains(&text.len()) || !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Err(InvalidMode);
        }
        u32::from_str_radix(text, 8)
            .map_err(|_| InvalidMode)
            .and_then(Mode::from_bits)
    }

    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether the owner may run it: the bit moot keeps in step with the
    /// bundle (hook scripts).
    pub const fn owner_executable(self) -> bool {
        self.0 & 0o100 != 0
    }
}

/// Four octal digits, as `ls` and chmod write it: "0644".
impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mode({self})")
    }
}

/// A number (the plan's actions and the journal).
impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Mode, D::Error> {
        Mode::from_bits(u32::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Serde as octal text ("0644"), for moot.lock:
/// `#[serde(with = "crate::mode::octal")]`.
pub mod octal {
    use super::*;

    pub fn serialize<S: Serializer>(mode: &Mode, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(mode)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Mode, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        Mode::parse_octal(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_permission_bits_only() {
        assert_eq!(Mode::of(0o100_644), Mode::FILE);
        assert_eq!(Mode::from_bits(0o4755).map(Mode::bits), Ok(0o4755));
        assert_eq!(Mode::from_bits(0o100_644), Err(InvalidMode));
        assert!(Mode::EXECUTABLE.owner_executable());
        assert!(!Mode::of(0o677).owner_executable());
    }

    #[test]
    fn octal_text_is_three_or_four_digits() {
        assert_eq!(Mode::parse_octal("644"), Ok(Mode::FILE));
        assert_eq!(Mode::parse_octal("0755"), Ok(Mode::EXECUTABLE));
        for bad in ["", "64", "00644", "0648", "rw-", "+644", "0x1f"] {
            assert_eq!(Mode::parse_octal(bad), Err(InvalidMode), "{bad:?}");
        }
        assert_eq!(Mode::PRIVATE.to_string(), "0600");
        assert_eq!(Mode::of(0o7).to_string(), "0007");
        assert_eq!(format!("{:?}", Mode::FILE), "Mode(0644)");
    }

    #[test]
    fn serde_is_a_number_or_with_octal_text() {
        assert_eq!(serde_json::to_string(&Mode::FILE).unwrap(), "420");
        assert_eq!(
            serde_json::from_str::<Mode>("493").unwrap(),
            Mode::EXECUTABLE
        );
        assert!(serde_json::from_str::<Mode>("33188").is_err()); // 0o100644
        assert!(serde_json::from_str::<Mode>("-1").is_err());

        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Entry {
            #[serde(with = "octal")]
            mode: Mode,
        }
        let text = toml::to_string(&Entry { mode: Mode::FILE }).unwrap();
        assert_eq!(text, "mode = \"0644\"\n");
        assert_eq!(toml::from_str::<Entry>(&text).unwrap().mode, Mode::FILE);
        let err = toml::from_str::<Entry>("mode = \"999\"\n").unwrap_err();
        assert!(err.message().contains("octal digits"), "{err}");
    }
}
