//! Command-line definitions only (clap derive). Behaviour lives in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  moot init                      write team.toml from the default archetype (loop-4)
  moot login --token -           store a personal access token read from stdin
  moot plan                      show what apply would change
  moot apply                     converge the workspace (asks first)
  moot plan --out team.plan      save a plan, then: moot apply team.plan
  moot check                     CI: exit 2 when the workspace drifted
  moot import                    team.toml from a team mootup or moot-cli set up
  moot diff moot.toml            your file against moot's suggestion for it
  moot apply --overwrite PATH    accept moot's version of one edited file";

#[derive(Debug, Parser)]
#[command(
    name = "moot",
    version,
    about = "Keep a repository's Moot agent team in the state team.toml declares",
    long_about = "moot reads the desired team from team.toml, compares it with the agents on the \
                  Moot platform and the files in this repository, prints a plan, and applies it \
                  as a transaction.",
    after_help = EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Run as if moot was started in DIR (the workspace holding team.toml)
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,

    /// When to use colour (NO_COLOR in the environment also turns it off)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    /// Print only errors and data
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more about what moot is doing
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write team.toml from a built-in archetype or a directory holding one
    Init(InitArgs),
    /// List the built-in archetypes and their roles
    Templates,
    /// Check a personal access token and store it for later commands
    Login(LoginArgs),
    /// Compute and print the plan; changes nothing
    Plan(PlanArgs),
    /// Compute the plan (or load PLANFILE), confirm, and execute it
    Apply(ApplyArgs),
    /// CI gate: offline plan; exit 2 when the workspace drifted
    Check(CheckArgs),
    /// Write team.toml from the moot.toml and .moot/actors.json another client wrote
    Import(ImportArgs),
    /// Remove a stored login from ~/.moot/credentials
    Logout(LogoutArgs),
    /// Show your file against moot's staged (or would-be) version of it
    Diff(DiffArgs),
    /// Print shell completions or the man page
    #[command(subcommand)]
    Generate(GenerateTarget),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Archetype name (see `moot templates`) or a directory holding a team.toml
    #[arg(long, value_name = "NAME|DIR", default_value = "loop-4")]
    pub template: String,
    /// Replace an existing team.toml
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Replace an existing team.toml
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub profile: StoredProfile,
}

/// `--profile` of login and logout, which write or remove a stored profile:
/// unlike plan's, it always names one.
#[derive(Debug, Args)]
pub struct StoredProfile {
    /// The credentials profile to store the token under (login) or remove (logout)
    #[arg(
        long = "profile",
        value_name = "NAME",
        env = "MOOT_PROFILE",
        default_value = "default"
    )]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// A managed file of the workspace (as `moot plan` names it)
    #[arg(value_name = "PATH")]
    pub path: String,
    /// Credentials profile, to render what moot would write (default: MOOT_PROFILE or `default`)
    #[arg(long, value_name = "NAME", env = "MOOT_PROFILE")]
    pub profile: Option<String>,
}

/// How `moot check` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A short report for people
    Human,
    /// The plan JSON's drift and actions (schemas/check.schema.json)
    Json,
    /// One GitHub Actions annotation per drifted file
    Github,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format [default: github under GITHUB_ACTIONS=true, else human]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<CheckFormat>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The personal access token (`mootup_pat_...`); `-` reads it from stdin
    #[arg(long, value_name = "TOKEN|-")]
    pub token: Option<String>,
    /// The Moot API base URL
    #[arg(long, value_name = "URL", env = "MOOT_API_URL")]
    pub api_url: Option<String>,
    #[command(flatten)]
    pub profile: StoredProfile,
}

/// Flags shared by plan and apply.
#[derive(Debug, Clone, Args, Default)]
pub struct PlanFlags {
    /// No network: files only; remote facts come from moot.lock
    #[arg(long)]
    pub offline: bool,
    /// Print the plan (or the apply result) as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Rotate this role's key even if it is in sync (repeatable)
    #[arg(long = "replace", value_name = "ROLE", conflicts_with = "offline")]
    pub replace: Vec<String>,
    /// Rotate every role's key
    #[arg(long, conflicts_with = "offline")]
    pub rotate_all: bool,
    /// Delete the agents of roles removed from team.toml (only agents
    /// moot.lock binds to those roles)
    #[arg(long, conflicts_with = "offline")]
    pub prune: bool,
    /// Write managed files over the user's edits instead of staging them;
    /// with paths, only those files
    #[arg(long, value_name = "PATH", num_args = 0..)]
    pub overwrite: Option<Vec<String>>,
    /// Credentials profile (default: MOOT_PROFILE or `default`)
    #[arg(long, value_name = "NAME", env = "MOOT_PROFILE")]
    pub profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Save the plan to FILE for a later `moot apply FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan has changes
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `moot plan --out`; applied without a prompt if not stale
    #[arg(value_name = "PLANFILE")]
    pub planfile: Option<PathBuf>,
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Do not ask for confirmation
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Rotations in flight at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

#[derive(Debug, Subcommand)]
pub enum GenerateTarget {
    /// Shell completion script on stdout
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man page (roff) on stdout
    Man,
}
