//! `moot logout [--profile NAME]`: removes a profile from moot's own
//! `~/.moot/credentials`, keeping the other profiles and the file's 0600
//! mode (written atomically). The TypeScript client's file is never touched.

use crate::Outcome;
use crate::cli::LogoutArgs;
use crate::error::{Error, Result};
use crate::observed::credentials;
use crate::printer::Printer;

pub fn run(args: &LogoutArgs, printer: &Printer) -> Result<Outcome> {
    let profile = &args.profile.name;
    match credentials::remove(profile)? {
        Some(path) => {
            printer.status(&format!(
                "Removed profile `{profile}` from {}",
                path.display()
            ));
            printer
                .status("The token itself stays valid on the platform until you revoke it there.");
        }
        None => {
            let names = credentials::profile_names();
            let listed = if names.is_empty() {
                "no profile is stored".to_string()
            } else {
                format!("stored profiles: {}", names.join(", "))
            };
            return Err(Error::user(
                format!("no profile `{profile}` in ~/.moot/credentials ({listed})"),
                "pass `--profile NAME` with one of the stored profiles",
            ));
        }
    }
    if credentials::mootup::path().is_some_and(|p| p.exists()) {
        printer.status(
            "moot-cli's ~/.mootup/credentials.json is not moot's to change: log out there with moot-cli.",
        );
    }
    if std::env::var_os("MOOT_TOKEN").is_some_and(|v| !v.is_empty()) {
        printer.warn("MOOT_TOKEN is set in the environment: commands still use it");
    }
    Ok(Outcome::Success)
}
