use clap::Parser;

fn main() {
    let cli = match moot::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and exit 0; a usage error exits 1 (2
        // means "the plan has changes", which a typo in CI must not fake).
        Err(e) => std::process::exit(moot::commands::usage_error(e)),
    };
    std::process::exit(moot::commands::run(cli));
}
