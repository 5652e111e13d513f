//! moot-sandbox: a local stand-in for the Moot API (see the `moot_sandbox` library).
//! A test and demo tool, not a production server.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use moot_sandbox::{self as sandbox, ExchangeRate, SandboxConfig};

const ABOUT: &str = "A local stand-in for the Moot API, for demos and end-to-end tests \
                     (NOT a production server: in-memory state, no TLS)";

const AFTER: &str = "\
The first line on stdout is the base URL (http://127.0.0.1:PORT); the
server then runs until SIGTERM or SIGINT. Point moot at it:
  moot-sandbox > sandbox.out &  sleep 0.5
  export MOOT_API_URL=$(head -1 sandbox.out) MOOT_TOKEN=mootup_pat_sandbox

It behaves as the platform does today: agents get their keys through
registration tickets, exchanged at most 5 a minute per address (429 with
Retry-After), each alive 5 minutes. --legacy serves the older contract.

Examples:
  moot-sandbox                                  loop-4 agents, token mootup_pat_sandbox
  moot-sandbox --agents 'Product,QA' --connected QA
  moot-sandbox --agent-count 200 --latency-ms 50 --exchange-rate off
  moot-sandbox --exchange-rate 1/s --ticket-ttl 2.5
  moot-sandbox --fail-rotate Spec --fail-create librarian -v";

#[derive(Debug, Parser)]
#[command(name = "moot-sandbox", version, about = ABOUT, after_help = AFTER)]
struct Args {
    /// Port to listen on (0: any free port)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The human's personal access token
    #[arg(long, default_value = sandbox::DEFAULT_TOKEN)]
    token: String,
    /// The agents the human sponsors, comma-separated display names
    /// [default: Product,Spec,Implementation,QA]
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["agent_count", "roles_from", "seed"])]
    agents: Option<Vec<String>>,
    /// Generate agents `Agent 1` .. `Agent N` (scale tests)
    #[arg(long, value_name = "N", conflicts_with_all = ["roles_from", "seed"])]
    agent_count: Option<usize>,
    /// Take the agents from a team.toml's [[roles]]
    #[arg(long, value_name = "TEAM_TOML", conflicts_with = "seed")]
    roles_from: Option<PathBuf>,
    /// Seed the state from a JSON file: {"humans": [{"token", "display_name",
    /// "default_space_id", "agents": [{"display_name", "api_key", "is_connected"}]}]}
    #[arg(long, value_name = "FILE", conflicts_with = "token")]
    seed: Option<PathBuf>,
    /// Rotating this agent's key answers 500 (display name or actor id; repeatable)
    #[arg(long, value_name = "ROLE")]
    fail_rotate: Vec<String>,
    /// This agent starts connected: rotation answers 409 unless forced (repeatable)
    #[arg(long, value_name = "ROLE")]
    connected: Vec<String>,
    /// Delay every request by N milliseconds
    #[arg(long, value_name = "N", default_value_t = 0)]
    latency_ms: u64,
    /// Agents get keys through registration tickets (the default; with
    /// --legacy, a legacy server that answers tickets)
    #[arg(long)]
    ticket_mode: bool,
    /// Serve the older contract: rotate-key answers the key itself, no
    /// POST /api/agents, DELETE or GET /api/spaces/{id}, errors as {"detail"}
    #[arg(long)]
    legacy: bool,
    /// How long a registration ticket lives, in seconds (fractions allowed)
    #[arg(long, value_name = "SECS", default_value_t = 300.0, value_parser = parse_secs)]
    ticket_ttl: f64,
    /// Exchanges allowed per client address: N/min, N/s (fractions allowed),
    /// a bare N per minute, or `off` [default: 5/min, 5 at once]
    #[arg(long, value_name = "RATE")]
    exchange_rate: Option<String>,
    /// Exchanges allowed at once after a quiet spell [default: 5 for the
    /// default rate, 1 for an --exchange-rate]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    exchange_burst: Option<u32>,
    /// POST /api/agents for this role answers 500 and creates nothing (repeatable)
    #[arg(long, value_name = "ROLE")]
    fail_create: Vec<String>,
    /// POST /api/agents for this role creates the agent but answers 500, as
    /// when the answer is lost (repeatable)
    #[arg(long, value_name = "ROLE")]
    lose_create: Vec<String>,
    /// Serve no POST /api/agents (404), as a server without it
    #[arg(long)]
    no_agents_endpoint: bool,
    /// Serve no POST /api/agents/{id}/first-key (404), as a server without it
    #[arg(long)]
    no_first_key: bool,
    /// The status GET /api/spaces/{id} reports (active, paused, archived...)
    #[arg(long, value_name = "STATUS", default_value = "active")]
    space_status: String,
    /// Log each request on stderr (method, path, status; never a token)
    #[arg(short, long)]
    verbose: bool,
}

fn main() {
    let args = Args::parse();
    if let Err(message) = run(args) {
        eprintln!("moot-sandbox: error: {message}");
        std::process::exit(1);
    }
}

fn config(args: &Args) -> Result<SandboxConfig, String> {
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))
    };
    let mut cfg = if let Some(path) = &args.seed {
        SandboxConfig::from_seed_json(&read(path)?)
            .map_err(|e| format!("seed {}: {e}", path.display()))?
    } else if let Some(path) = &args.roles_from {
        let names = sandbox::roles_from_team_toml(&read(path)?)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        SandboxConfig::with_agents(names)
    } else if let Some(n) = args.agent_count {
        SandboxConfig::with_agent_count(n)
    } else if let Some(names) = &args.agents {
        SandboxConfig::with_agents(names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()))
    } else {
        SandboxConfig::default()
    };
    if args.seed.is_none() {
        cfg.humans[0].token = args.token.clone();
    }
    cfg.fail_rotate = args.fail_rotate.clone();
    cfg.connected = args.connected.clone();
    cfg.latency = Duration::from_millis(args.latency_ms);
    cfg.legacy = args.legacy;
    cfg.ticket_mode = args.ticket_mode || !args.legacy;
    cfg.ticket_ttl = Duration::from_secs_f64(args.ticket_ttl);
    cfg.exchange_rate = exchange_rate(args)?;
    cfg.fail_create = args.fail_create.clone();
    cfg.lose_create = args.lose_create.clone();
    cfg.agents_endpoint = !args.no_agents_endpoint;
    cfg.first_key_endpoint = !args.no_first_key;
    cfg.space_status = args.space_status.clone();
    cfg.verbose = args.verbose;
    cfg.validate()?;
    Ok(cfg)
}

/// The platform's limit unless told otherwise; `off` for none.
fn exchange_rate(args: &Args) -> Result<Option<ExchangeRate>, String> {
    let mut rate = match args.exchange_rate.as_deref() {
        None => ExchangeRate::PLATFORM,
        Some("off" | "none") => return Ok(None),
        Some(text) => ExchangeRate::parse(text).map_err(|e| format!("--exchange-rate: {e}"))?,
    };
    if let Some(burst) = args.exchange_burst {
        rate.burst = burst;
    }
    Ok(Some(rate))
}

fn parse_secs(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.0..1e9).contains(&s) => Ok(s),
        _ => Err(format!("`{text}` is not a number of seconds")),
    }
}

fn run(args: Args) -> Result<(), String> {
    let cfg = config(&args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .map_err(|e| format!("listen on {}:{}: {e}", args.host, args.port))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "http://{addr}");
            let _ = out.flush();
        }
        sandbox::serve(cfg, listener, shutdown_signal())
            .await
            .map_err(|e| e.to_string())
    })
}

#[cfg(not(unix))]
async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(unix)]
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
