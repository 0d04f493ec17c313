//! Command-line interface: parsing (clap) and one function per command.

mod admin;
mod audit;
#[cfg(feature = "tools")]
mod bench;
mod catalogue;
mod check_config;
mod operator;
mod serve;
mod token;
mod units;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use motcua_gateway::telemetry::LogFormat;

/// The default configuration, as the README's first command uses it.
pub const DEFAULT_CONFIG: &str = "config/gateway.toml";

/// motcua — secure gateway between citizens' dossier channels (portal, post) and
/// the one-stop desks.
#[derive(Debug, Parser)]
#[command(name = "motcua", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (HTTPS intake, desks, deadlines) until SIGINT or SIGTERM.
    Serve {
        /// The configuration file.
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Log line format.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
    },
    /// Validate a configuration file and print a summary, or every problem.
    CheckConfig {
        /// The configuration file.
        #[arg(default_value = DEFAULT_CONFIG)]
        path: PathBuf,
    },
    /// Measure durable-intake throughput and latency against this machine's ceiling.
    #[cfg(feature = "tools")]
    Bench(bench::BenchArgs),
    /// The benchmark's ceiling endpoint (started by `motcua bench`).
    #[cfg(feature = "tools")]
    #[command(hide = true)]
    BenchCeiling {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Certificate chain.
        #[arg(long)]
        cert: PathBuf,
        /// Private key.
        #[arg(long)]
        key: PathBuf,
    },
    /// Ask a running gateway about its queues, dead letters and dossiers.
    Admin {
        /// How to reach it.
        #[command(flatten)]
        connection: admin::Connection,
        /// What to ask.
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Save a consistent snapshot of a running gateway's store.
    Backup {
        /// The snapshot file to write.
        #[arg(long)]
        to: PathBuf,
        /// How to reach the gateway.
        #[command(flatten)]
        connection: admin::Connection,
    },
    /// Rebuild a data directory from a snapshot (the gateway must not be running on it).
    Restore {
        /// The snapshot file.
        #[arg(long)]
        from: PathBuf,
        /// The data directory to rebuild (its store must not exist yet).
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Copy a store into an empty one of another backend (no gateway running on
    /// either): `sled:DATA_DIR`, `snapshot:FILE` (source only) or
    /// `postgres:CONNECTION-STRING`.
    Migrate {
        /// The store to copy.
        #[arg(long)]
        from: motcua_gateway::migrate::Side,
        /// The empty store to fill.
        #[arg(long)]
        to: motcua_gateway::migrate::Side,
        /// The environment variable holding the PostgreSQL password, if one is needed.
        #[arg(long)]
        password_env: Option<String>,
    },
    /// Show the whole flow in under a minute: the gateway, a portal, the post and
    /// desks on loopback, five dossiers through their lives.
    #[cfg(feature = "tools")]
    Demo {
        /// The configuration the demo starts from.
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Mint a token for a configured client from its development key (for curl).
    Token {
        /// The client id, e.g. portal-dev.
        #[arg(long)]
        client: String,
        /// Lifetime in seconds (at most 3600).
        #[arg(long, default_value_t = 900)]
        ttl: i64,
        /// The configuration file.
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// The private key; defaults to dev/<client>.key.pem beside the configuration.
        #[arg(long)]
        key: Option<PathBuf>,
    },
    /// Read a secret on standard input and print its Argon2id hash, for a client's
    /// `basic_hash`.
    HashSecret,
    /// Operators of the web pages.
    Operator {
        #[command(subcommand)]
        command: operator::OperatorCommand,
    },
    /// The national procedure catalogue: sync it into the reviewed procedures file.
    Catalogue {
        #[command(subcommand)]
        command: catalogue::CatalogueCommand,
    },
    /// The sealed history: check a store or backup against its signed checkpoints.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Administrative units: build a province's units file from the official lists.
    Units {
        #[command(subcommand)]
        command: units::UnitsCommand,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config, log_format } => serve::run_serve(&config, log_format),
        Command::Admin { connection, command } => admin::run(connection, command),
        Command::Backup { to, connection } => admin::backup(connection, to),
        Command::Restore { from, data_dir } => {
            let bytes = std::fs::read(&from).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", from.display()))?;
            let summary = motcua_gateway::backup::restore(&bytes, &data_dir, 64)?;
            println!(
                "{}: restored {} entries and {} blobs (sha256 {})",
                data_dir.display(),
                summary.entries,
                summary.blobs,
                summary.sha256
            );
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "tools")]
        Command::Bench(args) => bench::run(args),
        Command::Migrate { from, to, password_env } => {
            let password = password_env.and_then(|var| std::env::var(var).ok());
            let copied = motcua_gateway::migrate::migrate(&from, &to, password.as_deref())?;
            println!("{copied} entries copied and counted on both sides");
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "tools")]
        Command::Demo { config } => {
            motcua_gateway::telemetry::init_quiet();
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let ok = runtime.block_on(motcua_gateway::demo::run(&config))?;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        #[cfg(feature = "tools")]
        Command::BenchCeiling { listen, cert, key } => bench::ceiling(listen, cert, key),
        Command::CheckConfig { path } => Ok(check_config::run(&path)),
        Command::Units { command } => units::run(command),
        Command::Audit { command } => audit::run(command),
        Command::Catalogue { command } => catalogue::run(command),
        Command::Operator { command } => operator::run(command).map(|()| ExitCode::SUCCESS),
        Command::HashSecret => {
            let mut secret = String::new();
            std::io::stdin().read_line(&mut secret)?;
            let secret = secret.trim_end_matches(['\r', '\n']);
            if secret.len() < 16 {
                anyhow::bail!("a secret needs at least 16 characters");
            }
            println!("{}", motcua_gateway::auth::password::hash(secret).map_err(|e| anyhow::anyhow!(e))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { client, ttl, config, key } => {
            token::run(&config, &client, ttl, key.as_deref()).map(|()| ExitCode::SUCCESS)
        }
    }
}
