//! `moot login`: check a personal access token against the API and store it.

use std::io::{IsTerminal, Read};

use crate::Outcome;
use crate::cli::LoginArgs;
use crate::error::{Error, Result};
use crate::observed::api::redact_url;
use crate::observed::api::{ApiClient, ApiError, ClientOptions};
use crate::observed::credentials;
use crate::printer::{Printer, clean_line};
use crate::secret::Secret;

const PAT_PREFIX: &str = "mootup_pat_";

pub fn run(args: LoginArgs, printer: &Printer) -> Result<Outcome> {
    let token = read_token(args.token.as_deref(), printer)?;
    check_token_shape(&token)?;
    let api_url = args
        .api_url
        .filter(|u| !u.trim().is_empty())
        .or_else(|| credentials::stored_api_url(&args.profile.name))
        .unwrap_or_else(|| crate::DEFAULT_API_URL.to_string());

    let client = ApiClient::new(&api_url, Some(token.clone()), ClientOptions::from_env()?)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    let me = runtime.block_on(client.me()).map_err(|e| match e {
        ApiError::Unauthorized { call } => Error::user(
            format!(
                "{} rejected the token ({call}: HTTP 401)",
                redact_url(client.base_url())
            ),
            "check that you copied the whole token and that it was not revoked; \
             create a new personal access token on the platform if needed",
        ),
        other => Error::Api(other),
    })?;
    if !me.is_human() {
        return Err(Error::user(
            format!(
                "the token belongs to {} `{}` ({}), not to a person",
                clean_line(me.actor_type.as_str()),
                clean_line(&me.display_name),
                clean_line(&me.actor_id)
            ),
            "that is an agent's key; log in with your personal access token (`mootup_pat_...`)",
        ));
    }

    let path = credentials::store(
        &args.profile.name,
        client.base_url(),
        &token,
        Some(&me.actor_id),
    )?;
    printer.status(&format!(
        "Logged in to {} as {} ({})",
        redact_url(client.base_url()),
        clean_line(&me.display_name),
        clean_line(&me.actor_id)
    ));
    printer.status(&format!(
        "Stored the token in {} (profile `{}`)",
        path.display(),
        args.profile.name
    ));
    if me.default_space_id.is_none() {
        printer.warn("this account has no default space: it cannot host a team yet");
    }
    if std::env::var_os("MOOT_TOKEN").is_some_and(|v| !v.is_empty()) {
        printer.warn("MOOT_TOKEN is set in the environment: it wins over the stored token");
    }
    Ok(Outcome::Success)
}

fn read_token(arg: Option<&str>, printer: &Printer) -> Result<Secret> {
    let raw = match arg {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::io("read the token from", "stdin", e))?;
            text
        }
        Some(token) => {
            printer.warn(
                "a token on the command line can end up in your shell history; \
                 prefer `--token -` and pipe it in",
            );
            token.to_string()
        }
        None if std::io::stdin().is_terminal() => {
            rpassword::prompt_password("Personal access token (input hidden): ")
                .map_err(|e| Error::io("read the token from", "the terminal", e))?
        }
        None => {
            return Err(Error::user(
                "no token given and no terminal to ask for one",
                "pass it on stdin: `echo \"$TOKEN\" | moot login --token -`",
            ));
        }
    };
    let token = raw.trim();
    if token.is_empty() {
        return Err(Error::user(
            "the token is empty",
            "pass your personal access token (`mootup_pat_...`) with `--token -` on stdin",
        ));
    }
    Ok(Secret::new(token))
}

fn check_token_shape(token: &Secret) -> Result<()> {
    let t = token.expose();
    if t.starts_with(PAT_PREFIX) {
        return Ok(());
    }
    if t.starts_with("convo_") {
        return Err(Error::user(
            "that is an agent key (`convo_...`), not a personal access token",
            "log in with your personal access token (`mootup_pat_...`), created in your \
             account settings on the platform; agent keys belong in .moot/actors.json",
        ));
    }
    Err(Error::user(
        "that is not a personal access token: it must start with `mootup_pat_`",
        "copy the whole personal access token from your account settings on the platform",
    ))
}
