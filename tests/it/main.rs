//! The integration suite, one test binary (linking the crate once instead of
//! once per file keeps cold builds short); only `tests/credentials.rs`, which
//! changes the process environment, runs in a binary of its own. One module
//! per area; `common` holds API fixtures and the wiremock helper, `support`
//! the test environment and the binary run in a cleared environment.
#![allow(dead_code)]

mod common;
mod support;

mod adversarial;
mod api_client;
mod bad_input;
mod convergence;
mod e2e;
mod harness;
mod hooks;
mod hostile;
mod hostile_props;
mod import;
mod init;
mod kill_recover;
mod limits;
mod login;
mod pipeline;
mod platform;
mod properties;
mod render;
mod sandbox;
mod schemas;
mod team_corpus;
