use clap::Parser;

fn main() {
    let cli = moot::cli::Cli::parse();
    std::process::exit(moot::commands::run(cli));
}
